"""Data written before the grade became one record still loads (issue 14).

The eval folders under docs/results/ were written by that code (rows of format 1, the grade's
numbers flat on the row; trajectories whose `grade` is a dict with `reward` and `good` patched
in); tests/data/legacy/studio-0001.db is a studio database at Alembic revision 0001 made by it
(tests/data/legacy/make_studio_db.py, run at commit 91212bf).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from appwright.agent.trajectory import read_jsonl
from appwright.evals.records import FORMAT, AttemptRow, read_rows
from appwright.evals.report import write_report
from appwright.tasks.model import Grade
from conftest import ROOT

RESULTS = ROOT / "docs" / "results"
# the eval folders published before the refactor (later ones hold format-2 rows)
FOLDERS = ["eval-05b-dev40", "eval-05b-dev40-v2", "eval-05b-dev40-v2b", "eval-15b-dev40", "eval-dev40"]
LEGACY = Path(__file__).parent / "data" / "legacy"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("folder", FOLDERS)
def test_published_eval_rows_load_and_rebuild_the_same_metrics(folder, tmp_path):
    src = RESULTS / folder
    old = _lines(src / "results.jsonl")
    assert {o["format"] for o in old} == {1}  # written before the refactor
    shutil.copy(src / "results.jsonl", tmp_path / "results.jsonl")
    rows = read_rows(tmp_path / "results.jsonl")
    first = {}
    for o in old:  # read_rows keeps the first row of a repeated key
        first.setdefault((o["task_id"], o["model"], o["sample"]), o)
    assert len(rows) == len(first)
    for r in rows:
        o = first[r.key]
        assert (r.reward, r.good, r.grade_s) == (o["reward"], o["good"], o["grade_s"])
        assert [(c.name, c.passed, c.evidence) for c in r.checks] == \
            [(c["name"], c["passed"], c["evidence"]) for c in o["checks"]]
    metrics, _ = write_report(tmp_path)
    rebuilt = json.loads(metrics.model_dump_json())
    assert rebuilt.pop("machines") == {"(not recorded)": len(rows)}  # a field added after these were published
    assert rebuilt == json.loads((src / "metrics.json").read_text(encoding="utf-8"))


def test_a_format_1_row_reads_as_the_current_format_and_writes_the_grade_record():
    old = _lines(RESULTS / FOLDERS[-1] / "results.jsonl")[0]
    row = AttemptRow.model_validate(old)
    data = json.loads(row.model_dump_json())
    assert data["format"] == FORMAT and "reward" not in data and "checks" not in data and data["rungs"] is None
    assert data["grade"]["reward"] == old["reward"] and data["grade"]["good"] == old["good"]
    assert AttemptRow.model_validate(data) == row  # and reads back


def test_a_format_2_row_reads_as_the_current_format():
    old = _lines(RESULTS / "eval-05b-dev40-v2c" / "results.jsonl")[0]
    assert old["format"] == 2
    row = AttemptRow.model_validate(old)
    assert row.format == FORMAT and row.rungs is None and row.grade.reward == old["grade"]["reward"]


def test_published_trajectories_load_with_their_grade_as_the_record():
    folder = RESULTS / "eval-05b-dev40-v2b"
    rows = {r.trajectory_id: r for r in read_rows(folder / "results.jsonl")}
    trajectories = list(read_jsonl(folder / "trajectories.jsonl"))
    assert len(trajectories) >= len(rows)
    for traj in trajectories:
        assert isinstance(traj.grade, Grade)
        if traj.id in rows:
            assert (traj.grade.reward, traj.grade.good) == (rows[traj.id].reward, rows[traj.id].good)


def test_a_studio_database_at_revision_0001_is_migrated_and_reads_its_grades_and_trajectories(tmp_path):
    from appwright.agent.trajectory import Trajectory
    from appwright.studio.app import close_studio, create_studio
    from appwright.studio.config import StudioConfig
    from appwright.studio.db import Database, GradeRow, TrajectoryRow

    db_file = tmp_path / "studio.db"
    shutil.copy(LEGACY / "studio-0001.db", db_file)
    with sqlite3.connect(db_file) as con:
        assert con.execute("select version_num from alembic_version").fetchone() == ("0001",)
        stored = json.loads(con.execute("select checks from grades").fetchone()[0])
    url = f"sqlite:///{db_file}"
    close_studio(create_studio(StudioConfig(data_dir=tmp_path, db_url=url, check_in_browser=False,
                                            grade_in_browser=False)))  # migrates the log to the head revision
    db = Database(url)
    try:
        with db.session() as s:
            row = s.query(GradeRow).one()
            grade = row.grade
            assert stored and [c.model_dump(mode="json") for c in grade.checks] == stored
            assert (grade.good, sum(c.passed for c in grade.checks), len(grade.checks)) == (row.ok, row.passed,
                                                                                          row.total)
            traj = Trajectory.model_validate(s.query(TrajectoryRow).one().data)
            assert traj.summary == "A notes app." and traj.check.ok and traj.version_id
    finally:
        db.close()
