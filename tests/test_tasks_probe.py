"""appwright/tasks/probe.py: the security and isolation probe derived from a bundle's app.json.

Fast: which checks each access rule yields, the records (valid, stored as sent, the same every
time), and that the probe's server-side checks pass on the examples. Slow (real Chromium):
every check of every example passes, and planted flaws fail the check meant to catch them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from appwright.runtime.manifest import load_manifest, parse_manifest
from appwright.runtime.validate import check_write
from appwright.tasks.domains import domain, load_domains
from appwright.tasks.generate import FAKE_KEY
from appwright.tasks.graders import Grader
from appwright.tasks.probe import probe, probe_manifest, probe_record, probe_task
from appwright.tasks.reference import manifest as reference_manifest
from appwright.tasks.reference import render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["notes", "guestbook", "team-board"]


def app(entities: dict, signup: str = "open", name: str = "Probe me") -> dict:
    return {"name": name, "auth": {"signup": signup}, "entities": entities}


def entity(access, **fields) -> dict:
    return {"fields": fields or {"title": {"type": "string", "required": True}}, "access": access}


def by_name(task) -> dict:
    return {c.name: c for c in task.checks}


def failed(grade) -> dict[str, str]:
    return {c.name: c.evidence for c in grade.checks if not c.passed}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (folder / rel).write_text(text)
    return folder


# 1. The checks each manifest yields -----------------------------------------------------------


def test_the_examples_get_isolation_xss_secrets_and_signup():
    tasks = {name: probe_task(ROOT / "examples" / name) for name in EXAMPLES}
    assert {n: [c.name for c in t.checks] for n, t in tasks.items()} == {
        "notes": ["isolation-Note", "xss-Note", "secrets", "signup"],
        "guestbook": ["isolation-Entry", "xss-Entry", "secrets", "signup"],
        "team-board": ["isolation-Task", "xss-Task", "secrets", "signup"],
    }
    t = tasks["notes"]
    assert (t.id, t.kind, t.split, t.prompt) == ("probe-private-notes", "build", "train",
                                                 "Security and isolation probe of Private notes")
    assert by_name(tasks["team-board"])["signup"].signup == "invite"
    assert by_name(tasks["notes"])["signup"].signup == "open"


@pytest.mark.parametrize("access, others, anonymous", [
    ("owner", False, False), ("shared", True, False), ("public_read", True, True),
    ({"read": "signed_in", "create": "signed_in", "update": "owner", "delete": ["owner", "admin"]}, True, False),
    ({"read": ["owner", "editor"]}, False, False),  # a role others do not have; left-out operations are "owner"
])
def test_isolation_follows_the_access_rules(access, others, anonymous):
    m = app({"Item": entity(access)})
    m["auth"]["roles"] = ["editor"]
    check = by_name(probe_manifest(parse_manifest(m)).task)["isolation-Item"]
    assert (check.others_read, check.anonymous_read) == (others, anonymous)


@pytest.mark.parametrize("access, why", [
    ("public", "anyone may change"),
    ({"read": "owner", "update": "signed_in"}, "anyone may change"),
    ({"read": "signed_in", "delete": "public"}, "anyone may change"),
    ("submit_only", "cannot read their own records"),
    ({"create": "admin"}, "cannot create"),
])
def test_isolation_is_left_out_where_it_means_nothing_and_says_why(access, why):
    p = probe_manifest(parse_manifest(app({"Item": entity(access)})))
    assert "isolation-Item" not in by_name(p.task)
    assert any(s.startswith("Item: ") and why in s for s in p.skipped), p.skipped
    assert {"secrets", "signup"} <= set(by_name(p.task))


def test_xss_only_for_entities_with_text_a_payload_fits_in():
    p = probe_manifest(parse_manifest(app({
        "Count": entity("owner", n={"type": "integer", "required": True}, on={"type": "boolean"}),
        "Tag": entity("owner", label={"type": "string", "max_length": 8}),
        "Post": entity("owner", title={"type": "string", "max_length": 8}, body={"type": "text"}),
    })))
    names = set(by_name(p.task))
    assert {"isolation-Count", "isolation-Tag", "isolation-Post", "xss-Post"} <= names
    assert "xss-Count" not in names and "xss-Tag" not in names
    assert any("Tag: its text fields are too short" in s for s in p.skipped)


def test_records_are_valid_stored_as_sent_and_never_empty():
    m = parse_manifest(app({
        "Thing": entity("owner",
                        title={"type": "string", "required": True, "max_length": 3},
                        body={"type": "text"}, price={"type": "number", "min": 5, "max": 9},
                        qty={"type": "integer", "min": 2.5, "required": True},
                        tiny={"type": "integer", "max": -3}, ok={"type": "boolean", "default": False},
                        due={"type": "date"}, at={"type": "datetime", "required": True},
                        kind={"type": "enum", "values": ["b", "a"], "default": "a"},
                        color={"type": "enum", "values": ["red", "blue"]},
                        parent={"type": "ref", "entity": "Thing"}),
        "Flag": entity("owner", on={"type": "boolean"}),
    }))
    spec = m.entities["Thing"]
    record = probe_record(spec)
    assert record == {"title": "Pro", "body": "Probe body", "price": 5.0, "qty": 3, "tiny": -3, "ok": False,
                      "due": "2026-01-15", "at": "2026-01-15T10:00:00.000000Z", "kind": "a", "color": "red"}
    assert check_write("Thing", spec, record, partial=False) == {**record}  # the stored form is what was sent
    assert probe_record(m.entities["Flag"]) == {"on": True}


def test_an_entity_with_a_required_ref_gets_no_checks_and_the_rest_still_do():
    p = probe_manifest(parse_manifest(app({
        "List": entity("owner"),
        "Item": entity("owner", title={"type": "string"}, list={"type": "ref", "entity": "List", "required": True}),
    })))
    assert set(by_name(p.task)) == {"isolation-List", "xss-List", "secrets", "signup"}
    assert any(s.startswith("Item: no valid record") for s in p.skipped)


def test_every_generated_domain_gets_valid_records():
    for d in load_domains():
        m = parse_manifest(reference_manifest(d, [d.access[0]]))
        for name, spec in m.entities.items():
            record = probe_record(spec)
            assert record and check_write(name, spec, record, partial=False).items() >= record.items(), d.name


def test_the_same_manifest_always_yields_the_same_task(tmp_path):
    a = probe_task(ROOT / "examples" / "team-board")
    shutil.copytree(ROOT / "examples" / "team-board", tmp_path / "copy", ignore=shutil.ignore_patterns(".aw"))
    assert probe_task(tmp_path / "copy") == a
    assert probe_manifest(load_manifest(tmp_path / "copy")).task.data() == a.data()


def test_no_probe_without_a_valid_manifest_or_entities(tmp_path, make_bundle):
    assert probe_task(tmp_path / "missing") is None
    broken = make_bundle({"name": "x", "entities": {"Note": {"fields": {"title": {"type": "str"}}}}})
    assert probe_task(broken) is None and "no valid manifest" in probe(broken).skipped[0]
    assert probe_task(make_bundle({"name": "Static page"})) is None
    assert probe_task(make_bundle(app({"Item": entity("owner")}, name="¿¿??"))).id == "probe-app"


# 2. Graded for real ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_server_side_probe_passes_on_the_examples(grader, name):
    g = grader.grade(ROOT / "examples" / name, probe_task(ROOT / "examples" / name), browser=False)
    assert g.good and g.reward == 1.0, failed(g)
    assert {c.kind for c in g.checks} == {"isolation", "security"}


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_probe_check_passes_on_the_examples(grader, name):
    task = probe_task(ROOT / "examples" / name)
    g = grader.grade(ROOT / "examples" / name, task)
    assert g.good and g.reward == 1.0, failed(g)
    assert [c.name for c in g.checks] == [c.name for c in task.checks]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_innerhtml_page_fails_the_xss_check_and_only_it(grader, tmp_path):
    d = domain("notes")
    good = write(tmp_path / "good", render(d, ["shared"]))
    bad = write(tmp_path / "bad", render(d, ["shared"], flaw="innerhtml"))
    task = probe_task(bad)
    assert task == probe_task(good)  # the flaw is in the page, not the manifest
    assert grader.grade(good, task).good
    g = grader.grade(bad, task)
    assert set(failed(g)) == {f"xss-{d.entity}"}, failed(g)
    assert "stored XSS" in failed(g)[f"xss-{d.entity}"]


def test_a_secret_key_in_a_page_fails_the_secrets_check(grader, tmp_path):
    bundle = tmp_path / "notes"
    shutil.copytree(ROOT / "examples" / "notes", bundle, ignore=shutil.ignore_patterns(".aw"))
    js = bundle / "notes.js"
    js.write_text(f'const STRIPE_KEY = "{FAKE_KEY}";\n' + js.read_text())
    g = grader.grade(bundle, probe_task(bundle), browser=False)
    assert set(failed(g)) == {"secrets"}
    assert "notes.js:1: a Stripe live or test key" in failed(g)["secrets"]


def test_a_probe_kept_from_an_earlier_version_catches_a_weakened_signup_rule(grader, tmp_path):
    """How the exported fix tasks use it: the probe of the flagged version, run on a later bundle."""
    bundle = write(tmp_path / "board", {p.name: p.read_text() for p in (ROOT / "examples" / "team-board").iterdir()
                                        if p.is_file()})
    task = probe_task(bundle)
    m = json.loads((bundle / "app.json").read_text())
    m["auth"]["signup"] = "open"
    (bundle / "app.json").write_text(json.dumps(m))
    g = grader.grade(bundle, task, browser=False)
    assert set(failed(g)) == {"signup"} and 'auth.signup is "open"' in failed(g)["signup"]
