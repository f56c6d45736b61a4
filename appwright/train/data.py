"""Training data: rejection sampling on train tasks, and trajectories -> an SFT chat dataset.

    appwright data sample --model qwen2.5-coder-1.5b --samples 4 --keep good --out data/good.jsonl
    appwright data sample ... --ray local --ray-workers 2        # the attempts on Ray (appwright/cluster.py)
    appwright data sft data/good.jsonl --out data/sft
    stats = build_sft_dataset([Path("data/good.jsonl")], Path("data/sft"))

`sample`: for each train task, `samples` attempts with the agent exactly as `appwright new`
runs it (`attempt.attempt`, any backend in the registry), each graded by the graders with the
agent's reply; the grade goes into the trajectory (`grade`) and the trajectory is appended
to the JSONL file when it is kept (`keep="good"`: every required check passed; `"all"`).
A rerun counts the attempts the file already holds per task and makes only the rest
(rejected attempts are not written, so `keep=good` reruns retry tasks that never passed).

`sft`: trajectories -> an HF `datasets` dataset (save_to_disk) with one row per accepted
trajectory: `messages` (role, content; exactly what the harness sent and received),
`task_id`, `trajectory_id`, `model`, `reward`. Kept: trajectories of `train` tasks whose
grade is good (or every graded one with keep="all"). Dropped, and counted: another split
(dev and test are never trained on; a trajectory that names no task or an unknown task is
dropped too, since its split cannot be known), not good, no grade, duplicates (the same
messages). A `files` run that needed the repair turn contributes [system, user, final
answer]: training on its first, failing answer would teach the failure.

Not done: no near-duplicate detection (two answers differing by a space are two rows), no
token-length filter (SFTConfig.max_length truncates), no studio interaction logs (they
carry no task, so no split; they need their own guard first).
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Literal

from appwright.agent.config import Budget, HarnessConfig
from appwright.agent.prompt import PromptStyle
from appwright.attempt import attempt
from appwright.agent.sft import SFTDataStats, message_key, sft_messages, sft_row, write_sft_dataset
from appwright.agent.sft import STATS, read_stats, with_blocks  # noqa: F401  (their old home; tests import them here)
from appwright.agent.trajectory import Trajectory, append_jsonl, read_jsonl
from appwright.cluster import RayConfig
from appwright.models.base import Backend
from appwright.tasks.bank import TaskBank
from appwright.tasks.graders import Grader
from appwright.tasks.model import Grade, Task


class DataError(ValueError):
    """Trajectory or dataset input that cannot be used; the message says which file and why."""


# 1. Rejection sampling ------------------------------------------------------------------


@dataclass
class SampleStats:
    attempts: int = 0
    kept: int = 0
    good: int = 0
    skipped: int = 0  # attempts the output file already held


def sample(tasks: list[Task], backend: Backend | str, out: Path, samples: int, keep: Literal["good", "all"] = "good",
           config: HarnessConfig = HarnessConfig(budget=Budget(max_steps=2), temperature=0.7),
           browser: bool = True, on_attempt: Callable[[Task, Trajectory], None] | None = None,
           prompt_style: PromptStyle = "full", ray: RayConfig | None = None) -> SampleStats:
    """Run, grade and keep attempts on train tasks (appwright/attempt.py); append the kept
    trajectories to `out`. `prompt_style`: the model's (registry `prompt`). With `ray`, `backend`
    is the model's registry name and the attempts run on Ray workers (appwright/cluster.py);
    this process still writes `out`, so a stopped run resumes either way."""
    held_out = sorted({t.id for t in tasks if t.split != "train"})
    if held_out:
        raise DataError(f"only train tasks are sampled for training; {', '.join(held_out[:5])} are not")
    done: dict[str, int] = {}
    if out.is_file():
        for traj in read_jsonl(out):
            done[traj.task_id or ""] = done.get(traj.task_id or "", 0) + 1
    stats = SampleStats(skipped=sum(min(done.get(t.id, 0), samples) for t in tasks))
    todo = [(task, i) for task in tasks for i in range(done.get(task.id, 0), samples)]

    def record(task: Task, traj: Trajectory, grade: Grade) -> None:
        stats.attempts += 1
        stats.good += grade.good
        if grade.good or keep == "all":
            append_jsonl(out, traj)
            stats.kept += 1
        if on_attempt:
            on_attempt(task, traj)

    if ray is not None:
        if todo:  # nothing to do starts no Ray
            _sample_on_ray(todo, str(backend), config, browser, ray, record)
        return stats
    with Grader() as grader, tempfile.TemporaryDirectory(prefix="aw-sample-") as tmp:
        for task, _ in todo:
            result = attempt(task, backend, Path(tmp) / "app", config, grader, browser=browser,  # type: ignore[arg-type]
                             model_name=getattr(backend, "name", None), prompt_style=prompt_style)
            record(task, result.trajectory, result.grade)
    return stats


def _sample_on_ray(todo: list[tuple[Task, int]], model: str, config: HarnessConfig, browser: bool, ray: RayConfig,
                   record: Callable[[Task, Trajectory, Grade], None]) -> None:
    """The attempts dealt to `model`'s Ray workers; an attempt that failed with an error is
    reported and left for the next run (nothing is written for it)."""
    from appwright.cluster import Job, connect, deal

    errors: list[str] = []
    by_key = {(task.id, i): task for task, i in todo}

    def on_outcome(o) -> None:
        if o.error:
            errors.append(f"{o.job.task.id}: {o.error}")
        else:
            record(by_key[o.job.key], o.trajectory, o.grade)

    stop = threading.Event()
    try:
        with connect(ray):
            deal([Job((task.id, i), task, config, browser=browser) for task, i in todo], model, ray, on_outcome, stop)
    except KeyboardInterrupt:
        stop.set()
        raise
    if errors:
        raise DataError(f"{len(errors)} attempts failed with errors (a rerun retries them); the first: {errors[0]}")


# 2. Trajectories -> chat dataset --------------------------------------------------------


def build_sft_dataset(paths: list[Path], out: Path, keep: Literal["good", "all"] = "good",
                      bank: TaskBank | None = None) -> SFTDataStats:
    bank = bank or TaskBank.default()
    split_of = {t.id: t.split for t in bank.tasks}
    stats, seen, rows = SFTDataStats(sources=[str(p) for p in paths]), set(), []
    for path in paths:
        for traj in read_jsonl(path):
            stats.read += 1
            if split_of.get(traj.task_id or "") != "train":
                stats.dropped_split += 1
                continue
            if traj.grade is None:
                stats.dropped_ungraded += 1
                continue
            if keep == "good" and not traj.grade.good:
                stats.dropped_not_good += 1
                continue
            messages = [{"role": m.role, "content": m.content} for m in sft_messages(traj)]
            if not any(m["role"] == "assistant" for m in messages):
                stats.dropped_not_good += 1
                continue
            stats.repaired_trimmed += len(messages) < len(traj.messages)
            if (key := message_key(messages)) in seen:
                stats.dropped_duplicate += 1
                continue
            seen.add(key)
            rows.append(sft_row(messages, traj.task_id, traj.id, traj.model, traj.grade.reward))
    if not rows:
        raise DataError(f"no trajectory was kept from {', '.join(map(str, paths))}: {asdict(stats)}")
    stats.rows, stats.tasks = len(rows), len({r["task_id"] for r in rows})
    write_sft_dataset(rows, stats, out)
    return stats
