"""The example apps, used the way a person uses them: headless Chromium, real clicks.

For each of examples/notes, examples/guestbook and examples/team-board: sign up
through `aw.ui.authForm`, create records, see them listed, edit one, delete one,
and check what is on the page, with no JS or console errors. Plus each app's
point: notes are private to each user, the guestbook is readable signed out,
the team board lets in only people an admin invited. One screenshot per
example goes to docs/screenshots/<example>.png.

    .venv/bin/python -m pytest -q tests/test_examples_browser.py
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from appwright.runtime.auth import hash_password
from conftest import PASSWORD, ROOT

pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "docs" / "screenshots"
# What Chromium logs when a request answers 4xx; expected only where a test provokes one.
FAILED_REQUEST = "Failed to load resource: the server responded with a status of"


@pytest.fixture
def new_page(browser):
    """More browser contexts (each its own cookies), with errors collected like `page`'s."""
    contexts = []

    def make() -> Page:
        context = browser.new_context()
        contexts.append(context)
        pg = context.new_page()
        pg.errors = []
        pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
        pg.on("console", lambda msg: msg.type == "error" and pg.errors.append(msg.text))
        return pg

    yield make
    for c in contexts:
        c.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def open_signup(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Create an account").click()
    expect(page.locator(".aw-submit")).to_have_text("Sign up")


def sign_up(page: Page, url: str, email: str, invite: str | None = None) -> None:
    open_signup(page, url)
    page.fill("#auth input[name=email]", email)
    page.fill("#auth input[name=password]", PASSWORD)
    if invite is not None:
        page.fill("#auth input[name=invite]", invite)
    page.click("#auth .aw-submit")
    expect(page.locator(".aw-signed-in")).to_contain_text(email)  # authForm reloads the page


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    page.fill("#auth input[name=email]", email)
    page.fill("#auth input[name=password]", PASSWORD)
    page.click("#auth .aw-submit")
    expect(page.locator(".aw-signed-in")).to_contain_text(email)


# -- notes ------------------------------------------------------------------------------------
def add_note(page: Page, title: str, body: str) -> None:
    page.fill("#new-note input[name=title]", title)
    page.fill("#new-note textarea[name=body]", body)
    page.click("#new-note button[type=submit]")
    expect(page.locator("#notes li", has_text=title)).to_be_visible()


def test_notes(example, live, page, new_page):
    with live(example("notes")) as srv:
        page.goto(srv.url)
        expect(page.locator("#app")).to_be_hidden()  # signed out: only the sign-in form
        sign_up(page, srv.url, "ada@example.com")
        expect(page.locator("#empty")).to_have_text("No notes yet.")

        add_note(page, "Groceries", "milk\neggs")
        add_note(page, "Ideas", "a guestbook")
        notes = page.locator("#notes li")
        expect(notes).to_have_count(2)
        expect(notes.nth(0)).to_contain_text("Ideas")  # newest first
        expect(page.locator("#empty")).to_be_hidden()

        groceries = notes.filter(has_text="Groceries")
        groceries.get_by_role("button", name="Edit").click()
        groceries.locator("input[name=title]").fill("Groceries for Sunday")
        groceries.get_by_role("button", name="Save").click()
        expect(page.locator("#notes .title")).to_have_text(["Ideas", "Groceries for Sunday"])

        notes.filter(has_text="Groceries for Sunday").get_by_role("button", name="Pin").click()
        expect(notes.nth(0)).to_contain_text("Groceries for Sunday")  # pinned first
        expect(notes.nth(0).get_by_role("button", name="Unpin")).to_be_visible()

        notes.filter(has_text="Ideas").get_by_role("button", name="Delete").click()
        expect(notes).to_have_count(1)
        page.reload()
        expect(page.locator("#notes .title")).to_have_text(["Groceries for Sunday"])
        expect(page.locator("#notes .body")).to_have_text("milk\neggs")
        screenshot(page, "notes")

        # A second user starts empty, and neither sees the other's notes.
        bob = new_page()
        sign_up(bob, srv.url, "bob@example.com")
        expect(bob.locator("#empty")).to_be_visible()
        expect(bob.locator("body")).not_to_contain_text("Groceries")
        add_note(bob, "Bob's surprise party", "do not tell Ada")
        page.reload()
        expect(page.locator("#notes .title")).to_have_text(["Groceries for Sunday"])
        expect(page.locator("body")).not_to_contain_text("surprise")

        # Signing out hides the notes again.
        page.get_by_role("button", name="Sign out").click()
        expect(page.locator("#auth .aw-submit")).to_have_text("Sign in")
        expect(page.locator("#app")).to_be_hidden()
        assert page.errors == [] and bob.errors == []


# -- guestbook --------------------------------------------------------------------------------
def sign_guestbook(page: Page, name: str, message: str) -> None:
    page.fill("#new-entry input[name=name]", name)
    page.fill("#new-entry textarea[name=message]", message)
    page.click("#new-entry button[type=submit]")
    expect(page.locator("#entries li", has_text=message)).to_be_visible()


def test_guestbook(example, live, page, new_page):
    with live(example("guestbook")) as srv:
        visitor = new_page()
        visitor.goto(srv.url)
        expect(visitor.locator("#empty")).to_be_visible()
        expect(visitor.locator("#signin-hint")).to_be_visible()
        expect(visitor.locator("#new-entry")).to_be_hidden()

        sign_up(page, srv.url, "ada@example.com")
        expect(page.locator("#signin-hint")).to_be_hidden()
        sign_guestbook(page, "Ada", "Lovely site!")
        sign_guestbook(page, "Ada", "Back again <3")
        entries = page.locator("#entries li")
        expect(entries).to_have_count(2)
        expect(entries.nth(0)).to_contain_text("Back again <3")  # newest first; "<" shown as text
        expect(page.locator("#new-entry input[name=name]")).to_have_value("Ada")  # remembered

        lovely = entries.filter(has_text="Lovely site!")
        lovely.get_by_role("button", name="Edit").click()
        lovely.locator("textarea[name=message]").fill("Lovely site, great tea!")
        lovely.get_by_role("button", name="Save").click()
        expect(page.locator("#entries .message")).to_have_text(["Back again <3", "Lovely site, great tea!"])
        expect(entries.filter(has_text="great tea")).to_contain_text("edited")

        entries.filter(has_text="Back again").get_by_role("button", name="Delete").click()
        expect(page.locator("#entries .message")).to_have_text(["Lovely site, great tea!"])

        # Another user signs too; each sees Edit and Delete only on their own entry.
        bob = new_page()
        sign_up(bob, srv.url, "bob@example.com")
        sign_guestbook(bob, "Bob", "Greetings from Bob")
        bob_entries = bob.locator("#entries li")
        expect(bob_entries).to_have_count(2)
        expect(bob_entries.filter(has_text="Greetings").get_by_role("button", name="Edit")).to_be_visible()
        expect(bob_entries.filter(has_text="great tea").locator("button")).to_have_count(0)
        screenshot(bob, "guestbook")

        # The server refuses what the buttons do not offer.
        ada_id = bob_entries.filter(has_text="great tea").get_attribute("data-id")
        refused = bob.evaluate("""async (id) => {
            try { await aw.entities.Entry.remove(id); return null; }
            catch (e) { return {status: e.status, message: e.message}; }
        }""", ada_id)
        assert refused == {"status": 403, "message": "you may not delete this Entry record"}
        assert all(e.startswith(FAILED_REQUEST) for e in bob.errors) and len(bob.errors) == 1
        bob.errors.clear()

        # A signed-out visitor reads every entry but gets no buttons and no form.
        visitor.reload()
        expect(visitor.locator("#entries .message")).to_have_text(["Greetings from Bob", "Lovely site, great tea!"])
        expect(visitor.locator("#entries .name")).to_have_text(["Bob", "Ada"])
        expect(visitor.locator("#entries button")).to_have_count(0)
        expect(visitor.locator("#new-entry")).to_be_hidden()
        expect(visitor.locator("#empty")).to_be_hidden()
        assert page.errors == [] and bob.errors == [] and visitor.errors == []


# -- team board -------------------------------------------------------------------------------
ADMIN = "lead@team.example"


def column(page: Page, status: str):
    return page.locator(f"#board .column[data-status={status}]")


def add_task(page: Page, title: str, details: str = "", assignee: str = "", due: str = "",
             status: str = "todo") -> None:
    form = page.locator("#new-task")
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=details]").fill(details)
    form.locator("input[name=assignee]").fill(assignee)
    form.locator("input[name=due]").fill(due)
    form.locator("select[name=status]").select_option(status)
    form.get_by_role("button", name="Add task").click()
    expect(column(page, status).locator(".card", has_text=title)).to_be_visible()


def test_team_board(example, live, page, new_page):
    with live(example("team-board")) as srv:
        srv.served.store.create_user(ADMIN, hash_password(PASSWORD), role="admin")

        # 1. The admin signs in and makes an invite code in the UI.
        sign_in(page, srv.url, ADMIN)
        expect(page.locator("#admin")).to_be_visible()
        page.get_by_role("button", name="Create invite code").click()
        code = page.locator("#invites .invite-code").first
        expect(code).to_have_text(re.compile(r"^\S{10,}$"))
        code = code.text_content()
        add_task(page, "Book the offsite venue", assignee=ADMIN, due="2030-05-01")

        # 2. Signing up without a code, or with a wrong one, fails with a visible message.
        member = new_page()
        member.goto(srv.url)
        expect(member.locator("#welcome")).to_contain_text("invite-only")
        open_signup(member, srv.url)
        expect(member.locator("#auth input[name=invite]")).to_be_visible()
        member.fill("#auth input[name=email]", "sam@team.example")
        member.fill("#auth input[name=password]", PASSWORD)
        member.click("#auth .aw-submit")
        expect(member.locator(".aw-error")).to_have_text(
            "this app is invite-only; signing up needs an invite code from an admin")
        member.fill("#auth input[name=invite]", "not-a-real-code")
        member.click("#auth .aw-submit")
        expect(member.locator(".aw-error")).to_have_text("invite: this code is unknown or already used")
        expect(member.locator("#app")).to_be_hidden()
        assert len(member.errors) == 2 and all(e.startswith(FAILED_REQUEST) for e in member.errors)
        member.errors.clear()

        # 3. With the admin's code the member gets in, and sees no admin panel.
        member.fill("#auth input[name=invite]", code)
        member.click("#auth .aw-submit")
        expect(member.locator(".aw-signed-in")).to_contain_text("sam@team.example")
        expect(member.locator("#app")).to_be_visible()
        expect(member.locator("#admin")).to_be_hidden()

        # 4. The member sees the admin's task (shared) but may not change it.
        venue = column(member, "todo").locator(".card", has_text="Book the offsite venue")
        expect(venue).to_contain_text(ADMIN)
        expect(venue.locator("button")).to_have_count(0)

        # 5. Create, move, edit and delete tasks.
        add_task(member, "Write the launch post", details="Draft for Friday", assignee="sam@team.example",
                 due="2030-06-12")
        add_task(member, "Fix the login bug", status="doing")
        add_task(member, "Order stickers")
        expect(column(member, "todo").locator(".count")).to_have_text("3")
        launch = member.locator(".card", has_text="Write the launch post")
        expect(launch).to_contain_text("Draft for Friday")
        expect(launch).to_contain_text("added by you")

        launch.get_by_role("button", name="Doing →").click()
        expect(column(member, "doing").locator(".title")).to_have_text(["Write the launch post", "Fix the login bug"])
        expect(column(member, "todo").locator(".count")).to_have_text("2")
        column(member, "doing").locator(".card", has_text="Fix the login bug").get_by_role(
            "button", name="Done →").click()
        expect(column(member, "done").locator(".title")).to_have_text(["Fix the login bug"])

        stickers = member.locator(".card", has_text="Order stickers")
        stickers.get_by_role("button", name="Edit").click()
        stickers.locator("input[name=title]").fill("Order 500 stickers")
        stickers.locator("input[name=assignee]").fill("kim@team.example")
        stickers.locator("select[name=status]").select_option("doing")
        stickers.get_by_role("button", name="Save").click()
        moved = column(member, "doing").locator(".card", has_text="Order 500 stickers")
        expect(moved).to_contain_text("kim@team.example")
        expect(column(member, "todo").locator(".title")).to_have_text(["Book the offsite venue"])

        column(member, "done").locator(".card", has_text="Fix the login bug").get_by_role(
            "button", name="Delete").click()
        expect(column(member, "done").locator(".card")).to_have_count(0)
        expect(column(member, "done").locator(".count")).to_have_text("0")
        screenshot(member, "team-board")

        # 6. The admin sees the member's tasks and may move them.
        page.reload()
        expect(column(page, "doing").locator(".title")).to_have_text(["Write the launch post", "Order 500 stickers"])
        column(page, "doing").locator(".card", has_text="Write the launch post").get_by_role(
            "button", name="Done →").click()
        expect(column(page, "done").locator(".title")).to_have_text(["Write the launch post"])
        member.reload()
        expect(column(member, "done").locator(".title")).to_have_text(["Write the launch post"])

        # 7. The code was single-use.
        again = new_page()
        open_signup(again, srv.url)
        again.fill("#auth input[name=email]", "eve@team.example")
        again.fill("#auth input[name=password]", PASSWORD)
        again.fill("#auth input[name=invite]", code)
        again.click("#auth .aw-submit")
        expect(again.locator(".aw-error")).to_have_text("invite: this code is unknown or already used")
        assert page.errors == [] and member.errors == []
