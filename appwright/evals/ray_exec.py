"""Attempts on Ray: `appwright eval run --ray ADDRESS` (issue 20).

    with connect(RayConfig("local", workers=2)):        # ray.init here; ray.shutdown on the way out
        execute(pending, config, results, stop)          # Finished / Failed onto `results`, as runner.py's threads

Each attempt is one call on an `AttemptWorker` actor: the agent, then the graders, exactly as
the local runner's agent and grading threads do them (`runner._agent`, `attempt.grade`). A
worker holds one instance of its model, loaded once when it starts, and one Checker and one
Grader (one Chromium each, started on first use). It asks Ray for `threads` CPUs (its
llama.cpp threads) and one `browser`: a custom resource, one per worker on a local Ray; on a
cluster every node declares how many browsers it can run (`ray start ... --resources
'{"browser": 4}'`). The environment's APPWRIGHT_* variables travel with the workers.

This process is the driver: it deals each model's attempts to that model's idle workers,
takes results as they finish (`ray.wait`) and hands them to the run's one writer (runner.py),
so results.jsonl, trajectories.jsonl, the metrics and the report are those of a local run.

Faults:
- a worker that dies mid-attempt (its process killed, its node lost): a new worker replaces
  it and the attempt is dealt again, once, to another worker; a second death is an error (no
  row, retried by the next run). Only the driver writes, each key once: nothing is lost or
  counted twice;
- an address nothing answers at: a TCP connect first, failing within 5 s with a clear message;
- Ctrl-C: the writer stops at once; leaving `connect` shuts Ray down, which ends every worker
  (a local Ray stops; a cluster ends the actors of this job), and a rerun resumes.

Bundles are written by the workers under --out: on several machines, --out must be a folder
they share. `auto` does not run on Ray yet.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from appwright.evals.config import EvalConfig, RayConfig

CONNECT_TIMEOUT_S = 5.0


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
def connect(ray_config: RayConfig) -> Iterator[None]:
    """Ray initialised for the run: a local instance sized for the workers, or the cluster at the
    address; shut down on the way out, whatever happens."""
    check_reachable(ray_config.address)
    import ray

    quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if ray_config.address == "local":
        ray.init(num_cpus=ray_config.workers * ray_config.threads, resources={"browser": ray_config.workers},
                 **quiet)
    else:
        ray.init(address=ray_config.address, **quiet)
    try:
        yield
    finally:
        ray.shutdown()


class AttemptWorker:
    """One model instance, one Checker and one Grader, running attempts end to end (a Ray actor)."""

    def __init__(self, model: str, config: EvalConfig):
        from appwright.agent.check_app import Checker
        from appwright.models import backend_for, get_model
        from appwright.tasks.graders import Grader

        self.config = config
        self.backend = backend_for(get_model(model), n_threads=config.ray.threads if config.ray else None)
        self.checker = Checker()
        self.grader = Grader(max_seconds=config.grade_seconds)

    def pid(self) -> int:
        return os.getpid()

    def run(self, attempt):
        from appwright import attempt as attempts
        from appwright.evals.runner import _agent

        traj, bundle = _agent(attempt, self.backend, self.checker, self.config)
        return traj, attempts.grade(attempt.task, bundle, traj, self.grader), bundle


def execute(pending: list, config: EvalConfig, results: queue.Queue, stop: threading.Event) -> None:
    """Every pending attempt on Ray, model by model; each outcome goes onto `results`."""
    import ray

    assert config.ray is not None
    worker_class = ray.remote(max_restarts=0, max_task_retries=0)(AttemptWorker)
    options = {"num_cpus": config.ray.threads, "resources": {"browser": 1},
               "runtime_env": {"env_vars": {k: v for k, v in os.environ.items() if k.startswith("APPWRIGHT_")}}}
    try:
        _execute(ray, worker_class, options, pending, config, results, stop)
    except Exception:
        if not stop.is_set():  # after Ctrl-C, Ray is shut down under this thread: nothing to report
            raise


def _execute(ray, worker_class, options: dict, pending: list, config: EvalConfig, results: queue.Queue,
             stop: threading.Event) -> None:
    from ray.exceptions import RayActorError

    from appwright.evals.runner import Failed, Finished

    def start() -> object:
        return worker_class.options(**options).remote(model, config)

    for model in config.models:
        todo = deque(a for a in pending if a.model == model)
        if not todo or stop.is_set():
            continue
        workers = [start() for _ in range(min(config.ray.workers, len(todo)))]
        try:
            ray.get([w.pid.remote() for w in workers])  # the model loads once per worker, here
        except RayActorError as exc:  # the model cannot load: no attempt of it can run
            for a in todo:
                results.put(Failed(a, f"could not start a Ray worker for {model}: {exc}"))
            for w in workers:
                ray.kill(w)
            continue
        idle, inflight, died = list(workers), {}, set()  # died: keys of attempts whose worker died
        while (todo or inflight) and not stop.is_set():
            while todo and idle:
                a, w = todo.popleft(), idle.pop(0)
                inflight[w.run.remote(a)] = (a, w)
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.5)
            for ref in ready:
                a, w = inflight.pop(ref)
                try:
                    traj, grade, bundle = ray.get(ref)
                    results.put(Finished(a, traj, grade, Path(bundle)))
                except RayActorError as exc:  # the worker died: a new one replaces it; the attempt goes again once
                    workers.remove(w)
                    w = start()
                    workers.append(w)
                    if a.key in died:
                        results.put(Failed(a, f"its Ray worker died twice: {exc}"))
                    else:
                        died.add(a.key)
                        todo.appendleft(a)
                except Exception as exc:  # noqa: BLE001 - the attempt raised: one attempt's bug
                    cause = getattr(exc, "cause", exc)
                    results.put(Failed(a, f"{type(cause).__name__}: {cause}"))
                idle.append(w)
        for w in workers:
            ray.kill(w)
