"""appwright/studio/export.py and scrub.py: the studio's log -> SFT rows, DPO pairs, fix tasks.

The log is built through the ORM on a temporary SQLite database, with real workspace bundles
(copies of examples/notes saved as versions) and real trajectories (run_agent on the
ScriptedBackend). Two people, two apps:

Ada's app A (v0 saved by hand, then turns t1..t11; "->" is the version a turn made):
  t1  v0 -> v1   not rated                 accepted (made a version); prompt has an email, phone, key
  t2  v1 -> v2   up                        accepted
  t3  v2 -> v3   down; then restore to v2  not accepted (rated down; also undone)
  t4  v2 -> v4   up                        accepted; pair t4 > t3 (different prompts)
  t5  v4 -> v5   flag F1 on v5             not accepted (flagged); F1 -> fix task (graded v5)
  t6  v5 -> v6   restore to v5 after it    not accepted (undone)
  t7  v5 -> -    up, answer only           accepted
  t8  v5 -> -    up, a test task's prompt  not exported (held out)
  t9  v5 -> -    up, stopped               not accepted (run stopped)
  t10 v1 -> -    up, t2's very messages    duplicate
  t11 v0 -> -    down                      no pair: nothing rated up from v0 in app A
Flag F2 on v0: never graded, nothing captured -> skipped. Flag F4 on v3: never graded, a failed request.
Bob's app B (w0 == v0: same files, same version id):
  b1  v0 -> w1   up                        accepted; pair b1 > b2 (same prompt)
  b2  v0 -> w2   down (w2 throws on load)  flag F3 on w2, with console errors -> fix task
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from appwright import cli
from appwright.agent.check_app import check_app
from appwright.agent.loop import run_agent
from appwright.models.scripted import ScriptedBackend
from appwright.studio.db import App, AppVersion, Database, Flag, GradeRow, Person, Rating, TrajectoryRow, Turn
from appwright.studio.export import (DRAFTED_UI, ExportError, export_pairs, export_sft, export_tasks, load_turns,
                                     open_log, verdict)
from appwright.studio.scrub import scrub, scrub_text
from appwright.tasks.bank import TaskBank, load_file, materialise_start
from appwright.tasks.generate import FAKE_KEY
from appwright.tasks.graders import Grader
from appwright.workspace import get, save
from appwright.workspace.store import read_blob

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
EMAIL, PHONE = "ada.lovelace@example.com", "+44 20 7946 0958"
HELD_OUT = TaskBank.default().select(split="test")[0].prompt
PLANTED = [EMAIL, PHONE, FAKE_KEY, "bob@corp.io", "415-555-2671"]


# 1. Scrubbing ---------------------------------------------------------------------------------

SCRUBBED = [
    ("mail ada@example.com today", "mail <email> today"),
    ("Ada.Lovelace+tag@mail.co.uk", "<email>"),
    ("mailto:bob@corp.io", "mailto:<email>"),
    ("call +1 415 555 2671", "call <phone>"),
    ("+44 20 7946 0958", "<phone>"),
    ("+33 6 12 34 56 78", "<phone>"),
    ("(415) 555-2671", "<phone>"),
    ("415-555-2671 or 415.555.2671", "<phone> or <phone>"),
    ("06 12 34 56 78", "<phone>"),
    ("020 7946 0958", "<phone>"),
    ('<a href="tel:+14155552671">', '<a href="tel:<phone>">'),
    (f"key {FAKE_KEY}", "key <secret>"),
    ("sk-proj-abcdefghijklmnopqrstuvwx", "<secret>"),
    ("AKIAIOSFODNN7EXAMPLE", "<secret>"),
    ("ghp_" + "a1" * 18, "<secret>"),
    ("xoxb-1234567890-abcdef", "<secret>"),
    ("AIza" + "B" * 35, "<secret>"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nab+/=\n-----END RSA PRIVATE KEY-----\nafter",
     "<secret>\nafter"),
    ('const api_key = "abcd1234efgh5678";', 'const api_key = "<secret>";'),
    ("PASSWORD: 'hunter2hunter2hunter2'", "PASSWORD: '<secret>'"),
]
KEPT = [
    "#ffffff", "#fff", "color: #b00020;", "v1.2.3", "version 10.0.19045", "2026-01-15", "2026-11-25T14:30:00Z",
    "2026-01-15T10:00:00.000000Z", "id 1234567890", "port 8000", "http://127.0.0.1:8000/", "192.168.100.1",
    "rgba(0, 0, 0, 0.5)", "margin: 0 0 1rem", "logo@2x.png", "lodash@4.17.21", "@media (max-width: 600px)",
    "123e4567-e89b-12d3-a456-426614174000", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "1,000,000", "12:30:45", "Math.round(sum * 100) / 100", "i+1", "1e+10", "01.02.2026", "01-02-2026 10:30",
    "0.5 0.25 0.125", "const token = form.token.value", 'password: "short"', "x = 3.14159265358979",
    "aw.auth.signup(email, password)", "sk-1", "task-list-item-container-wrapper", '"2026-01-15", 1700000000000',
    "max-width: 44rem; margin: 2rem auto; padding: 0 1rem;", "<email> <phone> <secret>",
]


@pytest.mark.parametrize("text, want", SCRUBBED)
def test_scrub_replaces_emails_phones_and_secrets(text, want):
    counts = Counter()
    assert scrub_text(text, counts) == want
    assert sum(counts.values()) == want.count("<")  - text.count("<")
    assert scrub_text(want) == want  # stable: scrubbing twice changes nothing more


@pytest.mark.parametrize("text", KEPT)
def test_scrub_leaves_code_dates_versions_and_ids_alone(text):
    assert scrub_text(text) == text


def test_scrub_keeps_the_platform_prompt_and_the_reference_apps_intact():
    """Training rows keep the exact system prompt the harness sends; app code keeps working."""
    from appwright.agent.prompt import system_prompt
    from appwright.agent.tools import TOOL_SPECS
    from appwright.tasks.domains import load_domains
    from appwright.tasks.reference import render

    texts = [system_prompt("files", TOOL_SPECS), system_prompt("tools", TOOL_SPECS)]
    texts += [t for d in load_domains() for t in render(d, [d.access[0], *d.features_available()[:2]]).values()]
    # (examples/team-board/index.html is left out: its placeholder "name@team.com" is an address)
    texts += [p.read_text() for p in (ROOT / "examples").rglob("*")
              if p.is_file() and p != ROOT / "examples" / "team-board" / "index.html"]
    assert len(texts) > 20
    for text in texts:
        assert scrub_text(text) == text


def test_scrub_walks_json_like_values_and_known_secrets():
    counts = Counter()
    value = {"to": ["a@b.io", 3, None, ("x", "call 415-555-2671")], "preview-key-KEY123": {"k": 1.5}}
    assert scrub(value, counts, known=("KEY123",)) == {"to": ["<email>", 3, None, ["x", "call <phone>"]],
                                                         "preview-key-<secret>": {"k": 1.5}}
    assert counts == {"email": 1, "phone": 1, "secret": 1}


# 2. A studio log ------------------------------------------------------------------------------


@dataclass
class Log:
    db: Database
    url: str
    data_dir: Path
    a: str = ""
    b: str = ""
    keys: list[str] = field(default_factory=list)
    turns: dict[str, int] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def apps_dir(self) -> Path:
        return self.data_dir / "apps"


def files_reply(bundle: Path, summary: str) -> str:
    blocks = [f'<file path="{p.name}">\n{p.read_text()}\n</file>\n' for p in sorted(bundle.iterdir()) if p.is_file()]
    return "".join(blocks) + summary


def trajectory(tmp: Path, prompt: str, reply: str) -> dict:
    traj = run_agent(prompt, tmp, ScriptedBackend([reply]), protocol="files",
                     checker=lambda root: check_app(root, browser=False))
    shutil.rmtree(tmp)
    return traj.model_dump(mode="json")


def edit(bundle: Path, rel: str, old: str, new: str) -> None:
    text = (bundle / rel).read_text()
    assert old in text
    (bundle / rel).write_text(text.replace(old, new, 1))


@pytest.fixture
def log(tmp_path) -> Log:
    data_dir = tmp_path / "studio"
    url = f"sqlite:///{data_dir / 'studio.db'}"
    lg = Log(Database.open(url), url, data_dir)
    at = iter(T0 + timedelta(minutes=i) for i in range(1000))
    datas: dict[str, dict] = {}
    scratch = iter(tmp_path / f"run{i}" for i in range(1000))

    with lg.db.session() as s:
        ada = Person(email="ada@example.com", password_hash="x")
        bob = Person(email="bob@example.com", password_hash="x")
        s.add_all([ada, bob])
        s.flush()
        a = App(owner_id=ada.id, name="Ada's notes", model="scripted")
        b = App(owner_id=bob.id, name="Bob's notes", model="scripted")
        s.add_all([a, b])
        s.flush()
        lg.a, lg.b, lg.keys = a.id, b.id, [a.preview_key, b.preview_key]
        people = {a.id: ada.id, b.id: bob.id}
        bundles = {app: lg.apps_dir / app for app in (a.id, b.id)}
        for bundle in bundles.values():
            shutil.copytree(ROOT / "examples" / "notes", bundle, ignore=shutil.ignore_patterns(".aw"))

        def version(app: str, name: str, message: str, source: str = "agent", turn: int | None = None) -> str:
            v = save(bundles[app], message, with_data=True)
            lg.versions[name] = v.id
            s.add(AppVersion(app_id=app, vid=v.id, source=source, message=message, turn_id=turn, created_at=next(at)))
            return v.id

        def turn(name: str, app: str, prompt: str, base: str | None, makes: str | None = None, rating: int = 0,
                 status: str = "done", data: dict | None = None, reply: str | None = None) -> Turn:
            t = Turn(app_id=app, person_id=people[app], prompt=prompt, model="scripted", status=status,
                     base=lg.versions.get(base), created_at=next(at))
            s.add(t)
            s.flush()
            lg.turns[name] = t.id
            data = data or trajectory(next(scratch), prompt, reply or files_reply(bundles[app], f"Done: {prompt}"))
            datas[name] = data
            s.add(TrajectoryRow(id=data["id"], turn_id=t.id, data=data, created_at=t.created_at))
            if makes:
                t.vid = version(app, makes, f"turn {name}", turn=t.id)
            if rating:
                s.add(Rating(turn_id=t.id, person_id=people[app], value=rating))
            return t

        def restore(app: str, to: str) -> None:
            s.add(AppVersion(app_id=app, vid=lg.versions[to], source="restore", message=f"restore {to}",
                             created_at=next(at)))

        A, B, bundle_a, bundle_b = a.id, b.id, bundles[a.id], bundles[b.id]
        version(A, "v0", "by hand", source="person")
        edit(bundle_a, "index.html", "</body>", "<!-- v1 --></body>")
        turn("t1", A, f"Build my notes app. Mail me at {EMAIL} or call {PHONE}; our key is {FAKE_KEY}", "v0", "v1")
        edit(bundle_a, "index.html", "<!-- v1 -->", "<!-- v2 -->")
        turn("t2", A, "Add a search box", "v1", "v2", rating=1)
        edit(bundle_a, "style.css", "}", "} .note { color: purple; }")
        turn("t3", A, "Make the notes purple", "v2", "v3", rating=-1)
        restore(A, "v2")
        css = (ROOT / "examples" / "notes" / "style.css").read_text()
        (bundle_a / "style.css").write_text(css + ".note { color: blue; }\n")
        turn("t4", A, "Make the notes blue please", "v2", "v4", rating=1)
        edit(bundle_a, "notes.js", "// Private notes",
             f'const STRIPE_KEY = "{FAKE_KEY}"; // support: bob@corp.io, 415-555-2671\n// Private notes')
        turn("t5", A, "Add tags", "v4", "v5")
        edit(bundle_a, "app.json", '"Private notes"', '"My notes"')
        turn("t6", A, "Rename it to My notes", "v5", "v6")
        restore(A, "v5")
        turn("t7", A, "How does sharing work?", "v5", rating=1, reply="Notes are private to each user.")
        turn("t8", A, HELD_OUT, "v5", rating=1)
        turn("t9", A, "Add a calendar", "v5", rating=1, status="stopped")
        turn("t10", A, "Add a search box", "v1", rating=1, data={**datas["t2"], "id": "t10-copy"})
        turn("t11", A, "Make it pink", "v0", rating=-1, reply="I made it pink.")
        a.head = lg.versions["v5"]

        version(B, "w0", "by hand", source="person")
        assert lg.versions["w0"] == lg.versions["v0"]  # the same files: the same version id
        edit(bundle_b, "index.html", "</body>", "<!-- b1 --></body>")
        turn("b1", B, "Add a footer", "w0", "w1", rating=1)
        shutil.copytree(ROOT / "examples" / "notes", bundle_b, ignore=shutil.ignore_patterns(".aw"),
                        dirs_exist_ok=True)
        edit(bundle_b, "notes.js", "const form", 'document.getElementById("no-such-thing").hidden = true;\nconst form')
        turn("b2", B, "Add a footer", "w0", "w2", rating=-1)
        b.head = lg.versions["w2"]

        # Flags, each with what the studio captured, and the grades of the security panel.
        preview = f"http://127.0.0.1:8801/apps/{a.preview_key}"
        flags = [
            ("F1", A, "v5", "t5", f"Tags vanish after a reload. Write to me at {EMAIL}.",
             f"{preview}/index.html", [f"TypeError: tags is undefined at {preview}/notes.js:12"],
             [{"method": "GET", "url": f"{preview}/_aw/api/entities/Tag", "status": 404}]),
            ("F2", A, "v0", None, "I don't like the font.", "", [], []),
            ("F3", B, "w2", "b2", "Nothing works since the footer change",
             f"http://127.0.0.1:8801/apps/{b.preview_key}/",
             ["Uncaught TypeError: Cannot set properties of null (setting 'hidden')"], []),
            ("F4", A, "v3", "t3", "Purple is unreadable", f"{preview}/", [],
             [{"method": "POST", "url": f"{preview}/_aw/api/entities/Note", "status": 500}]),
        ]
        for name, app, v, t, description, url, errors, failed in flags:
            f = Flag(app_id=app, person_id=people[app], vid=lg.versions[v], turn_id=lg.turns.get(t),
                     description=description, url=url, console_errors=errors, failed_requests=failed,
                     created_at=next(at))
            s.add(f)
            s.flush()
            lg.flags[name] = f.id

        def grade(app: str, v: str, results: dict[str, bool]) -> None:
            checks = [{"name": n, "kind": "x", "passed": p, "weight": 1.0, "required": True, "evidence": "",
                       "seconds": 0.0} for n, p in results.items()]
            s.add(GradeRow(app_id=app, vid=lg.versions[v], checks=checks, passed=sum(results.values()),
                           total=len(results), ok=all(results.values()), created_at=next(at)))

        grade(A, "v5", {"isolation-Note": False, "xss-Note": False, "secrets": False, "signup": False})  # older
        grade(A, "v5", {"isolation-Note": True, "xss-Note": True, "secrets": False, "signup": True})  # latest
        grade(B, "w2", {"isolation-Note": True, "xss-Note": True, "secrets": True, "signup": True})
    yield lg
    lg.db.close()


def version_files(lg: Log, app: str, v: str) -> dict[str, str]:
    bundle = lg.apps_dir / app
    return {rel: read_blob(bundle, sha).decode() for rel, sha in get(bundle, lg.versions[v]).files.items()}


def everything(path: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(path.rglob("*")) if p.is_file())


# 3. What counts as accepted --------------------------------------------------------------------


def test_each_turn_gets_the_verdict_the_rules_give(log):
    got = {name: verdict(t) for t in load_turns(log.db) for name, i in log.turns.items() if t.id == i}
    assert got == {"t1": "accepted", "t2": "accepted", "t3": "rated down", "t4": "accepted", "t5": "flagged",
                   "t6": "undone by a restore", "t7": "accepted", "t8": "accepted", "t9": "run stopped",
                   "t10": "accepted", "t11": "rated down", "b1": "accepted", "b2": "rated down"}
    undone = {name for t in load_turns(log.db) for name, i in log.turns.items() if t.id == i and t.undone}
    assert undone == {"t3", "t6"}


def test_sft_export_holds_the_accepted_turns_only_in_the_data_sft_format(log, tmp_path):
    from datasets import load_from_disk

    from appwright.train.data import read_stats, sft_messages
    from appwright.agent.trajectory import Trajectory

    result = export_sft(log.db, tmp_path / "sft", log.url)
    rows = list(load_from_disk(str(tmp_path / "sft")))
    want = {"t1", "t2", "t4", "t7", "b1"}
    assert {r["task_id"] for r in rows} == {f"studio:turn-{log.turns[n]}" for n in want}
    assert result.written == len(rows) == 5
    assert result.left_out == {"rated down": 3, "flagged": 1, "undone by a restore": 1, "run stopped": 1,
                               "held out (a dev or test task's prompt)": 1, "duplicate": 1}
    assert set(rows[0]) == {"messages", "task_id", "trajectory_id", "model", "reward"}  # as `data sft` writes
    with log.db.session() as s:
        t2 = Trajectory.model_validate(s.query(TrajectoryRow).filter_by(turn_id=log.turns["t2"]).one().data)
    row = next(r for r in rows if r["task_id"] == f"studio:turn-{log.turns['t2']}")
    assert row["messages"] == [{"role": m.role, "content": m.content} for m in sft_messages(t2)]
    assert row["trajectory_id"] == t2.id and row["model"] == "scripted" and row["reward"] == 1.0
    stats = read_stats(tmp_path / "sft")
    assert (stats.rows, stats.tasks, stats.dropped_duplicate, stats.dropped_split) == (5, 2, 1, 1)


def test_sft_export_scrubs_what_people_typed(log, tmp_path):
    export_sft(log.db, tmp_path / "sft", log.url)
    text = everything(tmp_path / "sft")
    assert not any(p in text for p in PLANTED)
    assert "Mail me at <email> or call <phone>; our key is <secret>" in text


def test_pairs_come_from_one_app_and_one_base_version(log, tmp_path):
    result = export_pairs(log.db, tmp_path / "pairs.jsonl")
    pairs = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    got = {(p["chosen_turn"], p["rejected_turn"], p["same_prompt"]) for p in pairs}
    t = log.turns
    assert got == {(t["t4"], t["t3"], False), (t["b1"], t["b2"], True)}
    assert result.written == 2
    for p in pairs:
        assert [m["role"] for m in p["prompt"]] == ["system", "user"]
        assert [m["role"] for m in p["chosen"]] == [m["role"] for m in p["rejected"]] == ["assistant"]
        assert p["chosen"] != p["rejected"] and p["format"] == 1
    by = {p["chosen_turn"]: p for p in pairs}
    assert by[t["t4"]]["prompt"][1]["content"].endswith("Make the notes blue please")
    assert by[t["t4"]]["chosen"][0]["content"].endswith("Done: Make the notes blue please")
    assert by[t["t4"]]["rejected"][0]["content"].endswith("Done: Make the notes purple")


def test_flags_become_fix_tasks_the_bank_loads_starting_from_the_flagged_version(log, tmp_path):
    result = export_tasks(log.db, log.apps_dir, tmp_path / "tasks")
    paths = sorted((tmp_path / "tasks").glob("*.yaml"))
    tasks = {t.id: t for p in paths for t in load_file(p)}
    TaskBank(list(tasks.values()))  # unique ids, all valid
    f = log.flags
    assert set(tasks) == {f"fix-studio-{log.a}-{f['F1']}", f"fix-studio-{log.b}-{f['F3']}",
                          f"fix-studio-{log.a}-{f['F4']}"}
    assert result.written == 3 and result.left_out == {"nothing to check": 1}
    assert f"flag {f['F2']} " in result.notes[0]

    f1, f3, f4 = (tasks[f"fix-studio-{app}-{f[n]}"] for app, n in ((log.a, "F1"), (log.b, "F3"), (log.a, "F4")))
    assert all(t.kind == "fix" and t.split == "train" for t in tasks.values())
    # Regressions: the probe's checks that passed in the latest grade of that version.
    assert [c.name for c in f1.checks] == ["isolation-Note", "xss-Note", "signup", DRAFTED_UI]
    assert [c.name for c in f3.checks] == ["isolation-Note", "xss-Note", "secrets", "signup", DRAFTED_UI]
    assert [c.name for c in f4.checks] == [DRAFTED_UI]
    ui = f1.checks[-1]
    assert ui.kind == "ui" and ui.steps == [] and ui.user == "owner"
    # The start bundle is the flagged version, scrubbed.
    for task, app, v in ((f1, log.a, "v5"), (f3, log.b, "w2"), (f4, log.a, "v3")):
        start = materialise_start(task, tmp_path / task.id)
        files = {p.name: p.read_text() for p in start.iterdir()}
        assert files == {rel: scrub_text(text) for rel, text in version_files(log, app, v).items()}
    assert version_files(log, log.a, "v5")["notes.js"] != f1.start.files["notes.js"]  # there was something to scrub
    # The prompt: the description and the evidence, preview URLs as paths in the app.
    assert f1.prompt.startswith("Fix this bug a user reported: Tags vanish after a reload. Write to me at <email>.")
    assert "- page: /index.html" in f1.prompt and "TypeError: tags is undefined at /notes.js:12" in f1.prompt
    assert "- GET /_aw/api/entities/Tag -> 404" in f1.prompt
    # Comments say where the task came from and why the checks are what they are.
    header = paths[0].read_text().split("\nid:")[0]
    assert header.startswith("# A bug flagged in the studio")
    f4_text = next(p for p in paths if p.stem == f4.id).read_text()
    assert "never graded" in f4_text.split("\nid:")[0]


def test_nothing_planted_survives_any_export(log, tmp_path):
    out = tmp_path / "out"
    export_sft(log.db, out / "sft", log.url)
    export_pairs(log.db, out / "pairs.jsonl")
    export_tasks(log.db, log.apps_dir, out / "tasks")
    text = everything(out)
    for planted in PLANTED + log.keys:
        assert planted not in text, planted
    assert "<email>" in text and "<phone>" in text and "<secret>" in text


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_fix_tasks_regressions_pass_on_the_flagged_bundle_and_the_drafted_check_finds_the_bug(log, tmp_path):
    export_tasks(log.db, log.apps_dir, tmp_path / "tasks")
    tasks = {t.id: t for p in (tmp_path / "tasks").glob("*.yaml") for t in load_file(p)}
    f1, f3 = tasks[f"fix-studio-{log.a}-{log.flags['F1']}"], tasks[f"fix-studio-{log.b}-{log.flags['F3']}"]
    with Grader() as grader:
        g1 = grader.grade(materialise_start(f1, tmp_path / "f1"), f1)
        g3 = grader.grade(materialise_start(f3, tmp_path / "f3"), f3)
    assert all(c.passed for c in g1.checks), [(c.name, c.evidence) for c in g1.checks if not c.passed]
    failed = {c.name: c.evidence for c in g3.checks if not c.passed}
    assert set(failed) == {DRAFTED_UI} and "JavaScript error" in failed[DRAFTED_UI]  # w2 throws on load


# 4. Errors and the command ---------------------------------------------------------------------


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli.app, ["data", "export", *args], env={"COLUMNS": "200", **(env or {})})


def test_the_command_writes_every_kind_and_prints_a_summary(log, tmp_path):
    out = tmp_path / "out"
    r = run("--sft", "--pairs", "--tasks", "--out", str(out), "--db", log.url, "--data-dir", str(log.data_dir))
    assert r.exit_code == 0, r.output
    assert "5 accepted turns" in r.output and "2 preference pairs" in r.output and "3 fix tasks" in r.output
    assert "nothing to check" in r.output and "scrubbed:" in r.output
    assert (out / "sft" / "dataset_info.json").is_file() and (out / "pairs.jsonl").is_file()
    assert len(list((out / "tasks").glob("*.yaml"))) == 3


def test_the_default_database_is_the_studios(log, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(log.data_dir, home / "studio")
    r = run("--tasks", "--out", str(tmp_path / "out"), env={"APPWRIGHT_HOME": str(home)})
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "out" / "tasks").glob("*.yaml"))) == 3


def test_a_missing_database_is_a_clear_error(tmp_path):
    r = run("--sft", "--out", str(tmp_path / "out"), "--db", f"sqlite:///{tmp_path / 'nope.db'}")
    assert r.exit_code == 2 and "no studio database at" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "nope.db").exists() and not (tmp_path / "out").exists()
    r = run("--sft", "--out", str(tmp_path / "out"), env={"APPWRIGHT_HOME": str(tmp_path / "empty-home")})
    assert r.exit_code == 2 and str(tmp_path / "empty-home" / "studio" / "studio.db") in r.output
    r = run("--out", str(tmp_path / "out"), "--db", f"sqlite:///{tmp_path / 'nope.db'}")
    assert r.exit_code == 2 and "--sft, --pairs and/or --tasks" in r.output
    (tmp_path / "junk.db").write_text("not a database")
    r = run("--sft", "--out", str(tmp_path / "out"), "--db", f"sqlite:///{tmp_path / 'junk.db'}")
    assert r.exit_code == 2 and "cannot read the studio's log" in r.output and "Traceback" not in r.output


def test_an_empty_log_and_a_log_without_flags_are_errors(tmp_path):
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    Database.open(url).close()
    r = run("--sft", "--tasks", "--out", str(tmp_path / "out"), "--db", url)
    assert r.exit_code == 1 and "holds no turns or flags yet" in r.output
    db = Database.open(url)
    with db.session() as s:
        p = Person(email="x@example.com", password_hash="x")
        s.add(p)
        s.flush()
        app = App(owner_id=p.id, name="x", model="m")
        s.add(app)
        s.flush()
        s.add(Turn(app_id=app.id, person_id=p.id, prompt="hi", model="m", status="failed"))
    with pytest.raises(ExportError, match="no flagged bugs"):
        export_tasks(db, tmp_path / "apps", tmp_path / "tasks")
    with pytest.raises(ExportError, match="no accepted turn .*1 no trajectory"):
        export_sft(db, tmp_path / "sft")
    db.close()
    r = run("--tasks", "--sft", "--out", str(tmp_path / "out"), "--db", url)
    assert r.exit_code == 1 and "no flagged bugs" in r.output and "no accepted turn" in r.output


def test_open_log_never_creates_a_database(tmp_path):
    with pytest.raises(ExportError, match="no studio database"):
        open_log(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ExportError, match="not a database URL"):
        open_log("nonsense")
    assert list(tmp_path.iterdir()) == []


def test_task_files_are_yaml_a_person_can_read(log, tmp_path):
    export_tasks(log.db, log.apps_dir, tmp_path / "tasks")
    text = (tmp_path / "tasks" / f"fix-studio-{log.a}-{log.flags['F1']}.yaml").read_text()
    assert "  index.html: |" in text  # files as literal blocks, not one escaped line
    assert yaml.safe_load(text)["kind"] == "fix"
