"""Which tasks GRPO practises next: favour the ones the model sometimes passes.

    rates = PassRates()
    rates.add("build-notes-owner", good=True)
    sampler = CurriculumSampler(task_ids, rates, mini_repeat_count=8, batch_size=2, repeat_count=1)

A GRPO group whose completions all score the same has zero advantage and teaches nothing;
a task the model passes sometimes (0 < pass rate < 1) is where the gradient is. So each
generation batch draws `batch_size` distinct tasks, without replacement, with weight `boost`
for a task whose rate is strictly between 0 and 1 and 1 for the rest (never tried, always
failed, always passed: they still come up, so a rate can move). Weights are read when a
batch is drawn, so the rates of the batches just graded count.

The sampler yields indices in the layout TRL's `RepeatSampler` does (each index
`mini_repeat_count` times in a row, each batch `repeat_count` times), so GRPOTrainer's
grouping is unchanged. `PassRates` is saved in every checkpoint (pass_rates.json) and read
back on resume.

Not done: no decay of old results (a rate is over the whole run); "good" is the graders'
verdict, not a reward threshold.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from torch.utils.data import Sampler

PASS_RATES = "pass_rates.json"


@dataclass
class PassRates:
    tried: dict[str, int] = field(default_factory=dict)
    passed: dict[str, int] = field(default_factory=dict)

    def add(self, task_id: str, good: bool) -> None:
        self.tried[task_id] = self.tried.get(task_id, 0) + 1
        self.passed[task_id] = self.passed.get(task_id, 0) + int(good)

    def rate(self, task_id: str) -> float | None:
        n = self.tried.get(task_id, 0)
        return self.passed.get(task_id, 0) / n if n else None

    def weight(self, task_id: str, boost: float) -> float:
        r = self.rate(task_id)
        return boost if r is not None and 0 < r < 1 else 1.0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"format": 1, "tried": self.tried, "passed": self.passed}, indent=1,
                                   sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "PassRates":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(tried=dict(data["tried"]), passed=dict(data["passed"]))


class CurriculumSampler(Sampler[int]):
    def __init__(self, task_ids: list[str], rates: PassRates, mini_repeat_count: int, batch_size: int,
                 repeat_count: int = 1, boost: float = 4.0, seed: int = 0, enabled: bool = True):
        if batch_size > len(task_ids):
            raise ValueError(f"{batch_size} tasks per batch, but only {len(task_ids)} tasks")
        self.task_ids, self.rates = task_ids, rates
        self.mini_repeat_count, self.batch_size, self.repeat_count = mini_repeat_count, batch_size, repeat_count
        self.boost = boost if enabled else 1.0
        self.seed = seed
        self.epoch = 0

    def weights(self) -> list[float]:
        return [self.rates.weight(t, self.boost) for t in self.task_ids]

    def draw(self, rng: random.Random) -> list[int]:
        """`batch_size` distinct indices, each drawn in proportion to its weight among those left."""
        pool, weights, chosen = list(range(len(self.task_ids))), self.weights(), []
        for _ in range(self.batch_size):
            i = rng.choices(range(len(pool)), weights=[weights[j] for j in pool])[0]
            chosen.append(pool.pop(i))
        return chosen

    def __iter__(self):
        rng = random.Random(self.seed * 1_000_003 + self.epoch)
        self.epoch += 1
        for _ in range(len(self.task_ids) // self.batch_size):
            chunk = self.draw(rng)  # read the rates now: the batches before this one are graded
            for _ in range(self.repeat_count):
                for index in chunk:
                    for _ in range(self.mini_repeat_count):
                        yield index

    def __len__(self) -> int:
        return (len(self.task_ids) // self.batch_size) * self.batch_size * self.mini_repeat_count * self.repeat_count
