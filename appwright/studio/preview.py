"""The preview origin: the generated apps, served by the runtime on a site of their own.

    previews = Previews(studio_origin="http://127.0.0.1:8800", host_name="localhost")
    previews.show(app.preview_key, bundle)     # live at /apps/<preview_key>/
    uvicorn.run(previews, port=8801)           # `appwright studio` runs it beside the studio

Why another site: a generated app's JavaScript is not trusted. On the studio's origin it could
call the studio's API with the person's cookie. On another port of the same host name it could
still set cookies the studio receives (cookies ignore ports): a planted `aw_studio` signs the
visitor in to the page author's studio account. So the preview has a host name of its own
(`StudioConfig.preview_host`: localhost when the studio is 127.0.0.1, a separate domain in a
deployment) whose cookies the browser never sends to the studio, and it answers only to that
name. The preview key is an unguessable capability (`secrets.token_urlsafe(18)`): the preview
of an app is reachable only by whoever was shown its URL, which the studio shows only to the
app's owner. The host's app list at `/` (the runtime's `Host` has one) is not served here.

What this adds to the runtime's answers:
- every HTML page gets `<script src="/_studio/capture.js">` first in its <head>: it reports
  console errors, uncaught errors, unhandled rejections and failed fetch/XHR requests, and the
  page's location, to the studio window with postMessage (to the studio's origin only);
- the CSP's `frame-ancestors` names the studio's origin instead of 'self', so the studio may
  frame the preview and nobody else may;
- the app's session cookie becomes `SameSite=None; Secure; Partitioned`: inside the studio's
  frame the preview is a cross-site frame, where a Lax cookie is neither stored nor sent.
  Partitioned (CHIPS) keeps it in a jar of its own for pages framed by the studio; Secure is
  allowed on http://localhost, and the runtime's `X-AW: 1` rule still stops cross-site writes;
- `cache-control: no-cache`, so a reload after a new version never shows stale files;
- `/apps/<key>/_studio/admin?ticket=...`: signs the app's owner in to the app as its admin
  (DESIGN.md: the person who owns an app is its admin). The studio asks `admin_ticket` for a
  one-time ticket, good for a minute, and points the preview frame at that link. Using it
  (not asking for it) makes or promotes the app's owner account, `OWNER_EMAIL`: an address at
  .invalid, which the runtime refuses to sign up or sign in, so nobody can register it first.
  Each use gives the account a new random password and ends its other sessions, then sets the
  app's own session cookie and redirects to the app.

Does not: isolate one preview from another (they share this origin; each app's session
cookie is scoped to its own path, but one app's page could call another's API with the
visitor's cookie for it, or set cookies for it — acceptable because every app on this origin
belongs to someone using the studio and is reachable only through its key).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Message, Receive, Scope, Send

from appwright.runtime.api import set_session
from appwright.runtime.app import Host
from appwright.runtime.auth import RESERVED_DOMAIN, hash_password
from appwright.runtime.theme import at_head

CAPTURE_PATH = "/_studio/capture.js"
_FRAME_ANCESTORS = re.compile(rb"frame-ancestors [^;]*")
TAG = f'<script src="{CAPTURE_PATH}"></script>'.encode()
ADMIN_PATH = "/_studio/admin"
TICKET_SECONDS = 60
# The app's owner account in every app the studio previews: reserved (runtime/auth.py), so nobody
# can sign up with it before the studio makes it.
OWNER_EMAIL = "owner@studio" + RESERVED_DOMAIN
_CROSS_SITE_FLAGS = {b"samesite", b"secure", b"partitioned"}


def inject(html: bytes) -> bytes:
    """The capture tag as the first thing in <head> (or after <html>, or the doctype), so it
    runs before any of the page's own scripts."""
    return at_head(html, TAG)


class Previews:
    """An ASGI app (the preview origin) and the registry of which apps it shows."""

    def __init__(self, studio_origin: str, host_name: str):
        self.studio_origin = studio_origin
        self.host = Host(allowed_hosts=[host_name])
        self._checked = TrustedHostMiddleware(self._dispatch, allowed_hosts=[host_name])  # DNS rebinding
        self._lock = threading.Lock()
        source = resources.files("appwright.studio").joinpath("static/capture.js").read_text(encoding="utf-8")
        self._script = source.replace('"__STUDIO_ORIGIN__"', json.dumps(studio_origin)).encode()
        self._ancestors = f"frame-ancestors {studio_origin}".encode()
        self._tickets: dict[str, tuple[str, float]] = {}  # ticket -> (preview key, expiry)

    # -- which apps are shown -----------------------------------------------------------------
    def show(self, key: str, bundle: Path) -> None:
        """Serve `bundle` under /apps/<key>/ (once; the runtime re-reads a changed app.json)."""
        with self._lock:
            if key not in self.host.apps:
                self.host.add(key, bundle)

    def reload(self, key: str, bundle: Path) -> None:
        """Serve `bundle` afresh: after a data restore, so no sign-in the runtime cached from the
        replaced data (it keeps sessions for a second) outlives it."""
        with self._lock:
            self.host.add(key, bundle)

    def shown(self, key: str) -> bool:
        return key in self.host.apps

    def close(self) -> None:
        with self._lock:
            for key in list(self.host.apps):
                self.host.remove(key)

    # -- the owner signs in as the app's admin ---------------------------------------------------
    def admin_ticket(self, key: str) -> str:
        """A one-time ticket for `/apps/<key>/_studio/admin`, good for TICKET_SECONDS. Nothing in
        the app changes until it is used."""
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._tickets = {t: v for t, v in self._tickets.items() if v[1] > now}
            self._tickets[ticket] = (key, now + TICKET_SECONDS)
        return ticket

    def _redeem(self, key: str, ticket: str) -> str | None:
        """A new session token in the app for its owner account, made an admin now, with a new
        random password and no other session; None for a ticket that is unknown, used, expired
        or for another app."""
        with self._lock:
            held = self._tickets.pop(ticket, None)
            store = self.host.apps[key][0].store
        if held is None or held[0] != key or held[1] < time.monotonic():
            return None
        hashed = hash_password(secrets.token_urlsafe(32))
        user = store.create_user(OWNER_EMAIL, hashed, role="admin") or store.user_by_email(OWNER_EMAIL)
        store.set_role(user.id, "admin")
        store.set_password(user.id, hashed)  # ends every earlier session of the account
        return store.create_session(user.id)

    def revoke_email_admin(self, key: str, email: str) -> bool:
        """Take the admin role from the account with `email` in the app under `key`, and end its
        sessions. Before revision 0002 'Sign in as admin' promoted whoever held the owner's studio
        email in the app, possibly someone who signed up with it first; the studio calls this for
        apps made before then, at start and after each restore. True when an account lost it."""
        with self._lock:
            store = self.host.apps[key][0].store
        user = store.user_by_email(email.strip().lower())
        if user is None or user.role != "admin":
            return False
        store.set_role(user.id, None)
        store.end_sessions(user.id)
        return True

    async def _admin_sign_in(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        ticket = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket", [""])[0]
        token = await run_in_threadpool(self._redeem, key, ticket)
        if token is None:
            response: Response = PlainTextResponse("This sign-in link was used already or has expired. Use the "
                                                   "studio's \"Sign in as admin\" button again.", status_code=403)
        else:
            response = RedirectResponse(f"/apps/{key}/", status_code=303)
            # the cookie the app's own sign-in sets: the same name and path (flags as _rewriting sets them)
            set_session(response, Request(dict(scope, root_path=f"{scope.get('root_path', '')}/apps/{key}")), token)
        response.headers["cache-control"] = "no-store"
        await response(scope, receive, self._rewriting(send, buffer_html=False))

    # -- the ASGI app ---------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self.host(scope, receive, send)
        if scope["type"] != "http":
            return
        await self._checked(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path == CAPTURE_PATH:
            return await _respond(send, 200, self._script, b"application/javascript")
        parts = path.split("/", 3)  # "", "apps", key, rest
        if len(parts) == 4 and "/" + parts[3] == ADMIN_PATH and self.shown(parts[2]):
            return await self._admin_sign_in(scope, receive, send, parts[2])
        if not (path.startswith("/apps/") or path in ("/_aw/sdk.js", "/favicon.ico")):
            return await _respond(send, 404, b"no such preview", b"text/plain; charset=utf-8")
        await self.host(scope, receive, self._rewriting(send, buffer_html=scope["method"] != "HEAD"))

    def _rewriting(self, send: Send, buffer_html: bool) -> Send:
        held: dict[str, object] = {}
        chunks: list[bytes] = []

        async def rewritten(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, _FRAME_ANCESTORS.sub(self._ancestors, v) if k == b"content-security-policy" else
                            framed_cookie(v) if k == b"set-cookie" else v) for k, v in message.get("headers", [])]
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-cache"))
                start = dict(message, headers=headers)
                ctype = next((v for k, v in headers if k == b"content-type"), b"")
                if buffer_html and ctype.startswith(b"text/html"):
                    held["start"] = start  # sent with the body, once its length is known
                    return
                return await send(start)
            if message["type"] == "http.response.body" and "start" in held:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = inject(b"".join(chunks))
                start = held.pop("start")
                headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]  # type: ignore[index]
                await send(dict(start, headers=headers + [(b"content-length", str(len(body)).encode())]))
                return await send({"type": "http.response.body", "body": body})
            await send(message)

        return rewritten


def framed_cookie(header: bytes) -> bytes:
    """A Set-Cookie value made to work in the studio's cross-site frame: SameSite=None, Secure,
    Partitioned (see the module's docstring)."""
    kept = [part for part in header.split(b";") if part.strip().lower().split(b"=")[0] not in _CROSS_SITE_FLAGS]
    return b";".join(kept) + b"; SameSite=None; Secure; Partitioned"


async def _respond(send: Send, status: int, body: bytes, ctype: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", ctype), (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-cache")]})
    await send({"type": "http.response.body", "body": body})
