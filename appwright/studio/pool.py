"""The studio's one loaded model, shared by the turns one at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from appwright.models.base import Backend


class ModelPool:
    """One loaded model at a time, used by one turn at a time: llama.cpp models are large and
    not thread-safe, and two generations on a small CPU would each run at half speed."""

    def __init__(self, factory: Callable[[str], Backend]):
        self.factory = factory
        self._lock = threading.Lock()
        self._name: str | None = None
        self._backend: Backend | None = None

    def busy(self) -> bool:
        return self._lock.locked()

    def loaded(self, name: str) -> bool:
        return self._name == name

    @contextmanager
    def use(self, name: str, stop: threading.Event) -> Iterator[Backend | None]:
        """The backend for `name`, held for the block; None if `stop` was set while waiting."""
        while not self._lock.acquire(timeout=0.1):
            if stop.is_set():
                yield None
                return
        try:
            if self._name != name:
                self._drop()
                self._backend = self.factory(name)  # ModelError: the turn fails with its message
                self._name = name
            yield self._backend
        finally:
            self._lock.release()

    def _drop(self) -> None:
        if self._backend is not None:
            self._backend.close()
        self._backend, self._name = None, None

    def close(self) -> None:
        with self._lock:
            self._drop()
