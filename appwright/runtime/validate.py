"""Checks a record written by a client against its entity's declared fields.

Messages are written for the person (or model) who sent the request: they name
the field and what was expected. Per-value rules live in `values.py`.
"""

from __future__ import annotations

import re
from typing import Any

from appwright.runtime.manifest import SYSTEM_FIELDS, EntitySpec
from appwright.runtime.values import check_value, normalise

FORM_HEADER = "X-AW-Values"  # "form": the SDK's writes, whose values may come straight from a form
_NUMBER = re.compile(r"\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


def from_form(field: Any, value: Any) -> Any:
    """A value as a form gives it, in the field's type: every form value is a string, so a number or
    whole-number field takes a string of digits ("12", " 3.5 ") as that number, and an empty string
    in a field that is not text means no value. Anything else is left for `check_value` to judge."""
    if not isinstance(value, str) or field.type in ("string", "text"):
        return value
    if not value.strip():
        return None
    if field.type in ("number", "integer") and _NUMBER.fullmatch(value):
        number = float(value)
        return int(number) if number.is_integer() and not re.search(r"[.eE]", value) else number
    return value


class WriteError(Exception):
    """A write broke the manifest's rules. `problems` has one line per field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def check_write(entity_name: str, entity: EntitySpec, body: Any, *, partial: bool,
                system: dict[str, Any] | None = None, form: bool = False) -> dict[str, Any]:
    """Validate a create (partial=False) or update (partial=True) body.

    `system` holds the record's current system fields on update: a client may send
    them back unchanged (a page that spreads a fetched record), never different.
    `form`: the values may come from a form (the SDK's writes): see `from_form`.
    Returns the accepted values in stored form; raises WriteError."""
    if not isinstance(body, dict):
        raise WriteError([f"expected a JSON object of {entity_name} fields; got {type(body).__name__}"])
    problems, out = [], {}
    for key, value in body.items():
        if key in SYSTEM_FIELDS:
            if system is not None and system.get(key) == value:
                continue
            problems.append(f"{key}: set by the server; do not send it")
            continue
        field = entity.fields.get(key)
        if field is None:
            problems.append(f"{key}: unknown field of {entity_name}; its fields are {', '.join(entity.fields)}")
            continue
        if form:
            value = from_form(field, value)
        if value is None and field.required:
            problems.append(f"{key}: required; may not be null")
            continue
        problem = check_value(field, value)
        if problem:
            problems.append(f"{key}: {problem}")
        else:
            out[key] = normalise(field, value)
    if not partial:
        for key, field in entity.fields.items():
            if key in out or key in body:
                continue
            if field.default is not None:
                out[key] = normalise(field, field.default)
            elif field.required:
                problems.append(f"{key}: required; missing")
    if problems:
        raise WriteError(problems)
    return out
