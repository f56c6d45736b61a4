"""Reference rows (train/references.py): every train task's reference solution as the answer a
perfect model would give in the harness, byte for byte, and never a dev, test or people task."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from appwright.agent.answer import fix_app_json, fix_page
from appwright.agent.check_app import check_app
from appwright.agent.guided import FILE_END, FILES_PREFIX
from appwright.agent.loop import _on_disk, run_agent, start_message
from appwright.agent.parse import parse_reply
from appwright.agent.prompt import system_prompt
from appwright.agent.sft import message_key, read_stats
from appwright.agent.tools import TOOL_SPECS, Toolbox
from appwright.models.base import Completion, GenerationConfig
from appwright.runtime.manifest_schema import WS, field_schema
from appwright.tasks.bank import TaskBank, materialise_start, reference_files, start_files
from appwright.tasks.domains import JARGON, load_domains
from appwright.train.references import (ReferenceRow, SplitLeak, check_train, estimate_tokens, flaw_of,
                                        reference_row, reference_rows, reply_for, row_tokens, select_rows,
                                        write_reference_dataset)

ROOT = Path(__file__).resolve().parent.parent
BANK = TaskBank.default()
KINDS = {"build", "edit", "fix", "taste"}


@pytest.fixture(scope="module")
def rows() -> list[ReferenceRow]:
    return reference_rows(BANK)


def by_kind(rows, kind):
    return [r for r in rows if r.kind == kind]


def train_families() -> set[str]:
    """Read from domains.yaml itself, not through the code under test."""
    text = (ROOT / "appwright/tasks/domains.yaml").read_text(encoding="utf-8")
    return set(yaml.safe_load(text)["splits"]["train"])


# 1. What is there ---------------------------------------------------------------------------

def test_every_kind_and_every_train_task_with_a_reference_has_a_row(rows):
    assert {r.kind for r in rows} == KINDS
    expected = {t.id for t in BANK.select(split="train") if t.domain is not None}
    assert [r.task_id for r in rows if r.task_id not in expected] == []
    assert {r.task_id for r in rows} == expected
    # the one hand-written train task has no generated reference, so no row
    assert {t.id for t in BANK.select(split="train") if t.domain is None} == {"build-pinned-notes"}


# 2. The answer, as the harness writes it ----------------------------------------------------

def test_the_answer_parses_back_to_exactly_the_reference_files_then_the_reply(rows):
    for r in rows:
        parsed = parse_reply(r.answer)
        reference = reference_files(BANK.get(r.task_id), records=True)
        assert parsed.problems == [] and all(f.closed for f in parsed.files), r.task_id
        # parse_reply gives a file's text with one final newline; every reference file has exactly that
        assert {f.path: f.content for f in parsed.files} == reference, r.task_id
        assert [f.path for f in parsed.files][:2] == ["app.json", "index.html"]
        assert parsed.files[1].content.startswith("<!doctype html>\n")
        assert parsed.text == r.reply and r.answer.endswith("</file>\n" + r.reply), r.task_id
        assert r.answer.startswith(FILES_PREFIX + "{")


def test_files_come_in_the_order_the_page_loads_them(rows):
    orders = Counter(tuple(f.path for f in parse_reply(r.answer).files) for r in rows)
    assert set(orders) == {("app.json", "index.html", "style.css", "app.js"),
                           # a submit_only app's page links admin.html before it loads app.js
                           ("app.json", "index.html", "style.css", "admin.html", "app.js", "admin.js"),
                           # a new app's page written with aw.ui.records (tests/test_records_references.py)
                           ("app.json", "index.html"), ("app.json", "index.html", "admin.html")}


class PerfectModel:
    """A backend that samples under the manifest grammar (so the loop guides the answer,
    agent/guided.py) and writes the reference piece by piece, as constrained_answer asks."""
    name, constrains, structured = "perfect", True, False

    def __init__(self, files: dict[str, str], reply: str):
        self.files, self.reply = files, reply

    def complete(self, messages, tools=None, config=GenerationConfig(), on_token=None) -> Completion:
        so_far = messages[-1].content
        assert messages[-1].role == "assistant" and so_far.startswith(FILES_PREFIX)
        if config.grammar:
            text = self.files["app.json"]
        elif config.stop == FILE_END:  # the body of the block the harness just opened
            path = re.findall(r'<file path="([^"]+)">\n', so_far)[-1]
            text = self.files[path]
            if path == "index.html":  # the harness wrote its first line (guided.PAGE_PREFIX)
                text = text.split("\n", 1)[1]
        else:
            text = self.reply
        return Completion(text=text, model=self.name, prompt_tokens=1, completion_tokens=1, latency_s=0.0,
                          first_token_s=None, cost_usd=0.0, finish_reason="stop", continued_prefix=True)

    def close(self) -> None:
        """Holds nothing to release: the Backend protocol asks for close()."""


@pytest.mark.parametrize("task_id", [
    "build-notes-owner-search.p1", "edit-recipes-owner-add-sort", "fix-expenses-shared-innerhtml",
    "taste-habits-keep-invite", "build-support-submitonly",
])
def test_a_row_is_what_the_harness_records_for_a_model_that_writes_the_reference(task_id, tmp_path):
    task = BANK.get(task_id)
    row = reference_row(task)
    start = materialise_start(task, tmp_path / "start")
    traj = run_agent(task.prompt, tmp_path / "ws", PerfectModel(reference_files(task, records=True), row.reply), protocol="files",
                     start_bundle=start, checker=lambda root: check_app(root, browser=False), task_id=task.id,
                     prompt_style="compact")
    assert traj.stop_reason == "answered" and traj.steps[0].grammar == "manifest"
    assert traj.steps[0].fixes == [] and traj.steps[0].dropped == []
    assert [{"role": m.role, "content": m.content} for m in traj.messages] == row.messages()


def test_the_harness_would_repair_nothing_in_an_answer(rows):
    for r in rows:
        parsed = parse_reply(r.answer)
        start = start_files(BANK.get(r.task_id))
        text, fixes = fix_app_json(r.answer, parsed, start)
        text, more = fix_page(text, parsed, start)
        assert (fixes, more, text) == ([], [], r.answer), r.task_id


def test_the_manifest_is_one_the_grammar_can_sample(rows):
    """Keys in the schema's order (`type` first) and no whitespace run over the grammar's limit."""
    for r in rows[::25]:
        manifest_text = parse_reply(r.answer).files[0].content
        assert max(len(w) for w in re.findall(r"\s+", manifest_text)) <= WS
        for entity in json.loads(manifest_text)["entities"].values():
            for f in entity["fields"].values():
                allowed = list(field_schema(f["type"])["properties"])
                assert list(f) == sorted(f, key=allowed.index), (r.task_id, f)


# 3. The messages --------------------------------------------------------------------------

def test_the_system_prompt_is_the_compact_one(rows):
    compact = system_prompt("files", TOOL_SPECS, "compact")
    assert {r.system for r in rows} == {compact}
    assert compact != system_prompt("files", TOOL_SPECS, "full")


def test_edit_and_fix_messages_carry_the_start_files(rows):
    for r in rows:
        task = BANK.get(r.task_id)
        if task.start is None:
            assert r.user == task.prompt
            continue
        sent = parse_reply(r.user)
        assert {f.path: f.content for f in sent.files} == start_files(task), r.task_id
        assert task.prompt in r.user and r.user.endswith("Answer with every file of the changed app.")
    assert all(BANK.get(r.task_id).start is not None for r in rows if r.kind in ("edit", "fix"))


def test_the_start_files_are_the_ones_the_loop_reads_from_disk(rows, tmp_path):
    """The loop sends what its Toolbox finds after copying the start bundle (hidden files left out)."""
    for r in [*by_kind(rows, "edit")[:3], *by_kind(rows, "fix")[:3]]:
        task = BANK.get(r.task_id)
        start = materialise_start(task, tmp_path / r.task_id)
        (start / ".aw").mkdir()
        (start / ".aw" / "secret.txt").write_text("never sent")
        ws = tmp_path / f"{r.task_id}-ws"
        shutil.copytree(start, ws, ignore=shutil.ignore_patterns(".*"))
        assert r.user == start_message(task.prompt, _on_disk(Toolbox(ws)), "files")
        assert "never sent" not in r.user


# The files each planted flaw lives in (tasks/reference.py): a fix touches nothing else.
TOUCHED = {"wrong_access": {"app.json"}, "admin_open": {"app.json", "admin.js"}, "innerhtml": {"app.js", "admin.js"},
           "missing_sdk_method": {"app.js", "admin.js"}, "await_outside_async": {"app.js"},
           "missing_form_field": {"index.html"}, "wrong_entity_name": {"app.js", "admin.js"},
           "string_to_number": {"app.js"}, "no_refresh": {"app.js"}, "members_write": {"app.json"},
           "ref_leak": {"app.json"}}


def test_fix_answers_change_only_what_the_flaw_needs(rows):
    fixes = by_kind(rows, "fix")
    assert {flaw_of(BANK.get(r.task_id)) for r in fixes} == set(TOUCHED)
    for r in fixes:
        task = BANK.get(r.task_id)
        start = start_files(task)
        answer = {f.path: f.content for f in parse_reply(r.answer).files}
        changed = {p for p in answer if answer[p] != start.get(p)}
        assert set(answer) == set(start), r.task_id
        assert changed and changed <= TOUCHED[flaw_of(task)], (r.task_id, changed)
        assert all(answer[p] == start[p] for p in set(start) - changed)


# 4. The reply to the person ---------------------------------------------------------------

def test_taste_replies_are_the_reference_reply(rows):
    taste = by_kind(rows, "taste")
    assert taste and all(r.reply == BANK.get(r.task_id).reference_reply for r in taste)


def test_replies_are_plain_short_and_deterministic(rows):
    for r in rows:
        if r.kind != "taste":
            assert not JARGON.search(r.reply), (r.task_id, r.reply)
        assert "<file" not in r.reply and "\n" not in r.reply and len(r.reply) < 600, r.task_id
    task = BANK.get("build-recipes-owner-sort")
    d = next(d for d in load_domains() if d.name == "recipes")
    assert reply_for(task, d) == reply_for(task, d) == reference_row(task).reply
    assert "recipe box" in reply_for(task, d) and "minutes" in reply_for(task, d)
    openings = Counter(r.reply.split(":")[0].replace("recipe box", "X") for r in by_kind(rows, "build")
                       if r.domain == "recipes")
    assert len(openings) == 3  # varied a little


def test_fix_and_edit_replies_say_what_was_wrong_or_changed():
    fix = reference_row(BANK.get("fix-recipes-owner-innerhtml")).reply
    assert "script" in fix and "plain text" in fix
    assert "no box for the title" in reference_row(BANK.get("fix-notes-owner-missing-form-field")).reply
    assert "search box" in reference_row(BANK.get("edit-recipes-owner-add-search")).reply
    assert "admin.html" in reference_row(BANK.get("edit-support-submitonly-add-adminpage")).reply


# 5. Never a dev, test or people task -----------------------------------------------------

def test_no_dev_test_or_people_task_gets_in_by_id_or_by_family(rows):
    families = train_families()
    held_out_ids = {t.id for t in BANK.tasks if t.split != "train"}
    held_out_domains = {d.name for d in load_domains() if d.family not in families}
    assert held_out_ids and held_out_domains
    assert not {r.task_id for r in rows} & held_out_ids
    assert {r.family for r in rows} == families
    assert not {r.domain for r in rows} & held_out_domains
    assert all(BANK.get(r.task_id).domain == r.domain for r in rows)


def test_the_guard_refuses_held_out_tasks():
    for split in ("dev", "test", "people"):
        for task in BANK.select(split=split)[::10]:
            with pytest.raises(SplitLeak, match=f"is a {split} task"):
                reference_row(task)
    dev_task = BANK.select(split="dev")[0]  # relabelled train: its domain's family still says dev
    with pytest.raises(SplitLeak, match="family 'events', held out for dev"):
        check_train(dev_task.model_copy(update={"split": "train"}))
    test_task = BANK.select(split="test", kind="fix")[0]
    with pytest.raises(SplitLeak, match="held out for test"):
        check_train(test_task.model_copy(update={"split": "train"}))
    people_task = BANK.select(split="people")[0]  # its domain is in people.yaml, not domains.yaml
    with pytest.raises(SplitLeak, match="not a domain of domains.yaml"):
        check_train(people_task.model_copy(update={"split": "train"}))


def test_the_writer_checks_every_row_again(rows, tmp_path):
    dev_task = BANK.select(split="dev", kind="build")[0]
    forged = ReferenceRow(**{**rows[0].__dict__, "task_id": dev_task.id})
    with pytest.raises(SplitLeak):
        write_reference_dataset([rows[0], forged], tmp_path / "out", BANK)
    assert not (tmp_path / "out").exists()


# 6. Selection under a token budget ----------------------------------------------------------

def test_selection_fits_the_budget_and_is_even_across_kinds_and_families(rows):
    picked, duplicates = select_rows(rows, max_tokens=250_000, seed=0)
    total = sum(sum(row_tokens(r)) for r in picked)
    biggest = max(sum(row_tokens(r)) for r in rows)
    assert duplicates == 0 and 250_000 - biggest < total <= 250_000  # full but for less than a row
    groups = Counter((r.kind, r.family) for r in picked)
    assert len(groups) == len(KINDS) * len(train_families())
    assert max(groups.values()) - min(groups.values()) <= 1
    assert len({r.task_id for r in picked}) == len(picked)


def test_kind_weights_tilt_the_mix_and_keep_it_even_across_families(rows):
    picked, _ = select_rows(rows, max_tokens=250_000, seed=0, weights={"build": 3})
    per_kind = Counter(r.kind for r in picked)
    even = Counter(r.kind for r in select_rows(rows, max_tokens=250_000, seed=0)[0])
    assert per_kind["build"] > even["build"] and per_kind["fix"] < even["fix"]
    builds = Counter(r.family for r in picked if r.kind == "build")
    fixes = Counter(r.family for r in picked if r.kind == "fix")
    assert len(builds) == len(train_families()) and max(builds.values()) - min(builds.values()) <= 3
    assert sum(builds.values()) >= 2 * sum(fixes.values())  # three of each family for every one, less the cut-off


def test_selection_is_deterministic_per_seed_and_counts_with_the_given_counter(rows):
    ids = lambda picked: [r.task_id for r in picked]  # noqa: E731
    assert ids(select_rows(rows, 60_000, seed=1)[0]) == ids(select_rows(rows, 60_000, seed=1)[0])
    assert ids(select_rows(rows, 60_000, seed=1)[0]) != ids(select_rows(rows, 60_000, seed=2)[0])
    one_token_texts = select_rows(rows, max_tokens=180, count=lambda text: 1)[0]
    assert len(one_token_texts) == 10  # 3 texts + 3 x 5 template tokens = 18 a row
    assert estimate_tokens("abcdefgh") == 2


def test_duplicates_are_dropped(rows):
    some = rows[:30]
    picked, duplicates = select_rows(some + some[:7], max_tokens=10**9)
    assert duplicates == 7 and len(picked) == 30
    assert len({message_key(r.messages()) for r in picked}) == 30


# 7. On disk, as `appwright train sft` reads it ----------------------------------------------

def test_a_written_dataset_loads_and_passes_the_train_split_check(rows, tmp_path):
    from datasets import load_from_disk

    from appwright.train.sft import check_splits

    picked, duplicates = select_rows(rows, max_tokens=30_000)
    stats = write_reference_dataset(picked, tmp_path / "sft", BANK, read=len(rows), duplicates=duplicates)
    ds = load_from_disk(str(tmp_path / "sft"))
    assert set(ds.column_names) == {"messages", "task_id", "trajectory_id", "model", "reward"}
    assert len(ds) == len(picked) == stats.rows and stats.read == len(rows)
    check_splits(list(ds["task_id"]), BANK)
    assert set(ds["model"]) == {"reference"} and set(ds["reward"]) == {1.0}
    assert [m["role"] for m in ds[0]["messages"]] == ["system", "user", "assistant"]
    assert ds[0]["messages"][2]["content"] == picked[0].answer
    assert read_stats(tmp_path / "sft").rows == len(picked)


# 8. The answers are good apps ---------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("task_id", ["build-notes-owner-search.p1", "fix-recipes-owner-innerhtml",
                                     "taste-notes-passwords"])
def test_a_parsed_answer_grades_good_without_a_browser(task_id, tmp_path):
    from appwright.tasks.graders import Grader

    task = BANK.get(task_id)
    parsed = parse_reply(reference_row(task).answer)
    for f in parsed.files:
        (tmp_path / f.path).write_text(f.content, encoding="utf-8")
    with Grader() as grader:
        grade = grader.grade(tmp_path, task, reply=parsed.text, browser=False)
    assert grade.good and grade.reward == 1.0, [c.evidence for c in grade.checks if not c.passed]


def test_the_command_takes_kind_weights_and_names_a_bad_one(tmp_path):
    from typer.testing import CliRunner

    from appwright.cli import app

    out = tmp_path / "data"
    bad = CliRunner().invoke(app, ["data", "references", "--out", str(out), "--weight", "bulid=3"])
    assert bad.exit_code == 2 and "got bulid: 3" in bad.output and not out.exists()
    bad = CliRunner().invoke(app, ["data", "references", "--out", str(out), "--weight", "build"])
    assert bad.exit_code == 2 and "write KIND=N" in bad.output and not out.exists()
    made = CliRunner().invoke(app, ["data", "references", "--out", str(out), "--max-tokens", "40000",
                                    "--weight", "build=4"])
    assert made.exit_code == 0, made.output
    counts = {k: int(n) for k, n in re.findall(r"(build|edit|fix|taste) (\d+)", made.output)}
    assert counts["build"] >= 3 * counts["fix"] and read_stats(out).rows == sum(counts.values())
