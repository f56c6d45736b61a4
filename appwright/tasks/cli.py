"""`appwright tasks ...` and `appwright grade`: browse the task bank, grade a bundle.

    appwright tasks list --split dev --kind fix --domain notes
    appwright tasks show fix-notes-owner-innerhtml
    appwright tasks export --out tasks/ --split dev       # YAML files, one per task
    appwright tasks start fix-notes-owner-innerhtml --out work/app   # write a task's start bundle
    appwright grade out/app --task build-notes-owner [--reply-file reply.txt] [--no-browser] [--json]

`grade` prints a table of checks with their evidence and exits 0 only when the grade is
good (every required check passed), 1 when it is not, 2 on bad input (appwright/exits.py).
It runs no model. Every other error here is bad input: exit 2.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from appwright.exits import FAILED, USAGE, fail
from appwright.tasks.bank import TaskBank, TaskError, export, load_file, materialise_start
from appwright.tasks.model import SPLITS

app = typer.Typer(help="The task bank: list, show, export tasks.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _bank(files: list[Path] | None = None) -> TaskBank:
    try:
        if files:
            return TaskBank([t for f in files for t in load_file(f)])
        return TaskBank.default()
    except TaskError as exc:
        fail(str(exc), USAGE)


def _get(task_id: str, files: list[Path] | None = None):
    try:
        return _bank(files).get(task_id)
    except TaskError as exc:
        fail(str(exc), USAGE)


_SPLIT = typer.Option(None, help="train, dev, test or people.")
_KIND = typer.Option(None, help="build, edit, fix or taste.")
_DOMAIN = typer.Option(None, help="A domain name, e.g. notes (appwright tasks list shows them).")
_FILES = typer.Option(None, "--file", help="Read tasks from this YAML file instead of the bank (repeatable).")


def _check_filters(split, kind) -> None:
    if split is not None and split not in SPLITS:
        fail(f"--split: expected {', '.join(SPLITS)}; got {split!r}", USAGE)
    if kind not in (None, "build", "edit", "fix", "taste"):
        fail(f"--kind: expected build, edit, fix or taste; got {kind!r}", USAGE)


@app.command("list")
def list_tasks(split: Optional[str] = _SPLIT, kind: Optional[str] = _KIND, domain: Optional[str] = _DOMAIN,
               limit: int = typer.Option(50, help="Show at most this many rows (0: all)."),
               files: Optional[list[Path]] = _FILES) -> None:
    """Tasks with their kind, split, domain and number of checks; counts at the end."""
    _check_filters(split, kind)
    tasks = _bank(files).select(split, kind, domain)
    if domain and not tasks:
        fail(f"no tasks for domain {domain!r}", USAGE)
    table = Table("id", "kind", "split", "domain", "checks", "prompt")
    for t in tasks[:limit or None]:
        table.add_row(t.id, t.kind, t.split, t.domain or "", str(len(t.checks)), escape(t.prompt[:70]))
    out.print(table)
    by = Counter((t.split, t.kind) for t in tasks)
    summary = ", ".join(f"{s}/{k} {n}" for (s, k), n in sorted(by.items()))
    out.print(f"{len(tasks)} tasks ({summary})" + (f"; first {limit} shown" if limit and len(tasks) > limit else ""),
              highlight=False)


@app.command("show")
def show(task_id: str = typer.Argument(..., help="A task id."), files: Optional[list[Path]] = _FILES,
         as_json: bool = typer.Option(False, "--json", help="Print the task as JSON.")) -> None:
    """One task: its prompt, start bundle and checks."""
    t = _get(task_id, files)
    if as_json:
        print(json.dumps(t.data(), indent=2, ensure_ascii=False))
        return
    out.print(f"[bold]{t.id}[/]  {t.kind} · {t.split} · {t.domain or '-'} · features: {', '.join(t.features) or '-'}",
              highlight=False)
    out.print(escape(t.prompt), highlight=False)
    if t.start:
        files_ = sorted(t.start.files) if t.start.files else [t.start.path]
        out.print(f"[dim]start bundle: {', '.join(files_)}[/]", highlight=False)
    table = Table("check", "kind", "weight", "required", "what")
    for c in t.checks:
        what = {k: v for k, v in c.model_dump(exclude={"name", "kind", "weight", "required"}, exclude_defaults=True).items()}
        table.add_row(c.name, c.kind, f"{c.weight:g}", "yes" if c.required else "no", escape(json.dumps(what)[:90]))
    out.print(table)


@app.command("export")
def export_cmd(out_dir: Path = typer.Option(..., "--out", help="Folder for the YAML files."),
               split: Optional[str] = _SPLIT, kind: Optional[str] = _KIND, domain: Optional[str] = _DOMAIN) -> None:
    """Write tasks as YAML files (one per task) that `--file` and the loader read back."""
    _check_filters(split, kind)
    written = export(_bank().select(split, kind, domain), out_dir)
    out.print(f"wrote {len(written)} task files to {out_dir}", highlight=False)


@app.command("start")
def start(task_id: str = typer.Argument(..., help="A task id."),
          out_dir: Path = typer.Option(..., "--out", help="Folder to write the start bundle into (must be empty)."),
          files: Optional[list[Path]] = _FILES) -> None:
    """Write a task's start bundle (edit, fix and some taste tasks) into a folder."""
    t = _get(task_id, files)
    if t.start is None:
        fail(f"{t.id} is a {t.kind} task with no start bundle: the agent starts from an empty folder", USAGE)
    if out_dir.exists() and any(out_dir.iterdir()):
        fail(f"{out_dir} is not empty", USAGE)
    try:
        materialise_start(t, out_dir)
    except TaskError as exc:
        fail(str(exc), USAGE)
    out.print(f"wrote the start bundle of {t.id} to {out_dir}", highlight=False)


def grade_command(
    bundle: Path = typer.Argument(..., help="The app bundle folder to grade."),
    task_id: str = typer.Option(..., "--task", help="The task id (appwright tasks list)."),
    reply: Optional[str] = typer.Option(None, help="The agent's reply to the user (for taste checks)."),
    reply_file: Optional[Path] = typer.Option(None, help="Read the reply from this file."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Run the checks that need Chromium."),
    as_json: bool = typer.Option(False, "--json", help="Print the grade as JSON."),
    files: Optional[list[Path]] = _FILES,
) -> None:
    """Grade a bundle against a task: a table of checks with evidence; exit 0 only when good."""
    from appwright.tasks.graders import grade_bundle

    t = _get(task_id, files)
    if not bundle.is_dir():
        fail(f"{bundle} is not a folder", USAGE)
    if reply_file is not None:
        try:
            reply = reply_file.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"--reply-file: {exc}", USAGE)
    with out.status(f"grading {bundle} against {t.id}...", spinner="dots"):
        g = grade_bundle(bundle, t, reply=reply, browser=browser)
    if as_json:
        print(g.model_dump_json(indent=2))  # reward and good are computed fields of the record
    else:
        table = Table("check", "kind", "result", "weight", "evidence", show_lines=False)
        for c in g.checks:
            mark = "[green]pass[/]" if c.passed else ("[red]FAIL[/]" if c.required else "[yellow]fail[/]")
            table.add_row(c.name, c.kind, mark, f"{c.weight:g}{'' if c.required else ' (optional)'}",
                          escape(c.evidence))
        out.print(table)
        verdict = "[bold green]good[/]" if g.good else "[bold red]not good[/]"
        out.print(f"{verdict} · reward {g.reward:.3f} · {sum(c.passed for c in g.checks)}/{len(g.checks)} checks "
                  f"passed · {g.seconds:.1f} s" + ("" if browser else " · browser checks left out"), highlight=False)
    raise typer.Exit(0 if g.good else FAILED)
