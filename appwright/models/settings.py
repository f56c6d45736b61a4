"""Every environment variable the models package reads, read in one place.

    APPWRIGHT_HOME         root of Appwright's local state; models go in $APPWRIGHT_HOME/models
                           (default: ~/.cache/appwright, so models land in ~/.cache/appwright/models)
    APPWRIGHT_MODELS_TOML  the user's model registry (default: ~/.config/appwright/models.toml)
    APPWRIGHT_WHEELS       a folder of model-part wheels; if set, `pull` installs from it only
                           (pip --no-index --find-links), for tests and offline machines

The values are read when `models_settings()` is called, not at import, so tests can
set them with monkeypatch. API keys are not read here: each frontier model names its
own key variable in the registry and the OpenAI backend reads it when it is built.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelsSettings:
    cache_dir: Path            # where assembled GGUF files live
    user_registry: Path        # the user's models.toml (may not exist)
    wheels_dir: Path | None    # local wheel folder, or None for the package index


def appwright_home(environ: dict[str, str] | None = None) -> Path:
    """The root of Appwright's local state: $APPWRIGHT_HOME, else ~/.cache/appwright. The one place it is read."""
    env = os.environ if environ is None else environ
    return Path(env["APPWRIGHT_HOME"]).expanduser() if env.get("APPWRIGHT_HOME") else Path.home() / ".cache" / "appwright"


def models_settings(environ: dict[str, str] | None = None) -> ModelsSettings:
    env = os.environ if environ is None else environ
    home = appwright_home(env)
    user = env.get("APPWRIGHT_MODELS_TOML") or str(Path.home() / ".config" / "appwright" / "models.toml")
    wheels = env.get("APPWRIGHT_WHEELS")
    return ModelsSettings(cache_dir=home / "models", user_registry=Path(user).expanduser(),
                          wheels_dir=Path(wheels).expanduser() if wheels else None)
