"""`ui` checks: scripted steps in headless Chromium on the served app (model.UiStep).

Each check gets a fresh browser context (own cookies). As `owner`, a new user is made and
the page opened with that user's session; `seed` records are created through the API first.
Any uncaught JavaScript error fails the check, whatever the steps say.

Finding things on a page the model wrote, without knowing its markup:
- an input for a field: by `name`, then `id`, then label, then placeholder (case ignored),
  visible ones only; the search box is `input[type=search]` or an input whose name, id,
  placeholder or label says search, filter or find;
- `submit`: the form's submit button, else `requestSubmit()`, else a button saying add,
  save, create, submit, post or send;
- `click_in`: the smallest element holding the text that also holds a matching button or
  link (by its text, aria-label or title); confirm() dialogs are accepted. `click`: the first
  visible button or link with a matching name;
- `expect_invite`: an invite for the role, made by the page's user, in the app's database;
- `expect_with`: an element (of any tag) whose text holds both texts and not the third.
Waiting: text expectations poll for up to EXPECT_S seconds, and stop at a JavaScript error.

Pages: a check opens `/` or the page it names (`admin.html`); an app that has no file of that
name is opened on its other page (`page_path`), so an app that names its admin page
`manage.html` is graded the same. Drag and drop, file uploads and keyboard shortcuts are not scripted.
"""

from __future__ import annotations

import contextlib
import re
import time
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import select

from appwright.runtime.local import settle, track_requests
from appwright.runtime.tables import invites
from appwright.tasks.graders.common import (Context, Fail, expect, items_of, linked, map_record, matches,
                                            resolve_entity, short)
from appwright.tasks.graders.env import AppEnv
from appwright.tasks.model import UiCheck, UiStep

LOAD_MS = 8000
EXPECT_S = 2.0
SUBMIT_WORDS = re.compile(r"add|save|create|submit|post|send|\+", re.I)
SEARCH_WORDS = "search|filter|find"


def page_path(env: AppEnv, page: str) -> str:
    """The path to open for a check's `page`: "/" stays; a named page the app has is itself; else
    the app's other page, one whose name says admin first ("manage.html" when there is no
    "admin.html"). An app with no other page fails the check."""
    page = page.lstrip("/")
    if not page or page in env.files:
        return "/" + page
    others = [f for f in env.files if f.endswith((".html", ".htm")) and f not in ("index.html", "index.htm")]
    expect(others, f"the app has no page {page} (its pages: {', '.join(f for f in env.files if f.endswith('.html'))})")
    return "/" + sorted(others, key=lambda f: ("admin" not in f.lower(), f.count("/"), f))[0]


@contextmanager
def open_page(env: AppEnv, ctx: Context, client: httpx.Client | None, path: str = "/", csp: bool = True):
    """The grade's page at `path` as the client's user (None: signed out), with cookies and storage
    cleared first; `.errors` and `.dialogs` collect what happens. One browser context and page
    serve every check of a grade (a new page costs a renderer process, about 0.25 s).
    `csp=False`: a page that ignores the runtime's Content-Security-Policy (the xss checks)."""
    slot = "page" if csp else "page_without_csp"
    if getattr(ctx, slot) is None:
        context = ctx.browser.new_context(bypass_csp=not csp)
        context.set_default_timeout(LOAD_MS)
        page = context.new_page()
        page.cdp = context.new_cdp_session(page)
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        track_requests(page)

        def dialog(d):
            page.dialogs.append(f"{d.type}: {d.message}")
            d.accept()
        page.on("dialog", dialog)
        setattr(ctx, slot, page)
    page = getattr(ctx, slot)
    page.context.clear_cookies()
    page.cdp.send("Storage.clearDataForOrigin", {"origin": env.url, "storageTypes": "all"})
    if client is not None:
        page.context.add_cookies([env.session_cookie(client)])
    page.errors, page.dialogs, page.inflight = [], [], set()
    try:
        try:
            page.goto(env.url + path, wait_until="load")
        except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError, a crashed page
            ctx.hung = f"the page did not load in {LOAD_MS / 1000:g} s (a script that never ends?): {short(str(exc), 80)}"
            raise Fail(ctx.hung) from None
        settle(page, LOAD_MS)
        yield page
        page.goto("about:blank")
    except BaseException:
        setattr(ctx, slot, None)  # a page that hangs or crashed is not reused: the next check gets a new one
        with contextlib.suppress(Exception):  # closing a crashed context may fail; the browser goes on
            page.context.close()
        raise


def _visible(locator):
    for i in range(min(locator.count(), 20)):
        el = locator.nth(i)
        if el.is_visible():
            return el
    return None


def field_input(page, field: str, label: str | None = None):
    """The visible input, textarea or select for a field; None if the page has none."""
    controls = "input:not([type=hidden]):not([type=submit]):not([type=button]), textarea, select"
    if field == "search":
        words = re.compile(SEARCH_WORDS, re.I)
        named = ", ".join(f'input[{a}*="{w}" i]' for a in ("name", "id") for w in SEARCH_WORDS.split("|"))
        cands = [page.locator("input[type=search]"), page.get_by_placeholder(words), page.get_by_label(words),
                 page.locator(named)]
    else:
        cands = [page.locator(f':is({controls})[name="{field}" i]'), page.locator(f':is({controls})[id="{field}" i]')]
        for text in dict.fromkeys([label or field, field.replace("_", " ")]):
            cands += [page.get_by_label(re.compile(re.escape(text), re.I)),
                      page.get_by_placeholder(re.compile(re.escape(text), re.I))]
        cands.append(page.locator(f':is({controls})[id*="{field}" i], :is({controls})[name*="{field}" i]'))
    for loc in cands:
        el = _visible(loc)
        if el is not None:
            return el
    return None


def _fill(page, step: dict[str, str], state: dict) -> str:
    field, value = step["field"], step["value"]
    el = field_input(page, field, step.get("label"))
    expect(el is not None, f"no visible input for {field!r} on the page")
    tag = el.evaluate("e => e.tagName.toLowerCase() + (e.type ? ':' + e.type : '')")
    if tag.startswith("select"):
        _choose(el, value)
    elif tag.endswith(":checkbox"):
        el.set_checked(value.lower() in ("true", "yes", "1", "on"))
    else:
        el.fill(value)
        if field == "search":
            el.dispatch_event("change")
    state["last"] = el
    return f"filled {field}"


# The option a menu offers as `v`: shown as it, else valued it, else either without regard to case
# ("oak" is the app's "Oak"); its index, or -1.
_OPTION = """(s, v) => {
  const os = [...s.options], low = v.toLowerCase();
  for (const same of [(a) => a === v, (a) => a.toLowerCase() === low])
    for (const part of ["text", "value"]) {
      const i = os.findIndex(o => same(o[part].trim()));
      if (i >= 0) return i;
    }
  return -1;
}"""


def _has_option(select, value: str) -> bool:
    return select.evaluate(_OPTION, value) >= 0


def _choose(select, value: str) -> None:
    """Pick the option shown as `value`, else the one whose value is `value`, case aside if need be."""
    i = select.evaluate(_OPTION, value)
    select.select_option(index=i) if i >= 0 else select.select_option(value=value)


def _select(page, step: dict[str, str]) -> str:
    field, value, skip = step["field"], step["value"], step.get("not", "").lower()
    if field != "*":
        el = field_input(page, field, step.get("label"))
        expect(el is not None, f"no visible menu for {field!r}")
        _choose(el, value)
        return f"chose {value} for {field}"
    selects = page.locator("select")
    for i in range(min(selects.count(), 20)):
        s = selects.nth(i)
        names = {(s.get_attribute("name") or "").lower(), (s.get_attribute("id") or "").lower()}
        if not s.is_visible() or (skip and skip in names):
            continue
        if _has_option(s, value):
            _choose(s, value)
            return f"chose {value} in a menu"
    raise Fail(f"no menu on the page offers {value!r} (other than the form's own {skip or 'menu'})")


def _submit(page, state: dict) -> str:
    el = state.get("last")
    expect(el is not None, "nothing was filled before submit")
    has_form = el.evaluate("e => !!e.form")
    if has_form:
        form = el.locator("xpath=ancestor::form[1]")
        button = _visible(form.locator("button[type=submit], button:not([type]), input[type=submit]"))
        if button is not None:
            button.click()
        else:
            el.evaluate("e => e.form.requestSubmit()")
    else:
        button = _visible(page.get_by_role("button", name=SUBMIT_WORDS))
        expect(button is not None, "the filled inputs are in no form and no button says add, save or create")
        button.click()
    settle(page, LOAD_MS)
    return "submitted"


def _click_in(page, step: dict[str, str]) -> str:
    text, words = step["text"], re.compile(step.get("button", "delete|remove"), re.I)
    buttons = page.get_by_role("button", name=words).or_(page.get_by_role("link", name=words)).or_(
        page.locator('[title*="delete" i], [aria-label*="delete" i]'))
    holders = page.locator("li, tr, article, section, div, p, form, span, dd, td").filter(has_text=text).filter(
        has=buttons)
    expect(holders.count() > 0, f"no element holding {text!r} has a button matching /{words.pattern}/")
    target = _visible(holders.last.get_by_role("button", name=words)) or _visible(
        holders.last.get_by_role("link", name=words)) or holders.last.locator(buttons).first
    target.click()
    settle(page, LOAD_MS)
    return f"clicked {words.pattern} next to {text!r}"


def _click(page, pattern: str) -> str:
    words = re.compile(pattern, re.I)
    target = _visible(page.get_by_role("button", name=words)) or _visible(page.get_by_role("link", name=words))
    expect(target is not None, f"no visible button or link matching /{pattern}/")
    target.click()
    settle(page, LOAD_MS)
    return f"clicked /{pattern}/"


def _invited(env: AppEnv, page, client, role: str) -> str:
    """An invite for `role`, made by the client's user, is in the app's database."""
    def look():
        with env.served.store.engine.connect() as conn:
            rows = conn.execute(select(invites.c.role).where(invites.c.created_by == client.user["id"])).all()
        return any(r.role == role for r in rows), [r.role or "member" for r in rows]
    ok, made = _poll(look, page=page)
    expect(ok, f"no invite for the role {role!r} was made from the page (invites made: {', '.join(made) or 'none'})")
    return f"made an invite for {role}"


def _body(page) -> str:
    return page.evaluate("document.body ? document.body.innerText : ''")


def _poll(fn, seconds: float = EXPECT_S, page=None):
    """`fn()` -> (ok, last) until ok, for at most `seconds`; at once when the page has thrown (a
    check with a JavaScript error fails whatever else it finds)."""
    deadline = time.monotonic() + seconds
    while True:
        ok, last = fn()
        if ok or time.monotonic() > deadline or (page is not None and page.errors):
            return ok, last
        time.sleep(0.1)


def _expect_text(page, wanted: str | list[str]) -> str:
    options = [wanted] if isinstance(wanted, str) else wanted
    ok, body = _poll(lambda: (any(o.lower() in (b := _body(page)).lower() for o in options), b), page=page)
    expect(ok, f"the page does not show {' or '.join(map(repr, options))}; it shows: {short(body, 240)}")
    return f"shows {options[0]!r}"


def _expect_absent(page, text: str) -> str:
    ok, body = _poll(lambda: (text.lower() not in (b := _body(page)).lower(), b), page=page)
    expect(ok, f"the page still shows {text!r}: {short(body, 240)}")
    return f"hides {text!r}"


def _expect_order(page, texts: list[str]) -> str:
    def ordered():
        body = _body(page).lower()
        at = [body.find(t.lower()) for t in texts]
        return all(a >= 0 for a in at) and at == sorted(at), body
    ok, body = _poll(ordered, page=page)
    expect(ok, f"expected {' before '.join(map(repr, texts))}; the page shows: {short(body, 240)}")
    return "in order: " + ", ".join(texts)


WITH_JS = """([text, other, not_]) => {
  for (const el of document.body.querySelectorAll("*")) {
    const t = (el.innerText || "").toLowerCase();
    if (t.includes(text) && t.includes(other) && !(not_ && t.includes(not_))) return true;
  }
  return false;
}"""


def _expect_with(page, arg: dict[str, str]) -> str:
    """One element shows arg["text"] and arg["with"] but not arg["not"]: in a list item, a table row,
    a card, a section of its own; not merely somewhere on the same page."""
    text, other, not_ = arg["text"], arg["with"], arg.get("not", "")
    ok, body = _poll(lambda: (page.evaluate(WITH_JS, [text.lower(), other.lower(), not_.lower()]), _body(page)),
                     page=page)
    expect(ok, f"no part of the page shows {text!r} with {other!r}" + (f" apart from {not_!r}" if not_ else "")
               + f"; it shows: {short(body, 240)}")
    return f"shows {text!r} with {other!r}"


def _saved(env: AppEnv, page, client, entity: str, wanted: dict[str, Any], present: bool) -> str:
    def look():
        items = items_of(client.get(env.api(entity), params={"limit": 200}))
        return any(matches(i, wanted) for i in items) == present, items
    ok, items = _poll(look, page=page)
    expect(ok, f"{'no' if present else 'still a'} {entity} record with {short(wanted)} in the API "
               f"(records: {short(items, 240)})")
    return f"{'saved' if present else 'deleted'}: {short(wanted, 60)}"


def _no_errors(page) -> None:
    if page.errors:
        raise Fail(f"JavaScript error: {short(page.errors[0], 240)}")


def grade_ui(env: AppEnv, check: UiCheck, ctx: Context) -> str:
    entity = resolve_entity(env, check.entity) if check.entity else None
    path = page_path(env, check.page)
    owner = env.user("owner")
    client = {"owner": owner, "other": env.user("other") if check.user == "other" else None,
              "admin": env.user("admin", role="admin") if check.user == "admin" else None}.get(check.user)
    # what the page saved, seen as its user; a signed-out visitor's (submit_only) as an admin
    state = {"path": path, "reader": client or (env.user("admin", role="admin") if any(
        s.expect_saved or s.expect_gone for s in check.steps) else None)}
    if check.order_by:  # without the field every record sorts alike: whatever order shows, it says nothing
        fields = env.manifest.entities[entity].fields
        expect(check.order_by.lower() in {k.lower() for k in fields},
               f"the order asked for is by {check.order_by}, which {entity} does not declare (it has "
               f"{', '.join(fields)}): any order the page shows is chance")
    for rec in check.seed:
        r = owner.post(env.api(entity), json=linked(env, owner, map_record(env, entity, rec)))
        expect(r.status_code == 201, f"could not create a seed record through the API: {r.status_code} "
                                     f"{short(r.text, 200)}")
    done = []
    with open_page(env, ctx, client, path) as page:
        try:
            for step in check.steps:
                done.append(_run(env, page, entity, step, state))
                _no_errors(page)
        except Fail as exc:
            raise Fail(f"{exc} (after: {', '.join(done) or 'loading the page'})"
                       + (f"; JS errors: {short(page.errors, 200)}" if page.errors else "")) from None
        _no_errors(page)
    return "; ".join(done) or "the page loads without errors"


def _run(env: AppEnv, page, entity: str | None, step: UiStep, state: dict) -> str:
    action, arg = step.action, getattr(step, step.action)
    if action == "open":
        page.goto(env.url + state["path"], wait_until="load")
        settle(page, LOAD_MS)
        return f"opened {state['path']}"
    if action == "fill":
        return _fill(page, arg, state)
    if action == "select":
        return _select(page, arg)
    if action == "submit":
        return _submit(page, state)
    if action == "click_in":
        return _click_in(page, arg)
    if action == "click":
        return _click(page, arg)
    if action == "expect_invite":
        return _invited(env, page, state["reader"], arg)
    if action == "expect_text":
        return _expect_text(page, arg)
    if action == "expect_absent":
        return _expect_absent(page, arg)
    if action == "expect_order":
        return _expect_order(page, arg)
    if action == "expect_with":
        return _expect_with(page, arg)
    expect(entity is not None, f"{action} needs an entity")
    return _saved(env, page, state["reader"], entity, map_record(env, entity, arg), present=action == "expect_saved")
