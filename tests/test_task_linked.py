"""Apps with two entities linked by a `ref`, shown together (issue 17): a recipe with its steps, a
pet with its vet visits. The build, its people phrasings, the edit that adds the part, the fix of
`ref_leak` (the part open wider than what it belongs to). Real runtime, real HTTP, real Chromium.

    .venv/bin/python -m pytest -q tests/test_task_linked.py       # about a minute
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appwright.runtime.manifest import parse_manifest
from appwright.tasks.bank import TaskBank, materialise_start, reference_files
from appwright.tasks.domains import JARGON, load_domains
from appwright.tasks.graders import Grader
from appwright.tasks.graders.meaning import bind, rename

BANK = TaskBank.default()
LINKED = [d for d in load_domains() if d.part]


def failed(grade) -> dict[str, str]:
    return {c.name: c.evidence for c in grade.checks if not c.passed}


def write(files: dict[str, str], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


def test_linked_apps_come_in_every_kind_split_and_in_peoples_words():
    assert {d.split for d in LINKED} == {"train", "dev", "test"} and len({d.family for d in LINKED}) >= 5
    for d in LINKED:
        access = d.access[0]
        mode = access.replace("_", "")
        build = BANK.get(f"build-{d.name}-{mode}-linked")
        assert f"entity `{d.part.entity}`" in build.prompt and f"a ref to `{d.entity}`" in build.prompt
        assert {"schema-part", "api-part-crud", "isolation-part", "ui-together", "xss-part"} <= {
            c.name for c in build.checks}
        for p in (1, 2, 3):
            phrased = BANK.get(f"build-{d.name}-{mode}-linked.p{p}")
            assert not JARGON.search(phrased.prompt), phrased.prompt
            assert [e.name for e in phrased.meaning.entities] == [d.entity, d.part.entity]
        edit = BANK.get(f"edit-{d.name}-{mode}-add-linked")
        assert d.part.entity not in edit.start.files["app.json"]
        fix = BANK.get(f"fix-{d.name}-{mode}-ref-leak")
        leaked = json.loads(fix.start.files["app.json"])["entities"][d.part.entity]["access"]
        assert leaked != access
        m = parse_manifest(json.loads(reference_files(build)["app.json"]))
        link = m.entities[d.part.entity].fields[d.part.link]
        assert link.type == "ref" and link.entity == d.entity and link.required


def test_a_phrasing_binds_both_entities_and_the_link_by_meaning():
    """The app says Dish and Direction, `dish` and `text`; the checks' Recipe, Step, `recipe` and
    `instruction` are found, links included."""
    task = BANK.get("build-recipes-owner-linked.p1")
    m = parse_manifest({"name": "Cook", "entities": {
        "Dish": {"fields": {"name": {"type": "string", "required": True}, "ingredients": {"type": "text"},
                            "minutes": {"type": "integer"}, "course": {"type": "enum",
                                                                       "values": ["starter", "main", "dessert"]}}},
        "Direction": {"fields": {"text": {"type": "string", "required": True}, "minutes": {"type": "integer"},
                                 "dish": {"type": "ref", "entity": "Dish", "required": True}}}}})
    b = bind(m, task.meaning)
    assert b.entities == {"Recipe": "Dish", "Step": "Direction"} and not b.missing, b
    assert b.fields["Step"] == {"instruction": "text", "minutes": "minutes", "recipe": "dish"}
    schema = rename(next(c for c in task.checks if c.name == "schema-part"), b)
    assert schema.entity == "Direction" and schema.refs == {"dish": "Dish"}
    api = rename(next(c for c in task.checks if c.name == "api-part-crud"), b)
    assert api.record["dish"] == {"link": "Dish", "to": {"name": "Lentil soup", "ingredients": "lentils onion cumin",
                                                         "minutes": 40, "course": "starter"}}


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("task_id", ["build-recipes-owner-linked", "build-recipes-publicread-linked.p2",
                                     "build-bookings-shared-linked", "edit-petcare-owner-add-linked",
                                     "fix-movies-shared-ref-leak"])
def test_the_reference_of_a_linked_task_grades_one(grader, task_id, tmp_path):
    task = BANK.get(task_id)
    g = grader.grade(write(reference_files(task), tmp_path / "app"), task)
    assert g.good and g.reward == 1.0, failed(g)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["owner", "shared", "publicread"])
def test_a_part_open_wider_than_its_records_fails_isolation(grader, mode, tmp_path):
    task = BANK.get(f"fix-recipes-{mode}-ref-leak")
    g = grader.grade(materialise_start(task, tmp_path / "app"), task, browser=False)
    bad = failed(g)
    assert not g.good and set(bad) == {"isolation-part"}, bad
    assert "Step" in bad["isolation-part"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_steps_listed_apart_from_their_recipe_fail_and_say_so(grader, tmp_path):
    """Every step on the page, in a list of their own: each one shows, but not with its recipe."""
    task = BANK.get("build-recipes-owner-linked")
    files = reference_files(task)
    files["app.js"] = files["app.js"].replace("${partsOf(r)}", "").replace(
        "  fillMenu();", '  fillMenu();\n  aw.ui.list("#steps", parts, x => aw.html`<li>${x.instruction}</li>`);')
    files["index.html"] = files["index.html"].replace('<ul id="list"></ul>', '<ul id="list"></ul>\n  <ul id="steps"></ul>')
    g = grader.grade(write(files, tmp_path / "app"), task)
    bad = failed(g)
    assert set(bad) == {"ui-together"}, bad
    assert "no part of the page shows 'Rinse the lentils' with 'Lentil soup'" in bad["ui-together"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_part_linked_to_the_wrong_entity_fails_the_schema_check(grader, tmp_path):
    task = BANK.get("build-petcare-owner-linked")
    files = reference_files(task)
    m = json.loads(files["app.json"])
    m["entities"]["Vet"] = {"fields": {"name": {"type": "string", "required": True}}}
    m["entities"]["Visit"]["fields"]["pet"]["entity"] = "Vet"
    files["app.json"] = json.dumps(m)
    g = grader.grade(write(files, tmp_path / "app"), task, browser=False)
    assert "pet: a ref to Vet, expected one to Pet" in failed(g)["schema-part"], failed(g)


DATA = Path(__file__).resolve().parent / "data" / "linked"
COOKBOOK = DATA / "cookbook"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("app, task_id", [("cookbook", "build-recipes-owner-linked.p3"),
                                          ("vetlog", "build-petcare-shared-linked.p1")])
def test_apps_written_by_hand_with_their_own_names_and_layout_grade_one(grader, app, task_id):
    """Written by hand, found by meaning on prompts that name nothing: Dish and Direction (`dish_id`),
    each dish an <article> with its directions in an <ol>; Animal and CheckUp (`animal`), the visits
    in a table whose rows name the pet."""
    g = grader.grade(DATA / app, BANK.get(task_id))
    assert g.good and g.reward == 1.0, failed(g)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_cookbook_whose_directions_lack_the_minutes_asked_for_fails_and_says_so(grader, tmp_path):
    app = tmp_path / "cookbook"
    app.mkdir()
    (app / "index.html").write_text((COOKBOOK / "index.html").read_text())
    m = json.loads((COOKBOOK / "app.json").read_text())
    del m["entities"]["Direction"]["fields"]["mins"]
    (app / "app.json").write_text(json.dumps(m))
    g = grader.grade(app, BANK.get("build-recipes-owner-linked.p3"), browser=False)
    assert "no field for the minutes in Direction" in failed(g)["schema-part"], failed(g)
