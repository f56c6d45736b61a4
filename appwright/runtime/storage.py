"""Per-app storage: one SQLite database per app (WAL mode) through SQLAlchemy Core.

Records of every entity live in one `records` table with their declared fields
as a JSON document beside the server-set columns `id`, `owner`, `created_at`,
`updated_at`. That is what makes schema changes between versions safe:

- adding a field or an entity needs no migration; old records read the field's
  default (or null);
- removing a field hides it from the API but keeps the stored values, so adding
  the field back brings them back (`hidden_fields` reports what is kept hidden).

Users, sessions, invites and failed sign-ins have their own tables.

Durability: every write is its own transaction, committed before the HTTP answer
is sent. With WAL and `synchronous=NORMAL` a committed write survives the server
process being killed; after a power cut the last few commits may roll back
(`synchronous=FULL` closes that gap at the cost of an fsync per write; see
`StoreConfig`).

Not done here: access rules (see `access.py`) and validation (`validate.py`);
this layer trusts its callers. The tables are declared in `tables.py`; list
statements and paging cursors are built in `listing.py`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, delete, event, func, insert, literal_column, select, update
from sqlalchemy.engine import Engine

from appwright.runtime.listing import CursorError  # noqa: F401  (re-exported: callers import it from here)
from appwright.runtime.listing import Filter, decode_cursor, encode_cursor, list_query
from appwright.runtime.tables import invites, login_failures, metadata, records, sessions, users

DB_FILENAME = "app.db"
DATA_DIR = ".aw"  # default home of an app's data, inside its bundle; hidden files are never served
SESSION_DAYS = 30


def db_path(bundle: str | Path, data_dir: str | Path | None = None) -> Path:
    """Where the app's database lives: `DATA_DIR/app.db`, or `BUNDLE/.aw/app.db` by default."""
    return Path(data_dir) / DB_FILENAME if data_dir else Path(bundle) / DATA_DIR / DB_FILENAME


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    role: str | None
    created_at: str
    password_hash: str

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "role": self.role, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    entity: str
    owner: str | None
    created_at: str
    updated_at: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Record]
    next: str | None


# Statements on every request, built once: building a SQLAlchemy expression costs more
# than running the query (benchmarks/runtime.py).
_SESSION_USER = select(users).join(sessions, sessions.c.user_id == users.c.id).where(
    sessions.c.token_hash == bindparam("token_hash"), sessions.c.expires_at > bindparam("now"))
_GET_RECORD = select(records).where(records.c.entity == bindparam("entity"), records.c.id == bindparam("id"))
_INSERT_RECORD = insert(records)


@dataclass(frozen=True)
class StoreConfig:
    synchronous: str = "NORMAL"  # NORMAL: survives a killed process; FULL: survives power loss too
    # A signed-in session is looked up at most this often. Sign-out, role and password changes
    # made through this store apply at once; ones made by another process within this time.
    session_cache_s: float = 1.0
    # Record ids that sort in the order the records were made, instead of random ones: the graders'
    # (graders/env.py), so records that tie in a sort fall in the same order every time.
    ordered_ids: bool = False


class AppStore:
    """One app's database. Methods are small transactions; callers enforce access."""

    def __init__(self, path: str | Path, config: StoreConfig = StoreConfig()):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(f"sqlite:///{self.path}")
        self.config = config
        self._made = itertools.count()
        self._sessions: dict[str, tuple[float, User | None]] = {}  # token hash -> (looked up at, user)
        sync = config.synchronous

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_conn, _record):  # every pooled connection gets the same settings
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sync}")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- users and sessions ------------------------------------------------------------
    def create_user(self, email: str, password_hash: str, role: str | None = None,
                    invite_code: str | None = None) -> User | None:
        """Insert a user; None if the email is taken or the invite is unknown or used.

        The invite is consumed in the same transaction, so one code makes one user."""
        user = User(uuid.uuid4().hex, email, role, now(), password_hash)
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.email == email)).first():
                return None
            if invite_code is not None:
                row = conn.execute(select(invites.c.role).where(
                    invites.c.code_hash == _hash_token(invite_code), invites.c.used_by.is_(None))).first()
                if row is None:
                    return None
                taken = conn.execute(update(invites).where(
                    invites.c.code_hash == _hash_token(invite_code), invites.c.used_by.is_(None)
                ).values(used_by=user.id)).rowcount
                if taken != 1:
                    return None
                user = User(user.id, email, row.role if role is None else role, user.created_at, password_hash)
            conn.execute(insert(users).values(id=user.id, email=user.email, password_hash=user.password_hash,
                                              role=user.role, created_at=user.created_at))
        return user

    def invite_is_open(self, code: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(invites.c.code_hash).where(
                invites.c.code_hash == _hash_token(code), invites.c.used_by.is_(None))).first() is not None

    def _user(self, where) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(where)).first()
        return User(row.id, row.email, row.role, row.created_at, row.password_hash) if row else None

    def user_by_email(self, email: str) -> User | None:
        return self._user(users.c.email == email)

    def user_by_id(self, user_id: str) -> User | None:
        return self._user(users.c.id == user_id)

    def set_role(self, user_id: str, role: str | None) -> None:
        self._sessions.clear()
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(role=role))

    def set_password(self, user_id: str, password_hash: str) -> None:
        """A new password; every session of the user ends."""
        self._sessions.clear()
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id))

    def end_sessions(self, user_id: str) -> None:
        self._sessions.clear()
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id))

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.created_at)).all()
        return [User(r.id, r.email, r.role, r.created_at, r.password_hash) for r in rows]

    def create_session(self, user_id: str) -> str:
        token = secrets.token_urlsafe(32)
        now_ = datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now_.isoformat()))  # keep the table small
            conn.execute(insert(sessions).values(token_hash=_hash_token(token), user_id=user_id,
                                                 expires_at=(now_ + timedelta(days=SESSION_DAYS)).isoformat()))
        return token

    def user_for_session(self, token: str) -> User | None:
        token_hash, t = _hash_token(token), time.monotonic()
        cached = self._sessions.get(token_hash)
        if cached and t - cached[0] < self.config.session_cache_s:
            return cached[1]
        with self.engine.connect() as conn:
            row = conn.execute(_SESSION_USER, {"token_hash": token_hash,
                                               "now": datetime.now(timezone.utc).isoformat()}).first()
        user = User(row.id, row.email, row.role, row.created_at, row.password_hash) if row else None
        if len(self._sessions) > 10_000:
            self._sessions.clear()
        self._sessions[token_hash] = (t, user)
        return user

    def delete_session(self, token: str) -> None:
        self._sessions.pop(_hash_token(token), None)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == _hash_token(token)))

    def create_invite(self, role: str | None, created_by: str | None) -> str:
        code = secrets.token_urlsafe(12)
        with self.engine.begin() as conn:
            conn.execute(insert(invites).values(code_hash=_hash_token(code), role=role,
                                                created_by=created_by, created_at=now()))
        return code

    # -- throttling of failed sign-ins ---------------------------------------------------
    def reserve_attempt(self, limits: dict[str, int], since: datetime,
                        keep: timedelta = timedelta(days=1)) -> list[int] | None:
        """Count a sign-in attempt as a failure before the password is checked.

        Returns the reserved rows (to release on success), or None when a key is already
        at its limit. The row is written first and then its place in line is counted
        (SQLite has one writer, so rows with a lower rowid were committed before it):
        a burst of parallel guesses cannot all pass a check made before any is recorded."""
        at = datetime.now(timezone.utc)
        rowid = literal_column("rowid")
        with self.engine.begin() as conn:
            # Failures older than `keep` no longer count: drop them so a flood cannot grow the table forever.
            conn.execute(delete(login_failures).where(login_failures.c.at < (at - keep).isoformat()))
            ids = [conn.execute(insert(login_failures).values(key=k, at=at.isoformat())).lastrowid for k in limits]
        with self.engine.connect() as conn:
            over = any(conn.execute(select(func.count()).select_from(login_failures).where(
                login_failures.c.key == key, login_failures.c.at > since.isoformat(), rowid <= rid
            )).scalar_one() > limit for (key, limit), rid in zip(limits.items(), ids))
        if over:
            self.release_attempt(ids)
            return None
        return ids

    def release_attempt(self, ids: list[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(literal_column("rowid").in_(ids)))

    def clear_failures(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.key == key))

    # -- records -------------------------------------------------------------------------
    @staticmethod
    def _record(row) -> Record:
        return Record(row.id, row.entity, row.owner, row.created_at, row.updated_at, json.loads(row.data))

    def insert_record(self, entity: str, owner: str | None, data: dict[str, Any]) -> Record:
        stamp = now()
        rid = uuid.uuid4().hex
        if self.config.ordered_ids:
            rid = f"{next(self._made):012x}{rid[12:]}"
        rec = Record(rid, entity, owner, stamp, stamp, data)
        with self.engine.begin() as conn:
            conn.execute(_INSERT_RECORD, {"id": rec.id, "entity": entity, "owner": owner, "created_at": stamp,
                                          "updated_at": stamp, "data": json.dumps(data)})
        return rec

    def get_record(self, entity: str, rid: str) -> Record | None:
        with self.engine.connect() as conn:
            row = conn.execute(_GET_RECORD, {"entity": entity, "id": rid}).first()
        return self._record(row) if row else None

    def update_record(self, rec: Record, changes: dict[str, Any]) -> Record:
        """Merge `changes` into the stored document (fields hidden by a schema change are kept)."""
        stamp = now()
        with self.engine.begin() as conn:
            row = conn.execute(select(records.c.data).where(records.c.id == rec.id)).first()
            data = {**json.loads(row.data), **changes}
            conn.execute(update(records).where(records.c.id == rec.id).values(data=json.dumps(data), updated_at=stamp))
        return Record(rec.id, rec.entity, rec.owner, rec.created_at, stamp, data)

    def delete_record(self, rec: Record) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(records).where(records.c.id == rec.id))

    def list_records(self, entity: str, *, filters: list[Filter], owner: str | None | bool = False,
                     sort: str = "-created_at", limit: int = 50, cursor: str | None = None,
                     defaults: dict[str, Any] | None = None) -> Page:
        """A page of records. `owner=False` means any owner; a string (or None) restricts to it."""
        params: dict[str, Any] = {"entity": entity, "owner": owner, "limit": limit + 1}
        for i, f in enumerate(filters):
            params[f"f{i}"] = str(f.value).lower() if f.op == "contains" else f.value
        cursor_kind = "none"
        if cursor:
            params["cursor_value"], params["cursor_id"] = decode_cursor(cursor, sort)
            cursor_kind = "null" if params["cursor_value"] is None else "value"
        query = list_query(sort, tuple((f.field, f.op, f.value is None) for f in filters),
                            "any" if owner is False else "null" if owner is None else "one", cursor_kind,
                            tuple(sorted((defaults or {}).items())))
        with self.engine.connect() as conn:
            rows = conn.execute(query, params).all()
        rows, more = rows[:limit], rows[limit:]
        datas = json.loads("[" + ",".join(r.data for r in rows) + "]")  # one decode for the page, not one per row
        items = [Record(r.id, r.entity, r.owner, r.created_at, r.updated_at, d) for r, d in zip(rows, datas)]
        nxt = encode_cursor(sort, rows[-1].sort_value, rows[-1].id) if more else None
        return Page(items, nxt)

    def stored_fields(self, entity: str) -> dict[str, int]:
        """Field name -> number of records of `entity` that store a value for it."""
        q = ("SELECT j.key, count(*) FROM records, json_each(records.data) AS j "
             "WHERE records.entity = :e GROUP BY j.key")
        with self.engine.connect() as conn:
            return {k: n for k, n in conn.exec_driver_sql(q.replace(":e", "?"), (entity,)).all()}

    def entity_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(records.c.entity, func.count()).group_by(records.c.entity)).all())
