"""The callers' bearer tokens: made once, shown once, stored as their sha256.

    token = add_key(db, "ada")            # "awg-..." : print it, it cannot be shown again
    caller = find_caller(db, token)       # Caller(name="ada", budget_usd_per_day=None) or None

A token carries 256 random bits, so a plain sha256 (no salt, no slow hash) is enough to make
the stored hashes useless to whoever reads the database. Names are what the request log and
`/v1/usage` show.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select

from appwright.gateway.db import ApiKey, Database

PREFIX = "awg-"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    budget_usd_per_day: float | None = None  # None: the gateway's default
    created_at: datetime | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    """The name, or a ValueError saying what a name may hold."""
    if not _NAME.match(name):
        raise ValueError(f"key name {name!r}: use 1 to 100 letters, digits, '.', '_', '@' or '-', "
                         "starting with a letter or digit")
    return name


def add_key(db: Database, name: str, budget_usd_per_day: float | None = None) -> str:
    """A new token for `name` (a ValueError if the name is taken or malformed, or the budget is not positive)."""
    check_name(name)
    if budget_usd_per_day is not None and budget_usd_per_day <= 0:
        raise ValueError(f"budget: expected dollars above 0, got {budget_usd_per_day}")
    token = PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        if s.get(ApiKey, name) is not None:
            raise ValueError(f"a key named {name!r} exists; remove it first (appwright gateway keys remove {name})")
        s.add(ApiKey(name=name, token_hash=token_hash(token), budget_usd_per_day=budget_usd_per_day))
    return token


def list_keys(db: Database) -> list[Caller]:
    with db.session() as s:
        rows = s.scalars(select(ApiKey).order_by(ApiKey.name)).all()
        return [Caller(name=r.name, budget_usd_per_day=r.budget_usd_per_day, created_at=r.created_at) for r in rows]


def remove_key(db: Database, name: str) -> bool:
    """True if there was a key by that name (its token stops working at once)."""
    with db.session() as s:
        return s.execute(delete(ApiKey).where(ApiKey.name == name)).rowcount > 0


def find_caller(db: Database, token: str) -> Caller | None:
    if not token.startswith(PREFIX):
        return None
    with db.session() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.token_hash == token_hash(token))).first()
        return None if row is None else Caller(name=row.name, budget_usd_per_day=row.budget_usd_per_day,
                                               created_at=row.created_at)
