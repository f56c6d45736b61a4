"""One rule for exit codes (appwright/exits.py): bad usage or input exits 2, a run that was attempted
and failed exits 1, Ctrl-C 130, success 0. No network, no model, no browser."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from appwright import exits
from appwright.cli import app

ROOT = Path(__file__).resolve().parent.parent
TASK = "build-pinned-notes"  # a hand-written task of the bank (appwright/tasks/bank/pinned-notes.yaml)


@pytest.fixture
def run(tmp_path, monkeypatch):
    """`appwright ARGS` in tmp_path, with Appwright's state and the user's registry kept there too."""
    monkeypatch.chdir(tmp_path)
    env = {"APPWRIGHT_HOME": str(tmp_path / "home"), "APPWRIGHT_MODELS_TOML": str(tmp_path / "models.toml"),
           "COLUMNS": "200"}

    def invoke(*args: str):
        return CliRunner().invoke(app, [str(a) for a in args], env=env)
    return invoke


@pytest.fixture
def empty(tmp_path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("args, words", [
    (["grade", "{empty}", "--task", "no-such-task", "--no-browser"], "no task 'no-such-task'"),
    (["grade", "{tmp}/nowhere", "--task", TASK, "--no-browser"], "is not a folder"),
    (["tasks", "list", "--split", "nope"], "--split: expected train, dev, test, people"),
    (["tasks", "show", "no-such-task"], "no task 'no-such-task'"),
    (["tasks", "start", "no-such-task", "--out", "{tmp}/start"], "no task 'no-such-task'"),
    (["eval", "run", "--models", "m", "--split", "nope", "--out", "{tmp}/e"], "--split: expected train, dev, test"),
    (["eval", "run", "--models", "m", "--samples", "0", "--out", "{tmp}/e"], "--samples: must be at least 1"),
    (["eval", "report", "{empty}"], "no results.jsonl here"),
    (["new", "", "--out", "{tmp}/a"], "the request is empty"),
    (["new", "notes", "--out", "{tmp}/b", "--protocol", "chat"], "--protocol: expected files or tools"),
    (["new", "notes", "--out", "{tmp}/c", "--model", "no-such-model"], "unknown model 'no-such-model'"),
    (["edit", "{empty}", "add a search box"], "not an app folder"),
    (["serve", "{empty}"], "cannot be served"),
    (["versions", "list", "{empty}"], "not an app bundle"),
    (["versions", "save", "{empty}"], "not an app bundle"),
    (["users", "list", "--app", "{empty}"], "not a valid bundle"),
    (["data", "export", "--out", "{tmp}/x"], "--sft, --pairs and/or --tasks"),
    (["data", "export", "--sft", "--out", "{tmp}/x", "--db", "sqlite:///{tmp}/none.db"], "no studio database at"),
    (["data", "sft", "{tmp}/t.jsonl", "--out", "{tmp}/sft", "--keep", "some"], "--keep is good or all"),
    (["models", "path", "no-such-model"], "unknown model 'no-such-model'"),
    (["models", "pull", "no-such-model"], "unknown model 'no-such-model'"),
    (["studio", "--model", "no-such-model"], "unknown model 'no-such-model'"),
])
def test_bad_usage_or_input_exits_2(run, tmp_path, empty, args, words):
    r = run(*[a.format(tmp=tmp_path, empty=empty) for a in args])
    assert r.exit_code == exits.USAGE == 2, (args, r.output)
    assert "error:" in r.output and words in flat(r.output), (args, r.output)
    assert isinstance(r.exception, SystemExit) and "Traceback" not in r.output, (args, r.exception)


def test_a_grade_that_is_not_good_exits_1(run, empty):
    r = run("grade", empty, "--task", TASK, "--no-browser")
    assert r.exit_code == exits.FAILED == 1, r.output
    assert "not good" in r.output and "Traceback" not in r.output


def test_a_check_that_finds_problems_exits_1(run, empty):
    r = run("check", empty)
    assert r.exit_code == exits.FAILED, r.output
    assert "error:" in r.output and "app.json" in r.output


def test_an_export_with_nothing_to_export_exits_1(run, tmp_path):
    from appwright.studio.db import Database

    url = f"sqlite:///{tmp_path / 'studio.db'}"
    Database.open(url).close()  # a studio log with its tables and nothing in them
    r = run("data", "export", "--sft", "--out", tmp_path / "x", "--db", url)
    assert r.exit_code == exits.FAILED, r.output
    assert "error:" in r.output and "nothing to export" in flat(r.output)


def test_fail_prints_one_line_to_stderr_and_takes_only_the_two_codes(capsys):
    with pytest.raises(typer.Exit) as stop:
        exits.fail("a [bold]message[/] with markup-like text", exits.USAGE)
    assert stop.value.exit_code == 2
    assert capsys.readouterr().err == "error: a [bold]message[/] with markup-like text\n"
    with pytest.raises(typer.Exit) as stop:
        exits.fail("it broke", exits.FAILED)
    assert stop.value.exit_code == 1
    with pytest.raises(ValueError):
        exits.fail("no", 3)  # type: ignore[arg-type]


# -- the source holds the rule ---------------------------------------------------------------------

def _modules() -> list[Path]:
    return sorted(p for p in (ROOT / "appwright").rglob("*.py") if p != ROOT / "appwright" / "exits.py")


def _is_exit(func: ast.expr) -> bool:
    """typer.Exit, Exit, SystemExit, sys.exit."""
    if isinstance(func, ast.Attribute):
        return func.attr == "Exit" or (func.attr == "exit" and isinstance(func.value, ast.Name)
                                       and func.value.id == "sys")
    return isinstance(func, ast.Name) and func.id in ("Exit", "SystemExit")


def test_no_module_has_its_own_fail_helper_or_a_bare_exit_code():
    helpers, literals = [], []
    for path in _modules():
        rel = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("fail", "_fail"):
                helpers.append(f"{rel}:{node.lineno} def {node.name}")
            if isinstance(node, ast.Call) and _is_exit(node.func):
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    for sub in ast.walk(arg):
                        if isinstance(sub, ast.Constant) and type(sub.value) is int and sub.value in (1, 2):
                            literals.append(f"{rel}:{node.lineno} exit code {sub.value}")
    assert not helpers, f"use appwright.exits.fail instead: {helpers}"
    assert not literals, f"use appwright.exits.USAGE or FAILED instead of a bare code: {literals}"


def test_exits_imports_nothing_from_appwright():
    tree = ast.parse((ROOT / "appwright" / "exits.py").read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] == "appwright"], names


def test_the_rule_is_written_in_the_cli_reference():
    from appwright.exits import FAILED, USAGE

    docs = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    rule = next(line for line in docs.splitlines() if line.startswith("Exit codes"))
    assert f"{USAGE} bad usage or input" in rule and f"{FAILED} a run that was attempted and failed" in rule


def test_an_export_whose_converter_fails_exits_1_and_one_with_no_adapter_exits_2(run, tmp_path, monkeypatch):
    from appwright.train import export

    (tmp_path / "run").mkdir()
    r = run("models", "export", "mine", "--from", tmp_path / "run")  # nothing to export there: the caller's mistake
    assert r.exit_code == exits.USAGE and "no LoRA adapter" in flat(r.output), r.output

    def converter_crashes(*args, **kwargs):
        raise export.ConversionError("convert_hf_to_gguf.py failed (1):\nKeyError: 'lm_head.weight'")
    monkeypatch.setattr(export, "export_model", converter_crashes)
    r = run("models", "export", "mine", "--from", tmp_path / "run")
    assert r.exit_code == exits.FAILED and "convert_hf_to_gguf.py failed" in flat(r.output), r.output
    assert "Traceback" not in r.output
