"""appwright/runtime/api.py through real HTTP: the REST contract of DESIGN.md, as a client sees it.

Most tests share one server (module scope) and give themselves a fresh user, so
that `owner` records never leak between tests; tests that need their own auth
rule, throttle counter or manifest history start their own server.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from datetime import datetime, timezone

import httpx
import pytest
from argon2 import PasswordHasher
from conftest import PASSWORD, Live, serve_asgi

from appwright.runtime import auth
from appwright.runtime.api import DEFAULT_LIMIT, MAX_BODY, MAX_LIMIT
from appwright.runtime.app import ServedApp, create_app
from appwright.runtime.check import check_bundle

API = "/_aw/api"
E = f"{API}/entities"

KITCHEN = {
    "name": "Kitchen sink",
    "auth": {"signup": "open", "roles": ["editor"]},
    "entities": {
        "Item": {"fields": {
            "title": {"type": "string", "required": True, "max_length": 20},
            "body": {"type": "text"},
            "count": {"type": "integer", "min": 0, "max": 100},
            "price": {"type": "number"},
            "done": {"type": "boolean", "default": False},
            "day": {"type": "date"},
            "at": {"type": "datetime"},
            "kind": {"type": "enum", "values": ["a", "b", "c"], "default": "a"},
            "parent": {"type": "ref", "entity": "Item"},
        }},
        "Post": {"fields": {"title": {"type": "string"}}, "access": "shared"},
        "Board": {"fields": {"title": {"type": "string"}}, "access": "public_read"},
        "Wall": {"fields": {"msg": {"type": "string"}}, "access": "public"},
        "Lead": {"fields": {"email": {"type": "string", "required": True}}, "access": "submit_only"},
        "Ledger": {"fields": {"amount": {"type": "number"}},
                   "access": {"read": "owner", "update": "nobody", "delete": "nobody"}},
    },
}


def write_bundle(folder, manifest) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.json").write_text(json.dumps(manifest))
    (folder / "index.html").write_text('<!doctype html><title>t</title><script src="/_aw/sdk.js"></script>')


@pytest.fixture(scope="module", autouse=True)
def cheap_hashes():
    """Argon2id with small parameters: these tests sign up dozens of users, and the API does not
    depend on the cost (test_storage.py checks the real hashes)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kitchen")
    write_bundle(folder, KITCHEN)
    served = ServedApp.open(folder)
    with serve_asgi(create_app(served)) as url:
        yield Live(url, served, None)
    served.store.close()


def add_admin(live: Live, email: str = "admin@example.com") -> httpx.Client:
    """An admin made the way `appwright users add --role admin` makes one, then signed in over HTTP."""
    live.served.store.create_user(email, auth.hash_password(PASSWORD), role="admin")
    c = live.client()
    assert c.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    return c


@pytest.fixture(scope="module")
def admin(srv):
    c = add_admin(srv)
    yield c
    c.close()


@pytest.fixture(scope="module")
def solo(srv):
    """A user whose writes in these tests all fail: it never owns a record."""
    c = srv.user("solo@example.com")
    yield c
    assert listing(c) == []
    c.close()


def fresh(live: Live) -> httpx.Client:
    """A newly signed-up user (its own records only, under `owner`)."""
    return live.user(f"u{uuid.uuid4().hex[:10]}@example.com")


def me(c: httpx.Client) -> dict:
    r = c.get(f"{API}/auth/me")
    assert r.status_code == 200, r.text
    return r.json()["user"]


def error(r: httpx.Response, status: int, *words: str) -> str:
    """Assert a JSON error with `status` whose message mentions every word; return the message."""
    if r.status_code >= 500:
        # uvicorn logs the traceback in the server thread after answering. On Python 3.11 the `ast`
        # parser is not safe to run in two threads at once (traceback carets parse source), and
        # pytest parses this file to report the failure: wait, or pytest itself may crash
        # with "AST constructor recursion depth mismatch" (cpython gh-106905, pytest #10763).
        time.sleep(1)
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["error"], str) and body["error"] and isinstance(body["code"], str), body
    text = body["error"] + " " + " ".join(body.get("details", []))
    for w in words:
        assert w.lower() in text.lower(), (w, body)
    return body["error"]


def create(c: httpx.Client, entity: str = "Item", **fields) -> dict:
    r = c.post(f"{E}/{entity}", json=fields)
    assert r.status_code == 201, r.text
    return r.json()


def listing(c: httpx.Client, entity: str = "Item", **params) -> list[dict]:
    if isinstance(params.get("where"), dict):
        params["where"] = json.dumps(params["where"])
    r = c.get(f"{E}/{entity}", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def walk(c: httpx.Client, entity: str = "Item", **params) -> tuple[list[dict], int]:
    """Every record of a list, following `next`; returns (records, pages)."""
    items, cursor, pages = [], None, 0
    while True:
        q = dict(params, **({"cursor": cursor} if cursor else {}))
        r = c.get(f"{E}/{entity}", params=q)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor, pages = body["next"], pages + 1
        if cursor is None:
            return items, pages
        assert pages < 1000, "paging does not end"


# -- auth ---------------------------------------------------------------------------------------

def test_signup_answers_201_with_the_user_and_a_session_cookie(srv):
    c = srv.client()
    r = c.post(f"{API}/auth/signup", json={"email": "Ada@Example.COM ", "password": PASSWORD})
    assert r.status_code == 201, r.text
    user = r.json()["user"]
    assert set(user) == {"id", "email", "role", "created_at"}  # never the password hash
    assert user["email"] == "ada@example.com" and user["role"] is None
    cookie = r.headers["set-cookie"]
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert cookie.startswith("aw_session=") and "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    assert PASSWORD not in r.text
    assert me(c) == user
    assert c.get(f"{API}/auth/session").json() == {"user": user}


def test_signup_rejects_bad_input(srv):
    c = srv.client()
    error(c.post(f"{API}/auth/signup", json={"email": "not-an-email", "password": PASSWORD}), 400, "email")
    error(c.post(f"{API}/auth/signup", json={"email": "short@example.com", "password": "1234567"}), 400,
          "password", "8")
    error(c.post(f"{API}/auth/signup", json={"email": "x@example.com"}), 400, "password")
    error(c.post(f"{API}/auth/signup", json=["x@example.com", PASSWORD]), 400)
    error(c.post(f"{API}/auth/signup", json={"email": "x@example.com", "password": PASSWORD, "name": "X"}),
          400, "name")
    assert c.get(f"{API}/auth/session").json() == {"user": None}


def test_signup_with_a_taken_email_is_409(srv):
    srv.user("taken@example.com")
    r = srv.client().post(f"{API}/auth/signup", json={"email": "TAKEN@example.com", "password": "another password"})
    error(r, 409, "exists")
    assert "set-cookie" not in r.headers


def test_client_cannot_choose_a_role_at_signup(srv):
    c = srv.client()
    r = c.post(f"{API}/auth/signup", json={"email": "mallory@example.com", "password": PASSWORD, "role": "admin"})
    error(r, 400, "role")
    assert srv.served.store.user_by_email("mallory@example.com") is None


def test_login_me_session_and_logout(srv):
    srv.user("lou@example.com").close()
    c = srv.client()
    assert error(c.get(f"{API}/auth/me"), 401)
    assert c.get(f"{API}/auth/session").json() == {"user": None}
    r = c.post(f"{API}/auth/login", json={"email": "Lou@example.com", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["email"] == "lou@example.com"
    assert "httponly" in r.headers["set-cookie"].lower()
    assert me(c)["email"] == "lou@example.com"
    token = c.cookies["aw_session"]

    r = c.post(f"{API}/auth/logout")
    assert r.status_code == 204 and r.content == b""
    cleared = r.headers["set-cookie"].lower()
    assert cleared.startswith("aw_session=") and ("max-age=0" in cleared or "expires=thu, 01 jan 1970" in cleared)
    assert "path=/" in cleared
    error(c.get(f"{API}/auth/me"), 401)
    # The session is dead on the server too, not only forgotten by this client.
    with srv.client(cookies={"aw_session": token}) as stolen:
        error(stolen.get(f"{API}/auth/me"), 401)
        assert stolen.get(f"{API}/auth/session").json() == {"user": None}
    # Logging out while signed out is harmless.
    assert c.post(f"{API}/auth/logout").status_code == 204


def test_a_made_up_session_cookie_is_signed_out(srv):
    with srv.client(cookies={"aw_session": "not-a-real-token"}) as c:
        error(c.get(f"{API}/auth/me"), 401, "not signed in")
        error(c.post(f"{E}/Item", json={"title": "x"}), 401)


def test_wrong_password_and_unknown_user_get_the_same_answer(srv):
    srv.user("known@example.com").close()
    c = srv.client()
    wrong = c.post(f"{API}/auth/login", json={"email": "known@example.com", "password": "wrong password"})
    unknown = c.post(f"{API}/auth/login", json={"email": "nobody@example.com", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers


def test_login_is_throttled_per_email_after_five_failures(live, make_bundle):
    with live(make_bundle(KITCHEN)) as s:
        s.user("target@example.com").close()
        s.user("bystander@example.com").close()
        c = s.client()
        for _ in range(5):
            error(c.post(f"{API}/auth/login", json={"email": "target@example.com", "password": "guess"}), 401)
        r = c.post(f"{API}/auth/login", json={"email": "target@example.com", "password": PASSWORD})
        error(r, 429, "try again")
        assert int(r.headers["retry-after"]) > 0
        assert "set-cookie" not in r.headers
        # The same email in another spelling is the same account, hence throttled too.
        error(c.post(f"{API}/auth/login", json={"email": "TARGET@example.com", "password": PASSWORD}), 429)
        # Other accounts are not locked out by someone guessing at this one.
        r = c.post(f"{API}/auth/login", json={"email": "bystander@example.com", "password": PASSWORD})
        assert r.status_code == 200


def test_a_successful_login_resets_the_email_counter(live, make_bundle):
    with live(make_bundle(KITCHEN)) as s:
        s.user("forgetful@example.com").close()
        c = s.client()
        for _ in range(2):
            for _ in range(4):
                error(c.post(f"{API}/auth/login", json={"email": "forgetful@example.com", "password": "oops"}), 401)
            assert c.post(f"{API}/auth/login",
                          json={"email": "forgetful@example.com", "password": PASSWORD}).status_code == 200


def test_state_changes_need_the_x_aw_header(srv):
    alice = fresh(srv)
    rec = create(alice, title="keep me")
    cookies = dict(alice.cookies)
    with srv.client(xaw=False, cookies=cookies) as bare:
        error(bare.post(f"{E}/Item", json={"title": "forged"}), 403, "X-AW")
        error(bare.patch(f"{E}/Item/{rec['id']}", json={"title": "forged"}), 403, "X-AW")
        error(bare.delete(f"{E}/Item/{rec['id']}"), 403, "X-AW")
        error(bare.post(f"{API}/auth/logout"), 403, "X-AW")
        error(bare.post(f"{API}/auth/signup", json={"email": "f@example.com", "password": PASSWORD}), 403)
        assert bare.get(f"{E}/Item/{rec['id']}").json()["title"] == "keep me"  # reads need no header
        assert bare.get(f"{API}/auth/me").status_code == 200
    assert [i["title"] for i in listing(alice)] == ["keep me"]


# -- CRUD ------------------------------------------------------------------------------------------

def test_create_sets_system_fields_and_defaults(srv):
    c = fresh(srv)
    rec = create(c, title="first")
    assert list(rec) == ["id", "title", "body", "count", "price", "done", "day", "at", "kind", "parent",
                         "owner", "created_at", "updated_at"]
    assert isinstance(rec["id"], str) and rec["id"]
    assert rec["owner"] == me(c)["id"]
    assert rec["created_at"] == rec["updated_at"]
    assert abs((parse_time(rec["created_at"]) - datetime.now(timezone.utc)).total_seconds()) < 60
    assert rec["done"] is False and rec["kind"] == "a"  # defaults
    assert rec["body"] is None and rec["count"] is None and rec["parent"] is None
    assert c.get(f"{E}/Item/{rec['id']}").json() == rec


@pytest.mark.parametrize("key, value", [
    ("id", "my-own-id"), ("owner", "someone-else"), ("created_at", "2020-01-01T00:00:00Z"),
    ("updated_at", "2020-01-01T00:00:00Z"),
])
def test_client_cannot_set_system_fields_on_create(solo, key, value):
    error(solo.post(f"{E}/Item", json={"title": "x", key: value}), 400, key, "server")
    assert listing(solo) == []


def test_get_patch_delete(srv):
    c = fresh(srv)
    rec = create(c, title="draft", count=1)
    r = c.patch(f"{E}/Item/{rec['id']}", json={"title": "final", "done": True})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["title"] == "final" and new["done"] is True and new["count"] == 1
    assert new["id"] == rec["id"] and new["owner"] == rec["owner"] and new["created_at"] == rec["created_at"]
    assert parse_time(new["updated_at"]) > parse_time(rec["updated_at"])
    assert c.get(f"{E}/Item/{rec['id']}").json() == new

    r = c.delete(f"{E}/Item/{rec['id']}")
    assert r.status_code == 204 and r.content == b""
    error(c.get(f"{E}/Item/{rec['id']}"), 404, rec["id"])
    error(c.delete(f"{E}/Item/{rec['id']}"), 404)
    error(c.patch(f"{E}/Item/{rec['id']}", json={"title": "ghost"}), 404)
    assert listing(c) == []


def test_patch_accepts_unchanged_system_fields_and_rejects_changed_ones(srv):
    c = fresh(srv)
    rec = create(c, title="spread me")
    # A page that fetched a record, changed one field and sent the whole thing back.
    r = c.patch(f"{E}/Item/{rec['id']}", json={**rec, "title": "spread back"})
    assert r.status_code == 200, r.text
    current = r.json()
    assert current["title"] == "spread back"
    for key, value in [("id", "other"), ("owner", "someone-else"), ("created_at", "2020-01-01T00:00:00Z"),
                       ("updated_at", "2020-01-01T00:00:00Z")]:
        error(c.patch(f"{E}/Item/{rec['id']}", json={**current, key: value, "title": "sneaky"}), 400, key)
    assert c.get(f"{E}/Item/{rec['id']}").json() == current


def test_patch_rejects_bad_changes(srv):
    c = fresh(srv)
    rec = create(c, title="ok")
    url = f"{E}/Item/{rec['id']}"
    error(c.patch(url, json={"title": None}), 400, "title", "required")
    error(c.patch(url, json={"colour": "red"}), 400, "colour")
    error(c.patch(url, json={"count": 101}), 400, "count")
    error(c.patch(url, content=b""), 400, "empty")
    assert c.get(url).json() == rec


def test_unknown_entity_is_404_naming_the_real_ones(srv):
    c = fresh(srv)
    for r in (c.get(f"{E}/Notes"), c.post(f"{E}/Notes", json={"title": "x"}), c.get(f"{E}/Notes/abc")):
        msg = error(r, 404, "Notes")
        for name in KITCHEN["entities"]:
            assert name in msg


def test_put_is_405_and_unknown_api_paths_404_in_json(srv):
    c = fresh(srv)
    rec = create(c, title="x")
    error(c.put(f"{E}/Item/{rec['id']}", json={"title": "y"}), 405, "PATCH")
    error(c.put(f"{E}/Item", json={"title": "y"}), 405)
    error(c.get(f"{API}/nothing/here"), 404)
    assert c.get(f"{E}/Item/{rec['id']}").json()["title"] == "x"


# -- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, words", [
    ("colour", "red", ["colour", "title"]),           # unknown field: the real fields are listed
    ("title", 5, ["title", "text"]),
    ("title", "x" * 21, ["title", "too long", "20"]),
    ("title", "two\nlines", ["title", "one line"]),
    ("body", ["a"], ["body", "text"]),
    ("body", "x" * 100_001, ["body", "too long"]),
    ("count", "3", ["count", "whole number", '"3" (text, not a number: send Number(value))']),
    ("count", "three", ["count", "whole number"]),
    ("count", 1.5, ["count", "whole number"]),
    ("count", True, ["count", "whole number"]),
    ("count", -1, ["count", "at least 0"]),
    ("count", 101, ["count", "at most 100"]),
    ("price", "1.5", ["price", "number", "send Number(value)"]),
    ("price", False, ["price", "number"]),
    ("done", "yes", ["done", "true or false"]),
    ("done", 1, ["done", "true or false"]),
    ("day", "25/11/2026", ["day", "date"]),
    ("day", "2026-02-30", ["day", "date"]),
    ("day", 20261125, ["day", "date"]),
    ("at", "tomorrow", ["at", "date and time"]),
    ("at", 1764080000, ["at", "date and time"]),
    ("kind", "z", ["kind", "a, b, c"]),
    ("parent", 5, ["parent", "Item"]),
    ("parent", "", ["parent", "Item"]),
])
def test_bad_values_are_400_naming_the_field(solo, field, value, words):
    r = solo.post(f"{E}/Item", json={"title": "t", field: value} if field != "title" else {"title": value})
    error(r, 400, *words)
    assert listing(solo) == []


def test_null_is_accepted_for_fields_that_are_not_required(srv):
    c = fresh(srv)
    rec = create(c, title="t", body=None, count=None, kind=None, done=None, at=None)
    assert rec["body"] is None and rec["count"] is None and rec["kind"] is None and rec["at"] is None


def test_missing_required_field(solo):
    c = solo
    error(c.post(f"{E}/Item", json={"body": "no title"}), 400, "title", "required")
    error(c.post(f"{E}/Item", json={"title": None}), 400, "title", "required")
    error(c.post(f"{E}/Lead", json={}), 400, "email", "required")


def test_every_problem_of_a_write_is_listed(solo):
    c = solo
    r = c.post(f"{E}/Item", json={"title": 5, "count": -1, "nope": 1})
    error(r, 400, "title", "count", "nope")
    assert len(r.json()["details"]) == 3


@pytest.mark.parametrize("content, words", [
    (b"{\"title\": ", ["malformed JSON", "line 1"]),
    (b"{'title': 'x'}", ["malformed JSON"]),
    (b"", ["empty"]),
    (b"   \n", ["empty"]),
    (b"[{\"title\": \"x\"}]", ["object"]),
    (b"\"title\"", ["object"]),
    (b"null", ["object"]),
    (b"{\"title\": \"\xff\"}", ["UTF-8"]),
])
def test_bodies_that_are_not_a_json_object(solo, content, words):
    error(solo.post(f"{E}/Item", content=content, headers={"content-type": "application/json"}), 400, *words)


def test_body_over_one_mebibyte_is_413_with_and_without_content_length(srv):
    c = fresh(srv)
    big = json.dumps({"title": "x", "body": "y" * MAX_BODY}).encode()
    error(c.post(f"{E}/Item", content=big), 413, "MiB")

    def chunks():  # no content-length: sent chunked
        for i in range(0, len(big), 64 * 1024):
            yield big[i:i + 64 * 1024]

    with srv.client(cookies=dict(c.cookies)) as chunked:
        r = chunked.post(f"{E}/Item", content=chunks())
        assert "content-length" not in r.request.headers
        error(r, 413, "MiB")
    assert listing(c) == []


def test_body_just_under_the_limit_is_read(srv):
    c = fresh(srv)
    body = json.dumps({"title": "x", "body": "y" * 100_000, "pad": "z" * (MAX_BODY - 100_100)}).encode()
    assert len(body) <= MAX_BODY
    error(c.post(f"{E}/Item", content=body), 400, "pad")  # read and validated, not refused for size


def test_the_sdks_writes_take_form_values_in_the_fields_types(srv):
    """Every form value is a string: with the SDK's `X-AW-Values: form`, "12" in a number field is
    12, and "" in a field that is not text is no value; without it the REST API stays strict."""
    c = fresh(srv)
    form = {"X-AW-Values": "form"}
    r = c.post(f"{E}/Item", json={"title": "t", "count": " 12 ", "price": "3.5", "day": "", "kind": "", "body": ""},
               headers=form)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert (rec["count"], rec["price"], rec["day"], rec["kind"], rec["body"]) == (12, 3.5, None, None, "")
    assert isinstance(rec["count"], int)
    r = c.patch(f"{E}/Item/{rec['id']}", json={"count": "7", "price": "-0.25"}, headers=form)
    assert (r.json()["count"], r.json()["price"]) == (7, -0.25)
    error(c.post(f"{E}/Item", json={"title": "t", "count": "1.5"}, headers=form), 400, "count", "whole number")
    error(c.post(f"{E}/Item", json={"title": "t", "count": "12 apples"}, headers=form), 400, "count", "whole number")
    error(c.post(f"{E}/Item", json={"title": "t", "done": "on"}, headers=form), 400, "done", "true or false")
    assert c.post(f"{E}/Item", json={"title": "12"}, headers=form).json()["title"] == "12"  # text stays text
    error(c.post(f"{E}/Item", json={"title": "t", "count": "12"}), 400, "count", "whole number")  # no header


def test_integer_accepts_whole_floats_and_stores_an_integer(srv):
    c = fresh(srv)
    rec = create(c, title="t", count=3.0, price=2)
    assert rec["count"] == 3 and isinstance(rec["count"], int)
    assert c.get(f"{E}/Item/{rec['id']}").json()["count"] == 3
    assert listing(c, where={"count": 3})[0]["id"] == rec["id"]


@pytest.mark.parametrize("sent, instant", [
    ("2026-11-25T15:30:00+01:00", datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc)),
    ("2026-11-25T09:30:00-05:00", datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc)),
    ("2026-11-25T14:30:00Z", datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc)),
    ("2026-11-25T14:30:00", datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc)),  # no zone: UTC
])
def test_datetimes_are_stored_in_utc_with_z(srv, sent, instant):
    c = fresh(srv)
    rec = create(c, title="t", at=sent)
    assert parse_time(rec["at"]) == instant
    assert "+" not in rec["at"]


def test_datetimes_sort_in_time_order_whatever_their_precision(srv):
    c = fresh(srv)
    for at in ["2026-11-25T14:30:01Z", "2026-11-25T14:30:00.5Z", "2026-11-25T14:30:00Z",
               "2026-11-25T14:29:59.999Z"]:
        create(c, title="t", at=at)
    got = [parse_time(i["at"]) for i in listing(c, sort="at")]
    assert got == sorted(got), [i["at"] for i in listing(c, sort="at")]


def test_where_on_a_datetime_compares_instants_not_spellings(srv):
    c = fresh(srv)
    rec = create(c, title="t", at="2026-11-25T14:30:00Z")
    assert [i["id"] for i in listing(c, where={"at": "2026-11-25T15:30:00+01:00"})] == [rec["id"]]
    assert [i["id"] for i in listing(c, where={"at": {"gte": "2026-11-25T15:00:00+01:00"}})] == [rec["id"]]
    assert listing(c, where={"at": {"gt": "2026-11-25T15:31:00+01:00"}}) == []


def test_dates_are_calendar_dates_only(srv):
    # The docs promise "YYYY-MM-DD"; other ISO spellings would be stored as sent and sort wrongly.
    c = fresh(srv)
    for day in ("2026-W48-3", "2026-329"):
        error(c.post(f"{E}/Item", json={"title": "t", "day": day}), 400, "day")


def test_refs_must_point_at_a_record_the_writer_can_read(srv):
    alice, bob = fresh(srv), fresh(srv)
    mine = create(alice, title="parent")
    child = create(alice, title="child", parent=mine["id"])
    assert child["parent"] == mine["id"]
    bobs = create(bob, title="bob's")
    missing = error(alice.post(f"{E}/Item", json={"title": "x", "parent": "0" * 32}), 400, "parent")
    hidden = error(alice.post(f"{E}/Item", json={"title": "x", "parent": bobs["id"]}), 400, "parent")
    assert hidden == missing.replace("0" * 32, bobs["id"])  # no hint that bob's record exists
    error(alice.patch(f"{E}/Item/{child['id']}", json={"parent": bobs["id"]}), 400, "parent")
    ok = alice.patch(f"{E}/Item/{child['id']}", json={"parent": None})
    assert ok.status_code == 200 and ok.json()["parent"] is None


def test_refs_point_at_their_own_entity(srv):
    c = fresh(srv)
    post = create(c, "Post", title="a post, not an item")
    error(c.post(f"{E}/Item", json={"title": "x", "parent": post["id"]}), 400, "parent")


# -- access ---------------------------------------------------------------------------------------

def test_owner_records_are_invisible_to_others(srv):
    alice, bob = fresh(srv), fresh(srv)
    rec = create(alice, title="private")
    url = f"{E}/Item/{rec['id']}"
    for r in (bob.get(url), bob.patch(url, json={"title": "mine now"}), bob.delete(url)):
        error(r, 404)
    # The same answer as for an id that does not exist at all.
    hidden, missing = bob.get(url).json(), bob.get(f"{E}/Item/{'0' * 32}").json()
    assert hidden == {k: v.replace("0" * 32, rec["id"]) for k, v in missing.items()}
    assert listing(bob) == []
    assert listing(bob, where={"owner": rec["owner"]}) == []
    with srv.client() as anon:
        error(anon.get(url), 404)
        error(anon.get(f"{E}/Item"), 401, "sign in")
        error(anon.post(f"{E}/Item", json={"title": "x"}), 401, "sign in")
    assert alice.get(url).json() == rec


def test_shared_records_are_read_by_all_and_changed_by_their_owner(srv):
    alice, bob = fresh(srv), fresh(srv)
    post = create(alice, "Post", title="hello")
    url = f"{E}/Post/{post['id']}"
    assert bob.get(url).json() == post
    assert post["id"] in [p["id"] for p in listing(bob, "Post")]
    error(bob.patch(url, json={"title": "defaced"}), 403)
    error(bob.delete(url), 403)
    with srv.client() as anon:
        error(anon.get(f"{E}/Post"), 401)
        error(anon.get(url), 404)
    assert alice.patch(url, json={"title": "edited"}).status_code == 200


def test_public_read_and_public(srv):
    alice = fresh(srv)
    board = create(alice, "Board", title="notice")
    with srv.client() as anon:
        assert anon.get(f"{E}/Board/{board['id']}").json() == board
        assert board["id"] in [b["id"] for b in listing(anon, "Board")]
        error(anon.post(f"{E}/Board", json={"title": "spam"}), 401)
        error(anon.patch(f"{E}/Board/{board['id']}", json={"title": "spam"}), 401)
        wall = create(anon, "Wall", msg="hi from nobody")
        assert wall["owner"] is None
        r = anon.patch(f"{E}/Wall/{wall['id']}", json={"msg": "edited"})
        assert r.status_code == 200 and r.json()["msg"] == "edited"
        assert wall["id"] in [w["id"] for w in listing(anon, "Wall", where={"owner": None})]
        assert anon.delete(f"{E}/Wall/{wall['id']}").status_code == 204


def test_submit_only(srv, admin):
    alice = fresh(srv)
    with srv.client() as anon:
        lead = create(anon, "Lead", email="lead@example.com")
        assert lead["owner"] is None
        error(anon.get(f"{E}/Lead"), 401)
        error(anon.get(f"{E}/Lead/{lead['id']}"), 404)
    own = create(alice, "Lead", email="alice-lead@example.com")
    error(alice.get(f"{E}/Lead"), 403)
    error(alice.get(f"{E}/Lead/{own['id']}"), 404)  # not even the sender reads it back
    error(alice.patch(f"{E}/Lead/{own['id']}", json={"email": "x"}), 404)
    seen = {r["id"] for r in listing(admin, "Lead", limit=200)}
    assert {lead["id"], own["id"]} <= seen
    assert admin.patch(f"{E}/Lead/{lead['id']}", json={"email": "fixed@example.com"}).status_code == 200
    assert admin.delete(f"{E}/Lead/{lead['id']}").status_code == 204


def test_admin_reads_and_changes_everyones_owner_records(srv, admin):
    alice, bob = fresh(srv), fresh(srv)
    a, b = create(alice, title="alice's"), create(bob, title="bob's")
    ids = {i["id"] for i in listing(admin, where={"owner": a["owner"]})}
    assert ids == {a["id"]}
    assert {a["id"], b["id"]} <= {i["id"] for i in walk(admin, limit=200)[0]}
    r = admin.patch(f"{E}/Item/{a['id']}", json={"title": "moderated"})
    assert r.status_code == 200 and r.json()["owner"] == a["owner"]  # the owner stays the owner
    assert alice.get(f"{E}/Item/{a['id']}").json()["title"] == "moderated"
    assert admin.delete(f"{E}/Item/{b['id']}").status_code == 204
    error(bob.get(f"{E}/Item/{b['id']}"), 404)


def test_nobody_closes_an_operation_even_to_admins(srv, admin):
    alice = fresh(srv)
    entry = create(alice, "Ledger", amount=12.5)
    url = f"{E}/Ledger/{entry['id']}"
    assert admin.get(url).json() == entry  # admins still read
    for c in (alice, admin):
        error(c.patch(url, json={"amount": 0}), 403)
        error(c.delete(url), 403)
    assert alice.get(url).json() == entry


# -- lists: sort, where, limit, cursor -----------------------------------------------------------

@pytest.fixture
def three(srv):
    c = fresh(srv)
    a = create(c, title="Apple pie", count=3, price=2.5, done=True, day="2026-01-02", kind="a", body="Sweet")
    b = create(c, title="banana", count=10, done=False, kind="b")
    ch = create(c, title="Cherry", price=7, day="2026-03-01", kind="c")
    return c, a, b, ch


def titles(items) -> list[str]:
    return [i["title"] for i in items]


def test_default_sort_is_newest_first(three):
    c, *_ = three
    assert titles(listing(c)) == ["Cherry", "banana", "Apple pie"]
    assert titles(listing(c, sort="created_at")) == ["Apple pie", "banana", "Cherry"]


def test_sort_by_declared_fields_with_nulls(three):
    c, *_ = three
    assert titles(listing(c, sort="title")) == ["Apple pie", "Cherry", "banana"]  # plain code-point order
    asc = titles(listing(c, sort="count"))
    desc = titles(listing(c, sort="-count"))
    assert asc == desc[::-1]
    assert asc in (["Cherry", "Apple pie", "banana"], ["Apple pie", "banana", "Cherry"])  # nulls at one end
    assert titles(listing(c, sort="-price"))[:2] == ["Cherry", "Apple pie"]
    assert titles(listing(c, sort="-done"))[0] == "Apple pie"


@pytest.mark.parametrize("where, expected", [
    ({"done": True}, {"Apple pie"}),
    ({"done": False}, {"banana", "Cherry"}),
    ({"done": {"ne": True}}, {"banana", "Cherry"}),
    ({"kind": "b"}, {"banana"}),
    ({"count": 3}, {"Apple pie"}),
    ({"count": {"eq": 10}}, {"banana"}),
    ({"count": {"ne": 3}}, {"banana", "Cherry"}),  # a missing value is not 3
    ({"count": {"gt": 3}}, {"banana"}),
    ({"count": {"gte": 3}}, {"Apple pie", "banana"}),
    ({"count": {"lt": 10}}, {"Apple pie"}),
    ({"count": {"lte": 10}}, {"Apple pie", "banana"}),
    ({"count": {"gt": 2, "lt": 5}}, {"Apple pie"}),
    ({"count": None}, {"Cherry"}),
    ({"count": {"eq": None}}, {"Cherry"}),
    ({"count": {"ne": None}}, {"Apple pie", "banana"}),
    ({"price": {"gte": 2.5}}, {"Apple pie", "Cherry"}),
    ({"day": {"lt": "2026-02-01"}}, {"Apple pie"}),
    ({"title": {"contains": "AN"}}, {"banana"}),
    ({"title": {"contains": "e"}}, {"Apple pie", "Cherry"}),
    ({"body": {"contains": "swe"}}, {"Apple pie"}),
    ({"title": "banana"}, {"banana"}),
    ({"title": "Banana"}, set()),
    ({"done": False, "kind": "c"}, {"Cherry"}),
])
def test_where(three, where, expected):
    c, *_ = three
    assert set(titles(listing(c, where=where))) == expected


def test_where_on_system_fields(three, srv):
    c, a, b, ch = three
    assert set(titles(listing(c, where={"owner": a["owner"]}))) == {"Apple pie", "banana", "Cherry"}
    assert listing(c, where={"owner": "someone-else"}) == []
    assert titles(listing(c, where={"id": b["id"]})) == ["banana"]
    assert set(titles(listing(c, where={"created_at": {"gt": a["created_at"]}}))) == {"banana", "Cherry"}
    assert titles(listing(c, where={"updated_at": {"lte": a["updated_at"]}})) == ["Apple pie"]


@pytest.mark.parametrize("params, words", [
    ({"where": json.dumps({"colour": "red"})}, ["colour", "title"]),
    ({"where": json.dumps({"count": {"near": 3}})}, ["near", "gt"]),
    ({"where": json.dumps({"count": "three"})}, ["count", "whole number"]),
    ({"where": json.dumps({"kind": "z"})}, ["kind", "a, b, c"]),
    ({"where": json.dumps({"count": {"gt": None}})}, ["count", "null"]),
    ({"where": json.dumps({"count": {}})}, ["count"]),
    ({"where": json.dumps({"count": [1, 2]})}, ["count"]),
    ({"where": json.dumps({"title": {"contains": 5}})}, ["contains", "text"]),
    ({"where": json.dumps({"owner": 5})}, ["owner", "text"]),
    ({"where": json.dumps(["done"])}, ["where", "object"]),
    ({"where": "{done: true}"}, ["where", "JSON"]),
    ({"sort": "colour"}, ["sort", "colour", "title"]),
    ({"sort": "--title"}, ["sort"]),
    ({"limit": "0"}, ["limit", str(MAX_LIMIT)]),
    ({"limit": str(MAX_LIMIT + 1)}, ["limit", str(MAX_LIMIT)]),
    ({"limit": "-1"}, ["limit"]),
    ({"limit": "ten"}, ["limit"]),
    ({"limit": "2.5"}, ["limit"]),
    ({"cursor": "not-a-cursor!"}, ["cursor"]),
    ({"page": "2"}, ["page", "sort", "where", "limit", "cursor"]),
    ({"order": "title"}, ["order"]),
])
def test_bad_list_queries_are_400(solo, params, words):
    error(solo.get(f"{E}/Item", params=params), 400, *words)


def test_limit_that_looks_like_a_digit_is_400_not_500(srv, solo):
    # str.isdigit() is true for "²"; int("²") then raises.
    with srv.client(cookies=dict(solo.cookies)) as one_shot:  # a 500 would close the connection
        error(one_shot.get(f"{E}/Item", params={"limit": "²"}), 400, "limit")


def test_forged_cursors_are_400(srv):
    c = fresh(srv)
    create(c, title="x")
    for value in ({"x": 1}, [1], 10**30, True):
        raw = json.dumps(["-created_at", value, "abc"]).encode()
        forged = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        with srv.client(cookies=dict(c.cookies)) as one_shot:  # a 500 would close the connection
            error(one_shot.get(f"{E}/Item", params={"cursor": forged}), 400, "cursor")


@pytest.fixture(scope="module")
def many(srv):
    """230 records of one user: `count` has ties (0..6) and every fifth is null; `done` has two values."""
    c = fresh(srv)
    ids = []
    for i in range(230):
        fields = {"title": f"n{i}", "done": i % 3 == 0}
        if i % 5:
            fields["count"] = i % 7
        ids.append(create(c, **fields)["id"])
    yield c, ids
    c.close()


def test_limit_default_and_maximum(many):
    c, ids = many
    r = c.get(f"{E}/Item").json()
    assert len(r["items"]) == DEFAULT_LIMIT == 50 and r["next"]
    r = c.get(f"{E}/Item", params={"limit": MAX_LIMIT}).json()
    assert len(r["items"]) == MAX_LIMIT == 200 and r["next"]
    r = c.get(f"{E}/Item", params={"limit": 1}).json()
    assert len(r["items"]) == 1


def _check_order(items, key, desc):
    values = [i[key] for i in items]
    nulls = [v is None for v in values]
    # Nulls sit together at one end; the rest are in order.
    assert nulls == sorted(nulls) or nulls == sorted(nulls, reverse=True), values
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=desc), values


@pytest.mark.parametrize("sort, limit", [
    ("-created_at", 50), ("created_at", 50), ("count", 50), ("-count", 7), ("count", 1), ("done", 13),
    ("-done", 50), ("title", 200), ("-updated_at", 31),
])
def test_cursor_paging_walks_every_record_once_in_order(many, sort, limit):
    c, ids = many
    items, pages = walk(c, sort=sort, limit=limit)
    got = [i["id"] for i in items]
    assert len(got) == len(set(got)) == 230 and set(got) == set(ids)
    assert pages == -(-230 // limit)
    _check_order(items, sort.lstrip("-"), sort.startswith("-"))
    if sort == "-created_at":
        assert got == ids[::-1]
    if sort == "created_at":
        assert got == ids


def test_paging_in_both_directions_sees_the_same_order_reversed(many):
    c, _ = many
    asc = [i["id"] for i in walk(c, sort="count", limit=9)[0]]
    desc = [i["id"] for i in walk(c, sort="-count", limit=9)[0]]
    assert asc == desc[::-1]


def test_paging_with_a_filter(many):
    c, ids = many
    items, _ = walk(c, sort="count", limit=10, where=json.dumps({"done": True}))
    assert {i["id"] for i in items} == {ids[i] for i in range(230) if i % 3 == 0}


def test_a_cursor_belongs_to_its_sort(many):
    c, _ = many
    nxt = c.get(f"{E}/Item", params={"sort": "count", "limit": 5}).json()["next"]
    error(c.get(f"{E}/Item", params={"sort": "-count", "limit": 5, "cursor": nxt}), 400, "cursor", "sort")
    error(c.get(f"{E}/Item", params={"limit": 5, "cursor": nxt}), 400, "cursor")
    error(c.get(f"{E}/Item", params={"sort": "count", "cursor": nxt[:-3]}), 400, "cursor")
    assert c.get(f"{E}/Item", params={"sort": "count", "limit": 5, "cursor": nxt}).status_code == 200


# -- invite-only and closed apps -------------------------------------------------------------------

INVITE_APP = {
    "name": "Team",
    "auth": {"signup": "invite", "roles": ["editor"]},
    "entities": {"Doc": {"fields": {"title": {"type": "string"}}, "access": {"read": ["owner", "editor"]}}},
}


def test_invite_only_app(live, make_bundle):
    with live(make_bundle(INVITE_APP)) as s:
        anon = s.client()
        signup = f"{API}/auth/signup"
        error(anon.post(signup, json={"email": "a@example.com", "password": PASSWORD}), 403, "invite")
        error(anon.post(signup, json={"email": "a@example.com", "password": PASSWORD, "invite": "made-up"}),
              403, "invite")
        error(anon.post(f"{API}/auth/invites", json={}), 401)
        error(anon.get(f"{API}/auth/users"), 401)

        admin = add_admin(s)
        r = admin.post(f"{API}/auth/invites", json={})
        assert r.status_code == 201
        plain = r.json()["code"]
        error(admin.post(f"{API}/auth/invites", json={"role": "owner"}), 400, "role")
        error(admin.post(f"{API}/auth/invites", json={"colour": "red"}), 400)
        editor_code = admin.post(f"{API}/auth/invites", json={"role": "editor"}).json()["code"]

        # A client cannot pick a role, not even with a valid invite; the invite is not used up by trying.
        error(anon.post(signup, json={"email": "a@example.com", "password": PASSWORD, "invite": plain,
                                      "role": "admin"}), 400, "role")
        member = s.client()
        r = member.post(signup, json={"email": "a@example.com", "password": PASSWORD, "invite": plain})
        assert r.status_code == 201 and r.json()["user"]["role"] is None
        # Single use.
        error(s.client().post(signup, json={"email": "b@example.com", "password": PASSWORD, "invite": plain}),
              403, "invite")
        editor = s.client()
        r = editor.post(signup, json={"email": "e@example.com", "password": PASSWORD, "invite": editor_code})
        assert r.status_code == 201 and r.json()["user"]["role"] == "editor"

        error(member.post(f"{API}/auth/invites", json={}), 403, "admin")
        error(editor.get(f"{API}/auth/users"), 403)
        emails = {u["email"] for u in admin.get(f"{API}/auth/users").json()["items"]}
        assert emails == {"admin@example.com", "a@example.com", "e@example.com"}

        # A role named in auth.roles works in access maps.
        doc = create(member, "Doc", title="members only")
        assert editor.get(f"{E}/Doc/{doc['id']}").json() == doc
        theirs = create(editor, "Doc", title="editor's")
        error(member.get(f"{E}/Doc/{theirs['id']}"), 404)
        error(editor.patch(f"{E}/Doc/{doc['id']}", json={"title": "x"}), 403)


def test_closed_app_only_admins_add_users(live, make_bundle):
    with live(make_bundle({**INVITE_APP, "auth": {"signup": "closed", "roles": ["editor"]}})) as s:
        anon = s.client()
        for extra in ({}, {"invite": "anything"}):
            error(anon.post(f"{API}/auth/signup", json={"email": "a@example.com", "password": PASSWORD, **extra}),
                  403, "closed")
        error(anon.post(f"{API}/auth/users", json={"email": "a@example.com", "password": PASSWORD}), 401)
        admin = add_admin(s)
        r = admin.post(f"{API}/auth/users", json={"email": "a@example.com", "password": PASSWORD})
        assert r.status_code == 201 and r.json()["user"]["email"] == "a@example.com"
        assert "set-cookie" not in r.headers  # the admin stays signed in as themself
        assert me(admin)["email"] == "admin@example.com"
        error(admin.post(f"{API}/auth/users", json={"email": "a@example.com", "password": PASSWORD}), 409)
        error(admin.post(f"{API}/auth/users", json={"email": "b@example.com", "password": PASSWORD,
                                                    "role": "wizard"}), 400, "role")
        user = s.client()
        r = user.post(f"{API}/auth/login", json={"email": "a@example.com", "password": PASSWORD})
        assert r.status_code == 200
        error(user.post(f"{API}/auth/users", json={"email": "c@example.com", "password": PASSWORD}), 403)
        assert s.served.store.user_by_email("c@example.com") is None


# -- schema changes between versions ---------------------------------------------------------------

NOTES_V1 = {"name": "Notes", "entities": {"Note": {"fields": {
    "title": {"type": "string", "required": True}, "body": {"type": "text"}}}}}


def rewrite(bundle, manifest=None, text=None) -> None:
    """Write a new app.json whose mtime surely differs from the last one (the runtime watches it)."""
    path = bundle / "app.json"
    before = path.stat().st_mtime_ns
    path.write_text(text if text is not None else json.dumps(manifest))
    after = max(path.stat().st_mtime_ns, before + 1_000_000_000)
    os.utime(path, ns=(after, after))


def test_adding_a_field_and_an_entity_keeps_records(live, make_bundle):
    bundle = make_bundle(NOTES_V1)
    with live(bundle) as s:
        c = s.user("ed@example.com")
        old = create(c, "Note", title="before", body="text")
        error(c.get(f"{E}/Tag"), 404)
        v2 = json.loads(json.dumps(NOTES_V1))
        v2["entities"]["Note"]["fields"]["pinned"] = {"type": "boolean", "default": False}
        v2["entities"]["Note"]["fields"]["rating"] = {"type": "integer"}
        v2["entities"]["Tag"] = {"fields": {"label": {"type": "string"}}}
        rewrite(bundle, v2)
        got = c.get(f"{E}/Note/{old['id']}").json()
        assert got == {**old, "pinned": False, "rating": None} and list(got)[:5] == [
            "id", "title", "body", "pinned", "rating"]
        new = create(c, "Note", title="after", pinned=True)
        assert new["pinned"] is True
        assert create(c, "Tag", label="work")["label"] == "work"
        r = c.patch(f"{E}/Note/{old['id']}", json={"rating": 4})
        assert r.json()["rating"] == 4 and r.json()["pinned"] is False and r.json()["body"] == "text"


def test_filtering_and_sorting_on_an_added_field_sees_its_default(live, make_bundle):
    # Old records show `pinned: false`; a filter for pinned=false must find them too.
    bundle = make_bundle(NOTES_V1)
    with live(bundle) as s:
        c = s.user("ed@example.com")
        old = create(c, "Note", title="before")
        v2 = json.loads(json.dumps(NOTES_V1))
        v2["entities"]["Note"]["fields"]["pinned"] = {"type": "boolean", "default": False}
        rewrite(bundle, v2)
        new = create(c, "Note", title="after", pinned=True)
        assert [n["id"] for n in listing(c, "Note", where={"pinned": False})] == [old["id"]]
        assert [n["id"] for n in listing(c, "Note", where={"pinned": {"ne": True}})] == [old["id"]]
        assert [n["id"] for n in listing(c, "Note", sort="-pinned")] == [new["id"], old["id"]]


def test_removing_a_field_hides_it_but_keeps_the_value(live, make_bundle):
    bundle = make_bundle(NOTES_V1)
    with live(bundle) as s:
        c = s.user("ed@example.com")
        a = create(c, "Note", title="a", body="secret a")
        b = create(c, "Note", title="b", body="secret b")
        create(c, "Note", title="c")
        assert check_bundle(bundle).warnings == []

        v2 = {"name": "Notes", "entities": {"Note": {"fields": {"title": {"type": "string", "required": True}}}}}
        rewrite(bundle, v2)
        got = c.get(f"{E}/Note/{a['id']}").json()
        assert "body" not in got and got["title"] == "a"
        assert all("body" not in n for n in listing(c, "Note"))
        error(c.post(f"{E}/Note", json={"title": "d", "body": "x"}), 400, "body")
        error(c.get(f"{E}/Note", params={"where": json.dumps({"body": "secret a"})}), 400, "body")
        error(c.get(f"{E}/Note", params={"sort": "body"}), 400, "body")
        r = c.patch(f"{E}/Note/{a['id']}", json={"title": "a2"})  # must not drop the hidden value
        assert r.status_code == 200 and "body" not in r.json()

        report = check_bundle(bundle)
        assert report.ok
        (warning,) = report.warnings
        assert warning.startswith("entities.Note.fields.body: ") and "2 records" in warning

        rewrite(bundle, NOTES_V1)
        assert c.get(f"{E}/Note/{a['id']}").json()["body"] == "secret a"
        assert c.get(f"{E}/Note/{b['id']}").json()["body"] == "secret b"
        assert check_bundle(bundle).warnings == []


def test_removing_an_entity_hides_its_records_and_check_warns(live, make_bundle):
    bundle = make_bundle({"name": "x", "entities": {**NOTES_V1["entities"],
                                                    "Tag": {"fields": {"label": {"type": "string"}}}}})
    with live(bundle) as s:
        c = s.user("ed@example.com")
        tag = create(c, "Tag", label="work")
        rewrite(bundle, NOTES_V1)
        error(c.get(f"{E}/Tag/{tag['id']}"), 404, "Note")
        (warning,) = check_bundle(bundle).warnings
        assert warning.startswith("entities.Tag: ") and "1 stored records" in warning
        rewrite(bundle, {"name": "x", "entities": {**NOTES_V1["entities"],
                                                   "Tag": {"fields": {"label": {"type": "string"}}}}})
        assert c.get(f"{E}/Tag/{tag['id']}").json() == tag


def test_an_invalid_new_manifest_keeps_the_last_valid_one_serving(live, make_bundle):
    bundle = make_bundle(NOTES_V1)
    with live(bundle) as s:
        c = s.user("ed@example.com")
        note = create(c, "Note", title="still here")
        for broken in ('{"name": "Notes", "entities": {', json.dumps({"name": "Notes", "entities": {
                "Note": {"fields": {"title": {"type": "str"}}}}})):
            rewrite(bundle, text=broken)
            assert c.get(f"{E}/Note/{note['id']}").json() == note
            assert create(c, "Note", title="more")["title"] == "more"
            error(c.post(f"{E}/Note", json={}), 400, "title", "required")  # the old rules still hold
            assert not check_bundle(bundle).ok
        v2 = json.loads(json.dumps(NOTES_V1))
        v2["entities"]["Note"]["fields"]["extra"] = {"type": "string", "default": "yes"}
        rewrite(bundle, v2)  # a valid one is picked up again
        assert c.get(f"{E}/Note/{note['id']}").json()["extra"] == "yes"
