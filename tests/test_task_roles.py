"""Roles and a second page (issue 17): `submit_only` apps, where anyone sends a form without an
account and only admins read what was sent, on a page of their own; `admin_write` apps, where
members read and only admins write; `roles`, where an admin's invite makes a member or an admin.
Real runtime over real HTTP, real Chromium.

    .venv/bin/python -m pytest -q tests/test_task_roles.py       # about a minute

The generated tasks (build, its people phrasings, the edit that adds the admins' page, the
fixes) and a hand-written helpdesk (tests/data/roles/helpdesk) that names everything its own
way, its admins' page `inbox.html` included.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from appwright.tasks.bank import TaskBank, materialise_start, reference_files
from appwright.tasks.domains import JARGON, load_domains
from appwright.tasks.graders import Grader

HELPDESK = Path(__file__).resolve().parent / "data" / "roles" / "helpdesk"
BANK = TaskBank.default()


def failed(grade) -> dict[str, str]:
    return {c.name: c.evidence for c in grade.checks if not c.passed}


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


def test_submit_only_apps_come_in_every_kind_and_in_peoples_words():
    domains = [d.name for d in load_domains() if "submit_only" in d.access]
    assert len(domains) >= 3
    for name in domains:
        build = BANK.get(f"build-{name}-submitonly")
        assert "`admin.html`" in build.prompt and "only admins" in build.prompt
        assert {c.name for c in build.checks} >= {"api-send", "isolation", "ui-send", "ui-admin-list",
                                                   "ui-admin-only", "xss"}
        for p in (1, 2, 3):
            phrased = BANK.get(f"build-{name}-submitonly.p{p}")
            assert "admin" in phrased.prompt and not JARGON.search(phrased.prompt), phrased.prompt
        edit = BANK.get(f"edit-{name}-submitonly-add-adminpage")
        assert "admin.html" not in edit.start.files and "admin.html" in reference_files(edit)
        fixes = [t for t in BANK.tasks if t.id.startswith(f"fix-{name}-submitonly-")]
        assert f"fix-{name}-submitonly-admin-open" in {t.id for t in fixes} and len(fixes) >= 5


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_helpdesk_with_its_own_names_and_its_own_admin_page_grades_one(grader):
    """Entity `Request`, fields summary/description/urgency, the admins' page `inbox.html`: all
    found by meaning and by the page being the app's other page, on a prompt that names nothing."""
    task = BANK.get("build-support-submitonly.p1")
    assert task.meaning is not None
    g = grader.grade(HELPDESK, task)
    assert g.good and g.reward == 1.0, failed(g)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_helpdesk_that_lets_every_user_read_fails_isolation(grader, tmp_path):
    app = shutil.copytree(HELPDESK, tmp_path / "helpdesk")
    m = json.loads((app / "app.json").read_text())
    m["entities"]["Request"]["access"] = "shared"
    (app / "app.json").write_text(json.dumps(m))
    g = grader.grade(app, BANK.get("build-support-submitonly.p1"), browser=False)
    assert not g.good and "only admins may read it" in failed(g)["isolation"], failed(g)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_without_its_admin_page_the_app_fails_and_says_so(grader, tmp_path):
    task = BANK.get("edit-repairs-submitonly-add-adminpage")
    g = grader.grade(materialise_start(task, tmp_path / "app"), task)
    assert not g.good
    bad = failed(g)
    assert "no page admin.html" in bad["ui-admin-list"], bad
    assert "ui-send" not in bad and "isolation" not in bad, bad  # the form itself works


# -- admin_write: a role-gated access map (members read, only admins write) --------------------

def test_admin_write_apps_come_in_every_kind_and_in_peoples_words():
    domains = [d.name for d in load_domains() if "admin_write" in d.access]
    assert {d.split for d in load_domains() if d.name in domains} == {"train", "dev", "test"}
    for name in domains:
        build = BANK.get(f"build-{name}-adminwrite")
        assert "only admins" in build.prompt and build.author_role == "admin"
        m = json.loads(reference_files(build)["app.json"])
        assert next(iter(m["entities"].values()))["access"] == {"read": "signed_in", "create": "admin",
                                                                 "update": "admin", "delete": "admin"}
        for p in (1, 2, 3):
            phrased = BANK.get(f"build-{name}-adminwrite.p{p}")
            assert "admin" in phrased.prompt and not JARGON.search(phrased.prompt) and phrased.author_role == "admin"
        assert any(t.id.startswith(f"edit-{name}-adminwrite-add-") for t in BANK.tasks)
        assert BANK.get(f"fix-{name}-adminwrite-members-write").author_role == "admin"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_an_app_that_only_hides_the_form_from_members_fails_isolation(grader, tmp_path):
    """members_write: the page shows its form to admins only, but app.json lets every signed-in user
    add records: a member who posts through the API gets in."""
    task = BANK.get("fix-contacts-adminwrite-members-write")
    checks = [c for c in task.checks if c.kind == "isolation"]
    g = grader.grade(materialise_start(task, tmp_path / "app"), task.model_copy(update={"checks": checks}))
    assert not g.good
    assert "only users with the admin role may add one" in failed(g)["isolation"], failed(g)
    g = grader.grade(write_reference(task, tmp_path / "ref"), task.model_copy(update={"checks": checks}))
    assert g.good and "only the admin role adds one" in g.checks[0].evidence, failed(g)


def write_reference(task, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for rel, text in reference_files(task).items():
        (folder / rel).write_text(text)
    return folder


# -- roles: invite-only sign-up where an admin's invite makes a member or an admin ---------------

@pytest.mark.slow
@pytest.mark.timeout(240)
def test_an_admin_invites_a_new_admin_from_the_page_and_a_page_without_the_choice_fails(grader, tmp_path):
    task = BANK.get("build-contacts-adminwrite-roles.p1")
    assert task.meaning is not None and "invite" in task.prompt and "ui-invite-admin" in {c.name for c in task.checks}
    g = grader.grade(write_reference(task, tmp_path / "ref"), task)
    assert g.good and g.reward == 1.0, failed(g)
    assert "made an invite for admin" in next(c.evidence for c in g.checks if c.name == "ui-invite-admin")

    only = task.model_copy(update={"checks": [c for c in task.checks if c.name == "ui-invite-admin"]})
    # the app before the edit that adds roles: no way to invite anyone on the page
    edit = BANK.get("edit-contacts-adminwrite-add-roles")
    g = grader.grade(materialise_start(edit, tmp_path / "start"), only)
    assert not g.good and "no menu on the page offers 'admin'" in failed(g)["ui-invite-admin"], failed(g)
    # a menu that shows the choice, and a script that ignores it: every code is a member's
    app = write_reference(task, tmp_path / "ignores")
    js = (app / "app.js").read_text()
    assert "inviteForm.role.value || undefined" in js
    (app / "app.js").write_text(js.replace("inviteForm.role.value || undefined", "undefined"))
    g = grader.grade(app, only)
    assert not g.good and "(invites made: member)" in failed(g)["ui-invite-admin"], failed(g)
