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
these numbers say nothing about a GPU run. Not measured: GRPO with the 0.5B on a CPU (minutes a step).

    .venv/bin/python benchmarks/train.py --sft --model runs/hf/qwen0.5b    # SFT speed of the real 0.5B

`--sft`: tokens per second of one LoRA (r16, every linear layer) forward and backward pass and
AdamW step on one example of each shape (prompt x answer tokens, random ids), the output head
over every position (as TRL's SFTTrainer computes it), over the answer alone (`trainer: cpu`,
train/cpu_sft.py), and over the answer alone under CPU bf16 autocast (`bf16: true`). The
shapes: a compact-prompt example, the measured 400 x 1,200, and the full platform reference's
2,400-token prompt. Measured here on 2026-12-04 (the real 0.5B, 700 x 500, one example each,
two runs): 48 to 50 tokens/s in float32, 102 to 116 under bf16 autocast.
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


def sft_speed(model_dir: str, shapes: list[tuple[int, int]]) -> list[dict]:
    import time

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from appwright.train.config import LoraConfig as Lora
    from appwright.train.cpu_sft import answer_loss, full_loss

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=list(Lora().target_modules),
                                             task_type="CAUSAL_LM"))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    gen = torch.Generator().manual_seed(0)

    def one(prompt: int, answer: int, loss_fn) -> float:
        ids = torch.randint(0, model.config.vocab_size, (1, prompt + answer), generator=gen)
        t0 = time.perf_counter()
        loss, n = loss_fn(model, ids, prompt)
        (loss / n).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return time.perf_counter() - t0

    one(64, 64, answer_loss)  # warm-up
    rows = []
    for prompt, answer in shapes:
        for head, fn in (("every position", full_loss), ("answer only", answer_loss),
                         ("answer only, bf16", lambda m, ids, start: answer_loss(m, ids, start, bf16=True))):
            seconds = one(prompt, answer, fn)
            rows.append({"prompt": prompt, "answer": answer, "head": head, "seconds": seconds,
                         "tok_s": (prompt + answer) / seconds})
    return rows


def main_sft(model: str, shapes: list[tuple[int, int]], console: Console) -> None:
    import torch

    rows = sft_speed(model, shapes)
    table = Table(title=f"SFT, LoRA r16 forward + backward + AdamW, one example ({Path(model).name}; "
                        f"{platform.machine()}, {torch.get_num_threads()} threads)")
    for col in ("prompt", "answer", "output head over", "seconds", "tokens / s"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(str(r["prompt"]), str(r["answer"]), r["head"], f"{r['seconds']:.1f}", f"{r['tok_s']:.1f}")
    console.print(table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="an HF folder (default: the tiny random Qwen2)")
    ap.add_argument("--generations", type=int, nargs="*", default=[2, 4])
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--browser", action="store_true", help="grade with the browser checks too")
    ap.add_argument("--sft", action="store_true", help="SFT speed instead of GRPO's (see above)")
    ap.add_argument("--shapes", default="700x1200,400x1200,2400x1200",
                    help="--sft: PROMPTxANSWER token counts, comma-separated")
    args = ap.parse_args()
    console = Console()
    if args.sft:
        shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]
        with tempfile.TemporaryDirectory(prefix="aw-bench-sft-") as tmp:
            model = args.model
            if model is None:
                gguf = get_model("qwen2.5-coder-0.5b").cache_path()
                tokenizer = cached_tokenizer(gguf, models_settings().cache_dir.parent / "train")
                model = str(tiny_qwen2(tokenizer, Path(tmp) / "tiny"))
            main_sft(model, shapes, console)  # type: ignore[arg-type]
        return
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
