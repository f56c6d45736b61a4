"""The Content-Security-Policy of an app's pages: the page's own inline code runs, code planted in
its data does not.

    header = page_policy(html_bytes)   # for one HTML page, as served
    POLICY                             # every other response (no inline code at all)

Generated pages often put a record's text into `innerHTML` raw; a stored `<img src=x onerror=...>`
then runs in every visitor's session. The policy names the SHA-256 of each inline `<script>` and
of each inline event handler (`onclick="..."`, with 'unsafe-hashes') that the page's HTML file
itself holds, instead of allowing 'unsafe-inline'. Handlers and scripts that arrive later, through
`innerHTML` with a record's text, match no hash and are refused by the browser, as are
`javascript:` URLs. Script files of the app itself ('self') load as before.

What the page's own code loses: handlers written into HTML by its scripts (`<button
onclick="del('${id}')">` in a template) and `javascript:` links; `addEventListener` and
`data-` attributes do the same job. The browser reports each refusal on the console, so
`check_app` shows it to the model. Hashes follow the HTML parser: line breaks are normalised to
`\\n` and character references in attributes are decoded before hashing, as browsers do.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

BASE = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
POLICY = f"{BASE}; script-src 'self'"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


class _InlineCode(HTMLParser):
    """Collects the text of inline scripts and the values of `on*` attributes, as the browser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.handlers += [value or "" for name, value in attrs if name.startswith("on")]
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._script = []

    def handle_startendtag(self, tag, attrs):
        self.handlers += [value or "" for name, value in attrs if name.startswith("on")]

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None


def page_policy(html: bytes) -> str:
    """The policy for one page: its own inline scripts and handlers, by hash, and nothing else inline."""
    text = html.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    found = _InlineCode()
    try:
        found.feed(text)
        found.close()
    except Exception:  # noqa: BLE001 - HTML the parser gives up on: no inline code is allowed
        return POLICY
    sources = ["'self'"] + list(dict.fromkeys(_sha256(s) for s in found.scripts))
    if found.handlers:
        sources += ["'unsafe-hashes'"] + list(dict.fromkeys(_sha256(h) for h in found.handlers))
    return f"{BASE}; script-src {' '.join(sources)}"
