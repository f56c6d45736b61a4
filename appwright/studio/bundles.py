"""The apps' bundles on disk, as the studio uses them: `<data dir>/apps/<app id>/`.

    adopt(bundle, scratch)                      # the agent's files become the app's working files
    v = snapshot(bundle, "turn 2: add tags")    # files and data as one workspace version
    write_version(bundle, v.id, dest)           # a version's files in another folder (to grade it)

The agent works in a scratch copy (`config.runs_dir / <turn id>`), so the live preview never
shows a half-written answer and a stopped or failed turn leaves the app as it was. Every
studio version is saved *with* its data: restoring a version brings back the app's records
as they were when that version was made.

Does not: merge files a person edited by hand while a turn ran (the studio has no editor),
or migrate data between versions (the runtime keeps records of removed fields; see
runtime/storage.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from appwright.workspace import Version, get, save
from appwright.workspace.store import atomic_write, read_blob, scan


def adopt(bundle: Path, scratch: Path) -> None:
    """Make the bundle's versioned files exactly the scratch folder's (hidden files untouched)."""
    wanted, _ = scan(scratch)
    working, _ = scan(bundle)
    for rel, path in working.items():
        if rel not in wanted:
            path.unlink()
            for folder in path.parents:  # folders the removed file leaves empty
                if folder == bundle or any(folder.iterdir()):
                    break
                folder.rmdir()
    for rel, path in wanted.items():
        content = path.read_bytes()
        if rel in working and working[rel].read_bytes() == content:
            continue
        atomic_write(bundle, bundle / rel, content)


def same_files(bundle: Path, vid: str, folder: Path) -> bool:
    """`folder`'s versioned files are exactly version `vid`'s."""
    wanted, _ = scan(folder)
    files = get(bundle, vid).files
    return wanted.keys() == files.keys() and all(read_blob(bundle, files[rel]) == path.read_bytes()
                                                 for rel, path in wanted.items())


def snapshot(bundle: Path, message: str) -> Version:
    return save(bundle, message, with_data=True)


def write_version(bundle: Path, vid: str, dest: Path) -> None:
    """The files of version `vid` (not its data) into the empty folder `dest`."""
    version = get(bundle, vid)
    for rel, sha in version.files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read_blob(bundle, sha))


def app_name(bundle: Path) -> str | None:
    try:
        name = json.loads((bundle / "app.json").read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(name, str) or not name.strip():
        return None
    return name.strip()[:200]


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
