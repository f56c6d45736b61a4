"""`appwright data export`: the command over studio/export.py, and its summary table.

    appwright data export --sft --pairs --tasks --out exports/      # the studio's default database
    appwright data export --tasks --out exports/ --db postgresql+psycopg://... --data-dir /srv/studio

Exits 2 (usage) when nothing is asked for or the log cannot be opened, 1 when the log is empty
or any export asked for has nothing to write (the others are still written and summed up).
What each export writes, and why a turn or a flag is left out: studio/export.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.engine import make_url

from appwright.exits import FAILED, USAGE, fail
from appwright.studio.config import StudioConfig
from appwright.studio.db import Flag, Turn
from appwright.studio.export import ExportResult, export_pairs, export_sft, export_tasks, reasons
from appwright.studio.log import ExportError, open_log

err = Console(stderr=True)


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
        fail("say what to export: --sft, --pairs and/or --tasks", USAGE)
    config = StudioConfig(db_url=db_url, **({"data_dir": data_dir} if data_dir else {}))
    try:
        db = open_log(config.db_url)
    except ExportError as exc:
        fail(str(exc), USAGE)
    results, problems = [], []
    try:
        with db.session() as s:
            empty = s.execute(select(Turn.id).limit(1)).first() is None and \
                s.execute(select(Flag.id).limit(1)).first() is None
        if empty:
            fail(f"the studio's log at {make_url(config.db_url).render_as_string(hide_password=True)} holds no turns "
                 "or flags yet: nothing to export", FAILED)
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
        raise typer.Exit(FAILED)


def _summary(results: list[ExportResult]) -> None:
    out = Console()
    what = {"sft": "accepted turns", "pairs": "preference pairs", "tasks": "fix tasks"}
    table = Table("export", "written", "to", "left out")
    scrubbed: Counter = Counter()
    for r in results:
        table.add_row(r.kind, f"{r.written} {what[r.kind]}", escape(str(r.path)), escape(reasons(r.left_out)) or "-")
        scrubbed.update(r.scrubbed)
    out.print(table)
    for r in results:
        for note in r.notes:
            out.print(f"  left out: {escape(note)}", highlight=False, soft_wrap=True)
    out.print("scrubbed: " + (", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(scrubbed.items()))
                              or "nothing found"), highlight=False)


__all__ = ["export_command"]
