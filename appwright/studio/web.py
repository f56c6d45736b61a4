"""What the studio's routes share: errors, the signed-in person, ownership, CSRF, and the
read-only views of an app that pages and fragments render.

Privacy rule, enforced in one place (`owned_app`): every route under /apps/{id} and
/api/apps/{id} loads the app *of the signed-in person*; an app of anyone else is answered
404, exactly like an app that does not exist. Turns, versions and flags are then looked up
within that app (`app_turn`, `app_version`), so an id from another app is a 404 too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

from fastapi import Path as FastPath
from fastapi import Request
from fastapi.templating import Jinja2Templates
from pydantic import AfterValidator
from sqlalchemy import select
from sqlalchemy.orm import Session

from appwright.agent.trajectory import Trajectory
from appwright.runtime.cookies import only_cookie
from appwright.studio import auth
from appwright.studio.config import StudioConfig
from appwright.tasks.model import CheckResult
from appwright.studio.db import App, AppVersion, Database, Flag, GradeRow, Person, Rating, TrajectoryRow, Turn
from appwright.studio.preview import Previews
from appwright.studio.security import SecurityWorker
from appwright.studio.turns import TurnRunner

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)  # SQLite hands back naive datetimes


# <time datetime="{{ t|iso }}">{{ t|when }}</time>: UTC on the server; studio.js shows local time.
TEMPLATES.env.filters["iso"] = lambda dt: utc(dt).isoformat(timespec="seconds")
TEMPLATES.env.filters["when"] = lambda dt: utc(dt).strftime("%Y-%m-%d %H:%M UTC")


class StudioError(Exception):
    """A 4xx with a message for the person: JSON {"error": ...} under /api, a page elsewhere."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class NotSignedIn(Exception):
    """No valid session: pages redirect to /signin, the API answers 401."""


def not_found(what: str = "app") -> StudioError:
    return StudioError(404, f"no such {what}")


# -- the studio's parts, from the app's state ------------------------------------------------------

def config(request: Request) -> StudioConfig:
    return request.app.state.config


def database(request: Request) -> Database:
    return request.app.state.db


def runner(request: Request) -> TurnRunner:
    return request.app.state.turns


def previews(request: Request) -> Previews:
    return request.app.state.previews


def security(request: Request) -> SecurityWorker:
    return request.app.state.security


# -- people and CSRF ------------------------------------------------------------------------------

def cookie(request: Request, name: str) -> str | None:
    """A studio cookie; None when absent or sent twice (a planted second one is not guessed at)."""
    return only_cookie(request.headers, name)


def current_person(request: Request) -> Person | None:
    if not hasattr(request.state, "person"):
        request.state.person = auth.person_for(database(request), cookie(request, auth.SESSION_COOKIE))
    return request.state.person


def person_required(request: Request) -> Person:
    person = current_person(request)
    if person is None:
        raise NotSignedIn()
    return person


def _csrf_cookie(request: Request) -> str | None:
    """The cookie this browser's CSRF token is tied to: its session once signed in, else the
    pre-session cookie of the sign-in forms (so a signed-out page's token dies at sign-in)."""
    if current_person(request) is not None:
        return cookie(request, auth.SESSION_COOKIE)
    return getattr(request.state, "pre_cookie", None) or cookie(request, auth.PRE_COOKIE)


def csrf_for(request: Request) -> str:
    """The token this browser's forms and requests must carry (see auth.py)."""
    tied = _csrf_cookie(request)
    return auth.csrf_token(tied) if tied else ""


async def csrf_guard(request: Request) -> None:
    """A dependency of every route: unsafe methods need the token, in the header or the form."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(auth.CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        field = (await request.form()).get(auth.CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not auth.csrf_ok(_csrf_cookie(request), sent):
        raise StudioError(403, "this request has no valid CSRF token: reload the page and try again")


# -- typed, bounded input -----------------------------------------------------------------------------

# The largest id a route takes: the log's INTEGER columns hold 2^31 - 1 on PostgreSQL (2^63 - 1 on
# SQLite), and a larger number must be a 4xx, not a database overflow.
MAX_ID = 2**31 - 1
Id = Annotated[int, FastPath(ge=1, le=MAX_ID, description="a turn or version id")]


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate such as \\ud800)") from None
    return text


# Text from a client: any str that can be stored and shown as UTF-8.
Text = Annotated[str, AfterValidator(_encodable)]
AppId = Annotated[Text, FastPath(max_length=64, description="an app id")]  # an unknown one: 404


# -- ownership ---------------------------------------------------------------------------------------

def owned_app(s: Session, person: Person, app_id: str) -> App:
    app = s.get(App, app_id)
    if app is None or app.owner_id != person.id:
        raise not_found()
    return app


def app_turn(s: Session, app: App, turn_id: int) -> Turn:
    turn = s.get(Turn, turn_id)
    if turn is None or turn.app_id != app.id:
        raise not_found("turn")
    return turn


def app_version(s: Session, app: App, version_id: int) -> AppVersion:
    version = s.get(AppVersion, version_id)
    if version is None or version.app_id != app.id:
        raise not_found("version")
    return version


# -- views for the templates ----------------------------------------------------------------------

@dataclass(frozen=True)
class VersionView:
    id: int
    number: int
    vid: str
    parent: str | None
    source: str
    message: str
    created_at: datetime
    is_head: bool
    turn_id: int | None

    @property
    def short(self) -> str:
        return self.vid[:12]


@dataclass(frozen=True)
class TurnView:
    id: int
    prompt: str
    model: str
    status: str
    reply: str | None
    error: str | None
    stop_reason: str | None
    created_at: datetime
    elapsed_s: float
    tokens: int
    rating: int | None
    version: VersionView | None
    files: list[str]
    check_ok: bool | None
    check_text: str | None


@dataclass(frozen=True)
class GradeView:
    status: str  # "none" (no version) | "queued" | "running" | "error" | "done"
    message: str = ""
    row: GradeRow | None = None

    @property
    def checks(self) -> list[CheckResult]:
        """Failing checks first, then by name."""
        return sorted(self.row.grade.checks if self.row else [], key=lambda c: (c.passed, c.name))


def versions_of(s: Session, app: App) -> list[VersionView]:
    """Oldest first, numbered from 1. The head is the last row whose vid is App.head."""
    rows = s.scalars(select(AppVersion).where(AppVersion.app_id == app.id).order_by(AppVersion.id)).all()
    head_row = next((r.id for r in reversed(rows) if r.vid == app.head), None)
    return [VersionView(r.id, n, r.vid, r.parent, r.source, r.message, utc(r.created_at), r.id == head_row,
                        r.turn_id) for n, r in enumerate(rows, 1)]


def turns_of(s: Session, app: App, person: Person, versions: list[VersionView]) -> list[TurnView]:
    turns = s.scalars(select(Turn).where(Turn.app_id == app.id).order_by(Turn.id)).all()
    ids = [t.id for t in turns]
    ratings = dict(s.execute(select(Rating.turn_id, Rating.value).where(
        Rating.turn_id.in_(ids), Rating.person_id == person.id)).all()) if ids else {}
    trajectories = {r.turn_id: r.data for r in s.scalars(select(TrajectoryRow).where(
        TrajectoryRow.turn_id.in_(ids)))} if ids else {}
    by_turn = {v.turn_id: v for v in versions if v.turn_id is not None and v.source == "agent"}
    views = []
    for t in turns:
        files, check = [], None
        if t.id in trajectories:
            traj = Trajectory.model_validate(trajectories[t.id])
            files = [c.call.arguments.get("path", "?") for step in traj.steps for c in step.tool_calls
                     if c.call.name == "write_file" and c.result.ok]
            check = traj.check
        views.append(TurnView(t.id, t.prompt, t.model, t.status, t.reply, t.error, t.stop_reason, utc(t.created_at),
                              t.elapsed_s, t.prompt_tokens + t.completion_tokens, ratings.get(t.id), by_turn.get(t.id),
                              list(dict.fromkeys(files)), check.ok if check else None, check.text if check else None))
    return views


def grade_of(request: Request, s: Session, app: App, vid: str | None) -> GradeView:
    if vid is None:
        return GradeView("none")
    row = s.scalar(select(GradeRow).where(GradeRow.app_id == app.id, GradeRow.vid == vid).order_by(GradeRow.id.desc()))
    if row is not None:
        return GradeView("done", row=row)
    status = security(request).status(app.id, vid)
    if status is None:  # e.g. graded before a restart was interrupted: ask again
        security(request).enqueue(app.id, vid)
        status = security(request).status(app.id, vid) or "queued"
    if status.startswith("error"):
        return GradeView("error", message=status.removeprefix("error: "))
    return GradeView(status)


def flags_of(s: Session, app: App, person: Person) -> list[Flag]:
    return list(s.scalars(select(Flag).where(Flag.app_id == app.id, Flag.person_id == person.id)
                          .order_by(Flag.id.desc())))


def preview_url(request: Request, app: App) -> str | None:
    return f"{config(request).preview_origin}/apps/{app.preview_key}/" if app.head else None
