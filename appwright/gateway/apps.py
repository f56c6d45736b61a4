"""App tasks through the gateway: verify, then escalate (issue 19, part 2).

    POST /v1/chat/completions  {"model": "auto", "messages": [{"role": "user", "content": "a private notes app"}],
                                "appwright": {"app": {"files": {}, "max_usd": 0.05, "max_seconds": 600}}}
    (the openai client: extra_body={"appwright": {"app": {"files": {...}}}})

A request carrying `appwright.app` is an app task: build (no files) or change (the app's
current files, path -> text) an Appwright app as the last user message asks. Each rung of the
ladder runs the agent exactly as `appwright new` / `edit` does (appwright/attempt.py `run`, the
model's own system prompt) in a throw-away folder, then the gateway verifies the bundle:

1. `check_app` (the agent's own final check, kept in its trajectory): app.json valid, the pages
   load without errors, a user signs up and the first form saves a record;
2. the app's own security probe (tasks/probe.py, what the studio's security panel runs): the
   access rules it declares hold for other users and visitors, stored text never runs as HTML,
   no secrets in the files.

The first rung whose bundle passes both is accepted. A rung that fails is noted with what
failed, and the next rung is tried; for an app task `auto` climbs every `auto` model cheapest
first (verification replaces the router's guess, so nothing is skipped), a named model is a
ladder of one. `max_usd` and `max_seconds` (optional) stop the climb once spent. When no rung
passes, the answer is the last bundle tried, with `accepted: false` and its problems.

The answer: the message content is the agent's reply to the person; `appwright.app` holds
`files` (every text file of the bundle), `accepted`, `model` and `problems`; `appwright.tried`
has one row per rung with its checks. Not streamed (a bundle is answered whole: 400 with
`stream: true`). Files are text only, at most 200 files; binary files are not carried.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from appwright.models.base import Backend, Message, ModelError
from appwright.models.registry import ModelSpec

MAX_FILES = 200


class AppTask(BaseModel):
    """The `appwright.app` extension of a request."""
    model_config = ConfigDict(extra="forbid")
    files: dict[str, str] = Field(default_factory=dict, max_length=MAX_FILES)
    max_usd: float | None = Field(None, gt=0)  # stop climbing once the rungs tried cost this much
    max_seconds: float | None = Field(None, gt=0)  # ... or took this long

    @field_validator("files")
    @classmethod
    def _inside(cls, files: dict[str, str]) -> dict[str, str]:
        for rel in files:
            parts = Path(rel).parts
            if not parts or Path(rel).is_absolute() or ".." in parts or any(p.startswith(".") for p in parts):
                raise ValueError(f"{rel!r} is not a path inside the app (relative, no '..', nothing hidden)")
        return files


@dataclass
class Rung:
    """One model's try at the app task, verified."""
    model: str
    accepted: bool
    problems: list[str]
    reply: str
    files: dict[str, str]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    seconds: float


@dataclass
class AppAnswer:
    rungs: list[Rung] = field(default_factory=list)
    stopped: str | None = None  # why the climb stopped before the ladder's end (a budget)

    @property
    def final(self) -> Rung | None:
        return next((r for r in self.rungs if r.accepted), self.rungs[-1] if self.rungs else None)


def app_ladder(served: dict[str, ModelSpec], auto: list[str], prompt: str, max_tokens: int) -> list[ModelSpec]:
    """An app task's `auto` ladder: every `auto` model, cheapest first for the request's size
    (verification replaces the router's guess, so no rung is skipped)."""
    from appwright.gateway.router import rank

    return rank([served[n] for n in auto], len(prompt) // 4, max_tokens)


def cli_ladder(prompt: str) -> tuple[list[ModelSpec], dict[str, str]]:
    """The ladder of `appwright new/edit --model auto`: gateway.toml's `auto` models (default: the
    served models that are ready on this machine), cheapest first, and the remote API keys.
    A ModelError says what is wrong with gateway.toml or that no model is ready."""
    from appwright.gateway.config import auto_models, config_path, load_config, provider_keys, served_models

    config = load_config()
    served, keys = served_models(config), provider_keys()
    ladder = app_ladder(served, auto_models(config, served, keys), prompt, config.max_tokens)
    if not ladder:
        raise ModelError(f"--model auto has no model to climb: pull one (appwright models pull NAME) or list "
                         f"some under `auto` in {config_path()} (docs/gateway.md)")
    return ladder, keys


def request_text(messages: list[Message]) -> str:
    """What the person asked: the last user message."""
    return next((m.content for m in reversed(messages) if m.role == "user"), "").strip()


def read_bundle(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if rel.parts[0].startswith("."):  # .aw: the app's data and versions
            continue
        try:
            out[rel.as_posix()] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    return out


def write_bundle(files: dict[str, str], folder: Path) -> None:
    """The caller's files (paths checked by AppTask) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def try_rung(spec: ModelSpec, backend: Backend, prompt: str, files: dict[str, str], browser: bool = True,
             checker=None) -> Rung:
    """The agent with `backend` on the task, in a throw-away folder (as `appwright new` runs it),
    then its check_app and the app's own security probe."""
    from appwright.attempt import run, verify

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aw-gateway-app-") as tmp:
        start = None
        if files:
            start = Path(tmp) / "start"
            write_bundle(files, start)
        folder = Path(tmp) / "app"
        traj = run(prompt, folder, backend, start=start, model_name=spec.name, prompt_style=spec.prompt,
                   checker=checker, save_version=False)
        problems = verify(traj, folder, browser)
        bundle = read_bundle(folder) if folder.is_dir() else {}
    return Rung(model=spec.name, accepted=not problems, problems=problems, reply=traj.summary or "",
                files=bundle, prompt_tokens=traj.prompt_tokens, completion_tokens=traj.completion_tokens,
                cost_usd=spec.price.cost(traj.prompt_tokens, traj.completion_tokens),
                seconds=round(time.monotonic() - started, 1))
