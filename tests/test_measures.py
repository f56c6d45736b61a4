"""agent/measures.py: a measure people write with decimals is a number, not a whole number."""

import json

import pytest

from appwright.agent.check_app import check_app
from appwright.agent.loop import run_agent
from appwright.agent.measures import fit_measures
from appwright.models.scripted import ScriptedBackend
from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.graders import grade_bundle


def manifest(fields: dict) -> str:
    return json.dumps({"name": "Log", "auth": {"signup": "open"},
                       "entities": {"Trip": {"fields": {"journey": {"type": "string", "required": True},
                                                        **fields}, "access": "owner"}}}, indent=2)


def types(text: str) -> dict[str, str]:
    return {n: f["type"] for n, f in json.loads(text)["entities"]["Trip"]["fields"].items()}


def test_a_measure_declared_whole_becomes_a_number_and_a_count_stays():
    """The read people runs' failures: `miles` refused 42.5, `time_in_minutes` 24.5, `hours` 4.5."""
    app = manifest({"miles": {"type": "integer", "min": 0}, "time_in_minutes": {"type": "integer"},
                    "hours": {"type": "integer", "min": 1, "max": 12}, "passengers": {"type": "integer"},
                    "fee": {"type": "number"}})
    text, fixes = fit_measures(app, "Each trip: the journey, the miles, how long, passengers, the fee.")
    assert types(text) == {"journey": "string", "miles": "number", "time_in_minutes": "number", "hours": "number",
                           "passengers": "integer", "fee": "number"}
    assert json.loads(text)["entities"]["Trip"]["fields"]["hours"] == {"type": "number", "min": 1, "max": 12}
    assert fixes == [f"entities.Trip.fields.{n}: integer -> number: a measure people write with decimals (4.5)"
                     for n in ("miles", "time_in_minutes", "hours")]


@pytest.mark.parametrize("request_text, before", [
    ("Each trip: the journey and the miles, in whole miles please.", None),  # asked whole
    ("Each trip: the journey and the miles.", manifest({"miles": {"type": "integer"}})),  # the app had it so
])
def test_a_measure_asked_whole_or_whole_before_stays(request_text, before):
    app = manifest({"miles": {"type": "integer"}})
    assert fit_measures(app, request_text, before) == (app, [])
    assert fit_measures("{not json", request_text) == ("{not json", [])


@pytest.mark.parametrize("task_id", ["build-workouts-owner.p1", "people-guitar-teacher"])
def test_a_reference_app_with_its_whole_minutes_made_a_number_still_grades_good(tmp_path, task_id):
    """The graders take a number where a task declares a whole number (one family): the rule
    changes reference apps that count minutes whole (train's workouts, recipes, chores; 18 people
    tasks), and each still passes every check."""
    task = TaskBank.default().get(task_id)
    files = reference_files(task)
    files["app.json"], fixes = fit_measures(files["app.json"], task.prompt)
    assert fixes and all("integer -> number" in f for f in fixes)
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    grade = grade_bundle(tmp_path, task, reply=task.reference_reply, browser=False)
    assert grade.good, [c for c in grade.checks if not c.passed]


def test_the_loop_writes_the_number_and_records_the_fix(tmp_path):
    app = manifest({"miles": {"type": "integer"}})
    page = ('<!doctype html>\n<html><head><title>Trips</title></head><body><h1>Trips</h1>'
            '<div id="auth"></div><div id="list"></div><script src="/_aw/sdk.js"></script><script>'
            'aw.ui.authForm("#auth"); aw.ui.records("#list", {entity: "Trip"});</script></body></html>')
    reply = f'<file path="app.json">\n{app}\n</file>\n<file path="index.html">\n{page}\n</file>\nTrips.'
    traj = run_agent("my mileage log: the journey (required) and the miles", tmp_path / "app",
                     ScriptedBackend([reply]), checker=lambda root: check_app(root, browser=False))
    assert types((tmp_path / "app" / "app.json").read_text())["miles"] == "number"
    assert traj.steps[0].fixes[-1].startswith("entities.Trip.fields.miles: integer -> number")
