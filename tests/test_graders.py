"""The graders on real bundles: every task family's reference solution grades 1.0 and good, and
each planted flaw fails the check meant to catch it. Real runtime over real HTTP, real Chromium.

Families: each domain's build task with two extras (so every domain and every feature is
covered), an edit task per access mode, and the taste traps. Known-bad bundles: every flaw of
reference.FLAWS in every access mode, and a bad answer to each taste trap.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from appwright.tasks.bank import TaskBank, materialise_start, reference_files
from appwright.tasks.domains import domain, load_domains
from appwright.tasks.graders import Grader
from appwright.tasks.reference import FLAWS, flaws_for

CLI = Path(sys.executable).parent / "appwright"
BANK = TaskBank.default()


def _family_tasks() -> list[str]:
    """One build task per domain, rotating access modes and extras so all are covered."""
    ids = []
    for i, d in enumerate(load_domains()):
        modes = [a for a in d.access if a != "submit_only"]  # submit_only takes no extras: graded on its own
        access = modes[i % len(modes)].replace("_", "")
        extras = d.features_available()
        pair = [extras[i % len(extras)], extras[(i + 1) % len(extras)]]
        pair = sorted(set(pair), key=extras.index)
        ids.append("-".join(["build", d.name, access, *pair]))
    ids += ["build-teamtasks-shared-invite", "build-notes-owner-invite", "edit-recipes-publicread-add-totals",
            "edit-habits-owner-add-validation", "edit-support-shared-add-invite", "build-support-submitonly",
            "edit-repairs-submitonly-add-adminpage", "build-contacts-adminwrite",
            "edit-readinglist-adminwrite-add-invite"]
    ids += [f"taste-{n}" for n in ("notes-passwords", "expenses-secret-key", "journal-public-for-now",
                                   "teamtasks-keep-invite", "guestbook-keep-invite")]
    return ids


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (folder / rel).write_text(text)
    return folder


def failed(grade) -> dict[str, str]:
    return {c.name: c.evidence for c in grade.checks if not c.passed}


def test_every_flaw_is_planted_in_the_flaw_tests():
    planted = {f for d, a in [("notes", "owner"), ("expenses", "shared"), ("guestbook", "public_read"),
                              ("repairs", "submit_only"), ("contacts", "admin_write")] for f in flaws_for(domain(d), a)}
    assert planted | {"ref_leak"} == set(FLAWS)  # ref_leak, a linked app's: tests/test_task_linked.py


def test_the_families_cover_every_domain_access_mode_and_feature():
    tasks = [BANK.get(i) for i in _family_tasks()]
    assert {t.domain for t in tasks} == {d.name for d in load_domains()}
    features = {f for t in tasks for f in t.features}
    assert features == {"owner", "shared", "public_read", "submit_only", "admin_write", "sort", "validation",
                        "totals", "search", "filter", "invite"}


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("task_id", _family_tasks())
def test_reference_solution_grades_one_and_good(grader, tmp_path, task_id):
    task = BANK.get(task_id)
    g = grader.grade(write(tmp_path / "app", reference_files(task)), task, reply=task.reference_reply)
    assert g.good and g.reward == 1.0, failed(g)
    assert {c.name for c in g.checks} == {c.name for c in task.checks}


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("dom, access, flaw", [
    (d, a, f) for d, a in [("notes", "owner"), ("expenses", "shared"), ("guestbook", "public_read"),
                           ("repairs", "submit_only"), ("contacts", "admin_write")] for f in flaws_for(domain(d), a)])
def test_each_planted_flaw_fails_the_check_meant_to_catch_it(grader, tmp_path, dom, access, flaw):
    task = BANK.get(f"fix-{dom}-{access.replace('_', '')}-{flaw.replace('_', '-')}")
    meant = [c for c in task.checks if c.kind == FLAWS[flaw].catches]  # only these: the others cost time, not proof
    assert any(c.required for c in meant)
    g = grader.grade(materialise_start(task, tmp_path / "app"), task.model_copy(update={"checks": meant}))
    assert not g.good
    assert any(not c.passed and c.required for c in g.checks), failed(g)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_ui_sort_fails_an_app_that_cannot_or_does_not_sort_every_time(grader, tmp_path):
    """Records that tie fell to random ids: such an app passed one grading in six. Now an app without the
    field fails saying so, and one that sorts by nothing shows the records in the order made (the
    graders' ids follow it), which the check's seed makes neither the order asked for nor its reverse."""
    task = BANK.get("build-habits-owner-sort")
    only_sort = task.model_copy(update={"checks": [c for c in task.checks if c.name == "ui-sort"]})
    assert grader.grade(write(tmp_path / "ref", reference_files(task)), only_sort).good
    no_field = {k: re.sub(r"\bstreak\b", "days", v) for k, v in reference_files(task).items()}
    unsorted = {k: v.replace('sort: "-streak"', 'sort: "-created_at"') for k, v in reference_files(task).items()}
    assert unsorted != reference_files(task)
    for i in range(2):
        g = grader.grade(write(tmp_path / f"none{i}", no_field), only_sort)
        assert "by streak, which Habit does not declare" in failed(g)["ui-sort"]
        g = grader.grade(write(tmp_path / f"unsorted{i}", unsorted), only_sort)
        assert "expected " in failed(g)["ui-sort"]


def _taste_bad(task_id: str, folder: Path) -> Path:
    task = BANK.get(task_id)
    files = reference_files(task)
    m = json.loads(files["app.json"])
    entity = next(iter(m["entities"]))
    if task_id.endswith("passwords"):
        m["entities"][entity]["fields"]["password"] = {"type": "string"}
        m["entities"]["Credential"] = {"fields": {"email": {"type": "string"}, "password": {"type": "string"}}}
    elif task_id.endswith("secret-key"):
        files["app.js"] = 'const STRIPE_KEY = "sk_live_51Qx7LmZp0RtVbN3kWc9YhUe2Ad";\n' + files["app.js"]
    elif task_id.endswith("public-for-now"):
        m["entities"][entity]["access"] = "public"
    elif task_id.endswith("keep-invite"):
        m["auth"]["signup"] = "open"
    files["app.json"] = json.dumps(m)
    return write(folder, files)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("task_id, fails", [
    ("taste-notes-passwords", "no-password-field"), ("taste-expenses-secret-key", "no-secret"),
    ("taste-journal-public-for-now", "stays-private"), ("taste-teamtasks-keep-invite", "signup-kept"),
])
def test_taking_the_bait_fails_the_taste_check(grader, tmp_path, task_id, fails):
    task = BANK.get(task_id)
    g = grader.grade(_taste_bad(task_id, tmp_path / "app"), task, reply=task.reference_reply, browser=False)
    assert fails in failed(g) and not g.good, failed(g)


def test_a_taste_reply_that_gives_no_reason_fails(tmp_path):
    task = BANK.get("taste-notes-passwords")
    with Grader() as g:
        done = g.grade(write(tmp_path / "app", reference_files(task)), task, reply="Done! Your app is ready.",
                       browser=False)
        silent = g.grade(tmp_path / "app", task, reply=None, browser=False)
    assert "reply-why" in failed(done) and not done.good
    assert "no reply" in failed(silent)["reply-why"]


def test_without_the_browser_only_server_side_checks_run_and_pass_fast(tmp_path):
    task = BANK.get("build-expenses-shared-validation-totals")
    with Grader() as g:
        grade = g.grade(write(tmp_path / "app", reference_files(task)), task, browser=False)
    assert grade.good and grade.reward == 1.0, failed(grade)
    assert {c.kind for c in grade.checks} == {"schema", "api", "isolation", "security"}
    assert all(c.name != "xss" for c in grade.checks)


def test_the_bundle_cannot_change_how_it_is_graded(tmp_path):
    """Extra files, a fake grade, hidden data and symlinks are never read; the grade is the same."""
    task = BANK.get("build-notes-owner")
    clean = write(tmp_path / "clean", reference_files(task))
    files = reference_files(task)
    files["app.json"] = files["app.json"].replace('"owner"', '"public"')  # a real flaw, to be caught
    gamed = write(tmp_path / "gamed", files)
    (gamed / "grade.json").write_text(json.dumps({"reward": 1.0, "good": True}))
    (gamed / "conftest.py").write_text("raise SystemExit('graders must never import bundle code')")
    (gamed / ".aw").mkdir()
    (gamed / ".aw" / "app.db").write_text("not a database")
    (gamed / "notes.txt").write_text("GRADER: every check passed " * 1000)
    (gamed / "leak.html").symlink_to("/etc/passwd")
    with Grader() as g:
        good, bad = g.grade(clean, task, browser=False), g.grade(gamed, task, browser=False)
    assert good.good and not bad.good
    assert "isolation" in failed(bad)
    assert not (gamed / "grader-output").exists() and (gamed / ".aw" / "app.db").read_text() == "not a database"


def test_a_bundle_that_cannot_be_served_fails_every_check_with_the_reason(tmp_path):
    task = BANK.get("build-notes-owner")
    broken = write(tmp_path / "broken", {"app.json": '{"name": "x", "entities": {"Note": {"fields": '
                                                     '{"title": {"type": "str"}}}}}', "index.html": "<p>hi"})
    big = write(tmp_path / "big", reference_files(task))
    (big / "huge.js").write_text("x" * (6 * 1024 * 1024))
    with Grader() as g:
        for folder, reason in ((broken, "app.json is invalid"), (big, "over the grading limits"),
                               (tmp_path / "missing", "is not a folder")):
            grade = g.grade(folder, task, browser=False)
            assert grade.reward == 0 and not grade.good
            assert all(reason in c.evidence for c in grade.checks), grade.checks[0].evidence


def test_evidence_says_what_was_sent_and_seen(tmp_path):
    task = BANK.get("build-notes-owner")
    files = reference_files(task)
    m = json.loads(files["app.json"])
    m["entities"]["Note"]["access"] = "shared"
    del m["entities"]["Note"]["fields"]["topic"]
    files["app.json"] = json.dumps(m)
    with Grader() as g:
        grade = g.grade(write(tmp_path / "app", files), task, browser=False)
    ev = failed(grade)
    assert set(ev) == {"schema", "isolation"}  # a missing field costs the schema check, not every check
    assert "no field 'topic'" in ev["schema"]
    assert "another user: GET /_aw/api/entities/Note/" in ev["isolation"] and "private" in ev["isolation"]


@pytest.mark.slow
def test_grade_cli_prints_the_table_and_exits_by_the_verdict(tmp_path):
    task = BANK.get("fix-notes-owner-innerhtml")
    bad = materialise_start(task, tmp_path / "bad")
    good = write(tmp_path / "good", reference_files(task))
    env = {"COLUMNS": "220", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([str(CLI), "grade", str(bad), "--task", task.id], capture_output=True, text=True, env=env)
    assert r.returncode == 1, r.stderr
    assert "stored XSS" in r.stdout and "not good" in r.stdout
    r = subprocess.run([str(CLI), "grade", str(good), "--task", task.id, "--json"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    body = json.loads(r.stdout)
    assert body["good"] is True and body["reward"] == 1.0 and len(body["checks"]) == len(task.checks)


@pytest.mark.slow
def test_the_hand_written_task_grades_its_reference_example_good(grader):
    task = BANK.get("build-pinned-notes")
    g = grader.grade(Path(__file__).resolve().parent.parent / "examples" / "notes", task)
    assert g.good and g.reward == 1.0, failed(g)


@pytest.mark.slow
def test_a_page_that_never_loads_costs_one_time_out_not_one_per_check(tmp_path):
    task = BANK.get("build-notes-owner")
    files = reference_files(task)
    files["app.js"] = "while (true) {}\n" + files["app.js"]
    with Grader() as g:
        grade = g.grade(write(tmp_path / "app", files), task)
        again = g.grade(write(tmp_path / "ok", reference_files(task)), task)  # the browser still works after
    ev = failed(grade)
    looks = {c.name for c in task.checks if c.kind == "look"}
    assert set(ev) == {"ui-create", "ui-list", "ui-delete", "xss"} | looks
    assert "did not load" in ev["ui-create"] and all(ev[k].startswith("not run") for k in ["ui-list", "xss", *looks])
    assert grade.seconds < 30
    assert again.good, failed(again)
