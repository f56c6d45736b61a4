"""runtime/forms.py through check_app, in Chromium: a working form passes; a form that saves
nothing, one whose save fails, and a page that does not show what was saved each fail with words a
model can act on. The twelve reference apps pass (benchmarks/grading.py times them)."""

from __future__ import annotations

import json
import shutil

import pytest

from appwright.agent.check_app import Checker
from appwright.runtime.forms import value_for
from appwright.runtime.manifest import FieldSpec
from conftest import EXAMPLES

pytestmark = pytest.mark.slow


def test_values_follow_the_field_and_the_inputs_limits():
    assert value_for(FieldSpec(type="integer", min=1888, max=2100), "number", "1888", "2100") == "1994"
    assert value_for(FieldSpec(type="number", min=0, max=10), "number") == "5"
    assert value_for(None, "email") == "ada@example.com" and value_for(FieldSpec(type="date"), "date") == "2026-12-24"
    assert value_for(FieldSpec(type="enum", values=["a"]), "text") != ""



def test_a_number_lands_on_the_inputs_step_as_the_browser_checks_it():
    """The midpoint of 0.1 and 200 is 100.05: refused by an input stepping by 0.1 from 0.1, and by one
    with no step (which steps by 1); "any" takes it."""
    weight = FieldSpec(type="number", min=0.1, max=200)
    assert value_for(weight, "number", "0.1", "200", "0.1") == "100.1"
    assert value_for(weight, "number", "0.1", "200") == "100.1"
    assert value_for(weight, "number", "0.1", "200", "any") == "100.05"
    assert value_for(FieldSpec(type="number", min=0, max=1), "number", "0", "1", "0.25") == "0.5"
    assert value_for(weight, "text") == "100.05"  # a text input has no step


@pytest.fixture(scope="module")
def checker():
    with Checker() as c:
        yield c


def notes(tmp_path, js_change=None):
    bundle = tmp_path / "notes"
    shutil.copytree(EXAMPLES / "notes", bundle, ignore=shutil.ignore_patterns(".aw"))
    if js_change:
        js = (bundle / "notes.js").read_text()
        old, new = js_change
        assert old in js
        (bundle / "notes.js").write_text(js.replace(old, new))
    return bundle


def test_the_notes_example_signs_up_through_its_page_and_its_form_saves_and_shows_a_note(tmp_path, checker):
    report = checker(notes(tmp_path))
    assert report.ok, report.text()


@pytest.mark.parametrize("change, words", [
    (("await aw.entities.Note.create({ title: form.title.value, body: form.body.value });", ""),
     "sent no request to the entity API"),
    # a field the form does not have: the handler throws, and the page shows the error it caught
    (("body: form.body.value }", "body: form.bodyText.value }"),
     "the form's fields are named title, body; after the submit the page showed \"Cannot read properties of undefined"),
    (("{ title: form.title.value, body: form.body.value }", "{ titel: form.title.value }"),
     "-> 400: invalid Note: titel: unknown field of Note"),
    (("    form.reset();\n    showError(null);\n    await refresh();", "    form.reset();"),
     "the page does not show 'Plant the tulips'"),
    # the list fails after the save, and the page shows why in its role=alert element
    (("aw.entities.Note.list({", "aw.entities.Note.all({"),
     "list the records again after creating one; the page shows 'aw.entities.Note.all is not a function'"),
])
def test_a_form_that_does_not_work_fails_the_check_saying_why(tmp_path, checker, change, words):
    report = checker(notes(tmp_path, change))
    assert not report.ok and any(words in line for line in report.form_errors), report.text()


@pytest.mark.parametrize("create, ok", [("admin", True), ("nobody", False)])
def test_a_form_for_admins_is_checked_as_an_admin(tmp_path, checker, create, ok):
    """A plain user's 403 is right where only admins make records: the form is tried again as an
    admin, and neither the 403 nor its console line is reported. Where nobody may, it stays a failure."""
    bundle = notes(tmp_path)
    manifest = json.loads((bundle / "app.json").read_text())
    manifest["entities"]["Note"]["access"] = {"read": "signed_in", "create": create, "update": "admin",
                                              "delete": "admin"}
    (bundle / "app.json").write_text(json.dumps(manifest))
    report = checker(bundle)
    assert report.ok is ok, report.text()
    if not ok:
        assert any("-> 403" in line for line in report.form_errors), report.text()


def test_a_page_that_puts_saved_text_into_innerhtml_fails_the_check_at_that_line(tmp_path, checker):
    """The notes page with its list built by a plain template into innerHTML: a saved <i> tag becomes
    an element, so the check fails naming the fields and the line that writes the list (for the
    repair turn). The example as shipped, escaped by aw.html, passes the same check (test above)."""
    bundle = notes(tmp_path, ("list.innerHTML = aw.html`${notes.map(noteItem)}`;", 'list.innerHTML = notes.map(noteItem).join("");'))
    js = (bundle / "notes.js").read_text()
    (bundle / "notes.js").write_text(js.replace("return aw.html`<li", "return `<li"))
    line = js.splitlines().index('  list.innerHTML = notes.map(noteItem).join("");') + 1
    report = checker(bundle)
    assert not report.ok and not report.form_errors, report.text()
    [problem] = report.markup_errors
    assert problem.startswith(f"notes.js:{line}: text saved in `title` and `body` is put into the page as HTML")
    assert "stored XSS" in problem and "saved text shown as HTML:" in report.text()


def test_a_script_that_does_not_parse_is_reported_at_its_line(tmp_path, checker):
    """A SyntaxError has no stack, so the browser's message names no line: check_app compiles the
    app's scripts with Chromium's parser and adds where, for the repair turn to show."""
    bundle = notes(tmp_path, ('function showError(err) {', 'const label = "<b class="x">";\nfunction showError(err) {'))
    line = (bundle / "notes.js").read_text().splitlines().index('const label = "<b class="x">";') + 1
    report = checker(bundle)
    assert not report.ok and any(f"(at notes.js:{line}:" in e for e in report.js_errors), report.text()


def test_a_request_made_just_after_load_is_waited_for_and_its_error_reported(tmp_path, checker):
    """The check waits for the page's requests to be answered, not a fixed time: a request the
    page sends a moment after its list has loaded is still seen, and its 404 reported."""
    bundle = notes(tmp_path, ("(async () => {", 'setTimeout(() => fetch("/late.json"), 100);\n(async () => {'))
    report = checker(bundle)
    assert any("/late.json -> 404" in line for line in report.http_errors), report.text()


def test_a_page_that_never_stops_sending_requests_is_reported_as_not_loading(tmp_path):
    bundle = notes(tmp_path, ("(async () => {", 'setInterval(() => fetch("/_aw/api/auth/session"), 20);\n(async () => {'))
    with Checker(timeout_s=2) as short:
        report = short(bundle)
    assert report.timed_out and "the page did not finish loading in time" in report.text(), report.text()
