"""GRPO speed on this machine: rollouts per minute and generated tokens per second of one step.

    .venv/bin/python benchmarks/train.py                    # the tiny CI model, two shapes
    .venv/bin/python benchmarks/train.py --model runs/hf/qwen0.5b --generations 4 --tokens 256

Each row is one `appwright train rl` step from a fresh LoRA adapter (TRL generating with
transformers, the harness reward with `browser=False` unless --browser), timed by TRL's
`step_time`. Columns: completions per step, mean completion length, step seconds, rollouts
per minute (completions made, graded and trained on), generated tokens per second (over the
whole step, so training and grading are in the denominator), seconds of grading per
completion. The default model is the random 2-layer Qwen2 of the CI test (tiny.py) with the
real tokenizer; its garbage completions are cut at the length limit, so every row generates
exactly `tokens` per completion.

On a CPU the step is dominated by TRL's log-prob pass, which off CUDA scores every position
of the ~2.4k-token prompt over the 151,936-token vocabulary (trl/kernels/chunked_logprob.py):
these numbers say nothing about a GPU run. Not measured: the 0.5B on a CPU (minutes a step).
"""

from __future__ import annotations

import argparse
import json
import platform
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from appwright.models import get_model
from appwright.models.settings import models_settings
from appwright.train.config import RLConfig
from appwright.train.metrics import read_metrics
from appwright.train.rl import ROLLOUTS, run_rl
from appwright.train.tiny import cached_tokenizer, tiny_qwen2


def one_step(model: str, generations: int, tokens: int, browser: bool, root: Path) -> dict:
    out = root / f"g{generations}-t{tokens}"
    config = RLConfig(model=model, out=str(out), limit=4, max_steps=1, num_generations=generations, tasks_per_step=1,
                      max_completion_length=tokens, browser=browser, save_steps=100, resume=False)
    run_rl(config, Console(stderr=True, quiet=True))
    row = next(r for r in read_metrics(out / "metrics.jsonl") if "step_time" in r)
    rollouts = [json.loads(x) for x in (out / ROLLOUTS).read_text().splitlines()]
    n, seconds = len(rollouts), row["step_time"]
    return {"completions": n, "length": row["completions/mean_length"], "seconds": seconds,
            "per_min": n / seconds * 60, "tok_s": n * row["completions/mean_length"] / seconds,
            "grade_s": sum(r["grade_seconds"] for r in rollouts) / n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="an HF folder (default: the tiny random Qwen2)")
    ap.add_argument("--generations", type=int, nargs="*", default=[2, 4])
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--browser", action="store_true", help="grade with the browser checks too")
    args = ap.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="aw-bench-train-") as tmp:
        model = args.model
        if model is None:
            gguf = get_model("qwen2.5-coder-0.5b").cache_path()
            tokenizer = cached_tokenizer(gguf, models_settings().cache_dir.parent / "train")
            model = str(tiny_qwen2(tokenizer, Path(tmp) / "tiny"))
        rows = [one_step(model, g, args.tokens, args.browser, Path(tmp)) for g in args.generations]
    table = Table(title=f"GRPO, one step ({Path(model).name}; {platform.machine()}, {os.cpu_count()} cores)")
    for col in ("completions", "mean length", "step s", "rollouts / min", "gen tokens / s", "grade s each"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(str(r["completions"]), f"{r['length']:.0f}", f"{r['seconds']:.1f}", f"{r['per_min']:.2f}",
                      f"{r['tok_s']:.2f}", f"{r['grade_s']:.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
