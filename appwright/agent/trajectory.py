"""The record of one agent run, as training and evals consume it (JSONL, one run per line).

    append_jsonl("runs.jsonl", traj)     # one line, flushed and fsynced
    for traj in read_jsonl("runs.jsonl"): ...

`format` is 2. A change to the fields gets a new number and a migration in `read_jsonl`;
format 1 (before a step recorded its grammar, fixes and dropped files, and before the stop
reason "cut_off") reads as format 2 without them, and
any other format is refused with a clear message.
`messages` are every message sent or received, in order, exactly as the backend got them;
`steps` hold each completion's raw text, what was parsed from it, the tool results, token
counts (and token ids where the backend gives them), latency and cost.

Not done: no compression, no locking between two processes appending to one file (each
line is written with one write call in append mode, which POSIX keeps whole for a
regular file on a local disk in practice, but does not promise).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field

from appwright.agent.parse import FileBlock, ToolCall
from appwright.agent.tools import ToolResult
from appwright.tasks.model import Grade  # the grade record only (a leaf module); graders are joined in attempt.py

FORMAT = 2
READABLE = (1, 2)  # formats read_jsonl accepts; 1 lacks StepRecord.grammar, .fixes, .dropped, .resampled
StopReason = Literal["finish", "answered", "cut_off", "check_failed", "max_steps", "max_tokens", "max_seconds",
                     "model_error", "stopped"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageRecord(_Record):
    role: Literal["system", "user", "assistant", "tool"]
    content: str


class ToolStep(_Record):
    call: ToolCall
    result: ToolResult


class CheckRecord(_Record):
    ok: bool
    text: str
    seconds: float
    servable: bool | None = None  # app.json and the pages passed check_bundle: the bundle can be served (None: not kept)


class StepRecord(_Record):
    index: int  # 1-based
    prefix: str = ""  # text the harness started the answer with (the model continued it)
    raw_text: str  # what the model generated: the text of completion_token_ids
    tool_calls: list[ToolStep] = Field(default_factory=list)
    files: list[FileBlock] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int = 0
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None
    latency_s: float
    first_token_s: float | None = None
    cost_usd: float = 0.0
    finish_reason: str
    check: CheckRecord | None = None
    # "manifest": the app.json block of this `files` answer was sampled under the manifest
    # grammar (runtime/manifest_schema.py), then the rest freely (agent.md, "The answer");
    # "manifest_schema": the same, from a server's structured output under the manifest's JSON schema.
    grammar: Literal["manifest", "manifest_schema"] | None = None
    fixes: list[str] = Field(default_factory=list)  # what agent/fixups.py (app.json) and pagefix.py (index.html) changed
    dropped: list[str] = Field(default_factory=list)  # files of the answer nothing loads (agent/junk.py)
    resampled: bool = False  # a repair answer repeated the files on disk; this is the second, hotter sample
    kept_first: bool = False  # this repair's check got less far than the first answer's, whose files were put back


class Trajectory(_Record):
    format: int = FORMAT
    id: str
    created_at: str
    task_id: str | None = None
    prompt: str
    model: str
    protocol: Literal["files", "tools"]
    budget: dict[str, float | int | None]
    messages: list[MessageRecord] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    elapsed_s: float = 0.0
    stop_reason: StopReason | None = None
    error: str | None = None  # the model error, for stop_reason "model_error"
    summary: str | None = None  # the reply to the user (files: prose; tools: finish's summary)
    check: CheckRecord | None = None  # the final bundle's check_app result
    version_id: str | None = None  # workspace version its caller saved at the end, when the bundle is servable
    grade: Grade | None = None  # filled in by appwright/attempt.py from the graders, never by the harness


def append_jsonl(path: str | Path, trajectory: BaseModel) -> None:
    """One record (a Trajectory, or any pydantic record) as one line, flushed and fsynced."""
    line = trajectory.model_dump_json() + "\n"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str | Path) -> Iterator[Trajectory]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            data = json.loads(line)
            if data.get("format") not in READABLE:
                raise ValueError(f"{path}:{n}: trajectory format {data.get('format')!r}; this version reads "
                                 f"{', '.join(map(str, READABLE))}")
            yield Trajectory.model_validate({**data, "format": FORMAT})
