"""The app database's tables (SQLAlchemy Core): users, sessions, invites, failed sign-ins, records.

Every entity's records share the one `records` table; their declared fields are a JSON
document in `data` (see `storage.py` for why).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, Text

metadata = MetaData()
users = Table(
    "users", metadata,
    Column("id", String, primary_key=True),
    Column("email", String, nullable=False, unique=True),
    Column("password_hash", String, nullable=False),
    Column("role", String, nullable=True),
    Column("created_at", String, nullable=False),
)
sessions = Table(
    "sessions", metadata,
    Column("token_hash", String, primary_key=True),
    Column("user_id", String, nullable=False, index=True),
    Column("expires_at", String, nullable=False),
)
invites = Table(
    "invites", metadata,
    Column("code_hash", String, primary_key=True),
    Column("role", String, nullable=True),
    Column("created_by", String, nullable=True),
    Column("created_at", String, nullable=False),
    Column("used_by", String, nullable=True),
)
login_failures = Table(
    "login_failures", metadata,
    Column("key", String, nullable=False, index=True),
    Column("at", String, nullable=False, index=True),
)
records = Table(
    "records", metadata,
    Column("id", String, primary_key=True),
    Column("entity", String, nullable=False),
    Column("owner", String, nullable=True),
    Column("created_at", String, nullable=False),
    Column("updated_at", String, nullable=False),
    Column("data", Text, nullable=False),
    Index("records_by_time", "entity", "created_at", "id"),
    Index("records_by_owner", "entity", "owner", "created_at", "id"),
)
