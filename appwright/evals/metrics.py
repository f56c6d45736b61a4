"""Rows -> metrics per model: overall, by task kind and by task domain, each with a 95% interval.

    metrics = compute_metrics(read_rows("runs/e1/results.jsonl"))
    m = metrics.overall[0]            # one GroupMetrics per model, in the order models first appear
    m.good_rate.value, m.good_rate.low, m.cost_per_good.value   # None: n/a (no good app)

The definitions, with the interval each gets (docs/evals.md has the glossary):
- good_rate (pass@1): share of attempts whose every required check passed; Wilson.
- pass_at_k, for k = the most samples any task got (k > 1 only): mean over tasks with at
  least k samples of 1 - C(n-c, k) / C(n, k); bootstrap over tasks.
- mean_reward: mean of the weighted share of checks passed; t.
- functional_rate: share of attempts whose every required schema, api and ui check passed; Wilson.
- secure_rate: of the functional attempts that have at least one security or isolation
  check, the share that passed every one of them (required or not); Wilson.
- tokens / agent_seconds / grade_seconds / cost_per_task: means per attempt; t.
- cost_per_good: total cost of all attempts / number of good attempts (failures are paid
  for too); bootstrap over attempts; None when no attempt is good.
- machines: how many attempts ran on each machine (`AttemptRow.machine`), most first; a run
  resumed elsewhere shows two, and its token counts are then two machines' arithmetic.

Rows are sorted by (model, task, sample) first, so the numbers do not depend on the order
the rows were written in, and the bootstrap (fixed seed) gives the same interval every time.
This module reads no files and draws nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Literal

from pydantic import BaseModel, ConfigDict

from appwright.evals.records import AttemptRow
from appwright.evals.stats import Estimate, bootstrap, mean_t, pass_at_k, wilson

FORMAT = 1
NO_DOMAIN = "(none)"
NO_MACHINE = "(not recorded)"


class GroupMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str
    group: Literal["all", "kind", "domain"]
    name: str  # "all", a kind, or a domain
    attempts: int
    tasks: int
    good: int
    functional: int
    secure_eligible: int  # functional attempts with at least one security or isolation check
    secure: int
    good_rate: Estimate
    pass_at_k: Estimate | None  # None when k == 1
    mean_reward: Estimate
    functional_rate: Estimate
    secure_rate: Estimate
    tokens_per_task: Estimate
    prompt_tokens_per_task: Estimate
    completion_tokens_per_task: Estimate
    agent_seconds_per_task: Estimate
    grade_seconds_per_task: Estimate
    cost_per_task: Estimate
    cost_per_good: Estimate
    total_cost: float


class Metrics(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    format: int = FORMAT
    k: int
    models: list[str]
    splits: list[str]
    attempts: int
    overall: list[GroupMetrics]
    by_kind: list[GroupMetrics]
    by_domain: list[GroupMetrics]
    machines: dict[str, int] = {}  # AttemptRow.machine -> attempts, most first


def is_secure(row: AttemptRow) -> bool:
    return all(c.passed for c in row.security_checks)


def _cost_per_good(rows) -> float | None:
    good = sum(r.good for r in rows)
    return sum(r.cost_usd for r in rows) / good if good else None


def _pass_at_k(rows: list[AttemptRow], k: int) -> Estimate | None:
    if k <= 1:
        return None
    per_task: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        per_task[r.task_id].append(r.good)
    scores = [pass_at_k(len(g), sum(g), k) for _, g in sorted(per_task.items()) if len(g) >= k]
    return bootstrap(scores, lambda xs: sum(xs) / len(xs))


def group_metrics(rows: list[AttemptRow], model: str, group: str, name: str, k: int) -> GroupMetrics:
    functional = [r for r in rows if r.functional]
    eligible = [r for r in functional if r.security_checks]
    secure = sum(is_secure(r) for r in eligible)
    good = sum(r.good for r in rows)
    return GroupMetrics(
        model=model, group=group, name=name, attempts=len(rows), tasks=len({r.task_id for r in rows}), good=good,
        functional=len(functional), secure_eligible=len(eligible), secure=secure,
        good_rate=wilson(good, len(rows)), pass_at_k=_pass_at_k(rows, k),
        mean_reward=mean_t([r.reward for r in rows], 0.0, 1.0), functional_rate=wilson(len(functional), len(rows)),
        secure_rate=wilson(secure, len(eligible)),
        tokens_per_task=mean_t([r.prompt_tokens + r.completion_tokens for r in rows]),
        prompt_tokens_per_task=mean_t([r.prompt_tokens for r in rows]),
        completion_tokens_per_task=mean_t([r.completion_tokens for r in rows]),
        agent_seconds_per_task=mean_t([r.agent_s for r in rows]),
        grade_seconds_per_task=mean_t([r.grade_s for r in rows]),
        cost_per_task=mean_t([r.cost_usd for r in rows]), cost_per_good=bootstrap(rows, _cost_per_good),
        total_cost=round(sum(r.cost_usd for r in rows), 9))


def compute_metrics(rows: list[AttemptRow]) -> Metrics:
    rows = sorted(rows, key=lambda r: (r.model, r.task_id, r.sample))
    models = list(dict.fromkeys(r.model for r in sorted(rows, key=lambda r: r.created_at)))
    per_task: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        per_task[(r.model, r.task_id)] += 1
    k = max(per_task.values(), default=1)
    overall, by_kind, by_domain = [], [], []
    for m in models:
        mine = [r for r in rows if r.model == m]
        overall.append(group_metrics(mine, m, "all", "all", k))
        for kind in sorted({r.kind for r in mine}):
            by_kind.append(group_metrics([r for r in mine if r.kind == kind], m, "kind", kind, k))
        for d in sorted({r.domain or NO_DOMAIN for r in mine}):
            by_domain.append(group_metrics([r for r in mine if (r.domain or NO_DOMAIN) == d], m, "domain", d, k))
    machines = dict(Counter(r.machine or NO_MACHINE for r in rows).most_common())
    return Metrics(k=k, models=models, splits=sorted({r.split for r in rows}), attempts=len(rows),
                   overall=overall, by_kind=by_kind, by_domain=by_domain, machines=machines)
