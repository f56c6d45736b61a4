"""agent/required.py: a field is required only where the request asks for it."""

import json

import pytest

from appwright.agent.check_app import check_app
from appwright.agent.loop import run_agent
from appwright.agent.required import fit_required, read_parts
from appwright.models.scripted import ScriptedBackend
from appwright.tasks.bank import TaskBank, reference_files, start_files

REQ = {"required": True}


def manifest(fields: dict) -> str:
    return json.dumps({"name": "Log", "auth": {"signup": "open"},
                       "entities": {"Entry": {"fields": fields, "access": "owner"}}}, indent=2)


def required_of(text: str) -> list[str]:
    return [n for n, f in json.loads(text)["entities"]["Entry"]["fields"].items() if f.get("required")]


@pytest.mark.parametrize("request_text, fields, want", [
    # the people requests our model failed: the form refused a record with what was asked filled in
    ("Each shoot: client name and date (both required), fee, wedding/portrait/product, location.",
     {"client": "string", "date": "date", "fee": "number", "location": "string"}, ["client", "date"]),
    ("each reading: a short note like 'monday morning' (must have), the top number and bottom number (both must "
     "be filled in), pulse, date, and which arm", {"note": "string", "top": "integer", "bottom": "integer",
                                                   "pulse": "integer"}, ["note", "top", "bottom"]),
    ("hiking log just for me. trail name (has to be there), distance km, region. distance must be from 0.1 to 200 km",
     {"trail_name": "string", "distance_km": "number"}, ["trail_name"]),
    ("Race name and date are both required; also distance in km, my finish time in minutes.",
     {"name": "string", "date": "date", "distance_km": "number", "time_minutes": "number"}, ["name", "date"]),
    ("Each one: a note (required, e.g. 'after walk'), pulse, the date.",
     {"note": "string", "pulse": "integer", "date": "date"}, ["note"]),
    ("It has `room` (required), `day` (a date, required) and `attendees` (a whole number).",
     {"room": "string", "day": "date", "attendees": "integer"}, ["room", "day"]),
    # a part that is only its cue asks for the part before it
    ("Each climb: the route name and the date, both required, the grade, and notes.",
     {"route": "string", "climb_on": "date", "grade": "string", "notes": "text"}, ["route", "climb_on"]),
])
def test_a_field_named_but_not_asked_for_is_not_required(request_text, fields, want):
    text, fixes = fit_required(manifest({n: {"type": t, **REQ} for n, t in fields.items()}), request_text)
    assert required_of(text) == want
    assert len(fixes) == len(fields) - len(want) and all("not required" in f for f in fixes)


@pytest.mark.parametrize("request_text", [
    "A log: name, pulse, date.",  # says nothing of required: nothing to tell by
    "No saving without the name, the pulse and the date.",  # the cue asks for the rest of its sentence
    "Name (required), pulse (must be filled in), date.",
    "The name is required. Pulse must be from 30 to 220, date.",  # pulse is named in no sentence that asks
    "name (required), the top number (required), pulse, date. Pulse has to be there too",
])
def test_a_field_asked_for_or_not_told_apart_stays_required(request_text):
    app = manifest({"name": {"type": "string", **REQ}, "pulse": {"type": "integer", **REQ}, "date": {"type": "date"}})
    assert fit_required(app, request_text) == (app, [])


def test_the_first_field_links_and_fields_required_before_stay():
    request = "Each visit: a vet (required), the date, the pet, a title."
    fields = {"title": {"type": "string", **REQ}, "vet": {"type": "string", **REQ},
              "pet": {"type": "ref", "entity": "Pet", **REQ}, "date": {"type": "date", **REQ}}
    assert required_of(fit_required(manifest(fields), request)[0]) == ["title", "vet", "pet"]
    assert fit_required(manifest(fields), request, before=manifest(fields))[1] == []  # the app had them so
    assert fit_required("{not json", request) == ("{not json", [])


def test_parts_are_cut_outside_brackets_and_limits_are_no_cue():
    parts = [p for s in read_parts("A note (required, e.g. 'after walk'), hours. Hours must be 0 to 16; site.")
             for p in s]
    assert parts == [("A note (required, e.g. 'after walk')", True), ("hours", False),
                     ("Hours must be 0 to 16", False), ("site", False)]


def bank_apps(split: str):
    """(request, reference app.json, the app.json it starts from) for each task of `split` with a
    generated reference."""
    for t in TaskBank.default().select(split=split):
        if t.domain:
            yield t.prompt, reference_files(t)["app.json"], start_files(t).get("app.json")


@pytest.mark.parametrize("split", ["train", "dev", "test", "people"])
def test_no_reference_app_of_the_bank_is_changed(split):
    changed = [(r[:80], fixes) for r, app, before in bank_apps(split) if (fixes := fit_required(app, r, before)[1])]
    assert changed == []


@pytest.mark.parametrize("split, share", [("train", 0.15), ("dev", 0.15), ("test", 0.15), ("people", 0.6)])
def test_a_reference_field_made_required_is_put_back_and_no_other(split, share):
    """The 0.5B's mistake made on each optional field of each reference app that starts empty:
    `required` comes off again on people's requests mostly, and on generated ones where the fields
    and what is required are one sentence; never off a field the reference requires (measured at
    the rule's making: train 25% of 9,704, dev 25% of 772, test 24% of 1,596, people 69% of 368)."""
    tried = back = 0
    for request, app, before in bank_apps(split):
        if before is not None:
            continue
        data = json.loads(app)
        for entity_name, entity in data["entities"].items():
            wanted = {n for n, f in entity["fields"].items() if f.get("required")}
            for name in [n for n in list(entity["fields"])[1:] if n not in wanted]:
                entity["fields"][name]["required"] = True
                fixed = json.loads(fit_required(json.dumps(data), request)[0])["entities"][entity_name]["fields"]
                del entity["fields"][name]["required"]
                assert {n for n, f in fixed.items() if f.get("required")} <= wanted | {name}, request
                tried, back = tried + 1, back + (not fixed[name].get("required"))
    assert tried > 100 and back >= share * tried, (back, tried)


def test_the_loop_writes_the_field_optional_and_records_the_fix(tmp_path):
    app = json.dumps({"name": "Shoots", "auth": {"signup": "open"},
                      "entities": {"Shoot": {"fields": {"client": {"type": "string", **REQ},
                                                        "shoot_date": {"type": "date", **REQ},
                                                        "fee": {"type": "number", **REQ}}, "access": "owner"}}})
    page = ('<!doctype html>\n<html><head><title>Shoots</title></head><body><h1>Shoots</h1>'
            '<div id="auth"></div><div id="list"></div><script src="/_aw/sdk.js"></script><script>'
            'aw.ui.authForm("#auth"); aw.ui.records("#list", {entity: "Shoot"});</script></body></html>')
    reply = f'<file path="app.json">\n{app}\n</file>\n<file path="index.html">\n{page}\n</file>\nShoots.'
    traj = run_agent("a shoot planner, only me. client and shoot date (both required), fee.", tmp_path / "app",
                     ScriptedBackend([reply]), checker=lambda root: check_app(root, browser=False))
    fields = json.loads((tmp_path / "app" / "app.json").read_text())["entities"]["Shoot"]["fields"]
    assert [n for n, f in fields.items() if f.get("required")] == ["client", "shoot_date"]
    assert traj.steps[0].fixes[-1].startswith("entities.Shoot.fields.fee: not required")
    assert traj.steps[0].check.ok
