"""agent/choices.py: a menu of the choices the request lists, and no menu it does not list."""

import json

import pytest

from appwright.agent.check_app import check_app
from appwright.agent.choices import fit_choices
from appwright.agent.loop import run_agent
from appwright.models.scripted import ScriptedBackend
from appwright.tasks.bank import TaskBank, reference_files


def manifest(fields: dict) -> str:
    return json.dumps({"name": "Quilts", "auth": {"signup": "open"},
                       "entities": {"Quilt": {"fields": {"name": {"type": "string", "required": True}, **fields},
                                              "access": "owner"}}}, indent=2)


def fields_of(text: str) -> dict:
    return json.loads(text)["entities"]["Quilt"]["fields"]


YES_NO = {"type": "boolean"}


def references(split):
    """(request, reference app.json) for each build and taste task of `split` that starts empty."""
    return [(t.prompt, reference_files(t)["app.json"]) for t in TaskBank.default().select(split=split)
            if t.kind in ("build", "taste") and t.start is None and t.domain]


@pytest.mark.parametrize("split", ["train", "dev", "test", "people"])
def test_no_reference_app_of_the_bank_is_changed(split):
    """The rules' safety: every menu of every reference app has values its request names, and no
    reference field is taken for a choice (field lists, "packed or not", "only the author may
    change or delete")."""
    changed = [(r[:80], fit_choices(app, r)[1]) for r, app in references(split) if fit_choices(app, r)[1]]
    assert references(split) and changed == []


def as_yes_no_fields(app: dict, entity: str, menu: str) -> dict:
    """`app` with the menu declared as the 0.5B does: a yes/no field per choice, where it was."""
    out = json.loads(json.dumps(app))
    fields = out["entities"][entity]["fields"]
    out["entities"][entity]["fields"] = {k: v for n, spec in fields.items() for k, v in (
        [(c.lower().replace(" ", "_"), YES_NO) for c in spec["values"]] if n == menu else [(n, spec)])}
    return out


@pytest.mark.parametrize("split", ["train", "dev", "test", "people"])
def test_a_menu_made_into_yes_no_fields_becomes_that_menu_again(split):
    """Each reference menu, declared as a yes/no field per choice, comes back as a menu of exactly
    those values, in all but a few requests ("3 tanks (community, shrimp and betta)" lists them
    with "and")."""
    tried = back = 0
    for request, text in references(split):
        app = json.loads(text)
        for entity, spec in app["entities"].items():
            for menu in [n for n, f in spec["fields"].items() if f["type"] == "enum"]:
                fixed = json.loads(fit_choices(json.dumps(as_yes_no_fields(app, entity, menu)), request)[0])
                got = fixed["entities"][entity]["fields"]
                tried += 1
                values = spec["fields"][menu]["values"]
                back += len(got) == len(spec["fields"]) and any(f.get("values") == values for f in got.values())
    assert tried and back >= 0.95 * tried


def test_choices_made_fields_become_one_menu_where_the_first_was_and_say_why():
    text, fixes = fit_choices(manifest({"pattern": {"type": "string"}, "planning": {"type": "text"},
                                        "sewing": {"type": "text"}, "finished": YES_NO, "notes": {"type": "text"}}),
                              "private list of my quilt projects: name (must have), pattern, planning/sewing/finished, "
                              "fabric cost, notes")
    assert list(fields_of(text)) == ["name", "pattern", "category", "notes"]
    assert fields_of(text)["category"] == {"type": "enum", "values": ["planning", "sewing", "finished"]}
    assert fixes == ["entities.Quilt: planning, sewing, finished -> category, one of planning, sewing, finished: "
                     "the request lists these as choices"]


@pytest.mark.parametrize("request_text, fields, name, values", [
    ("Each one: title, status: queued / listening / finished, link.", ["queued", "finished"], "status",
     ["queued", "listening", "finished"]),
    ("water tests: title, tank (community, shrimp or betta)", ["community", "shrimp", "betta"], "tank",
     ["community", "shrimp", "betta"]),
    ("item (must), grams, backpack/daypack/car, packed or not", ["backpack"], "category",
     ["backpack", "daypack", "car"]),
    ("route name, difficulty easy moderate or hard, region", ["easy", "moderate", "hard"], "difficulty",
     ["easy", "moderate", "hard"]),
    ("a note, top and bottom number, and which arm, left or right", ["left", "right"], "category", ["left", "right"]),
])
def test_the_lists_people_write(request_text, fields, name, values):
    text, _ = fit_choices(manifest({f: YES_NO for f in fields}), request_text)
    assert fields_of(text) == {"name": {"type": "string", "required": True}, name: {"type": "enum", "values": values}}


@pytest.mark.parametrize("request_text, fields", [
    ("groceries: item, packed or not, notes", {"packed": YES_NO}),                   # one yes/no field, asked
    ("tasks: title, done (yes or no)", {"done": YES_NO}),
    ("a book (title, author, pages)", {"title": {"type": "string"}, "author": {"type": "string"}}),  # a field list
    ("only the author may change or delete one; author and message", {"author": {"type": "string"}}),
    ("road trail or track", {"track": {"type": "string"}}),  # one text field of a list: maybe a field of its own
])
def test_fields_and_yes_no_fields_that_are_asked_for_stay(request_text, fields):
    assert fit_choices(manifest(fields), request_text) == (manifest(fields), [])


def test_a_menu_the_request_never_names_becomes_text_and_one_it_names_stays():
    fields = {"where": {"type": "enum", "values": ["home", "office", "school"], "required": True},
              "released": YES_NO, "kind": {"type": "enum", "values": ["pike", "perch"]}}
    text, fixes = fit_choices(manifest(fields), "Fish (required), weight, where (required), released or not. "
                                                "Pike or perch.")
    assert fields_of(text)["where"] == {"type": "string", "required": True}
    assert fields_of(text)["kind"] == fields["kind"]
    assert fixes == ["entities.Quilt.fields.where: one of home, office, school -> text: the request names none of "
                     "these"]


@pytest.mark.parametrize("request_text, values, said", [
    ("cake type birthday, wedding or cupcakes, price", ["birthday cake", "wedding cake", "cupcakes"],
     ["birthday", "wedding", "cupcakes"]),
    ("colour (red, white or sparkling)", ["red", "white", "sparking"], ["red", "white", "sparkling"]),
    ("whether it's tablets, liquid or cream", ["tablet", "liquid", "cream"], ["tablets", "liquid", "cream"]),
    ("priority low, medium or high", ["low", "mid", "high"], ["low", "medium", "high"]),
    # the README's request: "read" is said only as a part of "to read", which means another thing
    ("a status (to read, reading, finished), see only their own", ["read", "reading", "finished"],
     ["to read", "reading", "finished"]),
    ("status (want to go, been or skip it)", ["want", "been", "skip"], ["want to go", "been", "skip it"]),
])
def test_a_menu_of_the_listed_choices_written_otherwise_takes_the_requests_words(request_text, values, said):
    fields = {"kind": {"type": "enum", "values": values, "default": values[0]}}
    text, fixes = fit_choices(manifest(fields), request_text)
    assert fields_of(text)["kind"] == {"type": "enum", "values": said, "default": said[0]}
    assert fixes == [f"entities.Quilt.fields.kind: one of {', '.join(values)} -> one of {', '.join(said)}: the "
                     "request's words"]


@pytest.mark.parametrize("request_text, values", [
    ("type: wedding, portrait or product", ["none", "portrait", "landscape"]),  # another list
    ("priority low, medium or high", ["high", "mid", "low"]),  # out of the list's order: no place to stand in
    ("which house (oak, ash, rowan)", ["Oak", "Ash", "Rowan"]),  # the same words
    ("size small, medium or large; colour red or blue", ["small", "large"]),  # fewer values than choices
    ("a status (To read, reading, finished)", ["to read", "Reading", "finished"]),  # the same words
    ("tanks (community, shrimp and betta)", ["community", "shrimp", "betta"]),  # "and": not a list of choices
])
def test_a_menu_that_is_not_the_listed_choices_written_otherwise_stays(request_text, values):
    fields = {"kind": {"type": "enum", "values": values}}
    assert [f for f in fit_choices(manifest(fields), request_text)[1] if "request's words" in f] == []


def test_one_letter_values_are_named_only_as_written():
    """"A, B, C" is not named by "a simple log"; "grades A, B or C" names them."""
    fields = {"grade": {"type": "enum", "values": ["A", "B", "C", "D", "E"]}}
    text, fixes = fit_choices(manifest(fields), "a simple climbing log: route (required), grade, attempts")
    assert fields_of(text)["grade"] == {"type": "string"} and len(fixes) == 1
    assert fit_choices(manifest(fields), "a log: route, grade A, B, C, D or E")[1] == []


def test_yes_no_fields_of_choices_of_several_words_become_one_menu_of_them():
    fields = {"to_read": YES_NO, "reading": YES_NO, "finished": YES_NO}
    text, fixes = fit_choices(manifest(fields), "my quilting books with a status (to read, reading or finished)")
    assert fields_of(text)["status"] == {"type": "enum", "values": ["to read", "reading", "finished"]}
    assert list(fields_of(text)) == ["name", "status"] and len(fixes) == 1
    # brackets that list fields, one of them a yes/no field: no menu
    fields = {"flavour": {"type": "string"}, "colours": {"type": "string"}, "writing_on_top": YES_NO}
    assert fit_choices(manifest(fields), "cake orders: who, cake details (flavour, colours, writing on top)")[1] == []


def test_fields_the_app_had_before_are_the_persons_earlier_choice():
    fields = {"planning": YES_NO, "sewing": YES_NO, "where": {"type": "enum", "values": ["home", "office"]}}
    assert fit_choices(manifest(fields), "add planning/sewing/finished", before=manifest(fields))[1] == []
    assert fit_choices("{not json", "planning/sewing") == ("{not json", [])


def test_the_loop_writes_the_menu_and_records_the_fix(tmp_path):
    page = ('<!doctype html>\n<html><head><title>Quilts</title></head><body><h1>Quilts</h1>'
            '<div id="auth"></div><div id="list"></div><script src="/_aw/sdk.js"></script><script>'
            'aw.ui.authForm("#auth"); aw.ui.records("#list", {entity: "Quilt"});</script></body></html>')
    app = manifest({"planning": YES_NO, "sewing": YES_NO, "finished": YES_NO})
    reply = f'<file path="app.json">\n{app}\n</file>\n<file path="index.html">\n{page}\n</file>\nQuilts.'
    traj = run_agent("my quilt projects, just mine: name, planning/sewing/finished", tmp_path / "app",
                     ScriptedBackend([reply]), checker=lambda root: check_app(root, browser=False))
    assert fields_of((tmp_path / "app" / "app.json").read_text())["category"]["values"] == ["planning", "sewing",
                                                                                              "finished"]
    assert traj.steps[0].fixes[-1].startswith("entities.Quilt: planning, sewing, finished -> category")
    assert traj.steps[0].check.ok
