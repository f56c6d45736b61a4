"""A fresh runtime for one grade: the bundle's app files copied out, a temporary database,
real HTTP on 127.0.0.1, users made on demand.

    with AppEnv.open("out/app") as env:
        a = env.user("a")                  # an httpx client signed in as a new user
        a.post(env.api("Note"), json={...})
        env.anonymous().get(env.api("Note"))

What is copied: the bundle's `app.json` and its page files (.html .js .css, images, fonts),
nothing hidden (no `.aw/`, no dotfiles), no symlinks, at most MAX_FILES files and
MAX_BYTES bytes. The graders read only that copy and never the folder the model wrote, so
files a model leaves for the grader (notes, fake results, scripts) are not even seen. No
Python from the bundle is ever imported or run; its JavaScript runs only in Chromium.

Users: the first user of a grade signs up through the API when the app's sign-up is open
(the real flow); otherwise, and for every later user (an Argon2 hash costs about 50 ms),
the user is created in the app's database the way the platform's admin does
(`appwright users add`) and given a session.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import httpx

from appwright.runtime.api import SESSION_COOKIE
from appwright.runtime.app import ServedApp, create_app
from appwright.runtime.auth import hash_password
from appwright.runtime.local import LocalServer
from appwright.runtime.manifest import MANIFEST_FILE, EntitySpec, Manifest
from appwright.runtime.storage import StoreConfig, invites, records

PASSWORD = "grader-password-1"
PAGE_SUFFIXES = {".html", ".htm", ".js", ".mjs", ".css", ".json", ".svg", ".png", ".jpg", ".jpeg", ".gif",
                 ".webp", ".ico", ".woff", ".woff2", ".txt", ".md"}
MAX_FILES = 200
MAX_BYTES = 5 * 1024 * 1024
_HASH: str | None = None  # one Argon2 hash per process for users made in the database


class BundleRejected(Exception):
    """The bundle cannot be graded at all (missing, too large, invalid manifest)."""


def copy_app_files(src: Path, dest: Path) -> list[str]:
    """Copy what the runtime would serve; returns the relative paths copied."""
    if not src.is_dir():
        raise BundleRejected(f"{src} is not a folder")
    copied, total = [], 0
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part.startswith(".") for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        if path.suffix.lower() not in PAGE_SUFFIXES:
            continue
        total += path.stat().st_size
        if len(copied) >= MAX_FILES or total > MAX_BYTES:
            raise BundleRejected(f"the bundle is over the grading limits ({MAX_FILES} files, {MAX_BYTES:,} bytes)")
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied.append(rel.as_posix())
    if MANIFEST_FILE not in copied:
        raise BundleRejected(f"the bundle has no {MANIFEST_FILE}")
    return copied


class AppEnv:
    def __init__(self, root: Path, files: list[str], served: ServedApp, url: str, server: LocalServer,
                 tmp: tempfile.TemporaryDirectory):
        self.root, self.files, self.served, self.url = root, files, served, url
        self._server, self._tmp = server, tmp
        self._clients: list[httpx.Client] = []
        self._count = 0
        self.author_role: str | None = None  # the role of "owner", the user who makes a check's records
        self.links: dict[tuple, str] = {}  # records made for a check's links (common.linked), until reset

    @classmethod
    def open(cls, bundle: str | Path) -> "AppEnv":
        # RAM-backed where there is one: SQLite syncs each write, and a grade makes hundreds.
        shm = Path("/dev/shm")
        tmp = tempfile.TemporaryDirectory(prefix="aw-grade-", dir=shm if shm.is_dir() else None)
        try:
            root = Path(tmp.name) / "app"
            files = copy_app_files(Path(bundle), root)
            try:
                served = ServedApp.open(root, Path(tmp.name) / "data", StoreConfig(ordered_ids=True))
            except Exception as exc:  # ManifestError lists every problem
                raise BundleRejected(f"app.json is invalid: {exc}") from None
            server = LocalServer(create_app(served))
            url = server.__enter__()
        except BaseException:
            tmp.cleanup()
            raise
        return cls(root, files, served, url, server, tmp)

    # -- what the app declares ------------------------------------------------------------
    @property
    def manifest(self) -> Manifest:
        return self.served.manifest

    def entity(self, name: str) -> tuple[str, EntitySpec] | None:
        """The declared entity, matched without regard to case; None if absent."""
        for key, spec in self.manifest.entities.items():
            if key.lower() == name.lower():
                return key, spec
        return None

    def api(self, entity: str, rid: str | None = None) -> str:
        return f"/_aw/api/entities/{entity}" + (f"/{rid}" if rid else "")

    # -- users ------------------------------------------------------------------------------
    def anonymous(self) -> httpx.Client:
        c = httpx.Client(base_url=self.url, headers={"X-AW": "1"}, timeout=10)
        self._clients.append(c)
        return c

    def user(self, name: str, role: str | None = None) -> httpx.Client:
        """A client signed in as a new user `name@grader.test`; "owner", the author of a check's
        records, has `author_role` (the task's: "admin" where only admins write)."""
        global _HASH
        if name == "owner" and role is None:
            role = self.author_role
        self._count += 1
        email = f"{name}-{self._count}@grader.test"
        c = self.anonymous()
        if role is None and self._count == 1 and self.manifest.auth.signup == "open":
            r = c.post("/_aw/api/auth/signup", json={"email": email, "password": PASSWORD})
            if r.status_code == 201:
                c.user = r.json()["user"]
                return c
        _HASH = _HASH or hash_password(PASSWORD)
        user = self.served.store.create_user(email, _HASH, role=role)
        token = self.served.store.create_session(user.id)
        c.cookies.set(SESSION_COOKIE, token, domain="127.0.0.1", path="/")
        c.user = user.public()
        return c

    def reset(self) -> None:
        """Empty the app's records between checks, so each check sees only its own."""
        with self.served.store.engine.begin() as conn:
            conn.execute(records.delete())
            conn.execute(invites.delete())
        self.links.clear()

    def session_cookie(self, client: httpx.Client) -> dict:
        """The client's session as a Playwright cookie, to open pages as that user."""
        return {"name": SESSION_COOKIE, "value": client.cookies.get(SESSION_COOKIE), "url": self.url + "/"}

    def close(self) -> None:
        for c in self._clients:
            c.close()
        self._server.__exit__(None, None, None)
        self.served.store.close()
        self._tmp.cleanup()

    def __enter__(self) -> "AppEnv":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
