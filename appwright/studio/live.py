"""A turn's live events: what the harness reports, as the SSE stream sends it to any number of readers.

    live = LiveTurn(turn.id, app.id)
    live.publish(StudioEvent(kind="status", text="loading..."))      # from the turn's thread
    async for item in live.stream(start=0): ...                      # (index, event) or None: heartbeat
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from appwright.agent.loop import Event

HEARTBEAT_S = 15.0


class StudioEvent(BaseModel):
    """One item of a turn's SSE stream."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["status", "step", "token", "file", "tool", "check", "done"]
    text: str = ""
    step: int = 0
    ok: bool | None = None
    tool: str | None = None
    done: dict[str, Any] | None = None  # done: the turn as `turn_json` gives it

    @classmethod
    def from_loop(cls, e: Event) -> "StudioEvent | None":
        if e.kind == "step_started":
            return cls(kind="step", step=e.step, text=f"step {e.step}")
        if e.kind == "token":
            return cls(kind="token", step=e.step, text=e.text)
        if e.kind == "tool_result":
            return cls(kind="file" if e.tool == "write_file" else "tool", step=e.step, text=e.text, ok=e.ok,
                       tool=e.tool)
        if e.kind == "check":
            return cls(kind="check", step=e.step, text=e.text, ok=e.ok)
        return None  # "finished": the studio sends its own `done` once the version is recorded

    def sse(self, index: int) -> str:
        return f"id: {index}\nevent: {self.kind}\ndata: {self.model_dump_json(exclude_defaults=True)}\n\n"


class LiveTurn:
    """The events of a running (or just finished) turn, for any number of SSE readers."""

    def __init__(self, turn_id: int, app_id: str):
        self.turn_id, self.app_id = turn_id, app_id
        self.stop = threading.Event()
        self.events: list[StudioEvent] = []
        self.finished = False
        self._lock = threading.Lock()
        self._readers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def publish(self, event: StudioEvent, last: bool = False) -> None:
        with self._lock:
            self.events.append(event)
            self.finished = self.finished or last
            readers = list(self._readers)
        for loop, wake in readers:
            with suppress(RuntimeError):  # that reader's event loop has closed
                loop.call_soon_threadsafe(wake.set)

    async def stream(self, start: int = 0) -> AsyncIterator[tuple[int, StudioEvent] | None]:
        """(index, event) from `start` on, as they come; None every HEARTBEAT_S of silence;
        ends after the last event."""
        wake = asyncio.Event()
        reader = (asyncio.get_running_loop(), wake)
        with self._lock:
            self._readers.add(reader)
        try:
            i = max(0, start)
            while True:
                wake.clear()  # before reading, so a publish in between is never missed
                with self._lock:
                    new, finished = self.events[i:], self.finished
                for event in new:
                    yield i, event
                    i += 1
                if finished and not new:
                    return
                if not new:
                    try:
                        await asyncio.wait_for(wake.wait(), HEARTBEAT_S)
                    except TimeoutError:
                        yield None
        finally:
            with self._lock:
                self._readers.discard(reader)


def forward(live: LiveTurn, e: Event) -> None:
    """A harness event, published when the stream shows it."""
    event = StudioEvent.from_loop(e)
    if event is not None:
        live.publish(event)
