"""Attempts on Ray (issue 20): the executor past one machine, for evals, sampling and GRPO's rollouts.

    with connect(RayConfig("local", workers=2)):      # ray.init here; ray.shutdown on the way out
        deal(jobs, "qwen2.5-coder-0.5b", config, on_outcome, stop)   # each Job's Outcome, as they finish

A `Job` is one attempt: a task, the harness settings, where its bundle goes. Each runs as one
call on an `AttemptWorker` actor: the agent (`attempt.run_task`), then the graders
(`attempt.grade`), the same functions a local run calls. A worker holds one instance of its
model, loaded once when it starts, and one Checker and one Grader (one Chromium each, started
on first use). It asks Ray for `threads` CPUs (its llama.cpp threads) and one `browser`: a
custom resource, one per worker on a local Ray; on a cluster each node declares how many
Chromiums it can run (`ray start ... --resources '{"browser": 4}'`). The environment's
APPWRIGHT_* variables travel with the workers.

This process is the driver: `deal` hands the jobs to idle workers, takes results as they
finish (`ray.wait`) and calls `on_outcome` with each, in this thread: the caller stays the
only writer of its files.

Faults:
- a worker that dies mid-attempt (its process killed, its node lost): a new worker replaces
  it and the job is dealt again, once; a second death is an error outcome. Each job has one
  outcome: nothing is lost or counted twice;
- an address nothing answers at: a TCP connect first, failing within 5 s with a clear message;
- Ctrl-C: the caller stops `deal` (its `stop` event) and leaves `connect`, which shuts Ray
  down and with it every worker of the run (a local Ray stops; a cluster ends this job's actors).

Bundles are written by the workers: on several machines, a job's folder must be one they
share, or None (a temporary folder on the worker, removed after grading).

GRPO generates its completions in the trainer; `RayScorer` grades them on `GradeWorker`s (one
Grader each), in parallel, in the order given: the reward function's `score_all`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator

from appwright.agent.config import HarnessConfig
from appwright.agent.trajectory import Trajectory
from appwright.tasks.model import Grade, Task

CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RayConfig:
    """`--ray ADDRESS`: run attempts on Ray instead of local threads."""
    address: str  # "local": a Ray instance on this machine, started and stopped by the run; else a cluster's
    #               head (host:port) or Ray's own "auto" (the cluster this machine belongs to)
    workers: int = 2  # attempt workers per model: each holds one model instance and its Chromiums
    threads: int = 1  # CPUs each worker asks Ray for, and its llama.cpp threads

    def __post_init__(self):
        host, _, port = self.address.removeprefix("ray://").rpartition(":")
        if self.address not in ("local", "auto") and not (host and port.isdigit()):
            raise ValueError(f"--ray: expected local, auto or a cluster head's host:port; got {self.address!r}")
        for name, value in (("--ray-workers", self.workers), ("--ray-threads", self.threads)):
            if value < 1:
                raise ValueError(f"{name}: must be at least 1; got {value}")


@dataclass(frozen=True)
class Job:
    key: Hashable  # what the caller knows the attempt by
    task: Task
    harness: HarnessConfig
    folder: Path | None = None  # where the bundle stays; None: a temporary folder on the worker
    browser: bool = True  # grade with the browser checks too


@dataclass(frozen=True)
class Outcome:
    job: Job
    trajectory: Trajectory | None = None  # with its grade; None on an error
    grade: Grade | None = None
    error: str | None = None
    machine: str | None = None  # the worker's (models/machine.py)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """A ConnectionError, within `timeout`, when nothing listens at a cluster address."""
    if address in ("local", "auto"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConnectionError(f"cannot reach a Ray cluster at {address} ({exc}); is `ray start --head` running "
                              "there, and is the port open?") from None


@contextmanager
def connect(config: RayConfig) -> Iterator[None]:
    """Ray initialised: a local instance sized for the workers, or the cluster at the address;
    shut down on the way out, whatever happens."""
    check_reachable(config.address)
    import ray
    from ray._private import auto_init_hook

    # No Ray call may start a Ray of its own: after a Ctrl-C the driver thread can still be in
    # one when this shuts Ray down, and it would start a new local Ray that outlives the run.
    auto_init_hook.enable_auto_connect = False
    quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if config.address != "local":
        ray.init(address=config.address, **quiet)
        try:
            yield
        finally:
            ray.shutdown()  # ends this job's actors on the cluster
        return
    ray.init(num_cpus=config.workers * config.threads, resources={"browser": config.workers}, **quiet)
    raylet = ray._private.worker._global_node.all_processes["raylet"][0].process.pid
    try:
        yield
    finally:
        _end_local(raylet)


def _end_local(raylet: int) -> None:
    """Shut the local Ray down, then end whatever its raylet started that is still there a moment
    later (its agents and workers must not outlive the run)."""
    import psutil
    import ray

    try:
        started = psutil.Process(raylet).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    ray.shutdown()
    for p in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(started, timeout=3)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


class AttemptWorker:
    """One model instance, one Checker and one Grader, running attempts end to end (a Ray actor)."""

    def __init__(self, model: str, threads: int, grade_seconds: float):
        from appwright.agent.check_app import Checker
        from appwright.models import backend_for, get_model
        from appwright.tasks.graders import Grader

        self.spec = get_model(model)
        self.backend = backend_for(self.spec, n_threads=threads)
        self.checker = Checker()
        self.grader = Grader(max_seconds=grade_seconds)

    def pid(self) -> int:
        return os.getpid()

    def run(self, job: Job) -> tuple[Trajectory, Grade, str]:
        from appwright import attempt as attempts
        from appwright.models.machine import machine

        folder = job.folder or Path(tempfile.mkdtemp(prefix="aw-ray-attempt-")) / "app"
        try:
            traj = attempts.run_task(job.task, self.backend, folder, job.harness, model_name=self.spec.name,
                                     prompt_style=self.spec.prompt, checker=self.checker)
            return traj, attempts.grade(job.task, folder, traj, self.grader, job.browser), machine()
        finally:
            if job.folder is None:
                shutil.rmtree(folder.parent, ignore_errors=True)


class Pool:
    """Ray actors of one kind, each doing one call at a time; one that dies is replaced."""

    def __init__(self, start: Callable[[], Any], size: int):
        self.start = start
        self.workers = [start() for _ in range(size)]

    def ready(self) -> None:
        """Wait until every worker has started (its model loaded); RayActorError if one cannot."""
        import ray

        ray.get([w.pid.remote() for w in self.workers])

    def map(self, items: list, call: Callable[[Any, Any], Any], on_done: Callable[[Any, Any, str | None], Any],
            stop: threading.Event) -> None:
        """Each item through `call(worker, item)` (an actor method's `.remote`); `on_done(item, result,
        error)` in this thread as each finishes. An item whose worker died goes again, once, to a new
        worker; a second death is its error. Returns when all are done, or soon after `stop` is set."""
        import ray
        from ray.exceptions import RayActorError

        todo, idle, inflight, died = deque(range(len(items))), list(self.workers), {}, set()
        while (todo or inflight) and not stop.is_set():
            while todo and idle:
                i, w = todo.popleft(), idle.pop(0)
                inflight[call(w, items[i])] = (i, w)
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.5)
            for ref in ready:
                i, w = inflight.pop(ref)
                try:
                    result = ray.get(ref)
                except RayActorError as exc:  # the worker died: a new one replaces it; the item goes again once
                    self.workers.remove(w)
                    w = self.start()
                    self.workers.append(w)
                    if i in died:
                        on_done(items[i], None, f"its Ray worker died twice: {exc}")
                    else:
                        died.add(i)
                        todo.appendleft(i)
                except Exception as exc:  # noqa: BLE001 - the call raised: that item's error
                    cause = getattr(exc, "cause", None) or exc
                    on_done(items[i], None, f"{type(cause).__name__}: {cause}")
                else:
                    on_done(items[i], result, None)
                idle.append(w)

    def close(self) -> None:
        import ray

        for w in self.workers:
            ray.kill(w)


def _options(config: RayConfig, cpus: int) -> dict:
    return {"num_cpus": cpus, "resources": {"browser": 1},
            "runtime_env": {"env_vars": {k: v for k, v in os.environ.items() if k.startswith("APPWRIGHT_")}}}


def deal(jobs: list[Job], model: str, config: RayConfig, on_outcome: Callable[[Outcome], Any],
         stop: threading.Event, grade_seconds: float = 120.0) -> None:
    """Every job on `model`'s workers; `on_outcome` gets each job's one outcome, in this thread.
    Returns when all are done, or soon after `stop` is set."""
    import ray
    from ray.exceptions import RayActorError

    if not jobs or stop.is_set():
        return

    def finished(job: Job, done: tuple[Trajectory, Grade, str] | None, error: str | None) -> None:
        if error is not None:
            on_outcome(Outcome(job, error=error))
        else:
            traj, grade, where = done
            on_outcome(Outcome(job, traj, grade, machine=where))

    worker = ray.remote(max_restarts=0, max_task_retries=0)(AttemptWorker).options(**_options(config, config.threads))
    pool = Pool(lambda: worker.remote(model, config.threads, grade_seconds), min(config.workers, len(jobs)))
    try:
        try:
            pool.ready()  # the model loads once per worker, here
        except RayActorError as exc:  # it cannot load: no job of it can run
            for job in jobs:
                on_outcome(Outcome(job, error=f"could not start a Ray worker for {model}: {exc}"))
            return
        pool.map(jobs, lambda w, job: w.run.remote(job), finished, stop)
    except Exception:
        if not stop.is_set():  # after Ctrl-C, Ray is shut down under this thread: nothing to report
            raise
    finally:
        if not stop.is_set():
            pool.close()


class GradeWorker:
    """One Grader (one Chromium) grading answers, each written into a fresh workspace (a Ray actor)."""

    def __init__(self, browser: bool, grade_seconds: float):
        from appwright.tasks.graders import Grader
        from appwright.train.rollout import HarnessScorer

        self.scorer = HarnessScorer(Grader(max_seconds=grade_seconds),
                                    Path(tempfile.mkdtemp(prefix="aw-ray-rollouts-")), browser=browser)

    def pid(self) -> int:
        return os.getpid()

    def score(self, task: Task, completion: str, step: int):
        return self.scorer.score(task, completion, step)


class RayScorer:
    """GRPO's rollouts graded on Ray workers (train/rl.py): `score_all` as HarnessScorer's, the
    completions of a generation batch spread over `config.workers` GradeWorkers."""

    def __init__(self, config: RayConfig, browser: bool = True, grade_seconds: float = 120.0):
        import ray

        worker = ray.remote(max_restarts=0, max_task_retries=0)(GradeWorker).options(**_options(config, 1))
        self.pool = Pool(lambda: worker.remote(browser, grade_seconds), config.workers)
        self.pool.ready()

    def score_all(self, items: list[tuple[Task, str]], step: int = 0) -> list:
        results: dict[int, Any] = {}
        errors: list[str] = []

        def done(item, rollout, error) -> None:
            if error is None:
                results[item[0]] = rollout
            else:
                errors.append(error)

        self.pool.map(list(enumerate(items)), lambda w, item: w.score.remote(item[1][0], item[1][1], step), done,
                      threading.Event())
        if errors:
            raise RuntimeError(f"{len(errors)} completions could not be graded on Ray: {errors[0]}")
        return [results[i] for i in range(len(items))]

    def close(self) -> None:
        self.pool.close()
