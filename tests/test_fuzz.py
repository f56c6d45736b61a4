"""Fuzzing the REST API with Hypothesis: never a 5xx, always a JSON error, access still holds.

    .venv/bin/python -m pytest -q -s tests/test_fuzz.py                   # CI size, prints the count
    AW_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest -q -s tests/test_fuzz.py   # a deep local run

Three passes against an app whose manifest uses every field type and several access
rules: a deterministic sweep (every field x a catalogue of wrong and edge values, on
create, update and `where`), a Hypothesis pass in process (httpx.ASGITransport, fast),
and a smaller Hypothesis pass over real HTTP (uvicorn on 127.0.0.1, so h11's parsing is
in the loop too). Requests mix methods, valid and junk paths, ids, query strings, headers
(with and without X-AW, odd content types), bodies (JSON of every shape, NaN and
Infinity literals, huge numbers, deep nesting, bad UTF-8, lone surrogates) and callers
(anonymous, two users, an admin, a made-up cookie).

Checked on every answer: status < 500; a 4xx on a `/_aw/` path is JSON with a string
`error`; a 2xx from the entity API never shows a non-admin a record of someone else, and
never lets an anonymous caller read private entities. Failures are collected (not raised
at the first one) so one run lists every distinct bug; the test then fails listing them.
After fuzzing, a normal create / list / get / update / delete still works and the
database passes `PRAGMA integrity_check`.

Speed: Argon2 is swapped for a cheap setting of the same hasher for this module only
(hashing cost is not what is fuzzed; test_security.py uses the real one). Runs are
derandomized (the same examples every run) and keep no example database.

Not covered: HTTP/2, websockets, bodies over a few MiB, timing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import sqlite3
import string
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appwright.runtime import auth
from appwright.runtime.app import ServedApp, create_app

from conftest import PASSWORD, serve_asgi

API = "/_aw/api"
COOKIE = "aw_session"
SCALE = int(os.environ.get("AW_FUZZ_EXAMPLES", "0"))  # 0: the CI size below

SENT: Counter = Counter()  # requests sent, per pass
STATUSES: Counter = Counter()  # answers by status code, all passes
FAILURES: dict[str, str] = {}  # distinct problem -> one request that shows it (this test's)
ALL_FAILURES: dict[str, str] = {}  # every test's, for the summary

MANIFEST = {
    "name": "Fuzz target",
    "auth": {"signup": "open", "roles": ["editor"]},
    "entities": {
        "Thing": {
            "fields": {
                "s": {"type": "string", "required": True, "max_length": 40},
                "t": {"type": "text", "max_length": 500},
                "n": {"type": "number", "min": -1000, "max": 1000},
                "i": {"type": "integer"},
                "b": {"type": "boolean", "default": False},
                "d": {"type": "date"},
                "dt": {"type": "datetime"},
                "e": {"type": "enum", "values": ["todo", "doing", "done"], "default": "todo"},
                "r": {"type": "ref", "entity": "Thing"},
            },
            "access": "owner",
        },
        "Open": {"fields": {"title": {"type": "string"}, "count": {"type": "integer"}}, "access": "public"},
        "Lead": {"fields": {"email": {"type": "string", "required": True}}, "access": "submit_only"},
        "Wiki": {"fields": {"title": {"type": "string"}, "ref": {"type": "ref", "entity": "Thing"}},
                 "access": {"read": "public", "update": ["owner", "editor"], "delete": "nobody"}},
    },
}
ENTITIES = list(MANIFEST["entities"])
THING_FIELDS = list(MANIFEST["entities"]["Thing"]["fields"])
ALL_FIELDS = sorted({f for e in MANIFEST["entities"].values() for f in e["fields"]})
SYSTEM = ["id", "owner", "created_at", "updated_at"]
OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "contains"]
PRIVATE = {"Thing", "Lead"}  # entities whose records a non-admin sees only if they own them (or never)

# -- catalogues of edge values ------------------------------------------------------------
TRICKY_STRINGS = [
    "", " ", "\t", "\n", "\r\n", "\x00", "a" * 41, "a" * 501, "a" * 5000, "é", "😀", "\u202e", "\ufeff", "\uffff",
    "null", "true", "1", "-0", "1e309", "NaN", "²", "١٢٣", "0x10",
    "2026-02-30", "2026-11-25", "0001-01-01", "9999-12-31", "2026-1-1", "20261125", "2026-11-25 ",
    "2026-11-25T14:30:00Z", "2026-11-25T14:30:00", "2026-11-25T14:30:00+05:30", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-25T25:00:00Z",
    "2026-11-25T14:30:00+24:00", "2026-W48-3", "todo", "TODO", "doing ", "' OR 1=1 --", "$.s", "$[0]",
    "'); DROP TABLE records; --", "%00", "../../etc/passwd", "<script>x</script>", "__proto__",
    "constructor", "\\", "\"", "{}", "[]", "\ud800", "a\udfffb",
]
NUMBERS = [0, -1, 1, 999, 1000, 1001, -1001, 2**31, 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64,
           -(2**63) - 1, 10**30, 10**300, 1.5, -0.0, 5e-324, 1e308, 1e300, 1e15 + 0.5, 9007199254740993.0,
           float("nan"), float("inf"), float("-inf"), True, False]
NASTY_BODIES = [
    b"", b" ", b"null", b"[]", b"{}", b"0", b'""', b"[" * 100_000, b'{"a":' * 50_000, b"{" * 3000,
    b'{"s":"\\ud800"}', b'{"s":"\\udfff\\ud800x"}', b'{"\\ud800":1}', b'{"email":"\\ud83d@x.io","password":"\\ud800aaaaaaaa"}',
    b"\xff\xfe{}", b'{"s":"\xff"}', b'{"s":"\xc3"}', b"\xef\xbb\xbf{\"s\":\"bom\"}",
    b'{"i":' + b"9" * 5000 + b"}", b'{"i":1' + b"0" * 400 + b"}", b'{"n":1' + b"0" * 400 + b".5}",
    b'{"n":NaN}', b'{"n":Infinity}', b'{"n":-Infinity}', b'{"i":NaN}', b'{"n":1e999}', b'{"n":-1e999}',
    b'{"s":"a","s":"b"}', b"{'s':1}", b'{"__proto__":{"admin":true}}', b"1" * 100, b"\x00",
    '{"s":"é"}'.encode("utf-16"), b'{"s":"x"} trailing', b'{"s":"x"}{"s":"y"}', b'{"s":"x",}',
    b'{"email":"a@b.co","password":"' + b"p" * 300 + b'"}', b'{"email":["a@b.co"],"password":{"x":1}}',
    b'{"email":"' + b"a" * 300 + b'@example.com","password":"longenough"}',
]
# values each field type might be compared with, good and bad
WHERE_VALUES = [True, False, None, 0, 1.5, -1, 2**53, 2**63, 1e300, 1e308, "todo", "done", "2026-11-25",
                "2026-11-25T14:30:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "", "a",
                "\ud800", "alice0"]
HEADER_JUNK = ["", "0", "true", "1, 1", "1 ", "x" * 300, "\u00e9"]
CONTENT_TYPES = [None, "application/json", "application/json; charset=utf-16", "text/plain",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "*/*", "junk"]


# -- the app under test and its callers -----------------------------------------------------
@dataclass
class Ctx:
    """The fuzzed app: its store, the callers' sessions, and what records exist."""
    served: ServedApp
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # who -> (user id, session token)
    owners: dict[str, str | None] = field(default_factory=dict)  # record id -> owner id
    by_entity: dict[str, list[str]] = field(default_factory=dict)  # entity -> ids of its records

    def add(self, entity: str, rid: str, owner: str | None) -> None:
        self.owners[rid] = owner
        self.by_entity.setdefault(entity, []).append(rid)
    cursors: list[str] = field(default_factory=list)

    def uid(self, who: str) -> str | None:
        return self.users[who][0] if who in self.users else None


@pytest.fixture(scope="module", autouse=True)
def cheap_argon2():
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", cheap)
        mp.setattr(auth, "_DUMMY_HASH", cheap.hash("appwright-no-such-user"))
        yield


@pytest.fixture(scope="module")
def server_log():
    """Exceptions the server logged (what is behind any 500)."""
    seen: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record):
            if record.exc_info:
                seen.append(f"{record.exc_info[0].__name__}: {record.exc_info[1]}"[:300])

    handler = Grab(level=logging.ERROR)
    loggers = [logging.getLogger(n) for n in ("appwright.runtime", "uvicorn.error", "uvicorn")]
    for lg in loggers:
        lg.addHandler(handler)
    yield seen
    for lg in loggers:
        lg.removeHandler(handler)


def open_app(root) -> Ctx:
    bundle = root / "bundle"
    bundle.mkdir()
    (bundle / "app.json").write_text(json.dumps(MANIFEST))
    (bundle / "index.html").write_text('<!doctype html><title>f</title><script src="/_aw/sdk.js"></script>')
    served = ServedApp.open(bundle)
    ctx = Ctx(served)
    store = served.store
    hashed = auth.hash_password(PASSWORD)
    for who, role in (("alice", None), ("bob", None), ("admin", "admin"), ("editor", "editor")):
        user = store.create_user(f"{who}@example.com", hashed, role=role)
        ctx.users[who] = (user.id, store.create_session(user.id))
    # seed records: a few of each entity per user, and a ref to follow
    for who in ("alice", "bob", "editor"):
        uid = ctx.uid(who)
        for k in range(3):
            rec = store.insert_record("Thing", uid, {"s": f"{who}{k}", "n": k, "i": k, "b": k % 2 == 0,
                                                     "d": "2026-11-25", "dt": "2026-11-25T14:30:00Z", "e": "todo"})
            ctx.add("Thing", rec.id, uid)
        for entity, data in (("Open", {"title": who}), ("Lead", {"email": f"{who}@x.io"}), ("Wiki", {"title": who})):
            ctx.add(entity, store.insert_record(entity, uid, data).id, uid)
    return ctx


def session_for(ctx: Ctx, who: str, path: str) -> str | None:
    if who == "anon":
        return None
    if who == "junk":
        return "made-up-" + uuid.uuid4().hex
    if path.endswith("/auth/logout"):  # a throwaway session, so fuzzing never signs the callers out
        return ctx.served.store.create_session(ctx.uid(who))
    return ctx.users[who][1]


# -- strategies -----------------------------------------------------------------------------
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.sampled_from(NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.sampled_from(TRICKY_STRINGS),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.one_of(st.text(max_size=6), st.sampled_from(ALL_FIELDS + SYSTEM)), inner, max_size=4),
    max_leaves=10,
)
one_line = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=["Cs"]), min_size=1, max_size=40)
valid_thing = st.fixed_dictionaries({"s": one_line}, optional={
    "t": st.text(max_size=60),
    "n": st.floats(-1000, 1000, allow_nan=False),
    "i": st.integers(-(2**53) + 1, 2**53 - 1),
    "b": st.booleans(),
    "d": st.dates().map(lambda d: d.isoformat()),
    "dt": st.datetimes().map(lambda d: d.isoformat() + "Z"),
    "e": st.sampled_from(["todo", "doing", "done"]),
})
junk_segments = st.one_of(
    st.text(max_size=20), st.text(string.printable, max_size=20), st.sampled_from(
        ["", ".", "..", "%2e%2e", "%00", "a" * 3000, "Thing ", "thing", "THING", "Thing%2F1", "__proto__",
         "Thing;DROP", "😀", "\u202eThing", "constructor", "records", "users"]),
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class Req:
    who: str
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    content: bytes | None

    def show(self) -> str:
        body = (self.content or b"")[:160]
        return (f"{self.method} {self.path[:200]} params={self.params!r:.300} headers={self.headers!r:.200} "
                f"as={self.who} body={body!r}")


def pick(data, items: list, label: str = "pick"):
    """One of `items`, a list that grows while fuzzing: drawn as an index with fixed bounds, so
    Hypothesis can replay an example (sampled_from a changing list is a flaky strategy)."""
    i = data.draw(st.integers(0, 2**16), label=label)
    return items[i % len(items)] if items else "none"


def draw_path(data, ctx: Ctx, kind: str) -> str:
    seg = lambda s: quote(s.encode("utf-8", "surrogatepass"), safe="")  # noqa: E731
    entity = data.draw(st.one_of(st.sampled_from(["Thing", "Thing", "Thing", *ENTITIES]), junk_segments)
                       if data.draw(st.integers(0, 7)) == 0 else st.sampled_from(["Thing", "Thing", *ENTITIES]))
    if kind == "list":
        return f"{API}/entities/{seg(entity)}"
    if kind == "record":
        how = data.draw(st.sampled_from(["same entity"] * 6 + ["known", "uuid", "junk"]))
        rid = (pick(data, ctx.by_entity.get(entity, []), "id") if how == "same entity" else
               pick(data, list(ctx.owners), "id") if how == "known" else
               data.draw(st.uuids().map(lambda u: u.hex)) if how == "uuid" else data.draw(junk_segments))
        tail = data.draw(st.sampled_from([""] * 12 + ["/", "/extra", "/.."]))
        return f"{API}/entities/{seg(entity)}/{seg(rid)}{tail}"
    if kind == "auth":
        name = data.draw(st.one_of(st.sampled_from(["signup", "login", "logout", "me", "session", "invites",
                                                    "users", "users"]), junk_segments))
        return f"{API}/auth/{seg(name)}"
    if kind == "app":
        return data.draw(st.sampled_from([f"{API}/app", "/_aw/sdk.js", f"{API}", f"{API}/", f"{API}/entities",
                                          f"{API}/entities/"]))
    if kind == "junk_aw":
        return "/_aw/" + "/".join(seg(s) for s in data.draw(st.lists(junk_segments, max_size=3)))
    return "/" + data.draw(st.sampled_from(["", "index.html", "app.json", "missing.html", "favicon.ico",
                                            ".aw/app.db", "x" * 300, "%00", "a%2fb"]))


def draw_where(data) -> str:
    op = st.sampled_from([*OPS, *OPS, "junk"]).flatmap(lambda o: st.text(max_size=5) if o == "junk" else st.just(o))
    value = st.one_of(scalars, st.sampled_from(WHERE_VALUES))
    cond = st.one_of(value, st.dictionaries(op, value, min_size=1, max_size=2))
    key = st.sampled_from([*THING_FIELDS, *THING_FIELDS, *SYSTEM, "junk"]).flatmap(
        lambda k: st.text(max_size=6) if k == "junk" else st.just(k))
    where = st.dictionaries(key, cond, max_size=2)
    choice = data.draw(st.sampled_from(["dict"] * 6 + ["json", "junk"]))
    if choice == "dict":
        return json.dumps(data.draw(where), allow_nan=True)
    if choice == "json":
        return json.dumps(data.draw(json_values), allow_nan=True)
    return data.draw(st.one_of(st.text(max_size=30), st.sampled_from(
        ["", "{", "[]", "null", '{"i":' + "9" * 5000 + "}", '{"s":"\\ud800"}', '{"s":{"contains":"\\udfff"}}',
         "{" * 5000, '{"i":NaN}', '{"i":{"gt":Infinity}}', '{"dt":{"gt":"0001-01-01T00:00:00+01:00"}}',
         '{"i":1' + "0" * 30 + "}", '{"n":{"lt":1e999}}'])))


SORTS = [f"{m}{f}" for f in THING_FIELDS + SYSTEM for m in ("", "-")]  # Thing is the main target


LIMITS = ["", "0", "1", "200", "201", "-1", "²", "١", "٣", "1e3", " 5", "5 ", "0x10", "+5", "9" * 400, "NaN", "-0",
          "1.5", "5\x00"]
JUNK_SORTS = ["--s", "", "-", "s ", "S", "data", "rowid", "-rowid", "s;", "$.s"]


def draw_cursor(data, ctx: Ctx, sort: str) -> str:
    choice = data.draw(st.sampled_from(["seen", "forged", "forged", "forged", "junk"]))
    if choice == "seen" and ctx.cursors:
        return pick(data, ctx.cursors, "cursor")
    if choice in ("seen", "forged"):
        if data.draw(st.integers(0, 3)) == 0:
            sort = data.draw(st.one_of(st.sampled_from(SORTS), st.text(max_size=5)))
        triple = data.draw(st.one_of(st.tuples(st.just(sort), scalars, st.text(max_size=8)).map(list),
                                     st.tuples(st.just(sort), scalars, scalars).map(list),
                                     st.tuples(st.just(sort), json_values, json_values).map(list),
                                     json_values))
        return b64(json.dumps(triple, allow_nan=True).encode())
    return data.draw(st.one_of(st.text(max_size=40), st.binary(max_size=30).map(b64)))


def draw_params(data, ctx: Ctx) -> list[tuple[str, str]]:
    """Each list parameter present or not, each value mostly well formed with now and then a bad
    one, so the checks past the first one (sort, limit, where, cursor, in that order) are reached."""
    params = []
    sort = "-created_at"
    if data.draw(st.booleans()):
        sort = data.draw(st.sampled_from(SORTS) if data.draw(st.integers(0, 9)) else
                         st.one_of(st.sampled_from(JUNK_SORTS), st.text(max_size=10)))
        params.append(("sort", sort))
    if data.draw(st.integers(0, 2)) == 0:
        params.append(("limit", data.draw(st.integers(1, 200).map(str) if data.draw(st.integers(0, 3)) else
                                          st.one_of(st.sampled_from(LIMITS), st.text(max_size=5)))))
    if data.draw(st.integers(0, 2)):
        params.append(("where", draw_where(data)))
    if data.draw(st.integers(0, 3)) == 0:
        params.append(("cursor", draw_cursor(data, ctx, sort)))
    if data.draw(st.integers(0, 14)) == 0:  # a repeated or unknown key
        params.append((data.draw(st.one_of(st.sampled_from(["sort", "where", "limit", "cursor"]),
                                           st.text(max_size=6))), data.draw(st.text(max_size=10))))
    return params


def draw_body(data, ctx: Ctx, path: str) -> bytes | None:
    if "/auth/" in path:
        choice = data.draw(st.sampled_from(["auth", "auth", "auth", "json", "nasty", "none"]))
    else:
        choice = data.draw(st.sampled_from(["valid", "valid", "fields", "fields", "fields", "json", "nasty", "binary",
                                            "none"]))
    if choice == "none":
        return None
    if choice == "nasty":
        return data.draw(st.sampled_from(NASTY_BODIES))
    if choice == "binary":
        return data.draw(st.binary(max_size=40))
    if choice == "json":
        value = data.draw(json_values)
    elif choice == "valid":
        value = data.draw(valid_thing)
        if data.draw(st.booleans()):
            value["r"] = pick(data, list(ctx.owners), "ref")
    elif choice == "fields":
        value = {}
        for _ in range(data.draw(st.integers(0, 6))):
            key = data.draw(st.one_of(st.sampled_from(ALL_FIELDS + SYSTEM), st.text(max_size=6)))
            kind = data.draw(st.sampled_from(["scalar", "json", "id", "user"]))
            value[key] = (data.draw(scalars) if kind == "scalar" else data.draw(json_values) if kind == "json"
                          else pick(data, list(ctx.owners), "ref") if kind == "id"
                          else ctx.uid(data.draw(st.sampled_from(["alice", "bob", "admin", "x"]))))
    else:  # auth
        email = st.one_of(st.sampled_from(["alice@example.com", "ALICE@example.com ", "new@example.com",
                                           "a@b", "@example.com", "x" * 70 + "@example.com", "a@b.co"]),
                          st.text(max_size=15), scalars)
        password = st.one_of(st.sampled_from([PASSWORD, "short", "x" * 257, "p" * 8]), st.text(max_size=12), scalars)
        value = data.draw(st.fixed_dictionaries({}, optional={
            "email": email, "password": password, "invite": st.one_of(scalars, st.text(max_size=8)),
            "role": st.sampled_from(["admin", "editor", "root", "", None]), "extra": scalars}))
    ascii_only = data.draw(st.booleans())
    return json.dumps(value, allow_nan=True, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# (method, path kind): mostly what a client would send, so the checks past routing are reached
OPERATIONS = [("GET", "list"), ("GET", "list"), ("POST", "list"), ("POST", "list"), ("GET", "record"),
              ("PATCH", "record"), ("PATCH", "record"), ("DELETE", "record"), ("POST", "auth"), ("GET", "auth"),
              ("ANY", "list"), ("ANY", "record"), ("ANY", "app"), ("ANY", "junk_aw"), ("ANY", "static")]


def draw_request(data, ctx: Ctx) -> Req:
    method, kind = data.draw(st.sampled_from(OPERATIONS))
    if method == "ANY":
        method = data.draw(st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"]))
    path = draw_path(data, ctx, kind)
    headers = {}
    xaw = data.draw(st.sampled_from(["1"] * 8 + [None, "bad"]))
    if xaw == "bad":
        xaw = data.draw(st.sampled_from(HEADER_JUNK))
    if xaw is not None:
        headers["X-AW"] = xaw
    ctype = data.draw(st.sampled_from(CONTENT_TYPES))
    if ctype:
        headers["Content-Type"] = ctype
    who = data.draw(st.sampled_from(["anon", "alice", "alice", "alice", "bob", "admin", "editor", "junk"]))
    params = draw_params(data, ctx) if kind == "list" or data.draw(st.integers(0, 5)) == 0 else []
    content = draw_body(data, ctx, path) if method in ("POST", "PATCH", "PUT") or data.draw(
        st.integers(0, 9)) == 0 else None
    return Req(who, method, path, params, headers, content)


# -- sending and checking ---------------------------------------------------------------------
def problem(key: str, req: Req, detail: str) -> None:
    FAILURES.setdefault(key, f"{req.show()}\n    -> {detail[:400]}")
    ALL_FAILURES.setdefault(key, FAILURES[key])


@pytest.fixture(autouse=True)
def fresh_failures():
    FAILURES.clear()
    yield


def check(ctx: Ctx, req: Req, r: httpx.Response, logged: list[str]) -> None:
    """The invariants every answer must keep. `logged`: exceptions the server logged meanwhile."""
    path, status, body = r.request.url.path, r.status_code, r.content  # the path as sent (httpx drops `..`)
    if status >= 500:
        cause = logged[-1] if logged else "no exception logged"
        problem(f"{status}: {cause[:150]}", req, f"{status} {body[:200]!r}")
        return
    if req.method == "HEAD":
        return
    payload: Any = None
    if r.headers.get("content-type", "").startswith("application/json"):
        try:
            payload = json.loads(body)
        except ValueError:
            problem("invalid JSON answer", req, repr(body[:200]))
            return
    if 400 <= status < 500 and "/_aw/" in path:
        if not (isinstance(payload, dict) and isinstance(payload.get("error"), str) and payload["error"]):
            problem(f"{status} without a JSON error on /_aw/", req, repr(body[:200]))
        return
    # access: the entity API's successful answers
    parts = path.split("/")
    if status >= 300 or len(parts) < 5 or parts[1:4] != ["_aw", "api", "entities"]:
        return
    entity, uid = parts[4], ctx.uid(req.who)
    records: list = []
    if isinstance(payload, dict):
        items = payload.get("items")
        records = items if isinstance(items, list) else [payload]
        if payload.get("next"):
            ctx.cursors.append(payload["next"])
    if req.method == "POST" and status == 201:
        for rec in records:
            ctx.add(entity, rec["id"], rec.get("owner"))
        return  # creating is allowed to whoever got a 201 (checked in test_security.py)
    if entity in PRIVATE and req.who != "admin":
        if req.who in ("anon", "junk"):
            problem(f"anonymous {req.method} succeeded on {entity}", req, f"{status} {body[:200]!r}")
        for rec in records:
            if isinstance(rec, dict) and rec.get("owner") != uid:
                problem(f"{req.who} saw another user's {entity}", req, json.dumps(rec)[:300])
        if entity == "Lead":
            problem(f"non-admin {req.method} succeeded on Lead", req, f"{status} {body[:200]!r}")
    if req.method == "DELETE" and status == 204 and len(parts) >= 6 and req.who != "admin":
        owner = ctx.owners.get(parts[5], "?")
        if entity == "Thing" and owner not in ("?", uid):
            problem(f"{req.who} deleted someone else's Thing", req, f"owner {owner}")
    if req.method == "DELETE" and status == 204 and entity == "Wiki":
        problem("a Wiki page was deleted (delete: nobody)", req, "204")


def request_headers(ctx: Ctx, req: Req) -> dict[str, bytes | str]:
    headers = {k: v.encode("latin-1", "replace") for k, v in req.headers.items()}
    token = session_for(ctx, req.who, req.path)
    if token:
        headers["Cookie"] = f"{COOKIE}={token}"
    return headers


class Sender:
    """One request at a time, in process (ASGITransport) or over real HTTP."""

    def __init__(self, ctx: Ctx, server_log: list[str], url: str | None = None):
        self.ctx, self.log, self.url = ctx, server_log, url
        if url:
            self.client = httpx.Client(base_url=url, timeout=30)
        else:
            # The app runs on an event loop in its own thread: the main thread may already have one
            # running (Playwright's sync API, when the browser tests ran first in this session).
            self.loop = asyncio.new_event_loop()
            self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
            self.thread.start()
            transport = httpx.ASGITransport(app=create_app(ctx.served), raise_app_exceptions=False)
            self.aclient = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=30)

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def send(self, req: Req) -> httpx.Response | None:
        headers = request_headers(self.ctx, req)
        kw = dict(params=req.params, headers=headers, content=req.content)
        logged = len(self.log)
        try:
            if self.url:
                r = self.client.request(req.method, req.path, **kw)
                self.client.cookies.clear()
            else:
                r = self._run(self.aclient.request(req.method, req.path, **kw))
                self.aclient.cookies.clear()
        except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
            SENT["refused by the client library"] += 1
            return None
        except httpx.RemoteProtocolError as exc:  # the server dropped the connection: as bad as a 500
            problem(f"connection dropped: {exc}", req, str(exc))
            return None
        SENT["http" if self.url else "in-process"] += 1
        STATUSES[r.status_code] += 1
        check(self.ctx, req, r, self.log[logged:])
        return r

    def close(self):
        if self.url:
            self.client.close()
        else:
            self._run(self.aclient.aclose())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


def assert_still_works(ctx: Ctx, sender: Sender) -> None:
    """After fuzzing: the normal flow works and the database is sound."""
    def go(who, method, path, body=None, **params):
        req = Req(who, method, path, list(params.items()), {"X-AW": "1"},
                  json.dumps(body).encode() if body is not None else None)
        r = sender.send(req)
        assert r is not None
        return r

    r = go("alice", "POST", f"{API}/entities/Thing", {"s": "after fuzz", "n": 1.5, "i": 2, "d": "2026-11-25",
                                                      "dt": "2026-11-25T14:30:00Z", "e": "done"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    listed = go("alice", "GET", f"{API}/entities/Thing", where=json.dumps({"s": "after fuzz"}))
    assert listed.status_code == 200 and [x["id"] for x in listed.json()["items"]] == [rid]
    assert go("bob", "GET", f"{API}/entities/Thing/{rid}").status_code == 404
    assert go("alice", "PATCH", f"{API}/entities/Thing/{rid}", {"e": "todo"}).json()["e"] == "todo"
    assert go("alice", "DELETE", f"{API}/entities/Thing/{rid}").status_code == 204
    assert go("anon", "GET", f"{API}/entities/Open").status_code == 200
    assert go("alice", "GET", f"{API}/auth/me").json()["user"]["email"] == "alice@example.com"
    with contextlib.closing(sqlite3.connect(ctx.served.store.path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def failure_report() -> str:
    """This test's problems, one example each, or '' if none."""
    if not FAILURES:
        return ""
    lines = [f"{len(FAILURES)} distinct problems ({sum(SENT.values())} fuzz requests so far: {dict(SENT)}):"]
    for key, example in sorted(FAILURES.items()):
        lines.append(f"- {key}\n    {example}")
    return "\n".join(lines)


def run_examples(sender: Sender, ctx: Ctx, max_examples: int) -> None:
    @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(st.data())
    def fuzz(data):
        for _ in range(data.draw(st.integers(1, 3))):
            sender.send(draw_request(data, ctx))

    fuzz()


# -- the passes -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def inproc(tmp_path_factory, server_log):
    ctx = open_app(tmp_path_factory.mktemp("fuzz-inproc"))
    sender = Sender(ctx, server_log)
    yield ctx, sender
    sender.close()
    ctx.served.store.close()


WRONG_VALUES = [None, True, False, 0, -1, 1.5, *NUMBERS, *TRICKY_STRINGS, [], {}, [1], {"a": 1}, ["todo"],
                {"gt": 1}, "x" * 41]


CURSOR_VALUES = [None, True, 0, -1, 1.5, 2**63 - 1, 2**63, 2**64, 1e308, float("nan"), float("inf"), "", "\ud800",
                 "a\udfffb", "x" * 41, "2026-11-25T14:30:00Z", [], {}, [1, 2]]


def test_sweep_every_field_with_wrong_and_edge_values(inproc, server_log, record_property):
    """Deterministic: each field of Thing x each catalogue value, as create, update and where."""
    ctx, sender = inproc
    before = sum(SENT.values())
    mine = next(rid for rid, owner in ctx.owners.items() if owner == ctx.uid("alice"))
    for name in THING_FIELDS:
        for value in WRONG_VALUES:
            body = json.dumps({"s": "sweep", name: value} if name != "s" else {name: value}, allow_nan=True).encode()
            for method, path in (("POST", f"{API}/entities/Thing"), ("PATCH", f"{API}/entities/Thing/{mine}")):
                sender.send(Req("alice", method, path, [], {"X-AW": "1", "Content-Type": "application/json"}, body))
            for op in ("eq", "gt", "contains"):
                where = json.dumps({name: {op: value}}, allow_nan=True)
                sender.send(Req("alice", "GET", f"{API}/entities/Thing", [("where", where)], {}, None))
            sender.send(Req("alice", "GET", f"{API}/entities/Thing", [("where", json.dumps({name: value},
                                                                                          allow_nan=True))], {}, None))
    for sort in [*SORTS, *JUNK_SORTS]:
        for limit in LIMITS:
            sender.send(Req("alice", "GET", f"{API}/entities/Thing", [("sort", sort), ("limit", limit)], {}, None))
        for value in CURSOR_VALUES:
            for rid in ("", "0" * 32, "\ud800", 0, None):
                cursor = b64(json.dumps([sort, value, rid], allow_nan=True).encode())
                sender.send(Req("alice", "GET", f"{API}/entities/Thing", [("sort", sort), ("cursor", cursor)], {}, None))
    for body in NASTY_BODIES:
        for who in ("anon", "alice"):
            for path in (f"{API}/entities/Thing", f"{API}/entities/Thing/{mine}", f"{API}/auth/signup",
                         f"{API}/auth/login", f"{API}/auth/users", f"{API}/auth/invites"):
                method = "PATCH" if path.endswith(mine) else "POST"
                sender.send(Req(who, method, path, [], {"X-AW": "1"}, body))
    big = b'{"s":"' + b"a" * (1024 * 1024 + 10) + b'"}'
    r = sender.send(Req("alice", "POST", f"{API}/entities/Thing", [], {"X-AW": "1"}, big))
    assert r is not None and r.status_code == 413 and "error" in r.json()
    sent = sum(SENT.values()) - before
    record_property("sweep_requests", sent)
    report = failure_report()
    assert not report, report


def test_fuzz_in_process(inproc, server_log, record_property):
    ctx, sender = inproc
    before = SENT["in-process"]
    run_examples(sender, ctx, SCALE or 3000)
    assert_still_works(ctx, sender)
    record_property("in_process_requests", SENT["in-process"] - before)
    report = failure_report()
    assert not report, report


def test_fuzz_over_real_http(tmp_path_factory, server_log, record_property):
    ctx = open_app(tmp_path_factory.mktemp("fuzz-http"))
    try:
        with serve_asgi(create_app(ctx.served)) as url:
            sender = Sender(ctx, server_log, url)
            before = SENT["http"]
            run_examples(sender, ctx, max(SCALE // 4, 1) if SCALE else 600)
            assert_still_works(ctx, sender)
            sender.close()
            record_property("http_requests", SENT["http"] - before)
    finally:
        ctx.served.store.close()
    report = failure_report()
    assert not report, report


def test_fuzz_request_count(record_property):
    """Runs last: prints how many requests the fuzz tests sent (see it with -s)."""
    total = SENT["in-process"] + SENT["http"]
    record_property("fuzz_requests_total", total)
    print(f"\nfuzz: {total} requests sent ({dict(SENT)}); {len(ALL_FAILURES)} distinct problems")
    print(f"  answers by status: {dict(sorted(STATUSES.items()))}")
    for key in sorted(ALL_FAILURES):
        print(f"  - {key}")
    assert total >= 2000, f"only {total} fuzz requests were sent ({dict(SENT)})"
