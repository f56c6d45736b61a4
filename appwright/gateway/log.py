"""The request log: what the gateway writes for each request, and what it reads back.

    write(db, LogEntry(caller="ada", requested="auto", model="qwen2.5-coder-0.5b", attempts=[...], ...))
    usage_today(db, "ada")      # Usage: requests, tokens, dollars since 00:00 UTC
    model_stats(db)             # one ModelStats per model: `appwright gateway stats`

`write` commits before it returns; the app calls it before it acknowledges a request (the JSON
answer, or the final `[DONE]` event of a stream), so an acknowledged request is in the log.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from pydantic import BaseModel, ConfigDict
from sqlalchemy import case, func, select

from appwright.gateway.db import Database, RequestRow


class Attempt(BaseModel):
    """One rung tried: a model, whether it answered, and what it cost."""
    model_config = ConfigDict(extra="forbid")
    model: str
    ok: bool
    error: str | None = None  # why it failed (keys scrubbed)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    problems: list[str] = []  # an app task: what kept its bundle from being accepted (gateway/apps.py)


class LogEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str
    requested: str
    model: str | None = None
    route: str = ""
    attempts: list[Attempt] = []
    stream: bool = False
    latency_s: float = 0.0
    status: int
    error: str | None = None

    @property
    def escalations(self) -> int:
        return sum(not a.ok for a in self.attempts)


class Usage(BaseModel):
    """A caller's requests since the start of the UTC day."""
    caller: str
    date: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class ModelStats(BaseModel):
    model: str  # the model that answered; for failed requests, the one asked for
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    mean_latency_s: float
    escalations: int


def write(db: Database, entry: LogEntry) -> int:
    """Append the row and commit; its id."""
    row = RequestRow(caller=entry.caller, requested=entry.requested, model=entry.model, route=entry.route,
                     attempts=[a.model_dump() for a in entry.attempts], escalations=entry.escalations,
                     stream=entry.stream, prompt_tokens=sum(a.prompt_tokens for a in entry.attempts),
                     completion_tokens=sum(a.completion_tokens for a in entry.attempts),
                     cost_usd=sum(a.cost_usd for a in entry.attempts), latency_s=entry.latency_s,
                     status=entry.status, error=entry.error)
    with db.session() as s:
        s.add(row)
        s.flush()
        return row.id


def start_of_day(at: datetime | None = None) -> datetime:
    day = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).date()
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def usage_today(db: Database, caller: str) -> Usage:
    since = start_of_day()
    with db.session() as s:
        n, p, c, cost = s.execute(
            select(func.count(RequestRow.id), func.coalesce(func.sum(RequestRow.prompt_tokens), 0),
                   func.coalesce(func.sum(RequestRow.completion_tokens), 0),
                   func.coalesce(func.sum(RequestRow.cost_usd), 0.0))
            .where(RequestRow.caller == caller, RequestRow.created_at >= since)).one()
    return Usage(caller=caller, date=since.date().isoformat(), requests=n, prompt_tokens=p, completion_tokens=c,
                 cost_usd=float(cost))


def model_stats(db: Database, days: int | None = None) -> list[ModelStats]:
    """Per model, most requests first; `days`: only the last N days (by UTC date, today included)."""
    model = func.coalesce(RequestRow.model, RequestRow.requested)
    query = (select(model, func.count(RequestRow.id), func.sum(case((RequestRow.status >= 400, 1), else_=0)),
                    func.sum(RequestRow.prompt_tokens), func.sum(RequestRow.completion_tokens),
                    func.sum(RequestRow.cost_usd), func.avg(RequestRow.latency_s), func.sum(RequestRow.escalations))
             .group_by(model).order_by(func.count(RequestRow.id).desc(), model))
    if days is not None:
        query = query.where(RequestRow.created_at >= start_of_day() - timedelta(days=days - 1))
    with db.session() as s:
        rows = s.execute(query).all()
    return [ModelStats(model=m, requests=n, errors=int(e or 0), prompt_tokens=int(p or 0),
                       completion_tokens=int(c or 0), cost_usd=float(cost or 0), mean_latency_s=float(lat or 0),
                       escalations=int(esc or 0)) for m, n, e, p, c, cost, lat, esc in rows]
