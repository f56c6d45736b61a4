"""Manifests sampled from a real model under the manifest grammar: how many validate.

    .venv/bin/python benchmarks/manifests.py                       # 200 from the embedded 0.5B, T=1.0
    .venv/bin/python benchmarks/manifests.py --n 20 --model qwen2.5-coder-1.5b
    .venv/bin/python benchmarks/manifests.py --n 60 --temperature 0.2   # the access it picks

Each sample is the app.json block of a `files` answer exactly as the harness asks for it
(agent/loop.py: the model's system prompt, the request, FILES_PREFIX, the grammar of
runtime/manifest_schema.py), for the build prompts of the task bank's train split in turn,
at temperature 1.0 (the most varied the model gets). Each is then put through
agent/fixups.py and the validator. Goal: every one validates once fixed. The table counts
valid-as-sampled, valid-after-fixes, the fixes by kind, the failures, and tokens per second
under the grammar. tests/test_manifest_schema.py runs the same check on 10 samples.

The one part of meaning measured here is access: each prompt's access mode (its task's
feature) against the access the manifest gives its entities, as a table. The rest of whether
the manifest suits the request is the graders' job. The train split's builds are thousands;
a trained model saw a few dozen of them (its data), so these prompts are nearly all new to it.
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
from appwright.models import DEFAULT_MODEL, GenerationConfig, Message, get_model, load_backend
from appwright.runtime.manifest import DEFAULT_ACCESS, ManifestError, parse_manifest
from appwright.runtime.manifest_schema import grammar
from appwright.tasks.bank import TaskBank
from appwright.tasks.model import Task
from appwright.tasks.reference import ACCESS


@dataclass
class Tally:
    samples: int = 0
    valid_raw: int = 0
    valid_fixed: int = 0
    tokens: int = 0
    seconds: float = 0.0
    fixes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # prompt, then the validator's first error
    access: Counter = field(default_factory=Counter)  # (asked, given) -> samples


def build_tasks() -> list[Task]:
    """The train split's builds with one access mode among their features."""
    return [t for t in TaskBank.default().select(split="train", kind="build")
            if sum(f in ACCESS for f in t.features) == 1]


def access_given(text: str) -> str:
    """The access a manifest gives its entities: a preset's name, "map" for an access map,
    several joined by "/", "invalid" when it is no JSON object with entities."""
    try:
        entities = json.loads(text)["entities"]
        given = {a if isinstance(a := e.get("access", DEFAULT_ACCESS), str) else "map" for e in entities.values()}
    except (ValueError, TypeError, KeyError, AttributeError):
        return "invalid"
    return "/".join(sorted(given)) or "none"


def sample_manifests(backend, n: int, temperature: float = 1.0, on_sample=None, style: str = "full") -> Tally:
    system = system_prompt("files", TOOL_SPECS, style)
    tasks, tally, gbnf = build_tasks(), Tally(), grammar()
    stride = max(1, len(tasks) // n)  # evenly through the bank (ordered by domain), so domains and access vary
    for i in range(n):
        task = tasks[(i * stride) % len(tasks)]
        prompt = task.prompt
        c = backend.complete([Message("system", system), Message("user", prompt), Message("assistant", FILES_PREFIX)],
                             config=GenerationConfig(max_tokens=MANIFEST_MAX_TOKENS, temperature=temperature,
                                                     seed=i, grammar=gbnf))
        tally.samples += 1
        tally.tokens += c.completion_tokens
        tally.seconds += c.latency_s - (c.first_token_s or 0)
        fixed, fixes = fix_manifest(c.text)
        tally.access[(next(f for f in task.features if f in ACCESS), access_given(fixed))] += 1
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
    p.add_argument("--prompt", choices=["full", "compact"], help="the system prompt (default: the model's own)")
    args = p.parse_args()
    style = args.prompt or get_model(args.model).prompt
    console = Console(width=None if sys.stdout.isatty() else 160)
    backend = load_backend(args.model, console)
    t = time.perf_counter()
    try:
        with console.status("sampling") as status:
            tally = sample_manifests(backend, args.n, args.temperature,
                                     lambda i, c, f: status.update(f"sampling: {i + 1}/{args.n}"), style)
    finally:
        backend.close()
    table = Table(title=f"{args.n} manifests from {args.model} under the manifest grammar, T={args.temperature}, "
                        f"{style} prompt ({time.perf_counter() - t:.0f} s)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("valid as sampled", f"{tally.valid_raw}/{tally.samples}")
    table.add_row("valid after fixes (goal: all)", f"{tally.valid_fixed}/{tally.samples}")
    table.add_row("tokens per manifest (mean)", f"{tally.tokens / max(tally.samples, 1):.0f}")
    table.add_row("gen tok/s under the grammar", f"{tally.tokens / tally.seconds:.1f}" if tally.seconds else "-")
    for kind, count in tally.fixes.most_common():
        table.add_row(f"fixed: {kind}", str(count))
    console.print(table)
    console.print(access_table(tally.access))
    for failure in tally.failures:
        console.print(f"[red]invalid:[/] {failure}", highlight=False)
    sys.exit(0 if tally.valid_fixed == tally.samples else 1)


def access_table(access: Counter) -> Table:
    """Rows: the access the prompt asks for; columns: what the manifests gave; "as asked" counts
    the same preset, or an access map where the prompt asks that only admins write."""
    given = sorted({g for _, g in access})
    table = Table(title="access: asked (rows) against given (columns)")
    table.add_column("asked")
    for g in given:
        table.add_column(g, justify="right")
    table.add_column("as asked", justify="right")
    for asked in [a for a in ACCESS if any(k[0] == a for k in access)]:
        n = sum(v for (a, _), v in access.items() if a == asked)
        right = access[(asked, "map" if asked == "admin_write" else asked)]
        table.add_row(asked, *[str(access[(asked, g)] or "") for g in given], f"{right}/{n}")
    return table


if __name__ == "__main__":
    main()
