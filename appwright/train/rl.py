"""`appwright train rl CONFIG.yaml`: GRPO inside the harness, rewards from the graders.

    appwright train rl examples/train/rl-qwen0.5b.yaml
    result = run_rl(load_config(RLConfig, path), console)

One run, top to bottom (see `run_rl`):
1. Tasks: the `train` split only (dev and test are never trained on; `train_tasks` refuses
   others), filtered by kind, limit or ids. Each becomes one prompt: the harness's first
   `files` step for it (rollout.render_prompt), with the system prompt of `prompt`: compact
   when going on from an adapter (our SFT rows carry it), full for a fresh one.
2. Model: the HF folder, plus a new LoRA adapter or an existing one (e.g. SFT's) to continue.
3. TRL's GRPOTrainer generates `num_generations` completions per task; `HarnessReward` writes
   each into a fresh workspace through the agent's tools and grades it (rollout.py). The
   reward is the graders' reward in [0, 1]; TRL normalises it within each group.
4. Which tasks come next: `CurriculumSampler` (curriculum.py) over the pass rates so far.
5. Every `save_steps`: a checkpoint (adapter, optimiser, RNG, pass_rates.json); a rerun with
   `resume: true` continues from the newest. Every step: metrics.jsonl and TensorBoard
   (metrics.py), every completion: rollouts.jsonl.
6. At the end: out/adapter (the LoRA weights and tokenizer) and out/run.json.

The only subclass of a TRL class here is `HarnessGRPOTrainer`, and it replaces only the
sampler (TRL has no argument for one). With `ray:` in the config, the completions of each
batch are graded in parallel on Ray workers (cluster.RayScorer), in order, so the rewards and
rollouts.jsonl are the same. Under `accelerate launch` (DDP, scripts/gpu_train.sh with GPUS=N)
each process grades its share of a batch and the outcomes are gathered, so every process keeps
the same pass rates (the curriculum must deal each process the same sequence) and rank 0
writes rollouts.jsonl, the adapter and run.json. With several processes, `ray:` must name a
cluster (each process connects to it), not `local`. Not done: vLLM generation, the
multi-turn `tools` protocol.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console

from appwright.tasks.bank import TaskBank
from appwright.tasks.graders import Grader
from appwright.tasks.model import Task
from appwright.train.config import RLConfig, to_yaml
from appwright.train.curriculum import PASS_RATES, CurriculumSampler, PassRates
from appwright.train.hf import read_source
from appwright.train.records import ADAPTER, RunRecord, run_of_adapter, write_run
from appwright.train.rollout import HarnessScorer, Rollout, render_prompt

ROLLOUTS = "rollouts.jsonl"


class TrainError(RuntimeError):
    """A training run that cannot start or go on; the message says what to change."""


def train_tasks(config: RLConfig, bank: TaskBank | None = None) -> list[Task]:
    """The tasks a run practises: train split only, sorted by id."""
    bank = bank or TaskBank.default()
    if config.task_ids:
        tasks = [bank.get(i) for i in config.task_ids]
        held_out = [t.id for t in tasks if t.split != "train"]
        if held_out:
            raise TrainError(f"task_ids: {', '.join(held_out)} are not train tasks; dev and test are never trained on")
    else:
        tasks = sorted((t for t in bank.select(split="train") if t.kind in config.kinds), key=lambda t: t.id)
        tasks = tasks[: config.limit] if config.limit else tasks
    if len(tasks) < config.tasks_per_step:
        raise TrainError(f"{len(tasks)} train tasks selected; tasks_per_step is {config.tasks_per_step}")
    return tasks


class HarnessReward:
    """The reward function GRPOTrainer calls with each generation batch; one Rollout per completion."""

    def __init__(self, tasks: list[Task], scorer: HarnessScorer, rates: PassRates, rollouts: Path):
        self.__name__ = "harness"  # TRL logs rewards/harness/mean
        self.tasks = {t.id: t for t in tasks}
        self.scorer, self.rates, self.rollouts = scorer, rates, rollouts

    def __call__(self, prompts, completions, task_id, trainer_state=None, log_metric=None, **_) -> list[float]:
        step = trainer_state.global_step if trainer_state is not None else 0
        done = self.scorer.score_all([(self.tasks[t], c) for c, t in zip(completions, task_id, strict=True)], step)
        every = _from_every_process(done)  # under DDP each process grades its share; the rates need all
        for r in every:
            self.rates.add(r.task_id, r.good)
        if _rank() == 0:
            self._append(every)
        if log_metric is not None:
            n = len(done)
            log_metric("harness/good_rate", sum(r.good for r in done) / n)
            log_metric("harness/files_written", sum(len(r.files) for r in done) / n)
            log_metric("harness/refused_writes", sum(len(r.refused) for r in done) / n)
            log_metric("harness/unparsed_rate", sum(not r.files for r in done) / n)
            log_metric("harness/grade_seconds", sum(r.grade_seconds for r in done) / n)
            between = sum(1 for t in self.rates.tried if 0 < (self.rates.rate(t) or 0) < 1)
            log_metric("curriculum/tasks_sometimes_passed", float(between))
        return [r.reward for r in done]

    def _append(self, done: list[Rollout]) -> None:
        self.rollouts.parent.mkdir(parents=True, exist_ok=True)
        with open(self.rollouts, "a", encoding="utf-8") as f:
            f.write("".join(json.dumps(asdict(r)) + "\n" for r in done))


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _from_every_process(items: list) -> list:
    """Under DDP (`accelerate launch`), every process's items in rank order, so that each process
    keeps the same pass rates and the curriculum deals every process the same tasks; alone, `items`."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return items
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, items)
    return [x for part in parts for x in part]


def _trainer_class():
    from transformers import TrainerCallback
    from trl import GRPOTrainer

    class HarnessGRPOTrainer(GRPOTrainer):
        """GRPOTrainer with the curriculum sampler; nothing else changed."""

        def __init__(self, *args, task_ids: list[str], rates: PassRates, run: RLConfig, **kwargs):
            self._curriculum = (task_ids, rates, run)
            super().__init__(*args, **kwargs)

        def _get_train_sampler(self, dataset=None):
            task_ids, rates, run = self._curriculum
            return CurriculumSampler(task_ids, rates, mini_repeat_count=self.num_generations,
                                     batch_size=self.args.generation_batch_size // self.num_generations,
                                     repeat_count=self.num_iterations * self.args.steps_per_generation,
                                     boost=run.boost, seed=run.seed, enabled=run.curriculum)

    class SavePassRates(TrainerCallback):
        def __init__(self, rates: PassRates):
            self.rates = rates

        def on_save(self, args, state, control, **kwargs):
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir() and state.is_world_process_zero:
                self.rates.save(folder / PASS_RATES)

    return HarnessGRPOTrainer, SavePassRates


def grpo_args(config: RLConfig):
    """RLConfig -> TRL's GRPOConfig, in this one place."""
    from trl import GRPOConfig

    micro = config.micro_batch_size or config.num_generations
    return GRPOConfig(
        output_dir=config.out, max_steps=config.max_steps, seed=config.seed,
        learning_rate=config.learning_rate, bf16=config.bf16, gradient_checkpointing=config.gradient_checkpointing,
        # one optimiser step = one generation batch of tasks_per_step groups
        per_device_train_batch_size=micro, gradient_accumulation_steps=config.generation_batch // micro,
        steps_per_generation=config.generation_batch // micro,
        num_generations=config.num_generations, max_completion_length=config.max_completion_length,
        temperature=config.temperature, top_p=config.top_p, beta=config.beta, num_iterations=config.num_iterations,
        loss_type=config.loss_type,
        logging_steps=config.logging_steps, save_steps=config.save_steps, save_total_limit=config.save_total_limit,
        save_strategy="steps", report_to="none", log_completions=config.log_completions,
        dataloader_num_workers=0,  # the curriculum reads pass rates the reward function updates in this process
    )


def last_checkpoint(out: Path) -> Path | None:
    from transformers.trainer_utils import get_last_checkpoint

    found = get_last_checkpoint(str(out)) if out.is_dir() else None
    return Path(found) if found else None


def run_rl(config: RLConfig, console: Console | None = None, rollout_func=None) -> RunRecord:
    """`rollout_func`: TRL's seam for making completions some other way than `model.generate`
    (tests replay known answers through it); None: TRL generates."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from appwright.train.metrics import metrics_callbacks

    console = console or Console(stderr=True)
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    started = time.monotonic()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    main = _rank() == 0  # under DDP, one process writes the run's files
    if main:
        (out / "config.yaml").write_text(to_yaml(config), encoding="utf-8")

    # 1. Tasks -> prompts, exactly as the harness sends them.
    tasks = train_tasks(config)
    tokenizer = AutoTokenizer.from_pretrained(config.model)
    tokenizer.padding_side = "left"
    dataset = Dataset.from_list([{"prompt": render_prompt(tokenizer, t, config.prompt_style), "task_id": t.id}
                                 for t in tasks])
    console.print(f"{len(tasks)} train tasks; {config.generation_batch} completions per step; the "
                  f"{config.prompt_style} system prompt", highlight=False)

    # 2. Model and adapter.
    dtype = torch.bfloat16 if config.bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained(config.model, dtype=dtype)
    peft_config = None
    if config.adapter:
        model = PeftModel.from_pretrained(model, config.adapter, is_trainable=True)
    else:
        lora = config.lora
        peft_config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                 target_modules=list(lora.target_modules), task_type="CAUSAL_LM")

    # 3-5. Trainer, reward, curriculum, checkpoints.
    resume = last_checkpoint(out) if config.resume else None
    rates = PassRates.load(resume / PASS_RATES) if resume and (resume / PASS_RATES).is_file() else PassRates()
    trainer_cls, save_rates = _trainer_class()
    with contextlib.ExitStack() as stack:
        if config.ray is None:
            grader = stack.enter_context(Grader(max_seconds=config.grade_seconds))
            work = stack.enter_context(tempfile.TemporaryDirectory(prefix="aw-rollouts-"))
            scorer = HarnessScorer(grader, Path(work), browser=config.browser)
        else:  # the completions graded on Ray workers, a batch at a time
            from appwright.cluster import RayScorer, connect

            stack.enter_context(connect(config.ray))
            scorer = RayScorer(config.ray, browser=config.browser, grade_seconds=config.grade_seconds)
            stack.callback(scorer.close)
        reward = HarnessReward(tasks, scorer, rates, out / ROLLOUTS)
        trainer = trainer_cls(model=model, reward_funcs=[reward], args=grpo_args(config), train_dataset=dataset,
                              processing_class=tokenizer, peft_config=peft_config, rollout_func=rollout_func,
                              callbacks=[*metrics_callbacks(out), save_rates(rates)],
                              task_ids=[t.id for t in tasks], rates=rates, run=config)
        if resume:
            console.print(f"resuming from {resume}", highlight=False)
        result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)

    # 6. The adapter and the record of the run.
    trainer.save_model(str(out / ADAPTER))  # the main process only (TrainingArguments.should_save)
    if main:
        tokenizer.save_pretrained(str(out / ADAPTER))
        rates.save(out / PASS_RATES)
    source = read_source(Path(config.model))
    before = run_of_adapter(Path(config.adapter)) if config.adapter else None
    record = RunRecord(format=1, kind="rl", model=config.model, base=before.base if before else
                       (source.base if source else config.model), steps=trainer.state.global_step,
                       data=f"{len(tasks)} train tasks ({', '.join(config.kinds)})", adapter=str(out / ADAPTER),
                       started_from=config.adapter, previous=[before] if before else [], config=to_yaml(config),
                       seconds=round(time.monotonic() - started, 1),
                       final_metrics={k: float(v) for k, v in result.metrics.items() if isinstance(v, (int, float))})
    if main:
        write_run(out, record)
    return record
