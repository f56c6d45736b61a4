"""The agent loop: prompt -> completions -> files or tool calls -> checked bundle -> trajectory.

    traj = run_agent("a private notes app", "out/notes", backend, protocol="files",
                     budget=Budget(max_steps=4, max_tokens=20_000, max_seconds=600),
                     on_event=print)

`files`: one answer whose `<file>` blocks are written through the workspace tools
(so confinement and limits apply), then check_app; if the check fails and the budget
allows, the report goes back once for a repair turn. The answer starts with FILES_PREFIX;
a backend that `constrains` writes the app.json block under the manifest grammar and the
rest freely (`constrained_answer`). Mistakes in app.json that have one obvious repair are
fixed before writing (agent/fixups.py) and listed in the step's `fixes`; files that nothing
loads from index.html are not written (agent/junk.py) and listed in its `dropped`. An answer
cut off at max_tokens whose bundle still passes ends as "cut_off", never "answered". `tools`: completion -> parse ->
execute every call in it -> one observation message per call, until `finish` or a budget
runs out. A reply with no readable call gets the parse problems back as a user message.
At the end a valid bundle is saved as a workspace version and its id recorded.

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

import json
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Literal

from appwright.agent.check_app import Checker, CheckReport
from appwright.agent.fixups import fix_manifest
from appwright.agent.junk import named_files, reachable
from appwright.agent.pagefix import add_missing_inputs
from appwright.agent.parse import ParsedReply, ToolCall, parse_reply
from appwright.agent.prompt import PromptStyle, system_prompt
from appwright.agent.repair import repair_request
from appwright.agent.tools import TOOL_SPECS, ToolResult, Workspace
from appwright.agent.trajectory import CheckRecord, MessageRecord, StepRecord, ToolStep, Trajectory
from appwright.models.base import Backend, Completion, GenerationConfig, Message, ModelError
from appwright.runtime.check import check_bundle
from appwright.runtime.manifest import ManifestError, parse_manifest
from appwright.runtime.manifest_schema import grammar, json_schema
from appwright.workspace import WorkspaceError, save


FILES_PREFIX = '<file path="app.json">\n'
# After a manifest sampled under the grammar, the harness closes its block and opens the page's,
# with its first line: given only the open tag, the 0.5B went on copying the words that follow
# that tag in the system prompt's rules ("with the complete page. After the blocks, ...").
PAGE_PREFIX = '\n</file>\n<file path="index.html">\n<!doctype html>\n'
MANIFEST_MAX_TOKENS = 1500  # a manifest is 100 to 500 tokens; the grammar bounds every string
REPLY_MAX_TOKENS = 300  # the paragraph to the person after the files
MAX_EXTRA_FILES = 6  # files a guided answer writes besides app.json and index.html
# Where a file of a guided answer ends: its closing tag, or (seen from the 0.5B) a fence or the next
# file's tag written without closing this one.
FILE_END = ("</file>", "<file", "\n```")


@dataclass(frozen=True)
class Budget:
    max_steps: int = 12  # completions
    max_tokens: int = 60_000  # prompt + completion tokens over the whole run
    max_seconds: float = 900.0  # wall clock, checked between steps

    def __post_init__(self):
        if self.max_steps < 1 or self.max_tokens < 1 or self.max_seconds <= 0:
            raise ValueError("Budget: max_steps, max_tokens and max_seconds must be positive")


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
    return CheckRecord(ok=report.ok, text=report.text(), seconds=round(report.seconds, 3))


def constrained_answer(backend: Backend, messages: list[Message], config: GenerationConfig,
                       on_token: Callable[[str], None] | None, manifest_only: bool = False) -> Completion:
    """A `files` answer guided file by file, for a backend that samples under a grammar, as one
    Completion of the text after FILES_PREFIX:
      1. app.json under the manifest grammar (`manifest_only`, a repair of app.json: just that);
      2. index.html: the harness opens its block (PAGE_PREFIX), the model writes it up to </file>;
      3. each file a written file loads and nobody wrote yet (a script, a stylesheet, a linked
         page), the harness opening its block, up to </file>;
      4. the reply to the person, cut where the model starts another block.
    So the answer holds the files the app needs and ends there: a small model otherwise goes on
    writing pages nothing loads until max_tokens (agent/junk.py, docs/LOG.md). Token ids are not
    kept (the answer is several completions); counts, time and cost are summed."""
    parts: list[Completion] = []
    left = config.max_tokens

    def more(text: str, **change) -> Completion:
        nonlocal left
        c = backend.complete(messages + [Message("assistant", FILES_PREFIX + text)], None,
                             replace(config, max_tokens=max(1, min(left, change.pop("cap", left))), **change), on_token)
        parts.append(c)
        left -= c.completion_tokens
        return c

    def emit(inserted: str) -> str:
        if on_token:
            on_token(inserted)
        return inserted

    # 1. The manifest.
    first = more("", grammar=grammar(), cap=MANIFEST_MAX_TOKENS)
    text = first.text.strip()
    if first.finish_reason != "stop" or left <= 0:
        return _merged(parts, text)  # cut off inside the manifest: the answer ends there
    if manifest_only:
        return _merged(parts, text + emit("\n</file>\n"))
    # 2-3. The page, then what it loads.
    text += emit(PAGE_PREFIX)
    queue, written = ["index.html"], {"app.json"}
    while queue and left > 0:
        path = queue.pop(0)
        c = more(text, stop=FILE_END)
        body = c.text
        if path == "index.html" and body.lstrip().lower().startswith("<!doctype"):  # again, after PAGE_PREFIX's
            body = body.lstrip().split("\n", 1)[1] if "\n" in body.lstrip() else ""
        text += body
        if c.finish_reason != "stop":
            return _merged(parts, text)  # cut off inside a file
        written.add(path)
        queue += [p for p in named_files(body) if p not in written and p not in queue][:MAX_EXTRA_FILES]
        text += emit(("" if body.endswith("\n") else "\n") + "</file>\n" + (f'<file path="{queue[0]}">\n' if queue else ""))
    # 4. The reply; asked for in words when the model went straight on to another block.
    if left > 0:
        c = more(text, stop=("<file",), cap=REPLY_MAX_TOKENS)
        text += c.text
        if not c.text.strip() and left > 0:
            text += _ask_reply(backend, messages, text, config, left, on_token, parts)
    return _merged(parts, text)


# The paragraph after the files, asked for when an answer ends without one (the 0.5B went
# straight on to another block in every taste task of the dev40 run, docs/results.md).
ASK_REPLY = "Now the short paragraph telling the user what the app does."


def _ask_reply(backend: Backend, messages: list[Message], text: str, config: GenerationConfig, left: int,
               on_token: Callable[[str], None] | None, parts: list[Completion]) -> str:
    """The reply, asked for in a new turn after the answer so far (its Completion joins `parts`)."""
    ask = messages + [Message("assistant", FILES_PREFIX + text), Message("user", ASK_REPLY)]
    c = backend.complete(ask, None, replace(config, max_tokens=min(left, REPLY_MAX_TOKENS), stop=("<file",),
                                            grammar=None), on_token)
    parts.append(c)
    return ("" if text.endswith("\n") else "\n") + c.text.strip()


# A backend that answers in a JSON schema (`structured`, e.g. OpenAI's API) cannot continue a
# prefix, so its guided answer is two requests: the manifest under the schema, then the other files.
MANIFEST_FIRST = "First app.json: answer with the manifest's JSON only."
THEN_THE_FILES = ("Now the other files: index.html and each file it loads, each in a <file path=\"...\"> block, "
                  "then one sentence to the person. app.json stays as it is.")


def structured_answer(backend: Backend, messages: list[Message], config: GenerationConfig,
                      on_token: Callable[[str], None] | None, manifest_only: bool = False) -> Completion:
    """A `files` answer from a backend that answers in a JSON schema, as one Completion of the text
    after FILES_PREFIX, the same answer format as constrained_answer's: app.json under the manifest's
    schema (`manifest_only`: just that), then, asked again with the manifest as its answer, the other
    files and the reply (an app.json block there is dropped: the schema's manifest stands)."""
    ask = messages + [Message("user", MANIFEST_FIRST)]
    first = backend.complete(ask, None, replace(config, json_schema=json_schema(),
                                                max_tokens=min(config.max_tokens, MANIFEST_MAX_TOKENS)), on_token)
    text = first.text.strip() + "\n</file>\n"
    if on_token:
        on_token("\n</file>\n")
    left = config.max_tokens - first.completion_tokens
    if first.finish_reason != "stop" or manifest_only or left <= 0:
        return _merged([first], text)
    ask += [Message("assistant", FILES_PREFIX + text), Message("user", THEN_THE_FILES)]
    rest = backend.complete(ask, None, replace(config, max_tokens=left), on_token)
    return _merged([first, rest], text + drop_blocks(rest.text, ["app.json"]).lstrip("\n"))


def _merged(parts: list[Completion], text: str) -> Completion:
    cut = any(c.finish_reason == "length" for c in parts)
    return Completion(text=text, model=parts[-1].model, prompt_tokens=sum(c.prompt_tokens for c in parts),
                      completion_tokens=sum(c.completion_tokens for c in parts),
                      latency_s=sum(c.latency_s for c in parts), first_token_s=parts[0].first_token_s,
                      cost_usd=sum(c.cost_usd for c in parts), finish_reason="length" if cut else "stop",
                      cached_prompt_tokens=sum(c.cached_prompt_tokens for c in parts), continued_prefix=True,
                      extra={"phases": [c.extra for c in parts]})


def _on_disk(ws: Workspace) -> dict[str, str]:
    return {path: ws.read_file(path).output for path in ws.files()}


def _repeats(c: Completion, start: str, ws: Workspace) -> bool:
    """The answer's files are exactly the files on disk: a repair that changed nothing."""
    files = parse_reply(start + c.text if c.continued_prefix else c.text).files
    disk = _on_disk(ws)
    return bool(files) and all(disk.get(f.path, "").strip() == f.content.strip() for f in files)


def fix_app_json(reply: str, parsed: ParsedReply) -> tuple[str, list[str]]:
    """Apply agent/fixups.py to the answer's app.json block: (the reply with the fixed block, fixes)."""
    for block in parsed.files:
        if block.path == "app.json":
            fixed, fixes = fix_manifest(block.content)
            if fixes:
                reply = reply.replace(block.content, fixed.rstrip("\n"), 1)
                block.content = fixed
            return reply, fixes
    return reply, []


def fix_page(reply: str, parsed: ParsedReply, on_disk: dict[str, str]) -> tuple[str, list[str]]:
    """Apply agent/pagefix.py to the answer's index.html block, with the answer's manifest (else the
    app's) and the scripts of both: (the reply with the fixed block, fixes)."""
    answer = {f.path: f.content for f in parsed.files}
    if "index.html" not in answer:
        return reply, []
    try:
        manifest = parse_manifest(json.loads(answer.get("app.json") or on_disk.get("app.json") or ""))
    except (ValueError, ManifestError):
        return reply, []
    files, fixes = add_missing_inputs({**on_disk, **answer}, manifest)
    if fixes:
        block = next(f for f in parsed.files if f.path == "index.html")
        reply = reply.replace(block.content.rstrip("\n"), files["index.html"].rstrip("\n"), 1)
        block.content = files["index.html"]
    return reply, fixes


def drop_blocks(reply: str, paths: list[str]) -> str:
    """The reply without the `<file>` blocks of `paths` (the first block of each)."""
    for path in paths:
        block = re.compile(r"""<file\s+(?:path|name)\s*=\s*["']?""" + re.escape(path) + r"""["']?\s*>.*?(?:</file\s*>\s*|\Z)""",
                           re.S | re.I)
        reply = block.sub("", reply, count=1)
    return reply


def _step_record(index: int, c: Completion, parsed: ParsedReply, prefix: str) -> StepRecord:
    return StepRecord(index=index, prefix=prefix, raw_text=c.text, files=parsed.files, problems=parsed.problems,
                      prompt_tokens=c.prompt_tokens, completion_tokens=c.completion_tokens,
                      cached_prompt_tokens=c.cached_prompt_tokens, prompt_token_ids=c.prompt_token_ids,
                      completion_token_ids=c.completion_token_ids, latency_s=c.latency_s,
                      first_token_s=c.first_token_s, cost_usd=c.cost_usd, finish_reason=c.finish_reason)


def start_message(prompt: str, ws: Workspace, protocol: str) -> str:
    """The first user message: the request, with the app's current files for an edit."""
    files = ws.files()
    if not files:
        return prompt
    if protocol == "tools":
        return f"{prompt}\n\nThe app folder already holds: {', '.join(files)}."
    blocks = "\n".join(f'<file path="{f}">\n{ws.read_file(f).output.rstrip()}\n</file>' for f in files)
    return f"The app's current files:\n\n{blocks}\n\n{prompt}\n\nAnswer with every file of the changed app."


def write_file_blocks(ws: Workspace, parsed: ParsedReply) -> list[ToolResult]:
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
    # 1. Workspace, checker, trajectory, first messages.
    if protocol not in ("files", "tools"):
        raise ValueError(f"protocol must be 'files' or 'tools', not {protocol!r}")
    started = time.monotonic()
    root = Path(workspace_dir)
    if start_bundle is not None:
        shutil.copytree(start_bundle, root, ignore=shutil.ignore_patterns(".*"), dirs_exist_ok=True)
    own_checker = checker is None
    checker = checker or Checker()
    ws = Workspace(root, checker=checker)
    traj = Trajectory(id=uuid.uuid4().hex, created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      task_id=task_id, prompt=prompt, model=model_name or backend.name, protocol=protocol,
                      budget={"max_steps": budget.max_steps, "max_tokens": budget.max_tokens,
                              "max_seconds": budget.max_seconds})
    messages = [Message("system", system_prompt(protocol, TOOL_SPECS, prompt_style)),
                Message("user", start_message(prompt, ws, protocol))]
    used = 0  # prompt + completion tokens so far
    step = 0
    repaired = False
    repair_paths: list[str] | None = None  # what the repair turn asked for

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
                # A repair of one file other than app.json ends with that file's block.
                c = backend.complete(list(messages) + prefix, None, replace(cfg, stop=FILE_END), on_token)
                if c.continued_prefix and c.finish_reason == "stop":
                    c = replace(c, text=c.text + ("" if c.text.endswith("\n") else "\n") + "</file>\n")
                return c

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
                reply, record.fixes = fix_app_json(reply, parsed)
                reply, page_fixes = fix_page(reply, parsed, _on_disk(ws))
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
                    traj.stop_reason = "check_failed"
                    break
                repaired = True
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

        # 5. Final check (reused when the last step already checked this bundle), version.
        last = traj.steps[-1].check if traj.steps and protocol == "files" else None
        if last is None and ws.files():
            last = _check_record(checker(ws.root))
            emit("check", last.text, ok=last.ok)
        traj.check = last
        if ws.files() and check_bundle(ws.root).ok:
            try:
                traj.version_id = save(ws.root, f"agent run {traj.id[:12]} ({traj.stop_reason})").id
            except WorkspaceError as exc:
                traj.error = traj.error or f"could not save a version: {exc}"
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
