"""What the harness puts right in a page without a model call, and what it reads from one:
inputs its script reads that the form does not have (`add_missing_inputs`), the element its
script hands to `aw.ui.authForm` (`add_missing_auth_box`), the menus it offers (`menus`, for
agent/fixups.py).

    files, fixes = add_missing_inputs(files, manifest)   # files: path -> text of the answer

Seen from the 0.5B on build tasks: it copies a form with two inputs from the docs' example,
then sends every field of its manifest from it (`form.attendees.value`), so every submit
throws "Cannot read properties of undefined" and nothing is saved; asked to repair, it sends
the same page back. A name the script reads from a form (`form.NAME.value`, `.checked`,
`.valueAsNumber`, `form.elements.NAME`, `form.elements["NAME"]`) that is a field of an entity in
app.json, and that no element of the page has as its `name` or `id`, gets a labelled input of
the field's type in the page's first form (before its submit button): a date field a date
input, an enum a menu of its values, and so on. Each addition is recorded in the step's
`fixes`, like those of agent/fixups.py.

Not done: `ref` fields (the input would need the other entity's ids); forms built by the
script itself; a form whose variable is never dereferenced with a field name.

`add_missing_outputs`: a script that writes into an element by id (`document.getElementById("total")
.textContent = ...`, or through a variable holding it) that no element of the page has throws
"Cannot set properties of null" on every render; the element (`<p id="total">`) is added before the
page's first script.

`fix_entity_names`: a script that names an entity app.json does not declare
(`aw.entities.Bookings` where app.json has `Booking`) gets every 404 of the entity API; asked
to repair, the 0.5B sends the same file back. A name that is a declared one in another case or
number (`bookings`, `Bookings`, `Entries` for `Entry`) and matches exactly one, is renamed.
"""

from __future__ import annotations

import html
import re

from appwright.runtime.manifest import FieldSpec, Manifest

_READS = re.compile(r"""\.\s*(?:elements\s*\.\s*(\w+)|elements\s*\[\s*["'](\w+)["']\s*\]|(\w+)\s*\.\s*"""
                    r"""(?:value|checked|valueAsNumber)\b)""")
_FORM = re.compile(r"<form\b(?![^>]*\baw-auth\b)[^>]*>", re.I)
_FORM_END = re.compile(r"</form\s*>", re.I)
_SUBMIT = re.compile(r"<button\b(?![^>]*type\s*=\s*[\"']?(?:button|reset))[^>]*>|<input\b[^>]*type\s*=\s*[\"']?submit",
                     re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.I | re.S)
_SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)""", re.I)


def page_scripts(files: dict[str, str], page: str) -> list[str]:
    """The scripts index.html runs: its inline ones and the bundle's script files, less those only
    another page loads (admin.js of admin.html is not index.html's)."""
    def loads(html_text: str) -> set[str]:
        return {src.split("?")[0].lstrip("./") for src in _SCRIPT_SRC.findall(html_text)}

    elsewhere = {p for path, text in files.items() if path.endswith(".html") and path != "index.html"
                 for p in loads(text)} - loads(page)
    return _SCRIPT.findall(page) + [text for path, text in files.items()
                                    if path.endswith((".js", ".mjs")) and path not in elsewhere]


_MENU = re.compile(r"""<select\b[^>]*?\b(?:name|id)\s*=\s*["']?(\w+)["']?[^>]*>(.*?)</select\s*>""", re.I | re.S)
_OPTION = re.compile(r"<option\b([^>]*)>(.*?)(?=</option|<option|$)", re.I | re.S)
_VALUE = re.compile(r"""\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def menus(pages: list[str]) -> dict[str, list[str]]:
    """The fixed choices the pages offer: a `<select>`'s name (or id) -> its options' values (an
    option's `value`, else its text), empty values (a "choose one" placeholder) left out."""
    found: dict[str, list[str]] = {}
    for page in pages:
        for name, body in _MENU.findall(page):
            values = []
            for attrs, text in _OPTION.findall(body):
                v = _VALUE.search(attrs)
                value = html.unescape(next(g for g in v.groups() if g is not None) if v else
                                      re.sub(r"<[^>]+>", "", text)).strip()
                if value and value not in values:
                    values.append(value)
            found.setdefault(name, values)
    return found


def _label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def input_for(name: str, spec: FieldSpec) -> str:
    """A labelled control for a field, of the kind its type takes."""
    label, req = html.escape(_label(name)), " required" if spec.required else ""
    if spec.type == "text":
        control = f'<textarea name="{name}"{req}></textarea>'
    elif spec.type == "enum":
        options = "".join(f"<option>{html.escape(v)}</option>" for v in spec.values or [])
        control = f'<select name="{name}"{req}>{options}</select>'
    elif spec.type == "boolean":
        control = f'<input type="checkbox" name="{name}">'
    else:
        kind = {"number": 'number" step="any', "integer": 'number" step="1', "date": "date",
                "datetime": "datetime-local"}.get(spec.type, "text")
        limits = "".join(f' {k}="{v:g}"' for k, v in (("min", spec.min), ("max", spec.max)) if v is not None)
        length = f' maxlength="{spec.max_length}"' if spec.max_length else ""
        control = f'<input type="{kind}" name="{name}"{limits}{length}{req}>'
    return f"<label>{label} {control}</label>"


def add_missing_inputs(files: dict[str, str], manifest: Manifest) -> tuple[dict[str, str], list[str]]:
    """(the files with index.html's first form completed, the fixes in words)."""
    page = files.get("index.html")
    if not page:
        return files, []
    form = _FORM.search(page)
    end = _FORM_END.search(page, form.end()) if form else None
    if not form or not end:
        return files, []
    fields = {name: spec for entity in manifest.entities.values() for name, spec in entity.fields.items()}
    scripts = page_scripts(files, page)
    read = dict.fromkeys(n for s in scripts for m in _READS.finditer(s) for n in m.groups() if n)
    present = set(re.findall(r"""\b(?:name|id)\s*=\s*["']?([\w-]+)""", page))
    missing = [n for n in read if n in fields and n not in present and fields[n].type != "ref"]
    if not missing:
        return files, []
    inside = page[form.end():end.start()]
    submit = _SUBMIT.search(inside)
    at = form.end() + (submit.start() if submit else len(inside))
    added = "".join(f"\n    {input_for(n, fields[n])}" for n in missing) + "\n    "
    fixes = [f"index.html: added an input for {n} to the form (the script reads it; the form had none)"
             for n in missing]
    return {**files, "index.html": page[:at] + added + page[at:]}, fixes


def _ids(page: str) -> set[str]:
    return set(re.findall(r"""\bid\s*=\s*["']?([\w-]+)""", page))


_AUTH_TARGET = re.compile(r"""aw\.ui\.authForm\(\s*(?:["']#([\w-]+)["']|document\.(?:getElementById\(\s*["']([\w-]+)["']"""
                          r"""|querySelector\(\s*["']#([\w-]+)["'])\s*\))""")
_BODY = re.compile(r"<body\b[^>]*>", re.I)


def add_missing_auth_box(files: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(the files with index.html given the element its script's `aw.ui.authForm("#ID")` asks for,
    when no element has that id, at the top of the body; the fixes in words). Seen on the train
    split (build-expenses-owner-totals): a page without it throws before anything else runs."""
    page = files.get("index.html")
    if page is None:
        return files, []
    scripts = page_scripts(files, page)
    wanted = dict.fromkeys(n for s in scripts for m in _AUTH_TARGET.finditer(s) for n in m.groups() if n)
    present = _ids(page)
    missing = [n for n in wanted if n not in present]
    body = _BODY.search(page)
    if not missing or not body:
        return files, []
    added = "".join(f'\n  <div id="{n}"></div>' for n in missing)
    fixes = [f'index.html: added <div id="{n}"> for the sign-in form (the script calls aw.ui.authForm on it; the '
             "page had no such element)" for n in missing]
    return {**files, "index.html": page[:body.end()] + added + page[body.end():]}, fixes


_BY_ID = r"""document\s*\.\s*(?:getElementById\(\s*["']([\w-]+)["']|querySelector\(\s*["']#([\w-]+)["'])\s*\)"""
_WRITE = r"""\s*\.\s*(?:textContent|innerText|innerHTML|value)\s*\+?=(?!=)"""
_DIRECT = re.compile(_BY_ID + _WRITE)
_HELD = re.compile(r"""\b(?:const|let|var)\s+(\w+)\s*=\s*""" + _BY_ID + r"\s*;?")
_FIRST_SCRIPT = re.compile(r"<script\b", re.I)


def add_missing_outputs(files: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(the files with index.html given each element its scripts write text into by id and the
    page lacks, before its first script; the fixes in words)."""
    page = files.get("index.html")
    if page is None:
        return files, []
    wanted: dict[str, None] = {}
    for script in page_scripts(files, page):
        wanted.update(dict.fromkeys(a or b for a, b in _DIRECT.findall(script)))
        for var, a, b in _HELD.findall(script):
            if re.search(r"\b" + re.escape(var) + _WRITE, script):
                wanted[a or b] = None
    present = _ids(page)
    missing = [n for n in wanted if n not in present]
    at = _FIRST_SCRIPT.search(page)
    if not missing or not at:
        return files, []
    added = "".join(f'<p id="{n}"></p>\n  ' for n in missing)
    fixes = [f'index.html: added <p id="{n}"> (the script writes into it; the page had no such element)'
             for n in missing]
    return {**files, "index.html": page[:at.start()] + added + page[at.start():]}, fixes


_ENTITY_USE = re.compile(r"""\baw\.entities(?:\.([A-Za-z_]\w*)|\[\s*(["'])([A-Za-z_]\w*)\2\s*\])""")


def _forms_of(name: str) -> set[str]:
    low = name.lower()
    forms = {low, low + "s", low + "es"}
    if low.endswith("y"):
        forms.add(low[:-1] + "ies")
    return forms


def fix_entity_names(files: dict[str, str], manifest: Manifest) -> tuple[dict[str, str], list[str]]:
    """(the .js and .html files with `aw.entities.NAME` set to the declared entity it means, the
    fixes in words). Only names with exactly one declared match are renamed."""
    declared = list(manifest.entities)
    out, fixes = dict(files), []
    for path, text in files.items():
        if not path.endswith((".js", ".html", ".htm")):
            continue

        def rename(m: re.Match) -> str:
            name = m.group(1) or m.group(3)
            if name in declared:
                return m.group(0)
            meant = [e for e in declared if name.lower() in _forms_of(e)]
            if len(meant) != 1:
                return m.group(0)
            fix = f"{path}: aw.entities.{name} renamed to {meant[0]} (app.json declares {', '.join(declared)})"
            if fix not in fixes:
                fixes.append(fix)
            return m.group(0).replace(name, meant[0])

        new = _ENTITY_USE.sub(rename, text)
        if new != text:
            out[path] = new
    return out, fixes
