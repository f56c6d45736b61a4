"""The repair turn of a `files` run: which files failed, and a request for those files only,
each problem printed under the line it concerns.

    paths, text = repair_request(report, problems, files)   # files: path -> content on disk

Why: asked to "answer again with every file", small models repeat their whole answer, often
byte for byte (0 of 44 repairs made an answer pass, docs/results.md). A short request about
one file, with the error next to its line, leaves them one thing to change.

Which files: app.json when the manifest is invalid (nothing else runs then); otherwise the
files the page loads that the app lacks (`GET /notes.js -> 404`: the request asks for that file,
new); then the files that the browser's errors name (`notes.js:12`); for a form that does not
work, the file with its submit handler; for saved text shown as HTML, the file and line that
writes it into innerHTML (check_app names it); else index.html. Where a problem sits:
for app.json, the line of the key its path names (`entities.Task.fields.status.choices`);
for a script, the line in its `file:line` location, else the first call of what "is not a
function", else, for a form that does not work, the line of its write (`.create(`, `fetch(`);
a problem with none of these goes first.

Not done: errors inside inline scripts point at index.html's line only when the browser
reported one.
"""

from __future__ import annotations

import re

from appwright.agent.check_app import CheckReport

_LOCATION = re.compile(r"([\w./-]+\.(?:js|mjs|html|css)):(\d+)")
_SUBMIT = re.compile(r"""addEventListener\(\s*["']submit|\bonsubmit\b""")
_NOT_A_FUNCTION = re.compile(r"([\w$.]+) is not (?:a function|part of the SDK)")  # the SDK's own words: sdk.js
_WRITE = re.compile(r"\.(?:create|update)\(|\bfetch\(|(?<!function )\bpost\(")
_LIST_CALL = re.compile(r"(?<!\bui)\.list\(")
_LISTER = re.compile(r"(?:function\s+(\w+)\s*\(|(?:const|let)\s+(\w+)\s*=\s*(?:async\s*)?(?:\([^)]*\)|\w+)\s*=>)")
_NOT_FOUND = re.compile(r"GET /(?:apps/[^/\s]+/)?([\w./-]+\.(?:js|mjs|css)) -> 404")


def missing_files(report: CheckReport, files: dict[str, str]) -> list[str]:
    """Scripts and style sheets the page asked for that the app does not have."""
    found = [m.group(1) for e in report.http_errors for m in _NOT_FOUND.finditer(e)]
    return [p for p in dict.fromkeys(found) if p not in files and ".." not in p]


def failing_files(report: CheckReport, files: dict[str, str]) -> list[str]:
    if report.manifest_errors:
        return ["app.json"]
    if missing := missing_files(report, files):
        return missing
    said = " ".join(report.js_errors + report.console_errors + report.failed_requests + report.http_errors
                    + report.markup_errors)
    named = [p for p in files if p != "app.json" and re.search(rf"(?:^|[\s(/]){re.escape(p)}(?::\d|\b)", said)]
    if not named and report.form_errors:  # the form: the file with its submit handler
        named = [p for p, text in files.items() if p.endswith((".js", ".html")) and _SUBMIT.search(text)][:1]
    return named or (["index.html"] if "index.html" in files else [p for p in files if p != "app.json"][:1])


def _manifest_line(lines: list[str], problem: str) -> int:
    """The line of the key a manifest problem's dotted path names; 0 when there is none."""
    path = problem.split(":", 1)[0].strip()
    if not path or path.startswith("("):
        return 0
    at, found = 0, False
    for key in path.split("."):
        hit = next((i for i in range(at, len(lines)) if f'"{key}"' in lines[i]), None)
        if hit is None:
            break
        at, found = hit, True
    return at + 1 if found else 0


def _script_line(path: str, problem: str, lines: list[str]) -> int:
    """The line a problem names (`app.js:12`); else, for "X is not a function" (or "X is not part
    of the SDK"), the first line that calls X; else, for a form that does not work, the line of its
    write (`.create(`)."""
    for m in _LOCATION.finditer(problem):
        if m.group(1).endswith(path):
            return int(m.group(2))
    if m := _NOT_A_FUNCTION.search(problem):
        called = re.compile(rf"(?<![\w.$]){re.escape(m.group(1))}\s*\(")
        return next((n for n, text in enumerate(lines, 1) if called.search(text)), 0)
    if problem.startswith("submitting ") and _SUBMIT.search("\n".join(lines)):
        return next((n for n, text in enumerate(lines, 1) if _WRITE.search(text)), 0)
    return 0


def _lister(lines: list[str]) -> str | None:
    """The name of the function that loads the records (the nearest one above an entity's `.list(`
    call; `aw.ui.list(` shows them)."""
    at = next((n for n, text in enumerate(lines) if _LIST_CALL.search(text)), None)
    for text in reversed(lines[:at + 1] if at is not None else []):
        if m := _LISTER.search(text):
            return m.group(1) or m.group(2)
    return None


def annotate(path: str, content: str, problems: list[str]) -> str:
    """The file with line numbers, each problem under its line (or first, when it has none)."""
    lines = content.splitlines()
    where: dict[int, list[str]] = {}
    for problem in problems:
        line = _manifest_line(lines, problem) if path == "app.json" else _script_line(path, problem, lines)
        if line and "list the records again" in problem and (lister := _lister(lines)):
            problem += f": call {lister}() after this line, as the page does when it loads"
        where.setdefault(line if 0 < line <= len(lines) else 0, []).append(problem)
    out = [f"      ! {p}" for p in where.get(0, [])]
    for n, text in enumerate(lines, 1):
        out.append(f"{n:5} | {text}")
        out += [f"      ! {p}" for p in where.get(n, [])]
    return "\n".join(out)


def repair_request(report: CheckReport, problems: list[str], files: dict[str, str]) -> tuple[list[str], str]:
    """(the paths to answer with, the user message that asks for them)."""
    paths = failing_files(report, files)
    found = report.manifest_errors if paths == ["app.json"] else (
        report.js_errors + report.console_errors + report.failed_requests + report.http_errors + report.form_errors
        + report.markup_errors)
    parts = []
    if problems:
        parts.append("Problems with your answer:\n" + "\n".join(f"- {p}" for p in problems))
    for path in paths:
        if path not in files and path != "app.json":  # from missing_files
            loaded_by = [p for p, text in files.items() if p.endswith(".html") and path in text] or ["the page"]
            parts.append(f"{path} is missing: {', '.join(loaded_by)} loads it, and the app has no such file.")
            continue
        mine = [f for f in found if path == "app.json" or path in f or f in report.form_errors] or found
        parts.append(f"{path}, with each problem under the line it concerns:\n\n"
                     + annotate(path, files.get(path, ""), list(dict.fromkeys(mine))))
    names = ", ".join(paths)
    what = "the missing" if all(p not in files and p != "app.json" for p in paths) else "the corrected"
    parts.append(f"Fix this. Answer with {what} {names} only, the whole file in a <file path=\"...\"> "
                 "block, then one sentence on what you changed. The other files stay as they are.")
    return paths, "\n\n".join(parts)
