"""The `appwright` command. Each sub-command is a thin shell over one package.

    appwright serve examples/notes --port 8000     # one app at /
    appwright serve examples/*                      # many, each under /apps/{folder}/
    appwright check examples/notes                  # validate; non-zero exit on errors
    appwright docs                                  # the platform reference the agent reads
    appwright users add ada@example.com --role admin --app examples/notes
    appwright versions list examples/notes          # and save, diff, restore
    appwright new "a private notes app" --out apps/notes   # the agent builds it, then it is served
    appwright edit apps/notes "add a search box"    # a new version of an app
    appwright models list                           # and pull, path
    appwright tasks list --split dev                # the task bank; and show, export, start
    appwright grade out/app --task build-notes-owner   # checks with evidence; exit 0 only when good
    appwright studio --port 8800                    # the web platform: chat, preview, versions, flags
    appwright train rl examples/train/rl-qwen0.5b.yaml  # and sft; data sample / data sft; models export[-hf]
    appwright data export --sft --pairs --tasks --out exports/   # the studio's log as training data
    appwright gateway --port 8900                   # OpenAI-compatible endpoint; gateway keys add NAME, stats

Exit codes, the same for every sub-command (appwright/exits.py): 0 success, 2 bad usage or input,
1 a run that was attempted and failed, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from appwright.agent.config import HarnessConfig
from appwright.evals.cli import app as evals_app
from appwright.exits import FAILED, INTERRUPTED, USAGE, fail
from appwright.gateway.cli import app as gateway_app
from appwright.models.cli import app as models_app
from appwright.studio.export_cli import export_command as data_export_command
from appwright.tasks.cli import app as tasks_app
from appwright.tasks.cli import grade_command
from appwright.train.cli import data_app, export_command, export_hf_command, export_peft_command, train_app
from appwright.workspace.cli import app as versions_app

app = typer.Typer(help="Appwright: describe a web app, get it built, hosted and secure.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
users_app = typer.Typer(help="Manage the users of a served app (its own database).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(versions_app, name="versions")
app.add_typer(models_app, name="models")
app.add_typer(tasks_app, name="tasks")
app.add_typer(evals_app, name="eval")
app.command("grade")(grade_command)
app.add_typer(train_app, name="train")
app.add_typer(data_app, name="data")
app.add_typer(gateway_app, name="gateway")
models_app.command("export-hf")(export_hf_command)  # here, not in models/: models never imports train
models_app.command("export")(export_command)
models_app.command("export-peft")(export_peft_command)
data_app.command("export")(data_export_command)  # here, not in train/: train never imports studio

out = Console()
err = Console(stderr=True)
_DEFAULTS = HarnessConfig()  # the harness's defaults, shared with `eval run` and the studio


@app.command()
def serve(
    bundles: list[Path] = typer.Argument(..., help="One bundle (served at /) or several (each under /apps/{folder}/)."),
    port: int = typer.Option(8000, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    data: Optional[Path] = typer.Option(None, help="Folder for the database of a single app (default BUNDLE/.aw)."),
    allowed_host: list[str] = typer.Option([], "--allowed-host", help="A host name browsers use to reach it, "
                                           "besides 127.0.0.1, localhost, [::1] and --host (repeat); other "
                                           "Host headers get 400 (DNS rebinding)."),
) -> None:
    """Serve app bundles: pages, /_aw/sdk.js and the REST API."""
    from appwright.runtime.app import LOCAL_HOSTS, Host, create_app
    from appwright.runtime.check import check_bundle

    named = [host] if host not in ("0.0.0.0", "::", "") else []
    hosts = list(dict.fromkeys([*LOCAL_HOSTS, *named, *allowed_host]))
    if not named and not allowed_host:
        err.print(f"[yellow]warning:[/] listening on every address but answering only to {', '.join(hosts)}; "
                  "add --allowed-host NAME for the name others use", highlight=False)

    for bundle in bundles:
        report = check_bundle(bundle, data if len(bundles) == 1 else None)
        if not report.ok:
            fail(f"{bundle} cannot be served:\n  " + "\n  ".join(report.errors), USAGE)
        for w in report.warnings:
            err.print(f"[yellow]warning:[/] {escape(str(bundle))}: {escape(w)}", highlight=False)
    if len(bundles) == 1:
        asgi = create_app(bundles[0], data, allowed_hosts=hosts)
        urls = [f"http://{host}:{port}/"]
    else:
        if data:
            fail("--data is for a single app; several apps keep their data in BUNDLE/.aw", USAGE)
        asgi = Host(allowed_hosts=hosts)
        for bundle in bundles:
            asgi.add(bundle.resolve().name, bundle)
        urls = [f"http://{host}:{port}/apps/{b.resolve().name}/" for b in bundles]
    _run_server(asgi, urls, host, port)


def _run_server(asgi, urls: list[str], host: str, port: int) -> None:
    import uvicorn

    for url in urls:
        out.print(f"serving [bold]{url}[/]  (Ctrl-C stops)", highlight=False)
    uvicorn.run(asgi, host=host, port=port, log_level="warning")


def _build(prompt: str, bundle: Path, edit: bool, model: str, protocol: str, max_steps: int,
           max_seconds: float, max_tokens: int, seed: Optional[int], temperature: float,
           serve_it: bool, port: int) -> None:
    from appwright.agent.config import Budget, HarnessConfig
    from appwright.agent.scope import english_only, out_of_scope
    from appwright.build import MAX_REQUEST_CHARS, BuildOptions, build, climb, report
    from appwright.gateway.apps import cli_ladder
    from appwright.gateway.config import AUTO
    from appwright.models import ModelError, get_model

    if not prompt.strip():
        fail("the request is empty; say what the app should do", USAGE)
    if len(prompt) > MAX_REQUEST_CHARS:
        fail(f"the request is {len(prompt):,} characters; at most {MAX_REQUEST_CHARS:,}: say what the app "
             "should do in fewer words", USAGE)
    if protocol not in ("files", "tools"):
        fail(f"--protocol: expected files or tools; got {protocol!r}", USAGE)
    try:
        specs, keys = cli_ladder(prompt) if model == AUTO else ([get_model(model)], {})
        harness = HarnessConfig(protocol=protocol,  # type: ignore[arg-type]
                                budget=Budget(max_steps=max_steps, max_tokens=max_tokens, max_seconds=max_seconds),
                                temperature=temperature, seed=seed)
    except (ValueError, ModelError) as exc:  # an unknown model, a budget that is not positive, no model for auto
        fail(str(exc), USAGE)
    if why := out_of_scope(prompt, english_only=all(english_only(s) for s in specs)):
        fail(why, USAGE)
    try:
        if model == AUTO:
            out.print("auto: " + " -> ".join(s.name for s in specs) + " (cheapest first, until an app passes "
                      "check_app and its security probe)", highlight=False)
            traj, accepted = climb(prompt, bundle, specs, keys, harness, out, edit=edit)
            servable = traj is not None and traj.version_id is not None
            if traj is not None and servable and not accepted:
                err.print("[yellow]warning:[/] no model's app passed every check; the last one is kept",
                          highlight=False)
        else:
            traj = build(prompt, bundle, BuildOptions(model=model, harness=harness, prompt_style=specs[0].prompt),
                         out, edit=edit)
            servable = report(traj, bundle, out)
    except KeyboardInterrupt:
        raise typer.Exit(INTERRUPTED)
    except ModelError as exc:  # the model failed while running
        fail(str(exc), FAILED)
    if not servable:
        fail(f"{bundle} is not a valid app yet; see the check above, then try `appwright edit {bundle} \"...\"`",
             FAILED)
    if serve_it:
        from appwright.runtime.app import create_app

        _run_server(create_app(bundle), [f"http://127.0.0.1:{port}/"], "127.0.0.1", port)


_MODEL = typer.Option(None, "--model", help="A registry name (appwright models list), or auto: the ready models "
                      "cheapest first until an app passes its checks (docs/gateway.md); default appwright-0.5b, "
                      "our own model on the embedded 0.5B.")
_PROTOCOL = typer.Option(_DEFAULTS.protocol, help="files: one answer with every file; tools: one tool call per step.")
_STEPS = typer.Option(_DEFAULTS.budget.max_steps, help="At most this many model calls.")
_SECONDS = typer.Option(_DEFAULTS.budget.max_seconds, help="Stop starting new model calls after this many seconds.")
_TOKENS = typer.Option(_DEFAULTS.budget.max_tokens, help="At most this many prompt + completion tokens in all.")
_SEED = typer.Option(_DEFAULTS.seed, help="Sampling seed, for a repeatable run.")
_TEMP = typer.Option(_DEFAULTS.temperature, help="Sampling temperature.")
_SERVE = typer.Option(True, "--serve/--no-serve", help="Serve the app when it is built.")
_PORT = typer.Option(8000, help="Port to serve on.")


@app.command()
def new(
    prompt: str = typer.Argument(..., help="What the app should do, in plain words."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for the app (default apps/<words>)."),
    model: Optional[str] = _MODEL, protocol: str = _PROTOCOL, max_steps: int = _STEPS,
    max_seconds: float = _SECONDS, max_tokens: int = _TOKENS, seed: Optional[int] = _SEED,
    temperature: float = _TEMP, serve_it: bool = _SERVE, port: int = _PORT,
) -> None:
    """Build a new app from a description, check it in a browser, save a version and serve it."""
    from appwright.build import new_bundle_path
    from appwright.models import DEFAULT_MODEL

    bundle = out_dir or new_bundle_path(prompt)
    if bundle.exists() and any(bundle.iterdir()):
        fail(f"{bundle} already holds files; use `appwright edit {bundle} \"...\"` or another --out", USAGE)
    _build(prompt, bundle, False, model or DEFAULT_MODEL, protocol, max_steps, max_seconds, max_tokens, seed,
           temperature, serve_it, port)


@app.command()
def edit(
    bundle: Path = typer.Argument(..., help="The app folder."),
    prompt: str = typer.Argument(..., help="The change, in plain words."),
    model: Optional[str] = _MODEL, protocol: str = _PROTOCOL, max_steps: int = _STEPS,
    max_seconds: float = _SECONDS, max_tokens: int = _TOKENS, seed: Optional[int] = _SEED,
    temperature: float = _TEMP, serve_it: bool = _SERVE, port: int = _PORT,
) -> None:
    """Change an existing app; the result is a new version (the old one stays restorable)."""
    from appwright.models import DEFAULT_MODEL

    if not (bundle / "app.json").is_file():
        fail(f"{bundle}: not an app folder (no app.json); create one with `appwright new`", USAGE)
    _build(prompt, bundle, True, model or DEFAULT_MODEL, protocol, max_steps, max_seconds, max_tokens, seed,
           temperature, serve_it, port)


@app.command()
def check(bundle: Path = typer.Argument(..., help="The app bundle folder.")) -> None:
    """Validate a bundle; print every problem and exit non-zero if it cannot be served."""
    from appwright.runtime.check import check_bundle

    report = check_bundle(bundle)
    for e in report.errors:
        err.print(f"[red]error:[/] {escape(e)}", highlight=False)
    for w in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    if not report.ok:  # the verdict of the check, not bad usage
        raise typer.Exit(FAILED)
    m = report.manifest
    out.print(f"[green]ok[/] {bundle}: {m.name!r}, entities: {', '.join(m.entities) or 'none'}, "
              f"signup: {m.auth.signup}", highlight=False)


@app.command()
def studio(
    port: int = typer.Option(8800, help="The studio's port; the previews of the apps use port + 1."),
    host: str = typer.Option("127.0.0.1", help="Address both listeners bind to."),
    db: Optional[str] = typer.Option(None, "--db", help="SQLAlchemy URL of the interaction log "
                                     "(default sqlite:///DATA_DIR/studio.db; Postgres: postgresql+psycopg://...)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Where the apps' bundles and the default "
                                            "database live (default $APPWRIGHT_HOME/studio)."),
    model: Optional[str] = typer.Option(None, "--model", help="The model preselected for a new app "
                                        "(a registry name or auto; default appwright-0.5b)."),
    preview_port: Optional[int] = typer.Option(None, help="Port of the preview origin (default port + 1)."),
    public_host: Optional[str] = typer.Option(None, help="The host name browsers use for the studio "
                                              "(default --host); the studio answers to no other."),
    preview_host: Optional[str] = typer.Option(None, help="The previews' host name, on another site "
                                               "(default localhost for 127.0.0.1 and the other way round)."),
) -> None:
    """The studio: build apps by chat in the browser, with live preview, versions, ratings and bug reports."""
    from pydantic import ValidationError

    from appwright.gateway.config import AUTO
    from appwright.models import ModelError, get_model
    from appwright.studio.app import serve
    from appwright.studio.config import StudioConfig

    settings = {"port": port, "host": host, "db_url": db, "data_dir": data_dir, "default_model": model,
                "preview_port": preview_port, "public_host": public_host, "preview_host": preview_host}
    try:
        config = StudioConfig(**{k: v for k, v in settings.items() if v is not None})
        if config.default_model != AUTO:
            get_model(config.default_model)
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()), USAGE)
    except ModelError as exc:  # an unknown --model
        fail(str(exc), USAGE)
    out.print(f"studio at [bold]{config.studio_origin}/[/]  (previews on {config.preview_origin}; "
              f"data in {config.data_dir}; Ctrl-C stops)", highlight=False)
    serve(config)


@app.command()
def docs() -> None:
    """Print the platform reference (markdown), generated from the runtime itself."""
    from appwright.runtime.docs import render_docs

    sys.stdout.write(render_docs())


def _store(bundle: Path):
    from appwright.runtime.manifest import ManifestError, load_manifest
    from appwright.runtime.storage import AppStore, db_path

    try:
        manifest = load_manifest(bundle)
    except ManifestError as exc:
        fail(f"{bundle}: not a valid bundle:\n  " + "\n  ".join(exc.errors), USAGE)
    return manifest, AppStore(db_path(bundle))


@users_app.command("add")
def users_add(
    email: str = typer.Argument(..., help="The user's email."),
    role: Optional[str] = typer.Option(None, help="admin, or a role named in the app's auth.roles."),
    bundle: Path = typer.Option(Path("."), "--app", help="The app bundle."),
    password_env: str = typer.Option("AW_PASSWORD", help="Read the password from this environment "
                                     "variable if set; otherwise ask for it."),
) -> None:
    """Add a user to an app (whatever its signup rule), or change an existing user's role."""
    from appwright.runtime import auth

    manifest, store = _store(bundle)
    if role is not None and role not in {"admin", *manifest.auth.roles}:
        fail(f"--role: expected admin{''.join(', ' + r for r in manifest.auth.roles)}; got {role!r}", USAGE)
    try:
        email, _ = auth.check_credentials_shape(email, "")
    except auth.AuthError as exc:
        fail(exc.message, USAGE)
    existing = store.user_by_email(email)
    if existing:
        if role is None:
            fail(f"{email} is already a user (role: {existing.role or 'none'}); give --role to change it", USAGE)
        store.set_role(existing.id, role)
        out.print(f"{email}: role set to {role}")
        return
    password = os.environ.get(password_env) or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        auth.check_new_password(password)
    except auth.AuthError as exc:
        fail(exc.message, USAGE)
    store.create_user(email, auth.hash_password(password), role=role)
    out.print(f"added {email}" + (f" with role {role}" if role else ""))


@users_app.command("invite")
def users_invite(
    role: Optional[str] = typer.Option(None, help="Role the invite gives."),
    bundle: Path = typer.Option(Path("."), "--app", help="The app bundle."),
) -> None:
    """Print a new single-use invite code for an invite-only app."""
    manifest, store = _store(bundle)
    if role is not None and role not in {"admin", *manifest.auth.roles}:
        fail(f"--role: expected admin{''.join(', ' + r for r in manifest.auth.roles)}; got {role!r}", USAGE)
    if manifest.auth.signup != "invite":
        err.print(f"[yellow]warning:[/] this app's signup is {manifest.auth.signup!r}; invite codes only matter "
                  "when it is 'invite'", highlight=False)
    print(store.create_invite(role, None))


@users_app.command("list")
def users_list(bundle: Path = typer.Option(Path("."), "--app", help="The app bundle.")) -> None:
    """List an app's users."""
    from rich.table import Table

    _, store = _store(bundle)
    table = Table("email", "role", "created")
    for u in store.list_users():
        table.add_row(u.email, u.role or "", u.created_at)
    out.print(table)


if __name__ == "__main__":
    app()
