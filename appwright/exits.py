"""Exit codes of the `appwright` command, and the one way to stop with an error.

The rule, for every sub-command:

* 0 - success.
* 2 (USAGE) - bad usage or bad input: a wrong option value, a missing or invalid file given by the user,
  an unknown task or model id, an empty request, a request out of scope. Nothing was attempted.
* 1 (FAILED) - a run that was attempted and failed: a grade that is not good, an agent that produced no
  valid app, an export with nothing to export, a model that failed while running, a pull that failed.
* 130 - interrupted (Ctrl-C).

Call `fail(message, USAGE)` or `fail(message, FAILED)`; the code is required so every call site says which
case it is. This module imports nothing from appwright, so any module can use it.
"""

from __future__ import annotations

from typing import Literal, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

USAGE: Literal[2] = 2
FAILED: Literal[1] = 1
INTERRUPTED: Literal[130] = 130

_err = Console(stderr=True)


def fail(message: str, code: Literal[1, 2]) -> NoReturn:
    """Print `error: MESSAGE` in bold red on stderr and exit with `code` (USAGE or FAILED)."""
    if code not in (USAGE, FAILED):
        raise ValueError(f"exit code must be exits.USAGE or exits.FAILED, not {code!r}")
    _err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


__all__ = ["FAILED", "INTERRUPTED", "USAGE", "fail"]
