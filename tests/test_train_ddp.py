"""Training on several GPUs, checked without one (issue 20): the accelerate config that
scripts/gpu_train.sh launches with loads as DDP, and a 2-process CPU DDP run (gloo) of the tiny
model takes one SFT step through the same `accelerate launch ... appwright train sft`, with one
process writing.

On the CPU, accelerate 1.15 needs ACCELERATE_USE_CPU=true in the environment: its multi-process
launcher (the one DDP on GPUs uses) does not pass `use_cpu` on, so without it the trainer's
state in each process says there is no distribution and each trains alone; and its MULTI_CPU
type launches one process unless MPI is installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from appwright.tasks.bank import TaskBank
from appwright.train.references import reference_row, write_reference_dataset
from conftest import ROOT, free_port

CONFIG = ROOT / "examples" / "train" / "accelerate-ddp.yaml"
BIN = Path(sys.executable).parent


def test_the_accelerate_config_is_ddp_on_every_gpu_of_one_machine():
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CONFIG))
    assert str(config.distributed_type).endswith("MULTI_GPU") and config.num_machines == 1
    assert config.gpu_ids == "all" and str(config.mixed_precision).endswith("bf16") and not config.use_cpu
    script = (ROOT / "scripts" / "gpu_train.sh").read_text()
    assert "--config_file examples/train/accelerate-ddp.yaml --num_processes \"$GPUS\"" in script


@pytest.mark.slow  # two training processes of the tiny model
@pytest.mark.timeout(300)
def test_two_cpu_processes_take_one_ddp_step_and_one_writes(tiny, tmp_path):
    # Two rows as `appwright data references` writes them (the compact prompt, ~1k tokens each):
    # what is checked is the DDP step, and a step on a 152k vocabulary costs time per token.
    tasks = sorted((t for t in TaskBank.default().select(split="train") if t.kind == "build" and t.domain),
                   key=lambda t: t.id)[:2]
    assert write_reference_dataset([reference_row(t) for t in tasks], tmp_path / "data").rows == 2
    (tmp_path / "sft.yaml").write_text(yaml.safe_dump({
        "model": str(tiny), "dataset": str(tmp_path / "data"), "out": str(tmp_path / "run"), "max_steps": 1,
        "batch_size": 1, "gradient_accumulation_steps": 1, "learning_rate": 1e-2, "save_steps": 1}))
    cpu = {**yaml.safe_load(CONFIG.read_text()), "use_cpu": True, "num_processes": 2, "mixed_precision": "no",
           "gpu_ids": None, "main_process_port": free_port()}
    (tmp_path / "cpu.yaml").write_text(yaml.safe_dump(cpu))
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    r = subprocess.run([str(BIN / "accelerate"), "launch", "--config_file", str(tmp_path / "cpu.yaml"),
                        str(BIN / "appwright"), "train", "sft", str(tmp_path / "sft.yaml")],
                       capture_output=True, text=True, timeout=280, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["steps"] == 1 and (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [x for x in rows if "loss" in x]
    # one row for the one step (one writer), and that step saw both rows, one per process: a whole epoch
    assert len(losses) == 1 and losses[0]["step"] == 1 and losses[0]["epoch"] == pytest.approx(1.0)
