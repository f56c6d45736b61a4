"""Copy a live SQLite database to and from a snapshot file with sqlite3's online backup API.

The backup API (not a file copy) is used both ways because the runtime may hold the
database open in WAL mode: a file copy could miss pages still in the -wal file, and
replacing the file under an open connection would leave that connection reading the
old, unlinked file. Backing up *into* the live database writes through SQLite, so a
connection already holding it open reads the restored rows on its next query.

Does not: lock out other writers beyond SQLite's own locks (a restore waits up to
BUSY_TIMEOUT_S for a writer to finish, then fails), migrate schemas, or check
that a snapshot belongs to the same app. Errors are sqlite3.Error; callers wrap them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

BUSY_TIMEOUT_S = 10.0


def backup_to_file(live: Path, dest: Path) -> None:
    """Write a consistent copy of `live` into a new file `dest`."""
    src = sqlite3.connect(live, timeout=BUSY_TIMEOUT_S)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def restore_from_file(snapshot: Path, live: Path) -> None:
    """Replace the contents of `live` (created if missing) with those of `snapshot`.

    `snapshot` should be a private copy: opening it may create -wal/-shm files beside it.
    """
    live.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(snapshot)
    try:
        dst = sqlite3.connect(live, timeout=BUSY_TIMEOUT_S)
        try:
            # Python's backup() retries forever while another connection holds the
            # write lock; waiting for the lock here first turns a stuck writer into
            # "database is locked" after the timeout (a small race remains).
            dst.execute("BEGIN IMMEDIATE")
            dst.rollback()
            src.backup(dst, sleep=0.05)
        finally:
            dst.close()
    finally:
        src.close()


def remove_db_files(path: Path) -> None:
    """Delete a database file and the -wal/-shm/-journal files SQLite may leave beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
