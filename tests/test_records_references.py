"""Reference apps whose pages call aw.ui.records (tasks/reference.py `records_render`): what our own
model is trained to write for a new app (train/references.py). Each grades 1.0 with the task's
own checks, browser included, in every access mode and with every extra it covers; the rows
that train on them are shorter than the pages written by hand, and the rest keep those.

    .venv/bin/python -m pytest -q tests/test_records_references.py      # about a minute, Chromium
"""

from __future__ import annotations

from pathlib import Path

import pytest

from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.graders import Grader
from appwright.tasks.reference import RECORDS_FEATURES, records_render
from appwright.tasks.domains import domain
from appwright.train.references import reference_row

BANK = TaskBank.default()
# Every access mode, every extra, invite-only sign-up, prompts in people's words, a taste trap
# with no start bundle; train, dev and test domains.
TASKS = ["build-notes-owner-sort-search", "build-expenses-shared-validation-totals",
         "build-guestbook-publicread", "build-support-submitonly", "build-contacts-adminwrite",
         "build-teamtasks-shared-invite", "build-chores-shared-sort-totals.p1",
         "build-vocabulary-owner-search-filter.p2", "build-bookings-owner-sort-search",
         "build-movies-shared-sort-filter.p3", "taste-notes-passwords", "taste-expenses-secret-key"]


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (folder / rel).write_text(text)
    return folder


def test_the_sample_covers_every_access_mode_and_extra():
    features = {f for i in TASKS for f in BANK.get(i).features}
    assert features == set(RECORDS_FEATURES)


@pytest.mark.parametrize("task_id", TASKS)
def test_a_new_app_is_written_with_records_and_a_change_by_hand(task_id):
    task = BANK.get(task_id)
    files = reference_files(task, records=True)
    assert "aw.ui.records(" in files["index.html"] and set(files) <= {"app.json", "index.html", "admin.html"}
    assert files["app.json"] == reference_files(task)["app.json"]  # the same app, only the page differs
    assert len(files["index.html"]) < len(reference_files(task)["index.html"])


def test_what_records_does_not_cover_keeps_the_page_by_hand():
    for task_id in ["build-recipes-owner-linked", "build-contacts-adminwrite-roles",
                    "edit-habits-owner-add-validation", "fix-notes-owner-innerhtml", "taste-journal-public-for-now"]:
        files = reference_files(BANK.get(task_id), records=True)
        assert "aw.ui.records(" not in files["index.html"] and "app.js" in files, task_id
    with pytest.raises(ValueError, match="linked"):
        records_render(domain("recipes"), ["owner", "linked"])


def test_training_rows_write_new_apps_with_records_and_are_shorter():
    task = BANK.get("build-chores-shared-sort-totals.p1")
    row = reference_row(task)
    assert 'aw.ui.records("#chores", {entity: "Chore", sort: "-minutes", total: "minutes"});' in row.answer
    assert '<file path="app.js">' not in row.answer and row.answer.endswith(row.reply)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("task_id", TASKS)
def test_records_reference_grades_one(grader, tmp_path, task_id):
    task = BANK.get(task_id)
    g = grader.grade(write(tmp_path / "app", reference_files(task, records=True)), task, reply=task.reference_reply)
    assert g.good and g.reward == 1.0, {c.name: c.evidence for c in g.checks if not c.passed}
    assert {c.name for c in g.checks} == {c.name for c in task.checks}
