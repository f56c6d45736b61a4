"""Grading a bundle against a task: every check run on a fresh runtime, each with evidence.

    with Grader() as grader:                       # one Chromium for many grades
        g = grader.grade("out/app", task, reply="I kept the notes private because ...")
        g.reward, g.good
    grade_bundle("out/app", task)                  # one-off

How a grade runs, top to bottom:
1. The bundle's app files are copied to a temporary folder and served there by the runtime
   on 127.0.0.1 with an empty database (graders/env.py). Nothing the model wrote besides the
   app itself is read; no code from the bundle runs outside Chromium.
2. For a task in people's words (`task.meaning`), the checks are renamed to the app's own names
   for what the person asked for (graders/meaning.py); what is not found fails the schema check.
3. Each check runs in turn with its own users, on an emptied table of records. A check that raises anything but `Fail` is a
   failed check whose evidence names the grader error: a grade never crashes.
4. After `max_seconds` the remaining checks fail with "time limit". `browser=False` leaves
   out the checks that need Chromium (ui, security/xss) entirely: the grade then covers only
   the others, for fast screening.

A bundle that cannot be served (no app.json, invalid manifest, over the size limits) fails
every check with that reason.
"""

from __future__ import annotations

import time
from pathlib import Path

from appwright.runtime.local import Chromium
from appwright.tasks.graders.api import grade_api, grade_schema
from appwright.tasks.graders.common import Context, Fail
from appwright.tasks.graders.env import AppEnv, BundleRejected
from appwright.tasks.graders.form import grade_form
from appwright.tasks.graders.isolation import grade_isolation
from appwright.tasks.graders.look import grade_look
from appwright.tasks.graders.meaning import bind, rename
from appwright.tasks.graders.security import grade_security
from appwright.tasks.graders.taste import grade_taste
from appwright.tasks.graders.ui import grade_ui
from appwright.tasks.model import KINDS, CheckResult, Grade, Task

# Bump when a grader changes what it accepts, so eval rows graded before and after can be told
# apart (AttemptRow.grader_version): "1" graded the baselines of 2026-12-01 and the harness-v2
# rows of 2026-12-02; "2" adds the `look` checks (graders/look.py, at most 10% of a reward); "3" adds
# the `form` check (graders/form.py) to the tasks in people's words; "4" takes a menu's values
# without regard to case ("oak" is the app's "Oak") and binds a field named by a little word (`for`);
# "5": record ids in the order made, and `ui-sort` made in neither the order asked for nor its reverse,
# so records that tie no longer fall to random ids; an app without the sort field fails saying so.
GRADER_VERSION = "5"
# Each check kind's grade function (the kind itself is declared in tasks/model.py).
GRADERS = {"schema": grade_schema, "api": grade_api, "isolation": grade_isolation, "ui": grade_ui,
           "form": grade_form, "security": grade_security, "taste": grade_taste, "look": grade_look}
assert GRADERS.keys() == KINDS.keys(), "every check kind in tasks/model.py needs its grade function here"


class Grader:
    def __init__(self, max_seconds: float = 120.0):
        self.max_seconds = max_seconds
        self._chromium = Chromium()

    def grade(self, bundle: str | Path, task: Task, reply: str | None = None, browser: bool = True) -> Grade:
        started = time.monotonic()
        checks = [c for c in task.checks if browser or not c.needs_browser()]

        def result(c, passed: bool, evidence: str, t0: float) -> CheckResult:
            return CheckResult(name=c.name, kind=c.kind, passed=passed, weight=c.weight, required=c.required,
                               evidence=evidence[:600], seconds=round(time.monotonic() - t0, 3))

        # 1. A fresh runtime for this bundle.
        try:
            env = AppEnv.open(bundle)
        except BundleRejected as exc:
            return Grade(task_id=task.id, checks=[result(c, False, f"not graded: {exc}", started) for c in checks],
                         seconds=round(time.monotonic() - started, 3))
        # 2. The checks in the app's names, when the prompt named nothing (graders/meaning.py).
        env.author_role = task.author_role
        ctx = Context(reply=reply)
        if task.meaning is not None:
            binding = bind(env.manifest, task.meaning)
            checks, ctx.missing = [rename(c, binding) for c in checks], binding.missing
        # 3. Every check, with its evidence.
        out = []
        try:
            for c in checks:
                t0 = time.monotonic()
                if t0 - started > self.max_seconds:
                    out.append(result(c, False, f"time limit: the grade ran over {self.max_seconds:.0f} s", t0))
                    continue
                try:
                    env.reset()
                    if c.needs_browser():
                        if ctx.hung:
                            raise Fail(f"not run: {ctx.hung}")
                        ctx.browser = self._chromium.get()
                    out.append(result(c, True, GRADERS[c.kind](env, c, ctx), t0))
                except Fail as exc:
                    out.append(result(c, False, str(exc), t0))
                except Exception as exc:  # noqa: BLE001 - a grader error is a failed check, not a crash
                    out.append(result(c, False, f"grader error: {type(exc).__name__}: {exc}", t0))
        finally:
            for page in (ctx.page, ctx.page_without_csp):
                if page is not None:
                    page.context.close()
            env.close()
        return Grade(task_id=task.id, checks=out, seconds=round(time.monotonic() - started, 3))

    def close(self) -> None:
        self._chromium.close()

    def __enter__(self) -> "Grader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def grade_bundle(bundle: str | Path, task: Task, reply: str | None = None, browser: bool = True) -> Grade:
    with Grader() as g:
        return g.grade(bundle, task, reply, browser)


__all__ = ["Grader", "grade_bundle"]
