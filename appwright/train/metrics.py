"""Per-step training metrics: one JSON line per logging step, and the same scalars in TensorBoard.

    callbacks = metrics_callbacks(Path("runs/rl1"))    # -> metrics.jsonl, tensorboard/
    for row in read_metrics(Path("runs/rl1/metrics.jsonl")): row["step"], row["reward"]

Whatever the trainer logs goes through unchanged (TRL's names: `reward`, `reward_std`,
`completions/mean_length`, `kl`, `entropy`, ... and ours, `harness/good_rate` and friends,
see docs/training.md for the glossary), with `format`, `step`, `epoch` and `time` added.
A resumed run appends to the same file, so a step may appear twice (the later line wins).

Not done: no schema for the metric names (they are TRL's, and change with its versions).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from transformers import TrainerCallback

METRICS = "metrics.jsonl"
TENSORBOARD = "tensorboard"


class MetricsLog(TrainerCallback):
    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        append_row(self.path, {"format": 1, "step": state.global_step, "epoch": state.epoch,
                               "time": round(time.time(), 3),
                               **{k: v for k, v in logs.items() if isinstance(v, (int, float, str)) or v is None}})


def append_row(path: Path, row: dict) -> None:
    """One metrics line, on disk before this returns (the CPU SFT loop writes its own)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def metrics_callbacks(out: Path) -> list[TrainerCallback]:
    """The JSONL log and a TensorBoard writer under `out/tensorboard` (trainers get report_to='none')."""
    from torch.utils.tensorboard import SummaryWriter
    from transformers.integrations import TensorBoardCallback

    return [MetricsLog(out / METRICS), TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(out / TENSORBOARD)))]


def read_metrics(path: Path) -> list[dict]:
    """The rows of metrics.jsonl, a step logged twice (a resumed run) kept once: the later line."""
    rows: dict[tuple, dict] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                rows[(row["step"], "train_runtime" in row)] = row
    return [rows[k] for k in sorted(rows)]
