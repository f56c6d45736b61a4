"""What every grader shares: failing with evidence, and mapping a task's record onto the
entity the app declared.

A grader is `grade_X(env, check, ctx) -> str`: it returns the evidence of a pass, or raises
`Fail(evidence)` at the first thing that is wrong. Evidence says what was sent and what came
back, short enough for a table and specific enough to fix the app from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from appwright.tasks.graders.env import AppEnv


class Fail(Exception):
    """A check failed; the message is its evidence."""


@dataclass
class Context:
    """What a grade knows besides the bundle: the agent's reply (taste checks) and the browser."""
    reply: str | None = None
    browser: Any = None  # a Playwright Browser, for ui and xss checks
    page: Any = None  # the grade's one page (graders/ui.py open_page), closed by the Grader
    page_without_csp: Any = None  # the same for xss checks, which grade the page's code alone
    hung: str | None = None  # set when the page failed to load: later browser checks fail at once
    looks: dict[str, Any] | None = None  # the one-page look tests' results (graders/look.py _page_looks)
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # asked for in people's words, not in the app (meaning.py)


def short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def expect(ok: bool, evidence: str) -> None:
    if not ok:
        raise Fail(evidence)


def answer(r: httpx.Response) -> str:
    """`201 {"id": ...}` for evidence."""
    return f"{r.status_code} {short(r.text, 200)}"


def resolve_entity(env: AppEnv, name: str) -> str:
    found = env.entity(name)
    expect(found is not None, f"app.json declares no entity {name!r} (it has: "
                              f"{', '.join(env.manifest.entities) or 'none'})")
    return found[0]


def is_link(value: Any) -> bool:
    """A check record's value for a `ref` field: {"link": "Recipe", "to": {...}}, the record it
    belongs to, which `linked` creates first (Domain.part_record)."""
    return isinstance(value, dict) and set(value) == {"link", "to"}


def map_record(env: AppEnv, entity: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record with its keys matched to the declared fields, and a menu's value to the declared
    value, without regard to case ("oak" is the app's "Oak"). Fields the app does not declare are
    left out: the `schema` check already fails for them, and the other checks still measure what
    the app does with the fields it has. A link's record is mapped onto its own entity."""
    fields = env.manifest.entities[entity].fields
    declared = {k.lower(): k for k in fields}
    out = {}
    for k, v in record.items():
        if k.lower() not in declared:
            continue
        name = declared[k.lower()]
        if is_link(v) and env.entity(v["link"]):
            target = env.entity(v["link"])[0]
            v = {"link": target, "to": map_record(env, target, v["to"])}
        elif isinstance(v, str) and fields[name].values and v not in fields[name].values:
            v = next((d for d in fields[name].values if d.lower() == v.lower()), v)
        out[name] = v
    return out


def linked(env: AppEnv, client: httpx.Client, record: dict[str, Any]) -> dict[str, Any]:
    """The record with each link replaced by the id of the record it names, created first by the
    same user (once per user and record within a check: two steps of one recipe share it)."""
    out = {}
    for k, v in record.items():
        if is_link(v):
            key = (id(client), v["link"], json.dumps(v["to"], sort_keys=True, default=str))
            if key not in env.links:
                made = create(env, client, v["link"], v["to"])
                env.links[key] = made.get("id")
            v = env.links[key]
        out[k] = v
    return out


def same(a: Any, b: Any) -> bool:
    """Equal as stored values: 3 == 3.0, dates as strings; a link is any record's id."""
    if is_link(b):
        return isinstance(a, str) and bool(a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) < 1e-9
    return a == b


def matches(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(same(stored.get(k), v) for k, v in wanted.items())


def items_of(r: httpx.Response) -> list[dict]:
    try:
        body = r.json()
    except ValueError:
        return []
    return body.get("items", []) if isinstance(body, dict) and isinstance(body.get("items"), list) else []


def create(env: AppEnv, client: httpx.Client, entity: str, record: dict[str, Any]) -> dict:
    """POST the record as the client's user (its links first); 201 or Fail."""
    body = linked(env, client, record)
    r = client.post(env.api(entity), json=body)
    expect(r.status_code == 201, f"POST {env.api(entity)} {short(body)} -> {answer(r)}")
    return r.json()
