"""Repair turns of train tasks as SFT rows: the harness's second request, answered right.

    rows, skipped = repair_rows(n=24, seed=0)          # opens one Chromium for check_app
    stats = write_reference_dataset(reference_picked + rows, Path("data/sft"))
    appwright data references --out data/sft --repairs 24

Why: when an answer fails check_app, the loop asks again for the failing file only, with each
problem under its line (agent/repair.py). Our own model was trained on first answers only
(references.py), and on the dev 40 it sent the failing file back unchanged in 6 of 6 repairs
(docs/results.md). A repair row teaches the second answer.

A row is what `run_agent` sends and records when a first answer fails, with the loss on the
last message only (train/cpu_sft.py):
- system, user: as a reference row (compact system prompt, the task and its start files);
- assistant: a first answer with a bug of reference.FLAWS in it, as the harness rewrote it
  (agent/answer.py's fixes; the reply after the files). Two sources, alternating:
  - a train fix task: the start bundle sent back unchanged, the planted flaw still in it (what
    the model did on the dev 40);
  - a train build task: the page by hand (tasks/reference.py `render`) with one flaw planted;
- user: `repair_request` on the report of a real check_app run on that bundle;
- assistant: the asked-for files as the reference has them, each in a `<file>` block (the first
  block is the prefix the loop starts the answer with), then the task's reply to the person
  (references.reply_for): the loop shows the last answer's text as the summary.

Skipped, and counted: a flawed bundle that passes check_app (flaws only the graders see, such
as `wrong_access`), and a request for a file the fix does not change (the row would teach
sending it back as it was).

Only flaws that break the page are planted (FLAWS with `catches == "ui"`, and `innerhtml`,
whose quotes break the script). Train tasks only: `check_train` raises SplitLeak for any other.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from appwright.agent.answer import fix_app_json, fix_page
from appwright.agent.check_app import CheckReport
from appwright.agent.loop import _on_disk, start_message, write_file_blocks
from appwright.agent.parse import parse_reply
from appwright.agent.prompt import system_prompt
from appwright.agent.repair import repair_request
from appwright.agent.sft import sft_row
from appwright.agent.tools import TOOL_SPECS, Toolbox
from appwright.tasks.bank import TaskBank, start_files
from appwright.tasks.domains import domain
from appwright.tasks.model import Task
from appwright.tasks.reference import FLAWS, access_of, flaws_for, render
from appwright.train.references import (MODEL, PROMPT_STYLE, AnswerError, answer_text, check_train, flaw_of, on_disk,
                                        reply_for)

PLANTED = tuple(f for f in FLAWS if FLAWS[f].catches == "ui") + ("innerhtml",)
Check = Callable[[Path], CheckReport]


@dataclass(frozen=True)
class RepairCase:
    """A first answer that failed check_app, and the harness's request to repair it."""
    task: Task
    flaw: str
    chat: tuple[tuple[str, str], ...]  # (role, content): system, user, assistant, user (the request)
    paths: tuple[str, ...]  # the files the request asks for
    flawed: dict[str, str]  # the app as the first answer left it on disk
    fixed: dict[str, str]  # the reference's files
    reply: str  # the task's reply to the person (references.reply_for)


@dataclass(frozen=True)
class RepairRow:
    task_id: str
    kind: str  # the task's kind: fix or build
    family: str
    flaw: str
    chat: tuple[tuple[str, str], ...]  # a case's chat and the answer: system, user, assistant, user, assistant

    def messages(self) -> list[dict]:
        return [{"role": role, "content": content} for role, content in self.chat]

    def sft_row(self) -> dict:
        return sft_row(self.messages(), self.task_id, f"repair:{self.task_id}:{self.flaw}", MODEL, 1.0)


def repair_case(task: Task, flaw: str, check: Check) -> RepairCase | str:
    """The case of one generated task (any split: benchmarks/repairs.py measures on dev and test)
    with `flaw` in its first answer, or why there is none."""
    d = domain(task.domain or "")
    reply = reply_for(task, d)
    if task.kind == "fix":
        start, flawed = on_disk(start_files(task)), on_disk(start_files(task))
    elif task.kind == "build" and task.start is None:
        start, flawed = {}, render(d, task.features, flaw)
    else:
        raise AnswerError(f"{task.id}: repair cases come from fix tasks and new builds, not {task.kind}")
    fixed = render(d, task.features)
    system = system_prompt("files", TOOL_SPECS, PROMPT_STYLE)
    user = start_message(task.prompt, start, "files")
    with tempfile.TemporaryDirectory(prefix="aw-repair-") as tmp:
        ws = Toolbox(Path(tmp) / "app")
        for path, text in start.items():
            (ws.root / path).parent.mkdir(parents=True, exist_ok=True)
            (ws.root / path).write_text(text, encoding="utf-8")
        first = answer_text(flawed, reply)  # as the loop records it: its fixes applied first
        parsed = parse_reply(first)
        first, _ = fix_app_json(first, parsed, start)
        first, _ = fix_page(first, parsed, start)
        write_file_blocks(ws, parsed)
        report = check(ws.root)
        if report.ok:
            return "passes check_app"
        on_disk_now = _on_disk(ws)
        paths, request = repair_request(report, parsed.problems, on_disk_now)
    if any(p not in fixed for p in paths):
        return f"asks for {', '.join(p for p in paths if p not in fixed)}, which the reference lacks"
    if all(fixed[p] == on_disk_now.get(p) for p in paths):
        return f"asks for {', '.join(paths)}, which the fix does not change"
    return RepairCase(task=task, flaw=flaw, chat=(("system", system), ("user", user), ("assistant", first),
                                                  ("user", request)),
                      paths=tuple(paths), flawed=on_disk_now, fixed=fixed, reply=reply)


def repair_row(task: Task, flaw: str, check: Check) -> RepairRow | str:
    """The row of one train task (SplitLeak for any other), or why there is none."""
    d = check_train(task)
    case = repair_case(task, flaw, check)
    if isinstance(case, str):
        return case
    answer = "".join(f'<file path="{p}">\n{case.fixed[p]}' + ("" if case.fixed[p].endswith("\n") else "\n")
                     + "</file>\n" for p in case.paths) + case.reply
    return RepairRow(task_id=task.id, kind=task.kind, family=d.family, flaw=flaw,
                     chat=case.chat + (("assistant", answer),))


def candidates(bank: TaskBank, seed: int, split: str = "train") -> list[tuple[Task, str]]:
    """(task, flaw) pairs of a split, fix and build alternating, each list shuffled with `seed`: a
    fix task with its own planted flaw, a new build with a flaw drawn for it. Train: only tasks
    whose family may be trained on (check_train)."""
    rng = random.Random(seed)
    fixes, builds = [], []
    for t in bank.select(split=split):
        if t.domain is None or t.kind not in ("fix", "build"):
            continue
        if split == "train":
            try:
                check_train(t)
            except ValueError:
                continue
        if t.kind == "fix" and flaw_of(t) in PLANTED:
            fixes.append((t, flaw_of(t)))
        elif t.kind == "build" and t.start is None:
            options = [f for f in flaws_for(domain(t.domain), access_of(t.features)) if f in PLANTED]
            if options:
                builds.append((t, rng.choice(options)))
    rng.shuffle(fixes)
    rng.shuffle(builds)
    out = []
    for i in range(max(len(fixes), len(builds))):
        out += fixes[i:i + 1] + builds[i:i + 1]
    return out


def repair_rows(n: int, seed: int = 0, bank: TaskBank | None = None, check: Check | None = None,
                on_row: Callable[[int, int], None] | None = None) -> tuple[list[RepairRow], dict[str, int]]:
    """(up to `n` rows, why the other candidates were skipped: reason -> count). One row per task
    (`candidates` holds each task once); `check` defaults to one Chromium (check_app's Checker) for all rows."""
    from appwright.agent.check_app import Checker

    bank = bank or TaskBank.default()
    own = check is None
    check = check or Checker()
    rows, skipped = [], {}
    try:
        for task, flaw in candidates(bank, seed):
            if len(rows) >= n:
                break
            got = repair_row(task, flaw, check)
            if isinstance(got, str):
                reason = f"{flaw}: {got.split(',')[0]}"  # "asks for app.js", without the file's why
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            rows.append(got)
            if on_row:
                on_row(len(rows), n)
    finally:
        if own:
            check.close()
    return rows, skipped


__all__ = ["PLANTED", "RepairCase", "RepairRow", "candidates", "repair_case", "repair_row", "repair_rows"]
