"""The studio's web app in-process (appwright/studio/): people, CSRF, apps, turns and their SSE
streams, stop, versions and restore (files and data), ratings, flags, the security panel, the
preview origin, bad input, and privacy between two people.

The model is a scripted backend (`Model`) whose replies are real bundles in the files
protocol; check_app runs without a browser and the security probe without its browser checks,
so these tests need no Chromium (tests/test_studio_browser.py drives the real thing).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from appwright.models.base import GenerationConfig, ModelError
from appwright.models.registry import DEFAULT_MODEL, load_registry
from appwright.models.scripted import ScriptedBackend
from appwright.studio import api, bundles, pages
from appwright.studio.app import close_studio, create_studio
from appwright.studio.config import StudioConfig
from appwright.studio.db import App, AppVersion, Flag, GradeRow, Person, Rating, StudioSession, TrajectoryRow, Turn
from appwright.studio.preview import OWNER_EMAIL
from appwright.studio.live import StudioEvent
from appwright.workspace import get
from conftest import EXAMPLES, free_port, serve_asgi

PASSWORD = "correct horse battery"
NOTES = {p.name: p.read_text() for p in sorted((EXAMPLES / "notes").iterdir()) if p.is_file()}
OTHER_MODEL = next(name for name in load_registry() if name != DEFAULT_MODEL)


def files_reply(files: dict[str, str], text: str) -> str:
    """An answer in the files protocol: every file as a <file> block, then the reply."""
    return "".join(f'<file path="{p}">\n{c}\n</file>\n' for p, c in files.items()) + text


def notes_app(name: str = "Private notes", marker: str = "", extra: dict[str, str] | None = None) -> dict[str, str]:
    """The notes example, renamed, with `marker` as a paragraph on its page."""
    manifest = json.loads(NOTES["app.json"])
    manifest["name"] = name
    index = NOTES["index.html"].replace("<h1>Private notes</h1>", f"<h1>{name}</h1><p id='marker'>{marker}</p>")
    return {**NOTES, "app.json": json.dumps(manifest, indent=2), "index.html": index, **(extra or {})}


FIRST = files_reply(notes_app("Private notes", "first version"), "A private notes app: each person sees only their notes.")
SECOND = files_reply(notes_app("Pinned notes", "second version"), "Renamed it to Pinned notes.")


class Model(ScriptedBackend):
    """The studio's model in these tests: replies queued by the test; with `delay`, each reply
    streams in 40-character tokens with a pause after each (for Stop and live SSE)."""

    def __init__(self):
        super().__init__([], name="test-model")
        self.delay = 0.0
        self.streaming = threading.Event()  # set on the first token of a slow reply
        self.loaded: list[str] = []

    def complete(self, messages, tools=None, config=GenerationConfig(), on_token=None):
        if self.delay and on_token and self.replies:
            text = self.replies[0]
            for i in range(0, len(text), 40):
                on_token(text[i:i + 40])  # raises when the turn is stopped: the reply stays queued
                self.streaming.set()
                time.sleep(self.delay)
            on_token = None
        return super().complete(messages, tools, config, on_token)


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([0-9a-f]*)">', html).group(1)


class Studio:
    """One studio under test: its app, config, model, and helpers to act as people."""

    def __init__(self, tmp_path: Path, **config):
        self.model = Model()
        self.config = StudioConfig(data_dir=tmp_path / "studio", check_in_browser=False, grade_in_browser=False,
                                   **config)

        def factory(name: str):
            self.model.loaded.append(name)
            return self.model

        self.app = create_studio(self.config, backend_factory=factory)
        self.db = self.app.state.db

    def client(self, **kw) -> TestClient:
        """A browser of the studio, at its configured origin (it answers to no other host)."""
        return TestClient(self.app, **{"base_url": self.config.studio_origin, "follow_redirects": False, **kw})

    def person(self, email: str) -> TestClient:
        """A client signed up as `email`; its X-CSRF-Token header is set for the API."""
        c = self.client()
        token = csrf_of(c.get("/signup").text)
        r = c.post("/signup", data={"email": email, "password": PASSWORD, "csrf": token})
        assert r.status_code == 303, r.text
        c.headers["X-CSRF-Token"] = csrf_of(c.get("/").text)
        return c

    def new_app(self, c: TestClient, reply: str = FIRST, prompt: str = "a private notes app",
                model: str = DEFAULT_MODEL) -> tuple[str, int]:
        """Create an app from a prompt; returns (app id, its first turn id), the turn finished."""
        self.model.replies.append(reply)
        r = c.post("/apps", data={"prompt": prompt, "model": model, "csrf": c.headers["X-CSRF-Token"]})
        assert r.status_code == 303, r.text
        app_id = r.headers["location"].rsplit("/", 1)[1]
        with self.db.session() as s:
            turn_id = s.scalar(select(Turn.id).where(Turn.app_id == app_id))
        self.wait(c, app_id, turn_id)
        return app_id, turn_id

    def turn(self, c: TestClient, app_id: str, reply: str | None, prompt: str = "make a change") -> int:
        if reply is not None:
            self.model.replies.append(reply)
        r = c.post(f"/api/apps/{app_id}/turns", json={"prompt": prompt})
        assert r.status_code == 202, r.text
        return r.json()["turn"]["id"]

    def wait(self, c: TestClient, app_id: str, turn_id: int, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            turn = c.get(f"/api/apps/{app_id}/turns/{turn_id}").json()["turn"]
            if turn["status"] != "running":
                return turn
            time.sleep(0.05)
        raise AssertionError(f"turn {turn_id} still running after {timeout} s")

    def wait_grade(self, app_id: str, vid: str, timeout: float = 60) -> GradeRow:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as s:
                row = s.scalar(select(GradeRow).where(GradeRow.app_id == app_id, GradeRow.vid == vid))
            if row is not None:
                return row
            status = self.app.state.security.status(app_id, vid)
            assert not (status or "").startswith("error"), status
            time.sleep(0.1)
        raise AssertionError(f"no grade for {vid} after {timeout} s")

    def app_row(self, app_id: str) -> App:
        with self.db.session() as s:
            return s.get(App, app_id)

    def versions(self, app_id: str) -> list[AppVersion]:
        with self.db.session() as s:
            return list(s.scalars(select(AppVersion).where(AppVersion.app_id == app_id).order_by(AppVersion.id)))

    def preview(self, **kw) -> TestClient:
        """A browser of the preview origin. https: the app's cookie there is Secure (allowed on
        http://localhost by browsers, but never sent over http by httpx's cookie jar)."""
        return TestClient(self.app.state.previews,
                          **{"base_url": self.config.preview_origin.replace("http:", "https:"), **kw})


@pytest.fixture
def studio(tmp_path):
    s = Studio(tmp_path)
    yield s
    close_studio(s.app)


def events_of(text: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of an SSE body."""
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


# 1. People ------------------------------------------------------------------------------------------

def test_sign_up_sign_in_sign_out(studio):
    c = studio.client()
    assert c.get("/").headers["location"] == "/signin?next=/"
    page = c.get("/signup")
    assert page.status_code == 200 and "Create your account" in page.text
    token = csrf_of(page.text)
    r = c.post("/signup", data={"email": "Ada@Example.com", "password": PASSWORD, "csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "aw_studio=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    home = c.get("/")
    assert home.status_code == 200 and "ada@example.com" in home.text and "What do you want to build?" in home.text
    with studio.db.session() as s:
        person = s.scalar(select(Person).where(Person.email == "ada@example.com"))
        assert person.password_hash.startswith("$argon2id$") and PASSWORD not in person.password_hash
        stored = s.scalars(select(StudioSession.token_hash)).all()
    assert stored == [hashlib.sha256(c.cookies["aw_studio"].encode()).hexdigest()]  # only the hash is kept

    r = c.post("/signout", data={"csrf": csrf_of(home.text)})
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    with studio.db.session() as s:
        assert s.scalars(select(StudioSession)).all() == []
    assert c.get("/").status_code == 303

    page = c.get("/signin")
    token = csrf_of(page.text)
    bad = c.post("/signin", data={"email": "ada@example.com", "password": "wrong password", "csrf": token})
    assert bad.status_code == 400 and "wrong email or password" in bad.text and 'value="ada@example.com"' in bad.text
    unknown = c.post("/signin", data={"email": "nobody@example.com", "password": PASSWORD, "csrf": token})
    assert unknown.status_code == 400 and "wrong email or password" in unknown.text
    r = c.post("/signin", data={"email": "ada@example.com", "password": PASSWORD, "csrf": token,
                                "next": "/apps/x"})
    assert r.status_code == 303 and r.headers["location"] == "/apps/x"
    assert c.get("/").status_code == 200
    # open redirects are refused
    c2 = studio.client()
    t2 = csrf_of(c2.get("/signin").text)
    r = c2.post("/signin", data={"email": "ada@example.com", "password": PASSWORD, "csrf": t2,
                                 "next": "//evil.example/"})
    assert r.headers["location"] == "/"


def test_sign_up_refuses_bad_input_with_a_message(studio):
    studio.person("ada@example.com")
    c = studio.client()
    token = csrf_of(c.get("/signup").text)
    for email, password, message in [("ada@example.com", PASSWORD, "already exists"),
                                     ("not-an-email", PASSWORD, "expected an email address"),
                                     ("bob@example.com", "short", "too short")]:
        r = c.post("/signup", data={"email": email, "password": password, "csrf": token})
        assert r.status_code == 400 and message in r.text, (email, r.text)


def test_every_state_changing_request_needs_the_csrf_token(studio):
    ada = studio.person("ada@example.com")
    app_id, turn_id = studio.new_app(ada)
    version_id = studio.versions(app_id)[0].id
    bare = studio.client(cookies=ada.cookies)  # her cookie, no token
    params = {"app_id": app_id, "turn_id": turn_id, "version_id": version_id}
    posts = [(r.path, r.methods) for router in (pages.router, api.router) for r in router.routes
             if r.methods - {"GET", "HEAD"}]
    assert len(posts) >= 9  # sign-in, sign-up, sign-out, new app, turn, stop, rating, restore, flag
    for path, _ in posts:
        url = path.format(**params)
        assert bare.post(url, data={"x": "1"}).status_code == 403, url
        assert bare.post(url, json={}, headers={"X-CSRF-Token": "0" * 64}).status_code == 403, url
    r = bare.post(f"/api/apps/{app_id}/turns", json={"prompt": "x"})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    # the right token from another site is refused too (Origin, Sec-Fetch-Site)
    token = ada.headers["X-CSRF-Token"]
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "same-site"},
                    {"Sec-Fetch-Site": "cross-site"}):
        r = bare.post(f"/api/apps/{app_id}/turns/{turn_id}/rating", json={"value": 1},
                      headers={"X-CSRF-Token": token, **headers})
        assert r.status_code == 403, headers
    ok = bare.post(f"/api/apps/{app_id}/turns/{turn_id}/rating", json={"value": 1},
                   headers={"X-CSRF-Token": token, "Origin": studio.config.studio_origin, "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200
    # a signed-out form needs the token tied to its pre-session cookie
    anon = studio.client()
    assert anon.post("/signin", data={"email": "ada@example.com", "password": PASSWORD}).status_code == 403


# 2. Apps and turns --------------------------------------------------------------------------------------

def test_a_prompt_makes_an_app_whose_turn_makes_a_version(studio):
    ada = studio.person("ada@example.com")
    app_id, turn_id = studio.new_app(ada, model=OTHER_MODEL)
    turn = ada.get(f"/api/apps/{app_id}/turns/{turn_id}").json()["turn"]
    assert turn["status"] == "done" and turn["stop_reason"] == "answered" and turn["reply"].startswith("A private")
    assert studio.model.loaded == [OTHER_MODEL]
    app = studio.app_row(app_id)
    assert app.model == OTHER_MODEL and app.name == "Private notes" and app.head == turn["vid"]
    [version] = studio.versions(app_id)
    assert (version.source, version.vid, version.parent, version.turn_id) == ("agent", app.head, None, turn_id)
    bundle = studio.config.apps_dir / app_id
    assert json.loads((bundle / "app.json").read_text())["name"] == "Private notes"
    saved = get(bundle, app.head)
    assert saved.data is not None and set(saved.files) == set(NOTES)  # files and data together
    with studio.db.session() as s:
        row = s.scalar(select(TrajectoryRow).where(TrajectoryRow.turn_id == turn_id))
    assert row.data["stop_reason"] == "answered" and row.data["model"] == OTHER_MODEL
    assert ada.get(f"/api/apps/{app_id}/turns/{turn_id}/trajectory").json()["id"] == row.id
    assert not (studio.config.runs_dir / str(turn_id)).exists()  # the scratch folder is gone

    page = ada.get(f"/apps/{app_id}")
    assert page.status_code == 200 and "A private notes app" in page.text
    assert f"{studio.config.preview_origin}/apps/{app.preview_key}/" in page.text
    home = ada.get("/")
    assert "Private notes" in home.text and "1 version" in home.text
    # the preview serves it, under its capability key only
    preview = studio.preview()
    assert "first version" in preview.get(f"/apps/{app.preview_key}/").text
    assert preview.get(f"/apps/{app_id}/").status_code == 404


def test_a_change_makes_a_second_version_from_the_current_files(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    first = studio.app_row(app_id).head
    turn = studio.wait(ada, app_id, studio.turn(ada, app_id, SECOND, "call it Pinned notes"))
    assert turn["status"] == "done" and turn["vid"] != first
    assert '<file path="notes.js">' in studio.model.calls[-1][1].content  # the agent saw the app's files
    v1, v2 = studio.versions(app_id)
    assert v2.parent == v1.vid and v2.source == "agent" and studio.app_row(app_id).head == v2.vid
    assert studio.app_row(app_id).name == "Pinned notes"
    assert "second version" in studio.preview().get(f"/apps/{studio.app_row(app_id).preview_key}/").text
    diff = ada.get(f"/apps/{app_id}/versions/{v2.id}/diff")
    assert diff.status_code == 200 and "Pinned notes" in diff.text and 'class="d-add"' in diff.text
    first_diff = ada.get(f"/apps/{app_id}/versions/{v1.id}/diff")
    assert "added: app.json" in first_diff.text


def test_a_failed_turn_keeps_the_app_as_it_was(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    head = studio.app_row(app_id).head
    broken = files_reply({"app.json": '{"name": "x", "entities": {"A": {"fields": {"t": {"type": "txt"}}}}}'}, "?")
    studio.model.replies += [broken, broken]  # the answer, the repair the check asks for, and (identical) again
    turn = studio.wait(ada, app_id, studio.turn(ada, app_id, broken))
    assert turn["status"] == "failed" and turn["stop_reason"] == "check_failed" and "txt" in turn["error"]
    assert studio.app_row(app_id).head == head and len(studio.versions(app_id)) == 1
    assert "first version" in (studio.config.apps_dir / app_id / "index.html").read_text()
    # a model that fails fails the turn with its message
    turn = studio.wait(ada, app_id, studio.turn(ada, app_id, None))
    assert turn["status"] == "failed" and "no replies left" in turn["error"]


def test_sse_stream_delivers_the_turns_events(studio):
    ada = studio.person("ada@example.com")
    app_id, turn_id = studio.new_app(ada)
    r = ada.get(f"/api/apps/{app_id}/turns/{turn_id}/events")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = events_of(r.text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "status" and kinds[-1] == "done" and kinds.count("done") == 1
    assert {"step", "token", "file", "check"} <= set(kinds)
    assert "".join(d["text"] for k, d in events if k == "token") == FIRST
    assert sum(k == "file" for k in kinds) == len(NOTES)
    done = events[-1][1]["done"]
    assert done["status"] == "done" and done["version_number"] == 1 and done["vid"] == studio.app_row(app_id).head
    # Last-Event-ID resumes after what was seen
    resumed = events_of(ada.get(f"/api/apps/{app_id}/turns/{turn_id}/events",
                                headers={"Last-Event-ID": str(len(events) - 2)}).text)
    assert [k for k, _ in resumed] == ["done"]


def test_sse_streams_live_over_http_while_the_turn_runs(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    studio.model.delay = 0.02
    turn_id = studio.turn(ada, app_id, SECOND)
    with serve_asgi(studio.app) as url, httpx.Client(base_url=url, cookies=dict(ada.cookies), timeout=30) as c:
        with c.stream("GET", f"/api/apps/{app_id}/turns/{turn_id}/events") as r:
            lines = r.iter_lines()
            next(line for line in lines if line.startswith("event: token"))
            # a token arrived while the model is still writing
            assert c.get(f"/api/apps/{app_id}/turns/{turn_id}").json()["turn"]["status"] == "running"
            rest = "\n".join(lines)
    assert "event: done" in rest and studio.wait(ada, app_id, turn_id)["status"] == "done"


def test_one_running_turn_per_app_and_stop(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    head = studio.app_row(app_id).head
    studio.model.delay = 0.05
    turn_id = studio.turn(ada, app_id, SECOND)
    assert studio.model.streaming.wait(10)
    busy = ada.post(f"/api/apps/{app_id}/turns", json={"prompt": "another"})
    assert busy.status_code == 409 and "still working" in busy.json()["error"]
    v1 = studio.versions(app_id)[0].id
    assert ada.post(f"/api/apps/{app_id}/versions/{v1}/restore").status_code == 409  # no restore meanwhile
    assert ada.post(f"/api/apps/{app_id}/turns/{turn_id}/rating", json={"value": 1}).status_code == 409
    assert ada.post(f"/api/apps/{app_id}/turns/{turn_id}/stop").status_code == 202
    turn = studio.wait(ada, app_id, turn_id)
    assert turn["status"] == "stopped" and turn["stop_reason"] == "stopped" and turn["vid"] is None
    assert studio.app_row(app_id).head == head and len(studio.versions(app_id)) == 1
    traj = ada.get(f"/api/apps/{app_id}/turns/{turn_id}/trajectory").json()
    assert traj["stop_reason"] == "stopped" and traj["steps"] == []
    assert ada.post(f"/api/apps/{app_id}/turns/{turn_id}/stop").status_code == 409
    events = events_of(ada.get(f"/api/apps/{app_id}/turns/{turn_id}/events").text)
    assert events[-1][1]["done"]["status"] == "stopped" and any(k == "token" for k, _ in events)
    # the app takes turns again
    studio.model.delay = 0
    assert studio.wait(ada, app_id, studio.turn(ada, app_id, None))["status"] == "done"


# 3. Versions, ratings, flags, grades -----------------------------------------------------------------------

def test_restore_brings_back_files_and_data(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    key = studio.app_row(app_id).preview_key
    preview = studio.preview()
    api_base = f"/apps/{key}/_aw/api"
    # a record made in the preview while v1 is live
    r = preview.post(f"{api_base}/auth/signup", json={"email": "u@example.com", "password": PASSWORD},
                     headers={"X-AW": "1"})
    assert r.status_code == 201
    assert preview.post(f"{api_base}/entities/Note", json={"title": "milk"}, headers={"X-AW": "1"}).status_code == 201
    studio.wait(ada, app_id, studio.turn(ada, app_id, SECOND))  # v2 is saved with that record
    v1, v2 = studio.versions(app_id)
    notes = lambda: [n["title"] for n in preview.get(f"{api_base}/entities/Note").json()["items"]]  # noqa: E731
    assert notes() == ["milk"]

    r = ada.post(f"/api/apps/{app_id}/versions/{v1.id}/restore")
    assert r.status_code == 200 and r.json()["data"] == "restored"
    assert "first version" in preview.get(f"/apps/{key}/").text
    assert preview.get(f"{api_base}/auth/me").status_code == 401  # v1's data had no users yet
    rows = studio.versions(app_id)
    restored = rows[-1]
    assert (restored.source, restored.vid) == ("restore", v1.vid) and studio.app_row(app_id).head == v1.vid
    assert r.json()["version"]["id"] == restored.id and r.json()["version"]["is_head"]

    r = ada.post(f"/api/apps/{app_id}/versions/{v2.id}/restore")
    assert r.status_code == 200
    assert "second version" in preview.get(f"/apps/{key}/").text
    assert notes() == ["milk"]  # signed in again: v2's data holds her session and her note
    assert studio.app_row(app_id).head == v2.vid
    history = ada.get(f"/apps/{app_id}/parts/history").text
    assert history.count('class="badge src-restore"') == 2 and "restored v1" in history
    assert ada.post(f"/api/apps/{app_id}/versions/{v2.id}/restore").status_code == 409  # already current
    unknown = ada.post(f"/api/apps/{app_id}/versions/999999/restore")
    assert unknown.status_code == 404 and unknown.json() == {"error": "no such version"}


def test_the_owner_signs_in_to_the_preview_as_its_admin(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    key = studio.app_row(app_id).preview_key
    api_base = f"/apps/{key}/_aw/api"
    visitor = studio.preview()
    assert visitor.post(f"{api_base}/auth/signup", json={"email": "u@example.com", "password": PASSWORD},
                        headers={"X-AW": "1"}).status_code == 201
    assert visitor.post(f"{api_base}/entities/Note", json={"title": "milk"}, headers={"X-AW": "1"}).status_code == 201

    url = ada.post(f"/api/apps/{app_id}/preview/admin").json()["url"]
    assert url.startswith(f"{studio.config.preview_origin}/apps/{key}/_studio/admin?ticket=")
    store = studio.app.state.previews.host.apps[key][0].store
    assert [u.email for u in store.list_users()] == ["u@example.com"]  # nothing changes until it is used
    owner = studio.preview(follow_redirects=False)
    link = url.removeprefix(studio.config.preview_origin)
    r = owner.get(link)
    assert r.status_code == 303 and r.headers["location"] == f"/apps/{key}/"
    cookie = r.headers["set-cookie"]
    assert f"Path=/apps/{key}/" in cookie and "HttpOnly" in cookie
    assert "SameSite=None; Secure; Partitioned" in cookie  # the studio frames the preview cross-site
    me = owner.get(f"{api_base}/auth/me").json()["user"]
    assert (me["email"], me["role"]) == (OWNER_EMAIL, "admin")
    # an admin reads every record of an owner-only entity, the visitor's too
    assert [n["title"] for n in owner.get(f"{api_base}/entities/Note").json()["items"]] == ["milk"]
    # the account is reserved: nobody signs in or up with it, whatever the password
    for route in ("login", "signup"):
        r = visitor.post(f"{api_base}/auth/{route}", json={"email": OWNER_EMAIL, "password": PASSWORD},
                         headers={"X-AW": "1"})
        assert r.status_code == 400 and "reserved" in r.json()["error"], route

    # a link works once, for this app only, and a second ticket reuses the same account
    used = studio.preview(follow_redirects=False).get(link)
    assert used.status_code == 403 and "used already or has expired" in used.text and "set-cookie" not in used.headers
    again = ada.post(f"/api/apps/{app_id}/preview/admin").json()["url"].removeprefix(studio.config.preview_origin)
    other_app, _ = studio.new_app(ada, prompt="another notes app")
    wrong = again.replace(key, studio.app_row(other_app).preview_key)
    assert studio.preview().get(wrong).status_code == 403
    users = studio.app.state.previews.host.apps[key][0].store.list_users()
    assert sorted((u.email, u.role) for u in users) == [(OWNER_EMAIL, "admin"), ("u@example.com", None)]
    # nobody else may ask for one
    bob = studio.person("bob@example.com")
    assert bob.post(f"/api/apps/{app_id}/preview/admin").status_code == 404


def test_rating_one_per_person_and_turn_last_counts(studio):
    ada = studio.person("ada@example.com")
    app_id, turn_id = studio.new_app(ada)
    url = f"/api/apps/{app_id}/turns/{turn_id}/rating"
    assert ada.post(url, json={"value": 1}).json() == {"turn": turn_id, "rating": 1}
    assert ada.post(url, json={"value": -1}).status_code == 200
    with studio.db.session() as s:
        assert [(r.turn_id, r.value) for r in s.scalars(select(Rating))] == [(turn_id, -1)]
    assert ada.get(f"/api/apps/{app_id}/turns/{turn_id}").json()["turn"]["rating"] == -1
    chat = ada.get(f"/apps/{app_id}/parts/chat").text
    assert re.search(r'data-rate="-1" aria-pressed="true"', chat) and 'data-rate="1" aria-pressed="false"' in chat
    r = ada.post(url, json={"value": 2})
    assert r.status_code == 400 and "value" in r.json()["error"]


def test_flag_stores_the_captured_context_without_the_preview_key(studio):
    ada = studio.person("ada@example.com")
    app_id, turn_id = studio.new_app(ada)
    key = studio.app_row(app_id).preview_key
    body = {"description": "Share does nothing", "url": f"/apps/{key}/index.html?x=1",
            "console_errors": [f"Uncaught ReferenceError: share is not defined (http://h/apps/{key}/notes.js:3)"],
            "failed_requests": [{"method": "POST", "url": f"/apps/{key}/_aw/api/entities/Note", "status": 400}]}
    r = ada.post(f"/api/apps/{app_id}/flags", json=body)
    assert r.status_code == 201, r.text
    with studio.db.session() as s:
        flag = s.scalar(select(Flag))
    assert flag.vid == studio.app_row(app_id).head and flag.turn_id == turn_id and flag.url == "/index.html?x=1"
    assert flag.console_errors == ["Uncaught ReferenceError: share is not defined (http://h/notes.js:3)"]
    assert flag.failed_requests == [{"method": "POST", "url": "/_aw/api/entities/Note", "status": 400}]
    assert key not in json.dumps(ada.get(f"/api/apps/{app_id}/flags").json())
    assert "Share does nothing" in ada.get(f"/apps/{app_id}/parts/flags").text
    # bad input: a clear 4xx each
    for bad, status, message in [({"description": "  "}, 400, "describe the bug"),
                                 ({"description": "x" * 2001}, 400, "too long"),
                                 ({"description": "x", "version": 999999}, 404, "no such version"),
                                 ({"description": "x", "console_errors": ["e"] * 51}, 400, "console_errors"),
                                 ({"description": "x", "colour": "red"}, 400, "colour")]:
        r = ada.post(f"/api/apps/{app_id}/flags", json=bad)
        assert r.status_code == status and message in r.json()["error"], (bad, r.text)


@pytest.mark.solo
def test_security_grade_of_each_new_version_failing_checks_first(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    v1 = studio.app_row(app_id).head
    grade = studio.wait_grade(app_id, v1)
    assert grade.total >= 3 and grade.passed == grade.total and grade.ok
    assert {c["kind"] for c in grade.checks} >= {"isolation", "security"}
    assert all(c["evidence"] for c in grade.checks)
    key = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"  # split so no scanner takes this file for a leak
    files = notes_app("Leaky notes", "v2", {"pay.js": f'const stripe = "{key}";\n'})
    files["index.html"] = files["index.html"].replace("</body>", '<script src="pay.js"></script>\n</body>')
    leaky = files_reply(files, "Added payments.")  # the page loads pay.js: it is kept (agent/junk.py)
    studio.wait(ada, app_id, studio.turn(ada, app_id, leaky))
    v2 = studio.app_row(app_id).head
    grade = studio.wait_grade(app_id, v2)
    assert not grade.ok and grade.passed == grade.total - 1
    version_id = studio.versions(app_id)[-1].id
    body = ada.get(f"/api/apps/{app_id}/versions/{version_id}/grade").json()
    assert body["status"] == "done" and body["checks"][0]["name"] == "secrets" and not body["checks"][0]["passed"]
    assert "Stripe" in body["checks"][0]["evidence"]
    panel = ada.get(f"/apps/{app_id}/parts/security").text
    assert panel.index("secrets") < panel.index("isolation-Note")
    assert f"{grade.passed} of {grade.total} checks passed" in panel
    # a restore brings back v1's grade without grading again
    before = time.monotonic()
    ada.post(f"/api/apps/{app_id}/versions/{studio.versions(app_id)[0].id}/restore")
    assert "checks passed" in ada.get(f"/apps/{app_id}/parts/security").text and time.monotonic() - before < 5
    with studio.db.session() as s:
        assert len(s.scalars(select(GradeRow)).all()) == 2


# 4. Bad input: a clear 4xx, never a 500 ---------------------------------------------------------------------

def test_bad_input_gets_a_clear_4xx(studio):
    ada = studio.person("ada@example.com")
    token = ada.headers["X-CSRF-Token"]
    for data, message in [({"prompt": "   "}, "the request is empty"),
                          ({"prompt": "x" * 4001}, "too long"),
                          ({"prompt": "notes", "model": "gpt-9"}, "unknown model &#39;gpt-9&#39;"),
                          ({"prompt": "a shop that takes payments by card"}, "cannot take payments"),
                          ({"prompt": "une application pour mes recettes et les notes de chaque recette"}, "in English")]:
        r = ada.post("/apps", data={**data, "csrf": token})
        assert r.status_code == 400 and message in r.text and "What do you want to build?" in r.text, r.text
    with studio.db.session() as s:
        assert s.scalars(select(App)).all() == []
    app_id, turn_id = studio.new_app(ada)
    for body, message in [({"prompt": ""}, "the request is empty"), ({"prompt": "x", "model": "gpt-9"}, "unknown model"),
                          ({}, "prompt: Field required"), ({"prompt": 3}, "prompt"),
                          ({"prompt": "let people upload a photo"}, "cannot store uploaded files")]:
        r = ada.post(f"/api/apps/{app_id}/turns", json=body)
        assert r.status_code == 400 and message in r.json()["error"], (body, r.text)
    r = ada.post(f"/api/apps/{app_id}/turns", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()
    assert ada.get(f"/api/apps/{app_id}/turns/999999").json() == {"error": "no such turn"}
    assert ada.get(f"/api/apps/{app_id}/turns/abc").status_code == 400
    assert ada.get(f"/apps/{app_id}/parts/nothing").status_code == 404
    page = ada.get("/no/such/page")
    assert page.status_code == 404 and "no such page" in page.text and "Traceback" not in page.text
    assert ada.get("/api/apps/nope/state").json() == {"error": "no such app"}


# 5. Privacy between two people ------------------------------------------------------------------------------

def test_two_people_cannot_see_or_touch_each_others_apps(studio):
    ada, bob = studio.person("ada@example.com"), studio.person("bob@example.com")
    app_id, turn_id = studio.new_app(ada)
    studio.wait(ada, app_id, studio.turn(ada, app_id, SECOND))
    ada.post(f"/api/apps/{app_id}/turns/{turn_id}/rating", json={"value": 1})
    ada.post(f"/api/apps/{app_id}/flags", json={"description": "ada's bug"})
    studio.wait_grade(app_id, studio.app_row(app_id).head)
    v1, v2 = studio.versions(app_id)
    app = studio.app_row(app_id)
    bob_app, bob_turn = studio.new_app(bob, prompt="bob's app")

    gets = [f"/apps/{app_id}", f"/apps/{app_id}/versions/{v2.id}/diff", f"/api/apps/{app_id}/state",
            f"/api/apps/{app_id}/turns/{turn_id}", f"/api/apps/{app_id}/turns/{turn_id}/trajectory",
            f"/api/apps/{app_id}/turns/{turn_id}/events", f"/api/apps/{app_id}/versions/{v1.id}/grade",
            f"/api/apps/{app_id}/flags"] + [f"/apps/{app_id}/parts/{p}" for p in pages.PARTS]
    posts = [(f"/api/apps/{app_id}/turns", {"prompt": "delete everything"}),
             (f"/api/apps/{app_id}/turns/{turn_id}/stop", None),
             (f"/api/apps/{app_id}/turns/{turn_id}/rating", {"value": -1}),
             (f"/api/apps/{app_id}/versions/{v1.id}/restore", None),
             (f"/api/apps/{app_id}/flags", {"description": "bob was here"})]
    for url in gets:
        r = bob.get(url)
        assert r.status_code == 404, url
        # what would leak: her preview key, her address, her flag (not "ada" alone: it can turn up in a hex token)
        leaks = [w for w in (app.preview_key, "ada@example.com", "ada's bug") if w in r.text]
        assert not leaks, (url, leaks)
    for url, body in posts:
        assert bob.post(url, json=body).status_code == 404, url
    # ids of Ada's turns and versions do not work through Bob's own app either
    for url, body in [(f"/api/apps/{bob_app}/turns/{turn_id}", None), (f"/api/apps/{bob_app}/turns/{turn_id}/events", None),
                      (f"/apps/{bob_app}/versions/{v2.id}/diff", None), (f"/api/apps/{bob_app}/versions/{v1.id}/grade", None)]:
        assert bob.get(url).status_code == 404, url
    for url, body in [(f"/api/apps/{bob_app}/turns/{turn_id}/rating", {"value": -1}),
                      (f"/api/apps/{bob_app}/versions/{v1.id}/restore", None),
                      (f"/api/apps/{bob_app}/flags", {"description": "x", "version": v2.id})]:
        assert bob.post(url, json=body).status_code == 404, url
    # Bob's own pages never show Ada's app or its key
    for url in ["/", f"/apps/{bob_app}", f"/api/apps/{bob_app}/state"] + [f"/apps/{bob_app}/parts/{p}" for p in pages.PARTS]:
        text = bob.get(url).text
        assert app.preview_key not in text and app.name not in text and app_id not in text, url
    # nothing of Ada's changed
    assert studio.app_row(app_id).head == v2.vid and len(studio.versions(app_id)) == 2
    with studio.db.session() as s:
        assert [(r.person_id, r.value) for r in s.scalars(select(Rating))] == [(app.owner_id, 1)]
        assert [f.description for f in s.scalars(select(Flag))] == ["ada's bug"]
        assert s.scalar(select(Turn.id).where(Turn.app_id == app_id, Turn.prompt == "delete everything")) is None
    # and Ada still sees all of it
    assert ada.get(f"/apps/{app_id}").status_code == 200 and bob.get(f"/apps/{bob_app}").status_code == 200
    assert bob.get(f"/api/apps/{bob_app}/turns/{bob_turn}").status_code == 200


# 6. The preview origin ----------------------------------------------------------------------------------------

def test_preview_origin_injects_capture_frames_only_for_the_studio_and_lists_nothing(studio):
    ada = studio.person("ada@example.com")
    app_id, _ = studio.new_app(ada)
    key = studio.app_row(app_id).preview_key
    preview = studio.preview()
    page = preview.get(f"/apps/{key}/")
    head = page.text.index("<head>")
    assert page.text[head:].startswith('<head><script src="/_studio/capture.js"></script>')
    assert f'<link rel="stylesheet" href="/apps/{key}/_aw/app.css">' in page.text  # the runtime's theme
    assert preview.get(f"/apps/{key}/_aw/app.css").headers["content-type"].startswith("text/css")
    assert int(page.headers["content-length"]) == len(page.content)
    assert f"frame-ancestors {studio.config.studio_origin}" in page.headers["content-security-policy"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    script = preview.get("/_studio/capture.js")
    assert script.status_code == 200 and json.dumps(studio.config.studio_origin) in script.text
    assert "__STUDIO_ORIGIN__" not in script.text
    js = preview.get(f"/apps/{key}/notes.js")
    assert js.text == NOTES["notes.js"]  # only HTML is touched
    assert preview.get("/").status_code == 404 and key not in preview.get("/").text  # no list of apps
    assert preview.get("/apps/not-a-key/").status_code == 404
    # the studio itself cannot be framed, and frames only the preview origin
    csp = ada.get("/").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and f"frame-src {studio.config.preview_origin}" in csp
    assert ada.get("/").headers["x-frame-options"] == "DENY"


def test_a_restarted_studio_serves_its_apps_and_fails_cut_off_turns(tmp_path):
    first = Studio(tmp_path)
    ada = first.person("ada@example.com")
    app_id, _ = first.new_app(ada)
    key = first.app_row(app_id).preview_key
    with first.db.session() as s:  # as if the studio died mid-turn
        s.add(Turn(app_id=app_id, person_id=first.app_row(app_id).owner_id, prompt="cut off", model=DEFAULT_MODEL))
    close_studio(first.app)
    second = Studio(tmp_path)
    try:
        assert "first version" in second.preview().get(f"/apps/{key}/").text
        with second.db.session() as s:
            turn = s.scalar(select(Turn).where(Turn.prompt == "cut off"))
        assert turn.status == "failed" and "stopped during this turn" in turn.error
    finally:
        close_studio(second.app)


def test_config_rejects_a_preview_on_the_studios_port(tmp_path):
    with pytest.raises(ValueError, match="its own origin"):
        StudioConfig(data_dir=tmp_path, port=9000, preview_port=9000)
    c = StudioConfig(data_dir=tmp_path, port=9000)
    assert c.studio_origin == "http://127.0.0.1:9000" and c.db_url == f"sqlite:///{tmp_path / 'studio.db'}"
    assert c.preview_origin == "http://localhost:9001"  # another site: its pages cannot set the studio's cookies
    assert StudioConfig(data_dir=tmp_path, public_host="localhost").preview_origin == "http://127.0.0.1:8801"
    with pytest.raises(ValueError, match="public_host"):
        StudioConfig(data_dir=tmp_path, host="0.0.0.0")
    with pytest.raises(ValueError, match="set preview_host"):
        StudioConfig(data_dir=tmp_path, host="0.0.0.0", public_host="studio.example.com")
    for preview in ("studio.example.com", "preview.example.com", "example.com", "p.studio.example.com",
                    "STUDIO.example.com"):
        with pytest.raises(ValueError, match="same site"):
            StudioConfig(data_dir=tmp_path, public_host="studio.example.com", preview_host=preview)
    ok = StudioConfig(data_dir=tmp_path, public_host="studio.example.com", preview_host="example-preview.net",
                      secure_cookies=True, port=443, preview_port=8443)
    assert (ok.studio_origin, ok.preview_origin) == ("https://studio.example.com:443", "https://example-preview.net:8443")


def test_adopt_makes_the_bundle_exactly_the_answer_and_keeps_hidden_files(tmp_path):
    bundle, scratch = tmp_path / "app", tmp_path / "scratch"
    for rel, text in {"app.json": "{}", "js/old.js": "old", "js/deep/x.js": "x", "keep.css": "same",
                      ".aw/app.db": "data"}.items():
        (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
        (bundle / rel).write_text(text)
    for rel, text in {"app.json": '{"name": "new"}', "keep.css": "same", "pages/new.html": "<p>new</p>"}.items():
        (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
        (scratch / rel).write_text(text)
    bundles.adopt(bundle, scratch)
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file() and ".aw" not in p.parts)
    assert files == ["app.json", "keep.css", "pages/new.html"] and not (bundle / "js").exists()
    assert (bundle / "app.json").read_text() == '{"name": "new"}' and (bundle / ".aw" / "app.db").read_text() == "data"


def test_every_setting_and_event_is_documented():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "studio.md").read_text()
    missing = [f for f in StudioConfig.model_fields if f"`{f}`" not in doc]
    assert not missing, f"docs/studio.md does not describe: {missing}"
    kinds = StudioEvent.model_fields["kind"].annotation.__args__
    assert all(f"| `{k}` |" in doc for k in kinds)


def test_cli_serves_the_studio_and_its_previews_and_stops_on_ctrl_c(tmp_path):
    cli = Path(sys.executable).parent / "appwright"
    env = {**os.environ, "APPWRIGHT_HOME": str(tmp_path), "COLUMNS": "200"}
    bad = subprocess.run([str(cli), "studio", "--model", "gpt-9"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "unknown model 'gpt-9'" in bad.stderr  # bad input (appwright/exits.py)
    port, preview_port = free_port(), free_port()
    # SIGINT as a terminal delivers it: a test run started in the background (`cmd &` in a
    # script) passes SIGINT on as ignored, and Ctrl-C would then do nothing at all.
    proc = subprocess.Popen([str(cli), "studio", "--port", str(port), "--preview-port", str(preview_port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert f"studio at http://127.0.0.1:{port}/" in proc.stdout.readline()
        deadline = time.monotonic() + 30
        while True:
            try:
                signin = httpx.get(f"http://127.0.0.1:{port}/signin", timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and proc.poll() is None, "the studio did not start"
                time.sleep(0.1)
        assert signin.status_code == 200 and "Welcome back" in signin.text
        assert httpx.get(f"http://localhost:{preview_port}/", timeout=5).status_code == 404
        assert httpx.get(f"http://127.0.0.1:{preview_port}/", timeout=5).status_code == 400  # the studio's name
        assert httpx.get(f"http://localhost:{port}/signin", timeout=5).status_code == 400  # the preview's
        assert (tmp_path / "studio" / "studio.db").is_file()
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=20)[0]
    assert proc.returncode == 130 and "Traceback" not in rest, rest  # 130: the shell's code for Ctrl-C


def test_model_error_when_loading_is_reported(tmp_path):
    def factory(name):
        raise ModelError(f"model {name!r} is not installed; run appwright models pull")

    studio = Studio(tmp_path)
    studio.app.state.turns.models.factory = factory
    try:
        ada = studio.person("ada@example.com")
        r = ada.post("/apps", data={"prompt": "notes", "csrf": ada.headers["X-CSRF-Token"]})
        app_id = r.headers["location"].rsplit("/", 1)[1]
        with studio.db.session() as s:
            turn_id = s.scalar(select(Turn.id).where(Turn.app_id == app_id))
        turn = studio.wait(ada, app_id, turn_id)
        assert turn["status"] == "failed" and "is not installed" in turn["error"]
        assert "is not installed" in ada.get(f"/apps/{app_id}").text
        flag = ada.post(f"/api/apps/{app_id}/flags", json={"description": "nothing built"})
        assert flag.status_code == 409 and "no version" in flag.json()["error"]
    finally:
        close_studio(studio.app)


def test_auto_climbs_past_an_app_that_fails_its_security_probe(tmp_path, monkeypatch):
    from appwright.gateway.router import rank

    (tmp_path / "gateway.toml").write_text(f'auto = ["{DEFAULT_MODEL}", "{OTHER_MODEL}"]\n')
    monkeypatch.setenv("APPWRIGHT_GATEWAY_TOML", str(tmp_path / "gateway.toml"))
    ladder = [s.name for s in rank([load_registry()[DEFAULT_MODEL], load_registry()[OTHER_MODEL]], 4, 1024)]
    studio = Studio(tmp_path)
    try:
        ada = studio.person("ada@example.com")
        assert '<option value="auto"' in ada.get("/").text
        leaky = notes_app(marker="leaky")
        leaky["notes.js"] = 'const api_key = "sk-live-0123456789abcdefghijklmn";\n' + leaky["notes.js"]
        studio.model.replies.append(files_reply(leaky, "Done."))  # the cheap rung: a key in the page's script
        app_id, turn_id = studio.new_app(ada, model="auto")
        turn = ada.get(f"/api/apps/{app_id}/turns/{turn_id}").json()["turn"]
        assert turn["status"] == "done" and turn["model"] == "auto" and studio.model.loaded == ladder
        bundle = studio.config.apps_dir / app_id
        assert "sk-live" not in (bundle / "notes.js").read_text() and "first version" in (bundle / "index.html").read_text()
        with studio.db.session() as s:
            row = s.scalar(select(TrajectoryRow).where(TrajectoryRow.turn_id == turn_id))
        assert row.data["model"] == ladder[1]  # the record says which model made the app
        said = [d.get("text", "") for e, d in events_of(ada.get(f"/api/apps/{app_id}/turns/{turn_id}/events").text)
                if e == "status"]
        assert any(t.startswith(f"auto: {ladder[0]}'s app did not pass (security probe secrets") for t in said), said
        assert f"auto: {ladder[1]}'s app passed its checks" in said
    finally:
        close_studio(studio.app)
