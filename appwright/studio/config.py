"""Every knob of the studio in one validated record; the only place the studio reads the environment.

    config = StudioConfig(port=8800)                 # data in $APPWRIGHT_HOME/studio
    config.db_url, config.preview_origin, config.budget

`appwright studio --port --host --db --data-dir --model` fills the same fields.

    APPWRIGHT_HOME   root of Appwright's local state (default ~/.cache/appwright); the studio
                     keeps its database and the apps' bundles in $APPWRIGHT_HOME/studio
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from appwright.agent.loop import Budget
from appwright.models.registry import DEFAULT_MODEL


def default_data_dir() -> Path:
    home = os.environ.get("APPWRIGHT_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".cache" / "appwright") / "studio"


class StudioConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Where it listens. The preview of generated apps is served on its own port, a separate
    # origin, so an app's JavaScript can never call the studio with the person's cookie.
    host: str = Field("127.0.0.1", description="address both listeners bind to")
    port: int = Field(8800, ge=1, le=65535, description="the studio's port")
    preview_port: int | None = Field(None, ge=1, le=65535, description="the preview's port (default port + 1)")
    public_host: str | None = Field(None, description="the host name browsers use (default: host); both "
                                                      "origins are built from it")

    # Where it keeps things.
    data_dir: Path = Field(default_factory=default_data_dir,
                           description="apps' bundles (data_dir/apps/<id>) and the default database")
    db_url: str | None = Field(None, description="SQLAlchemy URL of the interaction log "
                                                  "(default sqlite:///<data_dir>/studio.db)")

    # The agent.
    default_model: str = Field(DEFAULT_MODEL, description="registry name preselected for a new app")
    protocol: Literal["files", "tools"] = Field("files", description="the harness protocol of every turn")
    max_steps: int = Field(4, ge=1, description="model calls per turn")
    max_tokens: int = Field(60_000, ge=1, description="prompt + completion tokens per turn")
    max_seconds: float = Field(900.0, gt=0, description="wall clock per turn, checked between model calls")
    check_in_browser: bool = Field(True, description="check_app loads each answer in Chromium "
                                                     "(off: manifest checks only, for tests)")

    # The security panel.
    grade_in_browser: bool = Field(True, description="run the probe's browser checks (stored XSS) too")
    grade_max_seconds: float = Field(120.0, gt=0, description="time limit of one version's probe")

    # People and input limits.
    session_days: int = Field(30, ge=1, description="how long a sign-in lasts")
    secure_cookies: bool = Field(False, description="mark cookies Secure (set when served over https)")
    max_prompt_chars: int = Field(4000, ge=1, description="longest request to the agent")
    max_flag_chars: int = Field(2000, ge=1, description="longest bug description")

    @model_validator(mode="after")
    def _fill(self) -> "StudioConfig":
        if self.preview_port is None:
            if self.port == 65535:
                raise ValueError("port 65535 leaves no room for the preview on port + 1; set preview_port")
            self.preview_port = self.port + 1
        if self.preview_port == self.port:
            raise ValueError(f"preview_port must differ from port ({self.port}): the preview needs its own origin")
        if self.public_host is None:
            if self.host in ("0.0.0.0", "::", ""):
                raise ValueError(f"host {self.host!r} listens everywhere: set public_host to the name browsers use")
            self.public_host = self.host
        self.data_dir = Path(self.data_dir).expanduser()
        if self.db_url is None:
            self.db_url = f"sqlite:///{self.data_dir / 'studio.db'}"
        return self

    @property
    def studio_origin(self) -> str:
        return f"http://{self.public_host}:{self.port}"

    @property
    def preview_origin(self) -> str:
        return f"http://{self.public_host}:{self.preview_port}"

    @property
    def apps_dir(self) -> Path:
        return self.data_dir / "apps"

    @property
    def runs_dir(self) -> Path:
        """Scratch folders the agent works in, one per running turn."""
        return self.data_dir / "runs"

    @property
    def budget(self) -> Budget:
        return Budget(max_steps=self.max_steps, max_tokens=self.max_tokens, max_seconds=self.max_seconds)
