"""Prompts in people's words (tasks/phrasing.py): every build and taste task asked three more
ways that name nothing, still saying everything the checks test, and graded by meaning."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from appwright.runtime.manifest import parse_manifest
from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.domains import DomainField, domain, load_domains
from appwright.tasks.generate import FAKE_KEY, _number, form_check
from appwright.tasks.graders import Grader
from appwright.tasks.graders.meaning import bind, same_family, words
from appwright.tasks.phrasing import (PER_TASK, STYLES, Phrasings, load_phrasings, people_prompt, phrasings,
                                      styles_for)
from appwright.tasks.reference import render

BANK = TaskBank.default()
PHRASED = re.compile(r"\.p\d+$")  # a phrasing's id: the original's plus .p1, .p2 ...
PEOPLE = [t for t in BANK.tasks if PHRASED.search(t.id)]
GENERATED = {d.name for d in load_domains()}  # not the hand-written people split (people.yaml)
ORIGINALS = [t for t in BANK.tasks
             if t.kind in ("build", "taste") and t.domain in GENERATED and not PHRASED.search(t.id)]
CHANGES = ("public-for-now", "keep-invite")  # taste traps asked of an app the person has: the request alone
TYPE_WORDS = re.compile(r"\b(integers?|booleans?|enums?|strings?|entit(y|ies)|fields?)\b", re.I)
CAMEL = re.compile(r"\b[A-Z][a-z]+[A-Z]\w*|\b[a-z]+[A-Z]\w*")


def _base(task_id: str) -> str:
    return PHRASED.sub("", task_id)


def test_every_build_and_taste_task_has_three_phrasings_with_its_checks():
    by_id = {t.id: t for t in BANK.tasks}
    for t in ORIGINALS:
        assert t.meaning is None and ("`" in t.prompt or t.id.endswith(CHANGES)), t.id
        for n in range(1, PER_TASK + 1):
            p = by_id[f"{t.id}.p{n}"]
            same = ("kind", "split", "domain", "features", "start", "reference_reply")
            assert {k: getattr(p, k) for k in same} == {k: getattr(t, k) for k in same}, p.id
            # a build phrasing also fills the page's own form with no script (graders/form.py)
            assert p.checks == t.checks + ([form_check(t.features)] if t.kind == "build" else []), p.id
            assert p.meaning == domain(t.domain).meaning(linked="linked" in t.features) and p.prompt != t.prompt
    assert len(PEOPLE) == PER_TASK * len(ORIGINALS)
    assert {t.kind for t in PEOPLE} == {"build", "taste"}


def test_the_bank_holds_over_3000_tasks_and_the_explicit_ones_are_unchanged():
    assert len(BANK.tasks) >= 3000
    frozen = Path(__file__).resolve().parent.parent / "docs/results/dev40.txt"
    ids = [line.strip() for line in frozen.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert all(BANK.get(i).meaning is None and "`" in BANK.get(i).prompt for i in ids if i.startswith("build-"))


def test_people_prompts_name_no_entity_field_or_type():
    for t in PEOPLE:
        d = domain(t.domain)
        text = t.prompt.replace(FAKE_KEY, "KEY")
        assert "`" not in text and "_" not in text and "{" not in text and "}" not in text, t.id
        assert not TYPE_WORDS.search(text), (t.id, TYPE_WORDS.search(text).group(0))
        assert not CAMEL.search(text), (t.id, CAMEL.search(text).group(0))
        for m in re.finditer(rf"\b{d.entity}\b", text):  # the entity's name only as a word opening a sentence
            before = text[:m.start()].rstrip()
            assert not before or before[-1] in ".!?:;", (t.id, d.entity)
        if t.id.startswith(f"taste-{d.name}-secret-key"):
            assert FAKE_KEY in t.prompt  # the trap still hands over the key


def _said(f) -> list[str]:
    """The phrases for a field as a prompt gives them, up to any note in brackets."""
    values = f.values or [""]
    listed = values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"
    return [s.format(values=listed).split("(")[0].strip() for s in f.say]


def test_people_prompts_still_say_what_the_checks_test():
    for t in PEOPLE:
        if _base(t.id).endswith(CHANGES):
            continue  # the request alone, as in the original
        d, text = domain(t.domain), t.prompt.lower()
        for f in d.fields:  # every field, by one of its phrases
            assert any(s.lower() in text for s in _said(f)), (t.id, f.name)
        for f in d.fields:
            for v in f.values or []:  # an enum's exact values
                assert re.search(rf"\b{re.escape(v.lower())}\b", text), (t.id, v)
        if "validation" in t.features:
            low, high = (_number(x) for x in d.validated.limits)
            assert re.search(rf"\b{low}\b", text) and re.search(rf"\b{high}\b", text), t.id
        if "sort" in t.features:
            assert any(o.lower() in text for o in d.people.order), t.id
        if "totals" in t.features:
            assert d.field(d.amount).label.lower() in text, t.id
        if "search" in t.features:
            assert d.field(d.title).label.lower() in text, t.id
        if "invite" in t.features:
            assert "invit" in text, t.id
        if "admin_write" in t.features:  # the role that writes, in words
            assert "admin" in text and ("account" in text or "sign in" in text), t.id
        if "linked" in t.features:  # the linked records, and each of their fields, by one of its phrases
            assert any(x.lower() in text for x in d.part.people), t.id
            for f in d.part.fields:
                assert any(s.lower() in text for s in _said(f)), (t.id, f.name)


def test_the_three_phrasings_of_a_task_use_three_styles_and_every_style_is_used():
    used = Counter()
    for t in ORIGINALS:
        styles = styles_for(t.id)
        assert len(set(styles)) == PER_TASK
        used.update(styles)
    assert set(used) == set(load_phrasings().styles) >= set(STYLES)
    assert min(used.values()) > len(ORIGINALS) * PER_TASK / len(used) / 2  # none is rare


def _mask(task) -> str:
    """The prompt without the domain's own words: what is left is the style's."""
    d = domain(task.domain)
    own = [*d.people.app, *d.people.things, *d.people.order, *(f.label for f in d.fields),
           *(v for f in d.fields for v in f.values or []), *(s for f in d.fields for s in _said(f))]
    text = task.prompt
    for w in sorted(own, key=len, reverse=True):
        text = text.replace(w, "X")
    return text


def test_people_prompts_vary():
    assert len({t.prompt for t in PEOPLE}) == len(PEOPLE)
    # in every run of 150 phrasings (a domain or two), at least 100 read differently once the
    # domain's own words are masked
    for i in range(0, len(PEOPLE) - 150 + 1, 150):
        window = PEOPLE[i:i + 150]
        assert len({_mask(t) for t in window}) >= 100, window[0].id
    # every whole-request template and every ask of every style is used somewhere
    texts = " ".join(t.prompt for t in PEOPLE)
    for name, style in load_phrasings().styles.items():
        for template in style.prompts + style.asks:
            longest = max(re.split(r"{\w+}", template), key=len).strip()
            assert longest in texts, (name, template)


def test_people_prompts_are_deterministic():
    d = domain("workouts")
    task = BANK.get("build-workouts-shared-totals")
    assert [p.model_dump() for p in phrasings(task, d)] == [p.model_dump() for p in phrasings(task, d)]
    one = people_prompt(d, ["shared", "totals", "validation"], "terse", "x.p1")
    assert one == people_prompt(d, ["shared", "totals", "validation"], "terse", "x.p1")
    assert re.search(r"\b1\b", one) and re.search(r"\b600\b", one) and "total minutes" in one.lower()
    with pytest.raises(ValueError, match="only generated build and taste"):
        phrasings(BANK.get("fix-workouts-owner-innerhtml"), d)


def test_a_word_names_one_field_of_a_type_family_per_domain():
    """graders/meaning.py binds an app's field by these words: one that fits two fields of the same
    family would let an app's field go to the wrong one."""
    for d in load_domains():
        for i, a in enumerate(d.fields):
            for b in d.fields[i + 1:]:
                if same_family(a.type, b.type) or same_family(b.type, a.type):
                    wa = set().union(*(words(w) for w in [a.name, a.label, *a.words]))
                    wb = set().union(*(words(w) for w in [b.name, b.label, *b.words]))
                    assert not wa & wb, (d.name, a.name, b.name, wa & wb)


def test_every_reference_app_binds_to_its_own_names():
    for d in load_domains():
        app = parse_manifest(json.loads(render(d, d.access[:1])["app.json"]))
        b = bind(app, d.meaning())
        assert b.entities == {d.entity: d.entity} and b.missing == [], d.name
        assert b.fields[d.entity] == {f.name: f.name for f in d.fields} and b.extra == {d.entity: {}}, d.name
    for d in (d for d in load_domains() if d.part):  # the two entities of a linked app, and the link
        app = parse_manifest(json.loads(render(d, [d.access[0], "linked"])["app.json"]))
        b = bind(app, d.meaning(linked=True))
        p = d.part
        assert b.entities == {d.entity: d.entity, p.entity: p.entity} and b.missing == [], d.name
        assert b.fields[p.entity] == {**{f.name: f.name for f in p.fields}, p.link: p.link}, d.name


def _one_per_family() -> list[str]:
    """A phrased build task from the first domain of each family, rotating access modes, extras
    and .p1-.p3 (as tests/test_graders.py rotates them) so that all of them are graded."""
    ids, seen = [], set()
    for d in load_domains():
        if d.family in seen:
            continue
        i = len(seen)
        seen.add(d.family)
        extras = d.features_available()
        pair = sorted({extras[i % len(extras)], extras[(i + 1) % len(extras)]}, key=extras.index)
        modes = [a for a in d.access if a != "submit_only"]  # submit_only takes no extras: graded on its own
        access = modes[i % len(modes)].replace("_", "")
        ids.append("-".join(["build", d.name, access, *pair]) + f".p{i % PER_TASK + 1}")
    return ids


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


def test_the_graded_tasks_cover_every_family_access_mode_and_extra():
    tasks = [BANK.get(i) for i in _one_per_family()]
    assert {domain(t.domain).family for t in tasks} == {d.family for d in load_domains()}
    assert {f for t in tasks for f in t.features} == {"owner", "shared", "public_read", "admin_write", "sort",
                                                      "validation", "totals", "search", "filter"}


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("task_id", _one_per_family())
def test_the_reference_app_grades_one_on_a_people_prompt(grader, tmp_path, task_id):
    task = BANK.get(task_id)
    assert task.meaning is not None
    for rel, text in reference_files(task).items():
        (tmp_path / rel).write_text(text)
    g = grader.grade(tmp_path, task, reply=task.reference_reply)
    assert g.good and g.reward == 1.0, {c.name: c.evidence for c in g.checks if not c.passed}


@pytest.mark.parametrize("change, message", [
    (lambda p: p["styles"]["terse"]["prompts"].append("{app} with an integer {fields} {required} {access} {extras}"),
     "'integer'"),
    (lambda p: p["common"]["extras"]["sort"].append("Sort by {field}."), "may use"),
    (lambda p: p["common"]["extras"]["filter"].append("A menu for the {label}."), "must use"),
    (lambda p: p["styles"].pop("typo"), "styles lack typo"),
])
def test_phrasings_yaml_refuses_jargon_and_bad_slots(change, message):
    data = yaml.safe_load(resources.files("appwright.tasks").joinpath("phrasings.yaml").read_text())
    change(data)
    with pytest.raises(ValidationError, match=message):
        Phrasings.model_validate(data)


def test_a_domain_phrase_with_a_backtick_or_a_type_word_is_refused():
    DomainField(name="mood", type="enum", label="mood", values=["a", "b"], say=["how I felt ({values})"])
    for say, message in [(["the `mood`"], "'`'"), (["a mood enum ({values})"], "'enum'"),
                         (["how I felt"], "gives its values")]:
        with pytest.raises(ValidationError, match=message):
            DomainField(name="mood", type="enum", label="mood", values=["a", "b"], say=say)
