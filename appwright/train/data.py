"""Training data: rejection sampling on train tasks, and trajectories -> an SFT chat dataset.

    appwright data sample --model qwen2.5-coder-1.5b --samples 4 --keep good --out data/good.jsonl
    appwright data sft data/good.jsonl --out data/sft
    stats = build_sft_dataset([Path("data/good.jsonl")], Path("data/sft"))

`sample`: for each train task, `samples` attempts with the agent exactly as `appwright new`
runs it (`run_agent`, any backend in the registry), each graded by the graders with the
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

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Literal

from appwright.agent.loop import Budget, run_agent
from appwright.agent.parse import FileBlock, parse_reply
from appwright.agent.trajectory import MessageRecord, Trajectory, append_jsonl, read_jsonl
from appwright.models.base import Backend, GenerationConfig
from appwright.tasks.bank import TaskBank, materialise_start
from appwright.tasks.graders import Grader
from appwright.tasks.model import Task

STATS = "appwright.json"


class DataError(ValueError):
    """Trajectory or dataset input that cannot be used; the message says which file and why."""


# 1. Rejection sampling ------------------------------------------------------------------


@dataclass
class SampleStats:
    attempts: int = 0
    kept: int = 0
    good: int = 0
    skipped: int = 0  # attempts the output file already held


def sample(tasks: list[Task], backend: Backend, out: Path, samples: int, keep: Literal["good", "all"] = "good",
           budget: Budget = Budget(max_steps=2), config: GenerationConfig = GenerationConfig(temperature=0.7),
           browser: bool = True, on_attempt: Callable[[Task, Trajectory], None] | None = None) -> SampleStats:
    """Run, grade and keep attempts on train tasks; append the kept trajectories to `out`."""
    held_out = sorted({t.id for t in tasks if t.split != "train"})
    if held_out:
        raise DataError(f"only train tasks are sampled for training; {', '.join(held_out[:5])} are not")
    done: dict[str, int] = {}
    if out.is_file():
        for traj in read_jsonl(out):
            done[traj.task_id or ""] = done.get(traj.task_id or "", 0) + 1
    stats = SampleStats()
    with Grader() as grader, tempfile.TemporaryDirectory(prefix="aw-sample-") as tmp:
        for task in tasks:
            for i in range(done.get(task.id, 0), samples):
                stats.attempts += 1
                start = materialise_start(task, Path(tmp) / "start") if task.start else None
                folder = Path(tmp) / "app"
                traj = run_agent(task.prompt, folder, backend, "files", budget, start_bundle=start, task_id=task.id,
                                 config=config)
                grade = grader.grade(folder, task, reply=traj.summary, browser=browser)
                traj.grade = grade.model_dump(mode="json") | {"reward": grade.reward, "good": grade.good}
                stats.good += grade.good
                if grade.good or keep == "all":
                    append_jsonl(out, traj)
                    stats.kept += 1
                if on_attempt:
                    on_attempt(task, traj)
                shutil.rmtree(folder, ignore_errors=True)
                shutil.rmtree(Path(tmp) / "start", ignore_errors=True)
            stats.skipped += min(done.get(task.id, 0), samples)
    return stats


# 2. Trajectories -> chat dataset --------------------------------------------------------


@dataclass
class SFTDataStats:
    format: int = 1
    sources: list[str] = field(default_factory=list)
    read: int = 0
    rows: int = 0
    tasks: int = 0
    dropped_split: int = 0  # dev, test, no task or an unknown task
    dropped_not_good: int = 0
    dropped_ungraded: int = 0
    dropped_duplicate: int = 0
    repaired_trimmed: int = 0  # files runs reduced to [system, user, final answer]


def sft_messages(traj: Trajectory) -> list[MessageRecord]:
    """The messages to train on: all of them, except that a repaired `files` run becomes one answer:
    its last answer when that holds the whole app, else the first answer with the files the repair
    rewrote put in (a repair answers with the failing files only: agent/repair.py)."""
    msgs = traj.messages
    answers = [i for i, m in enumerate(msgs) if m.role == "assistant"]
    if traj.protocol != "files" or len(answers) < 2:
        return list(msgs)
    paths = {f.path for f in parse_reply(msgs[answers[-1]].content).files}
    if not paths or {"app.json", "index.html"} <= paths:  # the last answer is the whole answer
        return [msgs[0], msgs[1], msgs[answers[-1]]]
    merged = msgs[answers[0]].content
    for i in answers[1:]:
        merged = with_blocks(merged, parse_reply(msgs[i].content).files)
    return [msgs[0], msgs[1], MessageRecord(role="assistant", content=merged)]


def with_blocks(answer: str, blocks: list[FileBlock]) -> str:
    """`answer` with each block's file replaced by the block (added before the prose when new)."""
    for block in blocks:
        text = f'<file path="{block.path}">\n{block.content.strip(chr(10))}\n</file>'
        pattern = re.compile(r"""<file\s+(?:path|name)\s*=\s*["']?""" + re.escape(block.path)
                             + r"""["']?\s*>.*?(?:</file\s*>|\Z)""", re.S | re.I)
        if pattern.search(answer):
            answer = pattern.sub(lambda _: text, answer, count=1)
        else:
            closes = list(re.finditer(r"</file\s*>", answer, re.I))
            at = closes[-1].end() if closes else 0
            answer = answer[:at] + ("\n" if at else "") + text + answer[at:]
    return answer


def _key(messages: list[MessageRecord]) -> str:
    h = hashlib.sha256()
    for m in messages:
        h.update(json.dumps([m.role, m.content]).encode())
    return h.hexdigest()


def build_sft_dataset(paths: list[Path], out: Path, keep: Literal["good", "all"] = "good",
                      bank: TaskBank | None = None) -> SFTDataStats:
    from datasets import Dataset

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
            if keep == "good" and not traj.grade.get("good"):
                stats.dropped_not_good += 1
                continue
            messages = sft_messages(traj)
            if not any(m.role == "assistant" for m in messages):
                stats.dropped_not_good += 1
                continue
            stats.repaired_trimmed += len(messages) < len(traj.messages)
            key = _key(messages)
            if key in seen:
                stats.dropped_duplicate += 1
                continue
            seen.add(key)
            rows.append({"messages": [{"role": m.role, "content": m.content} for m in messages],
                         "task_id": traj.task_id, "trajectory_id": traj.id, "model": traj.model,
                         "reward": float(traj.grade.get("reward", 0.0))})
    if not rows:
        raise DataError(f"no trajectory was kept from {', '.join(map(str, paths))}: {asdict(stats)}")
    stats.rows, stats.tasks = len(rows), len({r["task_id"] for r in rows})
    if out.exists():
        shutil.rmtree(out)
    Dataset.from_list(rows).save_to_disk(str(out))
    (out / STATS).write_text(json.dumps(asdict(stats), indent=2) + "\n", encoding="utf-8")
    return stats


def read_stats(dataset_dir: Path) -> SFTDataStats | None:
    path = dataset_dir / STATS
    return SFTDataStats(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None
