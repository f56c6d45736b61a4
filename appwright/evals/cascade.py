"""`auto` in an eval: the gateway's verify-then-escalate ladder as one more column of a run.

    appwright eval run --models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b,auto --tasks docs/results/dev40.txt --out ...

For each task and sample, the rungs (gateway/apps.py `cli_ladder`: gateway.toml's `auto` models,
or the ones ready here, cheapest first) run in turn until one's app passes `check_app` and the
app's own security probe (`attempt.probe_problems`): the rule of `appwright new --model auto`
and of the gateway's app tasks. The task's graders then grade the accepted bundle (or the last
rung's, when none passed) like any attempt. The row's tokens, agent seconds and cost are the
sums over the rungs tried, verification included: what the cascade paid. Its `rungs` say what
each rung did.

A rung that is also a named model of the run reuses that model's attempt at the same task and
sample (this run's, or an earlier run's in the same folder), instead of running the same model
on the same prompt again: `--models a,b,auto` measures the cascade beside each single model for
the price of the single models, and the comparison is paired (the cascade's first rung is the
first model's very attempt). Rungs that are not named models run here, in
`bundles/auto-rungs/<model>/<task>/<sample>/`, with the run's harness settings and seed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appwright import attempt as attempts
from appwright.agent.check_app import Checker
from appwright.agent.trajectory import Trajectory, read_jsonl
from appwright.evals.config import AUTO, EvalConfig
from appwright.evals.records import TRAJECTORIES, AttemptRow, RungRecord
from appwright.models import Backend, ModelError, ModelSpec, backend_for
from appwright.tasks.model import Task

Key = tuple[str, str, int]  # (task id, model, sample)


class Reuse:
    """Attempts of the run's named models, by (task id, model, sample): their trajectory and bundle."""

    def __init__(self):
        self._done: dict[Key, tuple[Trajectory, Path]] = {}

    def add(self, key: Key, traj: Trajectory, bundle: Path) -> None:
        self._done[key] = (traj, bundle)

    def load(self, out: Path, rows: list[AttemptRow]) -> None:
        """An earlier run's attempts in `out`: each row's trajectory and bundle, where both are there."""
        wanted = {r.trajectory_id: r for r in rows if r.model != AUTO and (out / r.bundle).is_dir()}
        if not wanted or not (out / TRAJECTORIES).is_file():
            return
        for traj in read_jsonl(out / TRAJECTORIES):
            if (row := wanted.get(traj.id)) is not None:
                self.add(row.key, traj, out / row.bundle)

    def get(self, key: Key) -> tuple[Trajectory, Path] | None:
        return self._done.get(key)


class Backends:
    """The ladder's backends, each loaded once on first use and kept for the run."""

    def __init__(self, keys: dict[str, str]):
        self.keys, self._loaded = keys, {}

    def get(self, spec: ModelSpec) -> Backend:
        if spec.name not in self._loaded:
            from appwright.gateway.config import api_key

            self._loaded[spec.name] = backend_for(spec, api_key=api_key(spec, self.keys))
        return self._loaded[spec.name]

    def close(self) -> None:
        for backend in self._loaded.values():
            backend.close()


@dataclass
class Climb:
    trajectory: Trajectory  # the last rung's: the one whose bundle is graded
    rungs: list[RungRecord]
    fresh: list[Trajectory]  # the rungs run here (not reused), for trajectories.jsonl


def climb(task: Task, sample: int, ladder: list[ModelSpec], config: EvalConfig, reuse: Reuse, backends: Backends,
          checker: Checker, rung_dir: Callable[[str], Path], final: Path, browser: bool = True) -> Climb:
    """The cascade on one task: each rung's attempt (reused, or run in `rung_dir(model)`), verified,
    until one passes; the bundle to grade is copied to `final`. A ModelError when no rung could
    even load."""
    records: list[RungRecord] = []
    fresh: list[Trajectory] = []
    last: tuple[Trajectory, Path] | None = None
    why_not = ""
    for spec in ladder:
        found = reuse.get((task.id, spec.name, sample))
        reused = found is not None
        if found is not None:  # a copy: grading sets the trajectory's grade, and the named row has its own
            found = (found[0].model_copy(), found[1])
        if found is None:
            try:
                backend = backends.get(spec)
            except ModelError as exc:
                why_not = f"{spec.name}: {exc}"
                continue
            folder = rung_dir(spec.name)
            found = (attempts.run_task(task, backend, folder, config.harness(sample), model_name=spec.name,
                                       prompt_style=spec.prompt, checker=checker), folder)
            fresh.append(found[0])
        traj, folder = last = found
        verify_started = time.monotonic()
        problems = attempts.verify(traj, folder, browser)
        records.append(RungRecord(
            model=spec.name, trajectory_id=traj.id, reused=reused, accepted=not problems,
            problems=[p[:500] for p in problems[:5]], prompt_tokens=traj.prompt_tokens,
            completion_tokens=traj.completion_tokens,
            agent_s=round(traj.elapsed_s + time.monotonic() - verify_started, 1),
            cost_usd=round(spec.price.cost(traj.prompt_tokens, traj.completion_tokens), 9)))
        if not problems:
            break
    if last is None:
        raise ModelError(f"no rung of auto could run: {why_not}")
    if final.exists():
        shutil.rmtree(final)
    shutil.copytree(last[1], final, ignore=shutil.ignore_patterns(".aw"))
    return Climb(last[0], records, fresh)
