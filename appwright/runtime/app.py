"""The ASGI apps: one bundle served at `/`, or many under `/apps/{app_id}/`.

    uvicorn: appwright serve examples/notes --port 8000
    code:    asgi = create_app("examples/notes")          # one app at /
             host = Host(); host.add("notes", "examples/notes"); asgi = host

Each app gets its own SQLite database (`BUNDLE/.aw/app.db` unless a data folder
is given), its own users and its own session cookie, scoped to the app's path.
The manifest is re-read when `app.json` changes on disk, so a new version is
served without a restart; an invalid new manifest is logged and the last valid
one keeps serving.

Only requests for an allowed host name are answered (Starlette's TrustedHostMiddleware; default
`LOCAL_HOSTS`), so a web page on another name that resolves to this machine (DNS rebinding)
gets a 400, not the app. A request carrying two session cookies is read as signed out
(cookies.py).

What the runtime does not do: it is no sandbox for the bundle's own JavaScript.
Apps on one host share an origin, so a page of one app can call another app's
API with the visitor's cookies for that app, and can set cookies that the other app
receives (signing the visitor out of it, or in as someone else when they had no session).
Host apps that must not touch each other on separate origins: a host name each.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from appwright.runtime import api
from appwright.runtime.csp import POLICY, page_policy
from appwright.runtime.errors import ApiError
from appwright.runtime.manifest import MANIFEST_FILE, Manifest, ManifestError, load_manifest
from appwright.runtime.storage import AppStore, StoreConfig, db_path
from appwright.runtime.theme import PATH as THEME_PATH
from appwright.runtime.theme import link_theme, own_colours, theme_source

log = logging.getLogger("appwright.runtime")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# The host names answered unless told otherwise (`appwright serve --allowed-host`); an IPv6
# address is written in brackets, as in the Host header.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# Pages load code only from the app itself and talk only to it: no CDN, no exfiltration by fetch,
# no plugins, no framing by others; an HTML page's own inline code runs by hash (csp.py).
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
CSP_HEADER = b"content-security-policy"


def sdk_source() -> str:
    return resources.files("appwright.runtime").joinpath("static/sdk.js").read_text(encoding="utf-8")


@dataclass
class ServedApp:
    """One bundle being served: its folder, its database and its current manifest."""
    bundle: Path
    store: AppStore
    _manifest: Manifest
    _mtime: int = 0
    _sdk: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def open(cls, bundle: str | Path, data_dir: str | Path | None = None,
             store_config: StoreConfig = StoreConfig()) -> "ServedApp":
        bundle = Path(bundle).resolve()
        manifest = load_manifest(bundle)  # raises ManifestError with every problem listed
        app = cls(bundle, AppStore(db_path(bundle, data_dir), store_config), manifest)
        app._mtime = app._stat()
        return app

    def _stat(self) -> int:
        try:
            return os.stat(self.bundle / MANIFEST_FILE).st_mtime_ns
        except OSError:
            return 0

    @property
    def manifest(self) -> Manifest:
        mtime = self._stat()
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self._manifest = load_manifest(self.bundle)
            except ManifestError as exc:
                log.warning("%s: keeping the last valid manifest; the new one is invalid:\n%s", self.bundle, exc)
        return self._manifest

    def sdk(self, base: str) -> bytes:
        if base not in self._sdk:
            self._sdk[base] = sdk_source().replace("__AW_BASE__", json.dumps(base)).encode()
        return self._sdk[base]


class Guard:
    """Pure ASGI middleware: the X-AW rule, security headers, and JSON errors for the API."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                own = any(k.lower() == CSP_HEADER for k, _ in headers)  # a page's policy (csp.page_policy)
                message["headers"] = headers + SECURITY_HEADERS + ([] if own else [(CSP_HEADER, POLICY.encode())])
            await send(message)

        if scope["method"] not in SAFE_METHODS and (b"x-aw", b"1") not in scope["headers"]:
            # A cross-site form cannot set a custom header, so this stops forged writes.
            err = ApiError(403, "missing_header", "state-changing requests need the header X-AW: 1 "
                           "(the SDK sends it; add it to your own fetch calls)")
            return await err.response()(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        return exc.response()
    if isinstance(exc, HTTPException):
        path = request.url.path
        if "/_aw/" in path:
            msg = {404: f"no API path {path}; see the platform reference (appwright docs)",
                   405: f"{request.method} is not allowed on {path} (records change with PATCH)"}
            return ApiError(exc.status_code, "http_error", msg.get(exc.status_code, exc.detail)).response()
        return PlainTextResponse(exc.detail, status_code=exc.status_code)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return ApiError(500, "internal", "the server failed; this is a bug in Appwright, not in your app").response()


class BundleFiles(StaticFiles):
    """Static pages of the bundle. Hidden paths (`.aw/`, `.git`, dotfiles) are never served;
    symlinks that leave the bundle are refused by StaticFiles itself. HTML pages get the default
    theme's <link> (theme.py) unless the manifest says `"theme": "none"`; they are sent whole,
    never as 304, since the manifest may change the link while the file stays the same."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if any(part.startswith(".") for part in Path(path).parts):
            raise HTTPException(404)
        if path == "favicon.ico" and not (Path(self.directory) / path).is_file():
            return Response(status_code=204)  # browsers ask for it; a 404 would read as a broken app
        unconditional = dict(scope, headers=[(k, v) for k, v in scope["headers"]
                                             if k not in (b"if-none-match", b"if-modified-since")])
        response = await super().get_response(path, unconditional)
        if isinstance(response, FileResponse) and (response.media_type or "").startswith("text/html"):
            html = Path(response.path).read_bytes()
            if scope["app"].state.served.manifest.theme != "none":
                sheets = [p.read_text(errors="replace") for p in Path(self.directory).rglob("*.css")
                          if not any(part.startswith(".") for part in p.relative_to(self.directory).parts)]
                html = link_theme(html, scope.get("root_path", ""), light_only=own_colours(html, sheets))
            return Response(html, status_code=response.status_code, media_type="text/html",
                            headers={"cache-control": "no-cache", "content-security-policy": page_policy(html)})
        return response if unconditional["headers"] == scope["headers"] else await super().get_response(path, scope)


async def _theme(request: Request) -> Response:
    return Response(theme_source(), media_type="text/css", headers={"cache-control": "no-cache"})


async def _sdk(request: Request) -> Response:
    base = request.scope.get("root_path", "").rstrip("/")
    return Response(api.served(request).sdk(base), media_type="application/javascript",
                    headers={"cache-control": "no-cache"})


def create_app(bundle: str | Path | ServedApp, data_dir: str | Path | None = None,
               allowed_hosts: Sequence[str] = LOCAL_HOSTS) -> ASGIApp:
    """An ASGI app serving one bundle at its root, to requests for `allowed_hosts` ("*": any).
    Raises ManifestError for a bad bundle."""
    served = bundle if isinstance(bundle, ServedApp) else ServedApp.open(bundle, data_dir)
    A = "/_aw/api"
    routes = [  # the entity routes first: they carry almost all traffic and the router tries routes in order
        Route(f"{A}/entities/{{entity}}", api.list_records, methods=["GET"]),
        Route(f"{A}/entities/{{entity}}", api.create_record, methods=["POST"]),
        Route(f"{A}/entities/{{entity}}/{{id}}", api.get_record, methods=["GET"]),
        Route(f"{A}/entities/{{entity}}/{{id}}", api.update_record, methods=["PATCH"]),
        Route(f"{A}/entities/{{entity}}/{{id}}", api.delete_record, methods=["DELETE"]),
        Route("/_aw/sdk.js", _sdk),
        Route(THEME_PATH, _theme),
        Route(f"{A}/app", api.app_info),
        Route(f"{A}/auth/signup", api.signup, methods=["POST"]),
        Route(f"{A}/auth/login", api.login, methods=["POST"]),
        Route(f"{A}/auth/logout", api.logout, methods=["POST"]),
        Route(f"{A}/auth/me", api.me),
        Route(f"{A}/auth/session", api.session),
        Route(f"{A}/auth/invites", api.create_invite, methods=["POST"]),
        Route(f"{A}/auth/users", api.add_user, methods=["POST"]),
        Route(f"{A}/auth/users", api.list_users, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={
        ApiError: _api_error, HTTPException: _api_error, Exception: _api_error})
    app.state.served = served
    app.mount("/", BundleFiles(directory=served.bundle, html=True))
    return Guard(TrustedHostMiddleware(app, allowed_hosts=list(allowed_hosts)))


class Host:
    """Many apps in one process, each under `/apps/{app_id}/`, to requests for `allowed_hosts`.
    Apps may be added and removed while serving. `/` lists the apps."""

    def __init__(self, allowed_hosts: Sequence[str] = LOCAL_HOSTS):
        self.apps: dict[str, tuple[ServedApp, ASGIApp]] = {}
        self.allowed_hosts = list(allowed_hosts)
        self._checked = TrustedHostMiddleware(self._route, allowed_hosts=self.allowed_hosts)

    def add(self, app_id: str, bundle: str | Path, data_dir: str | Path | None = None) -> ServedApp:
        if not app_id or "/" in app_id or app_id.startswith("."):
            raise ValueError(f"app id {app_id!r}: use letters, digits, - and _")
        served = ServedApp.open(bundle, data_dir)
        self.remove(app_id)
        self.apps[app_id] = (served, create_app(served, allowed_hosts=self.allowed_hosts))
        return served

    def remove(self, app_id: str) -> None:
        old = self.apps.pop(app_id, None)
        if old:
            old[0].store.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            return await send({"type": "lifespan.shutdown.complete"})
        await self._checked(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        root = scope.get("root_path", "")
        path = scope["path"][len(root):] if scope["path"].startswith(root) else scope["path"]
        parts = path.split("/", 3)  # "", "apps", id, rest
        if len(parts) >= 3 and parts[1] == "apps" and parts[2] in self.apps:
            if len(parts) > 3:
                child = dict(scope, root_path=f"{root}/apps/{parts[2]}")
                return await self.apps[parts[2]][1](child, receive, send)
            # /apps/x -> /apps/x/ so relative links resolve inside the app
            query = scope.get("query_string", b"").decode("latin-1")
            response: Response = RedirectResponse(root + path + "/" + (f"?{query}" if query else ""), status_code=308)
        elif path == "/_aw/sdk.js":  # pages load the SDK from the host's root: find the app from the page's path
            prefix = re.escape(root).replace("/", "\\/")  # a JS regex literal: escape its slashes too
            base = f"(location.pathname.match(/^{prefix}\\/apps\\/[^\\/]+/) || [\"\"])[0]"
            response = Response(sdk_source().replace("__AW_BASE__", base), media_type="application/javascript",
                                headers={"cache-control": "no-cache"})
        elif path == "/favicon.ico":  # browsers ask the host, not the app; a 404 logs a console error
            response = Response(status_code=204)
        elif path == "/":
            body = {"apps": {k: {"name": v[0].manifest.name, "path": f"/apps/{k}/"} for k, v in self.apps.items()}}
            response = JSONResponse(body)
        else:
            response = PlainTextResponse("no such app", status_code=404)
        await Guard(response)(scope, receive, send)  # the host's own answers get the same headers and X-AW rule
