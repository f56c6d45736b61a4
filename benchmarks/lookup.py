"""Prompt-lookup drafts (models/lookup.py) on and off: whole attempts on train tasks, timed.

    .venv/bin/python benchmarks/lookup.py                       # appwright-0.5b, 2 train tasks a kind
    .venv/bin/python benchmarks/lookup.py qwen2.5-coder-0.5b --per-kind 3 --lookup 24

The agent (`attempt.run_task`, the harness's defaults, seed 0, a real Chromium check_app) on the
same train tasks twice: once with `lookup_tokens=0`, once with `--lookup` (default the registry's).
Per task: wall seconds each way, the answer's tokens each way, whether the two answers are the
same text (a batch rounds floats differently, so a close sample can tip and the two answers part
ways: expect some "no"). Train tasks only: dev, test and people are the yardstick.
Run it alone: llama.cpp's threads spin, so anything beside it slows both columns.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from appwright.agent.check_app import Checker
from appwright.agent.config import HarnessConfig
from appwright.attempt import run_task
from appwright.models import DEFAULT_MODEL, get_model
from appwright.models.llamacpp import LlamaCppBackend
from appwright.models.pull import ensure_model
from appwright.tasks.bank import TaskBank

KINDS = ("build", "edit", "fix", "taste")
console = Console(width=None if sys.stdout.isatty() else 160)


def attempts(name: str, lookup: int, tasks, checker: Checker) -> list[dict]:
    spec = get_model(name)
    backend = LlamaCppBackend(spec, ensure_model(spec, console), lookup_tokens=lookup)
    out = []
    try:
        with tempfile.TemporaryDirectory(prefix="aw-bench-lookup-") as tmp:
            for task in tasks:
                t = time.perf_counter()
                traj = run_task(task, backend, Path(tmp) / task.id, HarnessConfig(seed=0), model_name=name,
                                prompt_style=spec.prompt, checker=checker)
                out.append({"s": time.perf_counter() - t, "tokens": traj.completion_tokens,
                            "text": "".join(s.raw_text for s in traj.steps)})
                console.print(f"  {task.id}: lookup {lookup}, {out[-1]['s']:.1f} s", highlight=False)
    finally:
        backend.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", nargs="?", default=DEFAULT_MODEL, help="a llamacpp registry entry")
    p.add_argument("--per-kind", type=int, default=2, help="train tasks of each kind (default 2)")
    p.add_argument("--lookup", type=int, default=None, help="longest draft (default: the registry's)")
    p.add_argument("--seed", type=int, default=5, help="which train tasks")
    args = p.parse_args()
    spec = get_model(args.model)
    if spec.backend != "llamacpp":
        p.error(f"{args.model} is served by {spec.backend}; prompt lookup is llama.cpp's")
    lookup = spec.lookup_tokens if args.lookup is None else args.lookup
    if args.per_kind < 1 or lookup < 1:
        p.error("--per-kind and --lookup must be at least 1")
    rng = random.Random(args.seed)
    bank = TaskBank.default()
    tasks = [t for kind in KINDS for t in rng.sample(bank.select(split="train", kind=kind), args.per_kind)]
    with Checker() as checker:
        off = attempts(args.model, 0, tasks, checker)
        on = attempts(args.model, lookup, tasks, checker)
    table = Table(title=f"{args.model}: prompt lookup off / on (drafts of up to {lookup} tokens), "
                        f"{len(tasks)} train attempts")
    for col in ("task", "off s", "on s", "on / off", "tokens off / on", "same answer"):
        table.add_column(col, justify="left" if col == "task" else "right")
    for task, a, b in zip(tasks, off, on):
        table.add_row(task.id, f"{a['s']:.1f}", f"{b['s']:.1f}", f"{b['s'] / a['s']:.2f}",
                      f"{a['tokens']:,} / {b['tokens']:,}", "yes" if a["text"] == b["text"] else "no")
    for kind in KINDS:
        ks = [i for i, t in enumerate(tasks) if t.kind == kind]
        a, b = sum(off[i]["s"] for i in ks), sum(on[i]["s"] for i in ks)
        table.add_row(f"[b]all {kind}[/]", f"{a:.1f}", f"{b:.1f}", f"{b / a:.2f}", "", "")
    a, b = sum(x["s"] for x in off), sum(x["s"] for x in on)
    table.add_row("[b]all[/]", f"{a:.1f}", f"{b:.1f}", f"{b / a:.2f}", "",
                  f"{sum(x['text'] == y['text'] for x, y in zip(off, on))} of {len(tasks)}")
    table.add_row("[b]median attempt[/]", f"{statistics.median(x['s'] for x in off):.1f}",
                  f"{statistics.median(x['s'] for x in on):.1f}", "", "", "")
    console.print(table)


if __name__ == "__main__":
    main()
