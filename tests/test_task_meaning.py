"""Checks that follow the prompt (graders/meaning.py): an app that names things its own way is
graded on what it does, and one that leaves out what the person asked for is told so in words."""

from __future__ import annotations

import json

import pytest

from appwright.runtime.manifest import parse_manifest
from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.domains import domain
from appwright.tasks.generate import build_tasks
from appwright.tasks.graders import grade_bundle
from appwright.tasks.graders.meaning import bind, rename, words
from appwright.tasks.model import EntityMeaning, FieldMeaning, Meaning
from appwright.tasks.reference import render

WORKOUT = Meaning(entities=[EntityMeaning(name="Workout", label="workouts", words=["workout", "session", "exercise"],
                                          fields=[
    FieldMeaning(name="activity", label="activity", type="string", words=["name", "sport", "what"]),
    FieldMeaning(name="minutes", label="minutes", type="integer", words=["duration", "time", "length", "mins"]),
    FieldMeaning(name="intensity", label="intensity", type="enum", words=["effort", "difficulty", "level"]),
    FieldMeaning(name="notes", label="notes", type="text", words=["comments", "details", "description"]),
])])

RENAMED = {  # what a model might call the same app
    "name": "Gym log",
    "entities": {"Session": {"fields": {
        "sportName": {"type": "string", "required": True, "max_length": 120},
        "duration_mins": {"type": "integer", "required": True, "min": 1, "max": 600},
        "effort": {"type": "enum", "values": ["easy", "moderate", "hard"]},
        "comments": {"type": "text"},
        "rating": {"type": "integer", "required": True, "min": 1, "max": 5},  # nobody asked for it
    }, "access": "owner"}},
}


def test_words_split_names_the_way_people_and_code_write_them():
    assert words("dueDate") == words("due_date") == words("Due dates") == {"due", "date"}
    assert words("the name of it") == {"name"}
    assert words("address") == {"address"}  # not an "addres"
    assert words("for") == {"for"} and words("for whom") == {"whom"}  # little words count when nothing else is left


def test_a_field_named_for_is_who_it_is_for():
    """'who it's for' -> `for`: the person's own word binds (it was dropped as a little word)."""
    task = TaskBank.default().get("people-medicines-drawer")
    app = {"name": "Meds", "entities": {"Medicine": {"fields": {
        "name": {"type": "string", "required": True}, "expiry_date": {"type": "date", "required": True},
        "doses_left": {"type": "integer"}, "form": {"type": "enum", "values": ["tablets", "liquid", "cream"]},
        "for": {"type": "string"}, "notes": {"type": "text"}}}}}
    b = bind(parse_manifest(app), task.meaning)
    assert b.fields["Medicine"]["who_for"] == "for" and b.missing == []


def test_an_app_with_its_own_names_binds_field_by_field():
    b = bind(parse_manifest(RENAMED), WORKOUT)
    assert b.entities == {"Workout": "Session"}
    assert b.fields["Workout"] == {"activity": "sportName", "minutes": "duration_mins", "intensity": "effort",
                                   "notes": "comments"}
    assert b.missing == []
    assert b.extra == {"Session": {"rating": 1}}  # a required field nobody asked for gets a plain value


def test_what_is_missing_is_said_in_the_persons_words():
    app = json.loads(json.dumps(RENAMED))
    del app["entities"]["Session"]["fields"]["duration_mins"]
    app["entities"]["Session"]["fields"]["duration"] = {"type": "string"}  # the wrong type does not count
    b = bind(parse_manifest(app), WORKOUT)
    assert b.missing == ["no field for the minutes in Session (its `duration` is text; asked: a whole number)"]
    b = bind(parse_manifest({"name": "x", "entities": {}}), WORKOUT)
    assert b.missing == ["no entity for the workouts (app.json declares: none)"]


def test_the_reference_app_binds_to_its_own_names():
    d = domain("workouts")
    [task] = [t for t in build_tasks(d) if t.features == ["owner", "sort"]]
    b = bind(parse_manifest(json.loads(render(d, task.features)["app.json"])), d.meaning())
    assert b.entities == {"Workout": "Workout"} and b.missing == [] and b.extra == {"Workout": {}}
    assert [rename(c, b) for c in task.checks] == task.checks


def test_checks_are_renamed_into_the_apps_names():
    d = domain("workouts")
    [task] = [t for t in build_tasks(d) if t.features == ["owner", "filter"]]
    b = bind(parse_manifest(RENAMED), WORKOUT)
    renamed = {c.name: rename(c, b) for c in task.checks}
    assert renamed["schema"].entity == "Session"
    assert set(renamed["schema"].fields) == {"sportName", "duration_mins", "effort", "comments"}
    assert renamed["api-crud"].record["sportName"] == "Hill sprints" and renamed["api-crud"].record["rating"] == 1
    assert "activity" not in renamed["api-crud"].change and "sportName" in renamed["api-crud"].change
    select = next(s.select for s in renamed["ui-filter"].steps if s.select)
    assert select["not"] == "effort"
    fill = next(s.fill for s in renamed["ui-create"].steps if s.fill)
    assert fill["field"] == "sportName" and fill["label"] == "activity"


@pytest.mark.parametrize("meaning, good", [(WORKOUT, True), (None, False)])
def test_a_renamed_app_passes_by_meaning_and_fails_by_name(tmp_path, meaning, good):
    """The API, isolation and schema checks (no browser) of a workout task on an app that calls
    everything by other names: graded good with the task's meaning, failed without it."""
    d = domain("workouts")
    [task] = [t for t in build_tasks(d) if t.features == ["owner"]]
    files = render(d, ["owner"])
    files["app.json"] = json.dumps(RENAMED)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    grade = grade_bundle(tmp_path, task.model_copy(update={"meaning": meaning}), browser=False)
    assert grade.good is good, [(c.name, c.evidence) for c in grade.checks if not c.passed]
    if not good:
        schema = next(c for c in grade.checks if c.name == "schema")
        assert "no entity 'Workout'" in schema.evidence


def test_a_missing_field_fails_the_schema_check_with_the_message(tmp_path):
    d = domain("workouts")
    [task] = [t for t in build_tasks(d) if t.features == ["owner"]]
    app = json.loads(json.dumps(RENAMED))
    del app["entities"]["Session"]["fields"]["effort"]
    files = render(d, ["owner"])
    files["app.json"] = json.dumps(app)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    grade = grade_bundle(tmp_path, task.model_copy(update={"meaning": WORKOUT}), browser=False)
    schema = next(c for c in grade.checks if c.name == "schema")
    assert not schema.passed and "no field for the intensity in Session" in schema.evidence
    assert not grade.good
    assert next(c for c in grade.checks if c.name == "api-crud").passed  # the rest still measures the app


def test_a_menu_of_the_asked_values_binds_whatever_its_name_and_camel_case_is_the_same_name():
    d = domain("expenses")
    app = {"name": "Money", "entities": {"Spend": {"fields": {
        "whatFor": {"type": "string", "required": True}, "amount": {"type": "number", "required": True},
        "howIFelt": {"type": "enum", "values": list(reversed(d.field("category").values))},
        "spentOn": {"type": "date"}}}}}
    b = bind(parse_manifest(app), d.meaning())
    assert b.fields["Expense"]["category"] == "howIFelt" and b.fields["Expense"]["spent_on"] == "spentOn"
    app["entities"]["Spend"]["fields"]["howIFelt"]["values"] = ["food", "travel"]  # not what was asked
    assert "category" not in bind(parse_manifest(app), d.meaning()).fields["Expense"]


def test_a_field_of_that_name_but_another_type_is_named_in_the_message():
    app = json.loads(json.dumps(RENAMED))
    app["entities"]["Session"]["fields"]["effort"] = {"type": "string"}
    [missing] = bind(parse_manifest(app), WORKOUT).missing
    assert missing == "no field for the intensity in Session (its `effort` is text; asked: one of a list)"
    intensity = WORKOUT.entities[0].fields[2].model_copy(update={"values": ["easy", "hard"]})
    [missing] = bind(parse_manifest(app), Meaning(entities=[WORKOUT.entities[0].model_copy(
        update={"fields": [intensity]})])).missing
    assert missing == "no field for the intensity in Session (its `effort` is text; asked: one of easy, hard)"


def _capitalised_menu(task) -> dict[str, str]:
    """The task's reference app with its menu's values written Easy, Moderate, Hard."""
    files = reference_files(task)
    for v in ("easy", "moderate", "hard"):
        files["app.json"] = files["app.json"].replace(f'"{v}"', f'"{v.capitalize()}"')
        files["index.html"] = files["index.html"].replace(f"<option>{v}<", f"<option>{v.capitalize()}<")
    assert "Moderate" in files["app.json"] and "<option>Moderate<" in files["index.html"]
    return files


def test_a_menu_written_in_another_case_is_the_menu_asked_for(tmp_path):
    """The task says "moderate", the app's menu "Moderate": the API checks send the app's value
    (they were refused with 400) and binding finds the menu by its values."""
    task = TaskBank.default().get("build-workouts-owner-filter")
    for name, text in _capitalised_menu(task).items():
        (tmp_path / name).write_text(text)
    grade = grade_bundle(tmp_path, task, browser=False)
    assert grade.good, [(c.name, c.evidence) for c in grade.checks if not c.passed]
    app = json.loads((tmp_path / "app.json").read_text())
    app["entities"]["Workout"]["fields"]["level"] = app["entities"]["Workout"]["fields"].pop("intensity")
    meaning = domain("workouts").meaning()
    assert bind(parse_manifest(app), meaning).fields["Workout"]["intensity"] == "level"


@pytest.mark.slow
def test_a_menu_in_another_case_is_picked_in_the_browser(tmp_path):
    """The filter and create steps pick "moderate" from a menu that shows "Moderate"."""
    task = TaskBank.default().get("build-workouts-owner-filter")
    for name, text in _capitalised_menu(task).items():
        (tmp_path / name).write_text(text)
    grade = grade_bundle(tmp_path, task)
    assert grade.good, [(c.name, c.evidence) for c in grade.checks if not c.passed]
    assert {"ui-filter", "ui-create"} <= {c.name for c in grade.checks if c.passed}
