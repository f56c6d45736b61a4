"""The platform docs that people and the agent read, generated from the runtime itself.

Field types, access presets, principals, signup rules, system fields and limits
come from the very tables the validator and the API use (`manifest.py`,
`api.py`); the SDK reference comes from `SDK`, which a browser test holds to
the real `sdk.js` (every documented name exists, and nothing undocumented is
exported). So the docs, the SDK and the validator cannot drift apart.

    appwright docs            # prints the markdown
"""

from __future__ import annotations

import json

from appwright.runtime import api
from appwright.runtime.manifest import (
    ACCESS_PRESETS, DEFAULT_ACCESS, FIELD_OPTIONS, FIELD_TYPES, OPERATIONS, PRINCIPALS, REQUIRED_OPTIONS,
    SIGNUP_RULES, SYSTEM_FIELDS, THEMES,
)

# (call, what it does). The names are checked against window.aw in tests/test_sdk_browser.py.
SDK: list[tuple[str, str]] = [
    ("await aw.auth.me()", "the signed-in user `{id, email, role, created_at}`, or `null`"),
    ("await aw.auth.signup(email, password, invite?)", "create an account and sign in; `invite` only for invite-only apps"),
    ("await aw.auth.login(email, password)", "sign in; returns the user"),
    ("await aw.auth.logout()", "sign out"),
    ("await aw.auth.invite(role?)", "admins only: a new single-use invite code"),
    ("aw.ui.authForm(element, {onChange?})", "render a ready-made sign-in / sign-up form (or 'Signed in as ... Sign out') into an element or CSS selector; reloads the page after signing in or out unless `onChange(user)` is given"),
    ("await aw.entities.Note.list({sort, where, limit})", "an array of records you may read; `limit` defaults to 1000 (fetched in pages)"),
    ("await aw.entities.Note.page({sort, where, limit, cursor})", "one page: `{items, next}`; pass `next` as `cursor` for the next page"),
    ("await aw.entities.Note.get(id)", "one record (throws if it does not exist or you may not read it)"),
    ("await aw.entities.Note.create({title, body})", "create a record; returns it with `id`, `owner`, `created_at`, `updated_at`"),
    ("await aw.entities.Note.update(id, {pinned: true})", "change some fields; returns the record"),
    ("await aw.entities.Note.remove(id)", "delete a record"),
    ("await aw.ui.records(element, {entity, sort, total, search, filter, form, list, empty})", "a whole app's form and list for one entity (default: the first): an input per field of app.json, each record with a Delete button, each part shown only to whom `access` allows. `sort`: a field (`-day`: last first); `total`: number field(s) summed; `search: true`: a search box; `filter`: an enum field to pick by; `form: false` / `list: false` leaves one out"),
    ("aw.ui.list(element, items, render, empty?)", "fill a list with `render(item)` (an `aw.html` result) per item, or the `empty` text when there are none"),
    ("await aw.ui.busy(element, promise)", "mark a form or button busy (its buttons disabled) while `promise` runs; returns its result"),
    ("aw.ui.error(element, err)", "show an error's message in an element; `null` clears it"),
    ("aw.html`<li>${note.title}</li>`", "HTML with every `${value}` escaped; arrays of `aw.html` results nest; use it (or `textContent`) for everything that shows user data"),
    ("aw.escape(value)", "the escaped text of one value, for building HTML by hand"),
]

EXAMPLE_MANIFEST = {
    "name": "Private notes",
    "auth": {"signup": "open"},
    "entities": {
        "Note": {
            "fields": {
                "title": {"type": "string", "required": True, "max_length": 200},
                "body": {"type": "text"},
                "pinned": {"type": "boolean", "default": False},
            },
            "access": "owner",
        }
    },
}

EXAMPLE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Private notes</title></head>
<body>
  <h1>Private notes</h1>
  <div id="auth"></div>
  <div id="notes"></div>
  <script src="/_aw/sdk.js"></script>
  <script>
    aw.ui.authForm("#auth");
    aw.ui.records("#notes", {entity: "Note", sort: "-created_at", search: true});
  </script>
</body></html>"""

# The same app written by hand, for a page that does what aw.ui.records does not.
HAND_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Private notes</title></head>
<body>
  <h1>Private notes</h1>
  <div id="auth"></div>
  <form id="new" hidden>
    <label>Title <input name="title" required maxlength="200"></label>
    <label>Note <textarea name="body"></textarea></label>
    <button>Add</button>
  </form>
  <p id="error"></p>
  <ul id="notes"></ul>
  <script src="/_aw/sdk.js"></script>
  <script>
    const form = document.getElementById("new");
    async function refresh() {
      const notes = await aw.entities.Note.list({sort: "-created_at"});
      aw.ui.list("#notes", notes, n => aw.html`<li>${n.title} <button data-id="${n.id}">Delete</button></li>`,
                 "No notes yet.");
    }
    document.getElementById("notes").addEventListener("click", async (e) => {
      if (e.target.dataset.id) { await aw.entities.Note.remove(e.target.dataset.id); refresh(); }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await aw.ui.busy(form, aw.entities.Note.create({title: form.title.value, body: form.body.value}));
        form.reset();
        aw.ui.error("#error", null);
        refresh();
      } catch (err) { aw.ui.error("#error", err); }
    });
    (async () => {
      await aw.ui.authForm("#auth");
      if (await aw.auth.me()) { form.hidden = false; refresh(); }
    })();
  </script>
</body></html>"""


def _table(header: tuple[str, str], rows) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| `{k}` | {v} |" for k, v in rows]
    return "\n".join(lines)


def _field_options() -> list[tuple[str, str]]:
    """(option, "for which types: what it means"), from manifest.FIELD_OPTIONS."""
    rows = []
    for option, (types, text) in FIELD_OPTIONS.items():
        where = f"{' and '.join(types)}{', required' if option in REQUIRED_OPTIONS.values() else ''}: " if types else ""
        rows.append((option, where + text))
    return rows


def render_docs() -> str:
    presets = []
    for name, (ops, text) in ACCESS_PRESETS.items():
        rule = ", ".join(f"{op}: {'/'.join(ops[op])}" for op in OPERATIONS)
        presets.append((name, f"{text} ({rule}; admins too)"))
    return f"""# Appwright platform reference (bundle format v1)

An app is a folder with `app.json` (the manifest) and `index.html`; more `.html`,
`.js` and `.css` files may sit beside it. Pages load the SDK with
`<script src="/_aw/sdk.js"></script>` and must not load anything from other sites.
Use relative links between pages (`href="about.html"`), not `/about.html`.

## app.json

```json
{json.dumps(EXAMPLE_MANIFEST, indent=2)}
```

Top-level keys: `name` (required), `description`, `auth`, `entities`, `theme`. Unknown keys are errors.

`theme`:

{_table(("theme", "meaning"), THEMES.items())}

### Field types

{_table(("type", "value"), FIELD_TYPES.items())}

Field options:

{_table(("option", "value"), _field_options())}

Field and entity names are letters, digits and `_`, starting with a letter.

### Fields every record has (never declare or send them)

{_table(("field", "meaning"), SYSTEM_FIELDS.items())}

### Access

`access` is a preset name, or a map of operations (`read`, `create`, `update`,
`delete`) to who may perform them. Leave it out and the entity is `{DEFAULT_ACCESS}`:
private to each user. Choose the narrowest rule that does the job: notes, journals,
expenses, habits and anything personal are `owner`.

{_table(("preset", "meaning"), presets)}

Who, in a map (a name or a list of names, e.g. `"update": ["owner", "admin"]`; an
operation left out of a map is as in `owner`):

{_table(("who", "meaning"), PRINCIPALS.items())}

Roles other than `admin` may be named in `auth.roles` and used in maps. Admins are
allowed every operation not set to `nobody`. A record you may not read answers 404,
as if it did not exist.

### Sign-up

`auth.signup`:

{_table(("rule", "meaning"), SIGNUP_RULES.items())}

Roles are never chosen at sign-up. `appwright users add EMAIL --role admin --app BUNDLE`
makes an admin; admins create invite codes with `aw.auth.invite()`.

## The SDK

{_table(("call", "does"), SDK)}

Replace `Note` with your entity's name. Every call that fails throws an `Error`
whose `message` explains why (show it to the user); `err.status` has the HTTP status.
`list` and `page` options:

- `sort`: a field name, `-` first for newest/largest first; default `-created_at`.
- `where`: `{{field: value}}` for equality, or `{{field: {{op: value}}}}` with op one of
  {", ".join(f"`{o}`" for o in api.WHERE_OPS)} (`contains`: text, ignoring case). Only declared
  fields and {", ".join(f"`{f}`" for f in SYSTEM_FIELDS)}.
- `limit`: 1 to {api.MAX_LIMIT} per page.

## Rules that keep apps working and safe

- Show user data with `aw.html` or `textContent`, never by putting raw values into `innerHTML`.
- Attach handlers with `addEventListener`: an `onclick="..."` that a script writes into the page
  does not run (the page's security policy allows only the inline code its HTML file holds).
- Functions that use `await` must be `async`.
- Only the SDK calls above exist (there is no `findById`, `all` or `save`).
- Every input a page reads must exist in the page's HTML.
- Never store passwords or secret keys in entities or pages; sign-in is `aw.auth`.

## REST API (what the SDK calls)

All paths are under the app's root. Requests that change state need the header
`X-AW: 1`. Bodies are JSON, at most {api.MAX_BODY // 1024 // 1024} MiB. Errors are
`{{"error": message, "code": code, "details": [...]}}` with a 4xx status.

```
POST   /_aw/api/auth/signup        {{"email","password","invite"?}} -> 201 {{"user"}}
POST   /_aw/api/auth/login         {{"email","password"}}           -> 200 {{"user"}}, sets the session cookie
POST   /_aw/api/auth/logout                                       -> 204
GET    /_aw/api/auth/me                                           -> 200 {{"user"}} | 401
GET    /_aw/api/auth/session                                      -> 200 {{"user": user|null}}
POST   /_aw/api/auth/invites       {{"role"?}} (admin)              -> 201 {{"code"}}
POST   /_aw/api/auth/users         {{"email","password","role"?}} (admin) -> 201 {{"user"}}
GET    /_aw/api/entities/{{Entity}}?sort=-created_at&limit=50&where={{json}}&cursor=...
                                                                  -> 200 {{"items": [...], "next": cursor|null}}
POST   /_aw/api/entities/{{Entity}}                                 -> 201 record
GET    /_aw/api/entities/{{Entity}}/{{id}}                            -> 200 record
PATCH  /_aw/api/entities/{{Entity}}/{{id}}                            -> 200 record
DELETE /_aw/api/entities/{{Entity}}/{{id}}                            -> 204
```

## The same page written by hand

For what `aw.ui.records` does not do:

```html
{HAND_PAGE}
```

## A complete example page

With the app.json above, this `index.html` is a whole app: sign-in, a form, the notes listed with
search and Delete buttons.

```html
{EXAMPLE_PAGE}
```
"""
