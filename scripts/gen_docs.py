"""Regenerate the docs that are derived from the code; tests/test_generated_docs.py fails when they are stale.

    .venv/bin/python scripts/gen_docs.py

- docs/platform.md: the platform reference the agent reads (`appwright docs`).
- docs/cli.md: every `appwright` command with its arguments and options.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appwright.cli import app  # noqa: E402
from appwright.runtime.docs import render_docs  # noqa: E402


def _commands(cmd, path: list[str]):
    # typer 0.29 carries its own copy of click, so its classes are not click's: ask for sub-commands.
    if getattr(cmd, "commands", None):
        for name in sorted(cmd.commands):
            yield from _commands(cmd.commands[name], path + [name])
    else:
        yield path, cmd


def cli_reference() -> str:
    root = typer.main.get_command(app)
    lines = ["# `appwright` command reference", "",
             "Generated from the CLI by `scripts/gen_docs.py`; do not edit by hand.", ""]
    for path, cmd in _commands(root, ["appwright"]):
        args = " ".join(p.name.upper() + ("..." if p.nargs == -1 else "")
                        for p in cmd.params if p.param_type_name == "argument")
        lines += [f"## `{' '.join(path + [args]).strip()}`", ""]
        lines += [(cmd.help or "").strip().split("\n\n")[0], ""]
        rows = []
        for p in cmd.params:
            if p.param_type_name == "argument":
                rows.append((p.name.upper(), getattr(p, "help", "") or ""))
            elif not p.hidden and p.name != "help":
                default = "" if p.default in (None, False) or p.is_flag else f" (default: {p.default})"
                rows.append((", ".join(p.opts), f"{p.help or ''}{default}"))
        if rows:
            lines += ["| argument / option | meaning |", "| --- | --- |"]
            lines += [f"| `{a}` | {b} |" for a, b in rows]
            lines.append("")
    return "\n".join(lines)


def generated() -> dict[Path, str]:
    return {ROOT / "docs/platform.md": render_docs(), ROOT / "docs/cli.md": cli_reference()}


if __name__ == "__main__":
    for path, text in generated().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
