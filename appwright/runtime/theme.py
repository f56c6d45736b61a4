"""The default theme: `static/app.css`, served at `/_aw/app.css` and linked as the first
stylesheet of every HTML page the runtime serves, unless app.json says `"theme": "none"`.

    html = link_theme(page_bytes, "/apps/notes")   # <link rel="stylesheet" href="/apps/notes/_aw/app.css">

An app whose own CSS picks colours (a `color` or `background` in a style sheet or a <style>) and
has no dark variant of its own gets `<meta name="color-scheme" content="light">` too: the theme's
dark variant would otherwise put the app's dark text on a dark page. A page without a viewport
<meta> gets `width=device-width, initial-scale=1` with it, so that
phones lay it out at their own width instead of a shrunken 980 px desktop page. The link goes
right after `<head>` (else after `<html>`, else after the doctype, else first),
so every stylesheet of the app comes after it; the theme's selectors sit inside `:where()`
and weigh nothing, so the app's own rules win even when they come first.
"""

from __future__ import annotations

import re
from importlib import resources

PATH = "/_aw/app.css"
VIEWPORT = b'<meta name="viewport" content="width=device-width, initial-scale=1">'
_HAS_VIEWPORT = re.compile(rb"""<meta[^>]+name\s*=\s*["']?viewport""", re.I)
LIGHT_ONLY = b'<meta name="color-scheme" content="light">'
_COLOUR = re.compile(r"(?:^|[{;\s])(?:color|background|background-color)\s*:\s*(?!\s*(?:inherit|transparent|"
                     r"currentcolor|none|initial|unset|var\(--aw-)\b)", re.I)
_STYLE = re.compile(rb"<style[^>]*>(.*?)</style>", re.I | re.S)
_AFTER = [re.compile(p, re.I) for p in (rb"<head\b[^>]*>", rb"<html\b[^>]*>", rb"<!doctype[^>]*>")]


def theme_source() -> bytes:
    return resources.files("appwright.runtime").joinpath("static/app.css").read_bytes()


def own_colours(html: bytes, stylesheets: list[str]) -> bool:
    """The page (its <style> blocks) or the app's style sheets pick colours, with no dark variant."""
    css = "\n".join([m.decode("utf-8", "replace") for m in _STYLE.findall(html)] + stylesheets)
    return bool(_COLOUR.search(css)) and "prefers-color-scheme" not in css


def link_theme(html: bytes, base: str, light_only: bool = False) -> bytes:
    """`html` with the theme's <link> as its first stylesheet; `base`: the app's root path;
    `light_only`: the page keeps a light scheme (see own_colours)."""
    tag = f'<link rel="stylesheet" href="{base.rstrip("/")}{PATH}">'.encode()
    if light_only and b'name="color-scheme"' not in html:
        tag = LIGHT_ONLY + tag
    if not _HAS_VIEWPORT.search(html):
        tag = VIEWPORT + tag
    return at_head(html, tag)


def at_head(html: bytes, tag: bytes) -> bytes:
    """`tag` as the first thing in <head> (else after <html>, else after the doctype, else first)."""
    for pattern in _AFTER:
        m = pattern.search(html)
        if m:
            return html[:m.end()] + tag + html[m.end():]
    return tag + html
