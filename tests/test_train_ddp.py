"""Training on several GPUs, checked without one (issue 20): the accelerate config that
scripts/gpu_train.sh launches with loads as DDP on every GPU of one machine.

Not here yet: a 2-process CPU DDP step. accelerate 1.15 launched two processes with this
config and `use_cpu: true` (RANK 0 and 1 of WORLD_SIZE 2), but its state in each reported no
distribution (DistributedType.NO), so each trained alone; MULTI_CPU launched one process."""

from __future__ import annotations



from conftest import ROOT

CONFIG = ROOT / "examples" / "train" / "accelerate-ddp.yaml"


def test_the_accelerate_config_is_ddp_on_every_gpu_of_one_machine():
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CONFIG))
    assert str(config.distributed_type).endswith("MULTI_GPU") and config.num_machines == 1
    assert config.gpu_ids == "all" and str(config.mixed_precision).endswith("bf16") and not config.use_cpu
    script = (ROOT / "scripts" / "gpu_train.sh").read_text()
    assert "--config_file examples/train/accelerate-ddp.yaml --num_processes \"$GPUS\"" in script
