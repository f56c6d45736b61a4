"""Which tasks an eval runs: a split's tasks of some kinds, spread over kinds and domains.

    tasks = select_tasks(TaskBank.default(), split="dev", kinds=("build", "fix"), limit=40)

With a limit, tasks are dealt round-robin: kinds in turn (in the order given), and within a
kind its domains in turn (sorted by name); within one kind and domain the order is by a hash
of the task id, so the first picks are not the alphabetically first feature combinations.
The result is the same on every machine and every run (no random state), so a rerun with
the same flags resumes the same tasks. Without a limit, every matching task, in that order.
It does not weigh kinds by how many tasks they have: 40 tasks over 4 kinds are 10 each
while every kind has 10.
"""

from __future__ import annotations

import hashlib
from itertools import zip_longest

from appwright.tasks.bank import TaskBank
from appwright.tasks.model import Task


def _stable(task: Task) -> str:
    return hashlib.sha256(task.id.encode()).hexdigest()


def _round_robin(groups: list[list[Task]]) -> list[Task]:
    return [t for row in zip_longest(*groups) for t in row if t is not None]


def select_tasks(bank: TaskBank, split: str, kinds: tuple[str, ...], limit: int | None = None) -> list[Task]:
    per_kind = []
    for kind in kinds:
        tasks = bank.select(split=split, kind=kind)
        domains = sorted({t.domain or "" for t in tasks})
        per_kind.append(_round_robin([sorted((t for t in tasks if (t.domain or "") == d), key=_stable)
                                      for d in domains]))
    ordered = _round_robin(per_kind)
    return ordered[:limit] if limit is not None else ordered
