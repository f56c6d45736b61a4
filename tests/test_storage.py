"""appwright/runtime/storage.py: one app's SQLite database, used directly (no HTTP).

What a user would notice if it broke: data lost on a crash (WAL off), passwords or
session tokens readable from a copied database file, a page of a list skipped or
shown twice.
"""

from __future__ import annotations

import itertools
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appwright.runtime import auth
from appwright.runtime.storage import AppStore, CursorError, StoreConfig, Filter, db_path, decode_cursor, encode_cursor

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path):
    s = AppStore(tmp_path / "app.db")
    yield s
    s.close()


def raw_rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT * FROM {table}").fetchall()


def test_database_lives_in_the_bundle_unless_a_data_folder_is_given(tmp_path):
    assert db_path(tmp_path / "b") == tmp_path / "b" / ".aw" / "app.db"
    assert db_path(tmp_path / "b", tmp_path / "data") == tmp_path / "data" / "app.db"
    s = AppStore(tmp_path / "deep" / "er" / "app.db")  # folders are made
    s.close()
    assert (tmp_path / "deep" / "er" / "app.db").is_file()


def test_wal_mode_is_on(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    # WAL is a property of the file: any other reader sees it too.
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_committed_records_are_seen_by_a_second_store_on_the_same_file(tmp_path):
    a = AppStore(tmp_path / "app.db")
    rec = a.insert_record("Note", "u1", {"title": "hi"})
    b = AppStore(tmp_path / "app.db")
    try:
        assert b.get_record("Note", rec.id).data == {"title": "hi"}
    finally:
        a.close()
        b.close()


def test_passwords_are_stored_only_as_argon2_hashes(store):
    hashed = auth.hash_password(PASSWORD)  # the real, default-cost hasher
    user = store.create_user("ada@example.com", hashed)
    ((uid, email, stored, role, _),) = raw_rows(store.path, "users")
    assert (uid, email, role) == (user.id, "ada@example.com", None)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert auth.verify_password(store.user_by_email("ada@example.com"), PASSWORD)
    assert not auth.verify_password(store.user_by_email("ada@example.com"), PASSWORD + "!")
    store.close()
    for f in store.path.parent.glob("app.db*"):  # the database, its WAL and shared memory
        assert PASSWORD.encode() not in f.read_bytes()
    assert "password_hash" not in user.public()


def test_sessions_are_stored_as_hashes(store):
    user = store.create_user("ada@example.com", auth.hash_password(PASSWORD))
    token = store.create_session(user.id)
    ((token_hash, user_id, expires_at),) = raw_rows(store.path, "sessions")
    assert user_id == user.id and token not in token_hash and len(token_hash) == 64
    assert datetime.fromisoformat(expires_at) > datetime.now(timezone.utc) + timedelta(days=29)
    assert store.user_for_session(token).id == user.id
    assert store.user_for_session(token_hash) is None  # a leaked hash is not a session
    store.delete_session(token)
    assert store.user_for_session(token) is None


def test_invites_are_stored_as_hashes_and_used_once(store):
    code = store.create_invite("editor", None)
    ((code_hash, role, *_),) = raw_rows(store.path, "invites")
    assert code not in code_hash and role == "editor"
    first = store.create_user("a@example.com", "h", invite_code=code)
    assert first.role == "editor"
    assert store.create_user("b@example.com", "h", invite_code=code) is None
    assert store.user_by_email("b@example.com") is None
    assert store.create_user("a@example.com", "h") is None  # taken email


def test_changing_a_password_ends_every_session(store):
    user = store.create_user("ada@example.com", "h1")
    tokens = [store.create_session(user.id) for _ in range(2)]
    store.set_password(user.id, "h2")
    assert all(store.user_for_session(t) is None for t in tokens)
    assert store.user_by_id(user.id).password_hash == "h2"


def test_session_changes_made_elsewhere_apply_within_the_session_cache_time(tmp_path):
    """The server caches a session's user for StoreConfig.session_cache_s; the CLI, another
    process, changes roles and passwords in the same file."""
    server = AppStore(tmp_path / "app.db", StoreConfig(session_cache_s=0.2))
    cli = AppStore(tmp_path / "app.db")
    try:
        user = server.create_user("ada@example.com", "h1", role="admin")
        token = server.create_session(user.id)
        assert server.user_for_session(token).role == "admin"
        cli.set_role(user.id, None)
        time.sleep(0.25)
        assert server.user_for_session(token).role is None
        cli.set_password(user.id, "h2")
        time.sleep(0.25)
        assert server.user_for_session(token) is None
        server.set_role(user.id, "admin")  # through the server's own store: no wait
        token = server.create_session(user.id)
        assert server.user_for_session(token).role == "admin"
        server.set_role(user.id, None)
        assert server.user_for_session(token).role is None
    finally:
        server.close()
        cli.close()


def test_update_merges_into_the_stored_document(store):
    rec = store.insert_record("Note", "u1", {"title": "a", "hidden": "kept"})
    new = store.update_record(rec, {"title": "b"})
    assert store.get_record("Note", rec.id).data == {"title": "b", "hidden": "kept"} == new.data
    assert new.updated_at > rec.updated_at and new.created_at == rec.created_at
    assert store.stored_fields("Note") == {"title": 1, "hidden": 1}
    assert store.get_record("Other", rec.id) is None


# -- keyset paging ---------------------------------------------------------------------------------

def walk(store: AppStore, entity: str, sort: str, limit: int, filters=()) -> list[str]:
    ids, cursor = [], None
    for _ in range(1000):
        page = store.list_records(entity, filters=list(filters), sort=sort, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        ids += [r.id for r in page.items]
        if page.next is None:
            return ids
        cursor = page.next
    raise AssertionError("paging does not end")


def expected_order(records, field: str, desc: bool) -> list[str]:
    """SQLite's order: NULL, then numbers, then text (reversed when descending); ties broken by id."""
    def key(r):
        v = r.data.get(field)
        rank = 0 if v is None else 2 if isinstance(v, str) else 1
        return (rank, v if rank else 0, r.id)
    return [r.id for r in sorted(records, key=key, reverse=desc)]


@pytest.fixture(scope="module")
def shared_store():
    with tempfile.TemporaryDirectory() as d:
        s = AppStore(Path(d) / "app.db")
        yield s
        s.close()


_entity = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["a", "b"])), max_size=25),
       limit=st.integers(1, 6), desc=st.booleans())
def test_keyset_paging_with_nulls_and_ties_both_directions(shared_store, values, limit, desc):
    entity = f"E{next(_entity)}"  # a fresh entity per example in one database
    records = [shared_store.insert_record(entity, None, {} if v is None else {"v": v}) for v in values]
    sort = "-v" if desc else "v"
    got = walk(shared_store, entity, sort, limit)
    assert got == expected_order(records, "v", desc)  # each record once, in order


def test_keyset_paging_by_each_kind_of_value(store):
    values = [None, 2, 1.5, 2, None, -1, 2, 0, None, 10, 1.5]
    recs = [store.insert_record("N", None, {"v": v}) for v in values]
    for b in (True, False, None, True):
        recs.append(store.insert_record("B", None, {"v": b}))
    for entity in ("N", "B"):
        mine = [r for r in recs if r.entity == entity]
        for desc in (False, True):
            for limit in (1, 2, 3, 50):
                assert walk(store, entity, "-v" if desc else "v", limit) == expected_order(mine, "v", desc)


def test_keyset_paging_by_system_fields_and_with_filters(store):
    recs = [store.insert_record("T", "u1" if i % 2 else None, {"n": i % 4}) for i in range(20)]
    assert walk(store, "T", "created_at", 3) == [r.id for r in recs]
    assert walk(store, "T", "-created_at", 7) == [r.id for r in reversed(recs)]
    assert walk(store, "T", "id", 4) == sorted(r.id for r in recs)
    odd = walk(store, "T", "-n", 2, [Filter("owner", "eq", "u1")])
    assert odd == expected_order([r for r in recs if r.owner == "u1"], "n", True)
    page = store.list_records("T", filters=[], owner=None, limit=100)
    assert {r.id for r in page.items} == {r.id for r in recs if r.owner is None}


def test_cursors_are_tied_to_their_sort(store):
    cursor = encode_cursor("-created_at", "2026-01-01T00:00:00Z", "abc")
    assert decode_cursor(cursor, "-created_at") == ("2026-01-01T00:00:00Z", "abc")
    with pytest.raises(CursorError, match="sort"):
        decode_cursor(cursor, "created_at")
    for bad in ("", "!!!", "bm90IGpzb24", encode_cursor("x", 1, "y")[:-2]):
        with pytest.raises(CursorError):
            decode_cursor(bad, "-created_at")


def test_ordered_ids_break_sort_ties_in_the_order_made_and_served_ids_stay_random(tmp_path):
    """The graders' store (ordered_ids): records that tie in a sort come back in the order made,
    the same every time; a served app's ids stay random 32-hex strings."""
    graded = AppStore(tmp_path / "graded.db", StoreConfig(ordered_ids=True))
    made = [graded.insert_record("T", None, {"n": i, "tie": 1}).id for i in range(12)]
    assert made == sorted(made) and all(len(i) == 32 for i in made)
    page = graded.list_records("T", filters=[], sort="tie")
    assert [r.data["n"] for r in page.items] == list(range(12))
    served = AppStore(tmp_path / "served.db")
    ids = [served.insert_record("T", None, {"n": i}).id for i in range(12)]
    assert ids != sorted(ids) and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
