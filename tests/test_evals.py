"""appwright/evals: the statistics, metrics, task selection, rows, report escaping and CLI
errors (fast, no browser), and the whole pipeline on scripted models with real grading
(slow: Chromium). The report in a real browser is tests/test_evals_report_browser.py."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from appwright.evals.config import EvalConfig
from appwright.evals.metrics import compute_metrics
from appwright.evals.records import AttemptRow, append_row, drop_torn_tail, read_rows
from appwright.tasks.model import CheckResult, Grade
from appwright.evals.formatting import money, pct
from appwright.evals.report import console_table, render_html, write_report
from appwright.evals.select import select_tasks, tasks_from_file
from appwright.evals.stats import bootstrap, mean_t, pass_at_k, t_quantile, wilson
from appwright.tasks.bank import TaskBank, reference_files, start_files
from appwright.tasks.domains import domain
from appwright.tasks.reference import render
from conftest import ROOT

CLI = Path(sys.executable).parent / "appwright"
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def check(name: str, kind: str, passed: bool, required: bool = True, evidence: str = "seen") -> CheckResult:
    return CheckResult(name=name, kind=kind, passed=passed, required=required, weight=1.0, evidence=evidence)


def row(model="m", task="t1", sample=0, good=True, reward=None, checks=None, cost=0.01, kind="build",
        domain_="notes", prompt="a notes app", created="2026-12-01T00:00:00+00:00", **kw) -> AttemptRow:
    checks = checks if checks is not None else [check("schema", "schema", good), check("xss", "security", good)]
    if reward is None:
        reward = sum(c.passed for c in checks) / len(checks)
    fields = dict(created_at=created, task_id=task, kind=kind, domain=domain_, split="dev", prompt=prompt,
                  model=model, sample=sample, trajectory_id=f"{model}-{task}-{sample}", stop_reason="answered",
                  reward=reward, good=good, checks=checks, prompt_tokens=1000, completion_tokens=200, agent_s=30.0,
                  grade_s=5.0, cost_usd=cost, bundle=f"bundles/{model}/{task}/{sample}")
    return AttemptRow(**{**fields, **kw})


# -- statistics -------------------------------------------------------------------------------------

def test_wilson_matches_the_textbook_values():
    e = wilson(7, 10)  # Wilson 95%: 0.3968 .. 0.8922 (Newcombe 1998, table I style)
    assert (e.value, round(e.low, 4), round(e.high, 4)) == (0.7, 0.3968, 0.8922)
    zero, full = wilson(0, 10), wilson(10, 10)
    assert zero.low == 0 and round(zero.high, 4) == 0.2775  # never below 0, unlike the normal interval
    assert full.high == 1 and round(full.low, 4) == 0.7225
    assert wilson(0, 0).value is None and wilson(0, 0).low is None


def _pass_at_k_by_enumeration(n: int, c: int, k: int) -> float:
    outcomes = [True] * c + [False] * (n - c)
    draws = list(combinations(range(n), k))
    return sum(any(outcomes[i] for i in d) for d in draws) / len(draws)


def test_pass_at_k_is_the_unbiased_estimator():
    for n in range(1, 8):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert math.isclose(pass_at_k(n, c, k), _pass_at_k_by_enumeration(n, c, k)), (n, c, k)
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)  # pass@1 is the plain good rate
    with pytest.raises(ValueError, match="n >= k|k <= n"):
        pass_at_k(2, 1, 3)


def test_mean_t_interval_and_its_clipping():
    e = mean_t([1.0, 2.0, 3.0], low=None)  # mean 2, sd 1, t(2) = 4.303
    assert e.value == 2 and e.low == pytest.approx(2 - 4.303 / math.sqrt(3), abs=1e-6)
    assert mean_t([1.0, 2.0, 3.0]).low == 0  # counts, seconds and costs are never negative
    assert mean_t([0.2, 1.0], 0.0, 1.0).high == 1
    assert mean_t([5.0]).value == 5 and mean_t([5.0]).low is None
    assert t_quantile(40) == pytest.approx(2.021, abs=1e-3) and t_quantile(200) == pytest.approx(1.972, abs=1e-3)


def test_bootstrap_is_repeatable_and_open_ended_for_a_ratio_over_zero():
    items = [1.0, 2.0, 3.0, 4.0, 10.0]
    a, b = bootstrap(items, lambda xs: sum(xs) / len(xs)), bootstrap(items, lambda xs: sum(xs) / len(xs))
    assert a == b and a.low < a.value < a.high
    rare = [True] + [False] * 9  # most resamples have no good app: the cost per good app is unbounded
    e = bootstrap(rare, lambda xs: 1.0 / sum(xs) if sum(xs) else None)
    assert e.value == 1.0 and e.high is None


# -- metrics ----------------------------------------------------------------------------------------

def test_secure_rate_counts_functional_apps_with_security_checks_only():
    rows = [
        row(task="a", checks=[check("schema", "schema", True), check("xss", "security", True),
                              check("iso", "isolation", True)]),
        row(task="b", good=False, checks=[check("schema", "schema", True), check("xss", "security", False)]),
        # an optional security check counts too: every one must pass to be secure
        row(task="c", good=True, checks=[check("ui", "ui", True), check("sec", "security", False, required=False)]),
        row(task="d", good=False, checks=[check("schema", "schema", False), check("xss", "security", False)]),
        row(task="e", good=True, checks=[check("api", "api", True)]),  # functional, nothing to be secure about
        row(task="f", good=False, checks=[check("taste", "taste", False)]),  # no functional check at all
    ]
    m = compute_metrics(rows).overall[0]
    assert (m.functional, m.secure_eligible, m.secure) == (4, 3, 1)
    assert m.secure_rate.value == pytest.approx(1 / 3) and m.secure_rate.method == "wilson"
    assert m.functional_rate.value == pytest.approx(4 / 6)


def test_good_rate_reward_cost_per_good_and_groups():
    rows = [row(task="a", good=True, cost=0.02, kind="build"), row(task="b", good=False, cost=0.04, kind="fix"),
            row(task="c", good=True, cost=0.03, kind="fix", domain_=None)]
    metrics = compute_metrics(rows)
    m = metrics.overall[0]
    assert m.good_rate.value == pytest.approx(2 / 3) and m.mean_reward.value == pytest.approx(
        sum(r.reward for r in rows) / 3)
    assert m.cost_per_good.value == pytest.approx(0.09 / 2)  # failures are paid for too
    assert m.cost_per_task.value == pytest.approx(0.03) and m.tokens_per_task.value == 1200
    assert {(g.name, g.attempts) for g in metrics.by_kind} == {("build", 1), ("fix", 2)}
    assert {g.name for g in metrics.by_domain} == {"notes", "(none)"}
    assert metrics.k == 1 and m.pass_at_k is None


def test_cost_per_good_app_with_no_good_app_is_na_not_a_division_by_zero():
    rows = [row(model="bad", task=t, good=False) for t in "abc"] + [row(model="ok", task="a")]
    metrics = compute_metrics(rows)
    bad = next(m for m in metrics.overall if m.model == "bad")
    assert bad.cost_per_good.value is None and bad.good_rate.value == 0
    html = render_html(metrics, rows)
    assert "n/a: no good app" in html  # the bar chart
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(console_table(metrics))
    assert "n/a" in console.export_text()
    assert money(None) == "n/a" and money(0) == "$0" and money(0.004344) == "$0.00434"


def _auto_row(task, verdicts, costs, good):
    """An `auto` row whose rungs ("own", then "big") were accepted or not as `verdicts` says."""
    from appwright.evals.records import RungRecord

    rungs = [RungRecord(model=m, trajectory_id=f"{m}-{task}", reused=True, accepted=ok, problems=[] if ok else ["x"],
                        prompt_tokens=10, completion_tokens=10, agent_s=1.0, cost_usd=c)
             for m, ok, c in zip(["own", "big"], verdicts, costs)]
    return row("auto", task, good=good, cost=sum(costs), rungs=rungs)


@pytest.mark.parametrize("big_cost, pays", [(0.05, False), (0.01, True)])
def test_the_ladder_says_where_auto_stopped_and_whether_climbing_paid(big_cost, pays):
    from appwright.evals.ladder import ladder
    from appwright.evals.report import markdown_tables

    rows = [_auto_row("t1", [True], [0.01], True),  # the first rung's app passes and is good
            _auto_row("t2", [False, True], [0.01, big_cost], True),  # the second rung's makes it good
            _auto_row("t3", [False, False], [0.01, big_cost], False),  # none passes its checks
            _auto_row("t4", [True], [0.01], False)]  # accepted, but the graders find it wanting
    lad = ladder(rows)
    first, second = lad.rungs
    assert (first.model, first.reached, first.accepted, first.good) == ("own", 4, 2, 1)
    assert (second.model, second.reached, second.accepted, second.good) == ("big", 2, 1, 1)
    assert (lad.unaccepted, lad.unaccepted_good, lad.escalated, lad.escalated_good) == (1, 0, 2, 1)
    assert lad.escalation_cost == pytest.approx(2 * big_cost) and lad.pays is pays
    # the verdict is the cascade's cost per good app against the first rung's own: C1/G1 = $0.04
    cascade = compute_metrics(rows).overall[0].cost_per_good.value
    assert (cascade < first.cost_per_good) is pays
    md = markdown_tables(compute_metrics(rows), rows)
    assert "Where `auto` stopped (4 attempts)" in md and "| 2 | big | 2 | 1 | 1 |" in md
    assert ("The escalations paid" if pays else "The escalations did not pay") in md
    assert '<section id="ladder-auto"><h2>Where auto stopped</h2>' in render_html(compute_metrics(rows), rows)
    assert ladder([row("own", "t1")]) is None and "stopped" not in markdown_tables(compute_metrics([row()]), [row()])


def test_pass_at_k_over_tasks_with_k_samples():
    # task a: 1 of 3 good; task b: 0 of 3; task c: only 2 samples (left out of pass@3)
    rows = [row(task="a", sample=s, good=s == 0) for s in range(3)] + \
           [row(task="b", sample=s, good=False) for s in range(3)] + \
           [row(task="c", sample=s, good=True) for s in range(2)]
    metrics = compute_metrics(rows)
    m = metrics.overall[0]
    assert metrics.k == 3 and m.pass_at_k.n == 2
    assert m.pass_at_k.value == pytest.approx((pass_at_k(3, 1, 3) + pass_at_k(3, 0, 3)) / 2)
    assert m.good_rate.value == pytest.approx(3 / 8)


def test_metrics_do_not_depend_on_row_order():
    rows = [row(task=t, sample=s, good=(i % 3 == 0), cost=0.01 * i) for i, (t, s) in
            enumerate([(t, s) for t in "abcd" for s in range(2)])]
    assert compute_metrics(rows) == compute_metrics(list(reversed(rows)))


# -- task selection, config, rows -----------------------------------------------------------------------

def test_limit_spreads_over_kinds_and_domains_deterministically():
    bank = TaskBank.default()
    picked = select_tasks(bank, "dev", ("build", "edit", "fix", "taste"), 12)
    assert Counter(t.kind for t in picked) == {"build": 3, "edit": 3, "fix": 3, "taste": 3}
    dev_domains = {t.domain for t in bank.select(split="dev")}
    for kind in ("build", "fix"):
        assert {t.domain for t in picked if t.kind == kind} == dev_domains  # each kind covers each domain
    assert [t.id for t in picked] == [t.id for t in select_tasks(bank, "dev", ("build", "edit", "fix", "taste"), 12)]
    assert len({t.id for t in picked}) == 12 and all(t.split == "dev" for t in picked)
    # kinds in the order given; a kind with fewer tasks than its share runs out and the rest fill in
    assert [t.kind for t in select_tasks(bank, "dev", ("taste", "build"), 4)] == ["taste", "build", "taste", "build"]
    taste = len(bank.select(split="dev", kind="taste"))
    many = select_tasks(bank, "dev", ("taste", "build"), taste * 3)
    assert Counter(t.kind for t in many) == {"taste": taste, "build": taste * 2}
    assert len(select_tasks(bank, "dev", ("taste",))) == taste


def test_the_frozen_dev40_file_names_the_published_tasks_in_their_order(tmp_path):
    bank = TaskBank.default()
    frozen = tasks_from_file(bank, ROOT / "docs" / "results" / "dev40.txt")
    published = list(dict.fromkeys(r.task_id for r in read_rows(ROOT / "docs" / "results" / "eval-05b-dev40" / "results.jsonl")))
    assert [t.id for t in frozen] == published and len(frozen) == 40
    assert Counter(t.kind for t in frozen) == {"build": 10, "edit": 10, "fix": 10, "taste": 10}
    for text, message in [("", "names no task"), ("# only a comment\n", "names no task"),
                          (f"{published[0]}\n{published[0]}\n", "more than once"),
                          (f"{published[0]}\nno-such-task\n", "no such task no-such-task")]:
        (tmp_path / "ids.txt").write_text(text)
        with pytest.raises(ValueError, match=message):
            tasks_from_file(bank, tmp_path / "ids.txt")
    with pytest.raises(ValueError, match="cannot read"):
        tasks_from_file(bank, tmp_path / "missing.txt")


def test_the_frozen_test40_file_names_40_test_tasks_of_every_kind():
    frozen = tasks_from_file(TaskBank.default(), ROOT / "docs" / "results" / "test40.txt")
    assert len(frozen) == 40 and {t.split for t in frozen} == {"test"}
    assert Counter(t.kind for t in frozen) == {"build": 10, "edit": 10, "fix": 10, "taste": 10}


def test_config_rejects_bad_values_naming_the_flag():
    base = dict(models=("m",), split="dev", out=Path("x"))
    for change, flag in [({"split": "prod"}, "--split"), ({"limit": 0}, "--limit"), ({"samples": 0}, "--samples"),
                         ({"workers": 0}, "--workers"), ({"kinds": ("build", "bake")}, "--kinds"),
                         ({"models": ()}, "--models"), ({"models": ("m", "m")}, "--models"),
                         ({"protocol": "chat"}, "--protocol")]:
        with pytest.raises(ValueError, match=flag):
            EvalConfig(**{**base, **change})


def test_rows_round_trip_and_a_torn_last_line_is_cut(tmp_path):
    path = tmp_path / "results.jsonl"
    first, second = row(task="a"), row(task="b", prompt=XSS)
    append_row(path, first)
    append_row(path, second)
    assert read_rows(path) == [first, second]
    with open(path, "a") as f:
        f.write('{"format": 1, "task_id": "c", "mod')  # a crash in the middle of a write
    assert read_rows(path) == [first, second]
    assert drop_torn_tail(path) and not drop_torn_tail(path)
    append_row(path, row(task="c"))
    assert [r.task_id for r in read_rows(path)] == ["a", "b", "c"]
    path.write_text(path.read_text().replace('"task_id":"b"', '"task_id":"a"'))  # a repeated key: first wins
    assert [r.task_id for r in read_rows(path)] == ["a", "c"]
    path.write_text("not json\n" + path.read_text())
    with pytest.raises(ValueError, match="results.jsonl:1"):
        read_rows(path)


def test_report_escapes_every_string_from_the_data(tmp_path):
    rows = [row(model='m<u>"x', task="t<i>", good=False, prompt=XSS, domain_="d<svg onload=alert(1)>",
                checks=[check("schema", "schema", False, evidence=XSS)], error="</div><script>boom()</script>")]
    for r in rows:
        append_row(tmp_path / "results.jsonl", r)
    metrics, path = write_report(tmp_path)
    html = path.read_text()
    assert "<script" not in html and "<img" not in html and "<svg onload" not in html and "<u>" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html and "m&lt;u&gt;&quot;x" in html
    # self-contained: nothing is fetched (the only URL is the SVG namespace, which is never loaded)
    assert not re.findall(r"<[^>]*\s(?:src|href)=", html) and "@import" not in html and "url(" not in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    assert json.loads((tmp_path / "metrics.json").read_text())["models"] == ['m<u>"x']


def test_the_report_says_where_the_attempts_ran_and_warns_when_machines_were_mixed(tmp_path):
    from appwright.models.machine import machine

    here = machine()
    assert here.startswith(Path("/proc/cpuinfo").read_text().split("model name", 1)[1].split(":", 1)[1]
                           .split("\n", 1)[0].strip())
    assert re.search(r" x\d+ · llama-cpp-python [\d.]+ \(\w+", here)  # cores, the build, the features it uses
    old = row(task="a").model_dump(exclude={"machine"}) | {"format": 3}  # a row from before it was kept
    (tmp_path / "results.jsonl").write_text(json.dumps(old) + "\n")
    append_row(tmp_path / "results.jsonl", row(task="b", machine=here))
    metrics, path = write_report(tmp_path)
    assert [r.machine for r in read_rows(tmp_path / "results.jsonl")] == [None, here]
    assert metrics.machines == {"(not recorded)": 1, here: 1}
    md = (tmp_path / "report.md").read_text()
    assert f"ran on (not recorded) (1); {here} (1)" in md and "more than one machine" not in md
    append_row(tmp_path / "results.jsonl", row(task="c", machine="Other CPU x16 · llama-cpp-python 0.3.36 (AVX2)"))
    write_report(tmp_path)
    assert "more than one machine" in (tmp_path / "report.md").read_text() and "more than one machine" in (
        path.read_text())


# -- the CLI's bad input ------------------------------------------------------------------------------

def _env(tmp_path: Path, replies: dict[str, list[str]] | None = None) -> dict[str, str]:
    toml = []
    for name, texts in (replies or {}).items():
        (tmp_path / f"{name}.json").write_text(json.dumps(texts))
        toml.append(f'[models.{name}]\nbackend = "scripted"\nlocation = "{tmp_path / (name + ".json")}"\n'
                    f'context_length = 32768\n[models.{name}.price]\ninput_per_m = 1.0\noutput_per_m = 4.0\n')
    (tmp_path / "models.toml").write_text("\n".join(toml))
    return {"APPWRIGHT_MODELS_TOML": str(tmp_path / "models.toml"), "APPWRIGHT_HOME": str(tmp_path / "home"),
            "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200"}


def _cli(env: dict[str, str], *args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_bad_cli_input_is_one_line_and_exit_code_2(tmp_path):
    env = _env(tmp_path, {"fake": []})
    base = ["eval", "run", "--out", str(tmp_path / "out")]
    cases = [(["--models", "nope"], "unknown model 'nope'"),
             (["--models", "fake", "--split", "prod"], "--split: expected train, dev, test, people; got 'prod'"),
             (["--models", "fake", "--limit", "0"], "--limit: must be at least 1"),
             (["--models", "fake", "--samples", "0"], "--samples: must be at least 1"),
             (["--models", "fake", "--kinds", "build,bake"], "--kinds: expected some of"),
             (["--models", "fake", "--max-steps", "0"], "must be positive"),
             (["--models", "fake", "--tasks", str(tmp_path / "none.txt")], "--tasks: cannot read"),
             (["--models", "fake", "--tasks", "docs/results/dev40.txt", "--limit", "3"], "leave out --limit")]
    for args, message in cases:
        r = _cli(env, *base, *args)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr + r.stdout, (args, r.stderr)
    assert not (tmp_path / "out").exists()  # nothing started
    r = _cli(env, "eval", "report", str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "no results.jsonl here" in r.stderr and "Traceback" not in r.stderr
    r = _cli(env, "eval", "regrade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "v4"))
    assert r.returncode == 2 and "no results.jsonl here" in r.stderr and "Traceback" not in r.stderr
    append_row(tmp_path / "run" / "results.jsonl", row())
    r = _cli(env, "eval", "regrade", str(tmp_path / "run"), "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and "never overwritten" in r.stderr and "Traceback" not in r.stderr


# -- the whole pipeline -------------------------------------------------------------------------------

def _files_reply(files: dict[str, str], prose: str) -> str:
    return "".join(f'<file path="{p}">\n{c}\n</file>\n' for p, c in files.items()) + prose


def good_reply(task) -> str:
    return _files_reply(reference_files(task), task.reference_reply or "Done: the app is ready.")


def flawed_reply(task) -> str:
    """The reference app with records rendered through innerHTML (stored XSS), and no reason given."""
    return _files_reply(render(domain(task.domain), task.features, flaw="innerhtml"), "Done.")


@pytest.mark.slow  # 7 agent runs with check_app and 7 grades in Chromium
def test_eval_pipeline_metrics_resume_and_report(tmp_path):
    from appwright.models.machine import machine

    tasks = select_tasks(TaskBank.default(), "dev", ("build", "fix", "taste"), 3)
    assert [t.kind for t in tasks] == ["build", "fix", "taste"]
    env = _env(tmp_path, {"ref": [good_reply(t) for t in tasks], "flawed": [flawed_reply(t) for t in tasks]})
    out = tmp_path / "eval"
    args = ["eval", "run", "--models", "ref,flawed", "--split", "dev", "--kinds", "build,fix,taste", "--limit", "3",
            "--workers", "2", "--backend-workers", "3", "--max-steps", "1", "--out", str(out)]

    # 1. The run: one row per attempt, one trajectory each, the bundles kept.
    r = _cli(env, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "capped at 1" in r.stdout  # the scripted backend replays in order
    rows = read_rows(out / "results.jsonl")
    assert sorted(x.key for x in rows) == sorted((t.id, m, 0) for t in tasks for m in ("ref", "flawed"))
    ref = {x.task_id: x for x in rows if x.model == "ref"}
    flawed = {x.task_id: x for x in rows if x.model == "flawed"}
    assert all(x.good and x.reward == 1.0 for x in ref.values()), [(x.task_id, x.checks) for x in ref.values()]
    assert not any(x.good for x in flawed.values())
    assert all(not c.passed for x in flawed.values() for c in x.checks if c.name == "xss")
    assert all(x.cost_usd > 0 and x.cost_usd == pytest.approx((x.prompt_tokens * 1.0 + x.completion_tokens * 4.0)
                                                              / 1e6) for x in rows)
    trajectories = [json.loads(line) for line in (out / "trajectories.jsonl").read_text().splitlines()]
    assert sorted(t["id"] for t in trajectories) == sorted(x.trajectory_id for x in rows)
    assert all(t["grade"]["reward"] == next(x.reward for x in rows if x.trajectory_id == t["id"])
               for t in trajectories)
    assert all((out / x.bundle / "app.json").is_file() for x in rows)
    assert {x.machine for x in rows} == {machine()}

    # 2. The numbers in metrics.json and the report, against the rows.
    metrics = json.loads((out / "metrics.json").read_text())
    by_model = {m["model"]: m for m in metrics["overall"]}
    for name, mine in (("ref", list(ref.values())), ("flawed", list(flawed.values()))):
        m = by_model[name]
        assert m["attempts"] == 3 and m["good_rate"]["value"] == pytest.approx(sum(x.good for x in mine) / 3)
        assert m["mean_reward"]["value"] == pytest.approx(sum(x.reward for x in mine) / 3, abs=1e-6)
        functional = [x for x in mine if all(c.passed for c in x.checks if c.kind in ("schema", "api", "ui")
                                             and c.required)]
        eligible = [x for x in functional if any(c.kind in ("security", "isolation") for c in x.checks)]
        secure = [x for x in eligible if all(c.passed for c in x.checks if c.kind in ("security", "isolation"))]
        assert (m["secure_eligible"], m["secure"]) == (len(eligible), len(secure))
    assert by_model["ref"]["cost_per_good"]["value"] == pytest.approx(sum(x.cost_usd for x in ref.values()) / 3,
                                                                      abs=1e-9)
    assert by_model["ref"]["secure_rate"]["value"] == 1.0
    assert by_model["flawed"]["secure_eligible"] > 0 and by_model["flawed"]["secure_rate"]["value"] == 0.0
    assert by_model["flawed"]["cost_per_good"]["value"] is None
    html = (out / "report.html").read_text()
    assert "n/a: no good app" in html and "ref" in html and "flawed" in html and "<script" not in html

    # 3. `eval report` rebuilds the same metrics and page from the rows alone.
    md = (out / "report.md").read_text()
    assert f"| good rate (pass@1) | {pct(by_model['ref']['good_rate']['value'])} [" in md
    reward_row = next(line for line in md.splitlines() if line.startswith("| mean reward |"))
    assert reward_row.endswith(f"| {by_model['flawed']['mean_reward']['value']:.3f} ["
                               f"{by_model['flawed']['mean_reward']['low']:.3f}, "
                               f"{by_model['flawed']['mean_reward']['high']:.3f}] |"), reward_row
    flawed_fix = next(g for g in metrics["by_kind"] if g["model"] == "flawed" and g["name"] == "fix")
    assert f"| fix | 1/1 · 1.00 · 100% | {flawed_fix['good']}/1 · {flawed_fix['mean_reward']['value']:.2f}" in md
    before = {f: (out / f).read_bytes() for f in ("metrics.json", "report.html", "report.md")}
    for f in before:
        (out / f).unlink()
    r = _cli(env, "eval", "report", str(out))
    assert r.returncode == 0, r.stderr
    assert {f: (out / f).read_bytes() for f in before} == before

    # 4. A rerun does no new attempt (the scripted models would have no replies to give).
    results_before, traj_before = (out / "results.jsonl").read_bytes(), (out / "trajectories.jsonl").read_bytes()
    r = _cli(env, *args)
    assert r.returncode == 0 and "0 attempt(s) run, 6 already done" in r.stdout, r.stdout + r.stderr
    assert (out / "results.jsonl").read_bytes() == results_before
    assert (out / "trajectories.jsonl").read_bytes() == traj_before

    # 5. An attempt lost in a crash (its row never written) is the only one run again.
    lines = results_before.decode().splitlines(keepends=True)
    lost = AttemptRow.model_validate_json(lines[-1])
    (out / "results.jsonl").write_text("".join(lines[:-1]) + lines[-1][:40])  # torn mid-line
    task = next(t for t in tasks if t.id == lost.task_id)
    (tmp_path / f"{lost.model}.json").write_text(json.dumps([good_reply(task) if lost.model == "ref"
                                                             else flawed_reply(task)]))
    r = _cli(env, *args)
    assert r.returncode == 0 and "1 attempt(s) run, 5 already done" in r.stdout, r.stdout + r.stderr
    again = read_rows(out / "results.jsonl")
    assert len(again) == 6 and again[-1].key == lost.key and again[-1].good == lost.good
    assert again[-1].trajectory_id != lost.trajectory_id


@pytest.mark.slow  # 2 agent runs with check_app, 2 security probes and 2 grades in Chromium
@pytest.mark.timeout(400)
def test_auto_climbs_past_a_flawed_app_reusing_the_named_models_attempt(tmp_path):
    [task] = select_tasks(TaskBank.default(), "dev", ("build",), 1)
    env = _env(tmp_path, {"flawed": [flawed_reply(task)], "ref": [good_reply(task)]})
    models = (tmp_path / "models.toml").read_text().replace(  # ref is the dearer rung
        '[models.ref.price]\ninput_per_m = 1.0\noutput_per_m = 4.0', '[models.ref.price]\ninput_per_m = 10.0\noutput_per_m = 40.0')
    (tmp_path / "models.toml").write_text(models)
    (tmp_path / "gateway.toml").write_text('auto = ["ref", "flawed"]\n')
    env["APPWRIGHT_GATEWAY_TOML"] = str(tmp_path / "gateway.toml")
    out = tmp_path / "eval"
    args = ["eval", "run", "--models", "flawed,auto", "--split", "dev", "--kinds", "build", "--limit", "1",
            "--max-steps", "1", "--out", str(out)]
    r = _cli(env, *args, timeout=380)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "auto: flawed -> ref" in r.stdout
    named, auto = sorted(read_rows(out / "results.jsonl"), key=lambda x: x.model != "flawed")
    assert (named.model, named.good, auto.model, auto.good) == ("flawed", False, "auto", True)
    first, second = auto.rungs
    assert (first.model, first.reused, first.accepted) == ("flawed", True, False)
    assert first.trajectory_id == named.trajectory_id and any("stored XSS" in p for p in first.problems)
    assert (second.model, second.reused, second.accepted) == ("ref", False, True)
    assert auto.trajectory_id == second.trajectory_id and (out / auto.bundle / "app.json").is_file()
    assert auto.cost_usd == pytest.approx(first.cost_usd + second.cost_usd) and second.cost_usd > 0
    assert auto.completion_tokens == first.completion_tokens + second.completion_tokens
    ids = [json.loads(line)["id"] for line in (out / "trajectories.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted([named.trajectory_id, second.trajectory_id])  # each attempt once
    metrics = json.loads((out / "metrics.json").read_text())
    assert [m["model"] for m in metrics["overall"]] == ["flawed", "auto"]
    r = _cli(env, *args)  # resumes: nothing left to run (the scripted models have no replies left)
    assert r.returncode == 0 and "0 attempt(s) run, 2 already done" in r.stdout, r.stdout + r.stderr


def test_docs_define_every_row_field_and_every_metric():
    from appwright.evals.metrics import GroupMetrics
    from appwright.evals.stats import Estimate

    docs = (Path(__file__).resolve().parent.parent / "docs" / "evals.md").read_text()
    for name in [*AttemptRow.model_fields, *Grade.model_fields, *Grade.model_computed_fields,
                 *CheckResult.model_fields]:
        assert f"`{name}`" in docs, f"docs/evals.md does not describe the row field {name!r}"
    for name, f in GroupMetrics.model_fields.items():
        if Estimate in (f.annotation, *getattr(f.annotation, "__args__", ())) or name == "total_cost":
            assert f"`{name}`" in docs, f"docs/evals.md has no glossary entry for the metric {name!r}"


def test_backend_workers_apply_to_http_backends_only():
    from appwright.models import ModelSpec

    config = EvalConfig(models=("a",), split="dev", out=Path("x"), backend_workers=4)
    http = ModelSpec(name="a", backend="openai", base_url="http://127.0.0.1:1/v1", model="m", context_length=8)
    local = ModelSpec(name="b", backend="llamacpp", location="/m.gguf", context_length=8)
    scripted = ModelSpec(name="c", backend="scripted", location="/r.json", context_length=8)
    assert [config.agent_threads(s) for s in (http, local, scripted)] == [4, 1, 1]


@pytest.mark.slow  # one grade in Chromium
def _writes(files: dict[str, str], kept_first: bool = False, ok: bool = True):
    """A step whose answer wrote these files through the agent's write_file tool."""
    from appwright.agent.parse import ToolCall
    from appwright.agent.tools import ToolResult
    from appwright.agent.trajectory import StepRecord, ToolStep

    return StepRecord(index=1, raw_text="", prompt_tokens=1, completion_tokens=1, latency_s=1.0, finish_reason="stop",
                      kept_first=kept_first, tool_calls=[
                          ToolStep(call=ToolCall(name="write_file", arguments={"path": p, "content": c}),
                                   result=ToolResult(ok=ok, output="written")) for p, c in files.items()])


def test_rebuild_replays_the_writes_that_landed_and_skips_a_repair_the_loop_put_back(tmp_path):
    from appwright.agent.parse import ToolCall
    from appwright.agent.tools import ToolResult
    from appwright.agent.trajectory import Trajectory, ToolStep
    from appwright.evals.regrade import rebuild

    task = TaskBank.default().get("fix-notes-owner-innerhtml")  # a fix: its start files come first
    edit = _writes({}).model_copy(update={"tool_calls": [ToolStep(
        call=ToolCall(name="edit_file", arguments={"path": "notes.txt", "search": "kept", "replace": "kept, edited"}),
        result=ToolResult(ok=True, output="edited"))]})
    traj = Trajectory(id="t", created_at="2026-12-06T00:00:00+00:00", task_id=task.id, prompt=task.prompt, model="m",
                      protocol="files", budget={}, steps=[
                          _writes({"notes.txt": "kept"}), _writes({"refused.txt": "x"}, ok=False),
                          _writes({"app.js": "broken"}, kept_first=True), edit])
    assert rebuild(task, traj, tmp_path / "app")
    assert (tmp_path / "app" / "notes.txt").read_text() == "kept, edited"
    assert not (tmp_path / "app" / "refused.txt").exists()
    assert (tmp_path / "app" / "app.js").read_text() == start_files(task)["app.js"]  # not the repair put back
    assert not rebuild(task, traj.model_copy(update={"steps": []}), tmp_path / "empty")


@pytest.mark.timeout(300)
def test_regrade_grades_the_kept_bundles_again_into_a_new_folder_and_resumes(tmp_path):
    """A run graded before a grader fix (its menu written "Moderate" was refused "moderate"):
    `eval regrade` grades the kept bundle again, says which verdict moved, leaves the source as it
    was, names the row whose bundle was not kept, and a rerun regrades nothing twice."""
    from appwright.agent.trajectory import Trajectory, append_jsonl
    from appwright.tasks.graders import GRADER_VERSION

    task = TaskBank.default().get("build-workouts-owner-filter")
    src = tmp_path / "run"
    kept = row(model="own", task=task.id, good=False, reward=0.4, grader_version="3", kind="build",
               domain_="workouts", prompt=task.prompt)
    bundle = src / kept.bundle
    bundle.mkdir(parents=True)
    for name, text in reference_files(task).items():
        for v in ("easy", "moderate", "hard"):
            text = text.replace(f'"{v}"', f'"{v.capitalize()}"').replace(f"<option>{v}<", f"<option>{v.capitalize()}<")
        (bundle / name).write_text(text)
    notes = TaskBank.default().get("build-notes-owner")
    rebuilt = row(model="own", task=notes.id, good=False, reward=0.5, prompt=notes.prompt)  # no bundle kept
    lost = row(model="own", task=notes.id, sample=1, good=True)  # no bundle, and a trajectory that wrote nothing
    outside = row(model="own", task=notes.id, sample=2, bundle="../../outside")  # a garbled row: nothing written
    for r in (kept, rebuilt, lost, outside):
        append_row(src / "results.jsonl", r)
        append_jsonl(src / "trajectories.jsonl", Trajectory(
            id=r.trajectory_id, created_at=r.created_at, task_id=r.task_id, prompt=r.prompt, model=r.model,
            protocol="files", budget={}, summary="Your app is ready.",
            steps=[_writes(reference_files(notes))] if r in (rebuilt, outside) else []))
    before = {p.name: p.read_bytes() for p in src.glob("*.jsonl")}

    env = _env(tmp_path)
    r = _cli(env, "eval", "regrade", str(src), "--out", str(tmp_path / "v4"))
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert "verdict changed: own build-workouts-owner-filter #0: bad -> good" in r.stdout
    assert "verdict changed: own build-notes-owner #0: bad -> good" in r.stdout
    assert "2 row(s) regraded (1 on files rebuilt from the trajectory)" in r.stdout
    assert "own build-notes-owner #1: its bundle was not kept and its trajectory wrote no file" in r.stderr
    assert "own build-notes-owner #2: its bundle path '../../outside' leads out of the folder" in r.stdout
    assert not (tmp_path.parent / "outside").exists()
    new, again = read_rows(tmp_path / "v4" / "results.jsonl")
    assert new.good and new.grader_version == GRADER_VERSION and new.cost_usd == kept.cost_usd
    assert again.good and (tmp_path / "v4" / again.bundle / "app.js").read_text() == reference_files(notes)["app.js"]
    assert (tmp_path / "v4" / new.bundle / "app.json").is_file()
    assert (tmp_path / "v4" / "report.html").is_file()
    assert {p.name: p.read_bytes() for p in src.glob("*.jsonl")} == before  # the source is only read
    r = _cli(env, "eval", "regrade", str(src), "--out", str(tmp_path / "v4"))
    assert "0 row(s) regraded (0 on files rebuilt from the trajectory), 2 already done" in r.stdout, r.stdout
    assert len(read_rows(tmp_path / "v4" / "results.jsonl")) == 2
