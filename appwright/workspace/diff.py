"""Unified diff (difflib) between two versions, or a version and the working files.

    diff(bundle, "ab12")            version ab12 -> working files
    diff(bundle, "ab12", "cd34")    version ab12 -> version cd34

Added and removed files are diffed against /dev/null, like git; files that are not
UTF-8 text are named as "Binary file ... differs/added/removed" without content.
Data snapshots are not diffed row by row: only whether they differ is reported.
An empty string means no differences.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from appwright.workspace.store import SHORT_ID, Version, bundle_folder, get, read_blob, read_working


def _text(content: bytes) -> str | None:
    if b"\0" in content:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _lines(text: str) -> list[str]:
    # Keep every output line newline-terminated, even a last line without one.
    return [line if line.endswith("\n") else line + "\n" for line in text.splitlines(keepends=True)]


def _file_diff(path: str, old: bytes | None, new: bytes | None) -> str:
    old_name = f"a/{path}" if old is not None else "/dev/null"
    new_name = f"b/{path}" if new is not None else "/dev/null"
    old_text = _text(old) if old is not None else ""
    new_text = _text(new) if new is not None else ""
    if old_text is None or new_text is None:
        what = "added" if old is None else "removed" if new is None else "differs"
        return f"Binary file {path} {what}\n"
    header = "added" if old is None else "removed" if new is None else "changed"
    body = "".join(difflib.unified_diff(_lines(old_text), _lines(new_text), old_name, new_name))
    if not body:  # e.g. an empty file added or removed
        body = f"--- {old_name}\n+++ {new_name}\n"
    return f"{header}: {path}\n{body}"


def _snapshot(version: Version) -> str:
    return f"data snapshot {version.data[:SHORT_ID]}" if version.data else "no data snapshot"


def diff(bundle: Path, a: str, b: str | None = None) -> str:
    """Unified diff from version `a` to version `b`, or to the working files when b is None."""
    bundle = bundle_folder(bundle)
    old_version = get(bundle, a)
    old = {p: read_blob(bundle, sha) for p, sha in old_version.files.items()}
    new_version: Version | None = get(bundle, b) if b is not None else None
    if new_version is None:
        new, _ = read_working(bundle)
    else:
        new = {p: read_blob(bundle, sha) for p, sha in new_version.files.items()}

    parts = [
        _file_diff(path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]
    if new_version is not None and old_version.data != new_version.data:
        parts.append(
            f"data differs: {old_version.short_id} has {_snapshot(old_version)}, "
            f"{new_version.short_id} has {_snapshot(new_version)}\n"
        )
    return "".join(parts)
