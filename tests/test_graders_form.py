"""The `form` check (graders/form.py): on a prompt that names nothing, a user fills the page's own
form with no script, and the page shows the record to exactly whom the privacy words allow. Real
runtime over real HTTP, real Chromium; the reference apps pass in every access mode, and each
broken app fails with words that say what a person would see.

    .venv/bin/python -m pytest -q tests/test_graders_form.py      # about a minute
"""

from __future__ import annotations

import json

import pytest

from appwright.tasks.bank import TaskBank
from appwright.tasks.domains import domain
from appwright.tasks.graders import Grader
from appwright.tasks.reference import render

pytestmark = pytest.mark.slow
BANK = TaskBank.default()


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


def form_only(task_id: str):
    """The people task with its form check alone (the other checks have tests of their own)."""
    task = BANK.get(task_id)
    assert task.meaning is not None and [c.kind for c in task.checks].count("form") == 1, task_id
    return task.model_copy(update={"checks": [c for c in task.checks if c.kind == "form"]})


def grade(grader, tmp_path, task_id: str, features: list[str], flaw: str | None = None, manifest=None):
    task = form_only(task_id)
    files = render(domain(task.domain), features, flaw)
    if manifest:
        m = json.loads(files["app.json"])
        manifest(m)
        files["app.json"] = json.dumps(m)
    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    [check] = grader.grade(tmp_path, task).checks
    return check


@pytest.mark.timeout(180)
@pytest.mark.parametrize("task_id, features, says", [
    ("build-notes-owner.p1", ["owner"], "another signed-in user does not see it; a signed-out visitor does not"),
    ("build-habits-shared.p2", ["shared"], "another signed-in user sees it; a signed-out visitor does not"),
    ("build-guestbook-publicread.p3", ["public_read"], "another signed-in user sees it; a signed-out visitor sees"),
    ("build-support-submitonly.p1", ["submit_only"], "another signed-in user does not see it; an admin sees it"),
    ("build-contacts-adminwrite.p2", ["admin_write"], "a signed-in admin filled the form"),
])
def test_the_reference_app_passes_in_every_access_mode(grader, tmp_path, task_id, features, says):
    check = grade(grader, tmp_path, task_id, features)
    assert check.passed, check.evidence
    assert says in check.evidence and "POST /_aw/api/entities/" in check.evidence


@pytest.mark.timeout(180)
@pytest.mark.parametrize("task_id, features, flaw, manifest, says", [
    # private notes the page shows to everyone (`"access": "public"`)
    ("build-notes-owner.p1", ["owner"], "wrong_access", None,
     "another signed-in user on / sees 'Plant the tulips', which the prompt keeps from them"),
    # a shared app that keeps each user's records to themselves
    ("build-habits-shared.p2", ["shared"], None, lambda m: m["entities"]["Habit"].update(access="owner"),
     "another signed-in user on / does not see 'Plant the tulips', which the prompt lets them read"),
    # a list that is not loaded again after a record is added
    ("build-notes-owner.p1", ["owner"], "no_refresh", None, "the page does not show 'Plant the tulips' afterwards"),
    # the form sends a number field's text as a string: the strict API refuses it, nothing is saved
    ("build-expenses-owner.p1", ["owner"], "string_to_number", None, "-> 400"),
    # an admins' page that checks no role, over access that lets every signed-in user read
    ("build-support-submitonly.p1", ["submit_only"], "admin_open",
     lambda m: m["entities"]["Ticket"].update(access={"read": "signed_in", "create": "public"}),
     "another signed-in user on /admin.html sees 'Plant the tulips', which the prompt keeps from them"),
    # the planted flaw as it is: "shared" access, so a visitor cannot even send the form
    ("build-support-submitonly.p1", ["submit_only"], "admin_open", None,
     "a signed-out visitor: submitting the first form"),
])
def test_a_broken_app_fails_and_says_what_a_person_would_see(grader, tmp_path, task_id, features, flaw, manifest,
                                                            says):
    check = grade(grader, tmp_path, task_id, features, flaw, manifest)
    assert not check.passed and says in check.evidence, check.evidence
