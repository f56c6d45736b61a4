"""One attempt of one task by one model: start bundle, agent, grade, one typed result.

    result = attempt(task, backend, folder, HarnessConfig(), grader, model_name="qwen2.5-coder-0.5b")
    result.grade.good, result.grade.reward          # result.trajectory.grade is the same record

The only place that joins the agent (agent/) and the graders (tasks/graders/). Its parts, for
callers that run them apart:
- `run`: the agent on a request in a folder (a start bundle copied in first), then one
  workspace version of the bundle when it is servable. `appwright new`/`edit` (build.py) call
  it; the studio's turns too, with `save=False` (a turn saves the version with the app's data,
  studio/bundles.py).
- `grade`: the graders on the folder with the agent's reply; the grade goes into the trajectory.
  The eval runner runs `run` and `grade` in threads of their own (evals/runner.py).
- `grade_answer`: one `files` answer written through the tools into a fresh copy of the start
  bundle, then graded: the GRPO reward (train/rollout.py).
- `run_task`: a task's start bundle, then `run`; `attempt`: `run_task`, then `grade`: rejection
  sampling (train/data.py), benchmarks.
- `probe_problems`: the app's own security probe (tasks/probe.py) on a bundle without a task,
  as words: what the gateway's verify-then-escalate refuses an app for (gateway/apps.py).

Every grade, here and elsewhere (the grading benchmark, the studio's security panel), comes
from `Grader.grade` and is a `tasks.model.Grade`.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from appwright.agent.check_app import CheckReport
from appwright.agent.config import HarnessConfig
from appwright.agent.guided import FILES_PREFIX
from appwright.agent.loop import OnEvent, run_agent, write_file_blocks
from appwright.agent.parse import ParsedReply, parse_reply
from appwright.agent.prompt import PromptStyle
from appwright.agent.tools import ToolResult, Toolbox
from appwright.agent.trajectory import Trajectory
from appwright.models.base import Backend
from appwright.tasks.bank import materialise_start
from appwright.tasks.graders import Grader
from appwright.tasks.model import Grade, Task
from appwright.workspace import WorkspaceError, save


@dataclass(frozen=True)
class AttemptResult:
    task: Task
    trajectory: Trajectory  # its `grade` is `grade`
    grade: Grade
    bundle: Path  # the folder the agent worked in


@dataclass(frozen=True)
class AnswerResult:
    """One `files` answer, written and graded (`grade_answer`)."""
    grade: Grade
    parsed: ParsedReply
    written: list[ToolResult]  # one per block of `parsed.files`


def run(prompt: str, folder: str | Path, backend: Backend, config: HarnessConfig = HarnessConfig(), *,
        start: str | Path | None = None, model_name: str | None = None, task_id: str | None = None,
        prompt_style: PromptStyle = "full", checker: Callable[[Path], CheckReport] | None = None,
        on_event: OnEvent | None = None, stop: threading.Event | None = None, save_version: bool = True) -> Trajectory:
    """The agent on `prompt` in `folder`; with `save_version`, a servable bundle is saved once as a
    workspace version and its id recorded in the trajectory."""
    traj = run_agent(prompt, folder, backend, protocol=config.protocol, budget=config.budget,
                     model_name=model_name, on_event=on_event, start_bundle=start, config=config.generation(),
                     checker=checker, task_id=task_id, stop=stop, prompt_style=prompt_style)
    if save_version:
        keep_version(folder, traj)
    return traj


def probe_problems(folder: str | Path, browser: bool = True) -> list[str]:
    """What the app's own security probe (the access rules it declares, stored text never run as
    HTML, no secrets) finds wrong with the bundle in `folder`; empty when it passes or there is
    nothing to probe. One Chromium of its own: callers run it from any thread."""
    from appwright.tasks.probe import probe_task

    task = probe_task(folder)
    if task is None:
        return []
    with Grader() as grader:
        grade = grader.grade(folder, task, browser=browser)
    return [f"security probe {c.name}: {c.evidence}" for c in grade.checks if c.required and not c.passed]


def verify(traj: Trajectory, folder: str | Path, browser: bool = True) -> list[str]:
    """Why `auto` does not accept the app in `folder` (gateway, `new --model auto`, the studio,
    the eval's cascade): the agent's final check_app failed or never ran, else the app's own
    security probe's failures; empty: accepted."""
    if traj.check is None:
        return [f"the agent stopped before a check: {traj.stop_reason}" + (f" ({traj.error})" if traj.error else "")]
    if not traj.check.ok:
        return [traj.check.text]
    return probe_problems(folder, browser)


def keep_version(folder: str | Path, traj: Trajectory) -> None:
    """Save the agent's bundle as a workspace version when its final check found it servable,
    and record the version's id in the trajectory."""
    if traj.check is not None and traj.check.servable:
        try:
            traj.version_id = save(folder, f"agent run {traj.id[:12]} ({traj.stop_reason})").id
        except WorkspaceError as exc:
            traj.error = traj.error or f"could not save a version: {exc}"


def grade(task: Task, folder: str | Path, trajectory: Trajectory, grader: Grader, browser: bool = True) -> Grade:
    """The graders on `folder`, with the agent's reply; the grade is kept in the trajectory."""
    result = grader.grade(folder, task, reply=trajectory.summary, browser=browser)
    trajectory.grade = result
    return result


def run_task(task: Task, backend: Backend, folder: str | Path, config: HarnessConfig, *,
             model_name: str | None = None, prompt_style: PromptStyle = "full",
             checker: Callable[[Path], CheckReport] | None = None) -> Trajectory:
    """The agent on the task in `folder` (emptied first), starting from the task's start bundle."""
    folder = Path(folder)
    if folder.exists():  # left by an attempt cut off before it was recorded
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="aw-attempt-start-") as tmp:
        start = materialise_start(task, Path(tmp) / "start")
        return run(task.prompt, folder, backend, config, start=start, model_name=model_name, task_id=task.id,
                   prompt_style=prompt_style, checker=checker)


def attempt(task: Task, backend: Backend, folder: str | Path, config: HarnessConfig, grader: Grader, *,
            model_name: str | None = None, prompt_style: PromptStyle = "full",
            checker: Callable[[Path], CheckReport] | None = None, browser: bool = True) -> AttemptResult:
    """`run_task`, then `grade`."""
    traj = run_task(task, backend, folder, config, model_name=model_name, prompt_style=prompt_style, checker=checker)
    return AttemptResult(task, traj, grade(task, folder, traj, grader, browser), Path(folder))


def grade_answer(task: Task, completion: str, folder: str | Path, grader: Grader, browser: bool = True) -> AnswerResult:
    """`FILES_PREFIX + completion` as the first `files` answer of the task: its blocks written through
    the workspace's `write_file` tool into `folder` (the start bundle, nothing else), then graded
    with the answer's prose as the reply."""
    materialise_start(task, folder)
    workspace = Toolbox(folder)
    parsed = parse_reply(FILES_PREFIX + completion)
    written = write_file_blocks(workspace, parsed)
    return AnswerResult(grader.grade(folder, task, reply=parsed.text, browser=browser), parsed, written)
