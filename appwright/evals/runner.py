"""Run every (task, model, sample) attempt: agent threads -> grader threads -> rows on disk.

    summary = run_eval(config, tasks, specs, console)   # appends to config.out/results.jsonl

The flow, top to bottom:
1. Read what `results.jsonl` already holds (a rerun skips those attempts: key task id, model,
   sample) and plan the rest: for each model, for each task, each sample.
2. Start `workers` grading threads; each opens its own `Grader` (one Chromium; Playwright's
   sync API belongs to the thread that started it) and closes it when the queue ends.
3. One driver thread takes the models in turn: loads the backend, starts its agent threads
   (`EvalConfig.agent_threads`: backend_workers for an HTTP backend, else 1), each with its
   own `Checker`, waits for them and closes the backend before loading the next model. An
   attempt runs the task in `bundles/<model>/<task>/<sample>/` (appwright/attempt.py
   `run_task`: its start bundle, the agent, a version) and hands the trajectory to the
   graders (`attempt.grade`, with the agent's reply).
4. The calling thread is the only writer: as each grade arrives it appends the trajectory
   (with its grade) to trajectories.jsonl, then the row to results.jsonl, each line flushed
   and fsynced, and moves the progress bar. Ctrl-C stops taking new attempts and returns at
   once; what was written stays, and the next run resumes from it.

An attempt that fails with an error (a backend that cannot load, a bug) writes no row, so a
rerun tries it again; the summary lists the errors.

Not done: a completion in progress is not cut off by Ctrl-C (the agent threads are daemons,
so the process can exit under them); no process pool, so the embedded model is one per run;
a trajectory written just before a crash whose row was not is left in trajectories.jsonl
(no row names it; training joins on `trajectory_id`).
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from appwright import attempt as attempts
from appwright.agent.check_app import Checker
from appwright.agent.trajectory import Trajectory, append_jsonl
from appwright.evals.cascade import Backends, Climb, Reuse, climb
from appwright.evals.config import AUTO, EvalConfig
from appwright.evals.records import RESULTS, TRAJECTORIES, AttemptRow, append_row, drop_torn_tail, read_rows
from appwright.models import ModelError, ModelSpec, get_model, load_backend
from appwright.models.machine import machine
from appwright.tasks.graders import GRADER_VERSION, Grader
from appwright.tasks.model import Grade, Task


@dataclass(frozen=True)
class Attempt:
    task: Task
    model: str
    sample: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.task.id, self.model, self.sample)


@dataclass(frozen=True)
class Finished:
    attempt: Attempt
    trajectory: Trajectory
    grade: Grade
    bundle: Path
    climb: Climb | None = None  # an `auto` attempt's rungs
    machine: str | None = None  # where a Ray worker ran it; None: this process (models/machine.py)


@dataclass(frozen=True)
class Failed:
    attempt: Attempt
    message: str


@dataclass
class RunSummary:
    planned: int  # attempts the flags ask for
    skipped: int  # already in results.jsonl
    ran: int = 0  # rows written by this run
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def bundle_dir(out: Path, attempt: Attempt) -> Path:
    return out / "bundles" / _safe(attempt.model) / attempt.task.id / str(attempt.sample)


def plan(config: EvalConfig, tasks: list[Task], done: set[tuple[str, str, int]]) -> list[Attempt]:
    every = [Attempt(t, m, s) for m in config.models for t in tasks for s in range(config.samples)]
    return [a for a in every if a.key not in done]


def _agent(attempt: Attempt, backend, checker: Checker, config: EvalConfig) -> tuple[Trajectory, Path]:
    bundle = bundle_dir(config.out, attempt)
    traj = attempts.run_task(attempt.task, backend, bundle, config.harness(attempt.sample), model_name=attempt.model,
                             prompt_style=get_model(attempt.model).prompt, checker=checker)
    return traj, bundle


def _agent_thread(inbox: queue.Queue, to_grade: queue.Queue, results: queue.Queue, backend, config: EvalConfig,
                  stop: threading.Event, reuse: Reuse) -> None:
    checker = Checker()  # started on first use, in this thread
    try:
        while not stop.is_set():
            try:
                attempt = inbox.get_nowait()
            except queue.Empty:
                return
            try:
                traj, bundle = _agent(attempt, backend, checker, config)
                reuse.add(attempt.key, traj, bundle)
                to_grade.put((attempt, traj, bundle, None))
            except Exception as exc:  # noqa: BLE001 - one attempt's bug must not end the run
                results.put(Failed(attempt, f"agent: {type(exc).__name__}: {exc}"))
    finally:
        _close(checker)


def _close(resource) -> None:
    with contextlib.suppress(Exception):  # a browser that will not close must not hide the results
        resource.close()


def _grade_thread(inbox: queue.Queue, results: queue.Queue, config: EvalConfig) -> None:
    grader = Grader(max_seconds=config.grade_seconds)  # one Chromium, started on first use, in this thread
    try:
        while (item := inbox.get()) is not None:
            attempt, traj, bundle, climbed = item
            try:
                grade = attempts.grade(attempt.task, bundle, traj, grader)
                results.put(Finished(attempt, traj, grade, bundle, climbed))
            except Exception as exc:  # noqa: BLE001
                results.put(Failed(attempt, f"grader: {type(exc).__name__}: {exc}"))
    finally:
        _close(grader)


def _driver(pending: list[Attempt], specs: dict[str, ModelSpec], config: EvalConfig, to_grade: queue.Queue,
            results: queue.Queue, stop: threading.Event, reuse: Reuse, ladder: list[ModelSpec],
            keys: dict[str, str]) -> None:
    try:
        for model in config.models:
            mine = [a for a in pending if a.model == model]
            if not mine or stop.is_set() or model == AUTO:
                continue
            try:
                backend = load_backend(model)
            except Exception as exc:  # noqa: BLE001 - a ModelError says what to do; anything else is a bug
                why = str(exc) if isinstance(exc, ModelError) else f"{type(exc).__name__}: {exc}"
                for a in mine:
                    results.put(Failed(a, f"could not load {model}: {why}"))
                continue
            inbox: queue.Queue = queue.Queue()
            for a in mine:
                inbox.put(a)
            threads = [threading.Thread(target=_agent_thread, daemon=True, name=f"agent-{model}-{i}",
                                        args=(inbox, to_grade, results, backend, config, stop, reuse))
                       for i in range(config.agent_threads(specs[model]))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            _close(backend)
        _cascade([a for a in pending if a.model == AUTO], config, to_grade, results, stop, reuse, ladder, keys)
    finally:
        for _ in range(config.workers):
            to_grade.put(None)


def _cascade(mine: list[Attempt], config: EvalConfig, to_grade: queue.Queue, results: queue.Queue,
             stop: threading.Event, reuse: Reuse, ladder: list[ModelSpec], keys: dict[str, str]) -> None:
    """The `auto` attempts, after every named model's (whose attempts its rungs reuse)."""
    if not mine:
        return
    checker, backends = Checker(), Backends(keys)
    try:
        for a in mine:
            if stop.is_set():
                return
            try:
                def rung_dir(name: str, a: Attempt = a) -> Path:
                    return config.out / "bundles" / "auto-rungs" / _safe(name) / a.task.id / str(a.sample)
                climbed = climb(a.task, a.sample, ladder, config, reuse, backends, checker, rung_dir,
                                bundle_dir(config.out, a))
                to_grade.put((a, climbed.trajectory, bundle_dir(config.out, a), climbed))
            except Exception as exc:  # noqa: BLE001 - one attempt's bug must not end the run
                why = str(exc) if isinstance(exc, ModelError) else f"{type(exc).__name__}: {exc}"
                results.put(Failed(a, f"auto: {why}"))
    finally:
        _close(checker)
        _close(backends)


def _on_ray(pending: list[Attempt], config: EvalConfig, results: queue.Queue, stop: threading.Event) -> None:
    """--ray: each model's attempts dealt to its Ray workers, agent and graders in one call
    (appwright/cluster.py); outcomes onto `results`, as the local threads put them."""
    from appwright.cluster import Job, deal

    by_key = {a.key: a for a in pending}

    def put(o) -> None:
        a = by_key[o.job.key]
        results.put(Failed(a, o.error) if o.error else Finished(a, o.trajectory, o.grade, o.job.folder,
                                                                   machine=o.machine))

    for model in config.models:
        jobs = [Job(a.key, a.task, config.harness(a.sample), bundle_dir(config.out, a))
                for a in pending if a.model == model]
        deal(jobs, model, config.ray, put, stop, config.grade_seconds)


def make_row(done: Finished, spec: ModelSpec | None, out: Path) -> AttemptRow:
    """The row of an attempt; `spec` None for `auto`, whose totals are its rungs' sums. A model served
    over HTTP ran on a machine the row cannot name: its `machine` is None."""
    t, traj, g = done.attempt.task, done.trajectory, done.grade
    if done.climb is not None:
        rungs = done.climb.rungs
        totals = {"prompt_tokens": sum(r.prompt_tokens for r in rungs),
                  "completion_tokens": sum(r.completion_tokens for r in rungs),
                  "agent_s": round(sum(r.agent_s for r in rungs), 1),
                  "cost_usd": round(sum(r.cost_usd for r in rungs), 9), "rungs": rungs}
    else:
        totals = {"prompt_tokens": traj.prompt_tokens, "completion_tokens": traj.completion_tokens,
                  "agent_s": traj.elapsed_s,
                  "cost_usd": round(spec.price.cost(traj.prompt_tokens, traj.completion_tokens), 9)}
    return AttemptRow(
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), task_id=t.id, kind=t.kind,
        domain=t.domain, split=t.split, prompt=t.prompt, model=done.attempt.model, sample=done.attempt.sample,
        trajectory_id=traj.id, stop_reason=traj.stop_reason, error=traj.error, grade=g,
        bundle=done.bundle.relative_to(out).as_posix(), grader_version=GRADER_VERSION,
        machine=None if spec is not None and spec.backend == "openai" else done.machine or machine(), **totals)


POLL_S = 0.5  # how often the main thread wakes while it waits for attempts


def _next(results: queue.Queue):
    """The next finished attempt, waited for in short slices: Python runs a Ctrl-C's handler only in
    the main thread and between waits, and a signal that reached another thread (Ray's, a
    grader's) does not end a wait that has no timeout."""
    while True:
        with contextlib.suppress(queue.Empty):
            return results.get(timeout=POLL_S)


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console)


def _rate(good: int, n: int) -> str:
    return f"good {good}/{n} ({good / n:.0%})" if n else "good -"


def run_eval(config: EvalConfig, tasks: list[Task], specs: dict[str, ModelSpec], console: Console,
             ladder: list[ModelSpec] | None = None, keys: dict[str, str] | None = None) -> RunSummary:
    """`ladder` (and the remote `keys`): the rungs of `auto`, when config.models has it."""
    # 1. What is done, what is left.
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    results_path, traj_path = out / RESULTS, out / TRAJECTORIES
    for path in (results_path, traj_path):
        if drop_torn_tail(path):
            console.print(f"[yellow]note:[/] cut a half-written last line from {escape(str(path))}", highlight=False)
    old = read_rows(results_path)
    done = {r.key for r in old}
    pending = plan(config, tasks, done)
    total = len(tasks) * config.samples
    summary = RunSummary(planned=total * len(config.models), skipped=total * len(config.models) - len(pending))
    if not pending:
        return summary
    for model, spec in specs.items():
        if config.agent_threads(spec) < config.backend_workers:
            console.print(f"[yellow]note:[/] {escape(model)}: the {spec.backend} backend serves one caller at a "
                          f"time (one model instance per process), so --backend-workers {config.backend_workers} "
                          "is capped at 1 for it", highlight=False)

    # 2-3. Graders, then the driver that runs the agents model by model; or, with --ray, the
    # driver of the Ray workers (appwright/cluster.py), each an agent and a grader in one.
    to_grade: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()
    stop = threading.Event()
    cluster = contextlib.nullcontext()
    if config.ray is None:
        reuse = Reuse()
        if any(a.model == AUTO for a in pending):
            reuse.load(out, old)
        threads = [threading.Thread(target=_grade_thread, args=(to_grade, results, config), daemon=True,
                                    name=f"grader-{i}") for i in range(config.workers)]
        threads.append(threading.Thread(target=_driver, daemon=True, name="driver", args=(
            pending, specs, config, to_grade, results, stop, reuse, ladder or [], keys or {})))
    else:
        from appwright.cluster import connect

        cluster = connect(config.ray)
        threads = [threading.Thread(target=_on_ray, args=(pending, config, results, stop), daemon=True,
                                    name="ray-driver")]
    written = {r.trajectory_id for r in old}  # a reused rung's trajectory is written once
    wanted = {a.key for a in plan(config, tasks, set())}
    n = Counter(r.model for r in old if r.key in wanted)  # the running pass rate counts this selection only
    good = Counter(r.model for r in old if r.key in wanted and r.good)

    # 4. The only writer: rows as they arrive.
    progress = _progress(console)
    try:
        with cluster, progress:
            bars = {m: progress.add_task(escape(m), total=total, completed=n[m], rate=_rate(good[m], n[m]))
                    for m in config.models}
            for t in threads:
                t.start()
            for _ in range(len(pending)):
                item = _next(results)
                if isinstance(item, Failed):
                    summary.errors.append(f"{item.attempt.model} {item.attempt.task.id} #{item.attempt.sample}: "
                                          f"{item.message}")
                    progress.console.print(f"[red]error[/] {escape(summary.errors[-1])}", highlight=False)
                    continue
                row = make_row(item, specs.get(item.attempt.model), out)
                for traj in [item.trajectory, *(item.climb.fresh if item.climb else [])]:
                    if traj.id not in written:
                        written.add(traj.id)
                        append_jsonl(traj_path, traj)
                append_row(results_path, row)
                summary.ran += 1
                n[row.model] += 1
                good[row.model] += row.good
                progress.update(bars[row.model], advance=1, rate=_rate(good[row.model], n[row.model]))
                mark = "[green]good[/]" if row.good else "[red]bad[/] "
                progress.console.print(
                    f"{mark} {escape(row.model)} {row.task_id} #{row.sample}: reward {row.reward:.2f} · "
                    f"{row.prompt_tokens + row.completion_tokens:,} tokens · agent {row.agent_s:.0f} s · "
                    f"grade {row.grade_s:.0f} s · {row.stop_reason}", highlight=False)
            for t in threads:
                while t.is_alive():
                    t.join(POLL_S)
    except KeyboardInterrupt:
        stop.set()
        summary.interrupted = True
    return summary
