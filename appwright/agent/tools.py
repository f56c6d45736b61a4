"""The workspace the model may change, and the tools it changes it with.

    ws = Toolbox("out/notes", checker=Checker())
    ws.call(ToolCall(name="write_file", arguments={"path": "index.html", "content": "..."}))
    # -> ToolResult(ok=True, output="wrote index.html (123 bytes)")

Every tool returns a `ToolResult`; a bad path, a missing argument or an unknown tool is an
error result the model reads, never an exception. Confinement: a path must be relative,
inside the workspace after resolving symlinks, free of NUL bytes and hidden parts (`.aw/`
holds versions and data; `.git` and dotfiles are not the model's). Limits: 256 KiB per file,
64 files, text (UTF-8) only.

Not done: no locking against another writer of the same folder; a symlink created by someone
else between the check and the write (a race) is not defended against; binary files cannot
be written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict

from appwright.agent.parse import ToolCall
from appwright.models.base import ToolSpec

MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 64
MAX_READ_CHARS = 20_000  # what one read_file returns; more would crowd a small model's context


class ToolResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ok: bool
    output: str


def _spec(name: str, description: str, **props: str) -> ToolSpec:
    return ToolSpec(name, description, {
        "type": "object",
        "properties": {k: {"type": "string", "description": v} for k, v in props.items()},
        "required": list(props),
    })


TOOL_SPECS: list[ToolSpec] = [
    _spec("list_files", "List the app's files with their sizes."),
    _spec("read_file", "Read one file.", path="relative path, e.g. index.html"),
    _spec("write_file", "Create or replace a whole file.", path="relative path", content="the full new text"),
    _spec("edit_file", "Replace one exact, unique piece of text in a file.", path="relative path",
          search="text that occurs exactly once in the file", replace="its replacement"),
    _spec("delete_file", "Delete one file.", path="relative path"),
    _spec("check_app", "Validate app.json, start the app, load it in a browser; reports errors."),
    _spec("finish", "End the task.", summary="one paragraph for the user: what the app does"),
]


class PathError(ValueError):
    pass


class Toolbox:
    """The agent's tools, confined to one folder (the agent's workspace; the versions of a bundle
    are the `workspace/` package's job)."""

    def __init__(self, root: str | Path, checker: Callable[[Path], object] | None = None,
                 max_file_bytes: int = MAX_FILE_BYTES, max_files: int = MAX_FILES):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.checker = checker  # (bundle) -> report with .ok and .text(); None: check_app says so
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.finished: str | None = None  # the summary, once `finish` was called
        self.last_check = None

    # 1. Confinement --------------------------------------------------------------------

    def resolve(self, rel: object) -> Path:
        if not isinstance(rel, str) or not rel.strip():
            raise PathError("path must be a non-empty string such as \"index.html\"")
        if "\x00" in rel:
            raise PathError("path contains a NUL byte")
        rel = rel.strip().replace("\\", "/")
        if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
            raise PathError(f"{rel}: absolute paths are not allowed; use a path relative to the app, e.g. index.html")
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            raise PathError(f"{rel}: paths must stay inside the app folder (no ..)")
        if any(p.startswith(".") for p in parts):
            raise PathError(f"{rel}: hidden paths (.aw/, dotfiles) are not part of the app")
        target = self.root.joinpath(*parts)
        resolved = target.resolve()  # follows symlinks, also of missing files' parents
        if resolved != self.root and self.root not in resolved.parents:
            raise PathError(f"{rel}: leads outside the app folder")
        return target

    def files(self) -> list[str]:
        """Visible regular files, as posix relative paths (symlinks and hidden paths left out)."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and not os.path.islink(os.path.join(dirpath, d)))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if not name.startswith(".") and path.is_file() and not path.is_symlink():
                    found.append(path.relative_to(self.root).as_posix())
        return found

    # 2. Tools ---------------------------------------------------------------------------

    def list_files(self) -> ToolResult:
        files = self.files()
        if not files:
            return ToolResult(ok=True, output="(no files yet)")
        return ToolResult(ok=True, output="\n".join(f"{f} ({(self.root / f).stat().st_size} bytes)" for f in files))

    def read_file(self, path: str) -> ToolResult:
        target = self.resolve(path)
        if not target.is_file():
            return ToolResult(ok=False, output=f"{path}: no such file (list_files shows what exists)")
        text = target.read_text(encoding="utf-8", errors="replace")
        if len(text) > MAX_READ_CHARS:
            text = text[:MAX_READ_CHARS] + f"\n... ({len(text) - MAX_READ_CHARS} more characters not shown)"
        return ToolResult(ok=True, output=text)

    def write_file(self, path: str, content: str) -> ToolResult:
        target = self.resolve(path)
        if not isinstance(content, str):
            return ToolResult(ok=False, output="content must be a string")
        data = content.encode("utf-8", errors="replace")
        if len(data) > self.max_file_bytes:
            return ToolResult(ok=False, output=f"{path}: {len(data)} bytes is over the limit of "
                                               f"{self.max_file_bytes} bytes per file; split it")
        if target.is_dir():
            return ToolResult(ok=False, output=f"{path}: is a folder")
        if not target.exists() and len(self.files()) >= self.max_files:
            return ToolResult(ok=False, output=f"the app already has {self.max_files} files, the limit")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return ToolResult(ok=True, output=f"wrote {path} ({len(data)} bytes)")

    def edit_file(self, path: str, search: str, replace: str) -> ToolResult:
        target = self.resolve(path)
        if not target.is_file():
            return ToolResult(ok=False, output=f"{path}: no such file")
        if not isinstance(search, str) or not search or not isinstance(replace, str):
            return ToolResult(ok=False, output="search must be non-empty text and replace a string")
        text = target.read_text(encoding="utf-8", errors="replace")
        count = text.count(search)
        if count == 0:
            return ToolResult(ok=False, output=f"{path}: the search text was not found; read_file to see the "
                                               "exact text (spaces and line breaks must match)")
        if count > 1:
            return ToolResult(ok=False, output=f"{path}: the search text occurs {count} times; include more "
                                               "surrounding lines so it occurs once")
        return self.write_file(path, text.replace(search, replace, 1))

    def delete_file(self, path: str) -> ToolResult:
        target = self.resolve(path)
        if target.is_symlink() or not target.is_file():
            return ToolResult(ok=False, output=f"{path}: no such file")
        target.unlink()
        return ToolResult(ok=True, output=f"deleted {path}")

    def check_app(self) -> ToolResult:
        if self.checker is None:
            return ToolResult(ok=False, output="check_app is not available in this run")
        report = self.checker(self.root)
        self.last_check = report
        return ToolResult(ok=report.ok, output=report.text())

    def finish(self, summary: str = "") -> ToolResult:
        self.finished = summary if isinstance(summary, str) else str(summary)
        return ToolResult(ok=True, output="finished")

    # 3. Dispatch ------------------------------------------------------------------------

    def call(self, call: ToolCall) -> ToolResult:
        tools = {"list_files": self.list_files, "read_file": self.read_file, "write_file": self.write_file,
                 "edit_file": self.edit_file, "delete_file": self.delete_file, "check_app": self.check_app,
                 "finish": self.finish}
        spec = next((s for s in TOOL_SPECS if s.name == call.name), None)
        if spec is None:
            return ToolResult(ok=False, output=f"unknown tool {call.name!r}; the tools are: "
                                               + ", ".join(s.name for s in TOOL_SPECS))
        allowed = spec.parameters["properties"]
        missing = [k for k in spec.parameters["required"] if k not in call.arguments and call.name != "finish"]
        unknown = [k for k in call.arguments if k not in allowed]
        if missing or unknown:
            return ToolResult(ok=False, output=f"{call.name}: " + "; ".join(
                ([f"missing argument(s): {', '.join(missing)}"] if missing else []) +
                ([f"unknown argument(s): {', '.join(unknown)}"] if unknown else [])) +
                f"; it takes {', '.join(allowed) or 'no arguments'}")
        bad = [k for k, v in call.arguments.items() if not isinstance(v, str)]
        if bad:
            return ToolResult(ok=False, output=f"{call.name}: argument(s) {', '.join(bad)} must be strings")
        try:
            return tools[call.name](**call.arguments)
        except PathError as exc:
            return ToolResult(ok=False, output=str(exc))
        except OSError as exc:
            return ToolResult(ok=False, output=f"{call.name}: {exc.strerror or exc}")
