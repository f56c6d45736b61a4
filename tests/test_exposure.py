"""agent/exposure.py: records opened to people without an account only when the request asks."""

import json

import pytest

from appwright.agent.check_app import check_app
from appwright.agent.exposure import asks_public, narrow_exposure
from appwright.agent.loop import run_agent
from appwright.models.scripted import ScriptedBackend
from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.reference import ACCESS


def manifest(access):
    return json.dumps({"name": "Bookings", "auth": {"signup": "open"},
                       "entities": {"Booking": {"fields": {"room": {"type": "string", "required": True}},
                                                "access": access}}}, indent=2)


def access_of(text):
    return json.loads(text)["entities"]["Booking"]["access"]


@pytest.mark.parametrize("split", ["train", "dev", "test", "people"])
def test_every_bank_build_that_asks_for_public_records_says_so_in_words(split):
    """Narrowing never closes an app the person asked to open: each build asking for records read
    without an account (or a form anyone sends) is seen as asking."""
    asked = [t for t in TaskBank.default().select(split=split, kind="build")
             if {"public_read", "submit_only"} & set(t.features) and sum(f in ACCESS for f in t.features) == 1]
    assert asked and [t.id for t in asked if not asks_public(t.prompt)] == []


def test_public_read_unasked_becomes_shared_and_says_why():
    text, fixes = narrow_exposure(manifest("public_read"), "Signed-in users see everyone's bookings, but only the "
                                                           "person who added a booking may change it.")
    assert access_of(text) == "shared"
    assert fixes == ['entities.Booking.access: "public_read" -> "shared": the request never asks for records that '
                     'people without an account can see or change']


@pytest.mark.parametrize("request_text", ["my running log, private: date, distance in km, notes",
                                          "recipe box just for me: recipe name, ingredients, steps"])
def test_public_read_unasked_in_a_private_request_becomes_owner(request_text):
    text, fixes = narrow_exposure(manifest("public_read"), request_text)
    assert access_of(text) == "owner"
    assert fixes == ['entities.Booking.access: "public_read" -> "owner": the request never asks for records that '
                     "people without an account can see or change, and says they are the person's own"]
    # a private word beside a phrase that shares: signed-in people read them all
    assert access_of(narrow_exposure(manifest("public"), request_text + "; everyone signed in sees all of them")[0]) \
        == "shared"


def test_on_the_bank_a_shared_request_is_never_narrowed_to_owner_and_most_private_ones_are():
    """Every build and taste app of the bank answered with `public_read` on each entity: a shared
    entity stays shared; a private one comes back `owner` when its request says so."""
    kept = narrowed = private = 0
    for t in TaskBank.default().tasks:
        if t.kind not in ("build", "taste") or t.start is not None or not t.domain or asks_public(t.prompt):
            continue
        reference = json.loads(reference_files(t)["app.json"])
        opened = json.loads(json.dumps(reference))
        for entity in opened["entities"].values():
            entity["access"] = "public_read"
        got = json.loads(narrow_exposure(json.dumps(opened), t.prompt)[0])["entities"]
        for name, entity in reference["entities"].items():
            want = entity.get("access", "owner")
            if want == "shared":
                kept += 1
                assert got[name]["access"] == "shared", t.id
            elif want == "owner":
                private += 1
                narrowed += got[name]["access"] == "owner"
    assert kept > 1000 and private > 1000 and narrowed > 0.5 * private


def test_an_access_map_loses_only_its_public_principal():
    text, _ = narrow_exposure(manifest({"read": "public", "create": ["public", "admin"], "update": "public",
                                        "delete": "admin"}), "a team task list")
    assert access_of(text) == {"read": "signed_in", "create": ["signed_in", "admin"], "update": "owner",
                               "delete": "admin"}
    text, _ = narrow_exposure(manifest("submit_only"), "a feedback form for our members")
    assert access_of(text) == {"read": "admin", "create": "signed_in", "update": "admin", "delete": "admin"}


@pytest.mark.parametrize("request_text", ["A guestbook anyone can read without signing in.",
                                          "put the menu on our website", "Make the recipes public."])
def test_a_request_that_asks_for_public_records_keeps_them(request_text):
    assert narrow_exposure(manifest("public_read"), request_text) == (manifest("public_read"), [])


def test_an_app_that_was_public_before_the_request_is_left_as_the_answer_has_it():
    assert narrow_exposure(manifest("public"), "Add a sort by room.", before=manifest("public_read"))[1] == []
    # ...but an app that was private is not opened by an edit that never asked
    assert access_of(narrow_exposure(manifest("public_read"), "Add a sort by room.",
                                     before=manifest("owner"))[0]) == "shared"


def test_narrower_access_and_unreadable_manifests_are_untouched():
    for access in ("owner", "shared", {"read": "signed_in", "create": "admin"}):
        assert narrow_exposure(manifest(access), "a booking app")[1] == []
    assert narrow_exposure("{not json", "a booking app") == ("{not json", [])


def test_the_loop_writes_the_narrowed_manifest_and_records_the_fix(tmp_path):
    page = ('<!doctype html>\n<html><head><title>Bookings</title></head><body><h1>Bookings</h1>'
            '<div id="auth"></div><div id="list"></div><script src="/_aw/sdk.js"></script><script>'
            'aw.ui.authForm("#auth"); aw.ui.records("#list", {entity: "Booking"});</script></body></html>')
    reply = f'<file path="app.json">\n{manifest("public_read")}\n</file>\n<file path="index.html">\n{page}\n</file>\n' \
            "Bookings everyone signed in can see."
    traj = run_agent("Signed-in users see everyone's bookings.", tmp_path / "app", ScriptedBackend([reply]),
                     checker=lambda root: check_app(root, browser=False))
    assert access_of((tmp_path / "app" / "app.json").read_text()) == "shared"
    assert traj.steps[0].fixes[-1].startswith('entities.Booking.access: "public_read" -> "shared"')
    assert '"access": "shared"' in traj.messages[-1].content  # the answer as written, for training and repairs
