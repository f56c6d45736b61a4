"""Makes studio-0001.db: a studio database at Alembic revision 0001 holding a grade of the
security panel and a turn's trajectory, as the studio wrote them before the grade became one
record (issue 14). Run once, at commit 91212bf, from a checkout of it:

    PYTHONPATH=CHECKOUT python tests/data/legacy/make_studio_db.py OUT.db

tests/test_legacy_data.py reads the file this wrote.
"""

import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from appwright.agent.check_app import check_app
from appwright.agent.loop import run_agent
from appwright.models import ScriptedBackend
from appwright.studio.db import migrate
from appwright.tasks.graders import Grader
from appwright.tasks.probe import probe_task

NOW = "2026-12-02 12:00:00.000000"


def main(out: Path) -> None:
    examples = Path(__file__).resolve().parents[3] / "examples" / "notes"
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "app"
        shutil.copytree(examples, app, ignore=shutil.ignore_patterns(".*"))
        with Grader() as grader:
            grade = grader.grade(app, probe_task(app), browser=False)
        files = "".join(f'<file path="{p.name}">\n{p.read_text()}\n</file>\n' for p in sorted(app.iterdir()))
        traj = run_agent("a private notes app", Path(tmp) / "run", ScriptedBackend([files + "A notes app."]),
                         checker=lambda root: check_app(root, browser=False), task_id=None)
    out.unlink(missing_ok=True)
    migrate(f"sqlite:///{out}", "0001")
    checks = [c.model_dump(mode="json") for c in grade.checks]  # as studio/security.py stored them
    with sqlite3.connect(out) as con:
        con.execute("insert into people values ('p1', 'ada@example.com', 'x', ?)", (NOW,))
        con.execute("insert into apps values ('a1', 'p1', 'Notes', 'scripted', 'k1', ?, ?, ?)",
                    (traj.version_id, NOW, NOW))
        con.execute("insert into grades (app_id, vid, checks, passed, total, ok, seconds, created_at) "
                    "values ('a1', ?, ?, ?, ?, ?, ?, ?)",
                    (traj.version_id, json.dumps(checks), sum(c.passed for c in grade.checks), len(grade.checks),
                     grade.good, grade.seconds, NOW))
        con.execute("insert into turns (app_id, person_id, prompt, model, status, vid, reply, stop_reason, "
                    "prompt_tokens, completion_tokens, cost_usd, elapsed_s, created_at) values "
                    "('a1', 'p1', 'a private notes app', 'scripted', 'done', ?, ?, ?, 0, 0, 0, 0, ?)",
                    (traj.version_id, traj.summary, traj.stop_reason, NOW))
        con.execute("insert into trajectories values (?, 1, ?, ?)",
                    (traj.id, json.dumps(traj.model_dump(mode="json")), NOW))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
