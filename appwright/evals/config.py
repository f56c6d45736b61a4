"""`EvalConfig`: every knob of an eval run in one place, validated once.

    config = EvalConfig(models=("qwen2.5-coder-0.5b",), split="dev", out=Path("runs/e1"), limit=40)

`__post_init__` rejects bad values with a message that names the flag to change; the CLI
turns that message into exit code 2. Model names are checked against the registry by
`resolve_models` (it reads the user's models.toml, so it is not done at construction).
This module runs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from appwright.agent.config import PROTOCOLS, Budget, HarnessConfig
from appwright.cluster import RayConfig
from appwright.gateway.config import AUTO  # the cascade's column (evals/cascade.py)
from appwright.models import ModelSpec, get_model
from appwright.tasks.model import SPLITS

KINDS = ("build", "edit", "fix", "taste")
# Backends that may serve several agent threads at once. llama.cpp and transformers hold one
# model instance per process (a lock serialises callers); scripted replays replies in order,
# so threads would shuffle which task gets which reply.
PARALLEL_BACKENDS = ("openai",)
_DEFAULTS = HarnessConfig()  # the agent's defaults, as `appwright new` runs it


@dataclass(frozen=True)
class EvalConfig:
    # what to run
    models: tuple[str, ...]  # registry names, and `auto` (evals/cascade.py), in report order
    split: str
    out: Path  # results.jsonl, trajectories.jsonl, bundles/, metrics.json, report.html
    kinds: tuple[str, ...] = KINDS
    limit: int | None = None  # at most this many tasks, spread over kinds and domains (select.py)
    samples: int = 1  # attempts per task and model; pass@k uses k = samples
    # how fast
    workers: int = 1  # grading threads, one Grader (one Chromium) each
    backend_workers: int = 1  # agent threads per model, where the backend allows it (PARALLEL_BACKENDS)
    # the agent, as `appwright new` runs it
    protocol: str = _DEFAULTS.protocol
    budget: Budget = field(default_factory=Budget)
    temperature: float = _DEFAULTS.temperature
    seed: int | None = None  # sample i uses seed + i; None: a fresh random seed per attempt
    grade_seconds: float = 120.0  # a grade's remaining checks fail after this long
    ray: RayConfig | None = None  # None: local threads (Ray is not imported); appwright/cluster.py

    def __post_init__(self):
        if not self.models or any(not m.strip() for m in self.models):
            raise ValueError("--models: give one or more registry names, comma-separated (appwright models list)")
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"--models: a model is named twice in {','.join(self.models)}")
        if self.split not in SPLITS:
            raise ValueError(f"--split: expected {', '.join(SPLITS)}; got {self.split!r}")
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds:
            raise ValueError(f"--kinds: expected some of {','.join(KINDS)}; got {','.join(self.kinds) or 'none'}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit: must be at least 1 (leave it out for every task); got {self.limit}")
        for name, value in (("--samples", self.samples), ("--workers", self.workers),
                            ("--backend-workers", self.backend_workers)):
            if value < 1:
                raise ValueError(f"{name}: must be at least 1; got {value}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"--protocol: expected files or tools; got {self.protocol!r}")
        if not 0 <= self.temperature <= 2:
            raise ValueError(f"--temperature: expected 0 to 2; got {self.temperature}")
        if self.grade_seconds <= 0:
            raise ValueError("grade_seconds must be positive")

    def harness(self, sample: int) -> HarnessConfig:
        """The agent's settings for sample `sample` (its seed: seed + sample)."""
        return HarnessConfig(protocol=self.protocol, budget=self.budget, temperature=self.temperature,  # type: ignore[arg-type]
                             seed=self.seed + sample if self.seed is not None else None)

    def agent_threads(self, spec: ModelSpec) -> int:
        """How many agent threads `spec` gets: backend_workers, or 1 where the backend cannot share."""
        return self.backend_workers if spec.backend in PARALLEL_BACKENDS else 1


def resolve_models(config: EvalConfig) -> dict[str, ModelSpec]:
    """Each named model's registry entry (`auto` is not one); a ModelError names an unknown one and
    the known names."""
    return {name: get_model(name) for name in config.models if name != AUTO}


def resolve_ladder(config: EvalConfig) -> tuple[list[ModelSpec], dict[str, str]]:
    """`auto`'s rungs, cheapest first, and the remote keys (gateway/apps.py `cli_ladder`); empty
    without `auto` in the run. A ModelError when it has no model to climb."""
    if AUTO not in config.models:
        return [], {}
    from appwright.gateway.apps import cli_ladder

    return cli_ladder("")
