"""The people split (tasks/people.py): prompts in people's words, in domains of their own,
graded by the generator's checks, every reference app good. That nothing trains on them is
tests/test_train_data.py's."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appwright import cli
from appwright.tasks.bank import TaskBank, reference_files
from appwright.tasks.domains import domain, load_domains
from appwright.tasks.generate import checks_for, form_check
from appwright.tasks.graders import Grader, grade_bundle
from appwright.tasks.model import Task
from appwright.tasks.people import people_domain, people_tasks

TASKS = people_tasks()
FEATURES = ("owner", "shared", "public_read", "sort", "validation", "totals", "search", "filter", "invite")
# Six tasks in six domains that together cover every access mode and extra, a boolean field,
# several required fields, a required date and yes/no enum values.
BROWSER_SAMPLE = ["people-birds-club", "people-viewings-flatmates", "people-fishing-pb", "people-lostfound-school",
                  "people-bloodpressure-doctor", "people-races-running-club"]


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (folder / rel).write_text(text)
    return folder


def failed(grade) -> dict[str, str]:
    return {c.name: c.evidence for c in grade.checks if not c.passed}


def _says(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.I) is not None


def test_sixty_prompts_in_twenty_domains_all_in_the_people_split():
    assert len(TASKS) >= 60
    assert len({t.domain for t in TASKS}) >= 20
    assert {t.split for t in TASKS} == {"people"} and {t.kind for t in TASKS} == {"build"}
    assert len({t.id for t in TASKS}) == len(TASKS)
    assert len({t.prompt for t in TASKS}) == len(TASKS)
    assert all(t.id.startswith(f"people-{t.domain}-") for t in TASKS)
    assert {f for t in TASKS for f in t.features} == set(FEATURES)


def test_the_people_domains_are_not_the_generators():
    generated = {d.name for d in load_domains()}
    assert not {t.domain for t in TASKS} & generated
    for t in TASKS[:3]:
        with pytest.raises(KeyError):
            domain(t.domain)  # domains.domain stays the generator's


def test_prompts_name_no_field_and_no_type():
    snake = {f.name for d in load_domains() for f in d.fields if "_" in f.name}
    snake |= {f.name for t in TASKS for f in people_domain(t.domain).fields if "_" in f.name}
    for t in TASKS:
        assert "`" not in t.prompt, t.id
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", t.prompt), t.id
        assert not [n for n in snake if n in t.prompt], t.id
        assert not _says(r"\b(entity|integer|string|boolean|enum)\b", t.prompt), t.id


def test_each_prompt_says_in_words_what_its_checks_test():
    """Cheap signs of a fair prompt; that it names every field is on the writer (people.yaml)."""
    for t in TASKS:
        d, p = people_domain(t.domain), t.prompt
        for f in d.fields:
            for v in f.values or []:  # the records the checks send use these exact values
                assert _says(rf"\b{re.escape(v)}\b", p), f"{t.id}: {f.name} value {v!r}"
        assert _says(r"requir|must|needed|has to be (there|filled)", p), f"{t.id}: which field is required"
        if "owner" in t.features:
            assert _says(r"private|only (me|i\b|my)|just (for )?(me|mine)|(to|for) me only|visible to me|nobody else|their own", p), t.id
        if "shared" in t.features:
            assert _says(r"log(s|ged)? ?in|sign(s|ed)? ?in|account", p) and _says(r"\bonly\b", p), t.id
        if "public_read" in t.features:
            assert _says(r"without|no (account|login)|public", p), t.id
        if "validation" in t.features:
            low, high = d.validated.limits
            for x in (f"{n:.2f}".rstrip("0").rstrip(".") for n in (low, high)):
                assert _says(rf"(?<![\d.]){re.escape(x)}(?!\.?\d)", p), f"{t.id}: the limit {x}"
        if "totals" in t.features:
            assert _says(r"total|add up", p), t.id
        if "search" in t.features:
            assert _says(r"search", p), t.id
        if "filter" in t.features:
            assert _says(r"drop ?down|menu|filter|pick", p), t.id
        if "invite" in t.features:
            assert _says(r"invite", p), t.id


def test_checks_and_meaning_are_the_generators_and_round_trip():
    for t in TASKS:
        d = people_domain(t.domain)
        assert d.split == "people" and d.family == "people"
        assert t.checks == checks_for(d, t.features) + [form_check(t.features)] and t.meaning == d.meaning()
        assert Task.model_validate(t.data()) == t


def test_the_bank_holds_them_and_the_cli_lists_them():
    bank = TaskBank.default()
    assert [t.id for t in bank.select(split="people")] == [t.id for t in TASKS]
    r = CliRunner().invoke(cli.app, ["tasks", "list", "--split", "people", "--limit", "0"])
    assert r.exit_code == 0, r.output
    assert f"{len(TASKS)} tasks (people/build {len(TASKS)})" in " ".join(r.output.split())


def test_every_reference_app_grades_good_without_the_browser(tmp_path):
    def grade(t):  # two at a time: each grade waits mostly on its app's server
        return t.id, grade_bundle(write(tmp_path / t.id, reference_files(t)), t, browser=False)

    with ThreadPoolExecutor(2) as pool:
        bad = {tid: failed(g) for tid, g in pool.map(grade, TASKS) if not (g.good and g.reward == 1.0)}
    assert not bad


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("task_id", BROWSER_SAMPLE)
def test_reference_apps_grade_one_with_the_browser(grader, tmp_path, task_id):
    task = TaskBank.default().get(task_id)
    g = grader.grade(write(tmp_path / "app", reference_files(task)), task)
    assert g.good and g.reward == 1.0, failed(g)
    assert {c.name for c in g.checks} == {c.name for c in task.checks}


def test_the_browser_sample_spans_six_domains_and_every_feature():
    tasks = [TaskBank.default().get(i) for i in BROWSER_SAMPLE]
    assert len({t.domain for t in tasks}) == 6
    assert {f for t in tasks for f in t.features} == set(FEATURES)
