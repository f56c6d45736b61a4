"""`appwright new` with the real default model (Appwright-0.5B: our LoRA adapter on the
embedded Qwen2.5-Coder-0.5B, on llama.cpp), as the README's first command runs it: a bundle
is written, checked in Chromium, saved as a version, and served over real HTTP. Whether the
app does what was asked is for the graders (tasks/); this checks the pipeline a person relies
on.

The model comes from the default cache, pulled by scripts/setup.sh (or on first use).
About a minute on 2 cores."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from appwright.agent.trajectory import read_jsonl
from appwright.models import DEFAULT_MODEL
from appwright.runtime.check import check_bundle
from appwright.runtime.theme import LIGHT_ONLY, VIEWPORT
from appwright.workspace import list_versions

CLI = Path(sys.executable).parent / "appwright"
README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
PROMPT = re.search(r'appwright new "([^"]+)"', README).group(1)  # the README's first command, word for word


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_new_builds_versions_checks_and_serves_with_the_embedded_model(tmp_path):
    bundle, port = tmp_path / "notes", free_port()
    proc = subprocess.Popen([str(CLI), "new", PROMPT, "--out", str(bundle), "--seed", "1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    output = []
    try:
        deadline = time.monotonic() + 360
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "serving http://" in line:
                break
        log = "".join(output)
        assert "serving http://" in log, log
        # served over real HTTP: the page the model wrote, and the API for its manifest
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            page = c.get("/")
            assert page.status_code == 200 and '<link rel="stylesheet" href="/_aw/app.css">' in page.text
            injected = [t.decode() for t in (VIEWPORT, LIGHT_ONLY)] + ['<link rel="stylesheet" href="/_aw/app.css">']
            assert re.sub("|".join(map(re.escape, injected)), "", page.text) == \
                re.sub("|".join(map(re.escape, injected)), "", (bundle / "index.html").read_text())
            info = c.get("/_aw/api/app").json()
            assert info["entities"], info
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    report = check_bundle(bundle)
    assert report.ok, report.errors
    # the statuses as the request says them: "(to read, reading, finished)" (agent/choices.py)
    entities = json.loads((bundle / "app.json").read_text())["entities"].values()
    menus = [[v.lower() for v in f["values"]] for e in entities for f in e["fields"].values() if f["type"] == "enum"]
    assert ["to read", "reading", "finished"] in menus, menus
    (traj,) = list(read_jsonl(bundle / ".aw" / "trajectories.jsonl"))
    assert traj.model == DEFAULT_MODEL and traj.check.ok and traj.stop_reason == "answered"
    assert traj.version_id in [v.id for v in list_versions(bundle)]
    step = traj.steps[-1]  # the answer, or its repair
    assert traj.steps[0].grammar == "manifest" and step.completion_tokens > 50  # app.json under the grammar
    if not (step.fixes or step.dropped):  # else the message is the answer as written, with them applied
        assert traj.messages[-1].content == step.prefix + step.raw_text
    print(f"\nnew with the embedded model: {traj.elapsed_s:.0f} s, {step.prompt_tokens} prompt + "
          f"{step.completion_tokens} completion tokens, entities {info['entities']}")
