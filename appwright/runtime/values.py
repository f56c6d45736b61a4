"""What a value of each field type may be, and its stored form.

One set of rules for client writes (`validate.py`), field defaults in the
manifest and `where` filters, so they never disagree. Field specs are duck-typed
(`type`, `limit`, `min`, `max`, `values`, `entity`) so the manifest can use
these rules while it is being validated.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1  # beyond it JavaScript loses precision and SQLite integers overflow


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_datetime(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        dt.astimezone(timezone.utc)  # 0001-01-01T00:00+01:00 has no UTC form
    except (ValueError, OverflowError):
        return None
    return dt


def check_value(field: Any, value: Any) -> str | None:
    """Return what is wrong with `value` for `field`, or None if it is acceptable.

    Null is acceptable here; `required` is checked by `check_write`."""
    if value is None:
        return None
    t = field.type
    if t in ("string", "text"):
        if not isinstance(value, str):
            return f"expected text; got {type(value).__name__}"
        if len(value) > field.limit:
            return f"too long: {len(value)} characters, at most {field.limit}"
        if t == "string" and ("\n" in value or "\r" in value):
            return "a string field holds one line; use a text field for several lines"
        return None
    if t in ("number", "integer"):
        quoted = " (text, not a number: send Number(value))" if isinstance(value, str) and _numeric(value) else ""
        if t == "integer" and not _is_int(value) and not (isinstance(value, float) and value.is_integer()):
            return f"expected a whole number; got {_show(value)}{quoted}"
        if t == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"expected a number; got {_show(value)}{quoted}"
        if isinstance(value, float) and not math.isfinite(value):
            return "expected a finite number"
        if abs(value) > MAX_SAFE_INTEGER:
            return f"too large; numbers are at most {MAX_SAFE_INTEGER} in size (JavaScript's safe range)"
        return _in_range(field, value)
    if t == "boolean":
        return None if isinstance(value, bool) else f"expected true or false; got {_show(value)}"
    if t == "date":
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            try:
                date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return f'expected a date like "2026-11-25"; got {_show(value)}'
    if t == "datetime":
        if isinstance(value, str) and parse_datetime(value) is not None:
            return None
        return f'expected a date and time like "2026-11-25T14:30:00Z"; got {_show(value)}'
    if t == "enum":
        if value in field.values:
            return None
        return f"expected one of {', '.join(field.values)}; got {_show(value)}"
    if t == "ref":
        return None if isinstance(value, str) and value else f"expected the id of a {field.entity} record"
    return f"unknown field type {t}"  # unreachable: the manifest validator allows only the types above


def _in_range(field: Any, value: float) -> str | None:
    if field.min is not None and value < field.min:
        return f"must be at least {field.min:g}; got {value}"
    if field.max is not None and value > field.max:
        return f"must be at most {field.max:g}; got {value}"
    return None


def _numeric(text: str) -> bool:
    """A number written as text ("1950", " 2.5"): what an input's `.value` sent unconverted is."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else '"' + value[:40] + ('..."' if len(value) > 40 else '"')
    return text[:60]


def normalise(field: Any, value: Any) -> Any:
    """Canonical stored form of an accepted value (datetimes in UTC, whole floats as ints)."""
    if value is None:
        return None
    if field.type == "datetime":
        # Fixed width (always microseconds, like created_at) so that text order is time order.
        return parse_datetime(value).astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    if field.type == "integer":
        return int(value)
    return value
