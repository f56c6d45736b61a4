"""The agent loop: prompt -> completions -> files or tool calls -> checked bundle -> trajectory.

    traj = run_agent("a private notes app", "out/notes", backend, protocol="files",
                     budget=Budget(max_steps=4, max_tokens=20_000, max_seconds=600),
                     on_event=print)

`files`: one answer whose `<file>` blocks are written through the workspace tools
(so confinement and limits apply), then check_app; if the check fails and the budget
allows, the report goes back once for a repair turn. The answer starts with FILES_PREFIX;
a backend that `constrains` writes the app.json block under the manifest grammar and the
rest freely (agent/guided.py). Mistakes in app.json that have one obvious repair are
fixed before writing (agent/fixups.py) and listed in the step's `fixes`; files that nothing
loads from index.html are not written (agent/junk.py) and listed in its `dropped`. An answer
cut off at max_tokens whose bundle still passes ends as "cut_off", never "answered". `tools`: completion -> parse ->
execute every call in it -> one observation message per call, until `finish` or a budget
runs out. A reply with no readable call gets the parse problems back as a user message.
A repair whose check gets less far than the first answer's (its script now throws where the
first only failed a form) does not stand: the first answer's files are put back, the step's
`kept_first` says so, and the run's check is the first answer's.
The loop saves no version: its callers save a servable bundle once (appwright/attempt.py);
the final check's `servable` says whether the bundle can be served.

Budgets: steps (completions), tokens (prompt + completion, summed over steps: what a run
costs) and wall-clock seconds; each is checked before a completion, and a step's
max_tokens is cut to what the token budget has left.

`stop` (a threading.Event, set from another thread: the studio's stop button) ends the run
with stop_reason "stopped": before the next completion, or during one (the token stream is
broken off; the cut-off completion is dropped, not recorded as a step).

Not done: a completion in progress is not interrupted when the time runs out (the limit is
checked between steps); the backend gets `tools=None` because the tools are described in
the system prompt (see prompt.py); no retries of a failed model call.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Literal

from appwright.agent.answer import drop_blocks, fix_app_json, fix_page
from appwright.agent.check_app import Checker, CheckReport
from appwright.agent.config import Budget
from appwright.agent.guided import FILE_END, FILES_PREFIX, constrained_answer, structured_answer
from appwright.agent.junk import reachable
from appwright.agent.parse import ParsedReply, ToolCall, parse_reply
from appwright.agent.prompt import PromptStyle, system_prompt
from appwright.agent.repair import repair_request
from appwright.agent.tools import TOOL_SPECS, ToolResult, Toolbox
from appwright.agent.trajectory import CheckRecord, MessageRecord, StepRecord, ToolStep, Trajectory
from appwright.models.base import Backend, Completion, GenerationConfig, Message, ModelError


# Events for live progress (the CLI prints them). One union, told apart by `kind`.
@dataclass(frozen=True)
class Event:
    kind: Literal["step_started", "token", "tool_result", "check", "finished"]
    step: int
    elapsed_s: float
    tokens_used: int  # prompt + completion so far
    text: str = ""  # token: the streamed text; tool_result: the output; check: the report; finished: stop reason
    tool: str | None = None  # tool_result: the tool's name
    ok: bool | None = None  # tool_result / check


OnEvent = Callable[[Event], None]


class _Stopped(Exception):
    """Raised from the token callback to break off a completion when `stop` is set."""


def _check_record(report: CheckReport) -> CheckRecord:
    return CheckRecord(ok=report.ok, text=report.text(), seconds=round(report.seconds, 3),
                       servable=not report.manifest_errors)


def _on_disk(ws: Toolbox) -> dict[str, str]:
    return {path: ws.read_file(path).output for path in ws.files()}


def one_file_answer(backend: Backend, messages: list[Message], path: str, config: GenerationConfig,
                    on_token=None) -> Completion:
    """A repair of one file other than app.json: the answer starts with that file's block, written
    for the model, and ends with it (the text after the prefix; `continued_prefix` says whether
    the backend continued it)."""
    start = f'<file path="{path}">\n'
    c = backend.complete(list(messages) + [Message("assistant", start)], None, replace(config, stop=FILE_END),
                         on_token)
    if c.continued_prefix and c.finish_reason == "stop":
        c = replace(c, text=c.text + ("" if c.text.endswith("\n") else "\n") + "</file>\n")
    return c


def _progress(report: CheckReport) -> int:
    """How far an app gets in check_app: 0 app.json invalid or no check, 1 the page's script throws,
    2 the page runs but something fails (a form, a request, the console), 3 all passes."""
    if report.ok:
        return 3
    if report.manifest_errors or report.browser_error or report.timed_out:
        return 0
    return 1 if report.js_errors else 2


def _snapshot(ws: Toolbox) -> dict[str, bytes]:
    """Every file of the app folder, whole (read_file cuts long ones for the model)."""
    return {path: ws.resolve(path).read_bytes() for path in ws.files()}


def _restore(ws: Toolbox, files: dict[str, bytes]) -> None:
    """Put the app folder back as `_snapshot` found it: files since added are deleted."""
    for path in set(ws.files()) - set(files):
        ws.delete_file(path)
    for path, data in files.items():
        if not ws.resolve(path).is_file() or ws.resolve(path).read_bytes() != data:
            ws.resolve(path).write_bytes(data)


def _repeats(c: Completion, start: str, ws: Toolbox) -> bool:
    """The answer's files are exactly the files on disk: a repair that changed nothing."""
    files = parse_reply(start + c.text if c.continued_prefix else c.text).files
    disk = _on_disk(ws)
    return bool(files) and all(disk.get(f.path, "").strip() == f.content.strip() for f in files)


def _step_record(index: int, c: Completion, parsed: ParsedReply, prefix: str) -> StepRecord:
    return StepRecord(index=index, prefix=prefix, raw_text=c.text, files=parsed.files, problems=parsed.problems,
                      prompt_tokens=c.prompt_tokens, completion_tokens=c.completion_tokens,
                      cached_prompt_tokens=c.cached_prompt_tokens, prompt_token_ids=c.prompt_token_ids,
                      completion_token_ids=c.completion_token_ids, latency_s=c.latency_s,
                      first_token_s=c.first_token_s, cost_usd=c.cost_usd, finish_reason=c.finish_reason)


def _walk_order(path: str) -> tuple:
    """Toolbox.files()'s order: a folder's files (by name) before its sub-folders (by name)."""
    *folders, name = path.split("/")
    return (*((1, d) for d in folders), (0, name))


def start_message(prompt: str, files: dict[str, str], protocol: str) -> str:
    """The first user message: the request, with the app's current files (path -> text) for an edit."""
    if not files:
        return prompt
    if protocol == "tools":
        return f"{prompt}\n\nThe app folder already holds: {', '.join(sorted(files, key=_walk_order))}."
    blocks = "\n".join(f'<file path="{f}">\n{files[f].rstrip()}\n</file>' for f in sorted(files, key=_walk_order))
    return f"The app's current files:\n\n{blocks}\n\n{prompt}\n\nAnswer with every file of the changed app."


def write_file_blocks(ws: Toolbox, parsed: ParsedReply) -> list[ToolResult]:
    """Every `<file>` block of a `files` answer, written through the confined `write_file` tool."""
    return [ws.call(ToolCall(name="write_file", arguments={"path": f.path, "content": f.content}))
            for f in parsed.files]


def run_agent(prompt: str, workspace_dir: str | Path, backend: Backend, protocol: Literal["files", "tools"] = "files",
              budget: Budget = Budget(), model_name: str | None = None, on_event: OnEvent | None = None,
              start_bundle: str | Path | None = None, config: GenerationConfig = GenerationConfig(),
              checker: Callable[[Path], CheckReport] | None = None, task_id: str | None = None,
              stop: threading.Event | None = None, prompt_style: PromptStyle = "full") -> Trajectory:
    """Run one task to the end; never raises for model output or a failing model (see stop_reason).

    `prompt_style`: the system prompt's platform docs, "full" or "compact" (the model registry's
    `prompt` field says which a model takes; agent/prompt.py).

    `checker`: (bundle) -> CheckReport; default a `Checker` (one Chromium) for this run."""
    # 1. Workspace folder, tools, checker, trajectory, first messages.
    if protocol not in ("files", "tools"):
        raise ValueError(f"protocol must be 'files' or 'tools', not {protocol!r}")
    started = time.monotonic()
    root = Path(workspace_dir)
    if start_bundle is not None:
        shutil.copytree(start_bundle, root, ignore=shutil.ignore_patterns(".*"), dirs_exist_ok=True)
    own_checker = checker is None
    checker = checker or Checker()
    ws = Toolbox(root, checker=checker)
    traj = Trajectory(id=uuid.uuid4().hex, created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      task_id=task_id, prompt=prompt, model=model_name or backend.name, protocol=protocol,
                      budget={"max_steps": budget.max_steps, "max_tokens": budget.max_tokens,
                              "max_seconds": budget.max_seconds})
    messages = [Message("system", system_prompt(protocol, TOOL_SPECS, prompt_style)),
                Message("user", start_message(prompt, _on_disk(ws), protocol))]
    start_manifest = _on_disk(ws).get("app.json")  # the access the person had chosen (agent/exposure.py)
    used = 0  # prompt + completion tokens so far
    step = 0
    repaired = False
    repair_paths: list[str] | None = None  # what the repair turn asked for
    first: tuple[CheckReport, dict[str, bytes]] | None = None  # the first answer's check and files, when repaired

    def emit(kind, text="", tool=None, ok=None):
        if on_event:
            on_event(Event(kind, step, round(time.monotonic() - started, 3), used, text, tool, ok))

    try:
        while True:
            # 2. Budgets, checked before each completion.
            if step >= budget.max_steps:
                traj.stop_reason = "max_steps"
                break
            if used >= budget.max_tokens:
                traj.stop_reason = "max_tokens"
                break
            if time.monotonic() - started >= budget.max_seconds:
                traj.stop_reason = "max_seconds"
                break
            if stop is not None and stop.is_set():
                traj.stop_reason = "stopped"
                break
            # 3. One completion, streamed to on_event.
            step += 1
            emit("step_started")
            step_config = replace(config, max_tokens=max(1, min(config.max_tokens, budget.max_tokens - used)))
            def on_token(t: str) -> None:
                if stop is not None and stop.is_set():
                    raise _Stopped
                emit("token", t)

            # `files`: the answer is started for the model (FILES_PREFIX); small models otherwise
            # often answer in prose or copy the docs' fenced examples (docs/LOG.md). A repair of
            # other files than app.json starts with the first of them, without a grammar.
            start = f'<file path="{repair_paths[0]}">\n' if repair_paths and repair_paths != ["app.json"] else FILES_PREFIX
            constrained = protocol == "files" and backend.constrains and start == FILES_PREFIX
            structured = protocol == "files" and not constrained and backend.structured and start == FILES_PREFIX
            prefix = [Message("assistant", start)] if protocol == "files" else []
            one_file = protocol == "files" and not constrained and start != FILES_PREFIX and len(repair_paths or []) == 1

            def answer(cfg: GenerationConfig) -> Completion:
                if constrained or structured:
                    guided = constrained_answer if constrained else structured_answer
                    return guided(backend, list(messages), cfg, on_token, manifest_only=repair_paths == ["app.json"])
                if not one_file:
                    return backend.complete(list(messages) + prefix, None, cfg, on_token)
                return one_file_answer(backend, messages, repair_paths[0], cfg, on_token)

            try:
                c = answer(step_config)
                if repair_paths and _repeats(c, start, ws):  # the same files again: sample once more, hotter
                    again = answer(replace(step_config, temperature=min(step_config.temperature + 0.6, 1.2)))
                    c = replace(again, prompt_tokens=c.prompt_tokens + again.prompt_tokens,  # both are spent
                                completion_tokens=c.completion_tokens + again.completion_tokens,
                                cost_usd=c.cost_usd + again.cost_usd, latency_s=c.latency_s + again.latency_s,
                                prompt_token_ids=None, completion_token_ids=None)
                    resampled = True
                else:
                    resampled = False
            except (_Stopped, ModelError) as exc:
                if stop is not None and stop.is_set():  # a backend may wrap the callback's exception
                    traj.stop_reason = "stopped"
                else:
                    traj.stop_reason, traj.error = "model_error", str(exc)
                break
            used += c.prompt_tokens + c.completion_tokens
            reply = start + c.text if c.continued_prefix and protocol == "files" else c.text
            parsed = parse_reply(reply)
            record = _step_record(step, c, parsed, start if c.continued_prefix and protocol == "files" else "")
            record.grammar = "manifest" if constrained else "manifest_schema" if structured else None
            record.resampled = resampled
            if protocol == "files":  # the answer as written to disk (raw_text keeps the model's own)
                reply, record.fixes = fix_app_json(reply, parsed, _on_disk(ws), prompt, start_manifest)
                reply, page_fixes = fix_page(reply, parsed, _on_disk(ws), prompt)
                record.fixes += page_fixes
                # what the app has and what a repair asked for is never dropped (agent/junk.py)
                keep = set(ws.files()) | set(repair_paths or [])
                parsed.files, record.dropped = reachable(parsed.files, keep=keep)
                reply = drop_blocks(reply, record.dropped)
                record.files = parsed.files
            messages.append(Message("assistant", reply))
            traj.steps.append(record)

            if protocol == "files":
                # 4f. Write every file block through the tools, then check the bundle.
                results = write_file_blocks(ws, parsed)
                record.tool_calls = [ToolStep(call=ToolCall(name="write_file", arguments={"path": f.path,
                                              "content": f.content}), result=r) for f, r in zip(parsed.files, results)]
                for r in results:
                    emit("tool_result", r.output, "write_file", r.ok)
                cut_off = c.finish_reason == "length"
                if not cut_off:  # a cut-off answer has no reply, only part of a block
                    traj.summary = parsed.text or traj.summary
                report = checker(ws.root)
                record.check = _check_record(report)
                emit("check", report.text(), ok=report.ok)
                if report.ok and not parsed.problems and all(r.ok for r in results):
                    traj.stop_reason = "cut_off" if cut_off else "answered"
                    break
                if repaired:
                    if _progress(report) < _progress(first[0]):  # the repair broke more than it mended
                        _restore(ws, first[1])
                        record.kept_first = True
                        emit("check", f"kept the first answer's files: the repair's check got less far\n"
                                      f"{first[0].text()}", ok=False)
                    traj.stop_reason = "check_failed"
                    break
                repaired = True
                first = (report, _snapshot(ws))
                problems = parsed.problems + [r.output for r in results if not r.ok]
                if not parsed.files:  # nothing usable came: the whole app again
                    problems.append('no <file path="..."> blocks found; answer with every file of the app')
                    feedback = "\n".join(f"- {p}" for p in problems)
                    messages.append(Message("user", f"Problems with your answer:\n{feedback}\n\n{report.text()}\n\n"
                                                    "Fix this: answer again with every file of the app."))
                    continue
                # the failing files only, each problem under its line (agent/repair.py)
                repair_paths, request = repair_request(report, problems, _on_disk(ws))
                messages.append(Message("user", request))
                continue

            # 4t. Execute every call in order; one observation message per call.
            if not parsed.tool_calls:
                problems = parsed.problems or ["no tool call found"]
                messages.append(Message("user", "Your answer could not be used: " + "; ".join(problems) +
                                        '.\nCall one tool: <tool_call>{"name": "...", "arguments": {...}}</tool_call>'))
                continue
            for call in parsed.tool_calls:
                result = ws.call(call)
                record.tool_calls.append(ToolStep(call=call, result=result))
                emit("tool_result", result.output, call.name, result.ok)
                messages.append(Message("tool", f"{call.name}: {'ok' if result.ok else 'error'}\n{result.output}"))
                if call.name == "finish":
                    break
            if parsed.problems:
                messages.append(Message("user", "Some of your answer could not be read: " + "; ".join(parsed.problems)))
            if ws.finished is not None:
                traj.summary = ws.finished
                traj.stop_reason = "finish"
                break

        # 5. Final check (reused when the last step already checked this bundle). The caller
        # saves a version of a servable bundle (appwright/attempt.py): the loop only edits files.
        last = traj.steps[-1].check if traj.steps and protocol == "files" else None
        if last is not None and traj.steps[-1].kept_first:
            last = _check_record(first[0])
        if last is None and ws.files():
            last = _check_record(checker(ws.root))
            emit("check", last.text, ok=last.ok)
        traj.check = last
    finally:
        if own_checker:
            checker.close()

    # 6. Totals; the messages exactly as sent and received.
    traj.messages = [MessageRecord(role=m.role, content=m.content) for m in messages]
    traj.prompt_tokens = sum(s.prompt_tokens for s in traj.steps)
    traj.completion_tokens = sum(s.completion_tokens for s in traj.steps)
    traj.cost_usd = sum(s.cost_usd for s in traj.steps)
    traj.elapsed_s = round(time.monotonic() - started, 3)
    emit("finished", traj.stop_reason or "")
    return traj
