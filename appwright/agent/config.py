"""The harness's one config record: how the agent runs one request, with the defaults every
caller takes (`appwright new`/`edit`, `appwright eval run`, the studio, `appwright data sample`).

    config = HarnessConfig()                                  # the defaults
    config = HarnessConfig(budget=Budget(max_steps=2), temperature=0.7)
    run_agent(prompt, folder, backend, config.protocol, config.budget, config=config.generation())

CLI options and the studio's settings read their defaults from `HarnessConfig()` and
`Budget()`; no other module repeats these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from appwright.models.base import GenerationConfig

Protocol = Literal["files", "tools"]
PROTOCOLS: tuple[Protocol, ...] = ("files", "tools")


@dataclass(frozen=True)
class Budget:
    max_steps: int = 4  # completions (model calls)
    max_tokens: int = 60_000  # prompt + completion tokens over the whole run
    max_seconds: float = 900.0  # wall clock, checked between steps

    def __post_init__(self):
        if self.max_steps < 1 or self.max_tokens < 1 or self.max_seconds <= 0:
            raise ValueError("Budget: max_steps, max_tokens and max_seconds must be positive")


@dataclass(frozen=True)
class HarnessConfig:
    protocol: Protocol = "files"  # files: one answer with every file; tools: one tool call per step
    budget: Budget = field(default_factory=Budget)
    temperature: float = 0.2
    seed: int | None = None  # sampling seed, for a repeatable run

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol: expected files or tools; got {self.protocol!r}")

    def generation(self) -> GenerationConfig:
        return GenerationConfig(temperature=self.temperature, seed=self.seed)
