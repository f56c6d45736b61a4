"""Every knob of a training run, one frozen dataclass per component, each also its YAML file.

    config = load_config(RLConfig, "examples/train/rl-tiny.yaml")   # unknown keys are errors
    config = RLConfig(model="runs/hf/qwen0.5b", out="runs/rl1", max_steps=2)
    config.to_yaml()                                                  # what was run, saved beside it

`LoraConfig` is shared by SFT and RL (a nested `lora:` mapping in either file). Each
`__post_init__` rejects a bad value or a bad combination and names the key to change;
`ConfigError` carries that message to the CLI (exit code 2). Relative paths in a YAML file
are taken as the user wrote them (relative to the working directory, as on the command line).

This module runs nothing and imports neither torch nor TRL: the trainers translate these
records into `SFTConfig` / `GRPOConfig` themselves (sft.py, rl.py), in one place each.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from appwright.agent.prompt import PromptStyle
from appwright.cluster import RayConfig

KINDS = ("build", "edit", "fix", "taste")


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message names the key."""


@dataclass(frozen=True)
class LoraConfig:
    r: int = 16  # rank of each adapter
    alpha: int = 32  # scale = alpha / r
    dropout: float = 0.05
    # Qwen2's attention and MLP projections; "all-linear" would also adapt lm_head's input side
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

    def __post_init__(self):
        if self.r < 1 or self.alpha < 1:
            raise ConfigError("lora.r and lora.alpha must be at least 1")
        if not 0 <= self.dropout < 1:
            raise ConfigError("lora.dropout must be in [0, 1)")
        if not self.target_modules:
            raise ConfigError("lora.target_modules: name at least one module, e.g. q_proj")


@dataclass(frozen=True)
class SFTRunConfig:
    # what to train
    model: str  # an HF folder (appwright models export-hf)
    dataset: str  # a chat dataset saved by `appwright data sft`
    out: str  # checkpoints, adapter/, metrics.jsonl, tensorboard/
    lora: LoraConfig = field(default_factory=LoraConfig)
    # how
    trainer: str = "trl"  # trl: TRL's SFTTrainer (a GPU); cpu: the short loop of cpu_sft.py (head on answers only)
    adapter: str | None = None  # trainer cpu: a LoRA adapter to go on training (expert iteration's next round)
    max_steps: int = -1  # -1: run num_epochs over the dataset
    num_epochs: float = 2.0
    learning_rate: float = 2e-4
    batch_size: int = 1  # sequences per device per step (each is ~3.5k tokens with the platform docs)
    gradient_accumulation_steps: int = 8
    max_length: int = 8192  # tokens; longer examples are cut at the end (their answer would be lost: keep it high)
    gradient_checkpointing: bool = False  # saves memory on a GPU, costs ~30% time
    bf16: bool = False  # trl: bf16 weights (a GPU that has it); cpu: matmuls in bf16 under autocast, weights,
    #                     gradients and optimiser in float32 (2.1 to 2.4x on these cores' AVX512-BF16)
    seed: int = 0
    # bookkeeping
    logging_steps: int = 1
    save_steps: int = 50
    save_minutes: float = 10.0  # trainer cpu: a checkpoint at least this often, whatever save_steps says
    save_total_limit: int = 3
    resume: bool = True  # continue from the newest checkpoint in `out`, if any

    def __post_init__(self):
        _positive(self, "learning_rate", "batch_size", "gradient_accumulation_steps", "max_length", "logging_steps",
                  "save_steps", "save_minutes", "save_total_limit")
        if self.trainer not in ("trl", "cpu"):
            raise ConfigError(f"trainer: trl or cpu; got {self.trainer!r}")
        if self.adapter and self.trainer != "cpu":
            raise ConfigError("adapter: only trainer cpu goes on training an adapter")
        if self.trainer == "cpu" and self.batch_size != 1:
            raise ConfigError("trainer cpu trains one example at a time: batch_size 1 "
                              "(gradient_accumulation_steps sets the examples per optimiser step)")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError("max_steps: a positive number of optimiser steps, or -1 to run num_epochs")
        if self.max_steps == -1 and self.num_epochs <= 0:
            raise ConfigError("num_epochs must be positive when max_steps is -1")


@dataclass(frozen=True)
class RLConfig:
    # what to train
    model: str  # an HF folder: the exported base, or a merged SFT model
    out: str  # checkpoints, adapter/, metrics.jsonl, rollouts.jsonl, tensorboard/, pass_rates.json
    adapter: str | None = None  # a LoRA adapter (e.g. an SFT run's out/adapter) to start from
    lora: LoraConfig = field(default_factory=LoraConfig)
    # which tasks: always the train split (dev and test are never trained on)
    kinds: tuple[str, ...] = KINDS
    limit: int | None = None  # at most this many train tasks (sorted by id, then the first N)
    task_ids: tuple[str, ...] = ()  # exactly these train tasks instead (limit and kinds then ignored)
    # GRPO
    max_steps: int = 200  # optimiser steps
    num_generations: int = 8  # completions per task (one GRPO group)
    tasks_per_step: int = 2  # distinct tasks in each generation batch (one optimiser step)
    micro_batch_size: int | None = None  # completions per forward/backward; None: num_generations
    max_completion_length: int = 2048  # new tokens per completion; a reference app is ~1.1k
    temperature: float = 0.9
    top_p: float = 1.0
    learning_rate: float = 1e-5
    beta: float = 0.0  # KL penalty to the reference model; 0 (TRL's default) needs no reference copy
    num_iterations: int = 1  # optimisation passes per generation batch (mu in the GRPO paper)
    loss_type: str = "dapo"  # TRL's default; see docs/training.md
    gradient_checkpointing: bool = False
    bf16: bool = False
    seed: int = 0
    # curriculum
    curriculum: bool = True  # favour tasks the model sometimes passes
    boost: float = 4.0  # weight of a task with pass rate strictly between 0 and 1 (others weigh 1)
    # grading
    browser: bool = True  # false: leave out ui and xss checks (faster, weaker reward)
    grade_seconds: float = 120.0  # per completion; checks after it fail with "time limit"
    # bookkeeping
    logging_steps: int = 1
    save_steps: int = 25
    save_total_limit: int = 3
    resume: bool = True  # continue from the newest checkpoint in `out`, if any
    log_completions: bool = False  # print a table of sampled completions each logging step
    # where the completions are graded: here, or on Ray workers (appwright/cluster.py, docs/scale.md)
    ray: RayConfig | None = None
    # the system prompt the completions continue: "full" (the platform reference a base model needs) or
    # "compact" (the one our model is trained and served with); none: compact with an adapter, full without
    prompt: str | None = None

    def __post_init__(self):
        _positive(self, "max_steps", "num_generations", "tasks_per_step", "max_completion_length", "learning_rate",
                  "num_iterations", "logging_steps", "save_steps", "save_total_limit", "grade_seconds", "boost")
        if self.num_generations < 2:
            raise ConfigError("num_generations must be at least 2: GRPO compares completions within a group")
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds:
            raise ConfigError(f"kinds: expected some of {', '.join(KINDS)}; got {list(self.kinds)}")
        if self.micro_batch_size is not None and (self.micro_batch_size < 1 or
                                                  self.generation_batch % self.micro_batch_size):
            raise ConfigError(f"micro_batch_size must divide tasks_per_step * num_generations ({self.generation_batch})")
        if self.limit is not None and self.limit < self.tasks_per_step:
            raise ConfigError("limit must be at least tasks_per_step")
        if self.beta < 0 or not 0 < self.top_p <= 1 or self.temperature <= 0:
            raise ConfigError("beta >= 0, 0 < top_p <= 1 and temperature > 0")
        if self.loss_type not in ("grpo", "dapo", "dr_grpo", "bnpo"):
            raise ConfigError(f"loss_type: grpo, dapo, dr_grpo or bnpo; got {self.loss_type!r}")
        if self.prompt not in (None, "full", "compact"):
            raise ConfigError(f"prompt: full or compact (or leave it out); got {self.prompt!r}")

    @property
    def prompt_style(self) -> PromptStyle:
        """The system prompt rendered for every task: `prompt`, or compact when training on from an adapter
        (`appwright data references` writes our SFT rows with it) and full for a fresh one."""
        return self.prompt or ("compact" if self.adapter else "full")  # type: ignore[return-value]

    @property
    def generation_batch(self) -> int:
        """Completions made (and graded) per optimiser step."""
        return self.tasks_per_step * self.num_generations


def _positive(config: Any, *names: str) -> None:
    for name in names:
        if getattr(config, name) <= 0:
            raise ConfigError(f"{name} must be positive; got {getattr(config, name)!r}")


C = TypeVar("C")


def from_mapping(cls: type[C], data: dict[str, Any], where: str = "config") -> C:
    """A config from plain data (a YAML mapping): unknown keys are errors, lists become tuples."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; known: {', '.join(sorted(known))}")
    values = {}
    for name, value in data.items():
        hint = hints[name]
        optional = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]  # `X | None`
        if dataclasses.is_dataclass(hint) or (optional and isinstance(value, dict)):
            value = from_mapping(hint if dataclasses.is_dataclass(hint) else optional[0], value or {},
                                 f"{where}: {name}")
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:  # a required key left out; a value the config refuses
        raise ConfigError(f"{where}: {exc}") from None


def load_config(cls: type[C], path: str | Path) -> C:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read it as YAML: {exc}") from None
    return from_mapping(cls, data, str(path))


def to_yaml(config: Any) -> str:
    """The config as YAML that `load_config` reads back into an equal config."""
    def plain(value):
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
        return list(value) if isinstance(value, tuple) else value
    return yaml.safe_dump(plain(config), sort_keys=False)
