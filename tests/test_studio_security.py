"""The outside test of the studio (issue 13), attack by attack: each test reproduces a finding as
it was found, and fails if the attack still works.

1. "Sign in as admin" handed the app's admin role to whoever signed up first with the owner's
   studio email, kept their password and sessions, and promoted them when the ticket was issued.
2. A preview page replaced the visitor's studio session (cookie tossing): in real Chromium with a
   page the agent generated (slow), and two cookies of one name in process.
3. 500s on bad input: ids over 2^63 - 1 in every turn and version route, a flag's `version` of
   2^63, a description holding a lone surrogate.
4. No Host check (DNS rebinding): `Host` and `Origin` both `attacker.example:18800` passed.
Minor: a 20 MiB body was read whole; the pre-sign-in CSRF token outlived sign-in; emails with
NUL or look-alike letters; a rating of `true` stored as +1.
And the upgrade: revision 0002 ends every older studio session and takes the admin role from
accounts the old button promoted, in the live data and in data a restore brings back.

The runtime's side of 2 and 4 is in tests/test_security.py; fuzzing in tests/test_studio_fuzz.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time

import pytest
from alembic import command
from alembic.config import Config
from playwright.sync_api import expect
from sqlalchemy import select

from appwright.studio.app import close_studio, create_studio
from appwright.studio.config import StudioConfig
from appwright.studio.db import MIGRATIONS, App, Flag, Person, Rating
from conftest import PASSWORD, free_port, serve_asgi
from test_studio_web import SECOND, Model, Studio, csrf_of, files_reply

XAW = {"X-AW": "1"}
OWNER = "owner@studio.invalid"  # the reserved owner account (studio/preview.py OWNER_EMAIL)


@pytest.fixture
def studio(tmp_path):
    s = Studio(tmp_path)
    yield s
    close_studio(s.app)


def sign_in(studio: Studio, email: str):
    c = studio.client()
    token = csrf_of(c.get("/signin").text)
    assert c.post("/signin", data={"email": email, "password": PASSWORD, "csrf": token}).status_code == 303
    c.headers["X-CSRF-Token"] = csrf_of(c.get("/").text)
    return c


def admin_link(studio: Studio, owner, app_id: str) -> str:
    r = owner.post(f"/api/apps/{app_id}/preview/admin")
    assert r.status_code == 200, r.text
    return r.json()["url"].removeprefix(studio.config.preview_origin)


def in_thread(coro):
    """Run a coroutine on a loop of its own (Playwright may hold one in this thread)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=60)


# 1. The owner's admin account --------------------------------------------------------------------------

def test_1_an_account_registered_with_the_owners_email_never_becomes_admin(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)  # the notes app: open sign-up
    key = studio.app_row(app_id).preview_key
    api = f"/apps/{key}/_aw/api"
    # Ada shared the preview URL for testing; Mallory signs up in the app with Ada's studio email.
    mallory = studio.preview()
    r = mallory.post(f"{api}/auth/signup", json={"email": "ada@example.com", "password": "mallory's password"},
                     headers=XAW)
    assert r.status_code == 201
    assert mallory.post(f"{api}/entities/Note", json={"title": "mallory's note"}, headers=XAW).status_code == 201
    visitor = studio.preview()
    visitor.post(f"{api}/auth/signup", json={"email": "vic@example.com", "password": PASSWORD}, headers=XAW)
    assert visitor.post(f"{api}/entities/Note", json={"title": "vic's private note"}, headers=XAW).status_code == 201

    # Ada clicks "Sign in as admin"; nothing in the app changes until the link is used.
    link = admin_link(studio, ada, app_id)
    assert mallory.get(f"{api}/auth/me").json()["user"]["role"] is None
    owner = studio.preview(follow_redirects=False)
    assert owner.get(link).status_code == 303
    assert owner.get(f"{api}/auth/me").json()["user"] == {**owner.get(f"{api}/auth/me").json()["user"],
                                                          "email": OWNER, "role": "admin"}
    assert len(owner.get(f"{api}/entities/Note").json()["items"]) == 2  # the admin sees every note

    # Mallory, in her old session or signed in afresh with her own password, is no admin.
    again = studio.preview()
    assert again.post(f"{api}/auth/login", json={"email": "ada@example.com", "password": "mallory's password"},
                      headers=XAW).status_code == 200
    for c in (mallory, again):
        assert c.get(f"{api}/auth/me").json()["user"]["role"] is None
        assert c.get(f"{api}/auth/users").status_code == 403
        assert c.post(f"{api}/auth/invites", json={"role": "admin"}, headers=XAW).status_code == 403
        assert [n["title"] for n in c.get(f"{api}/entities/Note").json()["items"]] == ["mallory's note"]
    # and she cannot take the owner account's address either
    r = studio.preview().post(f"{api}/auth/signup", json={"email": OWNER, "password": "mallory's password"},
                              headers=XAW)
    assert r.status_code == 400 and "reserved" in r.json()["error"]


def test_1_each_use_of_a_link_ends_the_owner_accounts_other_sessions(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    api = f"/apps/{studio.app_row(app_id).preview_key}/_aw/api"
    first, second = studio.preview(), studio.preview()
    first.get(admin_link(studio, ada, app_id))
    assert first.get(f"{api}/auth/me").json()["user"]["role"] == "admin"
    second.get(admin_link(studio, ada, app_id))
    assert second.get(f"{api}/auth/me").json()["user"]["role"] == "admin"
    assert first.get(f"{api}/auth/me").status_code == 401  # rotated: the earlier session is over
    # a link is good once, and not after its minute
    link = admin_link(studio, ada, app_id)
    studio.app.state.previews._tickets = {t: (k, time.monotonic() - 1) for t, (k, _) in
                                          studio.app.state.previews._tickets.items()}
    assert studio.preview().get(link).status_code == 403
    assert second.get(f"{api}/auth/me").status_code == 200  # an expired link ended nothing


def downgrade(url: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    command.downgrade(cfg, revision)


def test_upgrade_ends_old_studio_sessions_and_revokes_admins_the_old_button_granted(tmp_path):
    # The studio before the fix: Mallory signed up in Ada's app with Ada's email, and the old
    # button made that account an admin; a later version saved that data.
    old = Studio(tmp_path)
    ada = old.person("ada@example.com")
    app_id, _ = old.new_app(ada)
    key = old.app_row(app_id).preview_key
    api = f"/apps/{key}/_aw/api"
    mallory = old.preview()
    assert mallory.post(f"{api}/auth/signup", json={"email": "ada@example.com", "password": "mallory's password"},
                        headers=XAW).status_code == 201
    store = old.app.state.previews.host.apps[key][0].store
    store.set_role(store.user_by_email("ada@example.com").id, "admin")  # what the old path did
    old.wait(ada, app_id, old.turn(ada, app_id, SECOND))  # v2's data holds that admin
    close_studio(old.app)
    downgrade(old.config.db_url, "0001")  # the log as the old studio left it

    new = Studio(tmp_path)  # migrates to 0002
    try:
        with new.db.session() as s:
            assert s.scalar(select(App.legacy_admin).where(App.id == app_id)) is True
        assert new.client(cookies=ada.cookies).get("/").headers["location"].startswith("/signin")
        store = new.app.state.previews.host.apps[key][0].store
        assert store.user_by_email("ada@example.com").role is None
        carried = new.preview()
        carried.cookies = mallory.cookies
        assert carried.get(f"{api}/auth/me").status_code == 401  # Mallory's sessions ended
        # restoring v1, then v2 (whose data holds the old admin) leaves nobody with that email an admin
        ada = sign_in(new, "ada@example.com")
        v1, v2 = new.versions(app_id)
        for v in (v1, v2):
            assert ada.post(f"/api/apps/{app_id}/versions/{v.id}/restore").status_code == 200
        store = new.app.state.previews.host.apps[key][0].store
        assert store.user_by_email("ada@example.com").role is None
        # new apps are not legacy; the owner's own admin account works as in any app
        other, _ = new.new_app(ada, prompt="another app")
        with new.db.session() as s:
            assert s.scalar(select(App.legacy_admin).where(App.id == other)) is False
        owner = new.preview()
        owner.get(admin_link(new, ada, app_id))
        assert owner.get(f"{api}/auth/me").json()["user"]["role"] == "admin"
    finally:
        close_studio(new.app)


# 2. Cookie tossing ----------------------------------------------------------------------------------------

def test_2_two_studio_cookies_read_as_signed_out(studio):
    ada, mallory = studio.person("ada@example.com"), studio.person("mallory@example.com")
    a, m = ada.cookies["aw_studio"], mallory.cookies["aw_studio"]
    for header in (f"aw_studio={a}; aw_studio={m}", f"aw_studio={m}; aw_studio={a}"):
        c = studio.client()
        assert c.get("/", headers={"Cookie": header}).headers["location"] == "/signin?next=/", header
        r = c.post("/api/apps/0/turns", json={"prompt": "x"},
                   headers={"Cookie": header, "X-CSRF-Token": mallory.headers["X-CSRF-Token"]})
        assert r.status_code in (401, 403), header
    assert ada.get("/").status_code == mallory.get("/").status_code == 200  # control: one cookie each


def _studio_account(studio, email: str):
    """(client, session token) of a person signed up in the studio."""
    c = studio.person(email)
    return c, c.cookies["aw_studio"]


TOSSING_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Cat pictures</title></head>
<body><h1>Cat pictures</h1>
<script>
  // 300 junk cookies push the studio's HttpOnly cookie out of the jar, then Mallory's session goes in.
  for (let i = 0; i < 300; i++) document.cookie = "junk" + i + "=" + "x".repeat(100) + "; path=/";
  document.cookie = "aw_studio=__TOKEN__; path=/";
  document.cookie = "aw_studio=__TOKEN__; path=/; domain=" + location.hostname;
  document.body.dataset.tossed = "yes";
</script>
</body></html>
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_2_a_generated_page_cannot_swap_the_visitors_studio_session_in_chromium(tmp_path, browser):
    model = Model()
    config = StudioConfig(data_dir=tmp_path / "studio", port=free_port(), preview_port=free_port(),
                          check_in_browser=False, grade_in_browser=False)
    studio = create_studio(config, backend_factory=lambda name: model)
    helper = Studio.__new__(Studio)  # the test helpers, on this studio
    helper.app, helper.config, helper.db, helper.model = studio, config, studio.state.db, model
    try:
        with serve_asgi(studio.state.previews, config.preview_port), serve_asgi(studio, config.port) as url:
            # Mallory has the agent build a page that plants her studio session, and shares its preview.
            mallory, token = _studio_account(helper, "mallory@example.com")
            manifest = json.dumps({"name": "Cat pictures", "entities": {}})
            reply = files_reply({"app.json": manifest, "index.html": TOSSING_PAGE.replace("__TOKEN__", token)},
                                "A page of cat pictures.")
            app_id, _ = helper.new_app(mallory, reply, prompt="a page of cat pictures")
            key = helper.app_row(app_id).preview_key
            preview = f"{config.preview_origin}/apps/{key}/"

            def visit_preview(page):
                page.goto(preview)
                expect(page.locator("body[data-tossed=yes]")).to_have_count(1)  # the page did its work
                # document.cookie writes reach the browser's cookie store asynchronously: wait for them
                deadline = time.monotonic() + 15
                while not any(c["name"] == "aw_studio" for c in page.context.cookies(preview)):
                    assert time.monotonic() < deadline, "the page's aw_studio cookie never reached the jar"
                    time.sleep(0.1)

            # a signed-out visitor stays signed out
            context = browser.new_context()
            page = context.new_page()
            visit_preview(page)
            page.goto(url + "/")
            expect(page).to_have_url(f"{url}/signin?next=/")
            assert "mallory" not in page.content()
            context.close()

            # a signed-in visitor stays themself
            context = browser.new_context()
            page = context.new_page()
            page.goto(url + "/signup")
            page.get_by_label("Email").fill("ada@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Create account").click()
            expect(page.get_by_role("heading", name="What do you want to build?")).to_be_visible()
            visit_preview(page)
            page.goto(url + "/")
            expect(page.get_by_text("ada@example.com")).to_be_visible()
            assert "mallory" not in page.content()
            context.close()
    finally:
        close_studio(studio)


# 3. Bad input: a 4xx, never a 500 ----------------------------------------------------------------------

def test_3_huge_ids_and_unstorable_text_get_a_4xx(studio):
    ada = studio.person("ada@example.com")
    app_id, turn_id = studio.new_app(ada)
    c = studio.client(cookies=ada.cookies, raise_server_exceptions=False)
    c.headers["X-CSRF-Token"] = ada.headers["X-CSRF-Token"]
    base = f"/api/apps/{app_id}"
    for big in (2**63 - 1, 2**63, 2**64, 10**30, -1, 0):
        gets = [f"{base}/turns/{big}", f"{base}/turns/{big}/trajectory", f"{base}/turns/{big}/events",
                f"{base}/versions/{big}/grade", f"/apps/{app_id}/versions/{big}/diff"]
        posts = [(f"{base}/turns/{big}/stop", None), (f"{base}/turns/{big}/rating", {"value": 1}),
                 (f"{base}/versions/{big}/restore", None), (f"{base}/flags", {"description": "x", "version": big})]
        for path in gets:
            assert 400 <= c.get(path).status_code < 500, path
        for path, body in posts:
            r = c.post(path, json=body)
            assert 400 <= r.status_code < 500 and r.json()["error"], (path, body, r.text)
    for raw in (b'{"description": "\\ud800"}', b'{"description": "bug", "console_errors": ["\\udfff"]}',
                b'{"description": "bug", "url": "/a\\ud800"}'):
        r = c.post(f"{base}/flags", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400 and "unicode" in r.json()["error"].lower(), raw
    r = c.post(f"{base}/turns", content=b'{"prompt": "make it \\ud83d"}', headers={"content-type": "application/json"})
    assert r.status_code == 400
    with studio.db.session() as s:
        assert s.scalars(select(Flag)).all() == []
    assert c.post(f"{base}/flags", json={"description": "a real bug"}).status_code == 201  # control


# 4. DNS rebinding -----------------------------------------------------------------------------------------

def test_4_requests_for_another_host_name_are_refused(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    key = studio.app_row(app_id).preview_key
    legit = studio.client()
    token = csrf_of(legit.get("/signup").text)
    # the attacker's page, its name now resolving to 127.0.0.1, even holding a valid token
    evil = studio.client(base_url="http://attacker.example:18800", cookies=legit.cookies)
    assert evil.get("/signup").status_code == 400
    r = evil.post("/signup", data={"email": "victim@example.com", "password": PASSWORD, "csrf": token},
                  headers={"Origin": "http://attacker.example:18800"})
    assert r.status_code == 400
    evil_ada = studio.client(base_url="http://attacker.example:18800", cookies=ada.cookies)
    r = evil_ada.post(f"/api/apps/{app_id}/turns", json={"prompt": "x"}, headers={"Origin": "http://attacker.example:18800", "X-CSRF-Token": ada.headers["X-CSRF-Token"]})
    assert r.status_code == 400
    with studio.db.session() as s:
        assert s.scalars(select(Person.email)).all() == ["ada@example.com"]
    # the studio's own origin comes from its settings, not from the Host header
    r = ada.post(f"/api/apps/{app_id}/turns", json={"prompt": "x"}, headers={"Origin": "http://attacker.example:18800"})
    assert r.status_code == 403
    # the preview answers only to its own name
    assert studio.preview(base_url="http://attacker.example:18801").get(f"/apps/{key}/").status_code == 400
    assert studio.preview(base_url=studio.config.studio_origin.replace(str(studio.config.port),
                                                                       str(studio.config.preview_port))
                          ).get(f"/apps/{key}/").status_code == 400  # the studio's name, the preview's port
    assert studio.preview().get(f"/apps/{key}/").status_code == 200  # control


# Minor findings ------------------------------------------------------------------------------------------

def _asgi_post(app, path: str, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, int]:
    """POST to the ASGI app by hand: (status, how many body chunks the app pulled)."""
    pulled = 0
    status = 0

    async def receive():
        nonlocal pulled
        pulled += 1
        if pulled > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8800)}
    in_thread(app(scope, receive, send))
    return status, pulled


def test_minor_a_body_over_1_mib_gets_413_without_being_read_whole(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    host = studio.config.studio_origin.removeprefix("http://")
    headers = {"host": host, "cookie": f"aw_studio={ada.cookies['aw_studio']}",
               "x-csrf-token": ada.headers["X-CSRF-Token"], "content-type": "application/json"}
    chunk = b" " * 65536
    chunks = [b'{"description": "'] + [chunk] * 320 + [b'"}']  # 20 MiB
    status, pulled = _asgi_post(studio.app, f"/api/apps/{app_id}/flags",
                                {**headers, "content-length": str(sum(map(len, chunks)))}, chunks)
    assert (status, pulled) == (413, 0)  # refused on its Content-Length, nothing read
    status, pulled = _asgi_post(studio.app, f"/api/apps/{app_id}/flags", headers, chunks)  # chunked
    assert status == 413 and pulled <= 1024 * 1024 // len(chunk) + 2
    r = ada.post(f"/api/apps/{app_id}/flags", content=b"x" * (2 * 1024 * 1024),
                 headers={"content-type": "application/json"})
    assert r.status_code == 413 and "over 1,048,576 bytes" in r.json()["error"]
    assert ada.post(f"/api/apps/{app_id}/flags", json={"description": "y" * 1000}).status_code == 201  # control


def test_minor_the_pre_sign_in_csrf_token_dies_at_sign_in(studio):
    studio.person("ada@example.com")
    c = studio.client()
    pre = csrf_of(c.get("/signin").text)
    assert c.post("/signin", data={"email": "ada@example.com", "password": PASSWORD, "csrf": pre}).status_code == 303
    assert c.post("/signout", data={"csrf": pre}).status_code == 403
    assert c.post("/apps", data={"prompt": "notes", "csrf": pre}).status_code == 403
    assert c.post("/api/apps/0/turns", json={"prompt": "x"}, headers={"X-CSRF-Token": pre}).status_code == 403
    assert c.post("/signout", data={"csrf": csrf_of(c.get("/").text)}).status_code == 303  # the session's works


@pytest.mark.parametrize("email", ["ada\x00@example.com", "\u0430da@example.com", "ada@ex\u0430mple.com",
                                   "ada@example.com\x00", "owner@studio.invalid"])
def test_minor_emails_with_nul_or_look_alike_letters_are_refused(studio, email):
    c = studio.client()
    token = csrf_of(c.get("/signup").text)
    r = c.post("/signup", data={"email": email, "password": PASSWORD, "csrf": token})
    assert r.status_code == 400 and "email" in r.text
    with studio.db.session() as s:
        assert s.scalars(select(Person)).all() == []


def test_minor_a_rating_must_be_exactly_1_or_minus_1(studio):
    ada = studio.person("ada@example.com")
    app_id, turn_id = studio.new_app(ada)
    for value in (True, False, 1.0, "1", 0, 2, None):
        r = ada.post(f"/api/apps/{app_id}/turns/{turn_id}/rating", json={"value": value})
        assert r.status_code == 400 and "value" in r.json()["error"], value
    with studio.db.session() as s:
        assert s.scalars(select(Rating)).all() == []
    assert ada.post(f"/api/apps/{app_id}/turns/{turn_id}/rating", json={"value": -1}).status_code == 200
