"""appwright/attempt.py: one attempt of a task, the one grade record, the check kinds' declaration.

The graders here run for real (a served runtime, real HTTP, a real SQLite database); the
browser checks are left out (`browser=False`), the model is scripted."""

from __future__ import annotations

import json

from appwright.agent.check_app import check_app
from appwright.agent.config import Budget, HarnessConfig
from appwright.agent.guided import FILES_PREFIX
from appwright.agent.trajectory import Trajectory
from appwright.attempt import attempt, grade_answer, run
from appwright.evals.records import FUNCTIONAL_KINDS, SECURITY_KINDS
from appwright.models import ScriptedBackend
from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.graders import GRADERS, Grader
from appwright.tasks.model import KINDS, Grade, SecurityCheck
from appwright.workspace import list_versions

BANK = TaskBank.default()
BUILD = next(t for t in BANK.select(split="train", kind="build"))
EDIT = next(t for t in BANK.select(split="train", kind="edit"))


def answer(task) -> str:
    blocks = "\n".join(f'<file path="{p}">\n{c}\n</file>' for p, c in reference_files(task).items())
    return blocks + "\nThe app, as asked."


def no_browser(root):
    return check_app(root, browser=False)


def test_an_attempt_runs_the_agent_grades_once_and_saves_one_version(tmp_path):
    with Grader() as grader:
        result = attempt(EDIT, ScriptedBackend([answer(EDIT)]), tmp_path / "app", HarnessConfig(), grader,
                         checker=no_browser, browser=False)
    assert result.grade.good and result.grade.reward == 1.0, [c.evidence for c in result.grade.checks]
    assert result.trajectory.grade is result.grade and result.trajectory.task_id == EDIT.id
    assert result.trajectory.messages[1].content.startswith("The app's current files")  # the start bundle was sent
    assert [v.id for v in list_versions(tmp_path / "app")] == [result.trajectory.version_id]
    data = json.loads(result.trajectory.model_dump_json())
    assert data["grade"]["good"] is True and data["grade"]["reward"] == 1.0  # written with the checks
    assert Trajectory.model_validate(data).grade == result.grade


def test_a_bad_answer_is_graded_not_good_and_saves_no_version(tmp_path):
    with Grader() as grader:
        result = attempt(BUILD, ScriptedBackend(["I cannot build that."] * 2), tmp_path / "app",
                         HarnessConfig(budget=Budget(max_steps=2)), grader, checker=no_browser, browser=False)
    assert not result.grade.good and result.grade.reward == 0.0
    assert result.trajectory.version_id is None and not (tmp_path / "app" / ".aw").exists()


def test_run_without_saving_leaves_the_versions_to_its_caller(tmp_path):
    traj = run(BUILD.prompt, tmp_path / "app", ScriptedBackend([answer(BUILD)]), checker=no_browser,
               save_version=False)
    assert traj.check.ok and traj.check.servable and traj.version_id is None
    assert list_versions(tmp_path / "app") == []


def test_a_grpo_answer_is_written_through_the_tools_and_graded(tmp_path):
    text = answer(BUILD).removeprefix(FILES_PREFIX)  # the completion continues the prefix
    with Grader() as grader:
        done = grade_answer(BUILD, text + '\n<file path="../escape.txt">x</file>', tmp_path / "app", grader,
                            browser=False)
    assert done.grade.good and not (tmp_path / "escape.txt").exists()
    assert [r.ok for r in done.written][-1] is False  # refused by the confined tool


def test_a_grade_reads_back_with_its_computed_fields_recomputed():
    grade = Grade.model_validate({"task_id": "t", "seconds": 1.0, "reward": 0.99, "good": False, "checks": [
        {"name": "a", "kind": "schema", "passed": True, "weight": 1.0, "required": True, "evidence": "ok"}]})
    assert (grade.reward, grade.good) == (1.0, True)  # never the stored numbers
    assert json.loads(grade.model_dump_json())["reward"] == 1.0


def test_each_check_kind_is_declared_once_and_everything_derives_from_it():
    assert GRADERS.keys() == KINDS.keys()
    assert FUNCTIONAL_KINDS == ("schema", "api", "ui", "form") and SECURITY_KINDS == ("isolation", "security")
    assert {k for k, m in KINDS.items() if m.browser} == {"ui", "form", "look"}
    xss = SecurityCheck(name="x", test="xss", entity="Note", record={"title": "t"})
    assert xss.needs_browser() and not SecurityCheck(name="s", test="secrets").needs_browser()
