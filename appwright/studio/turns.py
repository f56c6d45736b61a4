"""Turns: one request to the agent, run in a background thread, streamed to the browser.

    runner = TurnRunner(config, db, ModelPool(load_backend), previews, security)
    turn = runner.start(app, person, "add a search box", "qwen2.5-coder-0.5b")   # or raises Busy
    async for index, event in runner.live_turn(app.id, turn.id).stream(): ...   # what SSE sends
    runner.stop(app.id, turn.id)                                                 # the Stop button

A turn, top to bottom (`TurnRunner._run`):
1. Wait for the model (one loaded model, used by one turn at a time: `ModelPool`); a stop
   while waiting ends the turn before it starts. With the model `auto`, steps 1 and 2 run for
   each rung of the ladder (the ready models, cheapest first) until a rung's app passes
   check_app and its own security probe; the last rung's run is the one recorded.
2. The agent (`attempt.run`, saving no version) in a scratch copy of the app's current files
   (`config.runs_dir/<turn id>`), with the stop event; every harness event becomes a
   `StudioEvent` for the SSE stream (studio/live.py).
3. A servable bundle from a run that was not stopped becomes the app's files (`bundles.adopt`),
   is saved once, with its data, as a workspace version, and gets an `AppVersion` row (source
   "agent"); `App.head` moves to it and the security probe is queued for it.
4. The Turn row gets the outcome, the TrajectoryRow the harness's record; a last `done` event
   closes the stream.

One running turn per app (a second one is `Busy`, answered 409), and no restore while one
runs. A studio that stops mid-turn marks the turn failed when it starts again
(`recover_turns`).

Not done: a turn does not see the earlier turns' chat (the files protocol sends the app's
current files and the new request; that is the whole context); a stopped turn's files are
dropped even when they were valid.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from appwright.agent.check_app import check_app
from appwright.agent.trajectory import Trajectory
from appwright.attempt import run, verify
from appwright.gateway.apps import cli_ladder
from appwright.gateway.config import AUTO
from appwright.models import get_model, load_registry
from appwright.models.base import ModelError
from appwright.studio import bundles
from appwright.studio.config import StudioConfig
from appwright.studio.db import App, AppVersion, Database, Person, TrajectoryRow, Turn, now
from appwright.studio.live import LiveTurn, StudioEvent, forward
from appwright.studio.pool import ModelPool
from appwright.studio.preview import Previews
from appwright.studio.security import SecurityWorker

log = logging.getLogger("appwright.studio")


class Busy(Exception):
    """The app is in the middle of a turn or a restore; the message says what to do."""


def turn_json(turn: Turn, version_id: int | None = None, rating: int | None = None) -> dict[str, Any]:
    return {"id": turn.id, "status": turn.status, "prompt": turn.prompt, "model": turn.model, "reply": turn.reply,
            "error": turn.error, "stop_reason": turn.stop_reason, "vid": turn.vid, "version": version_id,
            "rating": rating, "prompt_tokens": turn.prompt_tokens, "completion_tokens": turn.completion_tokens,
            "elapsed_s": turn.elapsed_s}


def recover_turns(db: Database) -> None:
    """Turns left "running" by a studio that stopped are failed: nothing runs them any more."""
    with db.session() as s:
        s.execute(update(Turn).where(Turn.status == "running").values(
            status="failed", error="the studio stopped during this turn", finished_at=now()))


class TurnRunner:
    def __init__(self, config: StudioConfig, db: Database, models: ModelPool, previews: Previews,
                 security: SecurityWorker):
        self.config, self.db, self.models, self.previews, self.security = config, db, models, previews, security
        self._lock = threading.Lock()
        self._live: dict[str, LiveTurn] = {}  # app id -> its latest turn
        self._restoring: set[str] = set()
        self._threads: list[threading.Thread] = []

    # -- what the routes call -------------------------------------------------------------------
    def running(self, app_id: str) -> LiveTurn | None:
        live = self._live.get(app_id)
        return live if live is not None and not live.finished else None

    def live_turn(self, app_id: str, turn_id: int) -> LiveTurn | None:
        live = self._live.get(app_id)
        return live if live is not None and live.turn_id == turn_id else None

    def start(self, app: App, person: Person, prompt: str, model: str) -> Turn:
        with self._lock:
            self._check_idle(app.id)
            with self.db.session() as s:
                turn = Turn(app_id=app.id, person_id=person.id, prompt=prompt, model=model, base=app.head)
                s.add(turn)
                s.execute(update(App).where(App.id == app.id).values(model=model))
            live = self._live[app.id] = LiveTurn(turn.id, app.id)
        thread = threading.Thread(target=self._run, args=(live, turn), name=f"studio-turn-{turn.id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return turn

    def stop(self, app_id: str, turn_id: int) -> bool:
        live = self.live_turn(app_id, turn_id)
        if live is None or live.finished:
            return False
        live.stop.set()
        return True

    @contextmanager
    def exclusive(self, app_id: str) -> Iterator[None]:
        """Hold the app still (a restore): no turn runs or starts meanwhile."""
        with self._lock:
            self._check_idle(app_id)
            self._restoring.add(app_id)
        try:
            yield
        finally:
            with self._lock:
                self._restoring.discard(app_id)

    def _ladder(self, turn: Turn) -> list[str]:
        """The models the turn runs: its own, or for `auto` the ready registry models cheapest
        first (gateway/apps.py `cli_ladder`; the pool loads models by registry name)."""
        if turn.model != AUTO:
            return [turn.model]
        known = load_registry()
        return [s.name for s in cli_ladder(turn.prompt)[0] if s.name in known]

    def _check_idle(self, app_id: str) -> None:
        if self.running(app_id):
            raise Busy("the agent is still working on this app; wait for it to finish or press Stop")
        if app_id in self._restoring:
            raise Busy("a restore of this app is in progress; try again in a moment")

    def close(self, timeout: float = 10.0) -> None:
        for live in list(self._live.values()):
            live.stop.set()
        for t in self._threads:
            t.join(timeout)
        self.models.close()

    # -- one turn, in its thread ------------------------------------------------------------------
    def _run(self, live: LiveTurn, turn: Turn) -> None:
        scratch = self.config.runs_dir / str(turn.id)
        bundle = self.config.apps_dir / turn.app_id
        traj: Trajectory | None = None
        error: str | None = None
        try:
            ladder = self._ladder(turn)
            for i, name in enumerate(ladder, 1):
                bundles.remove(scratch)
                # 1. The model.
                if self.models.busy():
                    live.publish(StudioEvent(kind="status", text="waiting for the model: another turn is using it"))
                elif not self.models.loaded(name):
                    live.publish(StudioEvent(kind="status", text=f"loading {name}…"))
                try:
                    with self.models.use(name, live.stop) as backend:
                        if backend is None:
                            break
                        # 2. The agent, in a scratch copy of the app.
                        live.publish(StudioEvent(kind="status", text=f"the agent is working ({name})"))
                        checker = None if self.config.check_in_browser else _manifest_check
                        traj = run(turn.prompt, scratch, backend, self.config.harness,
                                   start=bundle if turn.base else None, model_name=name,
                                   prompt_style=get_model(name).prompt, checker=checker,
                                   on_event=lambda e: forward(live, e), stop=live.stop, save_version=False)
                except ModelError as exc:  # `auto` skips a rung that cannot load
                    if turn.model != AUTO or i == len(ladder):
                        raise
                    live.publish(StudioEvent(kind="status", text=f"auto: {name} could not run ({exc}); "
                                                                 f"trying {ladder[i]}"))
                    continue
                if turn.model != AUTO or live.stop.is_set():
                    break
                # `auto`: the app must pass check_app and its own security probe, else the next rung.
                problems = verify(traj, scratch, self.config.check_in_browser)
                if not problems:
                    live.publish(StudioEvent(kind="status", text=f"auto: {name}'s app passed its checks"))
                    break
                then = f"trying {ladder[i]}" if i < len(ladder) else "no model left to try"
                live.publish(StudioEvent(kind="status", text=f"auto: {name}'s app did not pass "
                                                             f"({problems[0][:300]}); {then}"))
        except ModelError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a turn records its failure; the studio keeps serving
            log.exception("turn %s failed", turn.id)
            error = f"the studio failed during this turn ({type(exc).__name__}: {exc})"
        # 3 and 4. The version, the Turn and Trajectory rows, the last event (always sent: the app
        # takes no new turn until it is).
        done: dict[str, Any] = {"id": turn.id, "status": "failed", "error": "the studio could not record this turn"}
        try:
            done = self._record(turn, traj, error, live.stop.is_set(), scratch, bundle)
        except Exception as exc:  # noqa: BLE001
            log.exception("recording turn %s failed", turn.id)
            done["error"] = f"the studio could not record this turn ({type(exc).__name__}: {exc})"
            try:
                with self.db.session() as s:
                    s.execute(update(Turn).where(Turn.id == turn.id).values(
                        status="failed", error=done["error"], finished_at=now()))
            except Exception:  # noqa: BLE001 - the log itself is failing; the stream still ends
                log.exception("marking turn %s failed", turn.id)
        finally:
            # The turn's row says it is over: the app takes a new turn from this event on, and the
            # scratch copy (this turn's own folder) goes after it, not in between.
            live.publish(StudioEvent(kind="done", done=done), last=True)
            bundles.remove(scratch)

    def _record(self, turn: Turn, traj: Trajectory | None, error: str | None, stopped: bool, scratch: Path,
                bundle: Path) -> dict[str, Any]:
        # A valid bundle becomes the app's files unless the person stopped the run or the model
        # failed; an answer identical to the current files is no new version.
        version: AppVersion | None = None
        new_vid: str | None = None
        changed = False
        servable = traj is not None and traj.check is not None and bool(traj.check.servable)
        if servable and traj.stop_reason not in ("stopped", "model_error"):
            with self.db.session() as s:
                app = s.get(App, turn.app_id)
                key, head = app.preview_key, app.head
            changed = head is None or not bundles.same_files(bundle, head, scratch)
            if changed:
                bundle.mkdir(parents=True, exist_ok=True)
                bundles.adopt(bundle, scratch)
                self.previews.show(key, bundle)  # opens the app's database, so the first snapshot has one
                new_vid = bundles.snapshot(bundle, f"studio turn {turn.id}: {turn.prompt[:60]}").id
            traj.version_id = new_vid or head  # the version the turn left the app on
        with self.db.session() as s:
            row = s.get(Turn, turn.id)
            app = s.get(App, turn.app_id)
            if traj is not None:
                s.add(TrajectoryRow(id=traj.id, turn_id=turn.id, data=traj.model_dump(mode="json")))
                row.reply, row.stop_reason, row.error = traj.summary, traj.stop_reason, traj.error
                row.prompt_tokens, row.completion_tokens = traj.prompt_tokens, traj.completion_tokens
                row.cost_usd, row.elapsed_s = traj.cost_usd, traj.elapsed_s
            if new_vid is not None:
                version = AppVersion(app_id=app.id, vid=new_vid, parent=app.head, source="agent",
                                     message=turn.prompt[:500], turn_id=turn.id)
                s.add(version)
                app.head, row.vid = new_vid, new_vid
                app.name = bundles.app_name(bundle) or app.name
            if stopped and new_vid is None:
                row.status, row.stop_reason = "stopped", "stopped"
            elif new_vid is not None or (traj is not None and traj.stop_reason in ("answered", "finish")):
                row.status = "done"
                if not changed:
                    row.reply = ((row.reply or "") + "\n\n(The app's files did not change.)").strip()
            else:
                row.status = "failed"
                row.error = error or row.error or _why_no_version(traj)
            row.finished_at = now()
            s.flush()
            number = s.scalar(select(func.count()).select_from(AppVersion).where(
                AppVersion.app_id == app.id, AppVersion.id <= version.id)) if version else None
            done = turn_json(row, version.id if version else None)
            done["version_number"] = number
        if version is not None:
            self.security.enqueue(turn.app_id, new_vid)
        return done


def _manifest_check(root: Path):
    return check_app(root, browser=False)


def _why_no_version(traj: Trajectory | None) -> str:
    if traj is None:
        return "the turn did not run"
    if traj.check is not None and not traj.check.ok:
        return f"the agent's app did not pass its checks ({traj.stop_reason}):\n{traj.check.text}"
    return f"the agent stopped ({traj.stop_reason}) without a valid app"
