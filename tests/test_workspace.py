"""Tests for appwright/workspace: versions saved, listed, diffed and restored on disk."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appwright.workspace import (
    AW_DIR,
    DB_FILENAME,
    WorkspaceError,
    diff,
    get,
    list_versions,
    read_head,
    restore,
    save,
)
from appwright.workspace import data as sqlite_data
from appwright.workspace.cli import app as versions_app
from appwright.workspace.store import MAX_FILE_BYTES, Version, version_id


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    b = tmp_path / "notes"
    (b / "js").mkdir(parents=True)
    (b / "app.json").write_text(json.dumps({"name": "Notes", "entities": {}}))
    (b / "index.html").write_text("<h1>Notes</h1>\n<p>hello</p>\n")
    (b / "js" / "app.js").write_text("console.log('hi');\n")
    return b


def working_files(b: Path) -> dict[str, str]:
    return {
        p.relative_to(b).as_posix(): p.read_text()
        for p in sorted(b.rglob("*"))
        if p.is_file() and not p.relative_to(b).as_posix().startswith(".")
    }


def live_db(b: Path) -> sqlite3.Connection:
    """The app's live database in WAL mode, as the runtime keeps it."""
    (b / AW_DIR).mkdir(exist_ok=True)
    conn = sqlite3.connect(b / AW_DIR / DB_FILENAME)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    conn.execute("CREATE TABLE IF NOT EXISTS notes (title TEXT)")
    conn.commit()
    return conn


def titles(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT title FROM notes ORDER BY rowid")]


# save / list / content-addressed ids ---------------------------------------------------


def test_save_records_files_and_sets_head(bundle: Path) -> None:
    v = save(bundle, "first")
    assert sorted(v.files) == ["app.json", "index.html", "js/app.js"]
    assert v.message == "first" and v.parent is None and v.data is None
    assert v.created_at.endswith("+00:00")
    assert read_head(bundle) == v.id
    assert len(v.short_id) == 12 and v.id.startswith(v.short_id)
    # The record on disk is the same typed record.
    on_disk = Version.model_validate_json((bundle / AW_DIR / "versions" / f"{v.id}.json").read_text())
    assert on_disk == v and on_disk.format == 1


def test_same_content_same_id_no_duplicate(bundle: Path) -> None:
    v1 = save(bundle, "first")
    v2 = save(bundle, "second try, nothing changed")
    assert v2.id == v1.id and v2.message == "first"
    assert [v.id for v in list_versions(bundle)] == [v1.id]


def test_id_is_content_addressed_across_bundles(bundle: Path, tmp_path: Path) -> None:
    other = tmp_path / "copy"
    other.mkdir()
    for rel, text in working_files(bundle).items():
        (other / rel).parent.mkdir(parents=True, exist_ok=True)
        (other / rel).write_text(text)
    assert save(bundle, "a").id == save(other, "b").id


def test_change_gives_new_version_with_parent_newest_first(bundle: Path) -> None:
    v1 = save(bundle, "first")
    (bundle / "index.html").write_text("<h1>Notes v2</h1>\n")
    v2 = save(bundle, "second")
    assert v2.id != v1.id and v2.parent == v1.id
    assert [v.id for v in list_versions(bundle)] == [v2.id, v1.id]
    assert read_head(bundle) == v2.id


def test_hidden_files_cache_and_aw_are_not_versioned(bundle: Path) -> None:
    (bundle / ".env").write_text("SECRET=1")
    (bundle / ".git").mkdir()
    (bundle / ".git" / "config").write_text("x")
    (bundle / "js" / ".hidden.js").write_text("x")
    (bundle / "__pycache__").mkdir()
    (bundle / "__pycache__" / "m.pyc").write_bytes(b"\0")
    live_db(bundle).close()
    v1 = save(bundle)
    assert sorted(v1.files) == ["app.json", "index.html", "js/app.js"]
    # Changing only hidden things does not make a new version.
    (bundle / ".env").write_text("SECRET=2")
    assert save(bundle).id == v1.id


def test_symlinks_are_skipped_and_reported(bundle: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not part of the app")
    (bundle / "link.txt").symlink_to(outside)
    (bundle / "linkdir").symlink_to(tmp_path)
    v = save(bundle)
    assert "link.txt" not in v.files and not any(p.startswith("linkdir") for p in v.files)
    assert v.skipped == ["link.txt", "linkdir"]


def test_large_file_refused(bundle: Path) -> None:
    (bundle / "big.bin").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(WorkspaceError, match="too large.*big.bin"):
        save(bundle)
    assert list_versions(bundle) == []


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=f"not an app bundle: no app.json in {tmp_path}"):
        save(tmp_path)
    with pytest.raises(WorkspaceError, match="not an app bundle"):
        list_versions(tmp_path)


# prefixes --------------------------------------------------------------------------------


def test_prefix_resolution(bundle: Path) -> None:
    v = save(bundle)
    assert get(bundle, v.id[:4]) == v
    assert get(bundle, v.short_id.upper()) == v
    assert get(bundle, "HEAD") == v
    with pytest.raises(WorkspaceError, match="too short"):
        get(bundle, v.id[:3])
    unknown = "0000" if not v.id.startswith("0000") else "ffff"
    with pytest.raises(WorkspaceError, match=f"no version matches '{unknown}'"):
        get(bundle, unknown)


def test_ambiguous_prefix(bundle: Path) -> None:
    # Find two index.html contents whose version ids share 4 hex digits (a birthday
    # search over a few hundred hashes), then save both for real.
    files = {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in working_files(bundle).items()}
    seen: dict[str, str] = {}
    for i in range(100_000):
        text = f"<p>{i}</p>\n"
        vid = version_id({**files, "index.html": hashlib.sha256(text.encode()).hexdigest()}, None)
        if vid[:4] in seen:
            break
        seen[vid[:4]] = text
    for text in (seen[vid[:4]], text):
        (bundle / "index.html").write_text(text)
        save(bundle)
    with pytest.raises(WorkspaceError, match=f"'{vid[:4]}' matches 2 versions; give more characters"):
        get(bundle, vid[:4])
    assert get(bundle, vid).id == vid  # the full id is still unique


# diff ------------------------------------------------------------------------------------


def test_diff_between_versions_shows_changed_added_removed(bundle: Path) -> None:
    v1 = save(bundle, "first")
    (bundle / "index.html").write_text("<h1>Notes</h1>\n<p>goodbye</p>\n")
    (bundle / "js" / "app.js").unlink()
    (bundle / "css").mkdir()
    (bundle / "css" / "site.css").write_text("body { color: red; }\n")
    v2 = save(bundle, "second")
    text = diff(bundle, v1.short_id, v2.short_id)
    assert "changed: index.html" in text
    assert "-<p>hello</p>\n+<p>goodbye</p>\n" in text
    assert " <h1>Notes</h1>\n" in text  # context line
    assert "removed: js/app.js\n--- a/js/app.js\n+++ /dev/null" in text
    assert "-console.log('hi');" in text
    assert "added: css/site.css\n--- /dev/null\n+++ b/css/site.css" in text
    assert "+body { color: red; }" in text
    assert "app.json" not in text  # unchanged files are not mentioned


def test_diff_against_working_files(bundle: Path) -> None:
    v1 = save(bundle)
    assert diff(bundle, v1.id) == ""
    (bundle / "index.html").write_text("<h1>Notes</h1>\n<p>hello</p>\n<p>more</p>")
    (bundle / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    text = diff(bundle, v1.id)
    assert "+<p>more</p>\n" in text  # a last line without newline still ends the line
    assert "Binary file logo.png added" in text


def test_diff_reports_data_snapshot_difference(bundle: Path) -> None:
    v1 = save(bundle)
    live_db(bundle).close()
    v2 = save(bundle, with_data=True)
    assert f"data differs: {v1.short_id} has no data snapshot, {v2.short_id} has data snapshot" in diff(
        bundle, v1.id, v2.id
    )


# restore ---------------------------------------------------------------------------------


def test_restore_brings_back_deleted_and_changed_files_and_removes_extras(bundle: Path) -> None:
    original = working_files(bundle)
    v1 = save(bundle, "good")
    (bundle / "index.html").write_text("broken")
    (bundle / "js" / "app.js").unlink()
    (bundle / "js").rmdir()
    (bundle / "extra").mkdir()
    (bundle / "extra" / "junk.js").write_text("junk")
    (bundle / ".env").write_text("keep me")  # hidden: not versioned, never touched
    save(bundle, "bad")

    result = restore(bundle, v1.short_id)
    assert working_files(bundle) == original
    assert not (bundle / "extra").exists()  # emptied folder removed too
    assert (bundle / ".env").read_text() == "keep me"
    assert sorted(result.written) == ["index.html", "js/app.js"]
    assert result.deleted == ["extra/junk.js"]
    assert result.autosaved is None  # "bad" was saved, nothing to keep
    assert result.version.id == v1.id and read_head(bundle) == v1.id
    assert result.data == "no_snapshot"
    assert diff(bundle, v1.id) == ""


def test_restore_autosaves_unsaved_work_first(bundle: Path) -> None:
    v1 = save(bundle, "first")
    (bundle / "index.html").write_text("<h1>unsaved idea</h1>\n")
    (bundle / "new.js").write_text("let x = 1;\n")
    unsaved = working_files(bundle)

    result = restore(bundle, v1.id)
    auto = result.autosaved
    assert auto is not None
    assert auto.message == f"autosave before restore to {v1.short_id}"
    assert auto.parent == v1.id
    assert "unsaved idea" not in (bundle / "index.html").read_text()
    assert [v.id for v in list_versions(bundle)] == [auto.id, v1.id]

    # Nothing was lost: restoring the autosave brings the unsaved work back.
    back = restore(bundle, auto.short_id)
    assert working_files(bundle) == unsaved
    assert back.autosaved is None  # working files matched v1, already saved


def test_restore_refuses_when_unsaved_work_cannot_be_saved(bundle: Path) -> None:
    v1 = save(bundle)
    (bundle / "index.html").write_text("precious")
    (bundle / "big.bin").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(WorkspaceError, match="nothing was changed.*too large"):
        restore(bundle, v1.id)
    assert (bundle / "index.html").read_text() == "precious"


def test_restore_does_not_follow_symlinked_folders(bundle: Path, tmp_path: Path) -> None:
    v1 = save(bundle)
    outside = tmp_path / "outside"
    outside.mkdir()
    (bundle / "js" / "app.js").unlink()
    (bundle / "js").rmdir()
    (bundle / "js").symlink_to(outside)
    with pytest.raises(WorkspaceError, match="js is a symlink"):
        restore(bundle, v1.id)
    assert list(outside.iterdir()) == []


# data snapshots --------------------------------------------------------------------------


def test_save_with_data_and_no_database_yet(bundle: Path) -> None:
    assert save(bundle, with_data=True).data is None


def test_data_snapshot_round_trip_while_db_is_open(bundle: Path) -> None:
    server = live_db(bundle)  # stands in for a running server holding the DB open
    server.execute("INSERT INTO notes VALUES ('first note')")
    server.commit()
    v1 = save(bundle, "with one note", with_data=True)
    assert v1.data is not None
    assert not list((bundle / AW_DIR / "tmp").iterdir())  # no temp files left behind
    # Unchanged data snapshots to the same blob, so the same version.
    assert save(bundle, with_data=True).id == v1.id

    server.execute("INSERT INTO notes VALUES ('second note')")
    server.execute("UPDATE notes SET title = 'edited' WHERE title = 'first note'")
    server.commit()
    assert titles(server) == ["edited", "second note"]

    result = restore(bundle, v1.short_id)
    assert result.data == "restored"
    # The connection that stayed open reads the restored rows.
    assert titles(server) == ["first note"]
    # The data it replaced was autosaved (files matched v1, data did not).
    auto = result.autosaved
    assert auto is not None and auto.data is not None and auto.files == v1.files
    # And it can be written to afterwards, still in WAL mode.
    server.execute("INSERT INTO notes VALUES ('after restore')")
    server.commit()
    assert server.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    restore(bundle, auto.id)
    assert titles(server) == ["edited", "second note"]
    server.close()
    # A fresh connection agrees.
    fresh = sqlite3.connect(bundle / AW_DIR / DB_FILENAME)
    assert titles(fresh) == ["edited", "second note"]
    fresh.close()


def test_restore_fails_cleanly_while_another_writer_holds_the_db(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_data, "BUSY_TIMEOUT_S", 0.1)
    conn = live_db(bundle)
    conn.execute("INSERT INTO notes VALUES ('saved')")
    conn.commit()
    v1 = save(bundle, with_data=True)
    (bundle / "index.html").write_text("unsaved\n")
    writer = sqlite3.connect(bundle / AW_DIR / DB_FILENAME, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO notes VALUES ('in flight')")
    with pytest.raises(WorkspaceError, match="could not restore data.*locked"):
        restore(bundle, v1.id)
    assert (bundle / "index.html").read_text() == "unsaved\n"  # files untouched too
    writer.execute("COMMIT")
    assert titles(conn) == ["saved", "in flight"]
    writer.close()
    conn.close()


def test_restore_without_data_leaves_database_alone(bundle: Path) -> None:
    conn = live_db(bundle)
    conn.execute("INSERT INTO notes VALUES ('v1')")
    conn.commit()
    v1 = save(bundle, with_data=True)
    conn.execute("INSERT INTO notes VALUES ('later')")
    conn.commit()
    result = restore(bundle, v1.id, data=False)
    assert result.data == "not_requested" and result.autosaved is None
    assert titles(conn) == ["v1", "later"]
    conn.close()


def test_restore_version_without_snapshot_keeps_data(bundle: Path) -> None:
    v1 = save(bundle)  # no data
    conn = live_db(bundle)
    conn.execute("INSERT INTO notes VALUES ('keep')")
    conn.commit()
    result = restore(bundle, v1.id)
    assert result.data == "no_snapshot"
    assert titles(conn) == ["keep"]
    conn.close()


def test_restore_data_recreates_missing_database(bundle: Path) -> None:
    conn = live_db(bundle)
    conn.execute("INSERT INTO notes VALUES ('saved')")
    conn.commit()
    conn.close()
    v1 = save(bundle, with_data=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{bundle / AW_DIR / DB_FILENAME}{suffix}").unlink(missing_ok=True)
    restore(bundle, v1.id)
    conn = sqlite3.connect(bundle / AW_DIR / DB_FILENAME)
    assert titles(conn) == ["saved"]
    conn.close()


# CLI -------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_save_list_diff_restore(bundle: Path) -> None:
    r = runner.invoke(versions_app, ["save", str(bundle), "-m", "first"])
    assert r.exit_code == 0, r.output
    v1 = list_versions(bundle)[0]
    assert f"saved {v1.short_id} (3 files)" in r.stdout

    r = runner.invoke(versions_app, ["save", str(bundle), "-m", "again"])
    assert r.exit_code == 0 and f"no changes: already saved as {v1.short_id}" in r.stdout

    (bundle / "index.html").write_text("<h1>Changed</h1>\n")
    live_db(bundle).close()
    r = runner.invoke(versions_app, ["save", str(bundle), "--message", "second", "--data"])
    assert r.exit_code == 0 and "with data snapshot" in r.stdout
    v2 = list_versions(bundle)[0]

    r = runner.invoke(versions_app, ["list", str(bundle)])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    row2 = next(line for line in lines if v2.short_id in line)
    row1 = next(line for line in lines if v1.short_id in line)
    assert lines.index(row2) < lines.index(row1)  # newest first
    assert "*" in row2 and "*" not in row1  # HEAD marked
    assert "second" in row2 and "yes" in row2 and "first" in row1 and "no" in row1

    r = runner.invoke(versions_app, ["diff", str(bundle), v1.id[:6], v2.id[:6]])
    assert r.exit_code == 0 and "+<h1>Changed</h1>" in r.stdout
    r = runner.invoke(versions_app, ["diff", str(bundle), v2.id[:6]])
    assert r.exit_code == 0 and r.stdout.strip() == "no differences"

    r = runner.invoke(versions_app, ["restore", str(bundle), v1.id[:8], "--no-data"])
    assert r.exit_code == 0, r.output
    assert f"restored {v1.short_id}: 1 files written, 0 deleted" in r.stdout
    assert "data left as is (--no-data)" in r.stdout
    assert "<h1>Notes</h1>" in (bundle / "index.html").read_text()

    r = runner.invoke(versions_app, ["restore", str(bundle), v1.id[:8]])
    assert r.exit_code == 0 and "has no data snapshot" in r.stdout


def test_cli_restore_reports_autosave(bundle: Path) -> None:
    v1 = save(bundle)
    (bundle / "index.html").write_text("unsaved\n")
    r = runner.invoke(versions_app, ["restore", str(bundle), v1.short_id])
    assert r.exit_code == 0
    auto = list_versions(bundle)[0]
    assert f"autosaved unsaved work as {auto.short_id}" in r.stdout


def test_cli_errors_go_to_stderr_with_exit_2(bundle: Path, tmp_path: Path) -> None:
    # bad input (not a bundle, an unknown or short id): exit 2 (appwright/exits.py)
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(versions_app, ["save", str(empty)])
    assert r.exit_code == 2
    assert r.stderr.strip() == f"error: not an app bundle: no app.json in {empty}"
    assert "Traceback" not in r.output

    save(bundle)
    r = runner.invoke(versions_app, ["restore", str(bundle), "zzzz"])
    assert r.exit_code == 2 and r.stderr.strip() == "error: no version matches 'zzzz'"
    r = runner.invoke(versions_app, ["diff", str(bundle), "ab"])
    assert r.exit_code == 2 and "give at least 4 characters" in r.stderr

    r = runner.invoke(versions_app, ["list", str(empty)])
    assert r.exit_code == 2 and r.stderr.startswith("error: not an app bundle")


def test_cli_list_empty(bundle: Path) -> None:
    r = runner.invoke(versions_app, ["list", str(bundle)])
    assert r.exit_code == 0 and "no versions yet" in r.stdout
