"""`appwright data export`: the studio's interaction log -> training data and tasks.

    appwright data export --sft --pairs --tasks --out exports/      # the studio's default database
    appwright data export --tasks --out exports/ --db postgresql+psycopg://... --data-dir /srv/studio
    export_sft(db, Path("exports/sft")); export_pairs(db, ...); export_tasks(db, apps_dir, ...)

What is written under OUT (each replaced on every export of its kind):
- `sft/` (--sft): accepted turns as a chat dataset in the format `appwright data sft` writes
  (datasets' save_to_disk; `messages`, `task_id`, `trajectory_id`, `model`, `reward`, and the
  same `appwright.json` stats). A turn is *accepted* when its run ended normally (status
  `done`) with a trajectory, and it was rated up or made a version, and nobody rated it down,
  nobody flagged it (a flag on the turn or on the version it made), and it was not undone: no
  restore happened between it and the app's next turn that left the app on another version.
  `task_id` is `studio:turn-<id>`; `reward` is 1.0 (the person's acceptance is the verdict).
- `pairs.jsonl` (--pairs): preference pairs in TRL's DPO conversational format, `prompt`
  (the messages before the first answer), `chosen` and `rejected` (the answers), from two
  turns of one app that started from the same version (`Turn.base`), one rated up (and not
  flagged) and one rated down. Their prompts may differ (a person who rephrases and retries);
  the pair then takes the chosen turn's prompt, and `same_prompt` says so.
- `tasks/<id>.yaml` (--tasks): each flagged bug as a `fix` task (tasks/bank.py loads it): the
  start bundle is the flagged version's files; the checks are the app's own probe
  (tasks/probe.py, recomputed on that version) kept where they passed in the version's latest
  grade, as regressions, plus `ui-no-errors`, a stepless ui check (the page loads as a signed-in
  user without a JavaScript error) when the flag captured console errors or failed requests;
  the prompt is the person's description and the captured evidence. A flag with no check
  left (never graded, nothing captured) is skipped and named in the summary: a task needs at
  least one check, and a check that cannot fail teaches nothing.

Every exported string goes through studio/scrub.py (emails, phone numbers, secrets), and each
app's preview key (the capability that opens its preview) is removed too. Turns whose prompt
is a dev or test task's prompt are left out of sft and pairs: those tasks are never trained on.

Does not: export people, sessions, the apps' live data, or binary files of a bundle (a fix
task's start files are text; leaving an image out is said in the file's header). The drafted
ui check is not graded against the flagged version here (that needs Chromium): it catches an
error on load, not one that needs a click. `appwright train sft` takes these rows: its split
check (train/sft.py `check_splits`) lets `studio:` rows through.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Optional

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from appwright.agent.trajectory import Trajectory
from appwright.runtime.manifest import ManifestError, parse_manifest
from appwright.studio.config import StudioConfig
from appwright.studio.db import App, AppVersion, Database, Flag, GradeRow, Rating, TrajectoryRow, Turn
from appwright.studio.scrub import scrub, scrub_text
from appwright.tasks.bank import TaskBank, TaskError, load_file
from appwright.tasks.model import Check, StartBundle, Task, UiCheck
from appwright.tasks.probe import probe_manifest
from appwright.workspace import WorkspaceError, get
from appwright.workspace.store import read_blob

FORMAT = 1
DRAFTED_UI = "ui-no-errors"
HELD_OUT = "held out (a dev or test task's prompt)"


class ExportError(Exception):
    """The log cannot be exported (no database, nothing of the kind asked for); said as is."""


@dataclass
class ExportResult:
    kind: str  # "sft" | "pairs" | "tasks"
    path: Path
    written: int = 0
    left_out: Counter = field(default_factory=Counter)  # reason -> how many
    notes: list[str] = field(default_factory=list)  # one line per item left out, where it helps
    scrubbed: Counter = field(default_factory=Counter)  # "email" | "phone" | "secret" -> replacements


# 1. Reading the log -------------------------------------------------------------------------


def open_log(url: str) -> Database:
    """The studio's database, read as it is: never created or migrated here."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ExportError(f"--db {url!r} is not a database URL (e.g. sqlite:////path/studio.db)") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            raise ExportError(f"no studio database at {parsed.database}: run `appwright studio` first, or give "
                              "--db (or --data-dir) where the studio keeps its log")
    db = Database(url)
    try:
        with db.session() as s:
            s.execute(select(Turn.id).limit(1))
    except SQLAlchemyError as exc:
        db.close()
        first = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        raise ExportError(f"cannot read the studio's log at {shown}: {first} (is it a studio database?)") from None
    return db


@dataclass(frozen=True)
class TurnRecord:
    """A turn with what happened to it afterwards, read once from the log."""
    id: int
    app_id: str
    prompt: str
    status: str
    base: str | None
    vid: str | None
    ups: int
    downs: int
    flagged: bool
    undone: bool
    trajectory: Trajectory | None
    preview_key: str


def load_turns(db: Database) -> list[TurnRecord]:
    """Every turn, by app and in order, with its ratings, flags, undo and trajectory."""
    with db.session() as s:
        apps = {a.id: a for a in s.scalars(select(App))}
        turns = list(s.scalars(select(Turn).order_by(Turn.app_id, Turn.created_at, Turn.id)))
        votes: dict[int, Counter] = defaultdict(Counter)
        for turn_id, value in s.execute(select(Rating.turn_id, Rating.value)):
            votes[turn_id]["up" if value > 0 else "down" if value < 0 else "none"] += 1
        flagged_turns, flagged_versions = set(), set()
        for turn_id, app_id, vid in s.execute(select(Flag.turn_id, Flag.app_id, Flag.vid)):
            flagged_turns.add(turn_id)
            flagged_versions.add((app_id, vid))
        restores: dict[str, list[datetime]] = defaultdict(list)
        restored_at = select(AppVersion.app_id, AppVersion.created_at).where(AppVersion.source == "restore")
        for app_id, at in s.execute(restored_at):
            restores[app_id].append(at)
        trajectories = {r.turn_id: r.data for r in s.scalars(select(TrajectoryRow))}

    out = []
    for i, t in enumerate(turns):
        nxt = turns[i + 1] if i + 1 < len(turns) and turns[i + 1].app_id == t.app_id else None
        # Undone: a restore between this turn and the next left the app on another version
        # (the head the next turn started from, or the app's head now).
        head_after = nxt.base if nxt else apps[t.app_id].head
        restored = any(at > t.created_at and (nxt is None or at < nxt.created_at) for at in restores[t.app_id])
        undone = bool(t.vid) and restored and head_after != t.vid
        try:
            traj = Trajectory.model_validate(trajectories[t.id]) if t.id in trajectories else None
        except ValueError:
            traj = None  # a record of another format: treated as missing
        out.append(TurnRecord(
            id=t.id, app_id=t.app_id, prompt=t.prompt, status=t.status, base=t.base, vid=t.vid,
            ups=votes[t.id]["up"], downs=votes[t.id]["down"],
            flagged=t.id in flagged_turns or (t.vid is not None and (t.app_id, t.vid) in flagged_versions),
            undone=undone, trajectory=traj, preview_key=apps[t.app_id].preview_key))
    return out


def verdict(t: TurnRecord) -> str:
    """The turn's verdict for SFT: "accepted", or why not (the reason the summary counts)."""
    if t.trajectory is None:
        return "no trajectory"
    if t.status != "done":
        return f"run {t.status}"
    if t.downs:
        return "rated down"
    if t.flagged:
        return "flagged"
    if t.undone:
        return "undone by a restore"
    if not (t.ups or t.vid):
        return "not rated up, made no version"
    return "accepted"


@cache
def _held_out_prompts() -> frozenset[str]:
    return frozenset(_norm(t.prompt) for t in TaskBank.default().tasks if t.split != "train")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _key(messages: list[dict]) -> str:
    h = hashlib.sha256()
    for m in messages:
        h.update(json.dumps([m["role"], m["content"]]).encode())
    return h.hexdigest()


def _messages(t: TurnRecord, counts: Counter) -> list[dict]:
    """The turn's training messages (train/data.py's choice), scrubbed."""
    from appwright.train.data import sft_messages  # train/ is heavy-ish and optional for the studio

    return [{"role": m.role, "content": scrub_text(m.content, counts, (t.preview_key,))}
            for m in sft_messages(t.trajectory)]


# 2. SFT --------------------------------------------------------------------------------------


def export_sft(db: Database, out: Path, source: str = "") -> ExportResult:
    from datasets import Dataset, disable_progress_bars

    from appwright.train.data import STATS, SFTDataStats

    disable_progress_bars()  # the summary table says what was written

    result = ExportResult("sft", out)
    turns = load_turns(db)
    rows, seen, apps = [], set(), set()
    stats = SFTDataStats(sources=[scrub_text(source)], read=len(turns))
    for t in turns:
        why = verdict(t)
        if why == "accepted" and _norm(t.prompt) in _held_out_prompts():
            why = HELD_OUT
        if why == "accepted":
            messages = _messages(t, result.scrubbed)
            if not any(m["role"] == "assistant" for m in messages):
                why = "no answer in the trajectory"
        if why != "accepted":
            result.left_out[why] += 1
            continue
        stats.repaired_trimmed += len(messages) < len(t.trajectory.messages)
        key = _key(messages)
        if key in seen:
            result.left_out["duplicate"] += 1
            continue
        seen.add(key)
        apps.add(t.app_id)
        rows.append({"messages": messages, "task_id": f"studio:turn-{t.id}",
                     "trajectory_id": scrub_text(t.trajectory.id), "model": scrub_text(t.trajectory.model),
                     "reward": 1.0})
    if not rows:
        raise ExportError(f"no accepted turn to export as SFT data ({_reasons(result.left_out) or 'no turns'})")
    # The stats file `appwright train sft` reads: the log's reasons folded into its counters.
    stats.rows, stats.tasks = len(rows), len(apps)  # "tasks": the apps the rows come from
    stats.dropped_split = result.left_out[HELD_OUT]
    stats.dropped_duplicate = result.left_out["duplicate"]
    stats.dropped_ungraded = result.left_out["no trajectory"]
    stats.dropped_not_good = sum(result.left_out.values()) - stats.dropped_split - stats.dropped_duplicate \
        - stats.dropped_ungraded
    if out.exists():
        shutil.rmtree(out)
    Dataset.from_list(rows).save_to_disk(str(out))
    (out / STATS).write_text(json.dumps(stats.__dict__, indent=2) + "\n", encoding="utf-8")
    result.written = len(rows)
    return result


# 3. Preference pairs -------------------------------------------------------------------------


def export_pairs(db: Database, out: Path) -> ExportResult:
    result = ExportResult("pairs", out)
    groups: dict[tuple[str, str | None], dict[str, list[TurnRecord]]] = defaultdict(lambda: {"up": [], "down": []})
    for t in load_turns(db):
        if t.trajectory is None or not (t.ups or t.downs):
            continue
        if t.ups and t.downs:
            result.left_out["rated both up and down"] += 1
            continue
        if t.ups and t.flagged:
            result.left_out["rated up but flagged"] += 1
            continue
        if _norm(t.prompt) in _held_out_prompts():
            result.left_out[HELD_OUT] += 1
            continue
        groups[(t.app_id, t.base)]["up" if t.ups else "down"].append(t)

    def split(t: TurnRecord) -> tuple[list[dict], list[dict]] | None:
        """(the messages before the first answer, the answer and what follows); None: no answer."""
        messages = _messages(t, result.scrubbed)
        cut = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), None)
        return None if cut is None else (messages[:cut], messages[cut:])

    lines, seen = [], set()
    for g in groups.values():
        if not (g["up"] and g["down"]):
            result.left_out["rated, no opposite rating from the same version"] += len(g["up"]) + len(g["down"])
            continue
        ups = [(t, split(t)) for t in g["up"]]
        downs = [(t, split(t)) for t in g["down"]]
        for good, (prompt, chosen) in ((t, m) for t, m in ups if m):
            for bad, (bad_prompt, rejected) in ((t, m) for t, m in downs if m):
                key = (_key(prompt + chosen), _key(rejected))
                if key in seen or chosen == rejected:
                    result.left_out["duplicate"] += 1
                    continue
                seen.add(key)
                lines.append({"format": FORMAT, "prompt": prompt, "chosen": chosen, "rejected": rejected,
                              "same_prompt": bad_prompt == prompt, "chosen_turn": good.id, "rejected_turn": bad.id})
    if not lines:
        raise ExportError("no rated pair to export: it takes two turns of one app from the same version, one rated "
                          f"up and one rated down ({_reasons(result.left_out) or 'no rated turns'})")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    result.written = len(lines)
    return result


# 4. Flags -> fix tasks -----------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the start bundle's files) as literal blocks, so a person can read them."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                                             style="|" if "\n" in s else None))


def _app_path(text: str, key: str) -> str:
    """Preview URLs as paths inside the app: `http://host:8801/apps/<key>/app.js` -> `/app.js`."""
    return re.sub(rf"(?:https?://[^/\s\"']+)?/apps/{re.escape(key)}(?![\w-])", "", text) if key else text


def _evidence(flag: Flag, key: str) -> str:
    lines = [f"- page: {_app_path(flag.url, key) or '/'}"] if flag.url else []
    if flag.console_errors:
        lines.append("- console errors:")
        lines += [f"  - {_app_path(str(e), key)}" for e in flag.console_errors[:10]]
    if flag.failed_requests:
        lines.append("- failed requests:")
        for r in flag.failed_requests[:10]:
            r = r if isinstance(r, dict) else {"url": str(r)}
            status = r.get("status") or "no answer (a network error)"  # the studio records 0 for those
            lines.append(f"  - {r.get('method', 'GET')} {_app_path(str(r.get('url', '')), key)} -> {status}")
    return ("\n\nWhat the studio captured when the bug was flagged:\n" + "\n".join(lines)) if lines else ""


def _version_files(bundle: Path, vid: str) -> tuple[dict[str, str], list[str]]:
    """The version's text files, and the paths of files that are not UTF-8 text."""
    version = get(bundle, vid)
    files, binary = {}, []
    for rel, sha in version.files.items():
        try:
            files[rel] = read_blob(bundle, sha).decode("utf-8")
        except UnicodeDecodeError:
            binary.append(rel)
    return files, binary


def _regressions(files: dict[str, str], grade: GradeRow | None) -> tuple[list[Check], str]:
    """The probe's checks that passed in the version's latest grade, and a line saying so."""
    if grade is None:
        return [], "Regressions: none. This version was never graded, so no check is known to pass on it."
    try:
        task = probe_manifest(parse_manifest(json.loads(files.get("app.json", ""))))
    except (ManifestError, ValueError):
        return [], "Regressions: none. The version's app.json is not a valid manifest."
    passed = {c.get("name") for c in grade.checks if isinstance(c, dict) and c.get("passed")}
    kept = [c for c in (task.task.checks if task.task else []) if c.name in passed]
    return kept, (f"Regressions: {len(kept)} probe checks that passed in this version's grade of "
                  f"{grade.created_at:%Y-%m-%d %H:%M} ({grade.passed}/{grade.total} passed then).")


def export_tasks(db: Database, apps_dir: Path, out: Path) -> ExportResult:
    result = ExportResult("tasks", out)
    with db.session() as s:
        flags = list(s.scalars(select(Flag).order_by(Flag.id)))
        apps = {a.id: a for a in s.scalars(select(App))}
        grades: dict[tuple[str, str], GradeRow] = {}
        for g in s.scalars(select(GradeRow).order_by(GradeRow.created_at, GradeRow.id)):
            grades[(g.app_id, g.vid)] = g  # the latest one wins
    if not flags:
        raise ExportError("no flagged bugs to export as fix tasks: people flag them in the studio's preview")
    tasks: list[tuple[Task, list[str]]] = []
    for flag in flags:
        app = apps[flag.app_id]
        bundle, key = apps_dir / app.id, app.preview_key
        try:
            files, binary = _version_files(bundle, flag.vid)
        except WorkspaceError as exc:
            result.left_out["flagged version not on disk"] += 1
            result.notes.append(f"flag {flag.id}: version {flag.vid[:12]} of app {app.id}: {exc}")
            continue
        checks, regression_note = _regressions(files, grades.get((app.id, flag.vid)))
        header = [f"A bug flagged in the studio (flag {flag.id}) on version {flag.vid[:12]} of app {app.id}, "
                  "exported by `appwright data export --tasks`.", regression_note]
        if flag.console_errors or flag.failed_requests:
            checks.append(UiCheck(name=DRAFTED_UI))
            header.append(f"{DRAFTED_UI}: drafted from the captured console errors and failed requests: the page "
                          "loads as a signed-in user without a JavaScript error.")
        if binary:
            header.append(f"Left out of the start bundle (not text): {', '.join(binary)}.")
        if not checks:
            result.left_out["nothing to check"] += 1
            result.notes.append(f"flag {flag.id} (app {app.id}): nothing to check; no passing grade on its version "
                                "and no console errors or failed requests to draft a ui check from")
            continue
        prompt = f"Fix this bug a user reported: {flag.description.strip()}" + _evidence(flag, key)
        data = scrub(Task(id=f"fix-studio-{app.id}-{flag.id}", kind="fix", split="train", prompt=prompt,
                          start=StartBundle(files=files), checks=checks).data(), result.scrubbed, (key,))
        try:
            task = Task.model_validate(data)
        except ValidationError as exc:  # scrubbing broke a check's record (an enum value that is an email?)
            result.left_out["invalid once scrubbed"] += 1
            result.notes.append(f"flag {flag.id} (app {app.id}): the scrubbed task does not validate: "
                                f"{exc.errors()[0]['msg']}")
            continue
        tasks.append((task, [scrub_text(h, result.scrubbed, (key,)) for h in header]))
    if not tasks:
        raise ExportError(f"no flag could be exported as a fix task ({_reasons(result.left_out)}):\n  "
                          + "\n  ".join(result.notes))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for task, header in tasks:
        path = out / f"{task.id}.yaml"
        comments = "".join(f"# {line}\n" for h in header for line in _wrap(h))
        path.write_text(comments + yaml.dump(task.data(), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                             width=100), encoding="utf-8")
        try:  # a bug here, not the person's: say which file
            if load_file(path) != [task]:
                raise ExportError(f"{path} does not read back as the task that was written")
        except TaskError as exc:
            raise ExportError(f"wrote a task file the bank cannot load: {exc}") from None
        result.written += 1
    return result


def _wrap(text: str, width: int = 96) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def _reasons(counts: Counter) -> str:
    return ", ".join(f"{n} {why}" for why, n in counts.most_common())


# 5. The command ------------------------------------------------------------------------------

err = Console(stderr=True)


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def export_command(
    sft: bool = typer.Option(False, "--sft", help="Accepted turns as an SFT chat dataset (OUT/sft)."),
    pairs: bool = typer.Option(False, "--pairs", help="Rated pairs as DPO preference data (OUT/pairs.jsonl)."),
    tasks: bool = typer.Option(False, "--tasks", help="Flagged bugs as fix tasks (OUT/tasks/*.yaml)."),
    out_dir: Path = typer.Option(..., "--out", help="Folder to write into; each kind replaces its own part."),
    db_url: Optional[str] = typer.Option(None, "--db", help="The studio's database URL (default "
                                                            "sqlite:///DATA_DIR/studio.db)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="The studio's data folder, which holds "
                                            "the apps' bundles (default $APPWRIGHT_HOME/studio)."),
) -> None:
    """Export the studio's log: accepted turns (SFT), rated pairs (DPO), flagged bugs (fix tasks), scrubbed."""
    if not (sft or pairs or tasks):
        _fail("say what to export: --sft, --pairs and/or --tasks", 2)
    config = StudioConfig(db_url=db_url, **({"data_dir": data_dir} if data_dir else {}))
    try:
        db = open_log(config.db_url)
    except ExportError as exc:
        _fail(str(exc), 2)
    results, problems = [], []
    try:
        with db.session() as s:
            empty = s.execute(select(Turn.id).limit(1)).first() is None and \
                s.execute(select(Flag.id).limit(1)).first() is None
        if empty:
            _fail(f"the studio's log at {make_url(config.db_url).render_as_string(hide_password=True)} holds no turns "
                  "or flags yet: nothing to export", 1)
        source = make_url(config.db_url).render_as_string(hide_password=True)
        for wanted, run in ((sft, lambda: export_sft(db, out_dir / "sft", source)),
                            (pairs, lambda: export_pairs(db, out_dir / "pairs.jsonl")),
                            (tasks, lambda: export_tasks(db, config.apps_dir, out_dir / "tasks"))):
            if not wanted:
                continue
            try:
                results.append(run())
            except ExportError as exc:
                problems.append(str(exc))
    finally:
        db.close()
    if results:
        _summary(results)
    for p in problems:
        err.print(f"[bold red]error:[/] {escape(p)}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)


def _summary(results: list[ExportResult]) -> None:
    out = Console()
    what = {"sft": "accepted turns", "pairs": "preference pairs", "tasks": "fix tasks"}
    table = Table("export", "written", "to", "left out")
    scrubbed: Counter = Counter()
    for r in results:
        table.add_row(r.kind, f"{r.written} {what[r.kind]}", escape(str(r.path)), escape(_reasons(r.left_out)) or "-")
        scrubbed.update(r.scrubbed)
    out.print(table)
    for r in results:
        for note in r.notes:
            out.print(f"  left out: {escape(note)}", highlight=False, soft_wrap=True)
    out.print("scrubbed: " + (", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(scrubbed.items()))
                              or "nothing found"), highlight=False)


__all__ = ["ExportError", "ExportResult", "export_command", "export_pairs", "export_sft", "export_tasks",
           "load_turns", "open_log", "verdict"]
