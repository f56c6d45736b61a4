"""Restore a bundle's working files (and optionally its live data) to a saved version.

    restore(bundle, "ab12")              files and data (if the version has a snapshot)
    restore(bundle, "ab12", data=False)  files only; the live database is untouched

Nothing is lost: before touching anything, unsaved working files (and the live data,
when it is about to be replaced) are saved as a version named
"autosave before restore to <short id>" unless they already match a saved version.

Only versioned files are written or deleted: hidden files and folders (.aw/ included),
__pycache__ and symlinks are left alone, and no write goes through a symlinked folder.
Data is restored with sqlite3's backup API into the live database, so a server holding
it open sees the restored rows (see workspace/data.py).

Does not: stop a running server, restore file modes or timestamps, or lock out a
concurrent save.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from appwright.workspace import data as sqlite_data
from appwright.workspace.store import (
    DB_FILENAME,
    Version,
    WorkspaceError,
    atomic_write,
    record_version,
    tmp_dir,
    bundle_folder,
    db_path,
    get,
    is_versioned_path,
    list_versions,
    put_blob,
    read_blob,
    read_working,
    scan,
    snapshot_data,
    write_head,
)


class RestoreResult(BaseModel):
    """What a restore did, for the CLI and the studio to report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = 1
    version: Version
    autosaved: Version | None  # the version unsaved work was kept as, if any
    written: list[str]  # files created or changed
    deleted: list[str]  # files removed because the version does not have them
    # "restored": live data replaced by the snapshot; "no_snapshot": data requested but
    # the version has none, data left as is; "not_requested": data=False.
    data: Literal["restored", "no_snapshot", "not_requested"]


def restore(bundle: Path, id_or_prefix: str, data: bool = True) -> RestoreResult:
    bundle = bundle_folder(bundle)
    target = get(bundle, id_or_prefix)

    # 1. Read and check the target's blobs and paths before changing anything.
    wanted = {rel: read_blob(bundle, sha) for rel, sha in target.files.items()}
    for rel in wanted:
        _check_target_path(bundle, rel)
    restore_data = data and target.data is not None

    # 2. Autosave unsaved work (files, plus data when it is about to be replaced).
    autosaved = _autosave(bundle, target, with_data=restore_data)

    # 3. Data first (a busy database is the likeliest failure; then no file has changed),
    #    through the backup API so open connections see it.
    if restore_data:
        assert target.data is not None
        _restore_data(bundle, target.data)

    # 4. Files: delete what the version lacks, then write what differs.
    working, _ = scan(bundle)
    deleted = [rel for rel in working if rel not in wanted]
    for rel in deleted:
        working[rel].unlink()
    _remove_empty_dirs(bundle)
    written = []
    for rel, content in wanted.items():
        path = bundle / rel
        if rel in working and path.read_bytes() == content:
            continue
        if path.is_dir() and not path.is_symlink():
            raise WorkspaceError(f"cannot restore {rel}: a folder is in the way; move it and retry")
        try:
            atomic_write(bundle, path, content)
        except (FileExistsError, NotADirectoryError):
            raise WorkspaceError(f"cannot restore {rel}: a file is in the way of its folder") from None
        written.append(rel)

    write_head(bundle, target.id)
    return RestoreResult(
        version=target,
        autosaved=autosaved,
        written=written,
        deleted=deleted,
        data="restored" if restore_data else "no_snapshot" if data else "not_requested",
    )


def _check_target_path(bundle: Path, rel: str) -> None:
    if not is_versioned_path(rel):
        raise WorkspaceError(f"refusing to restore unsafe path {rel!r} from a version record")
    parent = bundle
    for part in rel.split("/")[:-1]:
        parent = parent / part
        if parent.is_symlink():
            raise WorkspaceError(f"cannot restore {rel}: {parent.relative_to(bundle)} is a symlink")


def _autosave(bundle: Path, target: Version, *, with_data: bool) -> Version | None:
    try:
        contents, skipped = read_working(bundle)
    except WorkspaceError as e:
        raise WorkspaceError(f"cannot autosave before restoring, so nothing was changed: {e}") from None
    files = {rel: hashlib.sha256(content).hexdigest() for rel, content in contents.items()}
    live_data = snapshot_data(bundle) if with_data else None
    # With no live data to protect, matching files alone means nothing would be lost.
    for v in list_versions(bundle):
        if v.files == files and (live_data is None or v.data == live_data):
            return None
    for content in contents.values():
        put_blob(bundle, content)
    return record_version(bundle, files, live_data, f"autosave before restore to {target.short_id}", skipped)


def _remove_empty_dirs(bundle: Path) -> None:
    """Remove versionable folders left empty by deletions, deepest first."""
    found: list[Path] = []
    for dirpath, dirnames, _ in os.walk(bundle):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if is_versioned_path(d) and not (here / d).is_symlink()]
        found.extend(here / d for d in dirnames)
    for folder in reversed(found):  # os.walk is top-down, so children come after parents
        if not any(folder.iterdir()):
            folder.rmdir()


def _restore_data(bundle: Path, sha: str) -> None:
    # Open a private copy of the snapshot: opening a WAL-mode file creates -wal/-shm
    # beside it, which must not land in objects/.
    tmp = Path(tempfile.mkdtemp(dir=tmp_dir(bundle))) / DB_FILENAME
    try:
        tmp.write_bytes(read_blob(bundle, sha))
        sqlite_data.restore_from_file(tmp, db_path(bundle))
    except sqlite3.Error as e:
        raise WorkspaceError(f"could not restore data into {db_path(bundle)}: {e}") from None
    finally:
        sqlite_data.remove_db_files(tmp)
        tmp.parent.rmdir()
