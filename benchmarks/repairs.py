"""The repair turn on tasks no model was trained on: how often a second answer fixes the app.

    .venv/bin/python benchmarks/repairs.py                                  # the default model, dev, 20 cases
    .venv/bin/python benchmarks/repairs.py --model appwright-0.5b --split test --n 20

Each case is a first answer that breaks the page (a fix task's start bundle sent back as it was,
or a new build's page with a bug of tasks/reference.FLAWS planted), check_app's real report
on it and the harness's repair request for the failing file (train/repairs.py `repair_case`,
the same construction as the repair rows we train on, but on dev or test tasks, which no
training set holds). The model answers the request as the loop's repair turn does (one file:
agent/loop.py `one_file_answer`, seed 0, T=0.2); an answer that sends the file back unchanged
is sampled once more at T=0.8, as the loop does. The answer's files go onto the flawed app,
check_app runs again: **rescued** when it passes. Printed: cases, rescued, first answers
unchanged, per flaw, and seconds per repair. An eval's repair counts (docs/results.md) are a
handful per run; this gives the rate on 20 or more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from appwright.agent.check_app import Checker
from appwright.agent.loop import one_file_answer
from appwright.agent.parse import parse_reply
from appwright.models import DEFAULT_MODEL, GenerationConfig, Message, get_model, load_backend
from appwright.tasks.bank import TaskBank
from appwright.train.repairs import candidates, repair_case


def answer(backend, case, config: GenerationConfig):
    """The files of the model's repair, asked as agent/loop.py asks: the answer starts with the
    first asked-for file's block; with one file, it ends with it."""
    msgs = [Message(role, content) for role, content in case.chat]
    start = f'<file path="{case.paths[0]}">\n'
    if len(case.paths) == 1:
        c = one_file_answer(backend, msgs, case.paths[0], config)
    else:
        c = backend.complete(msgs + [Message("assistant", start)], None, config)
    return parse_reply(start + c.text if c.continued_prefix else c.text).files


@dataclass
class Tally:
    cases: int = 0
    rescued: int = 0
    unchanged_first: int = 0  # first answers that sent the file back as it was
    answered: int = 0  # answers with a block of every file asked for
    seconds: list[float] = field(default_factory=list)
    by_flaw: dict[str, Counter] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)


def run_cases(backend, check, n: int, split: str = "dev", seed: int = 0, on_case=None) -> Tally:
    """Answer `n` repair cases of `split` with `backend`; check_app (`check`) decides each."""
    config = GenerationConfig(temperature=0.2, seed=0)
    tally = Tally()
    for task, flaw in candidates(TaskBank.default(), seed, split=split):
        if tally.cases >= n:
            break
        case = repair_case(task, flaw, check)
        if isinstance(case, str):
            tally.skipped[f"{flaw}: {case.split(',')[0]}"] += 1
            continue
        t0 = time.monotonic()
        files = answer(backend, case, config)
        same = bool(files) and all(case.flawed.get(f.path, "").strip() == f.content.strip() for f in files)
        if same:  # the loop samples once more, hotter
            files = answer(backend, case, replace(config, temperature=0.8))
        tally.seconds.append(time.monotonic() - t0)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for path, text in {**case.flawed, **{f.path: f.content for f in files}}.items():
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_text(text, encoding="utf-8")
            ok = check(root).ok
        tally.cases += 1
        tally.rescued += ok
        tally.unchanged_first += same
        tally.answered += set(case.paths) <= {f.path for f in files}
        row = tally.by_flaw.setdefault(flaw, Counter())
        row["cases"] += 1
        row["rescued"] += ok
        if on_case:
            on_case(task.id, flaw, ok, same, tally.seconds[-1])
    return tally


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="which cases")
    args = ap.parse_args(argv)
    console = Console()
    get_model(args.model)  # an unknown name: ModelError with the list
    backend = load_backend(args.model)
    started = time.monotonic()
    with Checker() as check:
        tally = run_cases(backend, check, args.n, args.split, args.seed, on_case=lambda tid, flaw, ok, same, s: console.print(
            f"{'rescued' if ok else 'failed '} {tid} ({flaw}){' unchanged once' if same else ''} {s:.0f} s",
            highlight=False))
    table = Table(title=f"repair turns: {args.model}, {args.split} split, {tally.cases} cases")
    for col in ("flaw", "cases", "rescued"):
        table.add_column(col)
    for flaw, row in sorted(tally.by_flaw.items()):
        table.add_row(flaw, str(row["cases"]), str(row["rescued"]))
    table.add_row("all", str(tally.cases), f"{tally.rescued} ({tally.rescued / max(1, tally.cases):.0%})")
    console.print(table)
    seconds = sorted(tally.seconds)
    console.print(f"first answers unchanged: {tally.unchanged_first} of {tally.cases}; seconds per repair: median "
                  f"{seconds[len(seconds) // 2] if seconds else 0:.0f}; all {time.monotonic() - started:.0f} s; "
                  f"skipped: {dict(tally.skipped)}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
