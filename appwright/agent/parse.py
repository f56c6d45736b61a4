"""Model text -> tool calls and file blocks, tolerantly. Never raises on model output.

    reply = parse_reply(text)
    reply.tool_calls   # [ToolCall(name, arguments)] from <tool_call>{...}</tool_call> (Qwen) or
                       # ```json {"name": ..., "arguments": ...}``` when no <tool_call> tag is present
    reply.files        # [FileBlock(path, content, closed)] from <file path="...">...</file>
    reply.problems     # what could not be read, in words the model can act on
    reply.text         # the rest: the prose reply

Repairs, each applied only where the result is unambiguous: an unclosed `<tool_call>` or
`<file>` at the end of the text (a reply cut off at max_tokens), raw newlines inside JSON
strings, trailing commas, single-quoted strings, Python's True/False/None, missing closing
braces at the very end, `arguments` given as a JSON string, a ```lang fence wrapped around a
file's content, and `path=` written with double, single or no quotes.

Not done: no guessing of a tool name from prose, no repair of JSON truncated inside a string
(that content is lost, so it becomes a problem), no XML-style (`<function=...>`) calls.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.S)
FENCED_JSON = re.compile(r"```(?:json)?[ \t]*\n(.*?)(?:```|\Z)", re.S)
FILE_OPEN = re.compile(r"""<file\s+(?:path|name)\s*=\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s>"']+))\s*/?>""", re.I)
FILE_CLOSE = re.compile(r"</file\s*>", re.I)
FENCE_AROUND = re.compile(r"\A\s*```[\w+-]*[ \t]*\n(.*?)\n?```\s*\Z", re.S)


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class FileBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    content: str
    closed: bool = True  # False: the block ran to the end of the text (probably cut off)


class ParsedReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    files: list[FileBlock] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


# 1. JSON repair ------------------------------------------------------------------------


def _repair(raw: str) -> str:
    """One pass outside strings: single-quoted strings -> JSON strings, trailing commas dropped,
    True/False/None -> true/false/null, missing closing brackets appended at the end."""
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == '"':  # copy a JSON string as is
            j = i + 1
            while j < n and raw[j] != '"':
                j += 2 if raw[j] == "\\" else 1
            if j >= n:
                raise ValueError("a string is not closed (the reply was probably cut off)")
            out.append(raw[i:j + 1])
            i = j + 1
        elif c == "'":
            j, buf = i + 1, []
            while j < n and raw[j] != "'":
                if raw[j] == "\\" and j + 1 < n:
                    buf.append(raw[j + 1] if raw[j + 1] in "'\"" else raw[j:j + 2])
                    j += 2
                else:
                    buf.append(raw[j])
                    j += 1
            if j >= n:
                raise ValueError("a string is not closed (the reply was probably cut off)")
            out.append(json.dumps(json.loads('"' + "".join(buf).replace('"', '\\"') + '"', strict=False)))
            i = j + 1
        elif c == ",":
            k = i + 1
            while k < n and raw[k].isspace():
                k += 1
            if k < n and raw[k] in "}]":
                i += 1  # trailing comma
                continue
            out.append(c)
            i += 1
        elif c in "{[":
            stack.append("}" if c == "{" else "]")
            out.append(c)
            i += 1
        elif c in "}]":
            if stack:
                stack.pop()
            out.append(c)
            i += 1
        else:
            m = re.match(r"True|False|None", raw[i:])
            if m and (i == 0 or not raw[i - 1].isalnum()):
                out.append({"True": "true", "False": "false", "None": "null"}[m.group()])
                i += m.end()
            else:
                out.append(c)
                i += 1
    return "".join(out).rstrip() + "".join(reversed(stack))


def load_json(raw: str) -> tuple[Any, str | None]:
    """(value, None) or (None, problem). Tries JSON first, then the repair, then a Python literal."""
    raw = raw.strip()
    m = FENCE_AROUND.match(raw)
    if m:
        raw = m.group(1).strip()
    try:
        return json.loads(raw, strict=False), None
    except RecursionError:
        return None, "nested too deeply"
    except json.JSONDecodeError as exc:
        why = str(exc)
    try:
        return json.loads(_repair(raw), strict=False), None
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as exc:  # JSONDecodeError is one; _repair raises plain ValueError
        if not isinstance(exc, json.JSONDecodeError):
            why = str(exc)
    try:
        return ast.literal_eval(raw), None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, why


# 2. Tool calls ---------------------------------------------------------------------------


def _to_call(value: Any) -> tuple[ToolCall | None, str | None]:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None, 'a tool call must be a JSON object {"name": "...", "arguments": {...}}'
    args = value.get("arguments", value.get("parameters", {}))
    if isinstance(args, str):  # some models send the arguments as a JSON string
        args, problem = load_json(args) if args.strip() else ({}, None)
        if problem:
            return None, f"tool call {value['name']!r}: arguments are not valid JSON ({problem})"
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return None, f"tool call {value['name']!r}: arguments must be a JSON object"
    return ToolCall(name=value["name"], arguments=args), None


def _calls(text: str) -> tuple[list[ToolCall], list[str], list[tuple[int, int]]]:
    calls, problems, spans = [], [], []
    tagged = list(TOOL_CALL.finditer(text))
    matches = tagged or [m for m in FENCED_JSON.finditer(text) if re.match(r'\s*\{\s*["\']name["\']', m.group(1))]
    for m in matches:
        spans.append(m.span())
        body = m.group(1)
        if not body.strip():
            problems.append("an empty <tool_call></tool_call>: put the JSON call inside the tag")
            continue
        value, problem = load_json(body)
        if problem:
            problems.append(f"could not read a tool call as JSON: {problem}. Write exactly "
                            '<tool_call>{"name": "...", "arguments": {...}}</tool_call>')
            continue
        for item in value if isinstance(value, list) else [value]:
            call, problem = _to_call(item)
            if call:
                calls.append(call)
            else:
                problems.append(problem)
    return calls, problems, spans


# 3. File blocks --------------------------------------------------------------------------


STRAY_FENCE = re.compile(r"\n```[ \t]*(?:\n|\Z)")


def _files(text: str) -> tuple[list[FileBlock], list[str], list[tuple[int, int]]]:
    files, problems, spans = [], [], []
    pos = 0
    while (m := FILE_OPEN.search(text, pos)) is not None:
        path = next(g for g in m.groups() if g is not None).strip()
        close = FILE_CLOSE.search(text, m.end())
        nxt = FILE_OPEN.search(text, m.end())
        if close and (nxt is None or close.start() < nxt.start()):
            end, closed, pos = close.start(), True, close.end()
        else:  # no </file> before the next <file ...> or the end: cut off or forgotten
            end = pos = nxt.start() if nxt else len(text)
            closed = False
            stray = STRAY_FENCE.search(text, m.end(), end)
            if stray and not text[m.end():].lstrip("\n").startswith("```"):
                # closed with a fence instead of </file> (small models copy the docs' fenced
                # examples): the repair is unambiguous, and what follows is prose
                end, pos = stray.start(), stray.end()
            else:
                problems.append(f"<file path=\"{path}\"> has no closing </file>" +
                                ("; the reply may have been cut off, so the file may be incomplete"
                                 if nxt is None else ""))
        content = text[m.end():end]
        fenced = FENCE_AROUND.match(content)
        if fenced:
            content = fenced.group(1)
        content = content.strip("\n")
        if not closed and nxt is None:
            content = re.sub(r"\n?```\s*\Z", "", content)  # a fence opened, then the text stopped
        if not path:
            problems.append("a <file> block has an empty path")
        else:
            files.append(FileBlock(path=path, content=content + "\n" if content else "", closed=closed))
        spans.append((m.start(), pos))
    return _one_per_path(files, problems), problems, spans


def _one_per_path(files: list[FileBlock], problems: list[str]) -> list[FileBlock]:
    """A path written twice keeps its last closed block: a runaway answer that starts the same
    file again and is cut off must not replace the complete draft before it."""
    out: dict[str, FileBlock] = {}
    for f in files:
        if f.path in out and out[f.path].closed and not f.closed:
            problems.append(f'<file path="{f.path}"> was started again and not finished; '
                            "the earlier complete block is kept")
            continue
        out[f.path] = f
    return list(out.values())


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return text


def parse_reply(text: str) -> ParsedReply:
    # 1. File blocks first: their content may hold ```json fences or tags that are not calls.
    files, file_problems, file_spans = _files(text)
    rest = _cut(text, file_spans)
    # 2. Tool calls in what is left.
    calls, call_problems, call_spans = _calls(rest)
    rest = _cut(rest, call_spans)
    return ParsedReply(text=re.sub(r"\n{3,}", "\n\n", rest).strip(), tool_calls=calls, files=files,
                       problems=file_problems + call_problems)
