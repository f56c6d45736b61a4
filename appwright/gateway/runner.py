"""Runs one completion on a served model, from async code.

    runner = Runner(served, keys, timeout_s=60, max_queue=32)    # loads nothing yet
    done = await runner.complete("qwen2.5-coder-0.5b", messages, GenerationConfig(max_tokens=64), on_token)

Local models (llama.cpp, scripted) run in process on one worker thread: one model loaded at a
time (asking for another unloads it), one generation at a time, requests waiting in arrival
order. A llama.cpp model is large and not thread-safe, and two generations on a small CPU would
each run at half speed. More than `max_queue` local requests in flight: `Busy`.

Remote models (OpenAI-compatible HTTP, `models/openai_backend.py`) run concurrently on a pool of
threads, with no retries (the ladder is the retry) and `timeout_s` of silence allowed.

Every failure comes out as a `ModelError` whose message has every known API key replaced by
`[key hidden]`: a server that echoes the Authorization header back in its error body cannot leak
the key through the gateway's answer or its log. `on_token` may raise `Cancelled` to stop a
generation whose caller went away; that passes through unchanged.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx

from appwright.gateway.config import api_key, keys_path
from appwright.models.base import Backend, Completion, GenerationConfig, Message, ModelError, OnToken
from appwright.models.registry import ModelSpec

HIDDEN = "[key hidden]"
T = TypeVar("T")


class Busy(Exception):
    """Too many requests already wait for the local model."""


class Cancelled(Exception):
    """Raised from on_token: the caller is gone, stop generating."""


def _load_backend(name: str) -> Backend:
    from appwright.models import load_backend
    return load_backend(name)


class Runner:
    def __init__(self, served: dict[str, ModelSpec], keys: dict[str, str], *, timeout_s: float, max_queue: int,
                 load_local: Callable[[str], Backend] = _load_backend):
        self.served = served
        self.keys = keys
        self.timeout_s = timeout_s
        self.max_queue = max_queue
        self.load_local = load_local
        # Every key the gateway could send, wherever it came from, to scrub from messages.
        env = [os.environ.get(s.api_key_env, "") for s in served.values() if s.api_key_env]
        self._secrets = sorted({k for k in [*keys.values(), *env] if k}, key=len, reverse=True)
        self._local_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-local")
        self._remote_threads = ThreadPoolExecutor(max_workers=16, thread_name_prefix="gateway-remote")
        self._local_pending = 0
        self._local_name: str | None = None
        self._local: Backend | None = None
        self._remote: dict[str, Backend] = {}

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        return text

    async def complete(self, name: str, messages: list[Message], config: GenerationConfig,
                       on_token: OnToken | None = None) -> Completion:
        spec = self.served[name]
        loop = asyncio.get_running_loop()
        try:
            if spec.backend == "openai":
                return await loop.run_in_executor(self._remote_threads, self._run_remote, spec, messages, config,
                                                  on_token)
            if self._local_pending >= self.max_queue:
                raise Busy(f"{self._local_pending} requests already wait for the local model; try again shortly")
            self._local_pending += 1
            try:
                return await loop.run_in_executor(self._local_thread, self._run_local, name, messages, config,
                                                  on_token)
            finally:
                self._local_pending -= 1
        except ModelError as e:
            raise ModelError(self.scrub(str(e))) from None
        except (httpx.HTTPError, ValueError) as e:  # what OpenAIBackend does not turn into a ModelError itself
            raise ModelError(self.scrub(f"{name}: {type(e).__name__}: {e}")) from None

    async def run_with(self, name: str, work: Callable[[Backend], T]) -> T:
        """`work(backend)` on the model's thread: an app task's whole agent run (gateway/apps.py).
        A local model is held for the whole run, like one long generation."""
        spec = self.served[name]
        loop = asyncio.get_running_loop()
        try:
            if spec.backend == "openai":
                return await loop.run_in_executor(self._remote_threads, lambda: work(self._remote_backend(spec)))
            if self._local_pending >= self.max_queue:
                raise Busy(f"{self._local_pending} requests already wait for the local model; try again shortly")
            self._local_pending += 1
            try:
                return await loop.run_in_executor(self._local_thread, lambda: work(self._loaded(name)))
            finally:
                self._local_pending -= 1
        except ModelError as e:
            raise ModelError(self.scrub(str(e))) from None

    def _run_remote(self, spec: ModelSpec, messages, config, on_token) -> Completion:
        return self._remote_backend(spec).complete(messages, None, config, on_token)

    def _remote_backend(self, spec: ModelSpec) -> Backend:
        backend = self._remote.get(spec.name)
        if backend is None:
            from appwright.models.openai_backend import OpenAIBackend
            key = api_key(spec, self.keys)
            if spec.api_key_env and not key:
                raise ModelError(f"model {spec.name!r} needs an API key: set {spec.api_key_env} in the environment "
                                 f"or in {keys_path()}")
            if key and key not in self._secrets:  # set in the environment after the gateway started
                self._secrets = sorted([*self._secrets, key], key=len, reverse=True)
            backend = OpenAIBackend(spec, timeout_s=self.timeout_s, max_retries=0, api_key=key)
            self._remote[spec.name] = backend  # a race makes two clients; one is kept, both work
        return backend

    def _run_local(self, name: str, messages, config, on_token) -> Completion:  # on the one local thread
        return self._loaded(name).complete(messages, None, config, on_token)

    def _loaded(self, name: str) -> Backend:  # on the one local thread
        if self._local_name != name:
            self._unload()
            self._local = self.load_local(name)
            self._local_name = name
        return self._local

    def _unload(self) -> None:
        if self._local is not None:
            self._local.close()
        self._local, self._local_name = None, None

    def close(self) -> None:
        """Wait for running generations, then unload everything."""
        self._remote_threads.shutdown(wait=True, cancel_futures=True)
        self._local_thread.shutdown(wait=True, cancel_futures=True)
        self._unload()
        for backend in self._remote.values():
            backend.close()
        self._remote.clear()
