"""Which tasks an eval runs: a split's tasks of some kinds, spread over kinds and domains.

    tasks = select_tasks(TaskBank.default(), split="dev", kinds=("build", "fix"), limit=40)

With a limit, tasks are dealt round-robin: kinds in turn (in the order given), and within a
kind its domains in turn (sorted by name); within one kind and domain the order is by a hash
of the task id, so the first picks are not the alphabetically first feature combinations.
The result is the same on every machine and every run (no random state), so a rerun with
the same flags resumes the same tasks. `tasks_from_file` takes a frozen list instead
(`--tasks docs/results/dev40.txt`), which later changes to the bank cannot move. Without a limit, every matching task, in that order.
It does not weigh kinds by how many tasks they have: 40 tasks over 4 kinds are 10 each
while every kind has 10.
"""

from __future__ import annotations

import hashlib
from itertools import zip_longest

from pathlib import Path

from appwright.tasks.bank import TaskBank, TaskError
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


def tasks_from_file(bank: TaskBank, path: str | Path) -> list[Task]:
    """The tasks named in a file, one id per line (`#` starts a comment), in the file's order.
    A missing file, no ids, an id twice or an unknown id is a ValueError that says which."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--tasks: cannot read {path}: {exc}") from None
    ids = [line.split("#", 1)[0].strip() for line in lines]
    ids = [i for i in ids if i]
    if not ids:
        raise ValueError(f"--tasks: {path} names no task (one id per line)")
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"--tasks: {path} names {', '.join(twice)} more than once")
    tasks, unknown = [], []
    for task_id in ids:
        try:
            tasks.append(bank.get(task_id))
        except TaskError:
            unknown.append(task_id)
    if unknown:
        raise ValueError(f"--tasks: {path}: no such task {', '.join(unknown[:5])}"
                         + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""))
    return tasks
