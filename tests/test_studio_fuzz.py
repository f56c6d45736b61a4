"""Fuzzing the studio's web app with Hypothesis: never a 5xx, never a dropped connection.

    .venv/bin/python -m pytest -q -s tests/test_studio_fuzz.py                   # CI size, prints counts
    AW_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q -s tests/test_studio_fuzz.py   # a deep local run

The same approach as the runtime's tests/test_fuzz.py, on the studio of issue 13: a studio with
two people (each with an app, a turn, two versions, a flag) takes requests that mix every route
(pages, forms, the JSON API, SSE, static files, junk paths), path ids (theirs, the other's,
huge, negative, text, encoded junk), callers (anonymous, Ada, Bob, a made-up cookie, two
cookies of one name), CSRF tokens (right, wrong, the other's, missing), Origin and
Sec-Fetch-Site headers, content types, and bodies (JSON of every shape with huge numbers,
NaN, booleans, lone surrogates, deep nesting; form posts; raw bytes). One pass runs in process
(httpx's ASGITransport: fast), a smaller one over real HTTP (uvicorn on 127.0.0.1, so a
dropped connection shows).

Checked on every answer: status < 500; under /api/ a 4xx is JSON with a string `error`;
another person's app, turns and versions never answer 2xx. Failures are collected, so one
run lists every distinct problem. Afterwards the normal flow still works.

Speed: Argon2 is swapped for a cheap setting of the same hasher (hashing is not what is
fuzzed). The model fails at once (a scripted backend with no replies), so a turn started by
the fuzzer ends in milliseconds. Runs are derandomized and keep no example database.

Not covered: the turn that runs a real model; bodies over a few MiB (test_studio_security.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from appwright.runtime import auth as runtime_auth
from appwright.studio import auth
from appwright.studio.app import close_studio
from appwright.studio.db import Person
from conftest import free_port, serve_asgi
from test_studio_web import FIRST, SECOND, Studio

SCALE = int(os.environ.get("AW_FUZZ_EXAMPLES", "0"))  # 0: the CI size below
SENT: Counter = Counter()
STATUSES: Counter = Counter()
FAILURES: dict[str, str] = {}


@dataclass
class Caller:
    cookie: str | None  # the Cookie header
    csrf: str  # the token that matches it ("" for none)


@dataclass
class World:
    studio: Studio
    callers: dict[str, Caller]
    apps: dict[str, str]  # "ada" / "bob" -> app id
    turns: dict[str, int]
    versions: dict[str, int]


@pytest.fixture(scope="module", autouse=True)
def cheap_argon2():
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as mp:
        for module in (auth, runtime_auth):
            mp.setattr(module, "_hasher", cheap)
        mp.setattr(auth, "_DUMMY_HASH", cheap.hash("x"))
        mp.setattr(runtime_auth, "_DUMMY_HASH", cheap.hash("x"))
        yield


@pytest.fixture(scope="module")
def server_log():
    """Exceptions the studio logged (what is behind any 500)."""
    seen: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record):
            if record.exc_info:
                seen.append(f"{record.exc_info[0].__name__}: {record.exc_info[1]}"[:300])

    handler = Grab(level=logging.ERROR)
    loggers = [logging.getLogger(n) for n in ("appwright.studio", "appwright.runtime", "uvicorn.error")]
    for lg in loggers:
        lg.addHandler(handler)
    yield seen
    for lg in loggers:
        lg.removeHandler(handler)


def make_world(tmp_path) -> World:
    studio = Studio(tmp_path, port=free_port(), preview_port=free_port())
    callers, apps, turns, versions = {}, {}, {}, {}
    for who in ("ada", "bob"):
        c = studio.person(f"{who}@example.com")
        app_id, turn_id = studio.new_app(c, FIRST, prompt=f"{who}'s notes")
        studio.wait(c, app_id, studio.turn(c, app_id, SECOND))
        c.post(f"/api/apps/{app_id}/flags", json={"description": f"{who}'s bug"})
        apps[who], turns[who], versions[who] = app_id, turn_id, studio.versions(app_id)[0].id
        callers[who] = Caller(f"aw_studio={c.cookies['aw_studio']}", c.headers["X-CSRF-Token"])
    callers["anon"] = Caller(None, "")
    callers["junk"] = Caller("aw_studio=made-up-token", auth.csrf_token("made-up-token"))
    callers["both"] = Caller(f"{callers['ada'].cookie}; {callers['bob'].cookie}", callers["ada"].csrf)
    return World(studio, callers, apps, turns, versions)


# -- what a request is made of -----------------------------------------------------------------------
TRICKY = ["", " ", "\x00", "\ud800", "a\udfffb", "😀", "\u202e", "é", "x" * 5000, "<script>x</script>", "../..",
          "null", "true", "-1", "1e309", "NaN", "%00", "\\", "\"", "{}", "[]", "ada@example.com", "a@b.co"]
BIG = [0, -1, 1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, 10**300]
text = st.one_of(st.text(max_size=12), st.sampled_from(TRICKY))
scalar = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(BIG), st.floats(allow_nan=True),
                   text)
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                     max_leaves=6)
FIELDS = ["prompt", "model", "value", "description", "version", "url", "console_errors", "failed_requests",
          "email", "password", "next", "csrf", "extra"]
failed_request = st.fixed_dictionaries({}, optional={"method": text, "url": text, "status": scalar, "x": scalar})
field_values = {"value": st.one_of(st.sampled_from([1, -1, True, 1.0, "1", 0]), scalar),
                "console_errors": st.one_of(st.lists(text, max_size=3), value),
                "failed_requests": st.one_of(st.lists(failed_request, max_size=2), value),
                "model": st.one_of(st.sampled_from(["qwen2.5-coder-0.5b", "gpt-9"]), value),
                **{k: st.one_of(st.text(min_size=1, max_size=30), text, value)
                   for k in ("prompt", "description", "url", "email", "next")}}
FIT = {"turns": ["prompt", "model"], "rating": ["value"],
       "flags": ["description", "version", "url", "console_errors", "failed_requests"]}
json_body = st.fixed_dictionaries({}, optional={k: field_values.get(k, value) for k in FIELDS})
RAW_BODIES = [b"", b"null", b"[]", b"{", b"[" * 50_000, b'{"prompt": "\\ud800"}', b"\xff\xfe", b'{"value": 1e999}',
              b'{"description": "x", "version": ' + b"9" * 400 + b"}", b"prompt=x&csrf=y", b"\x00" * 10]
CONTENT_TYPES = ["application/json"] * 4 + ["application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=zz", "multipart/form-data", "text/plain", None]
# (method, path): each route with the method it takes; a fifth of the time another method
ROUTES = [("GET", "/"), ("GET", "/signin"), ("POST", "/signin"), ("GET", "/signup"), ("POST", "/signup"),
          ("POST", "/signout"), ("POST", "/apps"), ("GET", "/apps/{app}"), ("GET", "/apps/{app}/parts/{part}"),
          ("GET", "/apps/{app}/versions/{v}/diff"), ("POST", "/api/apps/{app}/turns"),
          ("GET", "/api/apps/{app}/turns/{t}"), ("GET", "/api/apps/{app}/turns/{t}/trajectory"),
          ("GET", "/api/apps/{app}/turns/{t}/events"), ("POST", "/api/apps/{app}/turns/{t}/stop"),
          ("POST", "/api/apps/{app}/turns/{t}/rating"), ("POST", "/api/apps/{app}/turns/{t}/rating"),
          ("POST", "/api/apps/{app}/versions/{v}/restore"), ("GET", "/api/apps/{app}/versions/{v}/grade"),
          ("POST", "/api/apps/{app}/flags"), ("POST", "/api/apps/{app}/flags"), ("GET", "/api/apps/{app}/flags"),
          ("POST", "/api/apps/{app}/preview/admin"), ("GET", "/api/apps/{app}/state"), ("GET", "/static/studio.js"),
          ("GET", "/static/../app.py"), ("GET", "/api/apps"), ("GET", "/nope/{app}"), ("GET", "/apps/{app}/{part}"),
          ("POST", "/api/apps/{app}/turns/{t}/{part}")]
METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]


def path_part(data, world: World, kind: str, who: str) -> str:
    """One path segment: mostly the caller's own app (so requests get past the ownership check)."""
    if kind == "app":
        mine = st.just(world.apps.get(who, world.apps["ada"]))
        raw = data.draw(st.one_of(mine, mine, mine, st.sampled_from(list(world.apps.values())), text,
                                  st.sampled_from(["", "0"])))
    elif kind == "part":
        raw = data.draw(st.one_of(st.sampled_from(["chat", "history", "security", "flags", "x"]), text))
    else:
        own = world.turns if kind == "t" else world.versions
        raw = data.draw(st.one_of(st.sampled_from([str(i) for i in own.values()]),
                                  st.sampled_from([str(n) for n in BIG]), st.integers().map(str), text,
                                  st.sampled_from(["1.5", "1e3", "0x10", " 1", "%00"])))
    return quote(raw.encode("utf-8", "surrogatepass"), safe="%") or "x"


@dataclass
class Req:
    who: str
    method: str
    path: str
    headers: dict[str, str]
    content: bytes | None

    def show(self) -> str:
        return f"{self.who}: {self.method} {self.path[:150]} {self.headers} {(self.content or b'')[:150]!r}"


def draw_request(data, world: World) -> Req:
    who = data.draw(st.sampled_from(["anon", "ada", "ada", "ada", "ada", "bob", "junk", "both"]))
    method, template = data.draw(st.sampled_from(ROUTES))
    if data.draw(st.integers(0, 4)) == 0:
        method = data.draw(st.sampled_from(METHODS))
    path = template
    for kind in ("app", "part", "t", "v"):
        if "{" + kind + "}" in path:
            path = path.replace("{" + kind + "}", path_part(data, world, kind, who))
    if data.draw(st.integers(0, 5)) == 0:
        path += "?" + quote_from_bytes(data.draw(text).encode("utf-8", "surrogatepass")) + "=" + \
            quote_from_bytes(data.draw(text).encode("utf-8", "surrogatepass"))
    headers: dict[str, str] = {}
    csrf = data.draw(st.sampled_from(["right"] * 6 + ["other", "junk", None]))
    if csrf == "right":
        headers["X-CSRF-Token"] = world.callers[who].csrf
    elif csrf == "other":
        headers["X-CSRF-Token"] = world.callers["bob" if who == "ada" else "ada"].csrf
    elif csrf == "junk":
        headers["X-CSRF-Token"] = data.draw(st.sampled_from(["", "0" * 64, "x" * 500]))
    origin = data.draw(st.sampled_from([None] * 4 + ["own"] * 4 + ["http://evil.example", "null"]))
    if origin:
        headers["Origin"] = world.studio.config.studio_origin if origin == "own" else origin
    if data.draw(st.integers(0, 9)) == 0:
        headers["Sec-Fetch-Site"] = data.draw(st.sampled_from(["same-origin", "cross-site", "none", "x"]))
    if path.endswith("/events") and data.draw(st.booleans()):
        headers["Last-Event-ID"] = data.draw(st.sampled_from(["-5", "0", "3", "1e9", "abc", "9" * 30, ""]))
    content = None
    if method in ("POST", "PUT", "PATCH") or data.draw(st.integers(0, 9)) == 0:
        ctype = data.draw(st.sampled_from(CONTENT_TYPES))
        if ctype:
            headers["Content-Type"] = ctype
        shape = data.draw(st.sampled_from(["json", "json", "json", "form", "raw"]))
        if shape == "json":
            fit = FIT.get(path.split("?")[0].rsplit("/", 1)[-1])
            if fit and data.draw(st.booleans()):  # the route's own fields: past validation, into the handler
                versions = st.sampled_from(list(world.versions.values()))
                strategies = {k: st.one_of(versions, scalar) if k == "version" else field_values.get(k, value)
                              for k in fit}
                body = data.draw(st.fixed_dictionaries({fit[0]: strategies[fit[0]]},
                                                       optional={k: strategies[k] for k in fit[1:]}))
            else:
                body = data.draw(json_body)
            content = json.dumps(body, allow_nan=True, ensure_ascii=data.draw(st.booleans())).encode(
                "utf-8", "surrogatepass")
        elif shape == "form":
            fields = data.draw(st.dictionaries(st.sampled_from(FIELDS), text, max_size=4))
            if data.draw(st.booleans()):
                fields["csrf"] = world.callers[who].csrf
            content = "&".join(f"{k}={quote_from_bytes(v.encode('utf-8', 'surrogatepass'))}"
                               for k, v in fields.items()).encode()
        else:
            content = data.draw(st.sampled_from(RAW_BODIES))
    return Req(who, method, path, headers, content)


# -- sending and checking ---------------------------------------------------------------------------------
def problem(key: str, req: Req, detail: str) -> None:
    FAILURES.setdefault(key, f"{req.show()}\n    -> {detail[:300]}")


def check(world: World, req: Req, r: httpx.Response, logged: list[str]) -> None:
    if r.status_code >= 500:
        cause = logged[-1] if logged else "no exception logged"
        problem(f"{r.status_code}: {cause[:150]}", req, r.text[:200])
        return
    path = r.request.url.path
    if path.startswith("/api/") and 400 <= r.status_code < 500 and req.method != "HEAD":
        try:
            error = r.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if not (isinstance(error, str) and error):
            problem(f"{r.status_code} without a JSON error under /api/", req, r.text[:200])
    others = {"ada": world.apps["bob"], "bob": world.apps["ada"]}
    if r.status_code < 300 and req.who in others and others[req.who] in path:
        problem(f"{req.who} got a 2xx on the other person's app", req, f"{r.status_code} {r.text[:200]}")
    if r.status_code < 300 and req.who in ("anon", "junk", "both") and "/api/apps/" in path:
        problem("a 2xx on the API without a single valid session", req, f"{r.status_code} {r.text[:200]}")


class Sender:
    """One request at a time: in process (httpx's ASGITransport on a loop of its own) or over HTTP."""

    def __init__(self, world: World, log: list[str], url: str | None = None):
        self.world, self.log, self.url = world, log, url
        host = world.studio.config.studio_origin
        if url:
            self.client = httpx.Client(base_url=url, timeout=30)
        else:
            self.loop = asyncio.new_event_loop()
            self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
            self.thread.start()
            transport = httpx.ASGITransport(app=world.studio.app, raise_app_exceptions=False)
            self.aclient = httpx.AsyncClient(transport=transport, base_url=host, timeout=30)

    def send(self, req: Req) -> httpx.Response | None:
        headers = dict(req.headers)
        cookie = self.world.callers[req.who].cookie
        if req.path.startswith("/signout") and req.who in ("ada", "bob"):  # a throwaway session: the callers stay in
            with self.world.studio.db.session() as s:
                person = s.scalar(select(Person).where(Person.email == f"{req.who}@example.com"))
            token = auth.start_session(self.world.studio.db, person, 1)
            cookie, headers["X-CSRF-Token"] = f"aw_studio={token}", auth.csrf_token(token)
        if cookie:
            headers["Cookie"] = cookie
        logged = len(self.log)
        try:
            if self.url:
                r = self.client.request(req.method, req.path, headers=headers, content=req.content)
                self.client.cookies.clear()
            else:
                future = asyncio.run_coroutine_threadsafe(
                    self.aclient.request(req.method, req.path, headers=headers, content=req.content), self.loop)
                r = future.result(timeout=60)
                self.aclient.cookies.clear()
        except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
            SENT["refused by the client library"] += 1
            return None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:  # the server dropped the connection
            problem(f"connection dropped: {type(exc).__name__}", req, str(exc))
            return None
        SENT["http" if self.url else "in-process"] += 1
        STATUSES[r.status_code] += 1
        check(self.world, req, r, self.log[logged:])
        return r

    def close(self) -> None:
        if self.url:
            self.client.close()
        else:
            asyncio.run_coroutine_threadsafe(self.aclient.aclose(), self.loop).result(timeout=30)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


def run_examples(sender: Sender, world: World, n: int) -> None:
    @settings(max_examples=n, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def fuzz(data):
        sender.send(draw_request(data, world))

    fuzz()


def still_works(world: World) -> None:
    studio = world.studio
    for who in ("ada", "bob"):
        c = studio.client()
        c.headers.update({"Cookie": world.callers[who].cookie, "X-CSRF-Token": world.callers[who].csrf})
        app_id = world.apps[who]
        state = c.get(f"/api/apps/{app_id}/state")
        assert state.status_code == 200 and state.json()["head"] is not None, state.text
        assert c.post(f"/api/apps/{app_id}/flags", json={"description": "after fuzzing"}).status_code == 201
        assert c.get(f"/apps/{app_id}").status_code == 200


def report() -> str:
    if not FAILURES:
        return ""
    lines = [f"{len(FAILURES)} distinct problems ({dict(SENT)}):"]
    lines += [f"- {key}\n    {example}" for key, example in sorted(FAILURES.items())]
    return "\n".join(lines)


def test_fuzz_the_studio_in_process_and_over_http(tmp_path, server_log, record_property):
    world = make_world(tmp_path)
    try:
        sender = Sender(world, server_log)
        run_examples(sender, world, SCALE or 2000)
        sender.close()
        with serve_asgi(world.studio.app, world.studio.config.port) as url:
            sender = Sender(world, server_log, url)
            run_examples(sender, world, max(SCALE // 5, 1) if SCALE else 300)
            sender.close()
        still_works(world)
    finally:
        close_studio(world.studio.app)
    total = SENT["in-process"] + SENT["http"]
    record_property("studio_fuzz_requests", total)
    print(f"\nstudio fuzz: {total} requests ({dict(SENT)}); answers by status: {dict(sorted(STATUSES.items()))}")
    assert not report(), report()
    assert SENT["in-process"] >= (SCALE or 2000) * 0.9, dict(SENT)  # the client library refused few of them
