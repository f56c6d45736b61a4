"""The gateway's database: the request log (one row per request) and the callers' tokens.

    db = Database.open("sqlite:///gateway.db")   # runs the migrations up to head
    with db.session() as s:                      # one transaction; committed when the block ends
        s.add(RequestRow(...))

SQLite by default, in WAL mode with the default synchronous=FULL: a row is on disk when its
transaction commits, so a `kill -9` right after loses nothing the gateway acknowledged (a power
cut neither). Postgres by URL (`postgresql+psycopg://...`), e.g. the studio's database: the
gateway's tables and its Alembic version table (`gateway_alembic_version`) carry a `gateway_`
prefix so they sit beside the studio's. The schema changes only through a new revision in
`migrations/` (tests/test_gateway.py checks that the migrated schema equals these tables).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "gateway_alembic_version"
FORMAT_VERSION = 1  # of a request row; a new meaning of a column means a new number


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {list[Any]: JSON}


class ApiKey(Base):
    """A caller: a name and the sha256 of its bearer token (the token itself is shown once)."""
    __tablename__ = "gateway_keys"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    budget_usd_per_day: Mapped[float | None] = mapped_column(Float, default=None)  # None: the config's
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class RequestRow(Base):
    """One request to /v1/chat/completions that got past authentication."""
    __tablename__ = "gateway_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    format_version: Mapped[int] = mapped_column(Integer, default=FORMAT_VERSION)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    caller: Mapped[str] = mapped_column(String(100), index=True)  # the name of the key it came with
    requested: Mapped[str] = mapped_column(String(200))  # the model the caller asked for, or "auto"
    model: Mapped[str | None] = mapped_column(String(200), default=None)  # the model that answered
    route: Mapped[str] = mapped_column(Text, default="")  # why the ladder is what it is
    # Every rung tried, in order: {"model", "ok", "error", "prompt_tokens", "completion_tokens",
    # "cost_usd", "latency_s"} (log.Attempt).
    attempts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    escalations: Mapped[int] = mapped_column(Integer, default=0)  # failed rungs before the answer
    stream: Mapped[bool] = mapped_column(Boolean, default=False)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)  # summed over the attempts
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)  # registry prices, summed over the attempts
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)  # request received to answer complete
    status: Mapped[int] = mapped_column(Integer)  # the HTTP status the caller got (499: it went away)
    error: Mapped[str | None] = mapped_column(Text, default=None)


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` with Alembic (a new database: create the tables)."""
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
            def _pragmas(conn, _record):  # WAL: readers (stats, usage) run during a write
                cur = conn.cursor()
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
