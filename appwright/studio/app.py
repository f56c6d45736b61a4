"""The studio: the web platform where people build apps by chat.

    appwright studio --port 8800                      # studio on :8800, previews on :8801
    app = create_studio(StudioConfig(), backend_factory=lambda name: ScriptedBackend([...]))

`create_studio` opens (and migrates) the interaction log, makes the preview origin
(`app.state.previews`, an ASGI app of its own: see preview.py), the security worker and the
turn runner, and returns the FastAPI app: pages (pages.py) and JSON endpoints (api.py).
`serve` runs both listeners. `backend_factory(model name) -> Backend` defaults to
`appwright.models.load_backend`; the turn runner keeps one loaded model at a time.

Security model, in one place:
- Studio pages and API: session cookie `aw_studio` (HttpOnly, SameSite=Lax, only its sha256
  stored); a CSRF token on every state-changing request (form field `csrf` or header
  `X-CSRF-Token`, see auth.py); and `StudioGuard` refuses any unsafe request whose Origin is
  not this studio's or whose Sec-Fetch-Site says another origin sent it. Pages may not be
  framed (frame-ancestors 'none'), load only the studio's own scripts and frame only the
  preview origin.
- Privacy: an app, its versions, turns, ratings, flags, grades, logs and preview key are
  shown only to its owner; anyone else gets 404 (web.owned_app).
- Generated apps run only on the preview origin (another port), under an unguessable key.

Does not: serve https itself (put it behind a proxy and set `secure_cookies`), limit
sign-in attempts, delete apps, or let two people share one app.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from appwright.models.base import Backend
from appwright.studio import api, pages
from appwright.studio.config import StudioConfig
from appwright.studio.db import App, Database, Person
from appwright.studio.preview import Previews
from appwright.studio.security import SecurityWorker
from appwright.studio.pool import ModelPool
from appwright.studio.turns import TurnRunner, recover_turns
from appwright.studio.web import (SAFE_METHODS, TEMPLATES, NotSignedIn, StudioError, csrf_for, csrf_guard,
                                  current_person)

log = logging.getLogger("appwright.studio")


def create_studio(config: StudioConfig, backend_factory: Callable[[str], Backend] | None = None) -> FastAPI:
    # 1. The log, the preview origin, the workers.
    config.apps_dir.mkdir(parents=True, exist_ok=True)
    db = Database.open(config.db_url)
    previews = Previews(config.studio_origin, config.preview_host)
    security = SecurityWorker(config, db)
    if backend_factory is None:
        from appwright.models import load_backend
        backend_factory = load_backend
    turns = TurnRunner(config, db, ModelPool(backend_factory), previews, security)
    # 2. What a previous run left: turns cut off, apps to preview (apps from before revision 0002
    #    lose any admin the old 'Sign in as admin' gave to whoever held the owner's email).
    recover_turns(db)
    with db.session() as s:
        rows = s.execute(select(App.id, App.preview_key, App.legacy_admin, Person.email)
                         .join(Person, App.owner_id == Person.id).where(App.head.is_not(None))).all()
    for app_id, key, legacy, email in rows:
        try:
            previews.show(key, config.apps_dir / app_id)
            if legacy and previews.revoke_email_admin(key, email):
                log.warning("app %s: took the admin role from the account with its owner's email", app_id)
        except Exception as exc:  # noqa: BLE001 - one broken bundle must not keep the studio down
            log.warning("app %s cannot be previewed: %s", app_id, exc)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        close_studio(_app)

    # 3. The web app: every route passes the CSRF guard; unsafe requests also pass StudioGuard.
    app = FastAPI(title="Appwright studio", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  dependencies=[Depends(csrf_guard)])
    app.state.config, app.state.db, app.state.previews = config, db, previews
    app.state.security, app.state.turns = security, turns
    app.include_router(pages.router)
    app.include_router(api.router)
    app.mount("/static", StaticFiles(packages=[("appwright.studio", "static")]), name="static")
    app.add_exception_handler(StudioError, _studio_error)
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _crash)
    app.add_middleware(StudioGuard, config=config)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=[config.public_host])  # outermost: DNS rebinding
    return app


def close_studio(app: FastAPI) -> None:
    """Stop running turns, the security worker and the previews; close the log. Idempotent."""
    state = app.state
    if getattr(state, "closed", False):
        return
    state.closed = True
    state.turns.close()
    state.security.close()
    state.previews.close()
    state.db.close()


def serve(config: StudioConfig, backend_factory: Callable[[str], Backend] | None = None) -> None:
    """Run the studio (this thread, Ctrl-C stops it) and the preview origin (a thread)."""
    import uvicorn

    app = create_studio(config, backend_factory)
    preview = uvicorn.Server(uvicorn.Config(app.state.previews, host=config.host, port=config.preview_port,
                                            log_level="warning", lifespan="off"))
    thread = threading.Thread(target=preview.run, name="studio-preview", daemon=True)
    thread.start()
    studio = uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port, log_level="warning"))
    try:
        studio.run()
    finally:
        preview.should_exit = True
        thread.join(timeout=10)


# -- errors: a clear 4xx (JSON under /api, a page elsewhere), never a traceback ----------------------------

def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    signed_in = status != 500 and current_person(request) is not None  # a crash may come from the database itself
    context = {"status": status, "message": message, "person": current_person(request) if signed_in else None,
               "csrf": csrf_for(request) if signed_in else ""}
    return TEMPLATES.TemplateResponse(request, "error.html", context, status_code=status)


async def _studio_error(request: Request, exc: StudioError) -> Response:
    return error_response(request, exc.status, exc.message)


async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
    if _wants_json(request) or request.method not in SAFE_METHODS:
        return error_response(request, 401, "sign in first")
    return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    messages = {404: "no such page", 405: f"{request.method} is not allowed here"}
    return error_response(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    problems = []
    for e in exc.errors()[:5]:
        where = ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path"))
        problems.append(f"{where}: {e['msg']}" if where else e["msg"])
    return error_response(request, 400, "; ".join(problems) or "invalid request")


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("studio error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "the studio failed on this request; it is logged and is a bug in Appwright")


# -- the guard around every request --------------------------------------------------------------------------

class StudioGuard:
    """Refuses unsafe requests from other origins and bodies over `max_body_bytes`; adds the
    studio's security headers. The studio's own origin comes from the configuration, never
    from the request's Host header (which a DNS-rebinding page chooses)."""

    def __init__(self, app: ASGIApp, config: StudioConfig):
        self.app = app
        self.origin = config.studio_origin
        self.max_body = config.max_body_bytes
        csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               f"connect-src 'self'; frame-src {config.preview_origin}; frame-ancestors 'none'; "
               "form-action 'self'; base-uri 'none'; object-src 'none'")
        self.headers = [(b"content-security-policy", csp.encode()), (b"x-frame-options", b"DENY"),
                        (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/static/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                extra = self.headers if static else self.headers + [(b"cache-control", b"no-store")]
                names = {k for k, _ in extra}
                message["headers"] = [(k, v) for k, v in message.get("headers", []) if k not in names] + extra
            await send(message)

        async def refuse(status: int, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            await with_headers({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        headers = Headers(scope=scope)
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin", "")
            site = headers.get("sec-fetch-site", "same-origin")
            if (origin and origin != self.origin) or site not in ("same-origin", "none"):
                return await refuse(403, "refused: this request came from another site")
        too_large = f"the request body is over {self.max_body:,} bytes"
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await refuse(413, too_large)
        received = 0

        async def bounded() -> Message:
            # a body without a Content-Length (chunked) is cut off as soon as it passes the limit
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise HTTPException(413, too_large)  # the app's error handler answers it
            return message

        await self.app(scope, bounded, with_headers)

