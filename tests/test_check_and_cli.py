"""appwright/runtime/check.py and appwright/cli.py: the `appwright` command as a person uses it.

Commands run in-process with typer's CliRunner; `serve` never really listens here
(uvicorn.run is replaced) and the users it makes are tried over real HTTP.
"""

from __future__ import annotations

import re

import pytest
import uvicorn
from conftest import PASSWORD
from typer.testing import CliRunner

from appwright import cli
from appwright.runtime.app import Host
from appwright.runtime.check import check_bundle
from appwright.runtime.manifest import ACCESS_PRESETS, FIELD_TYPES

NOTES = {"name": "Notes", "entities": {"Note": {"fields": {"title": {"type": "string", "required": True}}}}}
INVITE = {**NOTES, "auth": {"signup": "invite", "roles": ["editor"]}}


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli.app, [str(a) for a in args], env=env)


def flat(text: str) -> str:
    """Output with rich's line wrapping (and any colour codes) undone."""
    return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).split())


def note(field: dict) -> dict:
    return {"name": "x", "entities": {"Note": {"fields": {"title": field}}}}


# -- check -------------------------------------------------------------------------------------------

def test_check_ok_bundle(make_bundle):
    bundle = make_bundle(NOTES)
    r = run("check", bundle)
    assert r.exit_code == 0, r.output
    assert flat(r.output).startswith("ok ") and "'Notes', entities: Note, signup: open" in flat(r.output)
    assert "warning" not in r.output and "error" not in r.output


@pytest.mark.parametrize("manifest, expected", [
    (note({"type": "str"}), 'entities.Note.fields.title.type: expected one of string, text'),
    (note({"type": "string", "maxlen": 3}), "entities.Note.fields.title.maxlen: unknown key"),
    ({"name": "x", "colour": 1}, "colour: unknown key"),
    (note({"type": "enum"}), 'entities.Note.fields.title: an enum field needs "values"'),
    (note({"type": "ref", "entity": "Person"}), 'entities.Note.fields.title.entity: expected one of Note; got "Person"'),
    ({"name": "x", "entities": {"Note": {"fields": {"created_at": {"type": "datetime"}}}}},
     "entities.Note.fields.created_at: created_at is set by the runtime"),
    (note({"type": "integer", "default": "1"}), "entities.Note.fields.title.default: expected a whole number"),
    ({"name": "x", "entities": {"Note": {"fields": {"t": {"type": "text"}}, "access": "private"}}},
     'entities.Note.access: expected one of owner, shared'),
    ({"name": "x", "entities": {"Note": {"fields": {"t": {"type": "text"}}, "access": {"read": "friends"}}}},
     'entities.Note.access.read: expected one of admin, nobody, owner, public, signed_in; got "friends"'),
    ({"name": "x", "entities": {"my notes": {"fields": {"t": {"type": "text"}}}}}, "entities.my notes: entity names"),
    ({"name": "x", "auth": {"signup": "maybe"}}, 'auth.signup: expected one of open, invite or closed; got "maybe"'),
    ({"entities": {}}, "name: required; missing"),
])
def test_check_reports_each_manifest_error_by_path(make_bundle, manifest, expected):
    r = run("check", make_bundle(manifest))
    assert r.exit_code == 1, r.output
    assert f"error: {expected}" in flat(r.output)
    assert "Traceback" not in r.output and "ok " not in r.output


def test_check_reports_every_problem_at_once(make_bundle):
    r = run("check", make_bundle({"name": "x", "colour": 1, "entities": {"Note": {"fields": {
        "a": {"type": "str"}, "b": {"type": "enum"}}}}}))
    assert r.exit_code == 1
    assert flat(r.output).count("error: ") == 3


def test_check_invalid_json_missing_manifest_not_a_folder(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "app.json").write_text('{"name": "x",\n "entities": }')
    r = run("check", tmp_path / "broken")
    assert r.exit_code == 1 and "invalid JSON at line 2 column 14" in flat(r.output)

    (tmp_path / "empty").mkdir()
    r = run("check", tmp_path / "empty")
    assert r.exit_code == 1 and "missing; every bundle needs an app.json" in flat(r.output)

    r = run("check", tmp_path / "nope")
    assert r.exit_code == 1 and "not a folder" in flat(r.output)
    assert "Traceback" not in r.output


def test_check_needs_index_html(make_bundle):
    bundle = make_bundle(NOTES)
    (bundle / "index.html").unlink()
    r = run("check", bundle)
    assert r.exit_code == 1 and "error: index.html: missing" in flat(r.output)


def test_check_prints_messages_verbatim(make_bundle):
    # Messages quote what app.json says; rich must not read `[str]` or `[/x]` in them as markup.
    r = run("check", make_bundle(note({"type": "list[str]"})))
    assert r.exit_code == 1
    assert 'got "list[str]"' in flat(r.output)
    r = run("check", make_bundle({"name": "x", "entities": {"[/x]": {"fields": {"t": {"type": "text"}}}}}))
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), repr(r.exception)  # not a crash
    assert "error: entities.[/x]: entity names" in flat(r.output)


def test_check_warns_about_external_scripts_and_a_missing_sdk(make_bundle):
    bundle = make_bundle(NOTES, {
        "index.html": '<script src="https://cdn.example.com/lib.js"></script><script src="/_aw/sdk.js"></script>',
        "pages/list.html": "<script>aw.entities.Note.list()</script>",
        ".aw/hidden.html": '<script src="//cdn.example.com/x.js"></script>',  # hidden: never served, not checked
    })
    r = run("check", bundle)
    assert r.exit_code == 0, r.output  # warnings do not fail the check
    out = flat(r.output)
    assert "warning: index.html: loads a script from another site" in out
    assert "warning: pages/list.html: uses aw.* but never loads" in out and "/_aw/sdk.js" in out
    assert out.count("warning: ") == 2
    report = check_bundle(bundle)
    assert report.ok and len(report.warnings) == 2


def test_check_is_quiet_about_relative_scripts(make_bundle):
    bundle = make_bundle(NOTES, {"index.html": '<script src="/_aw/sdk.js"></script><script src="app.js"></script>'
                                               '<script src="./lib/x.js"></script>'})
    assert check_bundle(bundle).warnings == []


# -- docs ----------------------------------------------------------------------------------------------

def test_docs_prints_the_reference(make_bundle):
    r = run("docs")
    assert r.exit_code == 0
    assert r.output.startswith("# Appwright platform reference")
    for name in [*FIELD_TYPES, *ACCESS_PRESETS]:
        assert f"`{name}`" in r.output


# -- users ---------------------------------------------------------------------------------------------

def test_users_add_list_and_sign_in(make_bundle, live):
    bundle = make_bundle(INVITE)
    r = run("users", "add", "Ada@Example.com", "--role", "admin", "--app", bundle, env={"AW_PASSWORD": PASSWORD})
    assert r.exit_code == 0, r.output
    assert "added ada@example.com with role admin" in r.output
    r = run("users", "add", "bob@example.com", "--app", bundle, env={"AW_PASSWORD": PASSWORD})
    assert r.exit_code == 0 and "added bob@example.com" in r.output

    r = run("users", "list", "--app", bundle)
    assert r.exit_code == 0
    assert "ada@example.com" in r.output and "admin" in r.output and "bob@example.com" in r.output

    with live(bundle) as s:
        c = s.client()
        r = c.post("/_aw/api/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        assert r.status_code == 200 and r.json()["user"]["role"] == "admin"
        assert c.post("/_aw/api/auth/invites", json={}).status_code == 201  # an admin indeed


def test_users_add_changes_the_role_of_an_existing_user(make_bundle):
    bundle = make_bundle(INVITE)
    assert run("users", "add", "ed@example.com", "--app", bundle, env={"AW_PASSWORD": PASSWORD}).exit_code == 0
    r = run("users", "add", "ed@example.com", "--role", "editor", "--app", bundle)  # no password needed
    assert r.exit_code == 0 and "role set to editor" in r.output
    assert "editor" in run("users", "list", "--app", bundle).output


@pytest.mark.parametrize("args, env, words", [
    (["users", "add", "ada@example.com", "--role", "wizard"], {"AW_PASSWORD": PASSWORD}, ["--role", "wizard"]),
    (["users", "add", "not-an-email"], {"AW_PASSWORD": PASSWORD}, ["email"]),
    (["users", "add", "ada@example.com"], {"AW_PASSWORD": "short"}, ["password", "too short"]),
    (["users", "invite", "--role", "wizard"], {}, ["--role", "wizard"]),
])
def test_users_commands_refuse_bad_input(make_bundle, args, env, words):
    bundle = make_bundle(INVITE)
    r = run(*args, "--app", bundle, env=env)
    assert r.exit_code == 2, r.output  # bad input (appwright/exits.py)
    assert "error:" in r.output and "Traceback" not in r.output
    for w in words:
        assert w in flat(r.output)
    assert "ada@example.com" not in run("users", "list", "--app", bundle).output


def test_users_commands_on_an_invalid_bundle(make_bundle):
    bundle = make_bundle(note({"type": "str"}))
    for args in (["users", "list"], ["users", "invite"]):
        r = run(*args, "--app", bundle)
        assert r.exit_code == 2 and "not a valid bundle" in flat(r.output)
        assert "entities.Note.fields.title.type" in flat(r.output)


def test_users_invite_prints_a_code_that_signs_someone_up(make_bundle, live):
    bundle = make_bundle(INVITE)
    r = run("users", "invite", "--role", "editor", "--app", bundle)
    assert r.exit_code == 0, r.output
    code = r.stdout.strip()
    assert code and " " not in code
    with live(bundle) as s:
        c = s.client()
        r = c.post("/_aw/api/auth/signup", json={"email": "e@example.com", "password": PASSWORD, "invite": code})
        assert r.status_code == 201 and r.json()["user"]["role"] == "editor"
        r = s.client().post("/_aw/api/auth/signup", json={"email": "f@example.com", "password": PASSWORD,
                                                          "invite": code})
        assert r.status_code == 403


def test_users_invite_warns_when_the_app_is_not_invite_only(make_bundle):
    r = run("users", "invite", "--app", make_bundle(NOTES))
    assert r.exit_code == 0 and "warning" in r.output and "'open'" in r.output


# -- serve ---------------------------------------------------------------------------------------------

@pytest.fixture
def fake_uvicorn(monkeypatch):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_an_invalid_bundle_exits_2_with_a_clear_message(make_bundle, tmp_path, fake_uvicorn):
    r = run("serve", make_bundle(note({"type": "str"})))
    assert r.exit_code == 2  # bad input (appwright/exits.py)
    out = flat(r.output)
    assert "cannot be served" in out and "entities.Note.fields.title.type: expected one of" in out
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)

    r = run("serve", tmp_path / "missing")
    assert r.exit_code == 2 and "not a folder" in flat(r.output) and "Traceback" not in r.output

    good = make_bundle(NOTES)
    bad = make_bundle(NOTES)
    (bad / "index.html").unlink()
    r = run("serve", good, bad)
    assert r.exit_code == 2 and "index.html: missing" in flat(r.output)
    assert fake_uvicorn == []  # nothing was served


def test_serve_one_bundle_or_several(make_bundle, fake_uvicorn):
    a = make_bundle(NOTES, name="alpha")
    b = make_bundle(NOTES, {"index.html": "<script>aw.auth.me()</script>"}, name="beta")
    r = run("serve", a, "--port", "8123")
    assert r.exit_code == 0, r.output
    assert "serving http://127.0.0.1:8123/" in r.output
    (app, kw), = fake_uvicorn
    assert kw["port"] == 8123 and kw["host"] == "127.0.0.1"

    r = run("serve", a, b, "--port", "8124")
    assert r.exit_code == 0, r.output
    out = flat(r.output)
    assert "serving http://127.0.0.1:8124/apps/alpha/" in out and "serving http://127.0.0.1:8124/apps/beta/" in out
    assert "warning:" in out and "never loads" in out
    host = fake_uvicorn[-1][0]
    assert isinstance(host, Host) and set(host.apps) == {"alpha", "beta"}
    for served, _ in host.apps.values():
        served.store.close()


# -- versions --------------------------------------------------------------------------------------------

def test_versions_sub_commands_exist():
    r = run("versions", "--help")
    assert r.exit_code == 0
    for name in ("save", "list", "diff", "restore"):
        assert name in r.output
