"""Access rules: who may read, create, update and delete an entity's records.

The rules come from `EntitySpec.rules()` (presets and per-operation maps of
`manifest.py`). Every handler in `api.py` asks here before it touches a record,
and lists are narrowed in the query itself, so a page never sees records its
caller may not read.
"""

from __future__ import annotations

from enum import Enum

from appwright.runtime.storage import Record, User


class Scope(Enum):
    ALL = "all"      # every record of the entity
    OWN = "own"      # only the caller's own records
    NONE = "none"    # nothing


def scope(rule: frozenset[str], user: User | None) -> Scope:
    """Which records of an entity `user` may act on under `rule`, before looking at one."""
    if "public" in rule:
        return Scope.ALL
    if user is None:
        return Scope.NONE
    if "signed_in" in rule or (user.role is not None and user.role in rule):
        return Scope.ALL  # `admin` is a role like any other here
    if "owner" in rule:
        return Scope.OWN
    return Scope.NONE


def may_create(rule: frozenset[str], user: User | None) -> bool:
    # On create, `owner` means any signed-in user: they become the record's owner.
    return scope(rule, user) is not Scope.NONE


def may_touch(rule: frozenset[str], user: User | None, record: Record) -> bool:
    """May `user` perform the operation guarded by `rule` on this existing record?"""
    s = scope(rule, user)
    return s is Scope.ALL or (s is Scope.OWN and record.owner == user.id)
