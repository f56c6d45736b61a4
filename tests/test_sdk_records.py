"""`aw.ui.records`: a page of two lines of script, on the manifest of a real task, makes an app the
task's own graders call good (real runtime, real HTTP, real Chromium). The page is written once,
from what the app is for (its entity and the options a person asked for); the checks are the bank's.

    .venv/bin/python -m pytest -q tests/test_sdk_records.py        # about a minute
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.graders import Grader

pytestmark = pytest.mark.slow

BANK = TaskBank.default()


def page(title: str, options: dict) -> str:
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body>
  <h1>{title}</h1>
  <div id="auth"></div>
  <div id="app"></div>
  <script src="/_aw/sdk.js"></script>
  <script>
    aw.ui.authForm("#auth");
    aw.ui.records("#app", {json.dumps(options)});
  </script>
</body></html>"""


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


def app(task_id: str, options: dict, folder: Path, **pages: dict) -> Path:
    task = BANK.get(task_id)
    files = {"app.json": reference_files(task)["app.json"]}
    name = json.loads(files["app.json"])["name"]
    files["index.html"] = page(name, options)
    files.update({f"{p}.html": page(name, o) for p, o in pages.items()})
    folder.mkdir()
    for path, text in files.items():
        (folder / path).write_text(text)
    return folder


@pytest.mark.parametrize("task_id, options", [
    ("build-workouts-owner-sort-totals", {"sort": "-minutes", "total": "minutes"}),
    ("build-workouts-owner-sort-totals.p2", {"sort": "-minutes", "total": "minutes"}),  # people's words
    ("build-expenses-shared-search", {"search": True}),
    ("build-bookmarks-publicread-filter", {"filter": "tag"}),
    ("build-habits-owner-validation", {}),
    ("build-vocabulary-adminwrite", {"entity": "Word"}),  # members read, only admins see the form
    # a field named `item`: form.elements["item"] is the collection's own method, so the SDK asks namedItem
    ("people-swapshop-school-gate", {"sort": "item", "total": "quantity"}),
])
def test_a_records_page_on_the_task_s_manifest_is_good(grader, tmp_path, task_id, options):
    g = grader.grade(app(task_id, options, tmp_path / "app"), BANK.get(task_id))
    assert g.good and g.reward == 1.0, {c.name: c.evidence for c in g.checks if not c.passed}


def test_a_form_anyone_sends_and_a_list_only_admins_read(grader, tmp_path):
    """submit_only: the same call shows a visitor the form and no list, and an admin the list."""
    task_id = "build-support-submitonly"
    g = grader.grade(app(task_id, {}, tmp_path / "app", admin={"form": False}), BANK.get(task_id))
    assert g.good and g.reward == 1.0, {c.name: c.evidence for c in g.checks if not c.passed}


def test_a_records_page_without_the_asked_for_total_fails_its_check(grader, tmp_path):
    task_id = "build-workouts-owner-sort-totals"
    g = grader.grade(app(task_id, {"sort": "-minutes"}, tmp_path / "app"), BANK.get(task_id))
    assert not g.good and [c.name for c in g.checks if not c.passed] == ["ui-totals"]


def test_an_id_css_cannot_write_is_still_found(grader, tmp_path):
    """A page names its list after the app, "#collector's-corner": not a valid CSS selector, yet
    the id the page wrote; the SDK finds the element by its id instead of throwing."""
    task_id = "build-expenses-shared-search"
    folder = app(task_id, {"search": True}, tmp_path / "app")
    html = (folder / "index.html").read_text()
    (folder / "index.html").write_text(html.replace('id="app"', '''id="collector's-corner"''').replace(
        'aw.ui.records("#app"', '''aw.ui.records("#collector's-corner"''').replace(
        'aw.ui.authForm("#auth"', '''aw.ui.authForm("#sign in"''').replace('id="auth"', 'id="sign in"'))
    g = grader.grade(folder, BANK.get(task_id))
    assert g.good and g.reward == 1.0, {c.name: c.evidence for c in g.checks if not c.passed}
