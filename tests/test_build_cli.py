"""`appwright new` / `appwright edit` (appwright/build.py) end to end through the real CLI,
on a scripted model registered the way a user adds one (APPWRIGHT_MODELS_TOML), and what
Ctrl-C leaves behind. The real model's run is in test_new_e2e.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from appwright.agent.config import Budget, HarnessConfig
from appwright.agent.trajectory import read_jsonl
from appwright.build import BuildOptions, build, new_bundle_path
from appwright.models import ScriptedBackend
from appwright.workspace import list_versions, save
from tests.test_agent_loop import FILES, FILES_REPLY, tool_call

CLI = Path(sys.executable).parent / "appwright"


def run_cli(tmp_path: Path, replies: list[str], *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "replies.json").write_text(json.dumps(replies))
    (tmp_path / "models.toml").write_text(
        f'[models.fake]\nbackend = "scripted"\nlocation = "{tmp_path / "replies.json"}"\ncontext_length = 32768\n'
        '[models.fake.price]\ninput_per_m = 0\noutput_per_m = 0\nnote = "a test double: free"\n')
    env = {"APPWRIGHT_MODELS_TOML": str(tmp_path / "models.toml"), "APPWRIGHT_HOME": str(tmp_path / "home"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200"}
    return subprocess.run([str(CLI), *args, "--model", "fake", "--no-serve"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # check_app opens Chromium
def test_new_then_edit_make_versions_and_trajectories(tmp_path):
    r = run_cli(tmp_path, [FILES_REPLY], "new", "a private notes app", "--out", "notes")
    assert r.returncode == 0, r.stdout + r.stderr
    bundle = tmp_path / "notes"
    assert {p: (bundle / p).read_text() for p in FILES} == {p: c + "\n" for p, c in FILES.items()}
    assert "saved version" in r.stdout and "stopped: answered" in r.stdout
    (first,) = list_versions(bundle)
    changed = FILES_REPLY.replace("Private notes", "My notes")
    r = run_cli(tmp_path, [changed], "edit", "notes", "call it My notes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "My notes" in (bundle / "app.json").read_text()
    trajectories = list(read_jsonl(bundle / ".aw" / "trajectories.jsonl"))
    assert [t.prompt for t in trajectories] == ["a private notes app", "call it My notes"]
    assert all(t.model == "fake" and t.check.ok for t in trajectories)
    ids = [v.id for v in list_versions(bundle)]
    assert first.id in ids and trajectories[1].version_id in ids and trajectories[1].version_id != first.id


def test_bad_requests_get_one_line_errors(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x.txt").write_text("mine")
    for args in (["new", "  ", "--out", "a"], ["new", "x" * 8001, "--out", "a"]):
        r = run_cli(tmp_path, [], *args)  # bad input: exit code 2, before any model is loaded
        assert r.returncode == 2 and ("the request is empty" in r.stderr or "at most 8,000" in r.stderr), r.stderr
        assert "Traceback" not in r.stderr and not (tmp_path / "a").exists()
    cases = [(["new", "notes", "--out", "taken"], "already holds files"),
             (["new", "notes", "--out", "b", "--protocol", "chat"], "--protocol: expected files or tools"),
             (["new", "notes", "--out", "c", "--max-steps", "0"], "must be positive"),
             (["edit", "nowhere", "add search"], "not an app folder")]
    for args, message in cases:
        r = run_cli(tmp_path, [], *args)  # bad input too: exit code 2 (appwright/exits.py)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    assert (tmp_path / "taken" / "x.txt").read_text() == "mine"
    r = run_cli(tmp_path, [], "new", "notes", "--out", "d", "--model", "nope")
    assert r.returncode != 0 and "Traceback" not in r.stderr


class Interrupting(ScriptedBackend):
    """Writes index.html with a tool call, then the user stops it with Ctrl-C mid-completion."""

    def __init__(self):
        super().__init__([tool_call("write_file", path="index.html", content="the agent's half")])

    def complete(self, *args, **kwargs):
        if not self.replies:
            raise KeyboardInterrupt
        return super().complete(*args, **kwargs)

    def close(self):
        pass


def test_ctrl_c_keeps_the_last_good_version(tmp_path, monkeypatch):
    monkeypatch.setattr("appwright.build.load_backend", lambda name, console=None: Interrupting())
    options = BuildOptions(model="x", harness=HarnessConfig(protocol="tools", budget=Budget(max_steps=3)))
    console = Console(file=open(tmp_path / "log.txt", "w"))
    # edit: the files the agent may have half rewritten go back to the version before the edit
    bundle = tmp_path / "notes"
    bundle.mkdir()
    for p, c in FILES.items():
        (bundle / p).write_text(c)
    good = save(bundle, "good")
    (bundle / "index.html").write_text("my own change")  # unsaved work is saved before the edit, then kept
    with pytest.raises(KeyboardInterrupt):
        build("add search", bundle, options, console, edit=True)
    assert (bundle / "index.html").read_text() == "my own change"
    assert good.id in [v.id for v in list_versions(bundle)]
    # new: the half-built folder is removed
    fresh = tmp_path / "fresh"
    with pytest.raises(KeyboardInterrupt):
        build("notes", fresh, options, console, edit=False)
    assert not fresh.exists()


def test_new_bundle_path_is_readable_and_unique(tmp_path):
    first = new_bundle_path("A private notes app, please!", tmp_path)
    assert first.name == "a-private-notes-app"
    first.mkdir()
    assert new_bundle_path("A private notes app, please!", tmp_path).name == "a-private-notes-app-2"


def auto_env(tmp_path: Path, auto: list[str]) -> dict[str, str]:
    """Two scripted rungs priced apart: `leaky` (cheap) writes the reference app with a live-looking key
    in its script (check_app cannot see it; the security probe's `secrets` check does), `careful`
    (dear) writes the reference app; gateway.toml's `auto` lists them."""
    from appwright.tasks.domains import domain
    from appwright.tasks.reference import render

    notes = domain("notes")
    for name in ("leaky", "careful"):
        files = render(notes, ["owner"])
        if name == "leaky":
            files["app.js"] = 'const api_key = "sk-live-0123456789abcdefghijklmn";\n' + files["app.js"]
        reply = "\n".join(f'<file path="{p}">\n{c}\n</file>' for p, c in files.items()) + "\nYour notes app is ready."
        (tmp_path / f"{name}.json").write_text(json.dumps([reply] * 4))
    (tmp_path / "models.toml").write_text("".join(
        f'[models.{name}]\nbackend = "scripted"\nlocation = "{tmp_path / f"{name}.json"}"\ncontext_length = 32768\n'
        f'price = {{input_per_m = {price}, output_per_m = {price}}}\n' for name, price in (("leaky", 0.1), ("careful", 1))))
    (tmp_path / "gateway.toml").write_text(f"auto = {json.dumps(auto)}\n")
    return {"APPWRIGHT_MODELS_TOML": str(tmp_path / "models.toml"), "APPWRIGHT_HOME": str(tmp_path / "home"),
            "APPWRIGHT_GATEWAY_TOML": str(tmp_path / "gateway.toml"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
            "COLUMNS": "200"}


@pytest.mark.slow  # check_app and the security probe open Chromium
@pytest.mark.timeout(300)
def test_new_auto_climbs_past_an_app_that_fails_its_security_probe(tmp_path):
    env = auto_env(tmp_path, ["careful", "leaky"])
    r = subprocess.run([str(CLI), "new", "a private notes app", "--out", "notes", "--model", "auto", "--no-serve"],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=280)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "auto: leaky -> careful" in r.stdout  # cheapest first, whatever gateway.toml's order
    assert "not accepted (leaky): security probe secrets" in r.stdout and "accepted the app of careful" in r.stdout
    bundle = tmp_path / "notes"
    assert "sk-live" not in (bundle / "app.js").read_text()
    trajectories = list(read_jsonl(bundle / ".aw" / "trajectories.jsonl"))
    assert [t.model for t in trajectories] == ["leaky", "careful"]  # both kept: the failed rung is data too


def test_auto_with_no_model_to_climb_says_so(tmp_path):
    env = auto_env(tmp_path, [])
    r = subprocess.run([str(CLI), "new", "a private notes app", "--out", "notes", "--model", "auto", "--no-serve"],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--model auto has no model to climb" in r.stderr, r.stdout + r.stderr
    assert not (tmp_path / "notes").exists()
