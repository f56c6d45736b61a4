"""What a training run leaves behind for the next stage: `run.json` in its output folder.

    write_run(out, RunRecord(kind="rl", model=..., steps=200, data="train tasks: 40", ...))
    read_run(Path("runs/rl1"))   # -> RunRecord | None

`appwright models export` reads it to name the base model, the data and the steps in the
registry entry; `appwright train rl` reads an SFT run's record when it starts from its adapter.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

RUN_FILE = "run.json"
ADAPTER = "adapter"  # the final LoRA adapter, under the run's output folder


@dataclass(frozen=True)
class RunRecord:
    format: int
    kind: Literal["sft", "rl"]
    model: str  # the HF folder trained on (the base of the adapter)
    base: str  # the registry model it all started from (appwright.json of the HF folder)
    steps: int  # optimiser steps done in this run
    data: str  # what it trained on, in words: a dataset path and row count, or the task count
    adapter: str  # the final adapter folder
    started_from: str | None = None  # an earlier run's adapter this one continued
    previous: list["RunRecord"] = field(default_factory=list)  # the runs before it (SFT before RL)
    config: str = ""  # the YAML that was run
    seconds: float = 0.0
    final_metrics: dict[str, float] = field(default_factory=dict)


def write_run(out: Path, record: RunRecord) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_FILE).write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")


def _record(data: dict) -> RunRecord:
    return RunRecord(**{**data, "previous": [_record(p) for p in data.get("previous", [])]})


def read_run(folder: Path) -> RunRecord | None:
    path = folder / RUN_FILE
    return _record(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def run_of_adapter(adapter: Path) -> RunRecord | None:
    """The run that wrote `adapter` (RUN/adapter or RUN/checkpoint-N), if it left a record."""
    return read_run(adapter.parent)
