"""Regenerate the docs that are derived from the code; tests/test_generated_docs.py fails when they are stale.

    .venv/bin/python scripts/gen_docs.py

- docs/platform.md: the platform reference the agent reads (`appwright docs`).
- docs/cli.md: every `appwright` command with its arguments and options.
- docs/task-reference.md: every field of a task and of each check kind, and the domains.
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
             "Generated from the CLI by `scripts/gen_docs.py`; do not edit by hand.", "",
             "Exit codes, the same for every command (`appwright/exits.py`): 0 success; 2 bad usage or input (a "
             "wrong option value, a missing or invalid file, an unknown task or model, an empty or out-of-scope "
             "request); 1 a run that was attempted and failed (a grade that is not good, no valid app, nothing to "
             "export, a model or pull that failed); 130 interrupted (Ctrl-C).", ""]
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


def _type(annotation) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation).replace("typing.", "")
    for noise in ("appwright.tasks.model.", "Annotated[", ", FieldInfo(annotation=NoneType, required=True, "
                  "discriminator='kind')]"):
        text = text.replace(noise, "")
    return text.replace("|", "\\|")


def _fields_table(model) -> list[str]:
    lines = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, f in model.model_fields.items():
        default = "required" if f.is_required() else ("[]" if f.default_factory is list else
                                                     "{}" if f.default_factory is dict else repr(f.default))
        lines.append(f"| `{name}` | {_type(f.annotation)} | {default} | {f.description or ''} |")
    return lines


def task_reference() -> str:
    from appwright.tasks import model
    from appwright.tasks.domains import load_domains

    lines = ["# Task format reference", "",
             "Generated from `appwright/tasks/model.py` and `domains.yaml` by `scripts/gen_docs.py`; "
             "do not edit by hand. How to write tasks: [tasks.md](tasks.md).", "", "## Task", ""]
    lines += _fields_table(model.Task) + ["", "## Start bundle", ""] + _fields_table(model.StartBundle)
    lines += ["", "## Checks", "", "Every check has `name`, `weight` (default 1) and `required` (default true).", ""]
    for cls in model.CHECK_MODELS:
        kind = cls.model_fields["kind"].default
        lines += [f"### `{kind}`", ""]
        lines += [r for r in _fields_table(cls) if not r.startswith(("| `name`", "| `weight`", "| `required`",
                                                                      "| `kind`"))] + [""]
    lines += ["### ui steps", "", "Each step sets exactly one of:", ""]
    doc = (model.UiStep.__doc__ or "").split("\n\n", 1)[1]
    lines += ["```", *[line[4:] for line in doc.rstrip().splitlines()], "```", "",
              "## Domains", "", "| domain | family | split | entity | access | features |", "| --- | --- | --- | --- | --- | --- |"]
    for d in load_domains():
        lines.append(f"| {d.name} | {d.family} | {d.split} | `{d.entity}` | {', '.join(d.access)} | "
                     f"{', '.join(d.features_available())} |")
    return "\n".join(lines) + "\n"


def generated() -> dict[Path, str]:
    return {ROOT / "docs/platform.md": render_docs(), ROOT / "docs/cli.md": cli_reference(),
            ROOT / "docs/task-reference.md": task_reference()}


if __name__ == "__main__":
    for path, text in generated().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
