"""The studio end to end in headless Chromium, as a person uses it: a real studio and its
preview origin on 127.0.0.1 (uvicorn), the scripted model, Debian's chromium, and the studio's
default checks (each answer loaded in Chromium by check_app; the security probe with its
stored-XSS checks).

Sign up, build an app from a prompt, see it in the preview, use it (sign up inside the app,
add a note), sign in to it as its admin, ask for a change and watch it stream, see the new
version, hit a bug in the preview, rate the turn, flag the bug with the captured console
error, read the security panel and a diff, restore the old version (its data comes back with
it) and the new one again, and export the flag as a fix task.

    APPWRIGHT_SCREENSHOTS=1 .venv/bin/pytest tests/test_studio_browser.py   # rewrites docs/screenshots/studio-*.png
"""

from __future__ import annotations

import json
import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from appwright.studio.app import close_studio, create_studio
from appwright.studio.config import StudioConfig
from appwright.studio.db import AppVersion, Flag, Rating
from appwright.studio.preview import OWNER_EMAIL
from appwright.tasks.bank import load_file
from conftest import PASSWORD, ROOT, free_port, serve_asgi
from test_studio_web import FIRST, Model, files_reply, notes_app

SHOTS = ROOT / "docs" / "screenshots"
SHARE_JS = 'document.getElementById("share").addEventListener("click", () => shareNotes());\n'


def _with_share_button() -> dict[str, str]:
    """v2: renamed, with a Share button whose handler calls a function that does not exist."""
    files = notes_app("Pinned notes", "second version", {"share.js": SHARE_JS})
    files["index.html"] = files["index.html"].replace(
        '<script src="notes.js"></script>',
        '<script src="notes.js"></script>\n  <button id="share" type="button">Share</button>\n'
        '  <script src="share.js"></script>')
    return files


SECOND = files_reply(_with_share_button(), "Renamed the app to Pinned notes and added a Share button.")


def shot(page, name: str) -> None:
    if os.environ.get("APPWRIGHT_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"studio-{name}.png"))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_studio_in_chromium_from_prompt_to_fix_task(tmp_path, browser):
    model = Model()
    model.replies += [FIRST, SECOND]
    config = StudioConfig(data_dir=tmp_path / "studio", port=free_port(), preview_port=free_port(),
                          check_in_browser=True, grade_in_browser=True)
    studio = create_studio(config, backend_factory=lambda name: model)
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    page = context.new_page()
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)  # turns check their app in Chromium: seconds on a busy machine
    try:
        with serve_asgi(studio.state.previews, config.preview_port), serve_asgi(studio, config.port) as url:
            # 1. Sign up; build an app from a prompt.
            page.goto(url + "/")
            page.get_by_role("link", name="Create an account").click()
            page.get_by_label("Email").fill("ada@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Create account").click()
            expect(page.get_by_role("heading", name="What do you want to build?")).to_be_visible()
            page.get_by_label("Describe your app").fill("A private notes app: each person keeps their own notes.")
            page.get_by_role("button", name="Build it").click()
            page.wait_for_url("**/apps/*")

            # 2. The preview shows the app, served from the other origin; use it.
            frame = page.frame_locator("#preview")
            expect(frame.locator("h1")).to_have_text("Private notes")
            assert page.locator("#preview").get_attribute("src").startswith(config.preview_origin + "/apps/")
            frame.get_by_role("button", name="Create an account").click()
            frame.get_by_label("Email").fill("me@example.com")
            frame.get_by_label("Password").fill(PASSWORD)
            frame.get_by_role("button", name="Sign up").click()
            frame.get_by_placeholder("Title").fill("Buy milk")
            frame.get_by_role("button", name="Add note").click()
            expect(frame.locator("#notes li")).to_have_count(1)
            expect(frame.locator(".aw-signed-in")).to_contain_text("me@example.com")

            # The owner is the app's admin: one click signs the preview in as her, seeing every record.
            page.get_by_role("button", name="Sign in as admin").click()
            expect(frame.locator(".aw-signed-in")).to_contain_text(OWNER_EMAIL)
            expect(frame.locator("#notes li .title")).to_have_text("Buy milk")  # me@example.com's note

            # 3. Ask for a change; its steps stream in; a new version shows in the preview.
            model.delay = 0.03
            page.locator("#prompt-form textarea").fill("Call it Pinned notes and add a Share button")
            page.get_by_role("button", name="Send").click()
            expect(page.locator("[data-stream]")).to_be_visible()  # tokens arriving while the model writes
            expect(page.get_by_role("button", name="Stop")).to_be_visible()
            expect(page.locator("#preview-version")).to_have_text("v2")
            expect(frame.locator("h1")).to_have_text("Pinned notes")
            expect(frame.locator("#notes li .title")).to_have_text("Buy milk")  # the data stayed
            expect(page.locator(".turn").last.locator(".chip")).to_have_text("v2")

            # 4. A bug in the preview: the studio captures it (and ignores messages from elsewhere).
            frame.get_by_role("button", name="Share").click()
            page.evaluate("window.postMessage({awCapture: 1, kind: 'console', data: 'forged'}, '*')")
            expect(page.locator("#cap-console li")).to_contain_text(["shareNotes is not defined"])
            second_turn = page.locator(".turn").last
            second_turn.locator('[data-rate="1"]').click()
            expect(second_turn.locator('[data-rate="1"]')).to_have_attribute("aria-pressed", "true")
            expect(second_turn.locator('[data-rate="-1"]')).to_have_attribute("aria-pressed", "false")
            shot(page, "workspace")

            # 5. Report it: what will be sent is shown first.
            page.get_by_role("tab", name="Report a bug").click()
            expect(page.locator("#cap-version")).to_have_text("v2")
            expect(page.locator("#cap-url")).to_have_text("/")
            assert "forged" not in page.locator("#cap-console").inner_text()
            page.get_by_label("What went wrong?").fill("Share does nothing when I click it.")
            shot(page, "flag")
            page.get_by_role("button", name="Send report").click()
            expect(page.locator("#flag-ok")).to_contain_text("saved with v2")
            expect(page.locator("#flags")).to_contain_text("Share does nothing")

            # 6. The security panel, then history with a diff.
            page.get_by_role("tab", name="Security").click()
            expect(page.locator(".grade-summary")).to_contain_text("checks passed", timeout=90_000)
            assert page.locator(".check-item").count() >= 3
            shot(page, "security")
            page.get_by_role("tab", name="History").click()
            page.locator("[data-version]").filter(has=page.locator(".v-num", has_text="v2")) \
                .get_by_role("button", name="Changes").click()
            expect(page.locator(".diff")).to_contain_text("Pinned notes")
            expect(page.locator(".diff .d-add").first).to_be_visible()
            shot(page, "history")

            # 7. Restore v1: its files and its data (no users, no notes yet); then v2 again.
            page.on("dialog", lambda d: d.accept())
            page.locator("[data-version]").filter(has=page.locator(".v-num", has_text="v1")) \
                .get_by_role("button", name="Restore").click()
            expect(frame.locator("h1")).to_have_text("Private notes")
            expect(page.locator("#tab-preview")).to_be_visible()
            # Signed out (v1 had no users): the SDK shows its sign-in form and hides the app. Asserted on the
            # page's state, not on paint: under load Chromium has left the cross-site frame unpainted for
            # a minute after a restore (twice in full runs, once in CI) while its DOM was already right.
            expect(frame.locator(".aw-auth .aw-submit")).to_have_text("Sign in")
            expect(frame.locator("#app")).to_have_attribute("hidden", "")
            expect(frame.locator("#notes li")).to_have_count(0)
            restored = page.locator("#preview-version").inner_text()
            page.get_by_role("tab", name="History").click()
            page.locator("[data-version]").filter(has=page.locator(".v-num", has_text="v2")) \
                .get_by_role("button", name="Restore").click()
            expect(page.locator("#preview-version")).not_to_have_text(restored)
            expect(frame.locator("h1")).to_have_text("Pinned notes")
            expect(frame.locator("#notes li .title")).to_have_text("Buy milk")  # her note is back

            # 8. The app list.
            page.goto(url + "/")
            expect(page.locator(".app-card")).to_contain_text("Pinned notes")
            shot(page, "apps")
    finally:
        expect.set_options(timeout=5_000)  # Playwright's default, for the tests after this one
        context.close()
        close_studio(studio)

    # 9. The log holds it all; the flag exports as a fix task.
    db = studio.state.db = type(studio.state.db)(config.db_url)
    with db.session() as s:
        sources = [v.source for v in s.scalars(select(AppVersion).order_by(AppVersion.id))]
        assert sources[:2] == ["agent", "agent"] and sources[-2:] == ["restore", "restore"]
        assert [r.value for r in s.scalars(select(Rating))] == [1]
        flag = s.scalar(select(Flag))
        assert any("shareNotes is not defined" in e for e in flag.console_errors) and flag.url == "/"
    try:
        from appwright.studio.export import export_tasks
    except ImportError:
        pytest.skip("appwright/studio/export.py has not landed")
    export_tasks(db, config.apps_dir, tmp_path / "tasks")
    [path] = (tmp_path / "tasks").glob("*.yaml")
    [task] = load_file(path)
    assert task.kind == "fix" and "Share does nothing" in task.prompt
    assert "Pinned notes" in json.loads(task.start.files["app.json"])["name"]
    assert "ui-no-errors" in {c.name for c in task.checks}
    db.close()
