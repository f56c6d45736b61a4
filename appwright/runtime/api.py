"""The REST API of a served app: `/_aw/api/auth/*` and `/_aw/api/entities/*`.

The paths are the public contract of DESIGN.md. Each handler reads the request,
asks `access.py` whether the caller may act, validates with `validate.py`, and
calls `storage.py`. Every failure is an `ApiError` (a 4xx with a clear message);
`app.py` turns anything else into a logged 500, which the fuzz tests hunt for.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from appwright.runtime import auth
from appwright.runtime.access import Scope, may_create, may_touch, scope
from appwright.runtime.cookies import only_cookie
from appwright.runtime.errors import ApiError, bad_request, not_found
from appwright.runtime.manifest import SYSTEM_FIELDS, EntitySpec
from appwright.runtime.storage import CursorError, Filter, Record, User
from appwright.runtime.validate import FORM_HEADER, WriteError, check_write
from appwright.runtime.values import check_value, normalise

if TYPE_CHECKING:
    from appwright.runtime.app import ServedApp

MAX_BODY = 1024 * 1024
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
SESSION_COOKIE = "aw_session"
WHERE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains")
LIST_PARAMS = ("sort", "where", "limit", "cursor")


# -- request plumbing ----------------------------------------------------------------------
def served(request: Request) -> "ServedApp":
    return request.app.state.served


async def read_json(request: Request) -> Any:
    """The JSON body, at most MAX_BODY bytes."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise ApiError(413, "too_large", f"request body over {MAX_BODY // 1024 // 1024} MiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "too_large", f"request body over {MAX_BODY // 1024 // 1024} MiB")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise bad_request("expected a JSON body; got an empty one")
    return parse_json(raw, "the body")


def parse_json(raw: str | bytes, what: str) -> Any:
    """Decode JSON from a client; a 400 for anything that is not clean JSON text."""
    try:
        value = json.loads(raw)
        if ("\\u" if isinstance(raw, str) else b"\\u") in raw:
            # Lone UTF-16 surrogates (\ud800) decode in Python but cannot be stored or echoed as UTF-8.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeError:
        raise bad_request(f"{what} is not valid Unicode text (bad UTF-8 or a lone \\u surrogate)") from None
    except json.JSONDecodeError as exc:
        raise bad_request(f"{what}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (RecursionError, ValueError):
        raise bad_request(f"{what}: malformed JSON (nested too deeply or out of range)") from None


def session_token(request: Request) -> str | None:
    """The session cookie; None when absent or sent twice (another page planted one: cookies.py)."""
    return only_cookie(request.headers, SESSION_COOKIE)


def current_user(request: Request) -> User | None:
    token = session_token(request)
    return served(request).store.user_for_session(token) if token else None


def cookie_path(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/") + "/"


def set_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=30 * 24 * 3600, path=cookie_path(request),
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# -- app and auth ----------------------------------------------------------------------------
async def app_info(request: Request) -> Response:
    m = served(request).manifest
    # `schema`: each entity's fields and who may do what, for aw.ui.records (the page's own script
    # names them anyway; the access rules are enforced here whatever a page shows)
    schema = {name: {"fields": {f: spec.model_dump(exclude_none=True) for f, spec in e.fields.items()},
                     "rules": {op: sorted(who) for op, who in e.rules().items()}} for name, e in m.entities.items()}
    return JSONResponse({"name": m.name, "signup": m.auth.signup, "entities": list(m.entities), "schema": schema})


async def _create_user(request: Request, body: Any, *, by_admin: bool) -> User:
    if not isinstance(body, dict):
        raise bad_request("expected a JSON object with email and password")
    app = served(request)
    allowed = {"email", "password", "invite"} | ({"role"} if by_admin else set())
    unknown = sorted(set(body) - allowed)
    if unknown:
        # Roles are never set by the client at signup; name the key so the mistake is clear.
        raise bad_request(f"unknown key {unknown[0]!r}; send {', '.join(sorted(allowed))}")
    invite = body.get("invite")
    try:
        auth.signup_allowed(app.manifest.auth.signup, invite=invite, by_admin=by_admin, store=app.store)
        email, password = auth.check_credentials_shape(body.get("email"), body.get("password"))
        auth.check_new_password(password)
    except auth.AuthError as exc:
        raise ApiError(exc.status, "forbidden" if exc.status == 403 else "bad_request", exc.message) from None
    role = body.get("role")
    if role is not None and role not in {"admin", *app.manifest.auth.roles}:
        raise bad_request(f"role: expected one of admin, {', '.join(app.manifest.auth.roles)}; got {role!r}")
    hashed = await run_in_threadpool(auth.hash_password, password)
    code = invite if (app.manifest.auth.signup == "invite" and not by_admin) else None
    user = app.store.create_user(email, hashed, role=role, invite_code=code)
    if user is None:
        if code is not None and not app.store.invite_is_open(code):
            raise ApiError(403, "forbidden", "invite: this code is unknown or already used")
        raise ApiError(409, "conflict", "an account with this email already exists; sign in instead")
    return user


async def signup(request: Request) -> Response:
    user = await _create_user(request, await read_json(request), by_admin=False)
    response = JSONResponse({"user": user.public()}, status_code=201)
    set_session(response, request, served(request).store.create_session(user.id))
    return response


async def login(request: Request) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request("expected a JSON object with email and password")
    app = served(request)
    try:
        email, password = auth.check_credentials_shape(body.get("email"), body.get("password"))
        throttle = auth.Throttle(app.store)
        attempt = throttle.begin(email, client_address(request))
    except auth.AuthError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise ApiError(exc.status, "throttled" if exc.status == 429 else "bad_request", exc.message,
                       headers=headers) from None
    user = app.store.user_by_email(email)
    if not await run_in_threadpool(auth.verify_password, user, password):
        raise ApiError(401, "unauthorized", "wrong email or password")  # the reserved attempt stays a failure
    throttle.succeeded(email, attempt)
    response = JSONResponse({"user": user.public()})
    set_session(response, request, app.store.create_session(user.id))
    return response


async def logout(request: Request) -> Response:
    token = session_token(request)
    if token:
        served(request).store.delete_session(token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path=cookie_path(request), httponly=True, samesite="lax")
    return response


async def session(request: Request) -> Response:
    """Like `me`, but 200 with `{"user": null}` when signed out, so a page that only asks
    "who is here?" logs no failed request in the browser."""
    user = current_user(request)
    return JSONResponse({"user": user.public() if user else None})


async def me(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        raise ApiError(401, "unauthorized", "not signed in")
    return JSONResponse({"user": user.public()})


def require_admin(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise ApiError(401, "unauthorized", "sign in as an admin to do this")
    if user.role != "admin":
        raise ApiError(403, "forbidden", "only admins may do this")
    return user


async def create_invite(request: Request) -> Response:
    admin = require_admin(request)
    body = await read_json(request)
    app = served(request)
    if not isinstance(body, dict) or set(body) - {"role"}:
        raise bad_request('expected {} or {"role": ROLE}')
    role = body.get("role")
    if role is not None and role not in {"admin", *app.manifest.auth.roles}:
        raise bad_request(f"role: expected one of admin, {', '.join(app.manifest.auth.roles)}; got {role!r}")
    return JSONResponse({"code": app.store.create_invite(role, admin.id), "role": role}, status_code=201)


async def add_user(request: Request) -> Response:
    require_admin(request)
    user = await _create_user(request, await read_json(request), by_admin=True)
    return JSONResponse({"user": user.public()}, status_code=201)


async def list_users(request: Request) -> Response:
    require_admin(request)
    return JSONResponse({"items": [u.public() for u in served(request).store.list_users()]})


# -- entities --------------------------------------------------------------------------------
def entity_of(request: Request) -> tuple[str, EntitySpec]:
    name = request.path_params["entity"]
    entities = served(request).manifest.entities
    spec = entities.get(name)
    if spec is None:
        known = ", ".join(entities) or "no entities"
        raise not_found(f"unknown entity {name!r}; this app has {known}")
    return name, spec


def to_json(rec: Record, spec: EntitySpec) -> dict[str, Any]:
    """A record as the API shows it: declared fields only (hidden ones stay stored)."""
    out: dict[str, Any] = {"id": rec.id}
    for key, field in spec.fields.items():
        out[key] = rec.data[key] if key in rec.data else normalise(field, field.default)
    out.update(owner=rec.owner, created_at=rec.created_at, updated_at=rec.updated_at)
    return out


def denied(user: User | None, what: str) -> ApiError:
    if user is None:
        return ApiError(401, "unauthorized", f"sign in to {what}")
    return ApiError(403, "forbidden", f"you may not {what}")


def readable(request: Request, name: str, spec: EntitySpec, user: User | None) -> Record:
    """The record named in the path, or 404 if it does not exist or the caller may not read it."""
    rec = served(request).store.get_record(name, request.path_params["id"])
    if rec is None or not may_touch(spec.rules()["read"], user, rec):
        raise not_found(f"no {name} record with id {request.path_params['id']!r}")
    return rec


def check_refs(request: Request, spec: EntitySpec, values: dict[str, Any], user: User | None) -> None:
    """A ref must name a record the writer can read (so ids cannot be probed through refs)."""
    app = served(request)
    for key, value in values.items():
        field = spec.fields[key]
        if field.type != "ref" or value is None:
            continue
        target = app.manifest.entities[field.entity]
        rec = app.store.get_record(field.entity, value)
        if rec is None or not may_touch(target.rules()["read"], user, rec):
            raise bad_request(f"{key}: no {field.entity} record with id {value!r}")


def write_values(request: Request, name: str, spec: EntitySpec, body: Any, *, partial: bool,
                 system=None) -> dict[str, Any]:
    form = request.headers.get(FORM_HEADER) == "form"
    try:
        return check_write(name, spec, body, partial=partial, system=system, form=form)
    except WriteError as exc:
        raise ApiError(400, "invalid", f"invalid {name}: {exc}", exc.problems) from None


def parse_list_query(request: Request, spec: EntitySpec) -> tuple[str, int, list[Filter], str | None]:
    params = request.query_params
    for key in params.keys():
        if key not in LIST_PARAMS:
            raise bad_request(f"unknown query parameter {key!r}; use {', '.join(LIST_PARAMS)}")
    fields = [*SYSTEM_FIELDS, *spec.fields]
    sort = params.get("sort", "-created_at")
    if sort.lstrip("-") not in fields or sort.startswith("--"):
        raise bad_request(f"sort: unknown field {sort.lstrip('-')!r}; sort by one of {', '.join(fields)} "
                          "(prefix - for descending)")
    raw_limit = params.get("limit", str(DEFAULT_LIMIT))
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise bad_request(f"limit: expected a whole number from 1 to {MAX_LIMIT}; got {raw_limit!r}")
    filters = parse_where(params.get("where"), spec, fields)
    return sort, int(raw_limit), filters, params.get("cursor") or None


def parse_where(raw: str | None, spec: EntitySpec, fields: list[str]) -> list[Filter]:
    if not raw:
        return []
    where = parse_json(raw, 'where (expected JSON like {"done": false} or {"count": {"gt": 3}})')
    if not isinstance(where, dict):
        raise bad_request('where: expected a JSON object like {"done": false}')
    filters = []
    for key, cond in where.items():
        if key not in fields:
            raise bad_request(f"where: unknown field {key!r}; filter on one of {', '.join(fields)}")
        conds = cond if isinstance(cond, dict) else {"eq": cond}
        if not conds:
            raise bad_request(f"where.{key}: expected a value or an object like {{\"gt\": 3}}")
        for op, value in conds.items():
            if op not in WHERE_OPS:
                raise bad_request(f"where.{key}: unknown comparison {op!r}; use {', '.join(WHERE_OPS)}")
            filters.append(Filter(key, op, _where_value(key, op, value, spec)))
    return filters


def _where_value(key: str, op: str, value: Any, spec: EntitySpec) -> Any:
    if isinstance(value, (dict, list)):
        raise bad_request(f"where.{key}.{op}: expected a single value")
    if value is None and op not in ("eq", "ne"):
        raise bad_request(f"where.{key}.{op}: null can only be compared with eq or ne")
    if isinstance(value, bool) and op not in ("eq", "ne"):
        raise bad_request(f"where.{key}.{op}: true and false can only be compared with eq or ne")
    if op == "contains":
        if not isinstance(value, str):
            raise bad_request(f"where.{key}.contains: expected text")
        return value
    field = spec.fields.get(key)
    if field is None:  # a system field: ids and timestamps are strings
        if value is not None and not isinstance(value, str):
            raise bad_request(f"where.{key}: expected text")
        return value
    problem = check_value(field, value)
    if problem and not (field.type in ("string", "text") and problem.startswith("too long")):
        raise bad_request(f"where.{key}: {problem}")
    return normalise(field, value)  # compare with the stored form (datetimes in UTC)


async def list_records(request: Request) -> Response:
    name, spec = entity_of(request)
    user = current_user(request)
    read = scope(spec.rules()["read"], user)
    if read is Scope.NONE:
        raise denied(user, f"read {name} records")
    sort, limit, filters, cursor = parse_list_query(request, spec)
    try:
        page = served(request).store.list_records(
            name, filters=filters, owner=user.id if read is Scope.OWN else False,
            sort=sort, limit=limit, cursor=cursor,
            defaults={k: normalise(f, f.default) for k, f in spec.fields.items() if f.default is not None})
    except CursorError as exc:
        raise bad_request(str(exc)) from None
    return JSONResponse({"items": [to_json(r, spec) for r in page.items], "next": page.next})


async def create_record(request: Request) -> Response:
    name, spec = entity_of(request)
    user = current_user(request)
    if not may_create(spec.rules()["create"], user):
        raise denied(user, f"create {name} records")
    values = write_values(request, name, spec, await read_json(request), partial=False)
    check_refs(request, spec, values, user)
    rec = served(request).store.insert_record(name, user.id if user else None, values)
    return JSONResponse(to_json(rec, spec), status_code=201)


async def get_record(request: Request) -> Response:
    name, spec = entity_of(request)
    return JSONResponse(to_json(readable(request, name, spec, current_user(request)), spec))


async def update_record(request: Request) -> Response:
    name, spec = entity_of(request)
    user = current_user(request)
    rec = readable(request, name, spec, user)
    if not may_touch(spec.rules()["update"], user, rec):
        raise denied(user, f"change this {name} record")
    system = {"id": rec.id, "owner": rec.owner, "created_at": rec.created_at, "updated_at": rec.updated_at}
    values = write_values(request, name, spec, await read_json(request), partial=True, system=system)
    check_refs(request, spec, values, user)
    return JSONResponse(to_json(served(request).store.update_record(rec, values), spec))


async def delete_record(request: Request) -> Response:
    name, spec = entity_of(request)
    user = current_user(request)
    rec = readable(request, name, spec, user)
    if not may_touch(spec.rules()["delete"], user, rec):
        raise denied(user, f"delete this {name} record")
    served(request).store.delete_record(rec)
    return Response(status_code=204)
