"""The security panel's checks: the probe of each new version, graded in the background.

    security = SecurityWorker(config, db)
    security.enqueue(app_id, vid)       # after a turn or a restore makes `vid` the head
    security.status(app_id, vid)        # "queued" | "running" | "error: ..." | None (graded or unknown)

One worker thread grades one version at a time (it keeps one `Grader`, so one Chromium):
1. the version's files are written to a temporary folder (never the live bundle, which the
   next turn may change meanwhile);
2. `probe_task(folder)` (tasks/probe.py) derives the isolation and security checks from the
   app's own manifest; None (no entities) means there is nothing to probe: a grade with no
   checks is stored;
3. `Grader().grade(folder, task)` runs them on a fresh runtime with an empty database, and
   the `GradeRow` holds every CheckResult with its evidence.

A version already graded (a restore brings it back) is not graded again. A failure of the
probe itself is kept in memory as the version's status and shown in the panel; nothing is
stored for it, so a restart of the studio tries again.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from pathlib import Path

from sqlalchemy import select

from appwright.studio import bundles
from appwright.studio.config import StudioConfig
from appwright.studio.db import Database, GradeRow
from appwright.tasks.graders import Grader

log = logging.getLogger("appwright.studio")


class SecurityWorker:
    def __init__(self, config: StudioConfig, db: Database):
        self.config, self.db = config, db
        self._jobs: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._status: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def enqueue(self, app_id: str, vid: str) -> None:
        with self._lock:
            if self._status.get((app_id, vid)) in ("queued", "running") or self._graded(app_id, vid):
                return
            self._status[(app_id, vid)] = "queued"
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="studio-security", daemon=True)
                self._thread.start()
        self._jobs.put((app_id, vid))

    def status(self, app_id: str, vid: str) -> str | None:
        return self._status.get((app_id, vid))

    def close(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout)

    def _graded(self, app_id: str, vid: str) -> bool:
        with self.db.session() as s:
            return s.scalar(select(GradeRow.id).where(GradeRow.app_id == app_id, GradeRow.vid == vid)) is not None

    def _work(self) -> None:
        grader = Grader(max_seconds=self.config.grade_max_seconds)
        try:
            while (job := self._jobs.get()) is not None:
                self._status[job] = "running"
                try:
                    self._store(job, self._grade(grader, *job))
                    self._status.pop(job, None)
                except Exception as exc:  # noqa: BLE001 - shown in the panel; the worker keeps going
                    log.exception("security probe of %s/%s failed", *job)
                    self._status[job] = f"error: the probe could not run ({type(exc).__name__}: {exc})"
        finally:
            grader.close()

    def _grade(self, grader: Grader, app_id: str, vid: str) -> GradeRow:
        from appwright.tasks.probe import probe_task  # tasks/ is below the studio; imported when first needed

        with tempfile.TemporaryDirectory(prefix="aw-studio-probe-") as tmp:
            folder = Path(tmp) / "app"
            bundles.write_version(self.config.apps_dir / app_id, vid, folder)
            task = probe_task(folder)
            if task is None:  # ok=True: nothing stored, nothing to hold
                return GradeRow(app_id=app_id, vid=vid, checks=[], passed=0, total=0, ok=True, seconds=0.0)
            return GradeRow.of(app_id, vid, grader.grade(folder, task, browser=self.config.grade_in_browser))

    def _store(self, job: tuple[str, str], row: GradeRow) -> None:
        with self.db.session() as s:
            if s.scalar(select(GradeRow.id).where(GradeRow.app_id == job[0], GradeRow.vid == job[1])) is None:
                s.add(row)
