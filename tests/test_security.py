"""Attacks on the runtime: each test tries one and fails if the attack works.

    .venv/bin/python -m pytest -q tests/test_security.py            # all, browser ones included
    .venv/bin/python -m pytest -q tests/test_security.py -m "not slow"

Every attack is paired with the legitimate action it imitates (the owner can read
the note B may not; the right header makes the write B's forged one could not), so
a test cannot pass because nothing works at all. Servers are real uvicorn on
127.0.0.1 (the `live` fixture); the browser tests use Debian's Chromium.

Users are mostly made straight in the app's store with one precomputed Argon2 hash
and a fresh session (`Site.member`): an Argon2 hash costs ~0.3 s on a small CI
machine. The tests about signup, login and passwords go through the real routes.

What this file does not cover: the host's own TLS, a reverse proxy's headers
beyond X-Forwarded-Proto, and denial of service beyond sign-in throttling.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import functools
import hashlib
import json
import secrets
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from appwright.runtime import auth
from appwright.runtime.app import Host, ServedApp, create_app
from appwright.runtime.csp import POLICY, page_policy

from conftest import PASSWORD, Live, serve_asgi

API = "/_aw/api"
ENT = f"{API}/entities"
COOKIE = "aw_session"

MANIFEST = {
    "name": "Security probe",
    "auth": {"signup": "open", "roles": ["editor"]},
    "entities": {
        "Note": {"fields": {"title": {"type": "string", "required": True}, "body": {"type": "text"}},
                 "access": "owner"},
        "Post": {"fields": {"title": {"type": "string", "required": True}}, "access": "shared"},
        "Entry": {"fields": {"title": {"type": "string", "required": True}}, "access": "public_read"},
        "Lead": {"fields": {"email": {"type": "string", "required": True}, "message": {"type": "text"}},
                 "access": "submit_only"},
        # create falls back to the safe default (signed_in); nobody deletes, not even admins
        "Wiki": {"fields": {"title": {"type": "string"}},
                 "access": {"read": "public", "update": ["owner", "editor"], "delete": "nobody"}},
        "Memo": {"fields": {"title": {"type": "string"}},
                 "access": {"read": ["editor"], "create": "editor", "update": "editor", "delete": ["editor"]}},
        "Comment": {"fields": {"text": {"type": "string"}, "note": {"type": "ref", "entity": "Note"}},
                    "access": "owner"},
    },
}


@functools.cache
def password_hash() -> str:
    return auth.hash_password(PASSWORD)


# -- helpers ------------------------------------------------------------------------------
@dataclass
class Who:
    client: httpx.Client
    id: str | None
    email: str | None
    token: str | None

    def __getattr__(self, name):  # who.get(...), who.post(...): the client's methods
        return getattr(self.client, name)


@dataclass
class Site:
    """A live server plus quick ways to be somebody on it."""
    url: str
    live: object
    clients: list = field(default_factory=list)

    @property
    def store(self):
        return self.live.served.store

    def client(self, token: str | None = None, xaw: bool = True, **headers) -> httpx.Client:
        if xaw:
            headers.setdefault("X-AW", "1")
        if token:
            headers["Cookie"] = f"{COOKIE}={token}"
        c = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(c)
        return c

    def anon(self, xaw: bool = True) -> Who:
        return Who(self.client(xaw=xaw), None, None, None)

    def member(self, email: str | None = None, role: str | None = None) -> Who:
        """A user made in the store (one shared Argon2 hash of PASSWORD) with a live session."""
        email = email or f"{uuid.uuid4().hex[:10]}@example.com"
        user = self.store.create_user(email, password_hash(), role=role)
        token = self.store.create_session(user.id)
        return Who(self.client(token), user.id, email, token)

    def close(self):
        for c in self.clients:
            c.close()


@pytest.fixture
def site(make_bundle, live):
    with live(make_bundle(MANIFEST)) as srv:
        s = Site(srv.url, srv)
        yield s
        s.close()


def create(who, entity: str, **values) -> dict:
    r = who.post(f"{ENT}/{entity}", json=values)
    assert r.status_code == 201, r.text
    return r.json()


def items(who, entity: str, **params) -> list[dict]:
    if "where" in params:
        params["where"] = json.dumps(params["where"])
    r = who.get(f"{ENT}/{entity}", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def cookie_of(response: httpx.Response) -> str:
    """The session token a response set."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == COOKIE:
            return rest.split(";")[0]
    raise AssertionError(f"no {COOKIE} cookie in {response.headers.get_list('set-cookie')}")


def set_cookie_attrs(response: httpx.Response) -> set[str]:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(COOKIE + "="):
            return {part.strip().lower() for part in header.split(";")[1:]}
    raise AssertionError("no session cookie set")


def raw_get(url: str, target: str, cookie: str | None = None) -> tuple[int, bytes]:
    """GET with the request target sent byte for byte (httpx would normalise `..` away)."""
    parts = urlsplit(url)
    head = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
    if cookie:
        head += f"Cookie: {COOKIE}={cookie}\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall((head + "\r\n").encode("latin-1"))
        data = b""
        while len(data) < 10_000_000:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status_line, _, _ = data.partition(b"\r\n")
    return int(status_line.split(b" ")[1]), data


def db_rows(site, sql: str) -> list[tuple]:
    """Rows straight from the app's SQLite file (what someone with a copy of it would see)."""
    with contextlib.closing(sqlite3.connect(site.store.path)) as db:
        return db.execute(sql).fetchall()


def without(text: str, *ids: str) -> str:
    for i in ids:
        text = text.replace(i, "ID")
    return text


def parallel(n: int, fn) -> list:
    """Run fn(i) for i in range(n) in threads released together; return their results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait(timeout=20)
        try:
            results[i] = fn(i)
        except Exception as exc:  # reported by the caller's assertion
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


# == 1. Anonymous callers ===================================================================
@pytest.mark.parametrize("entity", ["Note", "Post", "Memo"])
def test_anonymous_cannot_read_or_write_private_entities(site, entity):
    owner = site.member(role="editor")  # editors may use Memo; Note and Post need no role
    rec = create(owner, entity, title="private title 7f3a")
    anon = site.anon()
    path = f"{ENT}/{entity}/{rec['id']}"

    r = anon.get(f"{ENT}/{entity}")
    assert r.status_code == 401 and "7f3a" not in r.text
    r = anon.get(path)
    assert r.status_code == 404 and "7f3a" not in r.text
    assert anon.post(f"{ENT}/{entity}", json={"title": "anon wrote"}).status_code == 401
    assert anon.patch(path, json={"title": "anon changed"}).status_code in (401, 404)
    assert anon.delete(path).status_code in (401, 404)

    # the owner still sees exactly their record, unchanged
    mine = items(owner, entity)
    assert [m["id"] for m in mine] == [rec["id"]]
    assert mine[0]["title"] == "private title 7f3a" and mine[0]["updated_at"] == rec["updated_at"]


def test_submit_only_anyone_submits_only_admins_read(site):
    anon, user, admin = site.anon(), site.member(), site.member(role="admin")
    lead = create(anon, "Lead", email="lead@example.com", message="call me")  # legit: anyone submits
    own = create(user, "Lead", email="user@example.com")
    path = f"{ENT}/Lead/{lead['id']}"

    assert anon.get(f"{ENT}/Lead").status_code == 401
    assert user.get(f"{ENT}/Lead").status_code == 403
    for who in (anon, user):
        assert who.get(path).status_code == 404
        assert who.patch(path, json={"message": "changed"}).status_code == 404
        assert who.delete(path).status_code == 404
        # even the submitter cannot read back or change their own submission
        assert who.get(f"{ENT}/Lead/{own['id']}").status_code == 404
    assert {x["id"] for x in items(admin, "Lead")} == {lead["id"], own["id"]}
    assert admin.get(path).json()["message"] == "call me"


def test_public_read_anyone_reads_only_owner_writes(site):
    a, b, anon = site.member(), site.member(), site.anon()
    rec = create(a, "Entry", title="hello")
    path = f"{ENT}/Entry/{rec['id']}"
    assert anon.get(path).status_code == 200 and items(anon, "Entry")[0]["id"] == rec["id"]
    assert anon.post(f"{ENT}/Entry", json={"title": "anon"}).status_code == 401
    assert anon.patch(path, json={"title": "x"}).status_code == 401
    assert anon.delete(path).status_code == 401
    assert b.patch(path, json={"title": "x"}).status_code == 403
    assert b.delete(path).status_code == 403
    assert a.get(path).json()["title"] == "hello"


def test_per_operation_map_and_custom_role(site):
    a, b, editor, admin, anon = (site.member(), site.member(), site.member(role="editor"),
                                 site.member(role="admin"), site.anon())
    # Wiki: read public, create (left out) = signed_in, update owner|editor, delete nobody
    assert anon.post(f"{ENT}/Wiki", json={"title": "anon"}).status_code == 401
    page = create(a, "Wiki", title="v1")
    path = f"{ENT}/Wiki/{page['id']}"
    assert anon.get(path).status_code == 200
    assert b.patch(path, json={"title": "vandal"}).status_code == 403
    assert editor.patch(path, json={"title": "v2"}).status_code == 200  # legit: the role may
    for who in (a, b, editor, admin, anon):
        assert who.delete(path).status_code in (401, 403)
    assert a.get(path).json()["title"] == "v2"

    # Memo: only editors (and admins) do anything
    memo = create(editor, "Memo", title="editor memo")
    assert b.get(f"{ENT}/Memo").status_code == 403
    assert b.post(f"{ENT}/Memo", json={"title": "x"}).status_code == 403
    assert b.get(f"{ENT}/Memo/{memo['id']}").status_code == 404
    assert b.patch(f"{ENT}/Memo/{memo['id']}", json={"title": "x"}).status_code == 404
    assert [m["title"] for m in items(admin, "Memo")] == ["editor memo"]


# == 2. One user against another =============================================================
def test_owner_preset_isolates_users(site):
    a, b = site.member(), site.member()
    note = create(a, "Note", title="A's secret", body="diary")
    create(b, "Note", title="B's own")
    path = f"{ENT}/Note/{note['id']}"
    missing = f"{ENT}/Note/{uuid.uuid4().hex}"

    # reading: 404 exactly like a record that does not exist (no existence oracle)
    r_real, r_missing = b.get(path), b.get(missing)
    assert r_real.status_code == r_missing.status_code == 404
    assert without(r_real.text, note["id"]) == without(r_missing.text, missing.rsplit("/", 1)[1])
    assert "secret" not in r_real.text
    assert [n["title"] for n in items(b, "Note")] == ["B's own"]

    # writing
    for r in (b.patch(path, json={"title": "B was here"}), b.delete(path)):
        assert r.status_code == 404, r.text
    r = b.patch(path, json={"title": "B was here"})
    assert without(r.text, note["id"]) == without(b.patch(missing, json={"title": "x"}).text,
                                                   missing.rsplit("/", 1)[1])

    # verified by A: unchanged and still there
    assert a.get(path).json() == note


def test_shared_preset_others_read_but_cannot_write(site):
    a, b = site.member(), site.member()
    post = create(a, "Post", title="team post")
    path = f"{ENT}/Post/{post['id']}"
    assert b.get(path).json()["title"] == "team post"  # legit under shared
    assert {p["id"] for p in items(b, "Post")} == {post["id"]}
    assert b.patch(path, json={"title": "B was here"}).status_code == 403
    assert b.delete(path).status_code == 403
    assert a.get(path).json() == post
    assert a.patch(path, json={"title": "edited"}).status_code == 200  # the owner may


def test_admin_reads_and_changes_all_under_owner_preset(site):
    a, admin = site.member(), site.member(role="admin")
    note = create(a, "Note", title="n")
    assert admin.get(f"{ENT}/Note/{note['id']}").status_code == 200
    assert admin.patch(f"{ENT}/Note/{note['id']}", json={"title": "moderated"}).status_code == 200


# == 3. Spoofing system fields, widening lists ===============================================
@pytest.mark.parametrize("key", ["owner", "id", "created_at", "updated_at"])
def test_system_fields_cannot_be_set_on_create(site, key):
    a, b = site.member(), site.member()
    value = {"owner": a.id, "id": "chosen-id", "created_at": "2000-01-01T00:00:00Z",
             "updated_at": "2000-01-01T00:00:00Z"}[key]
    r = b.post(f"{ENT}/Note", json={"title": "spoof", key: value})
    assert r.status_code == 400, r.text
    assert key in r.json()["error"]
    assert items(a, "Note") == [] and items(b, "Note") == []
    assert b.get(f"{ENT}/Note/chosen-id").status_code == 404


def test_owner_null_cannot_be_claimed_on_create(site):
    b = site.member()
    r = b.post(f"{ENT}/Entry", json={"title": "orphan", "owner": None})
    assert r.status_code == 400
    assert items(b, "Entry") == []


@pytest.mark.parametrize("key", ["owner", "id", "created_at", "updated_at"])
def test_system_fields_cannot_be_changed_on_update(site, key):
    a, b = site.member(), site.member()
    note = create(b, "Note", title="b's note")
    path = f"{ENT}/Note/{note['id']}"
    value = {"owner": a.id, "id": uuid.uuid4().hex, "created_at": "2000-01-01T00:00:00Z",
             "updated_at": "2999-01-01T00:00:00Z"}[key]
    r = b.patch(path, json={"title": "moved", key: value})
    assert r.status_code == 400, r.text
    assert b.get(path).json() == note  # nothing applied, not even the title
    assert items(a, "Note") == []
    # legit: a page may send a fetched record back unchanged
    r = b.patch(path, json={**note, "title": "renamed"})
    assert r.status_code == 200 and r.json()["owner"] == b.id and r.json()["id"] == note["id"]


def test_where_cannot_widen_owner_scope(site):
    a, b = site.member(), site.member()
    na = create(a, "Note", title="alpha")
    nb = create(b, "Note", title="beta")
    for where in ({"owner": a.id}, {"owner": {"ne": b.id}}, {"owner": None}, {"id": na["id"]},
                  {"title": "alpha"}, {"title": {"contains": ""}}, {"owner": {"gte": ""}},
                  {"created_at": {"gt": ""}}):
        got = items(b, "Note", where=where)
        assert all(n["owner"] == b.id for n in got), (where, got)
    assert [n["id"] for n in items(b, "Note", where={"title": {"contains": "e"}})] == [nb["id"]]
    assert [n["id"] for n in items(a, "Note", where={"owner": a.id})] == [na["id"]]  # legit filter


def test_forged_cursors_and_sorts_cannot_reveal_others_records(site):
    a, b = site.member(), site.member()
    for i in range(3):
        create(a, "Note", title=f"a{i}")
    create(b, "Note", title="b0")
    # a real cursor from A's own paging, replayed by B
    first = a.get(f"{ENT}/Note", params={"limit": 1}).json()
    assert first["next"]
    got = b.get(f"{ENT}/Note", params={"limit": 50, "cursor": first["next"]})
    assert got.status_code in (200, 400)
    if got.status_code == 200:
        assert all(n["owner"] == b.id for n in got.json()["items"])

    seen = 0
    for sort in ("-created_at", "created_at", "id", "-id", "owner", "-owner", "title", "-updated_at"):
        for value in (None, "", "~~~~", "0", "9999-12-31T00:00:00Z", 0, -1e18):
            for rid in ("", "0" * 32, "f" * 32, "~"):
                raw = json.dumps([sort, value, rid]).encode()
                cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
                r = b.get(f"{ENT}/Note", params={"sort": sort, "cursor": cursor, "limit": 200})
                assert r.status_code in (200, 400), r.text
                if r.status_code == 200:
                    seen += 1
                    assert all(n["owner"] == b.id for n in r.json()["items"]), (sort, value, rid)
    assert seen  # the forged cursors were accepted as cursors; the scope still held


def test_refs_cannot_point_at_records_the_writer_cannot_read(site):
    a, b = site.member(), site.member()
    secret = create(a, "Note", title="a's")
    own = create(b, "Note", title="b's")
    missing = uuid.uuid4().hex

    r_secret = b.post(f"{ENT}/Comment", json={"text": "x", "note": secret["id"]})
    r_missing = b.post(f"{ENT}/Comment", json={"text": "x", "note": missing})
    assert r_secret.status_code == r_missing.status_code == 400
    assert without(r_secret.text, secret["id"]) == without(r_missing.text, missing)

    mine = create(b, "Comment", text="ok", note=own["id"])  # legit
    r = b.patch(f"{ENT}/Comment/{mine['id']}", json={"note": secret["id"]})
    assert r.status_code == 400
    assert b.get(f"{ENT}/Comment/{mine['id']}").json()["note"] == own["id"]
    assert create(a, "Comment", text="mine", note=secret["id"])["note"] == secret["id"]


# == 4. Signup rules ========================================================================
def gate_site(make_bundle, live, signup: str):
    manifest = {**MANIFEST, "auth": {"signup": signup, "roles": ["editor"]}}
    return live(make_bundle(manifest))


def signup(who, email, password=PASSWORD, **extra):
    return who.post(f"{API}/auth/signup", json={"email": email, "password": password, **extra})


def user_emails(site) -> set[str]:
    return {u.email for u in site.store.list_users()}


@pytest.fixture
def invite_site(make_bundle, live):
    with gate_site(make_bundle, live, "invite") as srv:
        s = Site(srv.url, srv)
        yield s
        s.close()


@pytest.fixture
def closed_site(make_bundle, live):
    with gate_site(make_bundle, live, "closed") as srv:
        s = Site(srv.url, srv)
        yield s
        s.close()


def test_invite_app_refuses_signup_without_a_good_code(invite_site):
    site = invite_site
    admin, anon = site.member(role="admin"), site.anon()
    before = user_emails(site)
    assert signup(anon, "nocode@example.com").status_code == 403
    assert signup(anon, "empty@example.com", invite="").status_code == 403
    assert signup(anon, "wrong@example.com", invite="not-a-code").status_code == 403
    assert signup(anon, "typed@example.com", invite=123).status_code in (400, 403)
    assert user_emails(site) == before

    code = admin.post(f"{API}/auth/invites", json={}).json()["code"]
    # a role in the body is refused outright, and the code is not spent by the attempt
    r = signup(anon, "climber@example.com", invite=code, role="admin")
    assert r.status_code == 400 and "role" in r.json()["error"]
    assert "climber@example.com" not in user_emails(site)

    r = signup(site.anon(), "invited@example.com", invite=code)  # legit
    assert r.status_code == 201 and r.json()["user"]["role"] is None
    r = signup(site.anon(), "second@example.com", invite=code)  # used code
    assert r.status_code == 403
    assert user_emails(site) == before | {"invited@example.com"}


def test_invite_role_comes_from_the_admin_not_the_client(invite_site):
    site = invite_site
    admin = site.member(role="admin")
    code = admin.post(f"{API}/auth/invites", json={"role": "editor"}).json()["code"]
    r = signup(site.anon(), "ed@example.com", invite=code)
    assert r.status_code == 201 and r.json()["user"]["role"] == "editor"
    user = site.member()
    assert user.post(f"{API}/auth/invites", json={"role": "admin"}).status_code == 403


@pytest.mark.parametrize("who", ["anon", "user", "editor"])
def test_user_admin_routes_need_an_admin(invite_site, who):
    site = invite_site
    caller = {"anon": site.anon, "user": site.member,
              "editor": lambda: site.member(role="editor")}[who]()
    expected = 401 if who == "anon" else 403
    before = user_emails(site)
    for body in ({"email": "made@example.com", "password": PASSWORD},
                 {"email": "made2@example.com", "password": PASSWORD, "role": "admin"}):
        assert caller.post(f"{API}/auth/users", json=body).status_code == expected
    assert caller.get(f"{API}/auth/users").status_code == expected
    assert caller.post(f"{API}/auth/invites", json={}).status_code == expected
    assert caller.post(f"{API}/auth/invites", json={"role": "admin"}).status_code == expected
    assert user_emails(site) == before
    assert db_rows(site, "select count(*) from invites") == [(0,)]
    # legit: an admin may do all of it
    admin = site.member(role="admin")
    assert admin.post(f"{API}/auth/users", json={"email": "made@example.com", "password": PASSWORD,
                                                 "role": "editor"}).status_code == 201
    assert admin.get(f"{API}/auth/users").status_code == 200


def test_closed_app_refuses_every_self_signup(closed_site):
    site = closed_site
    admin, anon = site.member(role="admin"), site.anon()
    signed_in = site.member()
    code = admin.post(f"{API}/auth/invites", json={}).json()["code"]
    before = user_emails(site)
    assert signup(anon, "a@example.com").status_code == 403
    assert signup(anon, "b@example.com", invite=code).status_code == 403
    assert signup(anon, "c@example.com", invite=code, role="admin").status_code in (400, 403)
    assert signup(signed_in, "d@example.com").status_code == 403  # signed in changes nothing
    assert user_emails(site) == before
    r = admin.post(f"{API}/auth/users", json={"email": "added@example.com", "password": PASSWORD})
    assert r.status_code == 201  # legit: admins add users
    r = site.anon().post(f"{API}/auth/login", json={"email": "added@example.com", "password": PASSWORD})
    assert r.status_code == 200


@pytest.mark.parametrize("rule", ["invite", "closed", "open"])
def test_login_never_creates_users(make_bundle, live, rule):
    with gate_site(make_bundle, live, rule) as srv:
        site = Site(srv.url, srv)
        r = site.anon().post(f"{API}/auth/login", json={"email": "ghost@example.com", "password": PASSWORD})
        assert r.status_code == 401
        assert COOKIE not in r.headers.get("set-cookie", "")
        assert "ghost@example.com" not in user_emails(site)
        site.close()


def test_an_invite_cannot_be_spent_twice_concurrently(invite_site):
    site = invite_site
    admin = site.member(role="admin")
    for round_ in range(3):
        code = admin.post(f"{API}/auth/invites", json={}).json()["code"]
        emails = [f"race{round_}-{i}@example.com" for i in range(2)]
        results = parallel(2, lambda i: signup(site.anon(), emails[i], invite=code))
        codes = sorted(getattr(r, "status_code", repr(r)) for r in results)
        assert codes == [201, 403], (round_, [getattr(r, "text", r) for r in results])
        assert len(user_emails(site) & set(emails)) == 1


def test_concurrent_signups_with_one_email_make_one_user(site, monkeypatch):
    """Two people (or one double click) signing up with the same email at once: one account,
    409 for the others, never a 500 from the database's unique constraint. Hashing is made
    instant here so the requests reach the database together, as they do on a fast machine."""
    monkeypatch.setattr(auth, "hash_password", lambda password: password_hash())
    for round_ in range(5):
        email = f"same{round_}@example.com"
        results = parallel(8, lambda i: signup(site.anon(), email))
        codes = sorted(getattr(r, "status_code", repr(r)) for r in results)
        assert codes == [201] + [409] * 7, (email, codes)
        assert sum(u.email == email for u in site.store.list_users()) == 1


# == 5. The X-AW rule =======================================================================
@pytest.mark.parametrize("header", [None, "0", "true", "", "yes", "11", "1.0"])
def test_state_changes_need_the_x_aw_header(site, header):
    a, admin = site.member(), site.member(role="admin")
    note = create(a, "Note", title="keep me")
    path = f"{ENT}/Note/{note['id']}"
    extra = {} if header is None else {"X-AW": header}
    forged_a = site.client(a.token, xaw=False, **extra)
    forged_admin = site.client(admin.token, xaw=False, **extra)
    forged_anon = site.client(xaw=False, **extra)
    attempts = [
        (forged_anon, "POST", f"{API}/auth/signup", {"email": "csrf@example.com", "password": PASSWORD}),
        (forged_anon, "POST", f"{API}/auth/login", {"email": a.email, "password": PASSWORD}),
        (forged_a, "POST", f"{API}/auth/logout", None),
        (forged_admin, "POST", f"{API}/auth/invites", {"role": "admin"}),
        (forged_admin, "POST", f"{API}/auth/users", {"email": "csrf2@example.com", "password": PASSWORD,
                                                     "role": "admin"}),
        (forged_a, "POST", f"{ENT}/Note", {"title": "forged"}),
        (forged_anon, "POST", f"{ENT}/Lead", {"email": "forged@example.com"}),
        (forged_a, "PATCH", path, {"title": "forged"}),
        (forged_a, "DELETE", path, None),
        (forged_a, "PUT", path, {"title": "forged"}),
    ]
    for client, method, url, body in attempts:
        r = client.request(method, url, json=body)
        assert r.status_code == 403, (method, url, r.status_code, r.text)
        assert r.json()["code"] == "missing_header"
        assert COOKIE not in r.headers.get("set-cookie", "")

    # nothing changed: same record, session alive, no users, invites or leads made
    assert a.get(path).json() == note
    assert a.get(f"{API}/auth/me").status_code == 200
    assert items(a, "Note") == [note]
    assert {"csrf@example.com", "csrf2@example.com"}.isdisjoint(user_emails(site))
    assert db_rows(site, "select count(*) from invites") == [(0,)]
    assert items(admin, "Lead") == []

    # legit: the same requests with the header work
    assert a.patch(path, json={"title": "changed"}).status_code == 200
    assert admin.post(f"{API}/auth/invites", json={}).status_code == 201
    assert a.delete(path).status_code == 204


def test_cross_site_preflight_is_not_granted(site):
    r = site.anon(xaw=False).request("OPTIONS", f"{ENT}/Note", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-aw, content-type"})
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-headers" not in r.headers
    r = site.anon().get(f"{API}/app", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


# == 6. Passwords, cookies, sessions ========================================================
def test_passwords_are_stored_only_as_argon2_hashes(site):
    passwords = {"pw1@example.com": "Zebra-Unicorn-4711-pass", "pw2@example.com": "émoji🔑-sésame-99"}
    for email, pw in passwords.items():
        assert signup(site.anon(), email, password=pw).status_code == 201
        r = site.anon().post(f"{API}/auth/login", json={"email": email, "password": pw})
        assert r.status_code == 200 and pw not in r.text
        bad = site.anon().post(f"{API}/auth/login", json={"email": email, "password": pw + "x"})
        assert pw not in bad.text
    admin = site.member(role="admin")
    listed = admin.get(f"{API}/auth/users").json()["items"]
    assert all(set(u) == {"id", "email", "role", "created_at"} for u in listed)

    db = site.store.path
    blobs = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))  # app.db, -wal, -shm
    assert blobs
    for pw in passwords.values():
        for enc in ("utf-8", "utf-16-le", "utf-16-be"):
            assert pw.encode(enc) not in blobs, f"password found in the database files ({enc})"
    hashes = dict(db_rows(site, "select email, password_hash from users"))
    tokens = [t for (t,) in db_rows(site, "select token_hash from sessions")]
    for email in passwords:
        assert hashes[email].startswith("$argon2id$"), hashes[email][:12]
    assert tokens and all(len(t) == 64 for t in tokens)  # sha256 of the token, not the token


@pytest.mark.parametrize("route", ["signup", "login"])
def test_session_cookie_flags(site, route):
    email = f"{route}@example.com"
    if route == "login":
        site.member(email)
        r = site.anon().post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    else:
        r = signup(site.anon(), email)
    attrs = set_cookie_attrs(r)
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    assert "secure" not in attrs  # plain http on 127.0.0.1: a Secure cookie would never come back

    # behind a TLS-terminating proxy on this machine (uvicorn trusts 127.0.0.1's X-Forwarded-Proto)
    https = site.client(**{"X-Forwarded-Proto": "https"})
    if route == "login":
        r = https.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    else:
        r = signup(https, "tls-" + email)
    attrs = set_cookie_attrs(r)
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= attrs


def test_secure_cookie_when_the_asgi_scheme_is_https(make_bundle):
    asgi = create_app(make_bundle(MANIFEST))

    async def go():
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="https://localhost",
                                     headers={"X-AW": "1"}) as c:
            r = await c.post(f"{API}/auth/signup", json={"email": "s@example.com", "password": PASSWORD})
            assert r.status_code == 201
            return set_cookie_attrs(r)

    # asyncio.run in a thread of its own: Playwright's sync API may hold this thread's event loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        attrs = pool.submit(asyncio.run, go()).result(timeout=60)
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= attrs


def test_logout_kills_the_session_and_made_up_cookies_do_not_work(site):
    r = signup(site.anon(), "leaver@example.com")
    token = cookie_of(r)
    me = site.client(token)
    create(me, "Note", title="mine")
    assert me.get(f"{API}/auth/me").status_code == 200
    assert me.post(f"{API}/auth/logout").status_code == 204
    stale = site.client(token)
    assert stale.get(f"{API}/auth/me").status_code == 401
    assert stale.get(f"{ENT}/Note").status_code == 401
    assert stale.post(f"{ENT}/Note", json={"title": "after logout"}).status_code == 401

    live_user = site.member()
    stored = [t for (t,) in db_rows(site, "select token_hash from sessions")]  # a leaked database row
    assert len(stored) == 1
    for fake in [secrets.token_urlsafe(32), "", "null", "undefined", "x" * 5000, token + "x",
                 token[:-1], live_user.token.swapcase(), *stored]:
        r = site.client(fake).get(f"{API}/auth/me")
        assert r.status_code == 401, fake[:20]
    assert live_user.get(f"{API}/auth/me").status_code == 200  # control


def test_two_session_cookies_read_as_signed_out(site):
    """Issue 13, finding 2: with `aw_session=VALID; aw_session=OTHER`, the last one used to win,
    so a page that planted a cookie of its author's session (or any second one) chose who the
    visitor was. Now neither is guessed at: the request is signed out."""
    alice, mallory = site.member("alice@example.com"), site.member("mallory@example.com")
    create(alice, "Note", title="alice's secret")
    for pair in ((alice.token, mallory.token), (mallory.token, alice.token), (alice.token, "bogus")):
        c = site.client()
        c.headers["Cookie"] = "; ".join(f"{COOKIE}={t}" for t in pair)
        assert c.get(f"{API}/auth/me").status_code == 401, pair
        assert c.post(f"{ENT}/Note", json={"title": "as whom?"}).status_code == 401
        assert c.post(f"{API}/auth/logout").status_code == 204
    for who in (alice, mallory):  # control: one cookie each still works, and logging out above ended nothing
        assert who.get(f"{API}/auth/me").json()["user"]["email"] == who.email
    assert [n["title"] for n in items(alice, "Note")] == ["alice's secret"]


def test_another_host_name_is_refused_dns_rebinding(make_bundle, site):
    """Issue 13, finding 4: a page on attacker.example whose name now resolves to 127.0.0.1 sends
    `Host: attacker.example:PORT`; the runtime answers 400 and runs nothing."""
    port = urlsplit(site.url).port
    alice = site.member("alice@example.com")
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.attacker.example:{port}", ""):
        c = site.client(alice.token, Host=host)
        assert c.get(f"{API}/auth/me").status_code == 400, host
        assert c.post(f"{ENT}/Note", json={"title": "rebound"}).status_code == 400, host
    assert items(alice, "Note") == []
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):  # the loopback names work
        assert site.client(alice.token, Host=host).get(f"{API}/auth/me").status_code == 200, host
    # a deployment lists its own names
    asgi = create_app(make_bundle(MANIFEST), allowed_hosts=["notes.example.com"])
    with serve_asgi(asgi) as url:
        with httpx.Client(base_url=url, timeout=30) as c:
            assert c.get(f"{API}/app", headers={"Host": "notes.example.com"}).status_code == 200
            assert c.get(f"{API}/app").status_code == 400  # 127.0.0.1 is not on its list


@pytest.mark.parametrize("email", ["ada\x00@example.com", "ada@example.com\x00", "\u0430da@example.com",
                                   "ada@ex\u0430mple.com", "ad a@example.com",
                                   "owner@studio.invalid", "OWNER@Studio.Invalid", "x@anything.invalid"])
def test_emails_with_nul_look_alike_letters_or_a_reserved_domain_are_refused(site, email):
    """Issue 13: an address with a NUL or a Cyrillic "а" reads like another one, and .invalid is the
    platform's own (the studio's owner account): sign-up, sign-in and an admin's add all refuse them."""
    admin = site.member(role="admin")
    for who, route in ((site.anon(), "signup"), (site.anon(), "login"), (admin, "users")):
        r = who.post(f"{API}/auth/{route}", json={"email": email, "password": PASSWORD})
        assert r.status_code == 400 and "email" in r.json()["error"], (route, r.text)
    assert [u.email for u in site.store.list_users()] == [admin.email]
    assert signup(site.anon(), "ada@example.com").status_code == 201  # control


def test_login_issues_a_fresh_token_no_session_fixation(site):
    site.member("fix@example.com")
    planted = secrets.token_urlsafe(32)
    c = site.client(planted)
    r = c.post(f"{API}/auth/login", json={"email": "fix@example.com", "password": PASSWORD})
    assert r.status_code == 200
    fresh = cookie_of(r)
    assert fresh != planted
    assert site.client(planted).get(f"{API}/auth/me").status_code == 401
    assert site.client(fresh).get(f"{API}/auth/me").json()["user"]["email"] == "fix@example.com"


def test_unknown_user_and_wrong_password_look_the_same(site):
    site.member("real@example.com")
    anon = site.anon()
    wrong = anon.post(f"{API}/auth/login", json={"email": "real@example.com", "password": "wrong password"})
    unknown = anon.post(f"{API}/auth/login", json={"email": "nobody@example.com", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    strip = {"date", "content-length"}
    assert {k: v for k, v in wrong.headers.items() if k not in strip} == \
           {k: v for k, v in unknown.headers.items() if k not in strip}


def test_login_is_throttled_after_failures_even_for_the_right_password(site):
    victim = site.member("victim@example.com")
    other = site.member("bystander@example.com")
    anon = site.anon()
    codes = [anon.post(f"{API}/auth/login", json={"email": victim.email, "password": f"guess {i}"}).status_code
             for i in range(auth.MAX_FAILURES_PER_EMAIL)]
    assert codes == [401] * auth.MAX_FAILURES_PER_EMAIL
    for email in (victim.email, " VICTIM@Example.com "):
        r = anon.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 429, r.text
        assert int(r.headers["retry-after"]) > 0
        assert COOKIE not in r.headers.get("set-cookie", "")
    r = anon.post(f"{API}/auth/login", json={"email": other.email, "password": PASSWORD})
    assert r.status_code == 200  # the throttle is per account, not a global lockout


def test_parallel_guesses_cannot_outrun_the_throttle(site):
    """A burst of guesses sent at once must not each get a password check: the throttle
    promises at most MAX_FAILURES_PER_EMAIL checked guesses per window."""
    victim = site.member("burst@example.com")
    n = 3 * auth.MAX_FAILURES_PER_EMAIL
    results = parallel(n, lambda i: site.anon().post(
        f"{API}/auth/login", json={"email": victim.email, "password": f"guess {i}"}))
    codes = [getattr(r, "status_code", repr(r)) for r in results]
    assert set(codes) <= {401, 429}, codes
    checked = codes.count(401)
    assert checked <= auth.MAX_FAILURES_PER_EMAIL, \
        f"{checked} of {n} parallel guesses were checked against the password (limit {auth.MAX_FAILURES_PER_EMAIL})"


# == 7. Files that must not be served ======================================================
SECRET_MARKERS = [b"SECRET-GIT", b"SECRET-ENV", b"SECRET-HIDDEN", b"SECRET-OUTSIDE", b"SECRET-DIR",
                  b"SQLite format 3", b"root:x:0:0"]


@pytest.fixture(scope="module")
def files_site(tmp_path_factory):
    """One server for all the targets below (module scope: they only read)."""
    root = tmp_path_factory.mktemp("files")
    (root / "outside-secret.txt").write_text("SECRET-OUTSIDE")
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_text("SECRET-DIR")
    bundle = root / "app"
    files = {"app.json": json.dumps(MANIFEST), "index.html": "<!doctype html><title>files</title>",
             ".git/config": "SECRET-GIT", ".env": "SECRET-ENV", "sub/.hidden": "SECRET-HIDDEN",
             "sub/visible.txt": "visible"}
    for rel, text in files.items():
        (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
        (bundle / rel).write_text(text)
    (bundle / "leak.txt").symlink_to(root / "outside-secret.txt")
    (bundle / "linkdir").symlink_to(root / "outside", target_is_directory=True)
    served = ServedApp.open(bundle)
    try:
        with serve_asgi(create_app(served)) as url:
            site = Site(url, Live(url, served, None))
            assert signup(site.anon(), "walfile@example.com").status_code == 201  # the db and its WAL exist
            yield site
            site.close()
    finally:
        served.store.close()


HIDDEN_TARGETS = [
    "/.aw/app.db", "/.aw/app.db-wal", "/.aw/app.db-shm", "/.aw/", "/.aw", "/.git/config", "/.git/",
    "/.env", "/sub/.hidden", "/%2eaw/app.db", "/%2Eaw/app.db", "/.aw%2fapp.db", "/%2e%61w/app.db",
    "/sub/../.aw/app.db", "/./.aw/app.db", "/sub/%2e%2e/.aw/app.db", "//.aw/app.db", "/.aw//app.db",
    "/.aw/app.db?x=1", "/.aw/app.db%00.html", "/.aw/app.db/", "/..", "/../", "/../outside-secret.txt",
    "/%2e%2e/outside-secret.txt", "/%2e%2e%2foutside-secret.txt", "/..%2foutside-secret.txt",
    "/sub/..%2f..%2foutside-secret.txt", "/sub/../../outside-secret.txt", "/..%5coutside-secret.txt",
    "/%252e%252e/outside-secret.txt", "/../outside/secret.txt", "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/sub/../../app/.aw/app.db", "/../app/.aw/app.db",
    "/leak.txt", "/linkdir/secret.txt", "/linkdir/", "/_aw/../.aw/app.db", "/_aw/api/../../.aw/app.db",
]


@pytest.mark.parametrize("target", HIDDEN_TARGETS)
def test_hidden_files_and_traversal_are_not_served(files_site, target):
    status, data = raw_get(files_site.url, target)
    assert status >= 400 or status in (301, 302, 307, 308), (target, status)
    for marker in SECRET_MARKERS:
        assert marker not in data, (target, marker)


def test_visible_files_are_served(files_site):
    # control for the test above: the server does serve the bundle's ordinary files
    assert raw_get(files_site.url, "/sub/visible.txt")[0] == 200
    assert raw_get(files_site.url, "/")[0] == 200
    assert (files_site.store.path.parent / "app.db-wal").exists()


def _assert_security_headers(r: httpx.Response) -> None:
    assert len(r.headers.get_list("content-security-policy")) == 1, (r.request.method, str(r.url))
    csp = r.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp, (r.request.method, str(r.url), r.status_code, csp)
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0], csp
    assert "object-src 'none'" in csp and "frame-ancestors" in csp and "base-uri" in csp
    assert r.headers.get("x-content-type-options") == "nosniff", (r.request.method, str(r.url))


def test_security_headers_on_pages_and_api(site):
    anon = site.anon()
    responses = [anon.get("/"), anon.get("/index.html"), anon.get("/_aw/sdk.js"), anon.get(f"{API}/app"),
                 anon.get(f"{ENT}/Nope"), anon.get("/missing.html"), anon.get(f"{ENT}/Note"),
                 anon.post(f"{ENT}/Note", json={"title": "x"}), anon.request("PUT", f"{ENT}/Note")]
    for r in responses:
        _assert_security_headers(r)
    assert responses[3].headers["content-type"].startswith("application/json")
    assert responses[2].headers["content-type"].startswith("application/javascript")


def test_a_page_policy_names_its_own_inline_code_by_hash():
    """Hashes as the browser computes them: CRLF read as LF, entities in attributes decoded."""
    page = (b'<script>a = 1;\r\n</script><script src="x.js">ignored()</script>'
            b'<button onclick="go(&quot;x&quot;)">b</button><p onmouseover=\'h()\'>p</p>')
    sources = page_policy(page).split("script-src ", 1)[1].split()

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert sources == ["'self'", sha("a = 1;\n"), "'unsafe-hashes'", sha('go("x")'), sha("h()")]
    assert page_policy(b"<p>no inline code</p>") == POLICY and "'unsafe-hashes'" not in POLICY


def test_security_headers_on_refused_writes(site):
    """The X-AW guard's own 403 is a response like any other: it gets nosniff and the CSP too."""
    r = site.anon(xaw=False).post(f"{ENT}/Note", json={"title": "x"})
    assert r.status_code == 403
    _assert_security_headers(r)


# == 8. Many apps on one host ===============================================================
@pytest.fixture
def host_site(make_bundle, live):
    host = Host()
    # a relative SDK path (works at / and under a host's /apps/{id}/)
    page = {"index.html": '<!doctype html><title>h</title><script src="_aw/sdk.js"></script>'}
    host.add("a", make_bundle(MANIFEST, page, name="a"))
    host.add("b", make_bundle(MANIFEST, page, name="b"))
    with live(host) as srv:
        yield srv, host
    for app_id in list(host.apps):
        host.remove(app_id)


def test_a_session_of_one_app_means_nothing_to_another(host_site):
    srv, host = host_site
    a_api, b_api = f"{srv.url}/apps/a{API}", f"{srv.url}/apps/b{API}"
    with httpx.Client(headers={"X-AW": "1"}, timeout=30) as c:
        r = c.post(f"{a_api}/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
        assert r.status_code == 201
        assert "path=/apps/a/" in set_cookie_attrs(r)
        token_a = cookie_of(r)
        note = c.post(f"{a_api}/entities/Note", json={"title": "a-only"}).json()
        assert c.get(f"{a_api}/entities/Note").json()["items"][0]["id"] == note["id"]  # control

    as_a = {"Cookie": f"{COOKIE}={token_a}", "X-AW": "1"}
    with httpx.Client(headers=as_a, timeout=30) as c:
        assert c.get(f"{b_api}/auth/me").status_code == 401
        assert c.get(f"{b_api}/entities/Note").status_code == 401
        assert c.get(f"{b_api}/entities/Note/{note['id']}").status_code == 404
        assert c.post(f"{b_api}/entities/Note", json={"title": "x"}).status_code == 401
    with httpx.Client(headers={"X-AW": "1"}, timeout=30) as c:  # the same credentials: another app's user
        r = c.post(f"{b_api}/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        assert r.status_code == 401
        r = c.post(f"{b_api}/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
        assert r.status_code == 201
        token_b = cookie_of(r)
        assert c.get(f"{b_api}/entities/Note").json()["items"] == []
    with httpx.Client(headers={"Cookie": f"{COOKIE}={token_b}"}, timeout=30) as c:
        assert c.get(f"{a_api}/entities/Note").status_code == 401
        assert c.get(f"{a_api}/entities/Note/{note['id']}").status_code == 404
    # dot segments do not hop from one app into another
    for target in (f"/apps/b/../a{ENT}/Note", f"/apps/b/%2e%2e/a{ENT}/Note", f"/apps/b/..%2fa{ENT}/Note"):
        status, data = raw_get(srv.url, target, cookie=token_b)
        assert b"a-only" not in data and status != 200, target
    assert raw_get(srv.url, "/apps/a/.aw/app.db")[0] == 404


def test_security_headers_on_host_responses(host_site):
    """The host's own answers (its app list, the SDK it serves at its root, unknown paths) get
    the same headers as an app's."""
    srv, host = host_site
    missing = []
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        for path in ("/apps/a/", "/apps/a/_aw/api/app", "/nope", "/", "/_aw/sdk.js", "/favicon.ico"):
            r = c.get(path)
            assert r.status_code < 500
            if r.headers.get("x-content-type-options") != "nosniff" or \
                    "default-src 'self'" not in r.headers.get("content-security-policy", ""):
                missing.append(path)
    assert not missing, f"no nosniff / CSP on the host's {missing}"


# == 9. In the browser ======================================================================
def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a JS expression (page.wait_for_function evals a string, which the app's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def browser_login(page, url: str, token: str) -> None:
    page.context.add_cookies([{"name": COOKIE, "value": token, "url": url + "/", "httpOnly": True,
                               "sameSite": "Lax"}])


@pytest.mark.slow
def test_session_token_is_not_readable_from_javascript(site, page):
    page.goto(site.url + "/")
    user = page.evaluate("(p) => aw.auth.signup('js@example.com', p)", PASSWORD)
    assert user["email"] == "js@example.com"
    assert COOKIE not in page.evaluate("document.cookie")
    assert page.evaluate("aw.auth.me()")["email"] == "js@example.com"  # the cookie works
    (cookie,) = [c for c in page.context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"


@pytest.mark.slow
def test_cross_app_reads_in_the_browser_need_that_apps_session(host_site, page):
    srv, host = host_site
    # ada has data in app a, but this browser only ever signed into app b
    with httpx.Client(headers={"X-AW": "1"}, timeout=30) as c:
        c.post(f"{srv.url}/apps/a{API}/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
        assert c.post(f"{srv.url}/apps/a{ENT}/Note", json={"title": "a-only"}).status_code == 201
    page.goto(srv.url + "/apps/b/")
    page.evaluate("(p) => aw.auth.signup('mallory@example.com', p)", PASSWORD)
    got = page.evaluate("""async () => {
        const out = {};
        for (const [k, u] of Object.entries({
            list: '/apps/a/_aw/api/entities/Note', session: '/apps/a/_aw/api/auth/session',
            me_b: '/apps/b/_aw/api/auth/session'})) {
          const r = await fetch(u, {headers: {'X-AW': '1'}, credentials: 'include'});
          out[k] = [r.status, await r.text()];
        }
        return out;
    }""")
    assert got["list"][0] == 401 and "a-only" not in got["list"][1]
    assert json.loads(got["session"][1])["user"] is None
    assert json.loads(got["me_b"][1])["user"]["email"] == "mallory@example.com"  # control


# -- stored XSS -----------------------------------------------------------------------------
PWN = "window.__pwned=1"
XSS_PAYLOADS = [
    f"<img src=x onerror={PWN}>",
    f"<svg onload={PWN}>",
    f"\"><script>{PWN}</script>",
    f"\"><img src=x onerror={PWN}>",
    f"'><img src=x onerror={PWN}>",
    f"</textarea><img src=x onerror={PWN}>",
    f"</title><img src=x onerror={PWN}>",
    "<iframe srcdoc=\"<script>parent.__pwned=1</script>\"></iframe>",
    f"<details open ontoggle={PWN}>",
    f"x\" autofocus onfocus=\"{PWN}",
    f"x' autofocus onfocus='{PWN}",
    f"x autofocus onfocus={PWN} ",
    f"x/onfocus={PWN}/autofocus",
    f"`<img src=x onerror={PWN}>`",
    f"&lt;img src=x onerror={PWN}&gt;",
    f"<a href=javascript:{PWN} id=xss>click</a>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={PWN}>",
]


def _notes_site(example, live, raw: bool):
    bundle = example("notes")
    if raw:  # the control: the same page with innerHTML and no escaping
        js = bundle / "notes.js"
        source = js.read_text().replace("aw.html`", "rawHtml`")
        js.write_text("const rawHtml = (s, ...v) => s.reduce((o, x, i) => o + String(v[i - 1]) + x);\n" + source)
    return live(bundle)


def _load_notes_with_payloads(example, live, page, raw: bool, payloads: list[str]):
    with _notes_site(example, live, raw) as srv:
        site = Site(srv.url, srv)
        owner = site.member("owner@example.com")
        for p in payloads:
            create(owner, "Note", title=p.replace("\n", " ")[:200], body=p)
        browser_login(page, srv.url, owner.token)
        page.goto(srv.url + "/")
        wait_until(page, f"document.querySelectorAll('#notes li').length >= {len(payloads)}")
        page.evaluate("document.querySelectorAll('[data-action=edit]').forEach(b => b.click())")
        page.wait_for_timeout(600)  # let onerror / onload / ontoggle / autofocus fire
        pwned = page.evaluate("window.__pwned")
        titles = page.locator("#notes .title").all_text_contents()
        site.close()
        return pwned, titles


@pytest.fixture
def page_without_csp(browser):
    """A browser context that ignores the pages' Content-Security-Policy: what aw.html does alone."""
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("csp", [True, False])
def test_stored_xss_does_not_execute_in_the_notes_example(example, live, browser, csp):
    context = browser.new_context(bypass_csp=not csp)
    try:
        pwned, titles = _load_notes_with_payloads(example, live, context.new_page(), raw=False, payloads=XSS_PAYLOADS)
    finally:
        context.close()
    assert pwned is None, "a stored payload ran in the notes page"
    assert sorted(titles) == sorted(XSS_PAYLOADS)  # shown as the text that was typed


@pytest.mark.slow
def test_control_raw_innerhtml_notes_page_is_pwned_without_the_csp(example, live, page_without_csp):
    pwned, _ = _load_notes_with_payloads(example, live, page_without_csp, raw=True,
                                         payloads=[f"<img src=x onerror={PWN}>"])
    assert pwned == 1, "the control page was not attacked, so the XSS tests here prove nothing"


@pytest.mark.slow
def test_the_csp_stops_payloads_in_a_raw_innerhtml_page(example, live, page):
    """The same raw page with the runtime's policy: the page still shows every note, and no
    payload runs (handlers and scripts planted in data match no hash of the page)."""
    with _notes_site(example, live, raw=True) as srv:
        site = Site(srv.url, srv)
        owner = site.member("owner@example.com")
        browser_login(page, srv.url, owner.token)
        for payload in [p for p in XSS_PAYLOADS if p.startswith("<")]:  # one at a time: raw, each breaks the list
            note = create(owner, "Note", title=payload[:200], body=payload)
            page.goto(srv.url + "/")
            wait_until(page, "document.querySelectorAll('#notes li').length >= 1")
            page.wait_for_timeout(300)  # let onerror / onload / ontoggle fire
            assert page.evaluate("window.__pwned") is None, f"{payload!r} ran through raw innerHTML despite the CSP"
            assert owner.delete(f"{ENT}/Note/{note['id']}").status_code == 204
        site.close()
    assert any("Content Security Policy" in e for e in page.errors)  # the refusal is on the console


INLINE_PAGE = ('<!doctype html><title>i</title>\r\n<script>window.__inline = "ran";\r\n</script>'
               '<button id="b" onclick="window.__clicked = &quot;yes&quot;">b</button>'
               '<img src="/missing.png" onerror="window.__own_error = 1">'
               '<div id="out"></div><script src="/_aw/sdk.js"></script>'
               '<script>document.getElementById("out").innerHTML = '
               '\'<button id="planted" onclick="window.__pwned = 1">p</button>\';</script>')


@pytest.mark.slow
def test_the_csp_lets_the_pages_own_inline_code_run(make_bundle, live, page):
    """A page's own inline scripts and handlers (CRLF line ends, an entity in an attribute) run;
    a handler its script writes into the page later does not."""
    bundle = make_bundle(RENDER_MANIFEST, {"index.html": INLINE_PAGE})
    (bundle / "index.html").write_bytes(INLINE_PAGE.encode())  # keep the CRLFs as written
    with live(bundle) as srv:
        page.goto(srv.url + "/")
        wait_until(page, "window.__own_error === 1")
        page.click("#b")
        page.click("#planted")
        page.wait_for_timeout(200)
        assert page.evaluate("[window.__inline, window.__clicked, window.__pwned]") == ["ran", "yes", None]


# A page that renders one entity through several aw.html contexts (`?tpl=`), or through a
# naive tag that only concatenates (`&fn=raw`, the control).
RENDER_JS = r"""
window.show = function () {};
// Links to ordinary URLs must not navigate away (the test reads this page's globals afterwards);
// script URLs are left alone: whether they run is the question.
document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("a");
  if (a && /^https?:$/.test(a.protocol)) e.preventDefault();
}, true);
const raw = (s, ...v) => s.reduce((o, x, i) => o + String(v[i - 1]) + x);
const TEMPLATES = {
  text:  (h, it) => h`<p>${it.s}</p><div>${it.t}</div>`,
  dq:    (h, it) => h`<input value="${it.s}"><span title="${it.t}">x</span>`,
  sq:    (h, it) => h`<input value='${it.s}'><span title='${it.t}'>x</span>`,
  unq:   (h, it) => h`<input value=${it.s}><span title=${it.t}>x</span>`,
  link:  (h, it) => h`<a class="go" href="${it.t}">t</a>`,
  handler: (h, it) => h`<button class="go" onclick="show('${it.s}')">s</button>`,
};
(async () => {
  const q = new URLSearchParams(location.search);
  const tag = q.get("fn") === "raw" ? raw : aw.html;
  const tpl = TEMPLATES[q.get("tpl")];
  try {
    const out = document.getElementById("out");
    for (const it of await aw.entities.Item.list()) {  // one element each: a payload that breaks
      const box = document.createElement("div");       // the markup cannot swallow the next one
      box.innerHTML = String(tpl(tag, it));
      out.appendChild(box);
    }
    window.__rendered = "ok";
  } catch (e) {
    window.__rendered = "refused: " + e.message;
  }
})();
"""
RENDER_MANIFEST = {"name": "Render", "auth": {"signup": "open"},
                   "entities": {"Item": {"fields": {"s": {"type": "string"}, "t": {"type": "text"}},
                                         "access": "owner"}}}
RENDER_FILES = {"index.html": '<!doctype html><title>r</title><div id="out"></div>'
                              '<script src="/_aw/sdk.js"></script><script src="render.js"></script>',
                "render.js": RENDER_JS}


def _render(make_bundle, live, page, tpl: str, fn: str, rows: list[tuple[str, str]]):
    """Store rows through the API, render them in Chromium, click what can be clicked;
    returns (window.__pwned, window.__rendered)."""
    with live(make_bundle(RENDER_MANIFEST, RENDER_FILES)) as srv:
        site = Site(srv.url, srv)
        owner = site.member()
        for s, t in rows:
            create(owner, "Item", s=s, t=t)
        browser_login(page, srv.url, owner.token)
        page.goto(f"{srv.url}/?tpl={tpl}&fn={fn}")
        wait_until(page, "window.__rendered !== undefined")
        page.evaluate("document.querySelectorAll('.go').forEach(el => el.click())")
        page.wait_for_timeout(600)
        result = page.evaluate("[window.__pwned, window.__rendered]")
        site.close()
        return result


XSS_ROWS = [(p.replace("\n", " "), p) for p in XSS_PAYLOADS]


@pytest.mark.slow
@pytest.mark.parametrize("tpl", ["text", "dq", "sq", "unq"])
def test_aw_html_escapes_text_and_attribute_values(make_bundle, live, page_without_csp, tpl):
    pwned, rendered = _render(make_bundle, live, page_without_csp, tpl, "aw", XSS_ROWS)
    assert rendered == "ok"
    assert pwned is None, f"aw.html let a payload run in the {tpl!r} context"


@pytest.mark.slow
@pytest.mark.parametrize("tpl", ["text", "dq", "unq"])
def test_control_raw_template_is_pwned(make_bundle, live, browser, tpl):
    context = browser.new_context(bypass_csp=True)
    try:
        pwned, _ = _render(make_bundle, live, context.new_page(), tpl, "raw", XSS_ROWS)
    finally:
        context.close()
    assert pwned == 1


# URLs a browser runs as script; the label says which one got through.
JS_URLS = {  # void(...): a javascript: URL that yields a string would replace the whole document
    "plain": "javascript:void(window.__pwned='plain')",
    "case": "JaVaScRiPt:void(window.__pwned='case')",
    "space": "  javascript:void(window.__pwned='space')",
    "entity": "javascript&colon;void(window.__pwned='entity')",
    "tab": "java\tscript:void(window.__pwned='tab')",
    "leading-tab": "\tjavascript:void(window.__pwned='leading-tab')",
    "control-char": "\x01javascript:void(window.__pwned='control-char')",
    "newline": "java\nscript:void(window.__pwned='newline')",
}


@pytest.mark.slow
@pytest.mark.parametrize("label", list(JS_URLS))
def test_aw_html_blocks_script_urls_in_links(make_bundle, live, page_without_csp, label):
    url = JS_URLS[label]
    pwned, rendered = _render(make_bundle, live, page_without_csp, "link", "aw", [("", url)])
    assert rendered == "ok"
    assert pwned is None, f"a {label!r} javascript: URL ran through aw.html: {url!r}"


@pytest.mark.slow
def test_control_raw_script_url_is_pwned(make_bundle, live, browser):
    context = browser.new_context(bypass_csp=True)
    try:
        pwned, _ = _render(make_bundle, live, context.new_page(), "link", "raw", [("", JS_URLS["plain"])])
    finally:
        context.close()
    assert pwned == "plain"


HANDLER_BREAKOUT = "');window.__pwned='handler';void('"


@pytest.mark.slow
def test_aw_html_values_inside_event_handler_attributes_cannot_run(make_bundle, live, page_without_csp):
    """`onclick="show('${x}')"`: HTML escaping is undone by the attribute parser before the
    handler's JavaScript runs, so aw.html must refuse (or neutralise) the value."""
    pwned, rendered = _render(make_bundle, live, page_without_csp, "handler", "aw", [(HANDLER_BREAKOUT, "")])
    assert pwned is None, f"a value inside onclick ran as code (render: {rendered})"


@pytest.mark.slow
def test_control_raw_event_handler_is_pwned(make_bundle, live, browser):
    context = browser.new_context(bypass_csp=True)
    try:
        pwned, _ = _render(make_bundle, live, context.new_page(), "handler", "raw", [(HANDLER_BREAKOUT, "")])
    finally:
        context.close()
    assert pwned == "handler"
