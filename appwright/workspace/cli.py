"""`appwright versions ...`: save, list, diff and restore versions of an app bundle.

    appwright versions save BUNDLE [-m MSG] [--data]
    appwright versions list BUNDLE
    appwright versions diff BUNDLE A [B]        B defaults to the working files
    appwright versions restore BUNDLE ID [--no-data]

Ids may be any unique prefix of 4+ characters, or HEAD. Errors print
`error: <message>` to stderr and exit 2 when the input is bad (not a bundle, an unknown or
ambiguous id) or 1 when a save or restore that started failed (appwright/exits.py). Mounted by appwright/cli.py
with `app.add_typer(versions_app, name="versions")`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from appwright.exits import FAILED, USAGE, fail
from appwright.workspace.diff import diff as diff_versions
from appwright.workspace.restore import restore as restore_version
from appwright.workspace.store import WorkspaceError, bundle_folder, get, list_versions, read_head
from appwright.workspace.store import save as save_version

app = typer.Typer(
    name="versions",
    help="Save, list, diff and restore versions of an app bundle.",
    no_args_is_help=True,
)

Bundle = Annotated[Path, typer.Argument(help="App bundle folder (holds app.json).")]


@app.command()
def save(
    bundle: Bundle,
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")] = "",
    data: Annotated[bool, typer.Option("--data", help="Also snapshot the app's live data.")] = False,
) -> None:
    """Save the working files (and optionally the data) as a version."""
    try:
        known = {v.id for v in list_versions(bundle_folder(bundle, need_manifest=True))}
    except WorkspaceError as e:  # not a bundle, or a corrupt version record
        fail(str(e), USAGE)
    try:
        version = save_version(bundle, message, with_data=data)
    except WorkspaceError as e:  # the save started and failed (e.g. the data snapshot)
        fail(str(e), FAILED)
    for path in version.skipped:
        typer.echo(f"skipped (not a regular file): {path}")
    if version.id in known:
        typer.echo(f"no changes: already saved as {version.short_id}")
        return
    with_data = ", with data snapshot" if version.data else ""
    typer.echo(f"saved {version.short_id} ({len(version.files)} files{with_data})")
    if data and version.data is None:
        typer.echo("no data to snapshot yet")


@app.command("list")
def list_(bundle: Bundle) -> None:
    """List versions, newest first; HEAD is marked with *."""
    try:
        versions = list_versions(bundle)
        head = read_head(bundle)
    except WorkspaceError as e:
        fail(str(e), USAGE)
    if not versions:
        typer.echo(f"no versions yet; run: appwright versions save {bundle}")
        return
    table = Table("", "id", "created (UTC)", "files", "data", "message")
    for v in versions:
        table.add_row(
            "*" if v.id == head else "",
            v.short_id,
            v.created_at[:19].replace("T", " "),
            str(len(v.files)),
            "yes" if v.data else "no",
            v.message,
        )
    Console().print(table)


@app.command()
def diff(
    bundle: Bundle,
    a: Annotated[str, typer.Argument(help="Version id or prefix to diff from.")],
    b: Annotated[str | None, typer.Argument(help="Version to diff to; default: working files.")] = None,
) -> None:
    """Show a unified diff between two versions, or a version and the working files."""
    try:
        text = diff_versions(bundle, a, b)
    except WorkspaceError as e:  # not a bundle, an unknown id, a corrupt store: diff only reads
        fail(str(e), USAGE)
    typer.echo(text.rstrip("\n") if text else "no differences")


@app.command()
def restore(
    bundle: Bundle,
    version_id: Annotated[str, typer.Argument(metavar="ID", help="Version id or prefix.")],
    no_data: Annotated[bool, typer.Option("--no-data", help="Leave the live data as it is.")] = False,
) -> None:
    """Make the working files (and data) those of a version; unsaved work is autosaved first."""
    try:
        get(bundle, version_id)
    except WorkspaceError as e:  # not a bundle, an unknown or ambiguous id
        fail(str(e), USAGE)
    try:
        result = restore_version(bundle, version_id, data=not no_data)
    except WorkspaceError as e:  # the restore started and failed (a folder in the way, a busy database)
        fail(str(e), FAILED)
    if result.autosaved is not None:
        typer.echo(f"autosaved unsaved work as {result.autosaved.short_id}")
    v = result.version
    typer.echo(f"restored {v.short_id}: {len(result.written)} files written, {len(result.deleted)} deleted")
    if result.data == "restored":
        typer.echo("data restored from the version's snapshot")
    elif result.data == "no_snapshot":
        typer.echo(f"data left as is: version {v.short_id} has no data snapshot")
    else:
        typer.echo("data left as is (--no-data)")
