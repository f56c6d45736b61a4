"""The JSON endpoints the workspace's JavaScript calls, under /api/apps/{app id}/.

Every POST carries the header `X-CSRF-Token` (web.csrf_guard); errors are
`{"error": "..."}` with a 4xx. A turn's live events are Server-Sent Events
(`text/event-stream`): `status`, `step`, `token`, `file`, `tool`, `check`, and a last `done`
holding the finished turn; each has an `id`, and `Last-Event-ID` resumes a stream.

    POST /api/apps/{id}/turns                  {"prompt", "model"?} -> 202 {"turn", "events"} | 409 busy
    GET  /api/apps/{id}/turns/{turn}           the turn, with this person's rating
    GET  /api/apps/{id}/turns/{turn}/events    SSE
    GET  /api/apps/{id}/turns/{turn}/trajectory  the harness's record of the turn
    POST /api/apps/{id}/turns/{turn}/stop      -> 202 | 409 when it is not running
    POST /api/apps/{id}/turns/{turn}/rating    {"value": 1 | -1}
    POST /api/apps/{id}/versions/{v}/restore   files and data -> a new version (source "restore")
    GET  /api/apps/{id}/versions/{v}/grade     the security probe of that version
    POST /api/apps/{id}/flags                  {"description", "version"?, "url", "console_errors", "failed_requests"}
    GET  /api/apps/{id}/flags                  this person's flags on the app
    POST /api/apps/{id}/preview/admin          -> {"url"}: a one-time link that signs the owner in to the preview as admin
    GET  /api/apps/{id}/state                  head, preview URL, running turn, security status
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from appwright.runtime.manifest import ManifestError
from appwright.studio.db import App, AppVersion, Flag, Person, Rating, TrajectoryRow
from appwright.studio.pages import check_model, check_prompt, check_scope
from appwright.studio.live import StudioEvent
from appwright.studio.turns import Busy, turn_json
from appwright.studio.web import (MAX_ID, AppId, Id, StudioError, Text, app_turn, app_version, config, database,
                                  grade_of, owned_app, person_required, preview_url, previews, runner, security,
                                  versions_of)
from appwright.workspace import WorkspaceError, restore

router = APIRouter(prefix="/api/apps/{app_id}")


class _Body(BaseModel):
    # strict: JSON's true is not the number 1, nor "3" the number 3
    model_config = ConfigDict(extra="forbid", strict=True)


class TurnIn(_Body):
    prompt: Text
    model: Text | None = None


def _vote(value: int) -> int:
    if value not in (1, -1):
        raise ValueError("expected 1 (up) or -1 (down)")
    return value


class RatingIn(_Body):
    value: Annotated[int, AfterValidator(_vote)]


class FailedRequest(_Body):
    method: Text = Field(max_length=16)
    url: Text = Field(max_length=2000)
    status: int = Field(ge=0, le=999)  # 0: a network error


class FlagIn(_Body):
    description: Text
    version: int | None = Field(None, ge=1, le=MAX_ID)  # an AppVersion id; default the head
    url: Text = Field("", max_length=2000)
    console_errors: list[Annotated[Text, Field(max_length=2000)]] = Field(default_factory=list, max_length=50)
    failed_requests: list[FailedRequest] = Field(default_factory=list, max_length=50)


def version_json(v) -> dict[str, Any]:
    return {"id": v.id, "number": v.number, "vid": v.vid, "parent": v.parent, "source": v.source,
            "message": v.message, "created_at": v.created_at.isoformat(), "is_head": v.is_head}


# -- turns ---------------------------------------------------------------------------------------------

@router.post("/turns", status_code=202)
def start_turn(request: Request, app_id: AppId, body: TurnIn, person: Person = Depends(person_required)):
    prompt = check_prompt(request, body.prompt)
    with database(request).session() as s:
        app = owned_app(s, person, app_id)
    model = check_model(body.model.strip() if body.model else app.model)
    check_scope(prompt, model)
    try:
        turn = runner(request).start(app, person, prompt, model)
    except Busy as exc:
        raise StudioError(409, str(exc)) from None
    return {"turn": turn_json(turn), "events": f"/api/apps/{app.id}/turns/{turn.id}/events"}


@router.get("/turns/{turn_id}")
def get_turn(request: Request, app_id: AppId, turn_id: Id, person: Person = Depends(person_required)):
    with database(request).session() as s:
        turn = app_turn(s, owned_app(s, person, app_id), turn_id)
        rating = s.scalar(select(Rating.value).where(Rating.turn_id == turn.id, Rating.person_id == person.id))
        version = s.scalar(select(AppVersion.id).where(AppVersion.turn_id == turn.id, AppVersion.source == "agent"))
        return {"turn": turn_json(turn, version, rating)}


@router.get("/turns/{turn_id}/trajectory")
def get_trajectory(request: Request, app_id: AppId, turn_id: Id, person: Person = Depends(person_required)):
    with database(request).session() as s:
        turn = app_turn(s, owned_app(s, person, app_id), turn_id)
        row = s.scalar(select(TrajectoryRow).where(TrajectoryRow.turn_id == turn.id))
        if row is None:
            raise StudioError(404, "this turn has no trajectory (it is running, or the model never answered)")
        return row.data


@router.get("/turns/{turn_id}/events")
async def turn_events(request: Request, app_id: AppId, turn_id: Id, person: Person = Depends(person_required)):
    done = await _finished_turn(request, person, app_id, turn_id)
    live = runner(request).live_turn(app_id, turn_id)
    try:
        start = int(request.headers.get("last-event-id", "-1")) + 1
    except ValueError:
        start = 0

    async def stream():
        if live is None:  # finished before this studio started, or an older turn: its outcome only
            yield StudioEvent(kind="done", done=done).sse(0)
            return
        async for item in live.stream(start):
            yield ": still working\n\n" if item is None else item[1].sse(item[0])

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


async def _finished_turn(request: Request, person: Person, app_id: str, turn_id: int) -> dict[str, Any]:
    def load():
        with database(request).session() as s:
            return turn_json(app_turn(s, owned_app(s, person, app_id), turn_id))

    return await run_in_threadpool(load)


@router.post("/turns/{turn_id}/stop", status_code=202)
def stop_turn(request: Request, app_id: AppId, turn_id: Id, person: Person = Depends(person_required)):
    with database(request).session() as s:
        turn = app_turn(s, owned_app(s, person, app_id), turn_id)
    if not runner(request).stop(app_id, turn.id):
        raise StudioError(409, "this turn is not running")
    return {"stopping": True}


@router.post("/turns/{turn_id}/rating")
def rate_turn(request: Request, app_id: AppId, turn_id: Id, body: RatingIn, person: Person = Depends(person_required)):
    with database(request).session() as s:
        turn = app_turn(s, owned_app(s, person, app_id), turn_id)
        if turn.status == "running":
            raise StudioError(409, "the agent is still working on this turn; rate it when it is done")
        rating = s.scalar(select(Rating).where(Rating.turn_id == turn.id, Rating.person_id == person.id))
        if rating is None:
            s.add(Rating(turn_id=turn.id, person_id=person.id, value=body.value))
        else:
            rating.value = body.value
    return {"turn": turn_id, "rating": body.value}


# -- versions --------------------------------------------------------------------------------------------

@router.post("/versions/{version_id}/restore")
def restore_version(request: Request, app_id: AppId, version_id: Id, person: Person = Depends(person_required)):
    with database(request).session() as s:
        app = owned_app(s, person, app_id)
        target = app_version(s, app, version_id)
        number = next(v.number for v in versions_of(s, app) if v.id == target.id)
    if target.vid == app.head:
        raise StudioError(409, f"v{number} is already the current version")
    bundle = config(request).apps_dir / app.id
    try:
        with runner(request).exclusive(app.id):
            previews(request).show(app.preview_key, bundle)
            result = restore(bundle, target.vid, data=True)
            previews(request).reload(app.preview_key, bundle)
            if app.legacy_admin:  # the restored data may be from before revision 0002 (studio/app.py)
                previews(request).revoke_email_admin(app.preview_key, person.email)
            with database(request).session() as s:
                row = s.get(App, app.id)
                parent = row.head
                if result.autosaved is not None and result.autosaved.id != row.head:
                    # Data (or files) changed since the head was saved: keep that state in the history too.
                    s.add(AppVersion(app_id=app.id, vid=result.autosaved.id, parent=row.head, source="person",
                                     message=f"saved automatically before restoring v{number}: "
                                             "the files and data as they were"))
                    parent = result.autosaved.id
                s.add(AppVersion(app_id=app.id, vid=target.vid, parent=parent, source="restore",
                                 message=f"restored v{number}" + ("" if result.data == "restored" else
                                                                  " (files only: it has no data snapshot)")))
                row.head = target.vid
                s.flush()
                head = next(v for v in versions_of(s, row) if v.is_head)
    except Busy as exc:
        raise StudioError(409, str(exc)) from None
    except WorkspaceError as exc:
        raise StudioError(409, f"could not restore v{number}: {exc}") from None
    security(request).enqueue(app.id, target.vid)
    return {"version": version_json(head), "data": result.data}


@router.get("/versions/{version_id}/grade")
def version_grade(request: Request, app_id: AppId, version_id: Id, person: Person = Depends(person_required)):
    with database(request).session() as s:
        app = owned_app(s, person, app_id)
        grade = grade_of(request, s, app, app_version(s, app, version_id).vid)
        if grade.row is None:
            return {"status": grade.status, "message": grade.message}
        r = grade.row
        return {"status": "done", "vid": r.vid, "passed": r.passed, "total": r.total, "ok": r.ok,
                "seconds": r.seconds, "checks": [c.model_dump(mode="json") for c in grade.checks]}


# -- flags -------------------------------------------------------------------------------------------------

@router.post("/flags", status_code=201)
def flag_bug(request: Request, app_id: AppId, body: FlagIn, person: Person = Depends(person_required)):
    description = body.description.strip()
    limit = config(request).max_flag_chars
    if not description:
        raise StudioError(400, "describe the bug in a few words")
    if len(description) > limit:
        raise StudioError(400, f"the description is too long ({len(description):,} characters; at most {limit:,})")
    with database(request).session() as s:
        app = owned_app(s, person, app_id)
        if body.version is not None:
            version = app_version(s, app, body.version)
        else:
            version = s.scalar(select(AppVersion).where(AppVersion.app_id == app.id, AppVersion.vid == app.head)
                               .order_by(AppVersion.id.desc()))
            if version is None:
                raise StudioError(409, "there is no version to flag yet: wait for the first one")
        made_by = s.scalar(select(AppVersion.turn_id).where(  # the turn that made this version's files
            AppVersion.app_id == app.id, AppVersion.vid == version.vid, AppVersion.source == "agent"))
        unkey = _unkeyed(app.preview_key)
        flag = Flag(app_id=app.id, person_id=person.id, vid=version.vid, turn_id=made_by, description=description,
                    url=unkey(body.url) or "/", console_errors=[unkey(e) for e in body.console_errors],
                    failed_requests=[{**r.model_dump(), "url": unkey(r.url)} for r in body.failed_requests])
        s.add(flag)
        s.flush()
        return {"flag": flag_json(flag)}


@router.get("/flags")
def list_flags(request: Request, app_id: AppId, person: Person = Depends(person_required)):
    with database(request).session() as s:
        app = owned_app(s, person, app_id)
        rows = s.scalars(select(Flag).where(Flag.app_id == app.id, Flag.person_id == person.id).order_by(Flag.id))
        return {"flags": [flag_json(f) for f in rows]}


def flag_json(f: Flag) -> dict[str, Any]:
    return {"id": f.id, "vid": f.vid, "turn_id": f.turn_id, "description": f.description, "url": f.url,
            "console_errors": f.console_errors, "failed_requests": f.failed_requests}


def _unkeyed(key: str):
    """Captured text with the preview's capability key taken out, so flags and what is exported
    from them never carry it."""
    def unkey(text: str) -> str:
        return text.replace(f"/apps/{key}", "").replace(key, "<preview>")
    return unkey


# -- the owner is the app's admin ---------------------------------------------------------------------------

@router.post("/preview/admin")
def preview_admin(request: Request, app_id: AppId, person: Person = Depends(person_required)):
    """DESIGN.md: the person who owns an app is its admin. This returns a link, good once and for
    a minute, that signs the preview in to the app's owner account as an admin (preview.py)."""
    with database(request).session() as s:
        app = owned_app(s, person, app_id)
    if app.head is None:
        raise StudioError(409, "there is no version to sign in to yet: wait for the first one")
    try:
        previews(request).show(app.preview_key, config(request).apps_dir / app.id)
    except ManifestError as exc:
        raise StudioError(409, f"the current version cannot be served, so nobody can sign in to it: {exc}") from None
    ticket = previews(request).admin_ticket(app.preview_key)
    return {"url": f"{config(request).preview_origin}/apps/{app.preview_key}/_studio/admin?ticket={ticket}"}


# -- the workspace's state -------------------------------------------------------------------------------

@router.get("/state")
def app_state(request: Request, app_id: AppId, person: Person = Depends(person_required)):
    with database(request).session() as s:
        app = owned_app(s, person, app_id)
        head = next((v for v in versions_of(s, app) if v.is_head), None)
        grade = grade_of(request, s, app, app.head)
    live = runner(request).running(app.id)
    return {"name": app.name, "model": app.model, "head": version_json(head) if head else None,
            "preview_url": preview_url(request, app), "running": live.turn_id if live else None,
            "security": grade.status}
