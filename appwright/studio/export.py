"""The exports of `appwright data export`: the studio's interaction log -> training data and tasks.

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

Where the rest lives: reading the log and each turn's verdict, studio/log.py; the command and
its summary table, studio/export_cli.py; the SFT rows, their dedupe key and the dataset writer,
agent/sft.py (shared with `appwright data sft`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import select

from appwright.agent.sft import SFTDataStats, message_key, sft_messages, sft_row, write_sft_dataset
from appwright.runtime.manifest import ManifestError, parse_manifest
from appwright.studio.db import App, Database, Flag, GradeRow
from appwright.studio.log import ExportError, TurnRecord, load_turns, open_log, verdict
from appwright.studio.scrub import scrub, scrub_text
from appwright.tasks.bank import TaskBank, TaskError, load_file
from appwright.tasks.model import Check, StartBundle, Task, UiCheck
from appwright.tasks.probe import probe_manifest
from appwright.workspace import WorkspaceError, get
from appwright.workspace.store import read_blob

FORMAT = 1
DRAFTED_UI = "ui-no-errors"
HELD_OUT = "held out (a dev or test task's prompt)"


@dataclass
class ExportResult:
    kind: str  # "sft" | "pairs" | "tasks"
    path: Path
    written: int = 0
    left_out: Counter = field(default_factory=Counter)  # reason -> how many
    notes: list[str] = field(default_factory=list)  # one line per item left out, where it helps
    scrubbed: Counter = field(default_factory=Counter)  # "email" | "phone" | "secret" -> replacements


# 1. What the exports share -----------------------------------------------------------------


@cache
def _held_out_prompts() -> frozenset[str]:
    return frozenset(_norm(t.prompt) for t in TaskBank.default().tasks if t.split != "train")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _messages(t: TurnRecord, counts: Counter) -> list[dict]:
    """The turn's training messages (the same choice as `appwright data sft`'s), scrubbed."""
    return [{"role": m.role, "content": scrub_text(m.content, counts, (t.preview_key,))}
            for m in sft_messages(t.trajectory)]


# 2. SFT --------------------------------------------------------------------------------------


def export_sft(db: Database, out: Path, source: str = "") -> ExportResult:
    from datasets import disable_progress_bars

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
        if (key := message_key(messages)) in seen:
            result.left_out["duplicate"] += 1
            continue
        seen.add(key)
        apps.add(t.app_id)
        rows.append(sft_row(messages, f"studio:turn-{t.id}", scrub_text(t.trajectory.id),
                            scrub_text(t.trajectory.model), 1.0))
    if not rows:
        raise ExportError(f"no accepted turn to export as SFT data ({reasons(result.left_out) or 'no turns'})")
    # The stats file `appwright train sft` reads: the log's reasons folded into its counters.
    stats.rows, stats.tasks = len(rows), len(apps)  # "tasks": the apps the rows come from
    stats.dropped_split = result.left_out[HELD_OUT]
    stats.dropped_duplicate = result.left_out["duplicate"]
    stats.dropped_ungraded = result.left_out["no trajectory"]
    stats.dropped_not_good = sum(result.left_out.values()) - stats.dropped_split - stats.dropped_duplicate \
        - stats.dropped_ungraded
    write_sft_dataset(rows, stats, out)
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
                key = (message_key(prompt + chosen), message_key(rejected))
                if key in seen or chosen == rejected:
                    result.left_out["duplicate"] += 1
                    continue
                seen.add(key)
                lines.append({"format": FORMAT, "prompt": prompt, "chosen": chosen, "rejected": rejected,
                              "same_prompt": bad_prompt == prompt, "chosen_turn": good.id, "rejected_turn": bad.id})
    if not lines:
        raise ExportError("no rated pair to export: it takes two turns of one app from the same version, one rated "
                          f"up and one rated down ({reasons(result.left_out) or 'no rated turns'})")
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
    passed = {c.name for c in grade.grade.checks if c.passed}
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
        raise ExportError(f"no flag could be exported as a fix task ({reasons(result.left_out)}):\n  "
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


def reasons(counts: Counter) -> str:
    """The reasons things were left out, most common first: "3 flagged, 1 duplicate"."""
    return ", ".join(f"{n} {why}" for why, n in counts.most_common())


__all__ = ["ExportError", "ExportResult", "export_pairs", "export_sft", "export_tasks", "load_turns", "open_log",
           "reasons", "verdict"]
