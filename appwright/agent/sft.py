"""Trajectories -> SFT chat rows, and the one writer of an SFT dataset on disk.

    rows = [sft_row(messages, task_id, traj.id, traj.model, reward)]   # messages: [{"role", "content"}]
    write_sft_dataset(rows, stats, Path("data/sft"))                     # replaces data/sft
    stats = read_stats(Path("data/sft"))

Both makers of SFT data use it: `appwright data sft` (train/data.py, trajectories of train
tasks) and `appwright data export --sft` (studio/export.py, accepted turns of the studio's
log). What it writes, the same for both: an HF `datasets` dataset (save_to_disk), one row a
trajectory with `messages` (role, content), `task_id`, `trajectory_id`, `model`, `reward`,
and beside it `appwright.json`, the `SFTDataStats` of the export (`appwright train sft`
reads it back with `read_stats`).

Does not: choose which trajectories to keep (each maker has its own rules and counts its
own drops), or import `datasets` before a dataset is written.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from appwright.agent.parse import FileBlock, parse_reply
from appwright.agent.trajectory import MessageRecord, Trajectory

STATS = "appwright.json"


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


def message_key(messages: list[dict]) -> str:
    """A hash of the messages' roles and contents: two rows with the same key are duplicates."""
    h = hashlib.sha256()
    for m in messages:
        h.update(json.dumps([m["role"], m["content"]]).encode())
    return h.hexdigest()


def sft_row(messages: list[dict], task_id: str | None, trajectory_id: str, model: str, reward: float) -> dict:
    """One dataset row; `messages` are {"role", "content"} dicts (JSON at the edge)."""
    return {"messages": messages, "task_id": task_id, "trajectory_id": trajectory_id, "model": model,
            "reward": float(reward)}


def write_sft_dataset(rows: list[dict], stats: SFTDataStats, out: Path) -> None:
    """Replace `out` with the rows as a dataset (save_to_disk) and the stats beside them."""
    from datasets import Dataset  # heavy; only a writer needs it

    if out.exists():
        shutil.rmtree(out)
    Dataset.from_list(rows).save_to_disk(str(out))
    (out / STATS).write_text(json.dumps(asdict(stats), indent=2) + "\n", encoding="utf-8")


def read_stats(dataset_dir: Path) -> SFTDataStats | None:
    path = dataset_dir / STATS
    return SFTDataStats(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


__all__ = ["STATS", "SFTDataStats", "message_key", "read_stats", "sft_messages", "sft_row", "with_blocks",
           "write_sft_dataset"]
