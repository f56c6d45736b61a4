"""`appwright new` and `appwright edit`: run the agent on one request with live progress.

    appwright new "a private notes app" --out apps/notes        # builds, checks, serves
    appwright edit apps/notes "let me pin notes to the top"       # a new version of it
    appwright new "a private notes app" --model auto             # cheapest model first, verified (`climb`)

The flow, top to bottom: load the model (pulling the embedded one on first use), run
the harness (`attempt.run`: the agent, then one version of a servable app) with a live line of steps, tokens and elapsed time,
append the trajectory to `BUNDLE/.aw/trajectories.jsonl`, print the check result.

Ctrl-C: `edit` saves the app as a version before the agent touches it and puts those
files back if interrupted (data is never touched); `new` removes the half-built folder
it created. Either way the last good version stays as it was.

Not done: edits are not merged with changes a person makes to the files while the agent
runs; one request at a time per app.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from appwright.agent.config import HarnessConfig
from appwright.agent.loop import Event
from appwright.agent.prompt import PromptStyle
from appwright.agent.trajectory import Trajectory, append_jsonl
from appwright.attempt import run
from appwright.models import Backend, ModelError, ModelSpec, load_backend
from appwright.workspace import WorkspaceError, restore, save

TRAJECTORIES = "trajectories.jsonl"  # under BUNDLE/.aw/
MAX_REQUEST_CHARS = 8000  # a longer request is refused before any model call (exit code 2)


@dataclass(frozen=True)
class BuildOptions:
    model: str
    harness: HarnessConfig = HarnessConfig()
    prompt_style: PromptStyle = "full"  # the registry entry's `prompt`


class Progress:
    """One live status line fed by the harness's events."""

    def __init__(self, live: Live, console: Console):
        self.live, self.console = live, console
        self.step, self.generated, self.step_started, self.activity = 0, 0, time.monotonic(), "thinking"
        self.elapsed, self.tokens_used = 0.0, 0

    def __call__(self, e: Event) -> None:
        self.elapsed, self.tokens_used = e.elapsed_s, e.tokens_used
        if e.kind == "step_started":
            self.step, self.generated, self.step_started, self.activity = e.step, 0, time.monotonic(), "writing"
        elif e.kind == "token":
            self.generated += 1
        elif e.kind == "tool_result":
            mark = "[green]ok[/]" if e.ok else "[red]failed[/]"
            self.console.print(f"  step {e.step}: {escape(e.tool or '')} {mark}", highlight=False)
            self.activity = "thinking"
        elif e.kind == "check":
            self.activity = "checking done"
            self.console.print(f"  check: {'[green]ok[/]' if e.ok else '[yellow]problems[/]'}", highlight=False)
        self.live.update(self.render())

    def render(self) -> Text:
        rate = self.generated / max(time.monotonic() - self.step_started, 1e-6)
        return Text(f"step {self.step} · {self.generated} tokens this step ({rate:.1f}/s) · "
                    f"{self.tokens_used:,} tokens in all · {self.elapsed:.0f} s · {self.activity}", style="cyan")


def build(prompt: str, bundle: Path, options: BuildOptions, console: Console, *, edit: bool,
          backend: Backend | None = None) -> Trajectory:
    """Run the agent on `bundle` (created by `new`, existing for `edit`) with `backend` (default:
    the registry's `options.model`; closed here either way). Re-raises KeyboardInterrupt after
    putting the last good version back."""
    # 1. The model: pulled with a progress bar the first time.
    backend = backend or load_backend(options.model, console=console)
    # 2. What to go back to if interrupted.
    before = None
    if edit:
        before = save(bundle, f"before edit: {prompt[:60]}")
    created = not edit and not bundle.exists()
    bundle.mkdir(parents=True, exist_ok=True)
    # 3. The harness, with a live status line.
    try:
        with Live(Text("loading the model's prompt...", style="cyan"), console=console, refresh_per_second=4,
                  transient=True) as live:
            traj = run(prompt, bundle, backend, options.harness, model_name=options.model,
                       on_event=Progress(live, console), prompt_style=options.prompt_style)
    except KeyboardInterrupt:
        if before is not None:
            restore(bundle, before.id, data=False)
            console.print(f"[yellow]interrupted:[/] {bundle} is back at version {before.short_id}")
        elif created:
            shutil.rmtree(bundle, ignore_errors=True)
            console.print(f"[yellow]interrupted:[/] removed the half-built {bundle}")
        raise
    finally:
        backend.close()
    # 4. The record training consumes.
    append_jsonl(bundle / ".aw" / TRAJECTORIES, traj)
    return traj


def report(traj: Trajectory, bundle: Path, console: Console) -> bool:
    """Print what happened; True when the bundle can be served."""
    console.print(f"[bold]{escape(traj.model)}[/] · {traj.protocol} · {len(traj.steps)} step(s) · "
                  f"{traj.prompt_tokens:,} prompt + {traj.completion_tokens:,} completion tokens · "
                  f"{traj.elapsed_s:.0f} s · ${traj.cost_usd:.5f} · stopped: {traj.stop_reason}", highlight=False)
    if traj.error:
        console.print(f"[red]model error:[/] {escape(traj.error)}", highlight=False)
    if traj.summary:
        console.print(f"[dim]{escape(traj.summary.strip()[:600])}[/]", highlight=False)
    if traj.check:
        colour = "green" if traj.check.ok else "yellow"
        console.print(f"[{colour}]{escape(traj.check.text)}[/]", highlight=False)
    if traj.version_id:
        console.print(f"saved version [bold]{traj.version_id[:12]}[/] of {bundle} "
                      f"(appwright versions list {bundle})", highlight=False)
    console.print(f"[dim]trajectory {traj.id} appended to {bundle / '.aw' / TRAJECTORIES}[/]", highlight=False)
    return traj.version_id is not None


def climb(prompt: str, bundle: Path, ladder: list[ModelSpec], keys: dict[str, str], harness: HarnessConfig,
          console: Console, *, edit: bool, browser: bool = True) -> tuple[Trajectory | None, bool]:
    """`--model auto`: the models of `ladder` in turn (cheapest first, gateway/apps.py `cli_ladder`)
    until one's app passes `check_app` and the app's own security probe, as the gateway verifies an
    app task. A rung that fails is undone before the next: `edit` puts the app back as it was,
    `new` empties the folder. Every rung's trajectory is appended to BUNDLE/.aw/trajectories.jsonl.
    When no rung passes, the last rung's app stays. Returns the last trajectory (None when no
    model could be loaded) and whether it was accepted."""
    from appwright.attempt import verify
    from appwright.gateway.config import api_key
    from appwright.models import backend_for

    before = save(bundle, f"before auto: {prompt[:60]}") if edit else None
    created = not bundle.exists()
    traj: Trajectory | None = None
    try:
        for i, spec in enumerate(ladder, 1):
            if i > 1:
                if before is not None:
                    restore(bundle, before.id, data=False)
                else:
                    _empty(bundle)
            console.print(f"[bold]auto, rung {i} of {len(ladder)}: {escape(spec.name)}[/]", highlight=False)
            try:
                backend = backend_for(spec, console, api_key(spec, keys))
            except ModelError as exc:
                console.print(f"[yellow]skipped {escape(spec.name)}:[/] {escape(str(exc))}", highlight=False)
                continue
            traj = build(prompt, bundle, BuildOptions(spec.name, harness, spec.prompt), console, edit=edit,
                         backend=backend)
            report(traj, bundle, console)
            problems = verify(traj, bundle, browser)
            if not problems:
                console.print(f"[green]accepted[/] the app of {escape(spec.name)}: it passed check_app and its "
                              "security probe", highlight=False)
                return traj, True
            console.print(f"[yellow]not accepted[/] ({escape(spec.name)}): {escape('; '.join(problems)[:600])}",
                          highlight=False)
    except KeyboardInterrupt:
        if created and not edit:
            shutil.rmtree(bundle, ignore_errors=True)
        raise
    return traj, False


def _empty(bundle: Path) -> None:
    """Everything but .aw (its versions, data and trajectories stay)."""
    for path in bundle.iterdir():
        if path.name != ".aw":
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def new_bundle_path(prompt: str, parent: Path = Path("apps")) -> Path:
    """apps/<first words of the prompt>, numbered if taken."""
    words = "".join(c if c.isalnum() else " " for c in prompt.lower()).split()[:4]
    stem = "-".join(words) or "app"
    path, n = parent / stem, 2
    while path.exists():
        path, n = parent / f"{stem}-{n}", n + 1
    return path


__all__ = ["BuildOptions", "WorkspaceError", "build", "climb", "new_bundle_path", "report"]
