"""The studio's interaction log: SQLAlchemy tables, one engine per studio, Alembic migrations.

    db = Database.open("sqlite:///studio.db")   # runs the migrations up to head
    with db.session() as s:                     # one transaction; commits on success
        s.add(Person(email="ada@example.com", password_hash=h))

Every row of the log is here, so any interaction can be replayed: people and their studio
sessions, apps, versions (each a workspace version id of the app's bundle), turns (one
request to the agent and its result), the trajectory of each turn (the harness's record,
as JSON), ratings of turns, flagged bugs, and grades (the security and isolation checks
run on each new version).

SQLite by default, Postgres by URL (`postgresql+psycopg://...`; the driver is not a
dependency). The schema changes only through a new Alembic revision in `migrations/`
(`tests/test_studio_db.py` checks that the migrated schema equals these tables).

Does not: store app files (they live in each app's workspace bundle on disk) or the live
data of the generated apps (SQLite files inside the bundles).
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from appwright.tasks.model import Grade

MIGRATIONS = Path(__file__).parent / "migrations"


def now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return secrets.token_hex(8)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Person(Base):
    """Someone who uses the studio. Emails are stored lower-cased."""
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class StudioSession(Base):
    """A signed-in browser. The cookie holds the token; only its sha256 is stored."""
    __tablename__ = "studio_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class App(Base):
    """One app a person builds. Its bundle is `<data dir>/apps/<id>`; `preview_key` is the
    unguessable path segment its preview is served under (the preview's only access check)."""
    __tablename__ = "apps"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))  # a model registry name
    preview_key: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: secrets.token_urlsafe(18))
    head: Mapped[str | None] = mapped_column(String(64), default=None)  # the workspace version now live
    # Made before revision 0002: its data, and the data of its versions, may hold an admin that
    # the old 'Sign in as admin' granted to whoever had the owner's email (studio/preview.py).
    legacy_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)


class AppVersion(Base):
    """One entry of an app's version history: a workspace version (files, and data where
    saved with it) made by a turn, a restore, or the person. The same workspace id may
    appear twice (a restore brings an old version back)."""
    __tablename__ = "versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    vid: Mapped[str] = mapped_column(String(64))  # workspace version id
    parent: Mapped[str | None] = mapped_column(String(64), default=None)  # the head before it
    source: Mapped[str] = mapped_column(String(16))  # "agent" | "restore" | "person"
    message: Mapped[str] = mapped_column(Text, default="")
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Turn(Base):
    """One request to the agent and what came of it."""
    __tablename__ = "turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done | stopped | failed
    base: Mapped[str | None] = mapped_column(String(64), default=None)  # head when the turn started
    vid: Mapped[str | None] = mapped_column(String(64), default=None)  # the version it made, if any
    reply: Mapped[str | None] = mapped_column(Text, default=None)
    stop_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    elapsed_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class TrajectoryRow(Base):
    """The harness's Trajectory of a turn (agent/trajectory.py), exactly as training reads it."""
    __tablename__ = "trajectories"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # Trajectory.id
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Rating(Base):
    """A thumbs up (+1) or down (-1) on a turn; one per person and turn (the last one counts)."""
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("turn_id", "person_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)


class Flag(Base):
    """A bug a person flagged on a version, with what the studio captured from the preview."""
    __tablename__ = "flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    vid: Mapped[str] = mapped_column(String(64))  # the version the bug was seen on
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"), default=None)
    description: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text, default="")  # the preview's path when flagged
    console_errors: Mapped[list[Any]] = mapped_column(JSON, default=list)  # strings
    failed_requests: Mapped[list[Any]] = mapped_column(JSON, default=list)  # {"method","url","status"}
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class GradeRow(Base):
    """The security and isolation checks run on one version: a `tasks.model.Grade`, its checks
    kept as JSON (CheckResult dicts) with their counts beside them for queries."""
    __tablename__ = "grades"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    vid: Mapped[str] = mapped_column(String(64))
    checks: Mapped[list[Any]] = mapped_column(JSON)
    passed: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)

    PROBE = "probe"  # the task id of a version's grade: the probe derived from its own manifest

    @classmethod
    def of(cls, app_id: str, vid: str, grade: Grade) -> "GradeRow":
        return cls(app_id=app_id, vid=vid, checks=[c.model_dump(mode="json") for c in grade.checks],
                   passed=sum(c.passed for c in grade.checks), total=len(grade.checks), ok=grade.good,
                   seconds=grade.seconds)

    @property
    def grade(self) -> Grade:
        """The stored grade as the record (rows of every revision keep the same check dicts)."""
        return Grade(task_id=self.PROBE, checks=self.checks, seconds=self.seconds or 0.0)


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` with Alembic (a new database: create it)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, revision)


class Database:
    def __init__(self, url: str):
        self.url = url
        sqlite = url.startswith("sqlite")
        self.engine = create_engine(url, connect_args={"check_same_thread": False} if sqlite else {})
        if sqlite:
            @event.listens_for(self.engine, "connect")
            def _pragmas(conn, _record):  # foreign keys are off by default in SQLite; WAL lets readers run during a write
                cur = conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.close()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> "Database":
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        migrate(url)
        return cls(url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()
