"""Reading the studio's log for export: each turn with what happened to it afterwards, and its verdict.

    db = open_log("sqlite:////srv/studio/studio.db")    # never created or migrated here
    for t in load_turns(db): print(t.id, verdict(t))   # "accepted", or why not

A turn's record (`TurnRecord`) joins its ratings, the flags on it or on the version it made,
whether a restore undid it, and its trajectory (None when missing or of another format).
`verdict` is the SFT rule that studio/export.py applies and docs/studio.md spells out.

Does not: write anything, scrub anything (studio/export.py does, on what it writes), or
read the apps' bundles.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from appwright.agent.trajectory import Trajectory
from appwright.studio.db import App, AppVersion, Database, Flag, Rating, TrajectoryRow, Turn


class ExportError(Exception):
    """The log cannot be exported (no database, nothing of the kind asked for); said as is."""


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


__all__ = ["ExportError", "TurnRecord", "load_turns", "open_log", "verdict"]
