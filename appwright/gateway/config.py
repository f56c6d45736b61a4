"""Every knob of the gateway in one validated record, and the only place the gateway reads the
environment or its two files.

    config = load_config()        # gateway.toml, validated once; defaults when there is none
    models = served_models(config)            # name -> ModelSpec: the registry plus [remotes]
    keys = provider_keys()                    # API keys of remote servers, by variable name

    APPWRIGHT_GATEWAY_TOML   the settings file (default ~/.config/appwright/gateway.toml)
    APPWRIGHT_KEYS_TOML      API keys of remote servers (default ~/.config/appwright/keys.toml)
    APPWRIGHT_HOME           local state; the log defaults to $APPWRIGHT_HOME/gateway/gateway.db

gateway.toml has the fields of `GatewayConfig` at the top level, a `[router]` table and one
`[remotes.NAME]` table per extra OpenAI-compatible server (the fields of a registry `openai`
entry: base_url, model, api_key_env, context_length, price). keys.toml maps the variable names
that entries give as `api_key_env` to keys (`OPENAI_API_KEY = "sk-..."`); the environment wins.

Does not: hold the callers' bearer tokens (they are in the database, hashed: keys.py).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from appwright.models.base import ModelError
from appwright.models.registry import ModelSpec, load_registry
from appwright.models.settings import appwright_home

AUTO = "auto"  # the model name that asks the router to choose


class RouterConfig(BaseModel):
    """The rule `model="auto"` follows for plain chat (router.py says it in full)."""
    model_config = ConfigDict(extra="forbid")

    long_chars: int = Field(2000, ge=1, description="a request whose messages hold at least this many "
                                                    "characters counts as long")
    threshold: int = Field(2, ge=1, le=3, description="a request with at least this many of the three signs "
                                                      "(long, asks for code, asks for an app) skips the cheapest "
                                                      "rung")


class GatewayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Where it listens and where it logs.
    host: str = Field("127.0.0.1", description="address to bind; anything but loopback exposes the gateway")
    port: int = Field(8900, ge=1, le=65535, description="port to listen on")
    db_url: str | None = Field(None, description="SQLAlchemy URL of the request log and the callers' tokens "
                                                 "(default sqlite:///$APPWRIGHT_HOME/gateway/gateway.db)")

    # Which models it serves and which `auto` may choose.
    models: list[str] | None = Field(None, description="registry names (and [remotes]) it serves; default all")
    auto: list[str] | None = Field(None, description="the models `auto` chooses among; default the served "
                                                     "llama.cpp models that are installed, scripted ones, and "
                                                     "remote ones that have a key")
    remotes: dict[str, ModelSpec] = Field({}, description="extra OpenAI-compatible servers, by name")

    # Limits.
    budget_usd_per_day: float | None = Field(None, gt=0, description="dollars each caller may spend per UTC day "
                                                                     "(a key's own budget wins); none: no limit")
    remote_timeout_s: float = Field(60.0, gt=0, description="seconds a remote model may stay silent before "
                                                            "it counts as failed")
    max_tokens: int = Field(1024, ge=1, description="completion tokens when a request does not say")
    max_queue: int = Field(32, ge=1, description="requests that may wait for the local model; more get 503")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="largest request body; larger gets 413")

    router: RouterConfig = Field(default_factory=RouterConfig)

    @field_validator("remotes", mode="before")
    @classmethod
    def _remote_specs(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {name: {**entry, "name": name, "backend": "openai"} if isinstance(entry, dict) else entry
                for name, entry in value.items()}

    def log_url(self) -> str:
        return self.db_url or f"sqlite:///{appwright_home() / 'gateway' / 'gateway.db'}"


def config_path() -> Path:
    return Path(os.environ.get("APPWRIGHT_GATEWAY_TOML") or Path.home() / ".config/appwright/gateway.toml").expanduser()


def keys_path() -> Path:
    return Path(os.environ.get("APPWRIGHT_KEYS_TOML") or Path.home() / ".config/appwright/keys.toml").expanduser()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ModelError(f"{path}: not valid TOML: {e}") from None


def load_config(path: Path | None = None, **overrides: Any) -> GatewayConfig:
    """gateway.toml (if there is one) with `overrides` (the CLI's options, None meaning unset) on top.
    A ModelError says which field is wrong."""
    path = path or config_path()
    data = _read_toml(path) if path.is_file() else {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return GatewayConfig(**data)
    except ValidationError as e:
        why = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'settings'}: {err['msg']}" for err in e.errors())
        raise ModelError(f"{path}: {why}") from None


def provider_keys() -> dict[str, str]:
    """keys.toml's keys by variable name (`api_key` asks the environment first). Never logged or echoed."""
    path = keys_path()
    return {k: v for k, v in _read_toml(path).items() if isinstance(v, str)} if path.is_file() else {}


def api_key(spec: ModelSpec, keys: dict[str, str]) -> str | None:
    """The key for a remote model: its api_key_env from the environment, else from keys.toml."""
    if not spec.api_key_env:
        return None
    return os.environ.get(spec.api_key_env) or keys.get(spec.api_key_env)


def served_models(config: GatewayConfig) -> dict[str, ModelSpec]:
    """The models the gateway answers for, by name; a ModelError names any unknown one."""
    every = {**load_registry(), **config.remotes}
    if AUTO in every:
        raise ModelError(f"{AUTO!r} is the router's name; rename that model")
    for field, names in (("models", config.models), ("auto", config.auto)):
        unknown = [n for n in names or [] if n not in every]
        if unknown:
            raise ModelError(f"gateway.toml: {field} names unknown models {unknown}; known: {', '.join(sorted(every))}")
    return {n: every[n] for n in config.models} if config.models is not None else every


def auto_models(config: GatewayConfig, served: dict[str, ModelSpec], keys: dict[str, str]) -> list[str]:
    """The names `auto` may choose, in config order (the router sorts them by price). Without an
    `auto` list: the ready models, less the base of a ready trained one (appwright-0.5b replaces
    qwen2.5-coder-0.5b: the same weights and price, and the adapter was trained for this job)."""
    if config.auto is not None:
        missing = [n for n in config.auto if n not in served]
        if missing:
            raise ModelError(f"gateway.toml: auto names {missing}, which models does not serve")
        return list(config.auto)
    from appwright.models.pull import is_installed

    def ready(spec: ModelSpec) -> bool:
        if spec.backend == "scripted":
            return True
        if spec.backend == "llamacpp":  # transformers entries are for training, not serving
            return is_installed(spec) if spec.embedded else spec.cache_path().exists()
        return spec.backend == "openai" and api_key(spec, keys) is not None
    names = [name for name, spec in served.items() if ready(spec)]
    trained = {served[n].base for n in names if served[n].lora}
    return [n for n in names if n not in trained]
