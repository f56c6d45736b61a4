"""How a list request becomes one SQL statement on `records`, and the paging cursors.

A list is filtered by `Filter`s, sorted by one field and paged by keyset (sort value,
id) with an opaque cursor that `encode_cursor` gives out and `decode_cursor` checks.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal, literal_column, or_, select

from appwright.runtime.tables import records

SYSTEM_COLUMNS = {"id": records.c.id, "owner": records.c.owner,
                  "created_at": records.c.created_at, "updated_at": records.c.updated_at}


@dataclass(frozen=True, slots=True)
class Filter:
    """One `where` condition: `field op value`, op one of eq ne gt gte lt lte contains."""
    field: str
    op: str
    value: Any


class CursorError(ValueError):
    """A paging cursor that is not one this server wrote (answered 400 with the message)."""


def _column(field: str, defaults: dict[str, Any] | None = None):
    if field in SYSTEM_COLUMNS:
        return SYSTEM_COLUMNS[field]
    # Declared fields live in the JSON document; names are checked against the manifest
    # (letters, digits, _) before they reach here, so the JSON path cannot be injected.
    path = literal_column(f"'$.{field}'")
    value = func.json_extract(records.c.data, path)
    if defaults and defaults.get(field) is not None:
        # A record written before the field was added has no key: it reads as the default,
        # as the API shows it (an explicit null stays null).
        default = int(defaults[field]) if isinstance(defaults[field], bool) else defaults[field]  # JSON true reads 1
        return case((func.json_type(records.c.data, path).is_(None), literal(default)), else_=value)
    return value


def _condition(field: str, op: str, is_null: bool, param: str, defaults: dict[str, Any] | None):
    """`field op :param`; a null value is compared with IS / IS NOT (only eq and ne allow it)."""
    col, value = _column(field, defaults), bindparam(param)
    if op == "eq":
        return col.is_(None) if is_null else col == value
    if op == "ne":
        return col.is_not(None) if is_null else or_(col.is_(None), col != value)
    if op == "contains":
        # instr() is plain substring search: no LIKE wildcards to escape; lower() for case.
        return func.instr(func.lower(col), value) > 0
    ops = {"gt": col.__gt__, "gte": col.__ge__, "lt": col.__lt__, "lte": col.__le__}
    return ops[op](value)


@lru_cache(maxsize=1024)
def list_query(sort: str, filters: tuple[tuple[str, str, bool], ...], owner: str, cursor: str,
               defaults: tuple[tuple[str, Any], ...]):
    """The list statement for one shape of request; values are bound at execution
    (:entity, :owner, :f0.., :cursor_value, :cursor_id, :limit). `owner`: any, null or one;
    `cursor`: none, null or value."""
    desc = sort.startswith("-")
    defaults_map = dict(defaults)
    col = _column(sort.lstrip("-"), defaults_map)
    conds = [records.c.entity == bindparam("entity")]
    conds += [_condition(field, op, is_null, f"f{i}", defaults_map) for i, (field, op, is_null) in enumerate(filters)]
    if owner != "any":
        conds.append(records.c.owner.is_(None) if owner == "null" else records.c.owner == bindparam("owner"))
    if cursor != "none":
        # Keyset paging on (sort value, id). SQLite puts NULLs first ascending, last descending.
        value, rid = bindparam("cursor_value"), bindparam("cursor_id")
        if desc:
            conds.append(and_(col.is_(None), records.c.id < rid) if cursor == "null" else
                         or_(col < value, col.is_(None), and_(col == value, records.c.id < rid)))
        else:
            conds.append(or_(and_(col.is_(None), records.c.id > rid), col.is_not(None)) if cursor == "null"
                         else or_(col > value, and_(col == value, records.c.id > rid)))
    order = [col.desc(), records.c.id.desc()] if desc else [col.asc(), records.c.id.asc()]
    return select(records, col.label("sort_value")).where(*conds).order_by(*order).limit(bindparam("limit"))


def encode_cursor(sort: str, value: Any, rid: str) -> str:
    raw = json.dumps([sort, value, rid], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_sort, value, rid = json.loads(raw)
        assert isinstance(rid, str)
        json.dumps([value, rid], ensure_ascii=False).encode()  # lone surrogates cannot be bound
        assert value is None or isinstance(value, str) or (
            isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= 2**63 - 1)  # SQLite can bind it
    except Exception:
        raise CursorError("cursor: not a cursor this server gave out; pass `next` from the previous page") from None
    if got_sort != sort:
        raise CursorError("cursor: it belongs to a list with another sort; keep the same sort when paging")
    return value, rid

