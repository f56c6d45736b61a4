"""Files of a `files` answer that nothing loads: small models write fragments of the page as
extra files (`authForm.html`, `notes.html`, an `auth.js` no page includes) and stop there.

    kept, dropped = reachable(parsed.files, keep={*files_already_in_the_app, *files_a_repair_asked_for})

A file is reachable when `index.html` names it, or a reachable file does: in an `href`, a
`src`, an `import`, a `url(...)` or any quoted string ("notes.js", './notes.js',
"/apps/x/notes.js"). `app.json` and `index.html` are always kept, and so is every path in
`keep`: the files of a start bundle, those an earlier step wrote and those a repair asked for are
never dropped, whatever the answer says. A path that
leaves the app folder is kept too, for `write_file` to refuse with its message.

Not done: pages reached only through JavaScript that builds a path from parts
(`"page" + n + ".html"`) are dropped; no such page is in the task bank or the examples.
"""

from __future__ import annotations

import re

from appwright.agent.parse import FileBlock

ROOTS = ("app.json", "index.html")
# src="notes.js", href="style.css", import ... from "./util.js", url("bg.svg"): a file a page or script loads
_LOADS = re.compile(r"""(?:\bsrc|\bhref)\s*=\s*["']([^"'#?]+)|\bimport\b[^"'\n]*["']([^"']+)["']|url\(\s*["']?([^"')]+)""",
                    re.I)
_TEXT = (".html", ".htm", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".md")


def _named_in(path: str, text: str) -> bool:
    """`text` names `path` as a link: after a quote, `(`, `=` or `/`, and before a quote, `)`, `?` or `#`."""
    return re.search(r"""(?:^|["'(=\s/])(?:\./)?""" + re.escape(path) + r"""(?:["')?#\s]|$)""", text) is not None


def reachable(files: list[FileBlock], keep: set[str] = frozenset()) -> tuple[list[FileBlock], list[str]]:
    """(the blocks to write, in their order; the paths dropped, in their order)."""
    by_path = {f.path: f for f in files}
    # a path outside the app stays, so that the confined write_file refuses it and says why
    reached = {p for p in by_path if p in ROOTS or p in keep or ".." in p or p.startswith(("/", "\\"))}
    frontier = [p for p in reached if p.endswith(_TEXT)]
    while frontier:
        text = by_path[frontier.pop()].content
        for path in by_path:
            if path not in reached and _named_in(path, text):
                reached.add(path)
                if path.endswith(_TEXT):
                    frontier.append(path)
    return [f for f in files if f.path in reached], [f.path for f in files if f.path not in reached]


def named_files(text: str) -> list[str]:
    """The app's own files that `text` loads, in order: relative paths with a text file's extension
    (`notes.js`, `./style.css`, `about.html`), not the platform's `/_aw/` or another site's."""
    out = []
    for m in _LOADS.finditer(text):
        path = (m.group(1) or m.group(2) or m.group(3) or "").strip()
        if not path or "://" in path or path.startswith(("/", "data:", "mailto:", "javascript:")) or ".." in path:
            continue
        path = path.removeprefix("./")
        if path.endswith(_TEXT) and path not in out:
            out.append(path)
    return out
