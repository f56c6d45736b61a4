"""Today's graders on the bundles an eval kept: `appwright eval regrade SRC --out DST`.

    summary = regrade(Path("docs/results/eval-x"), Path("runs/eval-x-v4"), console)

A grader fix changes what an answer scores, not the answer. Regrading a finished run's kept
bundles gives rows graded like a run made after the fix, paired attempt for attempt with the
first grading, without running a model again. The bundles are served by today's runtime, so a
change to it (the SDK the pages load) shows in the new grades too. SRC is only read: published
rows are never overwritten. DST gets each row with its new grade and `grader_version`, the
trajectories with their new grade, a copy of each bundle (a folder that stands alone), and then
the report. Rows are written as they are graded, so an interrupted regrade resumes where it
stopped.

A row whose bundle was not kept (the published rows in docs/results keep results and
trajectories only) is graded on its files rebuilt from its trajectory (`rebuild`): the task's
start files, then every file the agent's tools wrote, edited or deleted, in order, replayed
through the same tools; a repair whose files the loop put back (`kept_first`) is left out.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from appwright.agent.tools import Toolbox
from appwright.agent.trajectory import Trajectory, append_jsonl, read_jsonl
from appwright.evals.records import RESULTS, TRAJECTORIES, append_row, drop_torn_tail, read_rows
from appwright.tasks.bank import TaskBank, TaskError, materialise_start
from appwright.tasks.graders import GRADER_VERSION, Grader
from appwright.tasks.model import Task


@dataclass
class RegradeSummary:
    rows: int  # rows in SRC
    skipped: int  # already regraded in DST
    regraded: int = 0
    changed: list[str] = field(default_factory=list)  # "model task #sample: good -> bad", verdicts that moved
    rebuilt: int = 0  # rows graded on files rebuilt from the trajectory (no bundle kept)
    errors: list[str] = field(default_factory=list)  # rows that could not be regraded (no bundle, unknown task)
    interrupted: bool = False


WRITES = ("write_file", "edit_file", "delete_file")


def rebuild(task: Task, traj: Trajectory, folder: Path) -> bool:
    """The attempt's final files in `folder`, replayed from its trajectory (see the module's doc).
    False when the trajectory wrote nothing."""
    materialise_start(task, folder)
    tools = Toolbox(folder)
    calls = [s.call for step in traj.steps if not step.kept_first for s in step.tool_calls
             if s.call.name in WRITES and s.result.ok]
    for call in calls:
        tools.call(call)
    return bool(calls)


def _rebuilt(task: Task, traj: Trajectory, dst: Path, rel: str) -> tuple[Path, str | None]:
    """The bundle rebuilt in DST, or why it cannot be."""
    target = dst / rel
    if dst.resolve() not in target.resolve().parents:
        return target, f"its bundle path {rel!r} leads out of the folder"
    shutil.rmtree(target, ignore_errors=True)  # a rebuild an interruption left
    if not rebuild(task, traj, target):
        return target, "its bundle was not kept and its trajectory wrote no file"
    return target, None


def regrade(src: Path, dst: Path, console: Console, bank: TaskBank | None = None) -> RegradeSummary:
    """Every row of `src` graded again on its bundle by the current graders, into `dst`."""
    if src.resolve() == dst.resolve():
        raise ValueError("the regrade goes to a new folder: the source's rows are never overwritten")
    rows = read_rows(src / RESULTS)
    if not rows:
        raise ValueError(f"{src}: {RESULTS} holds no rows")
    trajectories = {t.id: t for t in read_jsonl(src / TRAJECTORIES)} if (src / TRAJECTORIES).is_file() else {}
    dst.mkdir(parents=True, exist_ok=True)
    for path in (dst / RESULTS, dst / TRAJECTORIES):
        drop_torn_tail(path)
    done = {r.key for r in read_rows(dst / RESULTS)} if (dst / RESULTS).is_file() else set()
    written = {t.id for t in read_jsonl(dst / TRAJECTORIES)} if (dst / TRAJECTORIES).is_file() else set()
    pending = [r for r in rows if r.key not in done]
    summary = RegradeSummary(rows=len(rows), skipped=len(rows) - len(pending))
    bank = bank or TaskBank.default()
    progress = Progress(TextColumn("regrade"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console)
    try:
        with Grader() as grader, progress:
            bar = progress.add_task("regrade", total=len(rows), completed=summary.skipped)
            for row in pending:
                what = f"{row.model} {row.task_id} #{row.sample}"
                traj = trajectories.get(row.trajectory_id)
                bundle = src / row.bundle
                try:
                    task = bank.get(row.task_id)
                except TaskError:
                    task = None
                problem = ("the task is not in the bank" if task is None else
                           "its trajectory is not in " + TRAJECTORIES if traj is None else None)
                if problem is None and not bundle.is_dir():
                    bundle, problem = _rebuilt(task, traj, dst, row.bundle)
                    summary.rebuilt += problem is None
                if problem:
                    summary.errors.append(f"{what}: {problem}")
                    progress.console.print(f"[red]error[/] {escape(summary.errors[-1])}", highlight=False)
                    progress.advance(bar)
                    continue
                grade = grader.grade(bundle, task, reply=traj.summary)
                if not (dst / row.bundle).exists():
                    shutil.copytree(bundle, dst / row.bundle)
                if traj.id not in written:
                    written.add(traj.id)
                    append_jsonl(dst / TRAJECTORIES, traj.model_copy(update={"grade": grade}))
                append_row(dst / RESULTS, row.model_copy(update={"grade": grade, "grader_version": GRADER_VERSION}))
                summary.regraded += 1
                if grade.good != row.good:
                    summary.changed.append(f"{what}: {'good' if row.good else 'bad'} -> "
                                           f"{'good' if grade.good else 'bad'}")
                mark = "[green]good[/]" if grade.good else "[red]bad[/] "
                progress.console.print(f"{mark} {escape(what)}: reward {row.reward:.2f} -> {grade.reward:.2f}",
                                       highlight=False)
                progress.advance(bar)
    except KeyboardInterrupt:
        summary.interrupted = True
    return summary
