"""Where `auto` stopped, and whether climbing paid: the cascade's rows read rung by rung.

    lad = ladder(rows)                  # None for a run without `auto`
    lad.rungs[0].accepted, lad.escalated, lad.escalation_cost_per_good, lad.pays

Each `auto` row lists the rungs it tried (`rungs`), the last one being the answer it was graded
on. A rung `accepted` the attempt when its app passed `check_app` and the security probe; an
attempt that no rung accepted is graded on the last rung's app.

The cascade's cost per good app is (C1 + E) / (G1 + Ge): C1 what the first rung cost over every
attempt, G1 the good apps it answered and had accepted, E what the higher rungs cost, Ge the
good apps among the attempts sent past the first rung. It is below the first rung's own
C1 / G1 exactly when E / Ge is below C1 / G1: the escalations must buy good apps for less than
the first rung pays for each of its own. `pays` says whether they did.
"""

from __future__ import annotations

from dataclasses import dataclass

from appwright.evals.config import AUTO
from appwright.evals.records import AttemptRow


@dataclass(frozen=True)
class RungStats:
    position: int  # 1 is the cheapest rung
    model: str
    reached: int  # attempts that came to this rung
    accepted: int  # of them, the ones whose app passed check_app and the probe here
    good: int  # of the accepted ones, good under the task's graders
    cost_usd: float  # this rung's cost over every attempt that reached it

    @property
    def cost_per_good(self) -> float | None:
        return self.cost_usd / self.good if self.good else None


@dataclass(frozen=True)
class Ladder:
    attempts: int  # the `auto` column's
    rungs: list[RungStats]
    unaccepted: int  # attempts no rung accepted (graded on the last rung's app)
    unaccepted_good: int
    escalated: int  # attempts sent past the first rung (it was not accepted and a rung was left)
    escalated_good: int  # of them, good in the end
    escalation_cost: float  # every rung but the first

    @property
    def escalation_cost_per_good(self) -> float | None:
        return self.escalation_cost / self.escalated_good if self.escalated_good else None

    @property
    def pays(self) -> bool | None:
        """Whether the escalations lowered the cost per good app below the first rung's own;
        None when nothing was escalated or the first rung made no good app."""
        first = self.rungs[0].cost_per_good
        if not self.escalated or first is None:
            return None
        per_good = self.escalation_cost_per_good
        return per_good is not None and per_good < first


def ladder(rows: list[AttemptRow]) -> Ladder | None:
    """The `auto` column's rows read rung by rung; None for a run without it."""
    mine = [r for r in rows if r.model == AUTO and r.rungs]
    if not mine:
        return None
    stats = []
    for i in range(max(len(r.rungs) for r in mine)):
        at = [(r, r.rungs[i]) for r in mine if len(r.rungs) > i]
        stats.append(RungStats(
            position=i + 1, model=" / ".join(dict.fromkeys(g.model for _, g in at)), reached=len(at),
            accepted=sum(g.accepted for _, g in at), good=sum(g.accepted and r.good for r, g in at),
            cost_usd=round(sum(g.cost_usd for _, g in at), 9)))
    unaccepted = [r for r in mine if not any(g.accepted for g in r.rungs)]
    escalated = [r for r in mine if len(r.rungs) > 1]
    return Ladder(
        attempts=len(mine), rungs=stats, unaccepted=len(unaccepted),
        unaccepted_good=sum(r.good for r in unaccepted), escalated=len(escalated),
        escalated_good=sum(r.good for r in escalated),
        escalation_cost=round(sum(g.cost_usd for r in mine for g in r.rungs[1:]), 9))
