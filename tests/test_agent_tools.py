"""appwright/agent/tools.py (the confined workspace) and agent/check_app.py (browser tests are slow)."""

import os

import pytest

from appwright.agent.check_app import Checker, check_app
from appwright.agent.parse import ToolCall
from appwright.agent.tools import TOOL_SPECS, Toolbox


def call(ws, name, **args):
    return ws.call(ToolCall(name=name, arguments=args))


@pytest.fixture
def ws(tmp_path):
    return Toolbox(tmp_path / "app")


def test_specs_are_json_schemas_for_every_tool():
    assert [s.name for s in TOOL_SPECS] == ["list_files", "read_file", "write_file", "edit_file", "delete_file",
                                            "check_app", "finish"]
    for s in TOOL_SPECS:
        assert s.parameters["type"] == "object" and set(s.parameters["required"]) <= set(s.parameters["properties"])


def test_write_read_list_delete(ws):
    assert call(ws, "list_files").output == "(no files yet)"
    r = call(ws, "write_file", path="js/app.js", content="let x = 1;\n")
    assert r.ok and "11 bytes" in r.output
    assert (ws.root / "js/app.js").read_text() == "let x = 1;\n"
    assert call(ws, "read_file", path="js/app.js").output == "let x = 1;\n"
    assert call(ws, "list_files").output == "js/app.js (11 bytes)"
    assert call(ws, "delete_file", path="js/app.js").ok
    assert not (ws.root / "js/app.js").exists()
    r = call(ws, "read_file", path="js/app.js")
    assert not r.ok and "no such file" in r.output
    assert not call(ws, "delete_file", path="js/app.js").ok


def test_edit_file_exact_unique_replace(ws):
    call(ws, "write_file", path="a.js", content="let a = 1;\nlet b = 1;\n")
    assert call(ws, "edit_file", path="a.js", search="let a = 1;", replace="let a = 2;").ok
    assert (ws.root / "a.js").read_text() == "let a = 2;\nlet b = 1;\n"
    r = call(ws, "edit_file", path="a.js", search="= 1;x", replace="")
    assert not r.ok and "not found" in r.output
    call(ws, "write_file", path="a.js", content="x\nx\n")
    r = call(ws, "edit_file", path="a.js", search="x", replace="y")
    assert not r.ok and "2 times" in r.output
    assert (ws.root / "a.js").read_text() == "x\nx\n"
    assert not call(ws, "edit_file", path="missing.js", search="x", replace="y").ok


def test_finish_records_the_summary(ws):
    assert ws.finished is None
    assert call(ws, "finish", summary="A notes app.").ok
    assert ws.finished == "A notes app."


def test_check_app_without_checker_is_an_error_result(ws):
    r = call(ws, "check_app")
    assert not r.ok and "not available" in r.output


def test_bad_calls_are_error_results(ws):
    assert "unknown tool" in call(ws, "rm_rf").output
    r = call(ws, "write_file", path="a.js")
    assert not r.ok and "missing argument(s): content" in r.output
    r = call(ws, "read_file", path="a.js", mode="r")
    assert not r.ok and "unknown argument(s): mode" in r.output
    r = call(ws, "write_file", path="a.js", content=5)
    assert not r.ok and "must be strings" in r.output


@pytest.mark.parametrize("path", ["../x.js", "a/../../x.js", "/etc/passwd", "/tmp/x.js", "C:/x.js", "..\\x.js",
                                  ".aw/HEAD", ".aw/versions/x.json", "a/.hidden", ".git/config", "a\x00b", "", ".", "a/.."])
def test_confinement(ws, tmp_path, path):
    (ws.root / ".aw").mkdir()
    (ws.root / ".aw" / "HEAD").write_text("keep")
    for name in ("write_file", "read_file", "delete_file"):
        args = {"path": path, "content": "x"} if name == "write_file" else {"path": path}
        r = call(ws, name, **args)
        assert not r.ok, (name, path, r.output)
    r = call(ws, "edit_file", path=path, search="k", replace="x")
    assert not r.ok
    assert (ws.root / ".aw" / "HEAD").read_text() == "keep"
    assert not (tmp_path / "x.js").exists()


def test_symlink_leading_out_is_refused(ws, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, ws.root / "link")
    os.symlink(outside / "secret.txt", ws.root / "file.txt")
    for path in ("link/secret.txt", "link/new.js", "file.txt"):
        for name, args in [("read_file", {}), ("write_file", {"content": "x"}), ("delete_file", {}),
                           ("edit_file", {"search": "secret", "replace": "x"})]:
            r = call(ws, name, path=path, **args)
            assert not r.ok and "outside" in r.output, (name, path, r.output)
    assert (outside / "secret.txt").read_text() == "secret"
    assert not (outside / "new.js").exists()
    assert call(ws, "list_files").output == "(no files yet)"  # symlinks are not listed


def test_symlink_inside_is_allowed(ws):
    call(ws, "write_file", path="a.js", content="x")
    os.symlink(ws.root / "a.js", ws.root / "b.js")
    assert call(ws, "read_file", path="b.js").output == "x"


def test_limits(tmp_path):
    ws = Toolbox(tmp_path / "app", max_file_bytes=100, max_files=2)
    r = call(ws, "write_file", path="big.js", content="x" * 101)
    assert not r.ok and "over the limit" in r.output and not (ws.root / "big.js").exists()
    assert call(ws, "write_file", path="a.js", content="x").ok
    assert call(ws, "write_file", path="b.js", content="x").ok
    r = call(ws, "write_file", path="c.js", content="x")
    assert not r.ok and "limit" in r.output
    assert call(ws, "write_file", path="a.js", content="y").ok  # replacing an existing file is fine
    call(ws, "write_file", path="a.js", content="x" * 60)
    r = call(ws, "edit_file", path="a.js", search="x" * 60, replace="y" * 101)
    assert not r.ok and (ws.root / "a.js").read_text() == "x" * 60


def test_check_app_manifest_errors_need_no_browser(tmp_path):
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "app.json").write_text('{"name": "x", "entities": {"Note": {"fields": {"t": {"type": "strng"}}}}}')
    report = check_app(bundle, Checker(executable="/nonexistent/chromium"))
    assert not report.ok and report.manifest_errors
    assert "app.json errors" in report.text() and "strng" in report.text()


def test_check_app_reports_a_missing_browser(example):
    report = check_app(example("notes"), Checker(executable="/nonexistent/chromium"))
    assert not report.ok and "missing" in report.browser_error
    assert "could not run" in report.text()


@pytest.mark.slow
def test_check_app_passes_the_examples(example):
    with Checker() as checker:
        for name in ("notes", "guestbook", "team-board"):
            bundle = example(name)
            report = checker(bundle)
            assert report.ok, (name, report.text())
            assert not (bundle / ".aw").exists()  # served on a temporary database, not the bundle's


@pytest.mark.slow
def test_check_app_catches_js_errors_and_bad_requests(make_bundle):
    manifest = {"name": "t", "entities": {"Note": {"fields": {"title": {"type": "string"}}}}}
    page = """<!doctype html><title>t</title><script src="/_aw/sdk.js"></script>
<script src="missing.js"></script>
<script>
  (async () => { if (await aw.auth.me()) { await aw.entities.Nope.list(); } })();
  undefinedFunction();
</script>"""
    report = check_app(make_bundle(manifest, {"index.html": page}))
    assert not report.ok
    assert any("undefinedFunction is not defined" in e for e in report.js_errors), report.js_errors
    assert any("/missing.js -> 404" in e for e in report.http_errors), report.http_errors
    # only signed in does the page ask for an entity that does not exist
    assert any("/_aw/api/entities/Nope" in e and "404" in e for e in report.http_errors), report.http_errors
    text = report.text()
    assert "FAILED" in text and "undefinedFunction" in text and "missing.js" in text


@pytest.mark.slow
def test_check_app_passes_a_form_whose_records_only_admins_read_and_fails_one_that_lists_nothing(make_bundle):
    """A contact form (`submit_only`): the signed-in user sends and is not shown what was sent, as
    asked; the same page on records the user may read must list the new one."""
    def bundle(access):
        manifest = {"name": "Bakery", "auth": {"signup": "open"},
                    "entities": {"Contact": {"fields": {"name": {"type": "string", "required": True},
                                                        "message": {"type": "text"}}, "access": access}}}
        page = ('<!doctype html><title>Bakery</title><div id="auth"></div><div id="contact"></div>'
                '<script src="/_aw/sdk.js"></script><script>aw.ui.authForm("#auth");'
                'aw.ui.records("#contact", {entity: "Contact", list: false});</script>')
        return make_bundle(manifest, {"index.html": page})

    with Checker() as checker:
        sent = checker(bundle("submit_only"))
        assert sent.ok, sent.text()
        unlisted = checker(bundle("owner"))
        assert not unlisted.ok and "list the records again" in unlisted.text()
