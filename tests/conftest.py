"""Shared fixtures: real servers on 127.0.0.1 and a real headless Chromium.

- `make_bundle(manifest, files)` writes a bundle into a temporary folder.
- `live(bundle_or_asgi)` serves it with uvicorn in a thread and yields a `Live`
  with `.url`, `.client()` (an httpx client; `xaw=False` leaves out the X-AW
  header) and `.served` (the `ServedApp`, for direct database checks).
- `browser` is one Chromium for the whole session (Debian's /usr/bin/chromium via
  Playwright; never `playwright install`); `page` is a fresh context per test.
- Tests run two at a time under pytest-xdist; a `solo` one (real model, training, Ray) runs
  alone (the end of this file). `-n 0` runs them one at a time in this process.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from appwright.runtime.app import Host, ServedApp, create_app
from appwright.runtime.local import CHROMIUM, Chromium

# A COLUMNS set when the CLIs' module-level rich consoles are made fixes their width for good (a
# pytest-xdist worker has COLUMNS=80): tests that give the CLI a width of their own need it unset.
os.environ.pop("COLUMNS", None)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    url: str
    served: ServedApp | None
    asgi: object

    def client(self, xaw: bool = True, **kw) -> httpx.Client:
        headers = {"X-AW": "1"} if xaw else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kw)

    def user(self, email: str, password: str = PASSWORD, **kw) -> httpx.Client:
        """A client signed up (or, if the email exists, signed in) as `email`."""
        c = self.client(**kw)
        r = c.post("/_aw/api/auth/signup", json={"email": email, "password": password})
        if r.status_code == 409:
            r = c.post("/_aw/api/auth/login", json={"email": email, "password": password})
        assert r.status_code in (200, 201), r.text
        return c


@contextmanager
def serve_asgi(asgi, port: int | None = None):
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def make_bundle(tmp_path):
    counter = iter(range(1000))

    def make(manifest: dict, files: dict[str, str] | None = None, name: str | None = None) -> Path:
        folder = tmp_path / (name or f"bundle{next(counter)}")
        folder.mkdir(parents=True)
        (folder / "app.json").write_text(json.dumps(manifest))
        files = {"index.html": "<!doctype html><title>t</title><script src=\"/_aw/sdk.js\"></script>",
                 **(files or {})}
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        return folder

    return make


@pytest.fixture
def example(tmp_path):
    """Copy an example bundle (without any data) into a temporary folder."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(EXAMPLES / name, dest, ignore=shutil.ignore_patterns(".aw"))
        return dest

    return copy


@pytest.fixture
def live():
    """`with live(bundle_or_host) as srv:` -> a Live server on 127.0.0.1."""
    opened = []

    @contextmanager
    def start(target):
        if isinstance(target, Host):
            served, asgi = None, target
        else:
            served = ServedApp.open(target)
            opened.append(served)
            asgi = create_app(served)
        with serve_asgi(asgi) as url:
            yield Live(url, served, asgi)

    yield start
    for s in opened:
        s.store.close()


@pytest.fixture(scope="session")
def browser():
    """The session's Chromium, shared (one per thread, runtime/local.py) with the graders and
    check_app that tests start: Playwright's sync API allows one instance per thread."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/setup.sh --test` (installs Debian's chromium)")
    chromium = Chromium()
    yield chromium.get()
    chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies); JS errors are collected in `page.errors`."""
    context = browser.new_context()
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.on("console", lambda msg: msg.type == "error" and pg.errors.append(msg.text))
    yield pg
    context.close()


@pytest.fixture(scope="session")
def real_hf_05b(request) -> Path:
    """The embedded 0.5B as an HF folder, made once with `appwright models export-hf` in pytest's
    cache (~35 s, 2.5 GB float32); tests/test_train_export_hf.py checks what it holds."""
    from typer.testing import CliRunner

    from appwright.cli import app
    from appwright.models import get_model
    from appwright.train.hf import SOURCE_FILE

    folder = Path(request.config.cache.mkdir("appwright-hf")) / "qwen2.5-coder-0.5b"
    if not (folder / SOURCE_FILE).is_file():  # written last: without it the folder is half made
        shutil.rmtree(folder, ignore_errors=True)
        if not get_model("qwen2.5-coder-0.5b").cache_path().is_file():
            pytest.fail("the embedded 0.5B is missing: run `bash scripts/setup.sh --test` (pulls it)")
        r = CliRunner().invoke(app, ["models", "export-hf", "qwen2.5-coder-0.5b", "--out", str(folder)])
        assert r.exit_code == 0, r.output
    return folder


# -- PostgreSQL -------------------------------------------------------------------------------------------------

def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@pytest.fixture(scope="module")
def postgres_server():
    """The base URL of a fresh PostgreSQL server (no database part), for one test module: started
    from Debian's binaries (/usr/lib/postgresql/*/bin, as the `postgres` user when the tests run
    as root) on 127.0.0.1 with trust auth. Skipped, saying why, where there are none."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries here (Debian: apt-get install postgresql)")
    pytest.importorskip("psycopg")
    root = tempfile.mkdtemp(prefix="aw-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(root, "data"), free_port()

    def run(*cmd: str) -> None:
        subprocess.run(as_user + list(cmd), check=True, capture_output=True, timeout=120)

    run(f"{bindir}/initdb", "-D", data, "--auth=trust", "-U", "postgres", "--encoding=UTF8")
    run(f"{bindir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(root, "log"), "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True,
                       timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def new_database(server: str) -> str:
    """The URL of a new, empty database on the server."""
    from sqlalchemy import create_engine, text

    name = f"aw_{uuid.uuid4().hex[:12]}"
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server}/{name}"


# -- training ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tiny(request, tmp_path_factory) -> Path:
    """A tiny random Qwen2 (2 layers, hidden 64) with the real tokenizer, as an HF folder: one for
    the session (tests train from it and convert it, never write into it)."""
    from appwright.models import get_model
    from appwright.train.tiny import cached_tokenizer, tiny_qwen2

    gguf = get_model("qwen2.5-coder-0.5b").cache_path()
    if not gguf.is_file():
        pytest.fail(f"{gguf} is missing: run `bash scripts/setup.sh --test` (pulls the embedded model)")
    tokenizer = cached_tokenizer(gguf, Path(request.config.cache.mkdir("appwright-train")))
    return tiny_qwen2(tokenizer, tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_gguf(request, tiny, tmp_path_factory) -> Path:
    """`tiny` as an f16 GGUF (llama.cpp's converter, extracted once into pytest's cache), for
    llama.cpp to serve: made once for the session, only read."""
    from appwright.train.export import convert, converter

    script = converter(Path(request.config.cache.mkdir("appwright-train")))
    return convert(tiny, tmp_path_factory.mktemp("tiny-gguf") / "tiny.f16.gguf", "f16", script)


# -- two tests at a time (pytest-xdist, `-n auto` in pyproject's addopts) -----------------------------------------
# Most tests wait on a browser, a server or a subprocess, and run two at a time. A `solo` test
# (a real llama.cpp model, torch training, Ray) has the CPU to itself: llama.cpp's and torch's
# OpenMP threads spin while they wait, so beside another test both run several times slower.
# The lock is two flock(2) files every run on this machine shares: a test passes the gate, then
# holds the CPU shared (solo: exclusive, keeping the gate, so no new test starts while it waits
# for the running one to finish). A test's fixtures are set up and torn down under its lock.

SOLO_MODULES = {"test_cluster", "test_new_e2e", "test_own_model", "test_train_adapter_gguf", "test_train_cpu_sft",
                "test_train_ddp", "test_train_export_hf", "test_train_loop", "test_train_recipe", "test_train_reward"}
SOLO_FIXTURES = {"real_hf_05b", "tiny", "tiny_gguf"}
LOCKS = Path(tempfile.gettempdir()) / f"appwright-pytest-{os.getuid()}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__ in SOLO_MODULES or SOLO_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.solo)


def _flock(name: str, mode: int) -> int:
    import fcntl

    LOCKS.mkdir(exist_ok=True)
    fd = os.open(LOCKS / name, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, mode)
    return fd


@contextmanager
def _cpu(solo: bool):
    import fcntl

    gate = _flock("gate", fcntl.LOCK_EX)
    try:
        cpu = _flock("cpu", fcntl.LOCK_EX if solo else fcntl.LOCK_SH)
    finally:
        if not solo:
            os.close(gate)
    try:
        yield
    finally:
        os.close(cpu)
        if solo:
            os.close(gate)
            time.sleep(0.1)  # flock is not fair: let a test waiting at the gate take it before this worker's next


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outside pytest-timeout's timer: waiting here is no test's time
def pytest_runtest_protocol(item, nextitem):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    with _cpu(solo=item.get_closest_marker("solo") is not None):
        yield
