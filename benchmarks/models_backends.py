"""Measure the embedded backend: pull+assemble+verify, load, prompt and generation
speed, time to first token, and the prefix-cache speed-up on a second call.

    APPWRIGHT_WHEELS=/tmp/mdl python benchmarks/models_backends.py [MODEL] [--pull]

`--pull` re-pulls into a throw-away cache (APPWRIGHT_HOME in a temp dir) to time it.
Numbers go to stdout as JSON. Not a test: nothing is asserted.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from appwright.models import GenerationConfig, Message, get_model
from appwright.models.llamacpp import LlamaCppBackend
from appwright.models.pull import ensure_model, pull


def main() -> None:
    name = next((a for a in sys.argv[1:] if not a.startswith("--")), "qwen2.5-coder-0.5b")
    spec, result = get_model(name), {"model": name, "threads": os.cpu_count()}
    if "--pull" in sys.argv:
        with tempfile.TemporaryDirectory() as home:
            os.environ["APPWRIGHT_HOME"] = home
            t = time.perf_counter()
            pull(spec)
            result["pull_assemble_verify_s"] = round(time.perf_counter() - t, 2)
            del os.environ["APPWRIGHT_HOME"]
    path = ensure_model(spec)
    backend = LlamaCppBackend(spec, path)
    result["load_s"] = round(backend.load_s, 2)
    system = "You are Appwright's coding agent. " + " ".join(
        f"Rule {i}: every page loads /_aw/sdk.js and renders user text with aw.html, never innerHTML." for i in range(60))
    cfg = GenerationConfig(max_tokens=128, temperature=0.0, seed=0)
    runs = []
    for question in ("Write a JavaScript function that lists notes newest first.",
                     "Write a JavaScript function that deletes a note by id."):
        c = backend.complete([Message("system", system), Message("user", question)], config=cfg)
        runs.append({"prompt_tokens": c.prompt_tokens, "cached_prompt_tokens": c.cached_prompt_tokens,
                     "completion_tokens": c.completion_tokens, "first_token_s": round(c.first_token_s, 3),
                     "latency_s": round(c.latency_s, 2), **c.extra})
    result["calls"] = runs
    result["prefix_cache_ttft_speedup"] = round(runs[0]["first_token_s"] / runs[1]["first_token_s"], 1)
    backend.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
