"""The record of one eval attempt (one task, one model, one sample): a line of results.jsonl.

    append_row("runs/e1/results.jsonl", row)      # one line, flushed and fsynced
    rows = read_rows("runs/e1/results.jsonl")     # format-checked; a torn last line is skipped
    done = {r.key for r in rows}                  # (task_id, model, sample): what a rerun skips

`format` is 4: the row carries the grade record (`tasks.model.Grade`, with its computed
`reward` and `good`), for the `auto` cascade (evals/cascade.py) its `rungs`, and the `machine`
the agent ran on (models/machine.py). Format 3 rows (no `machine`), format 2 rows (no `rungs`)
and format 1 rows (the grade's numbers flat on the row: `reward`, `good`, `checks`, `grade_s`)
read as format 4; a change to the fields gets a new number and a migration in
`AttemptRow._migrate`.
A row carries everything the metrics and the report need (the task's prompt too), so
`appwright eval report DIR` works from this file alone. The trajectory itself, with every
message, is in trajectories.jsonl under the same id (`trajectory_id`).

Not done: no locking between two runs writing to one folder at once (do not do that).
"""

from __future__ import annotations

import json
from pathlib import Path

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from appwright.agent.trajectory import append_jsonl
from appwright.tasks.model import CheckResult, Grade, kinds_in

FORMAT = 4
READABLE = (1, 2, 3, 4)
RESULTS = "results.jsonl"
TRAJECTORIES = "trajectories.jsonl"
FUNCTIONAL_KINDS = kinds_in("functional")
SECURITY_KINDS = kinds_in("security")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RungRecord(_Record):
    """One rung of an `auto` attempt: which model, whether its app passed check_app and the security
    probe, what it cost (agent time with the verification)."""
    model: str
    trajectory_id: str
    reused: bool  # the run's own attempt of this model at this task and sample
    accepted: bool
    problems: list[str]
    prompt_tokens: int
    completion_tokens: int
    agent_s: float
    cost_usd: float


class AttemptRow(_Record):
    format: int = FORMAT
    created_at: str  # when the row was written, UTC ISO 8601
    task_id: str
    kind: str  # build | edit | fix | taste
    domain: str | None
    split: str
    prompt: str  # the task's prompt, as the user wrote it (may hold any text: escape it)
    model: str  # the registry name, or `auto`: the cascade
    sample: int = Field(ge=0)  # 0 .. samples-1
    trajectory_id: str
    stop_reason: str | None
    error: str | None = None  # the model error, when the agent stopped on one
    grade: Grade  # every check with its evidence; reward, good and the grade's wall time
    prompt_tokens: int
    completion_tokens: int
    agent_s: float  # the agent's wall time
    cost_usd: float  # the registry price applied to the token counts
    bundle: str  # the final bundle, relative to the eval folder
    grader_version: str | None = None  # tasks.graders.GRADER_VERSION; None: a row written before it was kept
    rungs: list[RungRecord] | None = None  # `auto` only: every rung tried; the totals above are their sums
    machine: str | None = None  # models.machine: CPU, cores and llama.cpp build; None: a row from before it was kept

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        """Format 1: the grade's parts flat on the row; 2: no `rungs`; 3: no `machine` (the same fields)."""
        if isinstance(data, dict) and "grade" not in data and "checks" in data:
            flat = {k: v for k, v in data.items() if k not in ("reward", "good", "checks", "grade_s")}
            flat["grade"] = {"task_id": data.get("task_id"), "checks": data["checks"],
                             "seconds": data.get("grade_s", 0.0)}
            data = {**flat, "format": FORMAT}
        if isinstance(data, dict) and data.get("format") in (2, 3):
            data = {**data, "format": FORMAT}
        return data

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.task_id, self.model, self.sample)

    @property
    def reward(self) -> float:
        return self.grade.reward

    @property
    def good(self) -> bool:
        return self.grade.good

    @property
    def checks(self) -> list[CheckResult]:
        return self.grade.checks

    @property
    def grade_s(self) -> float:
        return self.grade.seconds

    @property
    def functional(self) -> bool:
        """Every required schema, api and ui check passed (and there is at least one)."""
        checks = [c for c in self.checks if c.kind in FUNCTIONAL_KINDS and c.required]
        return bool(checks) and all(c.passed for c in checks)

    @property
    def security_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if c.kind in SECURITY_KINDS]


def append_row(path: str | Path, row: AttemptRow) -> None:
    append_jsonl(path, row)


def read_rows(path: str | Path) -> list[AttemptRow]:
    """Every row, first one kept for a repeated key. A last line cut off by a crash (no
    newline, not JSON) is skipped; a bad line anywhere else is a ValueError naming it."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    rows, seen = [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        torn = n == len(lines)  # the text after the last newline: a write cut short
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            if torn:
                continue
            raise ValueError(f"{path}:{n}: not a JSON line") from None
        if not isinstance(data, dict) or data.get("format") not in READABLE:
            raise ValueError(f"{path}:{n}: row format {data.get('format') if isinstance(data, dict) else '?'!r};"
                             f" this version reads {', '.join(map(str, READABLE))}")
        try:
            row = AttemptRow.model_validate(data)
        except ValidationError as exc:
            raise ValueError(f"{path}:{n}: not an eval row: {exc.errors()[0]['msg']}") from None
        if row.key not in seen:
            seen.add(row.key)
            rows.append(row)
    return rows


def drop_torn_tail(path: str | Path) -> bool:
    """Cut a last line that a crash left without its newline, so the next append starts a
    line of its own. True when something was cut."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return False
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return False
    with open(path, "r+b") as f:
        f.truncate(data.rfind(b"\n") + 1)
    return True
