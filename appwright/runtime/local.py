"""Serving a bundle on this machine for checks and graders, and the Chromium that loads it.

    with LocalServer(create_app(served)) as url:     # uvicorn in a thread, a free port of 127.0.0.1
        browser = Chromium().get()                    # Debian's /usr/bin/chromium through Playwright
        page = browser.new_page(); track_requests(page)
        page.goto(url + "/"); settle(page)            # loaded, and its data arrived and rendered

Used by the agent's `check_app` and by the task graders, so both load apps the same way.
Chromium is never downloaded (`playwright install` is not used); a missing one is a
RuntimeError naming the package to install. Playwright's sync API is used: a `Chromium`
cannot be started from inside a running asyncio event loop (use a worker thread there).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def track_requests(page) -> None:
    """Keep `page.inflight`, the page's requests not yet answered, for `settle`."""
    page.inflight = set()
    page.on("request", lambda req: page.inflight.add(req))
    page.on("requestfinished", lambda req: page.inflight.discard(req))
    page.on("requestfailed", lambda req: page.inflight.discard(req))


def settle(page, limit_ms: float = 8000, quiet_ms: int = 80) -> bool:
    """Wait until no request of the page (see `track_requests`) has been in flight for
    `quiet_ms`: its data has arrived and been rendered. False when that took over `limit_ms`.
    Playwright's "networkidle" waits a fixed 500 ms of quiet instead, on every load."""
    deadline, quiet_since = time.monotonic() + limit_ms / 1000, None
    while time.monotonic() < deadline:
        page.wait_for_timeout(30)  # lets Playwright deliver the request events
        if page.inflight:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_ms / 1000:
            return True
    return False


class LocalServer:
    """uvicorn in a daemon thread on a free port of 127.0.0.1; the context value is the base URL."""

    def __init__(self, asgi):
        self.server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=0, log_level="error",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the app server did not start")
            time.sleep(0.005)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class Chromium:
    """Headless Chromium through Playwright, started on first `get()`.

    Playwright's sync API allows one running instance per thread, so every `Chromium` of a
    thread shares one Playwright and one browser, counted: the last `close()` of the thread
    stops them. A `Grader`, a `Checker` and a test suite's browser can then live side by side
    (each opens its own browser contexts)."""

    _local = threading.local()

    def __init__(self, executable: str = CHROMIUM):
        self.executable = executable
        self._held = False

    def get(self):
        if not Path(self.executable).exists():
            raise RuntimeError(f"{self.executable} is missing (apt-get install chromium)")
        shared = getattr(self._local, "shared", None)
        if shared is None:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            browser = pw.chromium.launch(executable_path=self.executable, args=CHROMIUM_ARGS, headless=True)
            shared = self._local.shared = {"pw": pw, "browser": browser, "users": 0}
        if not self._held:
            shared["users"] += 1
            self._held = True
        return shared["browser"]

    def close(self) -> None:
        shared = getattr(self._local, "shared", None)
        if not self._held or shared is None:
            return
        self._held = False
        shared["users"] -= 1
        if shared["users"] == 0:
            self._local.shared = None
            shared["browser"].close()
            shared["pw"].stop()
