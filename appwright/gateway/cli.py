"""`appwright gateway ...`: serve the gateway, manage callers' keys, print the log's stats.

    appwright gateway --port 8900              # the same as `appwright gateway serve --port 8900`
    appwright gateway keys add ada [--budget 2.5]   # prints ada's token once
    appwright gateway keys list                # and remove NAME
    appwright gateway stats [--days 7]         # per model: requests, tokens, cost, latency, escalations

A typer sub-app (`app`), mounted by the top-level CLI. Settings come from gateway.toml (config.py);
--port and --host win over it. Errors print one line and exit 2 (appwright/exits.py).
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from appwright.exits import USAGE, fail
from appwright.gateway.config import GatewayConfig, config_path, load_config
from appwright.models.base import ModelError

app = typer.Typer(help="The OpenAI-compatible gateway: one endpoint, cost-aware routing, a request log "
                       "(docs/gateway.md).")
keys_app = typer.Typer(help="Callers' bearer tokens: each caller gets one, shown once.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
out = Console()
err = Console(stderr=True)

_PORT = typer.Option(None, "--port", help="Port to listen on (default 8900, or gateway.toml's port).")
_HOST = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1, or gateway.toml's host).")


def _config(**overrides) -> GatewayConfig:
    try:
        return load_config(**overrides)
    except ModelError as e:
        fail(str(e), USAGE)


def _db(config: GatewayConfig):
    from appwright.gateway.db import Database
    return Database.open(config.log_url())


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context, port: Optional[int] = _PORT, host: Optional[str] = _HOST) -> None:
    """The OpenAI-compatible gateway. Without a sub-command: serve it (as `appwright gateway serve`)."""
    if ctx.invoked_subcommand is None:
        serve(port=port, host=host)


@app.command()
def serve(port: Optional[int] = _PORT, host: Optional[str] = _HOST) -> None:
    """Serve /v1/chat/completions, /v1/models and /v1/usage (Ctrl-C stops); `appwright gateway --port N` does the same."""
    import uvicorn

    from appwright.gateway.app import create_gateway
    from appwright.gateway.keys import list_keys

    config = _config(port=port, host=host)
    try:
        asgi = create_gateway(config)
    except ModelError as e:  # an unknown model in gateway.toml, a bad keys.toml
        fail(str(e), USAGE)
    gateway = asgi.state.gateway
    if config.host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"[yellow]warning:[/] listening on {escape(config.host)}: anyone who can reach it may try "
                  "tokens; put it behind https for anything but a trusted network", highlight=False)
    if not list_keys(gateway.db):
        err.print("[yellow]warning:[/] no keys yet, so every request gets 401: "
                  "`appwright gateway keys add NAME` makes one", highlight=False)
    out.print(f"gateway at [bold]http://{config.host}:{config.port}/v1[/]  ({len(gateway.served)} models; auto "
              f"chooses among {', '.join(gateway.auto) or 'none'}; log {escape(config.log_url())}; Ctrl-C stops)",
              highlight=False, soft_wrap=True)
    uvicorn.run(asgi, host=config.host, port=config.port, log_level="warning")


@keys_app.command("add")
def keys_add(
    name: str = typer.Argument(..., help="Who the key is for; the log and /v1/usage show this name."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Dollars this caller may spend per UTC day "
                                           "(default gateway.toml's budget_usd_per_day)."),
) -> None:
    """Make a caller's bearer token and print it once (only its hash is stored)."""
    from appwright.gateway.keys import add_key

    db = _db(_config())
    try:
        token = add_key(db, name, budget)
    except ValueError as e:
        fail(str(e), USAGE)
    finally:
        db.close()
    err.print(f"key for {escape(name)} (shown once; send it as 'Authorization: Bearer ...'):", highlight=False)
    print(token)


@keys_app.command("list")
def keys_list() -> None:
    """Every caller's name, daily budget and creation date (tokens cannot be shown again)."""
    from appwright.gateway.keys import list_keys

    config = _config()
    db = _db(config)
    callers = list_keys(db)
    db.close()
    table = Table("name", "budget $/day", "created")
    default = f"{config.budget_usd_per_day:g} (default)" if config.budget_usd_per_day else "none"
    for c in callers:
        table.add_row(escape(c.name), f"{c.budget_usd_per_day:g}" if c.budget_usd_per_day else default,
                      c.created_at.strftime("%Y-%m-%d %H:%M") if c.created_at else "")
    out.print(table)


@keys_app.command("remove")
def keys_remove(name: str = typer.Argument(..., help="The caller whose token stops working.")) -> None:
    """Delete a caller's token; requests with it get 401 from now on."""
    from appwright.gateway.keys import remove_key

    db = _db(_config())
    removed = remove_key(db, name)
    db.close()
    if not removed:
        fail(f"no key named {name!r} (appwright gateway keys list)", USAGE)
    out.print(f"removed {escape(name)}", highlight=False)


@app.command()
def stats(days: Optional[int] = typer.Option(None, "--days", min=1, help="Only the last N UTC days "
                                             "(today included); default the whole log.")) -> None:
    """Per model, from the request log: requests, errors, tokens, dollars, mean latency, escalations."""
    from appwright.gateway.log import model_stats

    config = _config()
    db = _db(config)
    rows = model_stats(db, days)
    db.close()
    if not rows:
        out.print(f"no requests in the log yet ({escape(config.log_url())})", highlight=False)
        return
    table = Table(title=f"gateway requests{f', last {days} days' if days else ''}")
    table.add_column("model", no_wrap=True)
    for col in ("requests", "errors", "tokens in", "tokens out", "cost $", "mean latency s", "escalations"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(escape(r.model), str(r.requests), str(r.errors), f"{r.prompt_tokens:,}",
                      f"{r.completion_tokens:,}", f"{r.cost_usd:.6f}", f"{r.mean_latency_s:.3f}", str(r.escalations))
    out.print(table)
    out.print(f"settings: {escape(str(config_path()))}; log: {escape(config.log_url())}", highlight=False,
              soft_wrap=True)
