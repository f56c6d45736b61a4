"""The default theme (runtime/theme.py, static/app.css) and the `look` checks (tasks/graders/look.py).

Fast tests read the served pages over HTTP; the slow ones open them in Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from appwright.runtime.app import Host, create_app
from appwright.runtime.docs import EXAMPLE_MANIFEST, EXAMPLE_PAGE
from appwright.runtime.theme import LIGHT_ONLY, VIEWPORT, link_theme, theme_source
from appwright.tasks.model import LOOK_TESTS

EXAMPLES = Path(__file__).parent.parent / "examples"
LINK = b'<link rel="stylesheet" href="/_aw/app.css">'


def bundle(tmp_path: Path, page: str = EXAMPLE_PAGE, **manifest) -> Path:
    folder = tmp_path / "app"
    folder.mkdir(exist_ok=True)
    (folder / "app.json").write_text(json.dumps({**EXAMPLE_MANIFEST, **manifest}))
    (folder / "index.html").write_text(page)
    (folder / "about.html").write_text("<p>About</p>")
    (folder / "style.css").write_text("body { color: red }")
    return folder


def test_every_page_links_the_theme_first_and_gets_a_phone_viewport(tmp_path):
    c = TestClient(create_app(bundle(tmp_path)), base_url="http://127.0.0.1")
    page = c.get("/").content
    head = page.index(b"<head>") + len(b"<head>")
    assert page[head:].startswith(VIEWPORT + LIGHT_ONLY + LINK) and page.count(LINK) == 1  # style.css: red
    assert c.get("/index.html").content == page
    assert c.get("/about.html").content.startswith(VIEWPORT + LIGHT_ONLY + LINK)  # no <head>: first
    css = c.get("/_aw/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.content == theme_source()
    assert c.get("/style.css").content == b"body { color: red }"  # other files untouched


def test_a_page_with_its_own_viewport_keeps_it_and_theme_none_turns_the_theme_off(tmp_path):
    own = EXAMPLE_PAGE.replace('<meta charset="utf-8">', '<meta charset="utf-8"><meta name="viewport" content="x">')
    page = TestClient(create_app(bundle(tmp_path, own)), base_url="http://127.0.0.1").get("/").content
    assert page.count(b'name="viewport"') == 1 and LINK in page
    plain = TestClient(create_app(bundle(tmp_path, theme="none")), base_url="http://127.0.0.1").get("/").content
    assert plain == EXAMPLE_PAGE.encode()


def test_an_app_that_picks_its_own_colours_stays_light_unless_it_has_a_dark_variant(tmp_path):
    folder = bundle(tmp_path)
    c = TestClient(create_app(folder), base_url="http://127.0.0.1")
    assert LIGHT_ONLY in c.get("/").content  # style.css: body { color: red }
    (folder / "style.css").write_text("body { color: red }\n@media (prefers-color-scheme: dark) { body { color: pink } }")
    assert LIGHT_ONLY not in c.get("/").content
    (folder / "style.css").write_text("li { margin: 0; color: inherit }")
    assert LIGHT_ONLY not in c.get("/").content
    (folder / "index.html").write_text(EXAMPLE_PAGE.replace("</title>", "</title><style>p{background:#fff}</style>"))
    assert LIGHT_ONLY in c.get("/").content


def test_a_page_is_never_answered_304_but_other_files_are(tmp_path):
    c = TestClient(create_app(bundle(tmp_path)), base_url="http://127.0.0.1")
    first = c.get("/style.css")
    assert c.get("/style.css", headers={"if-none-match": first.headers["etag"]}).status_code == 304
    again = c.get("/", headers={"if-none-match": '"anything"', "if-modified-since": "Wed, 01 Jan 2031 00:00:00 GMT"})
    assert again.status_code == 200 and LINK in again.content and again.headers["cache-control"] == "no-cache"


def test_under_a_host_the_link_points_inside_the_app(tmp_path):
    host = Host()
    host.add("notes", bundle(tmp_path))
    c = TestClient(host, base_url="http://127.0.0.1")
    page = c.get("/apps/notes/").content
    assert b'<link rel="stylesheet" href="/apps/notes/_aw/app.css">' in page
    assert c.get("/apps/notes/_aw/app.css").content == theme_source()


def test_link_theme_finds_the_head_or_the_html_or_the_doctype():
    assert link_theme(b"<!DOCTYPE html><HTML lang=en><Head class=x><title>t</title>", "") == \
        b"<!DOCTYPE html><HTML lang=en><Head class=x>" + VIEWPORT + LINK + b"<title>t</title>"
    assert link_theme(b"<!doctype html><html><header>h</header>", "/b") == \
        b'<!doctype html><html>' + VIEWPORT + b'<link rel="stylesheet" href="/b/_aw/app.css"><header>h</header>'
    assert link_theme(b"<!doctype html>\n<p>x</p>", "").startswith(b"<!doctype html>" + VIEWPORT)


def _top_level(selector_list: str) -> list[str]:
    """The selectors of a list, split at the commas outside parentheses."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(selector_list):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(selector_list[start:i].strip())
            start = i + 1
    return out + [selector_list[start:].strip()]


def test_every_rule_of_the_theme_weighs_nothing():
    css = re.sub(r"/\*.*?\*/", "", theme_source().decode(), flags=re.S)
    selectors = []
    for prelude in re.findall(r"([^{};]+)\{", css):
        prelude = prelude.strip()
        if prelude.startswith("@") or re.fullmatch(r"(from|to|\d+%)", prelude):
            continue
        selectors += _top_level(prelude)
    assert len(selectors) > 60
    bare = [s for s in selectors if not re.fullmatch(r":where\(.*\)(::[a-z-]+)?", s)]
    assert bare == []


# -- in Chromium -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    from appwright.runtime.local import Chromium

    c = Chromium()
    yield c
    c.close()


def _open(chromium, folder: Path, width: int = 1280, scheme: str = "light"):
    from appwright.runtime.local import LocalServer

    server = LocalServer(create_app(folder))
    url = server.__enter__()
    context = chromium.get().new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    page.goto(url + "/", wait_until="networkidle")
    return server, context, page


@pytest.mark.slow
def test_the_docs_example_page_shows_the_theme_and_the_apps_own_css_wins(chromium, tmp_path):
    folder = bundle(tmp_path)
    (folder / "style.css").unlink()  # the example page has no CSS of its own
    server, context, page = _open(chromium, folder)
    try:
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith("system-ui") and "Times" not in font
        assert page.evaluate("getComputedStyle(document.body).maxWidth") == "736px"  # 46rem
        email = page.locator("#auth input[name=email]")
        label = page.locator("#auth label").first
        assert email.bounding_box()["y"] > label.bounding_box()["y"]  # the label sits above its input
        assert email.bounding_box()["width"] > 400  # inputs fill the form, not 150 px
    finally:
        context.close()
        server.__exit__(None, None, None)
    (folder / "index.html").write_text(EXAMPLE_PAGE.replace("</title>", "</title><style>body { font-family: serif }</style>"))
    server, context, page = _open(chromium, folder, scheme="dark")
    try:
        assert page.evaluate("getComputedStyle(document.body).fontFamily") == "serif"  # the app's rule wins
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(20, 23, 28)"  # dark
    finally:
        context.close()
        server.__exit__(None, None, None)


@pytest.mark.slow
def test_at_360_px_nothing_scrolls_sideways(chromium, tmp_path):
    server, context, page = _open(chromium, bundle(tmp_path), width=360)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
        server.__exit__(None, None, None)


# -- the look checks ------------------------------------------------------------------------------

RECORDS = {"guestbook": ("Entry", {"name": "Ada", "message": "Lovely day"}),
           "notes": ("Note", {"title": "Buy milk"}),
           "team-board": ("Task", {"title": "Ship it", "status": "todo"})}


def _look(folder: Path, test: str, entity: str, record: dict, browser) -> str:
    from appwright.tasks.graders.common import Context
    from appwright.tasks.graders.env import AppEnv
    from appwright.tasks.graders.look import grade_look
    from appwright.tasks.model import LookCheck

    check = LookCheck(name=test, test=test, weight=0.1,
                      **({"entity": entity, "record": record} if test == "empty_state" else {}))
    ctx = Context(browser=browser)
    with AppEnv.open(folder) as env:
        try:
            return grade_look(env, check, ctx)
        finally:
            if ctx.page is not None:
                ctx.page.context.close()


@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(RECORDS))
def test_the_examples_pass_every_look_check(chromium, tmp_path, example):
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder, ignore=shutil.ignore_patterns(".aw"))
    entity, record = RECORDS[example]
    for test in LOOK_TESTS:
        _look(folder, test, entity, record, chromium.get())


BREAKS = {  # test -> (file, old, new): a reference solution made to fail exactly that check
    "no_hscroll": ("index.html", "<h1>", '<div style="width: 900px">a wide banner</div><h1>'),
    "labels": ("index.html", "<label for=", "<span data-for="),
    "contrast": ("style.css", "li {", "@media (prefers-color-scheme: dark) { h1 { color: #333 } }\nli {"),
    "heading": ("index.html", "<h1>", "<p>"),
    "empty_state": ("app.js", "aw.ui.list(list, shown, r => ", "list.innerHTML = aw.html`${shown.map(r => "),
}


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for rel, text in files.items():
        (folder / rel).write_text(text)
    return folder


def _broken(files: dict[str, str], test: str) -> dict[str, str]:
    path, old, new = BREAKS[test]
    assert old in files[path], (test, path)
    broken = dict(files, **{path: files[path].replace(old, new, 1)})
    if test == "empty_state":  # the list's closing: `, "No notes yet.");` becomes `)}`;`
        broken[path] = re.sub(r', "No [^"]*yet\."\);', ")}`;", broken[path])
    return broken


@pytest.mark.slow
@pytest.mark.parametrize("test", LOOK_TESTS)
def test_each_look_check_passes_on_a_reference_solution_and_fails_on_one_broken_for_it(chromium, tmp_path, test):
    from appwright.tasks.bank import TaskBank, reference_files
    from appwright.tasks.graders.common import Fail

    task = TaskBank.default().get("build-notes-owner")
    files = reference_files(task)
    check = next(c for c in task.checks if c.kind == "look" and c.test == test)
    _look(_write(tmp_path / "good", files), test, check.entity, check.record, chromium.get())
    with pytest.raises(Fail):
        _look(_write(tmp_path / "bad", _broken(files, test)), test, check.entity, check.record, chromium.get())


@pytest.mark.slow
def test_in_a_grade_each_broken_page_fails_its_own_look_check_and_no_other(tmp_path):
    """The one-page look tests share one load of the page (graders/look.py): each verdict stays its own."""
    from appwright.tasks.bank import TaskBank, reference_files
    from appwright.tasks.graders import Grader

    task = TaskBank.default().get("build-notes-owner")
    looks = task.model_copy(update={"checks": [c for c in task.checks if c.kind == "look"]})
    assert {c.test for c in looks.checks} == set(LOOK_TESTS)
    files = reference_files(task)
    with Grader() as grader:
        for test in LOOK_TESTS:
            g = grader.grade(_write(tmp_path / test, _broken(files, test)), looks)
            failed = {c.name: c.evidence for c in g.checks if not c.passed}
            assert list(failed) == [f"look-{test.replace('_', '-')}"], failed
