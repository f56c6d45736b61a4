"""The studio's HTML: sign-up / sign-in / sign-out, the app list, an app's workspace, and the
fragments the workspace's JavaScript swaps in (chat, history, security, flags, a diff).

Forms post with the `csrf` field (web.csrf_guard checks it); bad input re-renders the form
with a 4xx and the message, never a 500.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appwright.agent.scope import english_only, out_of_scope
from appwright.models.base import ModelError
from appwright.gateway.apps import cli_ladder
from appwright.gateway.config import AUTO
from appwright.models.registry import load_registry
from appwright.studio import auth
from appwright.studio.db import App, AppVersion, Person
from appwright.studio.web import (TEMPLATES, AppId, Id, StudioError, Text, app_version, config, cookie,
                                  current_person, csrf_for, database, flags_of, grade_of, not_found, owned_app,
                                  person_required, preview_url, runner, turns_of, versions_of)
from appwright.workspace import WorkspaceError, diff, get
from appwright.workspace.store import read_blob

router = APIRouter()
PARTS = ("chat", "history", "security", "flags")


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    base = {"person": current_person(request), "csrf": csrf_for(request), "config": config(request)}
    return TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status)


def safe_next(target: str | None) -> str:
    """Only a path on this studio (no open redirect to another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# -- checks shared with the API ------------------------------------------------------------------------

def model_names() -> list[str]:
    """The picker's choices: every registry model, and `auto` (the ready ones cheapest first, each
    rung verified: studio/turns.py)."""
    try:
        return [*load_registry(), AUTO]
    except ModelError:
        return []


def check_model(name: str) -> str:
    try:
        known = load_registry()
    except ModelError as exc:
        raise StudioError(400, str(exc)) from None
    if name == AUTO:
        try:
            cli_ladder("")
        except ModelError as exc:  # no model ready, or a broken gateway.toml
            raise StudioError(400, str(exc)) from None
    elif name not in known:
        raise StudioError(400, f"unknown model {name!r}; choose one of: {', '.join([*known, AUTO])}")
    return name


def check_scope(prompt: str, model: str) -> None:
    """A request the platform cannot build is answered with why, and nothing runs (agent/scope.py)."""
    specs = cli_ladder(prompt)[0] if model == AUTO else [load_registry()[model]]
    why = out_of_scope(prompt, english_only=all(english_only(s) for s in specs))
    if why:
        raise StudioError(400, why)


def check_prompt(request: Request, prompt: str) -> str:
    prompt = prompt.strip()
    if not prompt:
        raise StudioError(400, "the request is empty: say what the app should do")
    limit = config(request).max_prompt_chars
    if len(prompt) > limit:
        raise StudioError(400, f"the request is too long ({len(prompt):,} characters; at most {limit:,})")
    return prompt


# -- sign-up, sign-in, sign-out -----------------------------------------------------------------------

def auth_page(request: Request, mode: str, error: str | None = None, email: str = "", next: str = "/",
              status: int = 200) -> Response:
    fresh = cookie(request, auth.PRE_COOKIE) is None
    if fresh:  # the signed-out form's CSRF token is tied to this cookie (auth.py)
        request.state.pre_cookie = secrets.token_urlsafe(24)
    response = render(request, "auth.html", {"mode": mode, "error": error, "email": email, "next": safe_next(next)},
                      status)
    if fresh:
        response.set_cookie(auth.PRE_COOKIE, request.state.pre_cookie, httponly=True, samesite="lax", path="/",
                            secure=config(request).secure_cookies)
    return response


def signed_in(request: Request, person: Person, next: str) -> Response:
    token = auth.start_session(database(request), person, config(request).session_days)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, token, max_age=config(request).session_days * 86400, httponly=True,
                        samesite="lax", path="/", secure=config(request).secure_cookies)
    return response


@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> Response:
    if current_person(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return auth_page(request, "signin", next=next)


@router.get("/signup")
def signup_page(request: Request, next: str = "/") -> Response:
    if current_person(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return auth_page(request, "signup", next=next)


def _authenticate(request: Request, mode: str, email: str, password: str, next: str) -> Response:
    act = auth.sign_in if mode == "signin" else auth.sign_up
    try:
        person = act(database(request), email, password)
    except auth.SignInError as exc:
        return auth_page(request, mode, str(exc), email, next, 400)
    return signed_in(request, person, next)


@router.post("/signin")
def signin(request: Request, email: Text = Form(""), password: Text = Form(""), next: Text = Form("/")) -> Response:
    return _authenticate(request, "signin", email, password, next)


@router.post("/signup")
def signup(request: Request, email: Text = Form(""), password: Text = Form(""), next: Text = Form("/")) -> Response:
    return _authenticate(request, "signup", email, password, next)


@router.post("/signout")
def signout(request: Request) -> Response:
    auth.end_session(database(request), cookie(request, auth.SESSION_COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# -- the app list and a new app -----------------------------------------------------------------------

def apps_page(request: Request, person: Person, error: str | None = None, prompt: str = "",
              model: str | None = None, status: int = 200) -> Response:
    with database(request).session() as s:
        apps = s.scalars(select(App).where(App.owner_id == person.id).order_by(App.updated_at.desc())).all()
        counts = dict(s.execute(select(AppVersion.app_id, func.count()).where(
            AppVersion.app_id.in_([a.id for a in apps])).group_by(AppVersion.app_id)).all()) if apps else {}
        running = {a.id for a in apps if runner(request).running(a.id)}
    return render(request, "apps.html", {"apps": apps, "counts": counts, "running": running, "error": error,
                                         "prompt": prompt, "models": model_names(),
                                         "model": model or config(request).default_model}, status)


@router.get("/")
def home(request: Request, person: Person = Depends(person_required)) -> Response:
    return apps_page(request, person)


@router.post("/apps")
def new_app(request: Request, prompt: Text = Form(""), model: Text = Form(""),
            person: Person = Depends(person_required)) -> Response:
    try:
        prompt = check_prompt(request, prompt)
        model = check_model(model.strip() or config(request).default_model)
        check_scope(prompt, model)
    except StudioError as exc:
        return apps_page(request, person, exc.message, prompt, model, exc.status)
    with database(request).session() as s:
        app = App(owner_id=person.id, name=_name_from(prompt), model=model)
        s.add(app)
    runner(request).start(app, person, prompt, model)  # a new app has no turn yet: never Busy
    return RedirectResponse(f"/apps/{app.id}", status_code=303)


def _name_from(prompt: str) -> str:
    line = prompt.splitlines()[0].strip()
    return line if len(line) <= 60 else line[:59].rstrip() + "…"


# -- an app's workspace and its fragments -------------------------------------------------------------

def workspace_context(request: Request, s: Session, app: App, person: Person,
                      parts: tuple[str, ...] = PARTS) -> dict[str, Any]:
    """What the workspace page (all parts) or one fragment renders; only the parts asked for
    are read (the security panel is polled while its checks run)."""
    versions = versions_of(s, app)
    live = runner(request).running(app.id)
    context: dict[str, Any] = {
        "app": app, "versions": list(reversed(versions)), "head": next((v for v in versions if v.is_head), None),
        "numbers": {v.vid: v.number for v in versions}, "running": live.turn_id if live else None,
        "models": model_names(), "preview_url": preview_url(request, app)}
    if "chat" in parts:
        context["turns"] = turns_of(s, app, person, versions)
    if "security" in parts:
        context["grade"] = grade_of(request, s, app, app.head)
    if "flags" in parts:
        context["flags"] = flags_of(s, app, person)
    return context


@router.get("/apps/{app_id}")
def workspace(request: Request, app_id: AppId, person: Person = Depends(person_required)) -> Response:
    with database(request).session() as s:
        context = workspace_context(request, s, owned_app(s, person, app_id), person)
    return render(request, "workspace.html", context)


@router.get("/apps/{app_id}/parts/{part}")
def part(request: Request, app_id: AppId, part: str, person: Person = Depends(person_required)) -> Response:
    if part not in PARTS:
        raise not_found("part")
    with database(request).session() as s:
        context = workspace_context(request, s, owned_app(s, person, app_id), person, (part,))
    return render(request, f"_{part}.html", context)


@router.get("/apps/{app_id}/versions/{version_id}/diff")
def version_diff(request: Request, app_id: AppId, version_id: Id, person: Person = Depends(person_required)) -> Response:
    with database(request).session() as s:
        app = owned_app(s, person, app_id)
        versions = versions_of(s, app)
        version = next(v for v in versions if v.id == app_version(s, app, version_id).id)
    bundle = config(request).apps_dir / app.id
    try:
        text = _diff_text(bundle, version.parent, version.vid)
    except WorkspaceError as exc:
        raise StudioError(409, str(exc)) from None
    parent = next((v for v in reversed(versions) if v.vid == version.parent and v.id < version.id), None)
    return render(request, "_diff.html", {"app": app, "version": version, "parent": parent,
                                          "lines": diff_lines(text)})


def _diff_text(bundle, parent: str | None, vid: str) -> str:
    if parent is not None:
        return diff(bundle, parent, vid)
    out = []  # the first version: every file is new
    for path, sha in get(bundle, vid).files.items():
        text = read_blob(bundle, sha).decode("utf-8", errors="replace")
        out.append(f"added: {path}\n--- /dev/null\n+++ b/{path}\n" + "".join(f"+{line}\n" for line in text.splitlines()))
    return "".join(out)


def diff_lines(text: str) -> list[tuple[str, str]]:
    """(css class, line) for the diff view."""
    out = []
    for line in text.splitlines():
        if line.startswith(("changed: ", "added: ", "removed: ", "data differs", "Binary file")):
            kind = "file"
        elif line.startswith(("+++", "---")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = ""
        out.append((kind, line))
    return out

