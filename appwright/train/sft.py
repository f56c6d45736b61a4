"""`appwright train sft CONFIG.yaml`: supervised fine-tuning on accepted trajectories, LoRA,
loss on the assistant's tokens only.

    appwright data sft data/good.jsonl --out data/sft
    appwright train sft examples/train/sft-qwen0.5b.yaml
    record = run_sft(load_config(SFTRunConfig, path))

One run, top to bottom:
1. The dataset (`appwright data sft`): `messages` as the harness sent and received them.
   Its rows are checked against the task bank again here: a row whose task is not in the
   train split stops the run (dev and test are never trained on, whoever built the data).
2. TRL's SFTTrainer with `assistant_only_loss=True`: TRL swaps in its Qwen2.5 training chat
   template (the same text, with `{% generation %}` markers) so only assistant tokens,
   `<|im_end|>` included, carry loss. A new LoRA adapter (PEFT) on the HF folder.
3. Checkpoints every `save_steps`, resume from the newest when `resume: true`; metrics.jsonl
   and TensorBoard every `logging_steps` (loss, mean_token_accuracy, entropy, num_tokens).
4. out/adapter (LoRA + tokenizer) and out/run.json, which `train rl` (adapter:) and
   `models export` read.

Not done: packing (each trajectory is ~3.5k tokens with the platform docs; packing would
mix them across the attention boundary without flash attention), evaluation during training
(run `appwright eval run` on the exported model instead).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from appwright.tasks.bank import TaskBank
from appwright.train.config import SFTRunConfig, to_yaml
from appwright.train.data import read_stats
from appwright.train.hf import read_source
from appwright.train.records import ADAPTER, RunRecord, run_of_adapter, write_run
from appwright.train.rl import TrainError, last_checkpoint


STUDIO_PREFIX = "studio:"


def check_splits(task_ids: list[str], bank: TaskBank | None = None) -> None:
    """Raise when any row's task is not a train task. Rows of studio turns (`studio:turn-N`,
    from `appwright data export --sft`) are people's own requests, not bank tasks; the
    export already leaves out any turn whose prompt is a dev or test task's prompt."""
    bank = bank or TaskBank.default()
    split_of = {t.id: t.split for t in bank.tasks}
    bad = sorted({t for t in task_ids if split_of.get(t) != "train" and not t.startswith(STUDIO_PREFIX)})
    if bad:
        raise TrainError(f"the dataset holds rows of tasks outside the train split: {', '.join(bad[:5])}; "
                         "rebuild it with `appwright data sft`")


def sft_args(config: SFTRunConfig):
    """SFTRunConfig -> TRL's SFTConfig, in this one place."""
    from trl import SFTConfig

    return SFTConfig(
        output_dir=config.out, max_steps=config.max_steps, num_train_epochs=config.num_epochs, seed=config.seed,
        learning_rate=config.learning_rate, per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps, max_length=config.max_length,
        assistant_only_loss=True, packing=False, bf16=config.bf16,
        gradient_checkpointing=config.gradient_checkpointing,
        logging_steps=config.logging_steps, save_steps=config.save_steps, save_total_limit=config.save_total_limit,
        save_strategy="steps", report_to="none", dataset_num_proc=None,
    )


def run_sft(config: SFTRunConfig, console: Console | None = None) -> RunRecord:
    if config.trainer == "cpu":
        from appwright.train.cpu_sft import run_cpu_sft

        return run_cpu_sft(config, console)
    import torch
    from datasets import load_from_disk
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    from appwright.train.metrics import metrics_callbacks

    console = console or Console(stderr=True)
    started = time.monotonic()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    main = int(os.environ.get("RANK", "0")) == 0  # under `accelerate launch` (DDP), one process writes files
    if main:
        (out / "config.yaml").write_text(to_yaml(config), encoding="utf-8")

    # 1. The data, held to the train split.
    dataset = load_from_disk(config.dataset)
    if "messages" not in dataset.column_names:
        raise TrainError(f"{config.dataset}: no `messages` column; build it with `appwright data sft`")
    check_splits(list(dataset["task_id"]))
    dataset = dataset.select_columns(["messages"])

    # 2. Model, tokenizer, adapter.
    tokenizer = AutoTokenizer.from_pretrained(config.model)
    model = AutoModelForCausalLM.from_pretrained(config.model,
                                                 dtype=torch.bfloat16 if config.bf16 else torch.float32)
    lora = config.lora
    peft_config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                             target_modules=list(lora.target_modules), task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=sft_args(config), train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config, callbacks=metrics_callbacks(out))

    # 3. Train, resuming when asked.
    resume = last_checkpoint(out) if config.resume else None
    if resume:
        console.print(f"resuming from {resume}", highlight=False)
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)

    # 4. Adapter and record.
    return finish(config, trainer.model, tokenizer, out, steps=trainer.state.global_step, rows=len(dataset),
                  seconds=time.monotonic() - started, metrics=result.metrics,
                  write=trainer.accelerator.is_main_process)


def finish(config: SFTRunConfig, model, tokenizer, out: Path, steps: int, rows: int, seconds: float,
           metrics: dict, write: bool = True) -> RunRecord:
    """out/adapter (LoRA + tokenizer) and out/run.json: the end of either trainer (`write`: this
    process is the one that writes, under DDP)."""
    if write:
        model.save_pretrained(str(out / ADAPTER))
        tokenizer.save_pretrained(str(out / ADAPTER))
    source, stats = read_source(Path(config.model)), read_stats(Path(config.dataset))
    data = f"{config.dataset}: {rows} rows" + (f" of {stats.tasks} train tasks" if stats else "")
    before = run_of_adapter(Path(config.adapter)) if config.adapter else None
    record = RunRecord(format=1, kind="sft", model=config.model, base=source.base if source else config.model,
                       steps=steps, data=data, adapter=str(out / ADAPTER), config=to_yaml(config),
                       started_from=config.adapter, previous=[*before.previous, replace(before, previous=[])] if before else [],
                       seconds=round(seconds, 1),
                       final_metrics={k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))})
    if write:
        write_run(out, record)
    return record
