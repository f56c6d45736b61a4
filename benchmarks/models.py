"""Model speed on this machine, and the wall time of one full app build per protocol.

    .venv/bin/python benchmarks/models.py                          # the embedded 0.5B
    .venv/bin/python benchmarks/models.py qwen2.5-coder-1.5b --protocols files
    .venv/bin/python benchmarks/models.py --pull                   # also time pull+assemble+verify

Per model, with the harness's real system prompt (`agent.prompt.system_prompt`):

- load: seconds to open the GGUF;
- prompt tok/s and time to first token for a cold prompt (nothing cached);
- the same request again: time to first token with the prompt prefix reused;
- generated tok/s over a 200-token answer, and over a manifest sampled under the manifest
  grammar (goal: at least 25 tok/s for the 0.5B);
- build: the agent (`attempt.run`) on BUILD_PROMPT with each protocol, a real Chromium check_app
  included, in a temporary folder: wall seconds, steps, tokens, stop reason, and whether
  the bundle was valid (saved as a version). Goal for the 0.5B on 2 cores: a complete
  build in under 60 s.

Not measured: quality (that is the graders' and evals' job), several requests at once,
GPU speed. Numbers depend on the machine; the header says which one.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from appwright.agent.check_app import Checker
from appwright.agent.config import Budget, HarnessConfig
from appwright.agent.guided import FILES_PREFIX, MANIFEST_MAX_TOKENS
from appwright.attempt import run
from appwright.agent.prompt import system_prompt
from appwright.agent.tools import TOOL_SPECS
from appwright.models import DEFAULT_MODEL, GenerationConfig, Message, get_model, load_backend
from appwright.models.pull import pull
from appwright.runtime.manifest_schema import grammar

BUILD_PROMPT = ("A private notes app: signed-in users write notes with a title and a body, "
                "see their own notes newest first, and can delete a note.")
GOAL_S = 60.0
console = Console(width=None if sys.stdout.isatty() else 160)


def speed(backend) -> dict:
    """Cold prompt, warm prompt, generation speed."""
    system = system_prompt("files", TOOL_SPECS)
    ask = [Message("system", system), Message("user", "Write a JavaScript function that lists notes newest first.")]
    config = GenerationConfig(max_tokens=200, temperature=0.0, seed=0)
    cold = backend.complete(ask, config=config)
    warm = backend.complete(ask[:1] + [Message("user", "Write a JavaScript function that deletes a note.")],
                            config=config)
    gen_s = cold.latency_s - cold.first_token_s
    # the app.json block of a `files` answer under the manifest grammar (agent/loop.py): llama.cpp
    # checks every candidate of the 151,936-token vocabulary against the grammar at each step
    manifest = backend.complete([Message("system", system), Message("user", BUILD_PROMPT),
                                 Message("assistant", FILES_PREFIX)],
                                config=GenerationConfig(max_tokens=MANIFEST_MAX_TOKENS, temperature=0.0, seed=0,
                                                        grammar=grammar()))
    grammar_s = manifest.latency_s - manifest.first_token_s
    return {"prompt_tokens": cold.prompt_tokens,
            "grammar_tps": (manifest.completion_tokens - 1) / grammar_s if grammar_s > 0 else float("nan"),
            "prompt_tps": (cold.prompt_tokens - cold.cached_prompt_tokens) / cold.first_token_s,
            "ttft_cold": cold.first_token_s, "ttft_warm": warm.first_token_s, "cached": warm.cached_prompt_tokens,
            "gen_tps": (cold.completion_tokens - 1) / gen_s if gen_s > 0 else float("nan")}


def build(backend, name: str, protocol: str, checker: Checker) -> dict:
    with tempfile.TemporaryDirectory(prefix="aw-bench-build-") as tmp:
        t = time.perf_counter()
        harness = HarnessConfig(protocol=protocol, budget=Budget(max_steps=12 if protocol == "tools" else 2,
                                                                 max_seconds=600), temperature=0.2, seed=1)
        traj = run(BUILD_PROMPT, Path(tmp) / "app", backend, harness, model_name=name, checker=checker)
        return {"wall_s": time.perf_counter() - t, "steps": len(traj.steps), "stop": traj.stop_reason,
                "tokens": traj.prompt_tokens + traj.completion_tokens, "valid": traj.version_id is not None}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", default=[DEFAULT_MODEL], help="registry names (llamacpp backends)")
    p.add_argument("--protocols", default="files,tools", help="comma-separated: files, tools")
    p.add_argument("--pull", action="store_true", help="time pull+assemble+verify into a throw-away cache")
    args = p.parse_args()
    protocols = [x for x in args.protocols.split(",") if x]
    if not set(protocols) <= {"files", "tools"}:
        p.error("--protocols: files and/or tools")
    console.print(f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}; "
                  f"python {platform.python_version()}")
    table = Table(title=f"models on this machine (goal: 0.5B builds an app in < {GOAL_S:.0f} s)")
    for col in ("model", "pull s", "load s", "prompt tok/s", "TTFT cold s", "TTFT warm s", "gen tok/s",
                "gen tok/s, manifest grammar",
                *[f"{pr} build" for pr in protocols]):
        table.add_column(col, justify="left" if col == "model" or "build" in col else "right")
    with Checker() as checker:
        for name in args.models:
            spec = get_model(name)
            pull_s = ""
            if args.pull:
                with tempfile.TemporaryDirectory() as home:
                    os.environ["APPWRIGHT_HOME"] = home
                    t = time.perf_counter()
                    pull(spec, console)
                    pull_s = f"{time.perf_counter() - t:.1f}"
                    del os.environ["APPWRIGHT_HOME"]
            backend = load_backend(name, console)
            try:
                s = speed(backend)
                builds = [build(backend, name, pr, checker) for pr in protocols]
            finally:
                backend.close()
            table.add_row(name, pull_s, f"{backend.load_s:.2f}", f"{s['prompt_tps']:.0f} ({s['prompt_tokens']} tok)",
                          f"{s['ttft_cold']:.1f}", f"{s['ttft_warm']:.2f} ({s['cached']} cached)",
                          f"{s['gen_tps']:.1f}", f"{s['grammar_tps']:.1f}",
                          *[f"{b['wall_s']:.0f} s, {b['steps']} step(s), {b['tokens']:,} tok, {b['stop']}, "
                            + ("[green]valid[/]" if b["valid"] else "[red]invalid[/]") for b in builds])
    console.print(table)


if __name__ == "__main__":
    main()
