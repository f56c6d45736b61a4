"""Every knob of the studio in one validated record; the only place the studio reads the environment.

    config = StudioConfig(port=8800)                 # data in $APPWRIGHT_HOME/studio
    config.db_url, config.preview_origin, config.harness

`appwright studio --port --host --db --data-dir --model` fills the same fields.

    APPWRIGHT_HOME   root of Appwright's local state (default ~/.cache/appwright); the studio
                     keeps its database and the apps' bundles in $APPWRIGHT_HOME/studio
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from appwright.agent.config import Budget, HarnessConfig
from appwright.models.registry import DEFAULT_MODEL
from appwright.models.settings import appwright_home

_DEFAULTS = HarnessConfig()  # the harness's defaults: the studio's turns run as `appwright new` does


# The loopback names are two sites: a page on one cannot set cookies for the other.
LOOPBACK_PAIR = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}


def same_site(a: str, b: str) -> bool:
    """Whether a page on host `a` could share or set cookies with host `b`, judged conservatively
    without the public suffix list: the same name or address, one name under the other, or two
    names under one parent of two or more labels (a.example.com, b.example.com; this also
    refuses a.co.uk and b.co.uk, which are in fact two sites)."""
    if a == b:
        return True
    try:
        ipaddress.ip_address(a.strip("[]"))
        ipaddress.ip_address(b.strip("[]"))
        return False  # two different addresses
    except ValueError:
        pass
    la, lb = a.split("."), b.split(".")
    common = 0
    while common < min(len(la), len(lb)) and la[-1 - common] == lb[-1 - common]:
        common += 1
    return common == min(len(la), len(lb)) or common >= 2


def default_data_dir() -> Path:
    return appwright_home() / "studio"


class StudioConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Where it listens. The previews of generated apps are served on another site: another host
    # name (cookies ignore ports, so another port alone would let an app's page set cookies the
    # studio reads) and another port. Each listener answers only to its own host name.
    host: str = Field("127.0.0.1", description="address both listeners bind to")
    port: int = Field(8800, ge=1, le=65535, description="the studio's port")
    preview_port: int | None = Field(None, ge=1, le=65535, description="the preview's port (default port + 1)")
    public_host: str | None = Field(None, description="the host name browsers use for the studio (default: "
                                                      "host); the studio answers to no other")
    preview_host: str | None = Field(None, description="the host name of the previews, on another site than "
                                                       "public_host (default: localhost for 127.0.0.1 and the "
                                                       "other way round); the preview answers to no other")

    # Where it keeps things.
    data_dir: Path = Field(default_factory=default_data_dir,
                           description="apps' bundles (data_dir/apps/<id>) and the default database")
    db_url: str | None = Field(None, description="SQLAlchemy URL of the interaction log "
                                                  "(default sqlite:///<data_dir>/studio.db)")

    # The agent.
    default_model: str = Field(DEFAULT_MODEL, description="registry name preselected for a new app")
    protocol: Literal["files", "tools"] = Field(_DEFAULTS.protocol, description="the harness protocol of every turn")
    max_steps: int = Field(_DEFAULTS.budget.max_steps, ge=1, description="model calls per turn")
    max_tokens: int = Field(_DEFAULTS.budget.max_tokens, ge=1, description="prompt + completion tokens per turn")
    max_seconds: float = Field(_DEFAULTS.budget.max_seconds, gt=0,
                               description="wall clock per turn, checked between model calls")
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
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="largest request body; a larger one gets "
                                                                  "413 before it is read")

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
        self.public_host = self.public_host.lower()
        if self.preview_host is None:
            if self.public_host not in LOOPBACK_PAIR:
                raise ValueError(f"set preview_host: the previews need a host name on another site than "
                                 f"{self.public_host!r} (a domain of their own, e.g. example-preview.net for "
                                 f"studio.example.com)")
            self.preview_host = LOOPBACK_PAIR[self.public_host]
        self.preview_host = self.preview_host.lower()
        if same_site(self.public_host, self.preview_host):
            raise ValueError(f"preview_host {self.preview_host!r} is on the same site as the studio's "
                             f"{self.public_host!r}: a preview page could set cookies the studio reads. Use "
                             "another domain (not a subdomain of the studio's, nor a sibling of it)")
        self.data_dir = Path(self.data_dir).expanduser()
        if self.db_url is None:
            self.db_url = f"sqlite:///{self.data_dir / 'studio.db'}"
        return self

    @property
    def scheme(self) -> str:
        return "https" if self.secure_cookies else "http"  # secure cookies: served behind https

    @property
    def studio_origin(self) -> str:
        return f"{self.scheme}://{self.public_host}:{self.port}"

    @property
    def preview_origin(self) -> str:
        return f"{self.scheme}://{self.preview_host}:{self.preview_port}"

    @property
    def apps_dir(self) -> Path:
        return self.data_dir / "apps"

    @property
    def runs_dir(self) -> Path:
        """Scratch folders the agent works in, one per running turn."""
        return self.data_dir / "runs"

    @property
    def harness(self) -> HarnessConfig:
        """How every turn runs the agent: these settings over the harness's defaults."""
        budget = Budget(max_steps=self.max_steps, max_tokens=self.max_tokens, max_seconds=self.max_seconds)
        return HarnessConfig(protocol=self.protocol, budget=budget)
