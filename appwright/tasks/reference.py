"""Reference solutions: a correct bundle for any domain and feature set, and the planted flaws.

    files = render(domain("recipes"), ["owner", "sort", "totals"])          # {"app.json": ..., ...}
    bad = render(domain("recipes"), ["owner"], flaw="innerhtml")          # a fix task's start

A reference app proves a task's checks can be met (tests grade every family's reference
1.0); the same page with one flaw planted is the start bundle of a `fix` task and a known-bad
bundle that the check meant to catch it must fail. The flaws are the ones weak models make
on this platform (../shared/MODELS.md and docs/transcripts/): see FLAWS.

Features: one access mode (`owner`, `shared`, `public_read`, `submit_only`, `admin_write`), any of
`sort`, `validation`, `totals`, `search`, `filter`, `invite` (invite-only sign-up), `roles`
(invite-only sign-up where an admin's invite says whether the new user joins as an admin), and
`linked` (the domain's `part`, a second entity with a `ref` to the first, under the same access).

A `linked` app lists each record with its part's records under it (a recipe with its steps),
and has a second form, after the first, that adds one to a record chosen in a menu.

An `admin_write` app is a role-gated access map: signed-in users read every record, and only
admins add, change or delete one; the page shows its form and Delete buttons to admins only.
With `roles` it also shows admins a form that makes an invite code, for a member or an admin
(`aw.auth.invite(role)`), below the list.

A `submit_only` app has two pages: `index.html`, a form anyone fills in without an account, and
`admin.html`, where admins sign in and read, and may delete, what was sent; anyone else sees
a line saying the page is for admins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from appwright.tasks.domains import Domain

ACCESS = ("owner", "shared", "public_read", "submit_only", "admin_write")
# admin_write as an access map of app.json: a role decides who writes
ADMIN_WRITE = {"read": "signed_in", "create": "admin", "update": "admin", "delete": "admin"}
EXTRAS = ("sort", "validation", "totals", "search", "filter")


@dataclass(frozen=True)
class Flaw:
    name: str
    catches: str  # the check kind that must fail on it
    what: str


FLAWS = {f.name: f for f in [
    Flaw("wrong_access", "isolation", 'access set to "public": anyone reads and changes every record'),
    Flaw("innerhtml", "security", "records rendered into innerHTML with a plain template string (stored XSS)"),
    Flaw("missing_sdk_method", "ui", "calls aw.entities.X.all(), which the SDK does not have"),
    Flaw("await_outside_async", "ui", "await inside a callback that is not async (a syntax error)"),
    Flaw("missing_form_field", "ui", "the script reads an input that the page never created"),
    Flaw("wrong_entity_name", "ui", "the page uses the entity's plural name, which app.json does not declare"),
    Flaw("string_to_number", "ui", "the form posts a number field's text as a string straight to the REST API, "
                                   "which refuses it"),
    Flaw("no_refresh", "ui", "the list is not loaded again after a record is added"),
    Flaw("admin_open", "isolation", "the admin page checks no role and access lets every signed-in user read"),
    Flaw("members_write", "isolation", 'admin_write as "shared": the page hides the form from members, but every '
                                       "signed-in user may add records and change their own through the API"),
    Flaw("ref_leak", "isolation", "the linked records are open wider than the records they belong to: a viewer "
                                  "who may not read a recipe reads its steps (owner: shared, shared: public_read, "
                                  "public_read: public)"),
]}
LINKED_ACCESS = ("owner", "shared", "public_read")  # the access modes a `linked` app comes in
LEAK = {"owner": "shared", "shared": "public_read", "public_read": "public"}  # ref_leak: the part's access


def flaws_for(d: Domain, access: str) -> list[str]:
    """The flaws that can be planted in this domain's app with this access mode."""
    numbers = any(f.type in ("number", "integer") for f in d.fields)
    if access == "submit_only":  # one form, no list on the first page; the list is on admin.html
        out = ["wrong_access", "innerhtml", "missing_sdk_method", "missing_form_field", "admin_open"]
    else:
        out = [f for f in FLAWS if f not in ("admin_open", "string_to_number", "members_write", "ref_leak")]
        out += ["members_write"] if access == "admin_write" else []
    return out + (["string_to_number"] if numbers else [])


def invite_only(features: list[str]) -> bool:
    """Sign-up needs an invite code: `invite`, or `roles` (whose invites also carry a role)."""
    return bool({"invite", "roles"} & set(features))


def access_of(features: list[str]) -> str:
    found = [f for f in features if f in ACCESS]
    if len(found) != 1:
        raise ValueError(f"features need exactly one access mode of {ACCESS}; got {features}")
    return found[0]


def manifest(d: Domain, features: list[str], flaw: str | None = None) -> dict:
    access = {"wrong_access": "public", "admin_open": "shared", "members_write": "shared"}.get(
        flaw or "", access_of(features))
    validation = "validation" in features
    entities = {d.entity: {"fields": {f.name: f.manifest(validation) for f in d.fields},
                           "access": ADMIN_WRITE if access == "admin_write" else access}}
    if "linked" in features:
        p = d.part
        entities[p.entity] = {
            "fields": {**{f.name: f.manifest(validation) for f in p.fields},
                       p.link: {"type": "ref", "required": True, "entity": d.entity}},
            "access": LEAK[access] if flaw == "ref_leak" else access}
    return {"name": d.app[:1].upper() + d.app[1:],
            "auth": {"signup": "invite" if invite_only(features) else "open"}, "entities": entities}


def _input(f, validation: bool, prefix: str = "f") -> str:
    req = " required" if f.required else ""
    at = f'name="{f.name}" id="{prefix}-{f.name}"'
    if f.type == "enum":
        opts = "".join(f"<option>{v}</option>" for v in f.values or [])
        return f'<select {at}><option value="">-</option>{opts}</select>'
    if f.type == "text":
        return f'<textarea {at}{req}></textarea>'
    if f.type == "boolean":
        return f'<input type="checkbox" {at}>'
    kind = {"number": "number", "integer": "number", "date": "date"}.get(f.type, "text")
    extra = ' step="any"' if f.type == "number" else ""
    if f.limits and validation:
        extra += f' min="{f.limits[0]:g}" max="{f.limits[1]:g}"'
    if f.max_length:
        extra += f' maxlength="{f.max_length}"'
    return f'<input type="{kind}" {at}{extra}{req}>'


def _html(title: str, body: str, script: str, heading: str | None = None) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading or title}</title><link rel="stylesheet" href="style.css"></head>
<body>
  <h1>{heading or title}</h1>
{body}
  <script src="/_aw/sdk.js"></script>
  <script src="{script}"></script>
</body></html>
"""


def _page(d: Domain, features: list[str], flaw: str | None, admin_page: bool = True) -> str:
    title = d.app[:1].upper() + d.app[1:]
    rows = []
    for f in d.fields:
        if flaw == "missing_form_field" and f.name == d.title:
            continue
        rows.append(f'    <label for="f-{f.name}">{f.label[:1].upper() + f.label[1:]}</label> '
                    f'{_input(f, "validation" in features)}')
    tools = []
    if "search" in features:
        tools.append(f'  <input type="search" id="search" name="search" placeholder="Search {d.plural}" '
                     f'aria-label="Search {d.plural}">')
    if "filter" in features and d.category:
        cat = d.field(d.category)
        opts = "".join(f"<option>{v}</option>" for v in cat.values or [])
        tools.append(f'  <label for="show">Show</label> <select id="show" name="show">'
                     f'<option value="">every {cat.label}</option>{opts}</select>')
    if "totals" in features:
        tools.append('  <p id="total"></p>')
    if access_of(features) == "submit_only":  # a form anyone fills in; what was sent is read on admin.html
        tools = ['  <p id="thanks" role="status"></p>'] + (
            ['  <p><a href="admin.html">Admins: read what was sent</a></p>'] if admin_page else [])
        return _html(title, f"""  <form id="new">
{chr(10).join(rows)}
    <button type="submit">Send {d.noun}</button>
  </form>
  <p id="error" role="alert"></p>
{chr(10).join(tools)}""", "app.js")
    return _html(title, f"""  <div id="auth"></div>
  <form id="new" hidden>
{chr(10).join(rows)}
    <button type="submit">Add {d.noun}</button>
  </form>
{_part_form(d, features) if "linked" in features else ""}  <p id="error" role="alert"></p>
{chr(10).join(tools)}
  <ul id="list"></ul>{_invite_form() if "roles" in features else ""}""", "app.js")


def _label(text: str) -> str:
    return text[:1].upper() + text[1:]


def _part_form(d: Domain, features: list[str]) -> str:
    """`linked`: the second form, which adds a part record to the record chosen in its menu."""
    p = d.part
    rows = [f'    <label for="p-{p.link}">{_label(d.noun)}</label> <select name="{p.link}" id="p-{p.link}" required>'
            '</select>']
    rows += [f'    <label for="p-{f.name}">{_label(f.label)}</label> {_input(f, "validation" in features, "p")}'
             for f in p.fields]
    return f"""  <form id="new-part" hidden>
{chr(10).join(rows)}
    <button type="submit">Add {p.noun}</button>
  </form>
"""


def _invite_form() -> str:
    """`roles`: admins make invite codes, for a member or an admin (after the list: the record
    form stays the page's first)."""
    return """
  <form id="invite" hidden>
    <label for="invite-role">New person joins as</label>
    <select id="invite-role" name="role"><option value="">member</option><option value="admin">admin</option></select>
    <button type="submit">Make an invite code</button>
    <output id="code"></output>
  </form>"""


INVITE_SCRIPT = """
const inviteForm = document.getElementById("invite");
inviteForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const code = await aw.auth.invite(inviteForm.role.value || undefined);
    document.getElementById("code").textContent = "Invite code: " + code;
  } catch (err) {
    error.textContent = err.message;
  }
});
"""


def _details(fields, r: str = "r") -> str:
    """A record's other fields after its title, in a template: " · label: value" for each one set."""
    return " ".join(f'${{{r}.{f.name} == null || {r}.{f.name} === "" ? "" : " · {f.label}: "}}${{{r}.{f.name} ?? ""}}'
                    for f in fields)


def _render_list(d: Domain, flaw: str | None, linked: bool = False) -> str:
    """The statement that shows `shown` in `list`, a Delete button on the records `mine(r)`, and
    (`linked`) each record's part records under it (`partsOf(r)`)."""
    item = _details(d.fields[1:])
    if flaw == "innerhtml":
        return (f'list.innerHTML = shown.map(r => `<li><strong>${{r.{d.title}}}</strong>{item}'
                f'${{mine(r) ? `<button data-id="${{r.id}}">Delete</button>` : ""}}</li>`).join("");')
    return (f'aw.ui.list(list, shown, r => aw.html`<li><strong>${{r.{d.title}}}</strong>{item}'
            f'${{mine(r) ? aw.html`<button data-id="${{r.id}}">Delete</button>` : ""}}'
            f'{"${partsOf(r)}" if linked else ""}</li>`, "No {d.plural} yet.");')


def _part_script(d: Domain) -> str:
    """`linked`: the part's records under each record, the second form and its menu, their Delete buttons."""
    p = d.part
    fields = json.dumps([{"name": f.name, "type": f.type, "label": f.label} for f in p.fields])
    return f"""
const P = aw.entities.{p.entity};
const PART_FIELDS = {fields};
const partForm = document.getElementById("new-part");
let parts = [];

function partsOf(r) {{
  const own = parts.filter(x => x.{p.link} === r.id);
  return own.length ? aw.html`<ul class="parts">${{own.map(x => aw.html`<li>${{x.{p.title}}}{_details(p.fields[1:], "x")}${{
    mine(x) ? aw.html`<button data-part="${{x.id}}">Delete</button>` : ""}}</li>`)}}</ul>` : "";
}}

function fillMenu() {{
  const menu = partForm.elements.namedItem("{p.link}");
  const chosen = menu.value;
  menu.innerHTML = String(aw.html`${{records.map(r => aw.html`<option value="${{r.id}}">${{r.{d.title}}}</option>`)}}`);
  if (chosen) menu.value = chosen;
}}

partForm.addEventListener("submit", async (e) => {{
  e.preventDefault();
  const record = {{{p.link}: partForm.elements.namedItem("{p.link}").value}};
  for (const f of PART_FIELDS) {{
    const v = valueOf(f, partForm);
    if (v !== undefined) record[f.name] = v;
  }}
  try {{
    await P.create(record);
    partForm.reset();
    refresh();
  }} catch (err) {{
    error.textContent = err.message;
  }}
}});

list.addEventListener("click", async (e) => {{
  const id = e.target.dataset && e.target.dataset.part;
  if (!id) return;
  try {{ await P.remove(id); }} catch (err) {{ error.textContent = err.message; }}
  refresh();
}});
"""


def _script(d: Domain, features: list[str], flaw: str | None) -> str:
    access = access_of(features)
    sort = "-created_at"
    if "sort" in features and d.sort:
        sort = ("-" if d.sort.desc else "") + d.sort.field
    entity = d.entity + "s" if flaw == "wrong_entity_name" else d.entity
    fields = json.dumps([{"name": f.name, "type": f.type, "label": f.label} for f in d.fields])
    linked = "linked" in features
    render_list = _render_list(d, flaw, linked)
    filters = []
    if "search" in features:
        filters.append(f'const q = document.getElementById("search").value.trim().toLowerCase();\n'
                       f'  if (q) shown = shown.filter(r => String(r.{d.title} ?? "").toLowerCase().includes(q));')
    if "filter" in features and d.category:
        filters.append(f'const show = document.getElementById("show").value;\n'
                       f'  if (show) shown = shown.filter(r => r.{d.category} === show);')
    totals = ""
    if "totals" in features and d.amount:
        label = d.field(d.amount).label
        totals = (f'const sum = shown.reduce((s, r) => s + (Number(r.{d.amount}) || 0), 0);\n'
                  f'  document.getElementById("total").textContent = "Total {label}: " + '
                  f'String(Math.round(sum * 100) / 100);')
    listeners = []
    if "search" in features:
        listeners.append('document.getElementById("search").addEventListener("input", render);')
    if "filter" in features and d.category:
        listeners.append('document.getElementById("show").addEventListener("change", render);')
    load = "E.all()" if flaw == "missing_sdk_method" else f'E.list({{sort: "{sort}"}})'
    if linked:  # the part's records with them, oldest first (the order they were added)
        load = f'Promise.all([{load}, P.list({{sort: "created_at"}})]).then(([rs, ps]) => {{ parts = ps; return rs; }})'
    submit_head = "(e) =>" if flaw == "await_outside_async" else "async (e) =>"
    show_signed_out = "true" if access == "public_read" else "false"
    # who sees the form, and whose records get a Delete button
    writer, mine = ('me && me.role === "admin"',) * 2 if access == "admin_write" else ("me", "me && r.owner === me.id")
    invite_shown = '\n  inviteForm.hidden = !(me && me.role === "admin");'
    part_shown = f'\n  partForm.hidden = !({writer});'
    fill_menu = "\n  fillMenu();" if linked else ""
    number = 'return v;' if flaw == "string_to_number" else \
        'return f.type === "number" || f.type === "integer" ? Number(v) : v;'
    after_create = "" if flaw == "no_refresh" else "\n    refresh();"
    if access == "submit_only":
        return _send_script(d, entity, fields, number, submit_head, flaw)
    return f"""// {d.app}: the reference solution generated by appwright/tasks/reference.py
const E = aw.entities.{entity};
const FIELDS = {fields};
const form = document.getElementById("new");
const list = document.getElementById("list");
const error = document.getElementById("error");
let me = null;
let records = [];

function mine(r) {{ return {mine}; }}
{_post(entity, flaw)}
{_value_of(number)}
function render() {{
  let shown = records;
  {chr(10).join("  " + x for x in filters).strip()}
  {render_list}
  {totals}{fill_menu}
}}

{_refresh_and_remove(load)}
form.addEventListener("submit", {submit_head} {{
  e.preventDefault();
  const record = {{}};
  for (const f of FIELDS) {{
    const v = valueOf(f);
    if (v !== undefined) record[f.name] = v;
  }}
  try {{
    await {_create(flaw)};
    form.reset();{after_create}
  }} catch (err) {{
    error.textContent = err.message;
  }}
}});
{chr(10).join(listeners)}
{INVITE_SCRIPT if "roles" in features else ""}{_part_script(d) if linked else ""}
(async () => {{
  await aw.ui.authForm("#auth");
  me = await aw.auth.me();
  form.hidden = !({writer});{invite_shown if "roles" in features else ""}{part_shown if linked else ""}
  if (me || {show_signed_out}) refresh();
}})();
"""


def _value_of(number: str) -> str:
    """A form field's value in its type (`number`: the line that returns a number field's).
    `namedItem`, not `elements[name]`: there a field named item or length is the collection's own."""
    return f"""function valueOf(f, from = form) {{
  const el = from.elements.namedItem(f.name);
  if (f.type === "boolean") return el.checked;
  const v = el.value.trim();
  if (v === "") return undefined;
  {number}
}}
"""


def _refresh_and_remove(load: str) -> str:
    """Load the records again (`load`: the SDK call) and render; a click on a Delete button removes one."""
    return f"""async function refresh() {{
  try {{
    records = await {load};
    error.textContent = "";
  }} catch (err) {{
    records = [];
    error.textContent = err.message;
  }}
  render();
}}

list.addEventListener("click", async (e) => {{
  const id = e.target.dataset && e.target.dataset.id;
  if (!id) return;
  try {{ await E.remove(id); }} catch (err) {{ error.textContent = err.message; }}
  refresh();
}});
"""


def _post(entity: str, flaw: str | None) -> str:
    """The string_to_number flaw's own create: straight to the REST API, which takes a number only as a
    JSON number (the SDK's writes would have taken the form's text)."""
    if flaw != "string_to_number":
        return ""
    return f"""
async function post(record) {{
  const res = await fetch("_aw/api/entities/{entity}", {{method: "POST", credentials: "same-origin",
    headers: {{"Content-Type": "application/json", "X-AW": "1"}}, body: JSON.stringify(record)}});
  const data = await res.json();
  if (!res.ok) throw new Error(data.error);
  return data;
}}
"""


def _create(flaw: str | None) -> str:
    return "post(record)" if flaw == "string_to_number" else "E.create(record)"


def _send_script(d: Domain, entity: str, fields: str, number: str, submit_head: str, flaw: str | None) -> str:
    """index.html of a submit_only app: anyone sends the form; nothing is listed."""
    return f"""// {d.app}: the reference solution generated by appwright/tasks/reference.py
const E = aw.entities.{entity};
const FIELDS = {fields};
const form = document.getElementById("new");
const error = document.getElementById("error");
const thanks = document.getElementById("thanks");
{_post(entity, flaw)}
{_value_of(number)}
form.addEventListener("submit", {submit_head} {{
  e.preventDefault();
  const record = {{}};
  for (const f of FIELDS) {{
    const v = valueOf(f);
    if (v !== undefined) record[f.name] = v;
  }}
  try {{
    await {_create(flaw)};
    form.reset();
    error.textContent = "";
    thanks.textContent = "Thank you: your {d.noun} was sent.";
  }} catch (err) {{
    thanks.textContent = "";
    error.textContent = err.message;
  }}
}});
"""


def _admin_page(d: Domain) -> str:
    title = d.app[:1].upper() + d.app[1:]
    return _html(title, """  <div id="auth"></div>
  <p id="error" role="alert"></p>
  <ul id="list"></ul>
  <p><a href="./">Back to the form</a></p>""", "admin.js", heading=f"{title}: admin")


def _admin_script(d: Domain, flaw: str | None) -> str:
    """admin.html of a submit_only app: an admin signs in and reads, and may delete, what was sent."""
    entity = d.entity + "s" if flaw == "wrong_entity_name" else d.entity
    load = "E.all()" if flaw == "missing_sdk_method" else 'E.list({sort: "-created_at"})'
    admin = "me" if flaw == "admin_open" else 'me && me.role === "admin"'
    return f"""// {d.app}, the admins' page: generated by appwright/tasks/reference.py
const E = aw.entities.{entity};
const list = document.getElementById("list");
const error = document.getElementById("error");
let me = null;
let records = [];

function mine() {{ return true; }}  // admins may delete any {d.noun}

function render() {{
  const shown = records;
  {_render_list(d, flaw)}
}}

{_refresh_and_remove(load)}
(async () => {{
  await aw.ui.authForm("#auth");
  me = await aw.auth.me();
  if ({admin}) refresh();
  else if (me) error.textContent = "This page is for admins only.";
}})();
"""


STYLE = """body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
form#new, form#new-part { display: grid; grid-template-columns: max-content 1fr; gap: .4rem .8rem; margin: 1rem 0; }
form#new button, form#new-part button { grid-column: 2; justify-self: start; }
li { margin: .3rem 0; }
li button { margin-left: .6rem; }
"""


def render(d: Domain, features: list[str], flaw: str | None = None, admin_page: bool = True) -> dict[str, str]:
    """The bundle's files. `flaw`: one of FLAWS, planted. `admin_page=False`: a submit_only app
    without its admins' page (the start of the edit task that adds it)."""
    if flaw is not None and flaw not in FLAWS:
        raise ValueError(f"unknown flaw {flaw!r}; flaws: {', '.join(FLAWS)}")
    unknown = set(features) - set(ACCESS) - set(EXTRAS) - {"invite", "roles", "linked"}
    if unknown:
        raise ValueError(f"unknown features {sorted(unknown)}")
    if "linked" in features and (d.part is None or access_of(features) not in LINKED_ACCESS):
        raise ValueError(f"{d.name}: `linked` needs a domain with a part and one of {', '.join(LINKED_ACCESS)}")
    files = {
        "app.json": json.dumps(manifest(d, features, flaw), indent=2) + "\n",
        "index.html": _page(d, features, flaw, admin_page),
        "app.js": _script(d, features, flaw),
        "style.css": STYLE,
    }
    if access_of(features) == "submit_only" and admin_page:
        files |= {"admin.html": _admin_page(d), "admin.js": _admin_script(d, flaw)}
    return files


# The page written with aw.ui.records (runtime/static/sdk.js): what our own model is trained to
# write for a new app (train/references.py), as the platform docs' example page does. Not for
# `linked` (the part's form would not offer a record added since the page loaded) nor `roles`
# (the invite form is the page's own script): those keep the page written by hand.
RECORDS_FEATURES = frozenset(ACCESS) | frozenset(EXTRAS) | {"invite"}


def records_options(d: Domain, features: list[str]) -> str:
    """The options of the page's aw.ui.records call, as the page writes them."""
    opts = [f'entity: "{d.entity}"']
    if "sort" in features and d.sort:
        opts.append(f'sort: "{"-" if d.sort.desc else ""}{d.sort.field}"')
    if "totals" in features and d.amount:
        opts.append(f'total: "{d.amount}"')
    if "search" in features:
        opts.append("search: true")
    if "filter" in features and d.category:
        opts.append(f'filter: "{d.category}"')
    return "{" + ", ".join(opts) + "}"


def _records_html(title: str, body: str, calls: list[str]) -> str:
    script = "\n".join(f"    {c}" for c in calls)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
  <h1>{title}</h1>
{body}
  <script src="/_aw/sdk.js"></script>
  <script>
{script}
  </script>
</body></html>
"""


def records_render(d: Domain, features: list[str]) -> dict[str, str]:
    """The app of `render(d, features)` with its pages written with aw.ui.records: the same
    app.json, no script or style file of its own. A submit_only app's index.html is the form
    alone (the runtime shows it to anyone, and the list to no one but admins) and its admin.html
    the list alone (`form: false`), shown to admins only."""
    extra = set(features) - RECORDS_FEATURES
    if extra:
        raise ValueError(f"aw.ui.records pages do not cover {sorted(extra)}; use render()")
    title = d.app[:1].upper() + d.app[1:]
    options = records_options(d, features)
    files = {"app.json": json.dumps(manifest(d, features), indent=2) + "\n"}
    if access_of(features) == "submit_only":
        files["index.html"] = _records_html(title, f"""  <div id="{d.name}"></div>
  <p><a href="admin.html">Admins: read what was sent</a></p>""", [f'aw.ui.records("#{d.name}", {options});'])
        files["admin.html"] = _records_html(f"{title}: admin", f"""  <div id="auth"></div>
  <div id="{d.name}"></div>
  <p><a href="./">Back to the form</a></p>""", ['aw.ui.authForm("#auth");',
                                               f'aw.ui.records("#{d.name}", {options[:-1]}, form: false}});'])
        return files
    files["index.html"] = _records_html(title, f"""  <div id="auth"></div>
  <div id="{d.name}"></div>""", ['aw.ui.authForm("#auth");', f'aw.ui.records("#{d.name}", {options});'])
    return files
