"""The JS SDK (`/_aw/sdk.js`) in headless Chromium, held to its docs and its promises.

1. Every name in `appwright.runtime.docs.SDK` exists on `window.aw` with the right
   type, and `window.aw` exports nothing undocumented.
2. `aw.html` escapes every value, nests without double escaping, neutralises
   `javascript:` URLs, quotes unquoted attribute values and refuses values in
   `on*` attributes.
3. Stored XSS payloads saved through the REST API and rendered through `aw.html`
   never run; the same payloads rendered with raw `innerHTML` do (the control
   that proves the check can fail).
4. A failing call throws an `Error` carrying the server's message and status.
5. In a multi-app `Host`, pages under `/apps/a/` and `/apps/b/` talk to their own
   API and have separate sign-ins.
6. Both example pages in the docs work as printed (the one by hand and the one with
   `aw.ui.records`).

    .venv/bin/python -m pytest -q tests/test_sdk_browser.py
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from appwright.runtime.app import Host
from appwright.runtime.docs import EXAMPLE_MANIFEST, EXAMPLE_PAGE, HAND_PAGE, SDK
from conftest import PASSWORD

pytestmark = pytest.mark.slow

FAILED_REQUEST = "Failed to load resource: the server responded with a status of"
SDK_TAG = '<script src="/_aw/sdk.js"></script>'


def blank_page(body: str = "", sdk_src: str = "/_aw/sdk.js") -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>t</title></head>'
            f'<body>{body}<script src="{sdk_src}"></script></body></html>')


def open_sdk_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => typeof window.aw === 'object'")


# -- 1. the documented names, and nothing else ------------------------------------------------
def documented_names() -> dict[str, str]:
    """`auth.me` -> "function", ... from the SDK table of the docs (Note stands for any entity)."""
    names = {}
    for call, _ in SDK:
        match = re.search(r"\baw\.([A-Za-z_][\w.]*)", call)
        assert match, f"docs.SDK entry names no aw.* call: {call!r}"
        names[match.group(1).rstrip(".")] = "function"
    return names


WALK_AW = """() => {
  const out = {};
  function walk(obj, prefix) {
    for (const key of Object.getOwnPropertyNames(obj)) {
      const value = obj[key], path = prefix + key;
      if (path === "entities") { out[path] = typeof value; continue; }  // a Proxy: walked below
      if (typeof value === "object" && value !== null) walk(value, path + ".");
      else out[path] = typeof value;
    }
  }
  walk(window.aw, "");
  walk(window.aw.entities.Note, "entities.Note.");
  return out;
}"""


def test_sdk_exports_exactly_the_documented_names(make_bundle, live, page):
    with live(make_bundle(EXAMPLE_MANIFEST)) as srv:
        open_sdk_page(page, srv.url)
        exported = page.evaluate(WALK_AW)
        entities = exported.pop("entities")
        documented = documented_names()
        assert set(documented) - set(exported) == set(), "documented but missing from window.aw"
        assert set(exported) - set(documented) == set(), "on window.aw but not in docs.SDK"
        assert exported == documented  # and every one is a function
        assert entities == "object"
        # Any entity name gives the same client; `then` is not an entity, so `await aw.entities` is safe.
        methods = sorted(k.removeprefix("entities.Note.") for k in documented if k.startswith("entities.Note."))
        assert page.evaluate("() => Object.getOwnPropertyNames(aw.entities.Whatever).sort()") == methods
        assert page.evaluate("() => aw.entities.then === undefined") is True
        assert page.errors == []


# -- 2. aw.html ------------------------------------------------------------------------------
@pytest.fixture
def sdk_page(make_bundle, live, page):
    """A served page with the SDK loaded (the app's security headers included)."""
    with live(make_bundle(EXAMPLE_MANIFEST)) as srv:
        open_sdk_page(page, srv.url)
        yield page


def test_ui_helpers_show_empty_busy_and_failed_states(sdk_page):
    out = sdk_page.evaluate("""async () => {
      document.body.insertAdjacentHTML("beforeend",
        '<ul id="l"></ul><div id="d"></div><form id="f"><button>Add</button></form><p id="e"></p>');
      const seen = {};
      aw.ui.list("#l", [], n => aw.html`<li>${n}</li>`, "No <notes> yet.");
      seen.emptyList = document.getElementById("l").innerHTML;
      aw.ui.list(document.getElementById("d"), [], n => n);
      seen.emptyDiv = document.getElementById("d").innerHTML;
      aw.ui.list("#l", ["<a>", "b"], n => aw.html`<li>${n}</li>`);
      seen.full = document.getElementById("l").innerHTML;
      const form = document.getElementById("f");
      let release; const waiting = new Promise(r => { release = r; });
      const done = aw.ui.busy(form, waiting);
      seen.during = [form.getAttribute("aria-busy"), form.querySelector("button").disabled];
      release(42);
      seen.result = await done;
      seen.after = [form.getAttribute("aria-busy"), form.querySelector("button").disabled];
      try { await aw.ui.busy(form, Promise.reject(new Error("boom"))); } catch (e) { seen.thrown = e.message; }
      seen.afterFailure = form.querySelector("button").disabled;
      const e = aw.ui.error("#e", new Error("title: required"));
      seen.error = [e.textContent, e.getAttribute("role"), e.className];
      seen.cleared = aw.ui.error("#e", null).textContent;
      try { aw.ui.list("#nope", [], x => x); } catch (err) { seen.missing = err.message; }
      try { aw.ui.menu("#l", {items: ["a"]}); } catch (err) { seen.unknown = err.message; }
      return seen;
    }""")
    assert out["emptyList"] == '<li class="aw-empty">No &lt;notes&gt; yet.</li>'
    assert out["emptyDiv"] == '<p class="aw-empty">Nothing here yet.</p>'
    assert out["full"] == "<li>&lt;a&gt;</li><li>b</li>"
    assert out["during"] == ["true", True] and out["result"] == 42 and out["after"] == [None, False]
    assert out["thrown"] == "boom" and out["afterFailure"] is False
    assert out["error"] == ["title: required", "alert", "aw-error"] and out["cleared"] == ""
    assert "aw.ui.list: expected an element" in out["missing"]
    # a helper the SDK lacks says what it has, not "aw.ui.menu is not a function"
    assert out["unknown"] == ("aw.ui.menu is not part of the SDK; aw.ui has authForm, list, busy, error, records (a "
                              "menu to filter by, a search box and a total are options of aw.ui.records)")


def test_html_escapes_every_interpolated_value(sdk_page):
    out = sdk_page.evaluate("""() => {
      const v = `<b>&"'\\``;
      const p = document.createElement("div");
      p.innerHTML = aw.html`<p title="${v}" data-x='${v}'>${v}</p>`;
      return {
        text: String(aw.html`<p>${v}</p>`),
        escape: aw.escape(v),
        dom: [p.firstChild.title, p.firstChild.dataset.x, p.firstChild.textContent, p.querySelectorAll("b").length],
        empty: String(aw.html`${null}|${undefined}|${false}|${0}|${""}`),
        isString: typeof String(aw.html`x`) === "string" && aw.html`x`.length === 1,
      };
    }""")
    assert out["text"] == "<p>&lt;b&gt;&amp;&quot;&#39;&#96;</p>"
    assert out["escape"] == "&lt;b&gt;&amp;&quot;&#39;&#96;"
    assert out["dom"] == ["<b>&\"'`", "<b>&\"'`", "<b>&\"'`", 0]
    assert out["empty"] == "|||0|"  # null, undefined and false render as nothing; 0 as "0"
    assert out["isString"] is True
    assert sdk_page.errors == []


def test_html_nests_without_double_escaping(sdk_page):
    out = sdk_page.evaluate("""() => ({
      list: String(aw.html`<ul>${["a<b", "c&d"].map(x => aw.html`<li>${x}</li>`)}</ul>`),
      single: String(aw.html`<div>${aw.html`<b>${"&"}</b>`}</div>`),
      deep: String(aw.html`${[aw.html`<i>${[aw.html`<u>${"<"}</u>`]}</i>`]}`),
      plainArray: String(aw.html`<p>${["<i>", "x"]}</p>`),
      plainString: String(aw.html`<p>${"<i>x</i>"}</p>`),
    })""")
    assert out == {
        "list": "<ul><li>a&lt;b</li><li>c&amp;d</li></ul>",
        "single": "<div><b>&amp;</b></div>",
        "deep": "<i><u>&lt;</u></i>",
        "plainArray": "<p>&lt;i&gt;x</p>",  # arrays of plain strings are escaped item by item
        "plainString": "<p>&lt;i&gt;x&lt;/i&gt;</p>",  # only aw.html results pass through
    }


# URL-valued attributes; each template is (text before the value, text after it).
URL_SINKS = [
    ('<a href="', '">x</a>'), ("<a href='", "'>x</a>"), ("<a href=", ">x</a>"),
    ('<img src="', '">'), ('<iframe src="', '"></iframe>'), ('<form action="', '"></form>'),
    ('<button formaction="', '">x</button>'), ('<a\nhref = "', '">x</a>'),
]
# What a browser reads as a javascript: (or data:) URL. The URL parser drops leading C0 controls
# and spaces and removes tabs and newlines anywhere, so "java\tscript:" is "javascript:".
UNSAFE_URLS = [
    "javascript:window.__pwned=1", "JaVaScRiPt:window.__pwned=1", "  javascript:window.__pwned=1",
    "\njavascript:window.__pwned=1", "vbscript:msgbox(1)", "data:text/html,<script>window.__pwned=1</script>",
    "java\tscript:window.__pwned=1", "java\nscript:window.__pwned=1", "\x01javascript:window.__pwned=1",
    "\x00javascript:window.__pwned=1",
]

# Render into an inert <template> (nothing loads or runs) and let the browser parse the URL.
PARSED_PROTOCOL = """([before, after, value]) => {
  const t = document.createElement("template");
  t.innerHTML = aw.html(Object.assign([before, after], {raw: [before, after]}), value);
  const el = t.content.firstElementChild;
  const attr = ["href", "src", "action", "formaction"].find(a => el.hasAttribute(a));
  return new URL(el.getAttribute(attr), location.href).protocol;
}"""


def test_html_blocks_javascript_urls(sdk_page):
    bypasses = []
    for url in UNSAFE_URLS:
        through = [f"{before}...{after}" for before, after in URL_SINKS
                   if sdk_page.evaluate(PARSED_PROTOCOL, [before, after, url]) in ("javascript:", "vbscript:", "data:")]
        if through:
            bypasses.append(f"{url!r} passes into {len(through)} of {len(URL_SINKS)} sinks, e.g. {through[0]!r}")
    assert bypasses == [], "aw.html let these URLs through:\n" + "\n".join(bypasses)
    # Ordinary links are left alone.
    for url, expected in [("https://example.com/a?b=1&c=2", "https:"), ("notes.html#x", "http:"),
                          ("mailto:ada@example.com", "mailto:"), ("/_aw/sdk.js", "http:")]:
        assert sdk_page.evaluate(PARSED_PROTOCOL, ['<a href="', '">x</a>', url]) == expected
    assert sdk_page.evaluate("""() => {
      const t = document.createElement("template");
      t.innerHTML = aw.html`<a href="${"https://example.com/a?b=1&c=2"}">x</a>`;
      return t.content.firstElementChild.href; }""") == "https://example.com/a?b=1&c=2"
    assert sdk_page.errors == []


def test_html_quotes_unquoted_attribute_values(sdk_page):
    out = sdk_page.evaluate("""() => {
      const t = document.createElement("template");
      const evil = "x onmouseover=window.__pwned=1 autofocus onfocus=window.__pwned=1";
      t.innerHTML = aw.html`<a title=${evil} class=${"a b"}>t</a><input value=${"y><img src=x onerror=window.__pwned=1>"}>`;
      const a = t.content.querySelector("a"), input = t.content.querySelector("input");
      return {attrs: a.getAttributeNames(), title: a.title, cls: a.className, value: input.value,
              imgs: t.content.querySelectorAll("img").length};
    }""")
    assert out == {"attrs": ["title", "class"], "title": "x onmouseover=window.__pwned=1 autofocus "
                   "onfocus=window.__pwned=1", "cls": "a b", "value": "y><img src=x onerror=window.__pwned=1>",
                   "imgs": 0}


# Values inside event-handler attributes: HTML-escaping does not help there (the browser
# un-escapes the attribute before running it as JavaScript), so aw.html must refuse them.
ON_ATTRIBUTES = [
    ('<button onclick="', '">x</button>'),
    ("<button onclick=", ">x</button>"),
    ("<button ONCLICK = '", "'>x</button>"),
    ('<img src="a.png"\nonerror="', '">'),
    ('<button onclick="remove(\'', '\')">x</button>'),  # the value is not at the start of the handler
    ("<svg/onload=", "></svg>"),  # "/" separates attributes as a space does
    ('<a href="#"onclick="', '">x</a>'),  # so does the closing quote of the previous one
]


def test_html_refuses_values_in_on_attributes(sdk_page):
    results = sdk_page.evaluate("""(cases) => cases.map(([before, after]) => {
      try { aw.html(Object.assign([before, after], {raw: [before, after]}), "');window.__pwned=1;//"); return null; }
      catch (e) { return e.message; }
    })""", ON_ATTRIBUTES)
    allowed = [f"{b}${{value}}{a}" for (b, a), r in zip(ON_ATTRIBUTES, results) if r is None]
    assert allowed == [], "aw.html accepted a value inside an event handler:\n" + "\n".join(allowed)
    assert all("on* event attributes" in r for r in results)
    # Attributes and text that merely contain "on" are fine.
    fine = sdk_page.evaluate("""() => [
      String(aw.html`<div data-onclick="${1}" option="${2}" icon="${3}">${4}</div>`),
      String(aw.html`<p>Cost of one = ${"5 EUR"}</p>`),
    ]""")
    assert fine == ['<div data-onclick="1" option="2" icon="3">4</div>', "<p>Cost of one = 5 EUR</p>"]


# -- 3. stored XSS ---------------------------------------------------------------------------
XSS_MANIFEST = {
    "name": "Board",
    "auth": {"signup": "open"},
    "entities": {"Post": {"fields": {"title": {"type": "string"}, "body": {"type": "text"},
                                     "link": {"type": "string"}}, "access": "public_read"}},
}
XSS_POSTS = [
    {"title": '<img src=x onerror="window.__pwned=1">', "body": '"><script>window.__pwned=1</script>',
     "link": "https://example.com/"},
    {"title": "click me", "body": "<svg onload=\"window.__pwned=1\"></svg>\n</p><img src=x onerror=window.__pwned=1>",
     "link": "javascript:window.__pwned=1"},
    {"title": "'><img src=x onerror=window.__pwned=1>", "body": "<iframe srcdoc=\"<script>parent.__pwned=1</script>\">",
     "link": " JaVaScRiPt:window.__pwned=1"},
]
LOAD = """async function load() {
  const posts = await aw.entities.Post.list({sort: "created_at"});
  document.getElementById("out").innerHTML = render(posts);
  document.body.dataset.ready = "1";
}
load().catch((e) => { document.getElementById("error").textContent = e.message; });"""
SAFE_PAGE = blank_page('<ul id="out"></ul><p id="error"></p>') + f"""<script>
function render(posts) {{
  return aw.html`${{posts.map(p => aw.html`<li data-id="${{p.id}}">
    <a href="${{p.link}}" title="${{p.title}}">${{p.title}}</a>
    <span title=${{p.body}} data-b='${{p.body}}'>${{p.title}}</span>
    <p class="body">${{p.body}}</p></li>`)}}`;
}}
{LOAD}</script>"""
RAW_PAGE = blank_page('<ul id="out"></ul><p id="error"></p>') + f"""<script>
function render(posts) {{  // the mistake aw.html exists to prevent
  return posts.map(p => `<li><a href="${{p.link}}">${{p.title}}</a><p>${{p.body}}</p></li>`).join("");
}}
{LOAD}</script>"""


@pytest.fixture
def page_without_csp(browser):
    """A page that ignores the runtime's Content-Security-Policy: aw.html alone is under test."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def test_stored_xss_does_not_run_through_aw_html(make_bundle, live, page_without_csp, page):
    """aw.html alone stops the payloads (the CSP set aside); the raw page is attacked without
    the CSP and not with it, the runtime's second wall."""
    page, with_csp = page_without_csp, page
    bundle = make_bundle(XSS_MANIFEST, {"index.html": SAFE_PAGE, "raw.html": RAW_PAGE})
    with live(bundle) as srv:
        author = srv.user("mallory@example.com")
        for post in XSS_POSTS:
            assert author.post("/_aw/api/entities/Post", json=post).status_code == 201

        # Through aw.html: the payloads show as text, and nothing runs.
        page.goto(srv.url)
        expect(page.locator("body[data-ready='1']")).to_have_count(1)
        page.wait_for_load_state("networkidle")  # any <img>/<iframe> would have loaded (and failed) by now
        expect(page.locator("#out .body")).to_have_text([p["body"] for p in XSS_POSTS])
        expect(page.locator("#out a")).to_have_text([p["title"] for p in XSS_POSTS])
        assert page.locator("#out img, #out script, #out svg, #out iframe").count() == 0
        assert page.evaluate("() => [...document.querySelectorAll('#out li > *')].every("
                             "el => el.getAttributeNames().every(n => !n.startsWith('on')))")
        for link in ("click me", XSS_POSTS[2]["title"]):
            page.get_by_role("link", name=link, exact=True).click()
            page.wait_for_function("() => location.hash === '#blocked-unsafe-url'")
            page.evaluate("() => history.replaceState(null, '', location.pathname)")
        assert page.evaluate("() => window.__pwned") is None
        assert page.errors == []

        # The control: the same records through raw innerHTML do run, so the check above can fail.
        page.goto(srv.url + "/raw.html")
        page.wait_for_function("() => window.__pwned === 1")
        page.evaluate("() => { delete window.__pwned; }")
        page.get_by_role("link", name="click me", exact=True).click()
        page.wait_for_function("() => window.__pwned === 1")

        # The runtime's CSP: the same raw page with the policy on runs none of them.
        with_csp.goto(srv.url + "/raw.html")
        expect(with_csp.locator("body[data-ready='1']")).to_have_count(1)
        with_csp.wait_for_load_state("networkidle")
        with_csp.get_by_role("link", name="click me", exact=True).click()
        with_csp.wait_for_timeout(300)
        assert with_csp.evaluate("() => window.__pwned") is None


# -- 4. errors -------------------------------------------------------------------------------
CAUGHT = """async (code) => {
  try { await (new Function("return (async () => " + code + ")()"))(); return null; }
  catch (e) { return {isError: e instanceof Error, message: e.message, status: e.status ?? null,
                      code: e.code ?? null, details: e.details ?? null}; }
}"""


def test_sdk_errors_carry_the_servers_message(make_bundle, live, page):
    with live(make_bundle(EXAMPLE_MANIFEST)) as srv:
        open_sdk_page(page, srv.url)
        caught = lambda code: page.evaluate(CAUGHT, code)  # noqa: E731
        api = srv.user("bob@example.com")  # the same requests by hand, for the server's own words
        page.evaluate(f"() => aw.auth.signup('ada@example.com', {PASSWORD!r})")

        err = caught("aw.entities.Note.create({title: 'x', colour: 'red'})")
        server = api.post("/_aw/api/entities/Note", json={"title": "x", "colour": "red"})
        assert server.status_code == 400
        assert err == {"isError": True, "message": server.json()["error"], "status": 400,
                       "code": server.json()["code"], "details": server.json()["details"]}
        assert "colour: unknown field of Note" in err["message"]

        server = api.get("/_aw/api/entities/Note/nope")
        assert caught("aw.entities.Note.get('nope')")["message"] == server.json()["error"]
        assert caught("aw.entities.Note.get('nope')")["status"] == 404
        err = caught("aw.entities.Nope.list()")
        assert (err["status"], err["message"]) == (404, "unknown entity 'Nope'; this app has Note")
        err = caught("aw.entities.Note.create({})")
        assert (err["status"], err["message"]) == (400, "invalid Note: title: required; missing")
        err = caught("aw.entities.Note.list({sort: 'colour'})")
        assert err["status"] == 400 and err["message"].startswith("sort: unknown field 'colour'")
        err = caught("aw.auth.signup('ada@example.com', 'another password')")
        assert (err["status"], err["message"]) == (409, "an account with this email already exists; sign in instead")

        page.evaluate("() => aw.auth.logout()")
        err = caught("aw.entities.Note.create({title: 'x'})")
        assert (err["status"], err["message"]) == (401, "sign in to create Note records")
        err = caught("aw.auth.login('ada@example.com', 'wrong password')")
        assert (err["status"], err["message"]) == (401, "wrong email or password")
        assert page.evaluate("() => aw.auth.me()") is None

        # Mistakes the SDK catches itself are Errors too, without a status.
        err = caught("aw.entities.Note.get(42)")
        assert err["isError"] and err["status"] is None and "expected a record id" in err["message"]
        # Only the failed requests were logged, no uncaught errors.
        assert page.errors and all(e.startswith(FAILED_REQUEST) for e in page.errors)


# -- 5. many apps on one host ----------------------------------------------------------------
# A relative src, so these pages reach their app's SDK under /apps/{id}/ whatever
# test_documented_sdk_tag_works_in_a_multi_app_host says.
NOTE_PAGE = blank_page("<h1>notes</h1>", sdk_src="_aw/sdk.js")


def console_errors(page: Page) -> list[tuple[str, str]]:
    """(text, url) of every console error from now on; `page.errors` has no URLs."""
    seen: list[tuple[str, str]] = []
    page.on("console", lambda m: m.type == "error" and seen.append((m.text, m.location.get("url", ""))))
    return seen


@pytest.fixture
def two_apps(make_bundle):
    host = Host()
    a = host.add("a", make_bundle(EXAMPLE_MANIFEST, {"index.html": NOTE_PAGE}))
    b = host.add("b", make_bundle({**EXAMPLE_MANIFEST, "name": "Other notes"}, {"index.html": NOTE_PAGE}))
    yield host, a, b
    host.remove("a")
    host.remove("b")


def test_sdk_in_a_multi_app_host(two_apps, live, page):
    host, a, b = two_apps
    errors = console_errors(page)
    with live(host) as srv:
        def at(app_id: str) -> None:
            open_sdk_page(page, f"{srv.url}/apps/{app_id}/")

        at("a")
        assert page.evaluate("async () => (await aw.auth.signup('ada@example.com', "
                             f"{PASSWORD!r})).email") == "ada@example.com"
        page.evaluate("() => aw.entities.Note.create({title: 'from a'})")

        at("b")  # signed in to a, not to b
        assert page.evaluate("() => aw.auth.me()") is None
        # The same email is a different account in another app.
        page.evaluate(f"() => aw.auth.signup('ada@example.com', 'b-password-{PASSWORD}')")
        page.evaluate("() => aw.entities.Note.create({title: 'from b'})")
        assert page.evaluate("async () => (await aw.entities.Note.list()).map(n => n.title)") == ["from b"]
        page.evaluate("() => aw.auth.logout()")  # signs out of b only

        at("a")
        assert page.evaluate("async () => (await aw.auth.me()).email") == "ada@example.com"
        assert page.evaluate("async () => (await aw.entities.Note.list()).map(n => n.title)") == ["from a"]
        at("b")
        assert page.evaluate("() => aw.auth.me()") is None

        cookies = {c["path"]: c for c in page.context.cookies() if c["name"] == "aw_session"}
        assert set(cookies) == {"/apps/a/"}  # b's cookie was cleared on logout
        assert cookies["/apps/a/"]["httpOnly"] and cookies["/apps/a/"]["sameSite"] == "Lax"
        assert [r.data["title"] for r in a.store.list_records("Note", filters=[]).items] == ["from a"]
        assert [r.data["title"] for r in b.store.list_records("Note", filters=[]).items] == ["from b"]
        # The host's own /favicon.ico 404 is test_host_pages_load_without_console_errors's business.
        assert [e for e in errors if e[1] != f"{srv.url}/favicon.ico"] == []


def test_host_pages_load_without_console_errors(two_apps, live, page):
    """Browsers ask the host for /favicon.ico; a 404 there is logged as a console error on every
    page of every app, which the `ui` graders read as a broken app (a single app answers 204)."""
    host, _, _ = two_apps
    errors = console_errors(page)
    with live(host) as srv:
        open_sdk_page(page, f"{srv.url}/apps/a/")
        page.wait_for_load_state("networkidle")
        assert errors == []


def test_documented_sdk_tag_works_in_a_multi_app_host(make_bundle, live, page):
    """Bundles load the SDK as the docs say (`<script src="/_aw/sdk.js">`, as every example
    does); served under /apps/{id}/ that must still reach the app's own SDK."""
    host = Host()
    host.add("notes", make_bundle(EXAMPLE_MANIFEST, {"index.html": blank_page("<h1>notes</h1>")}))
    try:
        with live(host) as srv:
            page.goto(f"{srv.url}/apps/notes/")
            expect(page.locator("h1")).to_have_text("notes")
            assert page.evaluate("() => typeof window.aw") == "object", page.errors
            assert page.evaluate("async () => (await aw.auth.signup('ada@example.com', "
                                 f"{PASSWORD!r})).email") == "ada@example.com"
            assert page.context.cookies()[0]["path"] == "/apps/notes/"
    finally:
        host.remove("notes")


# -- 6. the docs' example page ---------------------------------------------------------------
def test_docs_example_page_by_hand_works(make_bundle, live, page):
    with live(make_bundle(EXAMPLE_MANIFEST, {"index.html": HAND_PAGE})) as srv:
        page.goto(srv.url)
        page.get_by_role("button", name="Create an account").click()
        page.fill("#auth input[name=email]", "ada@example.com")
        page.fill("#auth input[name=password]", PASSWORD)
        page.click("#auth .aw-submit")
        expect(page.locator(".aw-signed-in")).to_contain_text("ada@example.com")
        expect(page.locator("#notes")).to_have_text("No notes yet.")
        page.fill("#new input[name=title]", "<b>bold?</b>")
        page.click("#new button")
        expect(page.locator("#notes li")).to_contain_text("<b>bold?</b>")
        page.fill("#new input[name=title]", "second")
        page.click("#new button")
        expect(page.locator("#notes li")).to_have_count(2)
        page.locator("#notes li", has_text="bold?").get_by_role("button", name="Delete").click()
        expect(page.locator("#notes li")).to_have_count(1)
        page.reload()
        expect(page.locator("#notes li")).to_have_text(["second Delete"])
        assert page.errors == []


def test_docs_example_page_with_records_works(make_bundle, live, page):
    with live(make_bundle(EXAMPLE_MANIFEST, {"index.html": EXAMPLE_PAGE})) as srv:
        page.goto(srv.url)
        expect(page.locator("#auth .aw-submit")).to_be_visible()
        assert page.locator("#notes form").count() == 0  # signed out: owner data, nothing to add or list
        page.get_by_role("button", name="Create an account").click()
        page.fill("#auth input[name=email]", "ada@example.com")
        page.fill("#auth input[name=password]", PASSWORD)
        page.click("#auth .aw-submit")
        expect(page.locator(".aw-signed-in")).to_contain_text("ada@example.com")
        items = page.locator("#notes li")
        expect(items).to_have_text(["No notes yet."])
        page.get_by_label("Title").fill("<b>bold?</b>")
        page.get_by_label("Body").fill("first body")
        page.get_by_role("button", name="Add note").click()
        expect(items.first).to_contain_text("<b>bold?</b>")
        expect(items.first).to_contain_text("Body: first body")
        page.get_by_label("Title").fill("second")
        page.get_by_label("Pinned").check()
        page.get_by_role("button", name="Add note").click()
        expect(items).to_have_count(2)
        expect(items.first).to_contain_text("second")  # newest first
        expect(items.first).to_contain_text("Pinned: yes")
        page.get_by_role("searchbox", name="Search").fill("BOLD")
        expect(items).to_have_count(1)
        page.get_by_role("searchbox", name="Search").fill("")
        items.filter(has_text="bold?").get_by_role("button", name="Delete").click()
        expect(items).to_have_count(1)
        page.reload()
        expect(items).to_have_count(1)
        expect(items.first).to_contain_text("second")
        assert page.errors == []


DEFAULTS_MANIFEST = {"name": "RSVPs", "auth": {"signup": "open"}, "entities": {"Rsvp": {"fields": {
    "guest": {"type": "string", "required": True}, "answer": {"type": "string", "required": True, "default": "yes"},
    "party": {"type": "integer", "default": 2, "min": 1}, "meal": {"type": "enum", "values": ["fish", "veg"],
                                                                  "default": "veg"}}, "access": "shared"}}}


def test_a_records_form_starts_with_the_fields_defaults_and_saves_them(make_bundle, live, page):
    """A required field with a default does not block the form: it is filled in, and a reset puts it back."""
    body = '<div id="auth"></div><div id="app"></div>'
    script = '<script>aw.ui.authForm("#auth"); aw.ui.records("#app", {total: "party"});</script>'
    with live(make_bundle(DEFAULTS_MANIFEST, {"index.html": blank_page(body).replace("</body>", script + "</body>")})) as srv:
        page.goto(srv.url)
        page.get_by_role("button", name="Create an account").click()
        page.fill("#auth input[name=email]", "ada@example.com")
        page.fill("#auth input[name=password]", PASSWORD)
        page.click("#auth .aw-submit")
        expect(page.get_by_label("Answer")).to_have_value("yes")
        expect(page.get_by_label("Party")).to_have_value("2")
        expect(page.get_by_label("Meal")).to_have_value("veg")
        page.get_by_label("Guest").fill("Olufemi")
        page.get_by_label("Party").fill("3")
        page.get_by_role("button", name="Add rsvp").click()
        for shown in ("Olufemi", "Answer: yes", "Party: 3", "Meal: veg"):
            expect(page.locator("#app li")).to_contain_text(shown)
        expect(page.get_by_label("Party")).to_have_value("2")  # the form is ready for the next one
        expect(page.locator(".aw-records-total")).to_have_text("Total party: 3")
        assert page.errors == []


FORM_MANIFEST = {"name": "Stock", "auth": {"signup": "open"}, "entities": {"Item": {"fields": {
    "name": {"type": "string", "required": True}, "quantity": {"type": "integer", "required": True},
    "price": {"type": "number"}, "bought": {"type": "date"}}, "access": "owner"}}}
FORM_PAGE = blank_page("""<form id="f"><input name="name"><input name="quantity" type="number">
<input name="price"><input name="bought" type="date"><button>Add</button></form><p id="out"></p>""") + """<script>
const form = document.getElementById("f");
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const item = await aw.entities.Item.create({name: form.name.value, quantity: form.quantity.value,
                                              price: form.price.value, bought: form.bought.value});
  document.getElementById("out").textContent = JSON.stringify([item.quantity, item.price, item.bought]);
});
</script>"""


def test_a_form_s_string_values_are_stored_in_the_fields_types(make_bundle, live, page):
    """The SDK's writes take form values as a person typed them: "12" in a whole-number field is 12."""
    with live(make_bundle(FORM_MANIFEST, {"index.html": FORM_PAGE})) as srv:
        open_sdk_page(page, srv.url)
        page.evaluate(f"() => aw.auth.signup('ada@example.com', {PASSWORD!r})")
        page.fill("input[name=name]", "Spare tyres")
        page.fill("input[name=quantity]", "12")
        page.fill("input[name=price]", "49.5")
        page.click("button")
        expect(page.locator("#out")).to_have_text("[12,49.5,null]")
