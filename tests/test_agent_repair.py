"""agent/repair.py: the repair turn asks for the failing files only, each problem under its line;
agent/junk.py is tested through the loop (tests/test_agent_loop.py)."""

from __future__ import annotations

import json

from appwright.agent.check_app import CheckReport
from appwright.agent.repair import annotate, failing_files, repair_request

MANIFEST = json.dumps({"name": "Tasks", "auth": {"signup": "open", "login": True}, "entities": {
    "Task": {"fields": {"title": {"type": "string"}, "status": {"type": "string", "choices": ["a", "b"]}}}}},
    indent=2)
FILES = {"app.json": MANIFEST, "index.html": "<!doctype html>\n<script src=\"app.js\"></script>",
         "app.js": "const a = 1;\nshareNotes();\n"}


def test_an_invalid_manifest_asks_for_app_json_with_each_error_under_its_key():
    report = CheckReport(manifest_errors=[
        "entities.Task.fields.status.choices: unknown key; entities.Task.fields.status has only type, ...: "
        "remove choices", "auth.login: unknown key; auth has only signup, roles: remove login"])
    paths, text = repair_request(report, [], FILES)
    assert paths == ["app.json"]
    lines = text.splitlines()
    choices = next(i for i, line in enumerate(lines) if '"choices"' in line)
    assert "remove choices" in lines[choices + 1] and lines[choices + 1].lstrip().startswith("!")
    login = next(i for i, line in enumerate(lines) if '"login"' in line)
    assert "remove login" in lines[login + 1]
    assert "corrected app.json only" in text and "shareNotes" not in text  # the script is not shown


def test_a_script_error_asks_for_that_script_with_the_error_under_its_line():
    report = CheckReport(js_errors=["ReferenceError: shareNotes is not defined (at app.js:2:1)"])
    assert failing_files(report, FILES) == ["app.js"]
    paths, text = repair_request(report, ["a problem of the answer"], FILES)
    assert paths == ["app.js"] and text.startswith("Problems with your answer:\n- a problem of the answer")
    assert "    2 | shareNotes();\n      ! ReferenceError: shareNotes is not defined (at app.js:2:1)" in text
    # an error that names no file: the page
    assert failing_files(CheckReport(console_errors=["Failed to load resource"]), FILES) == ["index.html"]


def test_a_helper_the_sdk_lacks_is_shown_under_the_line_that_calls_it():
    page = '<div id="g"></div>\n<script>\n  aw.ui.records("#g", {entity: "Gift"});\n  aw.ui.menu("#g", {});\n</script>'
    problem = "aw.ui.menu is not part of the SDK; aw.ui has authForm, list, busy, error, records"
    lines = annotate("index.html", page, [problem]).splitlines()
    assert lines[lines.index('    4 |   aw.ui.menu("#g", {});') + 1] == f"      ! {problem}"


def test_a_problem_without_a_line_goes_first():
    out = annotate("index.html", "<p>a</p>\n<p>b</p>", ["the page did not finish loading"])
    assert out.splitlines()[0] == "      ! the page did not finish loading"
    assert out.splitlines()[1:] == ["    1 | <p>a</p>", "    2 | <p>b</p>"]


def test_a_script_the_page_loads_but_the_app_lacks_is_asked_for_as_missing():
    files = {"app.json": MANIFEST, "index.html": '<!doctype html>\n<script src="notes.js"></script>'}
    report = CheckReport(console_errors=["Failed to load resource: 404 (Not Found) (/notes.js:0)"],
                         http_errors=["GET /notes.js -> 404", "GET /favicon.ico -> 404"])
    paths, text = repair_request(report, [], files)
    assert paths == ["notes.js"]
    assert "notes.js is missing: index.html loads it" in text and "Answer with the missing notes.js only" in text


def test_a_form_that_does_not_work_asks_for_the_file_with_its_submit_handler():
    files = {"app.json": MANIFEST, "index.html": '<!doctype html>\n<form></form><script src="app.js"></script>',
             "app.js": 'const f = document.querySelector("form");\nf.addEventListener("submit", e => {});\n'}
    problem = "submitting the first form (title=Plant the tulips) sent no request to the entity API: ..."
    paths, text = repair_request(CheckReport(form_errors=[problem]), [], files)
    assert paths == ["app.js"] and f"      ! {problem}" in text and "corrected app.js only" in text


def test_saved_text_shown_as_html_asks_for_the_script_with_the_problem_under_the_innerhtml_line():
    files = {"app.json": MANIFEST, "index.html": '<!doctype html>\n<ul></ul><script src="app.js"></script>',
             "app.js": 'const list = document.querySelector("ul");\nlist.innerHTML = rows.map(r => `<li>${r.title}</li>`);\n'}
    problem = "app.js:2: text saved in `title` is put into the page as HTML (a saved <i> tag became an element)"
    paths, text = repair_request(CheckReport(markup_errors=[problem]), [], files)
    assert paths == ["app.js"] and "corrected app.js only" in text
    assert "    2 | list.innerHTML = rows.map(r => `<li>${r.title}</li>`);\n      ! " + problem in text


def test_a_form_problem_goes_under_the_write_and_a_missing_function_under_its_call():
    script = ('async function refresh() {\n  records = await E.all();\n}\n'
              'form.addEventListener("submit", async (e) => {\n  await E.create(record);\n  form.reset();\n});\n')
    files = {"app.json": MANIFEST, "index.html": '<!doctype html>\n<form></form><script src="app.js"></script>',
             "app.js": script}
    saved = "submitting the first form (title=Plant the tulips) saved a record (...), but the page does not show it"
    _, text = repair_request(CheckReport(form_errors=[saved]), [], files)
    assert "    5 |   await E.create(record);\n      ! " + saved in text
    shows = saved + "; the page shows 'E.all is not a function'"
    _, text = repair_request(CheckReport(form_errors=[shows]), [], files)
    assert "    2 |   records = await E.all();\n      ! " + shows in text
