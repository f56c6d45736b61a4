"""The task format, the generator and the bank: what a person writing or using tasks relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from appwright.tasks.bank import TaskBank, TaskError, export, load_file, materialise_start, reference_files
from appwright.tasks.domains import load_domains
from appwright.tasks.generate import generate
from appwright.tasks.model import Grade, CheckResult, Task, UiStep
from appwright.tasks.reference import FLAWS

CLI = Path(sys.executable).parent / "appwright"
MINIMAL = {"id": "build-x", "kind": "build", "split": "train", "prompt": "a notes app",
           "checks": [{"kind": "schema", "name": "schema", "entity": "Note", "fields": {"title": "string"}}]}


@pytest.fixture(scope="module")
def bank() -> TaskBank:
    return TaskBank.default()


def test_the_bank_has_over_a_thousand_distinct_tasks_of_every_kind_from_15_domains(bank):
    assert len(bank.tasks) >= 1000
    assert len({t.id for t in bank.tasks}) == len(bank.tasks)
    assert len({t.prompt + json.dumps(t.start.files if t.start else {}) for t in bank.tasks}) == len(bank.tasks)
    assert Counter(t.kind for t in bank.tasks).keys() == {"build", "edit", "fix", "taste"}
    assert len({t.domain for t in bank.tasks}) >= 15
    features = Counter(f for t in bank.tasks for f in t.features)
    for f in ("owner", "shared", "public_read", "sort", "validation", "totals", "search", "filter", "invite"):
        assert features[f] >= 20, f
    flaws = Counter(t.id.split("-", 3)[-1] for t in bank.tasks if t.kind == "fix")
    assert {f.replace("_", "-") for f in FLAWS} <= set(flaws)


def test_splits_are_held_out_by_domain_family(bank):
    families = {d.name: d.family for d in load_domains()}
    by_split = {s: {families[t.domain] for t in bank.select(split=s) if t.domain} for s in ("train", "dev", "test")}
    assert by_split["train"] and by_split["dev"] and by_split["test"]
    assert not by_split["train"] & by_split["test"]
    assert not by_split["train"] & by_split["dev"]
    assert not by_split["dev"] & by_split["test"]
    assert len(bank.select(split="dev")) >= 40  # enough for the first baseline (issue 5)


def test_generation_is_deterministic():
    a, b = generate(domains=["notes", "expenses"]), generate(domains=["notes", "expenses"])
    assert [t.model_dump() for t in a] == [t.model_dump() for t in b]


def test_edit_and_fix_tasks_start_from_a_bundle_that_differs_from_the_reference(bank):
    for t in bank.select(kind="fix")[:30] + bank.select(kind="edit")[:30]:
        assert t.start and t.start.files and "app.json" in t.start.files
        assert t.start.files != reference_files(t), t.id


def test_export_and_load_round_trip(tmp_path, bank):
    tasks = [bank.get("build-notes-owner"), bank.get("fix-recipes-owner-innerhtml"), bank.get("taste-notes-passwords")]
    paths = export(tasks, tmp_path)
    loaded = [t for p in paths for t in load_file(p)]
    assert [t.model_dump() for t in loaded] == [t.model_dump() for t in tasks]


def test_a_task_file_may_hold_a_list_and_point_to_a_start_folder(tmp_path):
    (tmp_path / "start").mkdir()
    (tmp_path / "start" / "app.json").write_text('{"name": "x"}')
    (tmp_path / "start" / ".aw").mkdir()
    (tmp_path / "start" / ".aw" / "app.db").write_text("not for the agent")
    f = tmp_path / "tasks.yaml"
    f.write_text(yaml.safe_dump([MINIMAL, {**MINIMAL, "id": "fix-x", "kind": "fix", "start": {"path": "start"}}]))
    build, fix = load_file(f)
    dest = materialise_start(fix, tmp_path / "work")
    assert sorted(p.name for p in dest.rglob("*")) == ["app.json"]
    assert materialise_start(build, tmp_path / "none") is None


@pytest.mark.parametrize("change, message", [
    ({"kind": "make"}, "kind"),
    ({"kind": "fix"}, "needs `start`"),
    ({"checks": []}, "checks"),
    ({"id": "Has Spaces"}, "id"),
    ({"checks": [MINIMAL["checks"][0], MINIMAL["checks"][0]]}, "repeated: schema"),
    ({"checks": [{"kind": "api", "name": "a", "entity": "Note", "flow": "rejects", "record": {}}]}, "needs `bad`"),
    ({"checks": [{"kind": "grep", "name": "a"}]}, "kind"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_task_files_are_refused_with_the_path_and_the_problem(tmp_path, change, message):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({**MINIMAL, **change}))
    with pytest.raises(TaskError) as exc:
        load_file(f)
    assert str(f) in str(exc.value) and message in str(exc.value)


def test_unreadable_yaml_is_a_task_error(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("id: [unclosed")
    with pytest.raises(TaskError, match="cannot read it as YAML"):
        load_file(f)


def test_a_ui_step_has_exactly_one_action():
    with pytest.raises(ValidationError, match="exactly one action"):
        UiStep(open=True, submit=True)
    assert UiStep(expect_text="x").action == "expect_text"


def test_reward_is_the_weighted_share_and_good_needs_every_required_check():
    def r(passed, weight=1.0, required=True):
        return CheckResult(name=str(id(object())), kind="api", passed=passed, weight=weight, required=required,
                           evidence="")
    g = Grade(task_id="t", checks=[r(True, 3), r(False, 1, required=False)], seconds=0)
    assert g.reward == 0.75 and g.good
    g = Grade(task_id="t", checks=[r(True, 3), r(False, 1)], seconds=0)
    assert g.reward == 0.75 and not g.good
    assert Grade(task_id="t", checks=[], seconds=0).reward == 0.0


def test_unknown_task_ids_suggest_near_ones(bank):
    with pytest.raises(TaskError, match="did you mean build-notes-owner"):
        bank.get("notes-owner")


def run(*args):
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""})


def test_cli_lists_and_shows_tasks():
    r = run("tasks", "list", "--split", "dev", "--kind", "fix", "--limit", "0")
    assert r.returncode == 0, r.stderr
    assert "fix-bookings-shared-innerhtml" in r.stdout and "dev/fix" in r.stdout
    assert "train" not in r.stdout.split("tasks (")[0]
    r = run("tasks", "show", "fix-bookings-shared-innerhtml")
    assert r.returncode == 0 and "isolation" in r.stdout and "start bundle: app.js, app.json" in r.stdout
    r = run("tasks", "show", "build-notes-owner", "--json")
    assert Task.model_validate_json(r.stdout).id == "build-notes-owner"


@pytest.mark.parametrize("args, message", [
    (("tasks", "list", "--split", "prod"), "--split: expected train, dev, test, people"),
    (("tasks", "show", "nope"), "no task 'nope'"),
    (("grade", "/nonexistent", "--task", "build-notes-owner"), "is not a folder"),
    (("grade", ".", "--task", "nope"), "no task"),
    (("tasks", "start", "build-notes-owner", "--out", "/tmp/x"), "no start bundle"),
])
def test_cli_bad_input_is_a_clear_error(args, message):
    r = run(*args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_cli_start_writes_the_start_bundle_and_export_writes_yaml(tmp_path):
    r = run("tasks", "start", "fix-notes-owner-innerhtml", "--out", str(tmp_path / "app"))
    assert r.returncode == 0, r.stderr
    assert "innerHTML = shown.map" in (tmp_path / "app" / "app.js").read_text()
    r = run("tasks", "export", "--out", str(tmp_path / "y"), "--domain", "plants", "--kind", "taste")
    # 4 taste traps, each also asked 3 ways in people's words (tasks/phrasing.py)
    assert r.returncode == 0 and len(list((tmp_path / "y").glob("*.yaml"))) == 16


def test_every_field_of_the_task_format_is_documented():
    from appwright.tasks import model

    for cls in (model.Task, model.StartBundle, model.SchemaCheck, model.ApiCheck, model.IsolationCheck,
                model.UiCheck, model.SecurityCheck, model.TasteCheck):
        for name, f in cls.model_fields.items():
            assert f.description or name in ("name", "weight", "required", "kind"), f"{cls.__name__}.{name}"
