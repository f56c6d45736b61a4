"""appwright/runtime/app.py `Host`: many apps in one process, each under /apps/{app_id}/.

Apps on one host must not share users, data or sessions, and each app's pages and
SDK must work under its own path.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import httpx
import pytest
from conftest import PASSWORD

from appwright.runtime.app import Host, create_app
from appwright.runtime.manifest import ManifestError

NOTES = {"name": "Notes", "entities": {"Note": {"fields": {"title": {"type": "string"}}}}}
TASKS = {"name": "Tasks", "entities": {"Task": {"fields": {"title": {"type": "string"}}}, "Note": {
    "fields": {"title": {"type": "string"}}, "access": "shared"}}}


@pytest.fixture
def host(make_bundle):
    h = Host()
    h.add("a", make_bundle(NOTES, {"index.html": "<h1>app a</h1>", "about.html": "about a"}, name="a"))
    h.add("b", make_bundle(TASKS, {"index.html": "<h1>app b</h1>"}, name="b"))
    yield h
    for app_id in list(h.apps):
        h.remove(app_id)


def signup(c: httpx.Client, base: str, email: str = "ada@example.com") -> httpx.Response:
    return c.post(f"{base}/_aw/api/auth/signup", json={"email": email, "password": PASSWORD})


def test_each_app_has_its_own_users_and_data(host, live):
    with live(host) as s:
        c = s.client()
        r = signup(c, "/apps/a")
        assert r.status_code == 201
        note = c.post("/apps/a/_aw/api/entities/Note", json={"title": "in a"}).json()

        other = s.client()
        r = other.post("/apps/b/_aw/api/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        assert r.status_code == 401  # a user of a is unknown to b
        assert signup(other, "/apps/b").status_code == 201  # and the email is free there
        assert other.get("/apps/b/_aw/api/entities/Note").json()["items"] == []
        assert other.get(f"/apps/b/_aw/api/entities/Note/{note['id']}").status_code == 404
        r = other.get("/apps/b/_aw/api/entities/Nope")
        assert r.status_code == 404 and "Task" in r.json()["error"]
        assert c.get("/apps/a/_aw/api/entities/Task").status_code == 404
        assert host.apps["a"][0].store.path != host.apps["b"][0].store.path


def test_session_cookies_are_scoped_to_their_app(host, live):
    with live(host) as s:
        c = s.client()
        r = signup(c, "/apps/a")
        attrs = [p.strip().lower() for p in r.headers["set-cookie"].split(";")]
        assert "path=/apps/a/" in attrs and "httponly" in attrs and "samesite=lax" in attrs
        assert c.get("/apps/a/_aw/api/auth/me").status_code == 200
        # The same browser is signed out in b: the cookie is never sent there.
        assert c.get("/apps/b/_aw/api/auth/me").status_code == 401
        assert c.get("/apps/b/_aw/api/auth/session").json() == {"user": None}
        # Even a cookie copied by hand names no session in b.
        with s.client(cookies={"aw_session": c.cookies["aw_session"]}) as forged:
            assert forged.get("/apps/b/_aw/api/auth/me").status_code == 401
        r = c.post("/apps/a/_aw/api/auth/logout")
        assert r.status_code == 204 and "path=/apps/a/" in r.headers["set-cookie"].lower()
        assert c.get("/apps/a/_aw/api/auth/me").status_code == 401


def test_app_paths_pages_and_listing(host, live):
    with live(host) as s:
        c = s.client()
        r = c.get("/apps/a")
        assert r.status_code in (301, 307, 308) and r.headers["location"].endswith("/apps/a/")
        r = c.get("/apps/a", follow_redirects=True)
        assert r.status_code == 200 and "app a" in r.text
        assert "about a" in c.get("/apps/a/about.html").text
        assert "app b" in c.get("/apps/b/").text
        assert c.get("/apps/b/about.html").status_code == 404
        assert c.get("/apps/zzz/").status_code == 404
        assert c.get("/apps/zzz").status_code == 404
        assert c.get("/elsewhere").status_code == 404
        assert c.get("/").json() == {"apps": {"a": {"name": "Notes", "path": "/apps/a/"},
                                              "b": {"name": "Tasks", "path": "/apps/b/"}}}


def test_app_data_is_never_served(host, live):
    with live(host) as s:
        c = s.client()
        signup(c, "/apps/a")
        for path in ("/apps/a/.aw/app.db", "/apps/a/.aw/", "/apps/a/app.db", "/apps/a/%2Eaw/app.db"):
            r = c.get(path)
            assert r.status_code == 404, path
            assert b"SQLite" not in r.content


def test_state_changes_need_x_aw_under_a_host(host, live):
    with live(host) as s:
        with s.client(xaw=False) as c:
            r = signup(c, "/apps/a")
            assert r.status_code == 403 and r.json()["code"] == "missing_header"
            assert c.post("/apps/zzz/_aw/api/auth/signup", json={}).status_code in (403, 404)


def test_sdk_has_the_app_base_path_baked_in(host, live, make_bundle):
    with live(host) as s:
        c = s.client()
        for app_id in ("a", "b"):
            r = c.get(f"/apps/{app_id}/_aw/sdk.js")
            assert r.status_code == 200 and "javascript" in r.headers["content-type"]
            assert f'var BASE = "/apps/{app_id}";' in r.text
            assert "__AW_BASE__" not in r.text
    with live(make_bundle(NOTES)) as single:
        assert 'var BASE = "";' in single.client().get("/_aw/sdk.js").text


def test_a_page_written_as_the_docs_say_gets_its_apps_sdk_under_a_host(host, live, make_bundle):
    # The docs tell every page to load <script src="/_aw/sdk.js"></script>. Under a host the page
    # lives at /apps/d/, so a browser asks the host root for /_aw/sdk.js (sending the page as Referer).
    host.add("d", make_bundle(NOTES, name="d"))  # make_bundle's index.html loads "/_aw/sdk.js"
    with live(host) as s:
        c = s.client()
        page_url = f"{s.url}/apps/d/"
        (src,) = re.findall(r'<script src="([^"]+)"', c.get(page_url).text)
        assert src == "/_aw/sdk.js"
        r = c.get(urljoin(page_url, src), headers={"Referer": page_url})
        assert r.status_code == 200, f"the page's SDK is {r.status_code} at {urljoin(page_url, src)}"
        assert "javascript" in r.headers["content-type"] and "__AW_BASE__" not in r.text
        # (Which app's API it then calls is for the browser tests: the base may be found in the page.)


def test_apps_can_be_added_and_removed_while_serving(host, live, make_bundle):
    with live(host) as s:
        c = s.client()
        assert signup(c, "/apps/b", "bea@example.com").status_code == 201
        assert c.get("/apps/c/").status_code == 404

        host.add("c", make_bundle(NOTES, {"index.html": "<h1>app c</h1>"}, name="c"))
        assert "app c" in c.get("/apps/c/").text
        assert c.get("/apps/c/_aw/api/app").json()["entities"] == ["Note"]
        assert set(c.get("/").json()["apps"]) == {"a", "b", "c"}

        b_bundle = host.apps["b"][0].bundle
        host.remove("b")
        assert c.get("/apps/b/").status_code == 404
        assert c.get("/apps/b/_aw/api/auth/me").status_code == 404
        assert set(c.get("/").json()["apps"]) == {"a", "c"}
        host.remove("b")  # removing twice is harmless

        host.add("b", b_bundle)  # back again, with its data
        r = c.post("/apps/b/_aw/api/auth/login", json={"email": "bea@example.com", "password": PASSWORD})
        assert r.status_code == 200


def test_adding_a_bad_app(host, make_bundle):
    with pytest.raises(ValueError):
        host.add("x/y", make_bundle(NOTES))
    with pytest.raises(ManifestError):
        host.add("a", make_bundle({"name": "x", "entities": {"N": {"fields": {"t": {"type": "str"}}}}}))
    assert host.apps["a"][0].manifest.name == "Notes"  # the old app a is still served


def test_single_app_cookie_path_is_root(live, make_bundle):
    with live(make_bundle(NOTES)) as s:
        r = signup(s.client(), "")
        assert "path=/" in [p.strip().lower() for p in r.headers["set-cookie"].split(";")]


def test_create_app_rejects_an_invalid_bundle(make_bundle):
    with pytest.raises(ManifestError) as info:
        create_app(make_bundle({"name": "x", "entities": {"N": {"fields": {"t": {"type": "str"}}}}}))
    assert "entities.N.fields.t.type" in str(info.value)
