"""Model backends behind one interface, the model registry and the price table.

    from appwright.models import load_backend, Message, GenerationConfig
    backend = load_backend("qwen2.5-coder-0.5b")     # pulls the embedded model on first use
    done = backend.complete([Message("user", "Write a haiku about SQLite")], config=GenerationConfig(max_tokens=64))
    print(done.text, done.prompt_tokens, done.completion_tokens, done.cost_usd)

`load_backend` (by registry name) and `backend_for` (by spec) are the only factories: everything
else takes a `Backend`. They do not cache backends (each call loads the model again: keep the one
you got).
"""

from __future__ import annotations

from rich.console import Console

from appwright.models.base import (Backend, Completion, GenerationConfig, Message, ModelError, OnToken, Price,
                                   ToolSpec)
from appwright.models.registry import DEFAULT_MODEL, ModelSpec, get_model, load_registry
from appwright.models.scripted import ScriptedBackend

__all__ = ["Backend", "Completion", "DEFAULT_MODEL", "GenerationConfig", "Message", "ModelError", "ModelSpec",
           "OnToken", "Price", "ScriptedBackend", "ToolSpec", "backend_for", "get_model", "load_backend", "load_registry"]


def load_backend(name: str = DEFAULT_MODEL, console: Console | None = None) -> Backend:
    """The backend for registry entry `name`, ready to call."""
    return backend_for(get_model(name), console)


def backend_for(spec: ModelSpec, console: Console | None = None, api_key: str | None = None,
                n_threads: int | None = None) -> Backend:
    """The backend for `spec` (a registry entry, or a gateway.toml remote); `api_key` for a remote
    model, default the environment variable it names; `n_threads` for llama.cpp, default every core."""
    if spec.backend == "openai":
        from appwright.models.openai_backend import OpenAIBackend
        return OpenAIBackend(spec, api_key=api_key)
    if spec.backend == "scripted":
        return ScriptedBackend.from_file(spec.location)
    from appwright.models.pull import ensure_model
    path = ensure_model(spec, console)
    if spec.backend == "llamacpp":
        from appwright.models.llamacpp import LlamaCppBackend
        return LlamaCppBackend(spec, path, n_threads=n_threads)
    from appwright.models.transformers_backend import TransformersBackend
    return TransformersBackend(spec, path)
