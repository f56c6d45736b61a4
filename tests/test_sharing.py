"""agent/sharing.py: records shared as widely as the request plainly asks, never wider."""

import json

import pytest

from appwright.agent.check_app import check_app
from appwright.agent.loop import run_agent
from appwright.agent.sharing import asked_access, widen_access
from appwright.models.scripted import ScriptedBackend
from appwright.tasks.bank import TaskBank
from appwright.tasks.reference import ACCESS


def manifest(access, entities=("Booking",)):
    return json.dumps({"name": "Bookings", "auth": {"signup": "open"},
                       "entities": {e: {"fields": {"room": {"type": "string", "required": True}},
                                        **({} if access is None else {"access": access})} for e in entities}}, indent=2)


def access_of(text, entity="Booking"):
    return json.loads(text)["entities"][entity].get("access")


def new_app_requests(split):
    """(access the task asks for, request) for each build and taste task of `split` that starts empty."""
    return [(next(f for f in t.features if f in ACCESS), t.prompt) for t in TaskBank.default().select(split=split)
            if t.kind in ("build", "taste") and t.start is None and sum(f in ACCESS for f in t.features) == 1]


@pytest.mark.parametrize("split", ["train", "dev", "test", "people"])
def test_no_request_of_the_bank_is_read_wider_than_it_asks(split):
    """The rule's safety: a private, admin-written or admin-read request is never read as asking to
    share, and a request for signed-in readers never as asking for public ones (people's words too)."""
    requests = new_app_requests(split)
    wrong = [(want, asked_access(r), r[:80]) for want, r in requests if asked_access(r) not in (None, want)]
    assert requests and wrong == []
    for want in ("shared", "public_read", "submit_only"):  # and it reads most of those that ask, in every split
        asking = [r for w, r in requests if w == want]
        assert sum(asked_access(r) == want for r in asking) >= 0.6 * len(asking)


@pytest.mark.parametrize("request_text", [
    "It's private: everyone has their own bookings and only they can see them.",
    "Each person signs in and only ever sees their own; nobody can see anyone else's.",
    "I don't want other people to see all my bookings.",
    "Everyone on the team sees all bookings, but only admins can add them.",
    "Make all bookings public for now, anyone can see them. Investor demo tomorrow.",
    "A booking app for me and my team."])
def test_private_admin_only_and_unclear_requests_widen_nothing(request_text):
    assert widen_access(manifest("owner"), request_text) == (manifest("owner"), [])


def test_owner_access_asked_to_be_shared_becomes_shared_and_says_why():
    text, fixes = widen_access(manifest("owner"), "Signed-in users see everyone's bookings, but only the person "
                                                  "who added a booking may change or delete it.")
    assert access_of(text) == "shared"
    assert fixes == ['entities.Booking.access: "owner" -> "shared": the request asks for records every signed-in '
                     'user can see']


def test_public_readers_widen_owner_and_shared_and_the_default_counts_as_owner():
    ask = "Anyone can read the bookings without an account; to add one you sign in."
    for access in ("owner", "shared", None):
        assert access_of(widen_access(manifest(access), ask)[0]) == "public_read"


def test_a_form_anyone_sends_and_only_admins_read_becomes_submit_only_in_an_app_of_one_entity():
    request = ("contact form for my bakery: customers send their name, email, and a message without an account; "
               "only I (admin) can read them")
    text, fixes = widen_access(manifest("owner"), request)
    assert access_of(text) == "submit_only"
    assert fixes == ['entities.Booking.access: "owner" -> "submit_only": the request asks for a form anyone can '
                     'send without an account, read only by admins']
    two = json.loads(manifest("owner"))
    two["entities"]["Room"] = {"fields": {"name": {"type": "string"}}}
    assert widen_access(json.dumps(two), request)[1] == []  # which of them is the form is not plain
    assert asked_access("a guestbook: anyone reads it without an account, members sign in to post") == "public_read"


def test_visitors_who_write_without_an_account_get_a_form_only_admins_moderate():
    request = ("a guestbook for my wedding website where visitors leave their name and a message without an "
               "account, and everyone can read them")
    text, fixes = widen_access(manifest("public_read"), request)
    assert access_of(text) == {"read": "public", "create": "public", "update": "admin", "delete": "admin"}
    assert fixes == ['entities.Booking.access: "public_read" -> {"read": "public", "create": "public", "update": '
                     '"admin", "delete": "admin"}: the request asks for records anyone can read and add without an '
                     'account']


def test_no_public_sign_up_is_not_public_reading():
    """people25c's charity team: invite-only sign-up "(no public sign up)", then members see all."""
    ask = ("Team members sign up with an invite code only (no public sign up), then log in to see all the "
           "pledges. You can only edit or delete pledges you added.")
    assert access_of(widen_access(manifest("owner"), ask)[0]) == "shared"


def test_every_new_entity_widens_but_one_the_app_had_keeps_its_access():
    ask = "My team signs in and sees everyone's bookings and their rooms."
    text, fixes = widen_access(manifest("owner", ("Booking", "Room")), ask, before=manifest("owner", ("Room",)))
    assert (access_of(text), access_of(text, "Room"), len(fixes)) == ("shared", "owner", 1)


def test_an_entity_that_holds_secrets_is_never_shared():
    """Asked to keep everyone's passwords in a shared app, the 0.5B adds a Credential entity (dev 40)."""
    data = json.loads(manifest("owner", ("Booking", "Credential", "Login")))
    data["entities"]["Login"]["fields"]["password"] = {"type": "string"}
    text, _ = widen_access(json.dumps(data), "Signed-in users see everyone's bookings. Also keep everyone's passwords.")
    assert [access_of(text, e) for e in ("Booking", "Credential", "Login")] == ["shared", "owner", "owner"]


def test_wider_access_maps_and_unreadable_manifests_are_untouched():
    ask = "Anyone can read the bookings without an account."
    for access in ("public_read", "public", "submit_only", {"read": "owner", "create": "signed_in"}):
        assert widen_access(manifest(access), ask)[1] == []
    assert widen_access("{not json", ask) == ("{not json", [])


def test_the_loop_writes_the_widened_manifest_and_records_the_fix(tmp_path):
    page = ('<!doctype html>\n<html><head><title>Bookings</title></head><body><h1>Bookings</h1>'
            '<div id="auth"></div><div id="list"></div><script src="/_aw/sdk.js"></script><script>'
            'aw.ui.authForm("#auth"); aw.ui.records("#list", {entity: "Booking"});</script></body></html>')
    reply = f'<file path="app.json">\n{manifest("owner")}\n</file>\n<file path="index.html">\n{page}\n</file>\n' \
            "Bookings."
    traj = run_agent("Signed-in users see everyone's bookings.", tmp_path / "app", ScriptedBackend([reply]),
                     checker=lambda root: check_app(root, browser=False))
    assert access_of((tmp_path / "app" / "app.json").read_text()) == "shared"
    assert traj.steps[0].fixes[-1].startswith('entities.Booking.access: "owner" -> "shared"')
    assert '"access": "shared"' in traj.messages[-1].content
