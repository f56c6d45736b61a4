"""Immutable, content-addressed versions of an app bundle, stored inside the bundle.

Layout (all under the bundle's hidden folder, which is never versioned itself):

    BUNDLE/.aw/objects/<sha256>        blobs: file contents and SQLite data snapshots;
                                       written once (temp file + os.replace), never rewritten
    BUNDLE/.aw/versions/<id>.json      one `Version` record per version
    BUNDLE/.aw/HEAD                    id the working files were last saved as / restored to
    BUNDLE/.aw/app.db                  the runtime's live data (not versioned unless --data)

A version's id is sha256 of canonical JSON of {"files": ..., "data": ...}, so saving
the same content twice gives the same id and no duplicate. Ids are shown as their
first 12 hex characters; any unique prefix of 4+ characters is accepted, and so is
"HEAD".

Run it:  appwright versions save BUNDLE -m "first"   (see workspace/cli.py)
From Python:  save(bundle), list_versions(bundle), get(bundle, "ab12"),
              diff(bundle, a, b) (workspace/diff.py), restore(bundle, id) (workspace/restore.py)

What it does NOT do: no branches or merging, no garbage collection of unreferenced
blobs, no compression, no locking between two writers saving at the same time
(each blob and record is written atomically, so the worst case is a redundant
version or a HEAD that names the other writer's version).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from appwright.runtime.storage import DATA_DIR, DB_FILENAME  # the live data is BUNDLE/.aw/app.db
from appwright.workspace import data as sqlite_data

AW_DIR = DATA_DIR  # the runtime keeps its data here too, so the versions sit beside it
MANIFEST = "app.json"
MAX_FILE_BYTES = 5 * 1024 * 1024
SHORT_ID = 12
MIN_PREFIX = 4
_EXCLUDED_NAMES = {"__pycache__"}


class WorkspaceError(Exception):
    """A problem a user can fix; the message is shown as is, without a traceback."""


class Version(BaseModel):
    """One saved state of a bundle. `files` maps posix relative paths to blob sha256."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = 1
    id: str
    parent: str | None
    created_at: str  # ISO 8601, UTC
    message: str
    files: dict[str, str]
    data: str | None  # sha256 of a SQLite snapshot blob
    # Symlinks and other non-regular files left out when this version was saved.
    # Informational only: not part of the id.
    skipped: list[str] = []

    @property
    def short_id(self) -> str:
        return self.id[:SHORT_ID]


# 1. Paths and small helpers -------------------------------------------------------


def aw_dir(bundle: Path) -> Path:
    return Path(bundle) / AW_DIR


def db_path(bundle: Path) -> Path:
    return aw_dir(bundle) / DB_FILENAME


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def version_id(files: dict[str, str], data: str | None) -> str:
    canonical = json.dumps({"files": files, "data": data}, sort_keys=True, separators=(",", ":"))
    return _sha256(canonical.encode("utf-8"))


def tmp_dir(bundle: Path) -> Path:
    path = aw_dir(bundle) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write(bundle: Path, target: Path, content: bytes) -> None:
    """Write via a temp file in .aw/tmp and os.replace, so readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir(bundle))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        # mkstemp makes 0600 files; keep a replaced file's mode, else the usual 0644.
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.is_file() else 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def bundle_folder(bundle: Path, *, need_manifest: bool = False) -> Path:
    bundle = Path(bundle)
    has_manifest = (bundle / MANIFEST).is_file()
    # A bundle whose app.json was deleted can still be listed and restored.
    if not has_manifest and (need_manifest or not (aw_dir(bundle) / "versions").is_dir()):
        raise WorkspaceError(f"not an app bundle: no {MANIFEST} in {bundle}")
    return bundle


# 2. Blobs ----------------------------------------------------------------------------


def put_blob(bundle: Path, content: bytes) -> str:
    sha = _sha256(content)
    target = aw_dir(bundle) / "objects" / sha
    if not target.exists():
        atomic_write(bundle, target, content)
    return sha


def read_blob(bundle: Path, sha: str) -> bytes:
    try:
        content = (aw_dir(bundle) / "objects" / sha).read_bytes()
    except FileNotFoundError:
        raise WorkspaceError(f"missing blob {sha[:SHORT_ID]} in {aw_dir(bundle) / 'objects'}") from None
    if _sha256(content) != sha:
        raise WorkspaceError(f"corrupt blob {sha[:SHORT_ID]} in {aw_dir(bundle) / 'objects'}")
    return content


# 3. Working files --------------------------------------------------------------------


def is_versioned_path(rel: str) -> bool:
    """True for a posix relative path whose parts are all visible, non-cache names."""
    parts = rel.split("/")
    return all(p and p not in (".", "..") and not p.startswith(".") and p not in _EXCLUDED_NAMES for p in parts)


def scan(bundle: Path) -> tuple[dict[str, Path], list[str]]:
    """Regular files that belong to a version ({posix path: path}), and what was skipped."""
    bundle = Path(bundle)
    found: dict[str, Path] = {}
    skipped: list[str] = []
    for dirpath, dirnames, filenames in os.walk(bundle):  # os.walk does not follow symlinked dirs
        here = Path(dirpath)
        for name in list(dirnames):
            if name.startswith(".") or name in _EXCLUDED_NAMES:
                dirnames.remove(name)
            elif (here / name).is_symlink():
                dirnames.remove(name)  # a symlinked folder: not walked, not versioned
                skipped.append((here / name).relative_to(bundle).as_posix())
        for name in filenames:
            if name.startswith(".") or name in _EXCLUDED_NAMES:
                continue
            path = here / name
            rel = path.relative_to(bundle).as_posix()
            if path.is_symlink() or not path.is_file():
                skipped.append(rel)
                continue
            found[rel] = path
    return dict(sorted(found.items())), sorted(skipped)


def read_working(bundle: Path) -> tuple[dict[str, bytes], list[str]]:
    """Contents of the working files ({posix path: bytes}), refusing files over the limit."""
    files, skipped = scan(bundle)
    contents: dict[str, bytes] = {}
    for rel, path in files.items():
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WorkspaceError(
                f"file too large to version: {rel} is {size:,} bytes "
                f"(limit {MAX_FILE_BYTES // 2**20} MiB per file)"
            )
        contents[rel] = path.read_bytes()
    return contents, skipped


def snapshot_data(bundle: Path) -> str | None:
    """Copy the live database (sqlite3 backup API) into a blob; None if there is none yet."""
    live = db_path(bundle)
    if not live.is_file():
        return None
    tmp = Path(tempfile.mkdtemp(dir=tmp_dir(bundle))) / DB_FILENAME
    try:
        sqlite_data.backup_to_file(live, tmp)
        return put_blob(bundle, tmp.read_bytes())
    except sqlite3.Error as e:
        raise WorkspaceError(f"could not snapshot data in {live}: {e}") from None
    finally:
        sqlite_data.remove_db_files(tmp)
        tmp.parent.rmdir()


# 4. Version records ------------------------------------------------------------------


def read_head(bundle: Path) -> str | None:
    try:
        head = (aw_dir(bundle) / "HEAD").read_text().strip()
    except FileNotFoundError:
        return None
    return head or None


def write_head(bundle: Path, vid: str) -> None:
    atomic_write(bundle, aw_dir(bundle) / "HEAD", (vid + "\n").encode())


def _load(path: Path) -> Version:
    try:
        version = Version.model_validate_json(path.read_bytes())
    except ValidationError as e:
        raise WorkspaceError(f"corrupt version record {path}: {e.errors()[0]['msg']}") from None
    if path.stem != version.id or version_id(version.files, version.data) != version.id:
        raise WorkspaceError(f"corrupt version record {path}: id does not match its content")
    return version


def list_versions(bundle: Path) -> list[Version]:
    """All versions, newest first."""
    bundle = bundle_folder(bundle)
    folder = aw_dir(bundle) / "versions"
    versions = [_load(p) for p in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(versions, key=lambda v: (v.created_at, v.id), reverse=True)


def get(bundle: Path, id_or_prefix: str) -> Version:
    """The version whose id starts with `id_or_prefix` (4+ hex chars), or HEAD's."""
    bundle = bundle_folder(bundle)
    wanted = id_or_prefix.strip().lower()
    if wanted == "head":
        head = read_head(bundle)
        if head is None:
            raise WorkspaceError(f"no HEAD yet in {bundle}: save a version first")
        wanted = head
    if len(wanted) < MIN_PREFIX:
        raise WorkspaceError(f"version id '{id_or_prefix}' is too short; give at least {MIN_PREFIX} characters")
    matches = [v for v in list_versions(bundle) if v.id.startswith(wanted)]
    if not matches:
        raise WorkspaceError(f"no version matches '{id_or_prefix}'")
    if len(matches) > 1:
        raise WorkspaceError(f"'{id_or_prefix}' matches {len(matches)} versions; give more characters")
    return matches[0]


def save(bundle: Path, message: str = "", with_data: bool = False) -> Version:
    """Save the working files (and, with_data, a snapshot of the live data) as a version.

    Identical content returns the existing version (its message and date unchanged).
    Either way HEAD names the returned version afterwards.
    """
    bundle = bundle_folder(bundle, need_manifest=True)
    contents, skipped = read_working(bundle)
    files = {rel: put_blob(bundle, content) for rel, content in contents.items()}
    data = snapshot_data(bundle) if with_data else None
    return record_version(bundle, files, data, message, skipped)


def record_version(bundle: Path, files: dict[str, str], data: str | None, message: str, skipped: list[str]) -> Version:
    vid = version_id(files, data)
    path = aw_dir(bundle) / "versions" / f"{vid}.json"
    if path.exists():
        version = _load(path)
    else:
        version = Version(
            id=vid,
            parent=read_head(bundle),
            created_at=datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            message=message,
            files=files,
            data=data,
            skipped=skipped,
        )
        atomic_write(bundle, path, version.model_dump_json(indent=2).encode())
    write_head(bundle, vid)
    return version
