"""The studio's interaction log (studio/db.py): Alembic's migrations build exactly the tables of
db.py, on SQLite and on PostgreSQL, a reopened log keeps its rows, and the studio runs on both.

PostgreSQL: a throwaway server from Debian's binaries (conftest.py `postgres_server`); where
there are none, the Postgres cases are skipped and say why.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from appwright.studio.db import App, Base, Database, Flag, Person, Rating, StudioSession, Turn, migrate
from conftest import new_database


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/studio.db"
    return new_database(request.getfixturevalue("postgres_server"))


def test_the_migrations_build_exactly_the_tables_of_db_py(db_url):
    db = Database.open(db_url)
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diffs == [], diffs  # a model change without a new Alembic revision shows up here
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    assert set(inspect(db.engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    db.close()


def test_revision_0002_ends_every_session_and_marks_the_apps_that_existed(db_url):
    """Issue 13: a log at 0001 (sessions that a preview page may have planted, apps whose data may
    hold an admin the old 'Sign in as admin' gave away) upgraded to 0002."""
    migrate(db_url, "0001")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO people (id, email, password_hash, created_at) "
                          "VALUES ('p1', 'ada@example.com', 'x', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO studio_sessions (token_hash, person_id, created_at, expires_at) "
                          "VALUES ('h1', 'p1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO apps (id, owner_id, name, model, preview_key, created_at, updated_at) "
                          "VALUES ('a1', 'p1', 'Notes', 'm', 'k1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    engine.dispose()
    db = Database.open(db_url)  # to head
    with db.session() as s:
        assert s.scalars(select(StudioSession)).all() == []
        assert s.get(App, "a1").legacy_admin is True
        s.add(App(id="a2", owner_id="p1", name="New", model="m"))
    with db.session() as s:
        assert s.get(App, "a2").legacy_admin is False
    db.close()


def test_a_reopened_log_keeps_its_rows_and_its_constraints(db_url):
    db = Database.open(db_url)
    with db.session() as s:
        ada = Person(email="ada@example.com", password_hash="x")
        s.add(ada)
        s.flush()
        app = App(owner_id=ada.id, name="Notes", model="qwen2.5-coder-0.5b")
        s.add(app)
        s.flush()
        turn = Turn(app_id=app.id, person_id=ada.id, prompt="a notes app", model=app.model)
        s.add(turn)
        s.flush()
        s.add(Rating(turn_id=turn.id, person_id=ada.id, value=1))
        s.add(Flag(app_id=app.id, person_id=ada.id, vid="v1", description="Share does nothing",
                   console_errors=["ReferenceError: shareNotes is not defined"],
                   failed_requests=[{"method": "GET", "url": "/x", "status": 404}]))
    db.close()

    db = Database.open(db_url)  # the migrations run again: nothing to do, nothing lost
    with db.session() as s:
        flag = s.scalar(select(Flag))
        assert flag.console_errors == ["ReferenceError: shareNotes is not defined"]
        assert flag.failed_requests[0]["status"] == 404
        turn = s.scalar(select(Turn))
    with pytest.raises(Exception, match="(?i)unique"):  # one rating per person and turn
        with db.session() as s:
            s.add(Rating(turn_id=turn.id, person_id=turn.person_id, value=-1))
    with db.session() as s:  # deleting a person deletes their apps, turns, ratings and flags
        s.delete(s.scalar(select(Person)))
    with db.session() as s:
        assert [s.scalar(select(m)) for m in (App, Turn, Rating, Flag)] == [None] * 4
    db.close()


def test_the_studio_builds_an_app_with_its_log_in_postgres(postgres_server, tmp_path):
    from test_studio_web import Studio

    studio = Studio(tmp_path, db_url=new_database(postgres_server))
    try:
        ada = studio.person("ada@example.com")
        app_id, turn_id = studio.new_app(ada)
        assert studio.app_row(app_id).head and len(studio.versions(app_id)) == 1
        assert ada.post(f"/api/apps/{app_id}/turns/{turn_id}/rating", json={"value": 1}).status_code == 200
        bob = studio.person("bob@example.com")
        assert bob.get(f"/apps/{app_id}").status_code == 404
        with studio.db.session() as s:
            assert s.scalar(select(Turn.status).where(Turn.id == turn_id)) == "done"
            assert s.scalar(select(Rating.value).where(Rating.turn_id == turn_id)) == 1
    finally:
        from appwright.studio.app import close_studio
        close_studio(studio.app)
