"""One GRPO completion through the harness: prompt as `appwright new` sends it, reply into a
workspace through the agent's tools, reward from the graders.

    prompt = render_prompt(tokenizer, task, "compact")  # chat template + the `files` answer prefix
    scorer = HarnessScorer(grader, work_root)
    rollout = scorer.score(task, completion_text)    # -> Rollout(reward, good, files, ...)

The path, top to bottom (the `files` protocol of agent/loop.py, first step):
1. Messages: the harness's system prompt (the platform docs) and first user message
   (`start_message`: with the start bundle's files for edit and fix tasks), rendered with the
   model's own chat template, then `FILES_PREFIX`: the harness starts every `files` answer
   with `<file path="app.json">` and the model continues it, exactly as in `run_agent`.
2. The reply is `FILES_PREFIX + completion` (appwright/attempt.py `grade_answer`);
   `parse_reply` reads its `<file>` blocks and
   each is written with the workspace's `write_file` tool, so confinement (no `..`, no
   absolute or hidden paths, no symlinks out), the 256 KiB / 64-file limits and UTF-8 apply.
   The workspace is a fresh folder holding the task's start bundle, nothing else.
3. `Grader.grade(workspace, task, reply=the reply's prose)`: the graders copy the app files
   elsewhere and serve them there (tasks/graders/env.py), so nothing the model wrote besides
   the app itself is read, and no file it wrote can reach the graders' code or data.

Not done: the harness's repair turn (a second answer after check_app's report) is not part
of a GRPO completion: the reward is for the first answer, which is what a single-turn policy
gradient can credit. The `tools` protocol is not trained here (multi-turn; see
docs/training.md).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from appwright.agent.guided import FILES_PREFIX
from appwright.agent.loop import start_message
from appwright.agent.prompt import PromptStyle, system_prompt
from appwright.agent.tools import TOOL_SPECS
from appwright.attempt import grade_answer
from appwright.models.base import Message
from appwright.tasks.bank import start_files
from appwright.tasks.graders import Grader
from appwright.tasks.model import Task

FORMAT = 1


@dataclass(frozen=True)
class Rollout:
    """One graded completion; a line of rollouts.jsonl."""
    format: int
    step: int  # the optimiser step it was made for (trainer state's global_step)
    task_id: str
    reward: float
    good: bool
    completion_chars: int
    files: list[str]  # paths written
    refused: list[str] = field(default_factory=list)  # write_file errors (paths outside, too big, ...)
    problems: list[str] = field(default_factory=list)  # what parse_reply could not read
    failed_checks: list[str] = field(default_factory=list)
    grade_seconds: float = 0.0


def harness_messages(task: Task, style: PromptStyle = "full") -> list[Message]:
    """The first two messages `run_agent` sends for this task with the `files` protocol, to a model whose
    registry `prompt` is `style`."""
    return [Message("system", system_prompt("files", TOOL_SPECS, style)),
            Message("user", start_message(task.prompt, start_files(task), "files"))]


def render_prompt(tokenizer, task: Task, style: PromptStyle = "full") -> str:
    """The text the model continues: chat template (with the generation prompt) + FILES_PREFIX.

    The same text LlamaCppBackend.render makes for `run_agent`'s first `files` step."""
    text = tokenizer.apply_chat_template([m.to_dict() for m in harness_messages(task, style)], tokenize=False,
                                         add_generation_prompt=True)
    return text + FILES_PREFIX


class HarnessScorer:
    """Grades completions for one run; one Grader (one Chromium) for all of them."""

    def __init__(self, grader: Grader, work_root: Path, browser: bool = True, keep_bundles: bool = False):
        self.grader = grader
        self.work_root = Path(work_root)
        self.browser = browser
        self.keep_bundles = keep_bundles

    def score_all(self, items: list[tuple[Task, str]], step: int = 0) -> list[Rollout]:
        """Each (task, completion) graded in turn (cluster.RayScorer does the same on Ray workers)."""
        return [self.score(task, completion, step) for task, completion in items]

    def score(self, task: Task, completion: str, step: int = 0) -> Rollout:
        self.work_root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{task.id[:40]}-", dir=self.work_root))
        try:
            t0 = time.monotonic()
            done = grade_answer(task, completion, folder, self.grader, browser=self.browser)
            return Rollout(format=FORMAT, step=step, task_id=task.id, reward=done.grade.reward, good=done.grade.good,
                           completion_chars=len(completion),
                           files=[f.path for f, r in zip(done.parsed.files, done.written) if r.ok],
                           refused=[r.output for r in done.written if not r.ok], problems=done.parsed.problems,
                           failed_checks=[c.name for c in done.grade.checks if not c.passed],
                           grade_seconds=round(time.monotonic() - t0, 3))
        finally:
            if not self.keep_bundles:
                shutil.rmtree(folder, ignore_errors=True)
