"""Manifests sampled from a real model under the manifest grammar: how many validate.

    .venv/bin/python benchmarks/manifests.py                       # 200 from the embedded 0.5B, T=1.0
    .venv/bin/python benchmarks/manifests.py --n 20 --model qwen2.5-coder-1.5b

Each sample is the app.json block of a `files` answer exactly as the harness asks for it
(agent/loop.py: the system prompt, the request, FILES_PREFIX, the grammar of
runtime/manifest_schema.py), for the build prompts of the task bank's train split in turn,
at temperature 1.0 (the most varied the model gets). Each is then put through
agent/fixups.py and the validator. Goal: every one validates once fixed. The table counts
valid-as-sampled, valid-after-fixes, the fixes by kind, the failures, and tokens per second
under the grammar. tests/test_manifest_schema.py runs the same check on 20 samples.

Not measured: whether the manifest suits the request (the graders' job).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from appwright.agent.fixups import fix_manifest
from appwright.agent.guided import FILES_PREFIX, MANIFEST_MAX_TOKENS
from appwright.agent.prompt import system_prompt
from appwright.agent.tools import TOOL_SPECS
from appwright.models import DEFAULT_MODEL, GenerationConfig, Message, load_backend
from appwright.runtime.manifest import ManifestError, parse_manifest
from appwright.runtime.manifest_schema import grammar
from appwright.tasks.bank import TaskBank


@dataclass
class Tally:
    samples: int = 0
    valid_raw: int = 0
    valid_fixed: int = 0
    tokens: int = 0
    seconds: float = 0.0
    fixes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # prompt, then the validator's first error


def build_prompts() -> list[str]:
    return [t.prompt for t in TaskBank.default().select(split="train", kind="build")]


def sample_manifests(backend, n: int, temperature: float = 1.0, on_sample=None) -> Tally:
    system = system_prompt("files", TOOL_SPECS)
    prompts, tally, gbnf = build_prompts(), Tally(), grammar()
    for i in range(n):
        prompt = prompts[(i * 7) % len(prompts)]  # a stride through the bank, so domains vary
        c = backend.complete([Message("system", system), Message("user", prompt), Message("assistant", FILES_PREFIX)],
                             config=GenerationConfig(max_tokens=MANIFEST_MAX_TOKENS, temperature=temperature,
                                                     seed=i, grammar=gbnf))
        tally.samples += 1
        tally.tokens += c.completion_tokens
        tally.seconds += c.latency_s - (c.first_token_s or 0)
        fixed, fixes = fix_manifest(c.text)
        tally.fixes.update(re.sub(r"^entities\.[^.]+\.(fields\.[^.:]+|access)", r"\1", f).split(":")[0]
                           .split(" ")[0].replace("fields.", "field ") for f in fixes)
        for text, attr in ((c.text, "valid_raw"), (fixed, "valid_fixed")):
            try:
                parse_manifest(json.loads(text))
                setattr(tally, attr, getattr(tally, attr) + 1)
            except (ManifestError, ValueError) as exc:
                if attr == "valid_fixed":
                    tally.failures.append(f"{prompt[:60]!r}: {str(exc).splitlines()[0][:200]}")
        if on_sample:
            on_sample(i, c, fixes)
    return tally


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=DEFAULT_MODEL, help="a llamacpp registry name")
    p.add_argument("--n", type=int, default=200, help="how many manifests")
    p.add_argument("--temperature", type=float, default=1.0)
    args = p.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 160)
    backend = load_backend(args.model, console)
    t = time.perf_counter()
    try:
        with console.status("sampling") as status:
            tally = sample_manifests(backend, args.n, args.temperature,
                                     lambda i, c, f: status.update(f"sampling: {i + 1}/{args.n}"))
    finally:
        backend.close()
    table = Table(title=f"{args.n} manifests from {args.model} under the manifest grammar, T={args.temperature} "
                        f"({time.perf_counter() - t:.0f} s)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("valid as sampled", f"{tally.valid_raw}/{tally.samples}")
    table.add_row("valid after fixes (goal: all)", f"{tally.valid_fixed}/{tally.samples}")
    table.add_row("tokens per manifest (mean)", f"{tally.tokens / max(tally.samples, 1):.0f}")
    table.add_row("gen tok/s under the grammar", f"{tally.tokens / tally.seconds:.1f}" if tally.seconds else "-")
    for kind, count in tally.fixes.most_common():
        table.add_row(f"fixed: {kind}", str(count))
    console.print(table)
    for failure in tally.failures:
        console.print(f"[red]invalid:[/] {failure}", highlight=False)
    sys.exit(0 if tally.valid_fixed == tally.samples else 1)


if __name__ == "__main__":
    main()
