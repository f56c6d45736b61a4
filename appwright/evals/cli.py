"""`appwright eval ...`: run models over a task split and compare them in a report.

    appwright eval run --models qwen2.5-coder-0.5b,gpt-4.1-mini --split dev --limit 40 --out runs/e1
    appwright eval run ... --samples 5 --workers 2 --backend-workers 4     # pass@5; parallel where allowed
    appwright eval run --models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b,auto ...   # the cascade beside each model
    appwright eval run ... --ray local --ray-workers 2          # the attempts as Ray tasks (appwright/cluster.py)
    appwright eval report runs/e1          # metrics.json and report.html from results.jsonl alone
    appwright eval regrade runs/e1 --out runs/e1-v4   # today's graders on the kept bundles, into a new folder

`run`, `report` and `regrade` are sub-commands (typer cannot mix a callback that runs with
sub-commands cleanly). Exit codes follow appwright/exits.py: bad input (unknown model,
split or kind, a count below 1, a results.jsonl that does not read) prints one line and
exits 2; an interrupted run exits 130 and resumes when run again; a run where some attempts
failed with errors, a pull that failed, or nothing to report exits 1 (after writing the
report of the rest, where there is one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from appwright.agent.config import Budget, HarnessConfig
from appwright.exits import FAILED, INTERRUPTED, USAGE, fail

app = typer.Typer(help="Evaluate models on the task bank: run, grade, compare in an HTML report.",
                  no_args_is_help=True)
out = Console()
err = Console(stderr=True)
_DEFAULTS = HarnessConfig()  # the agent's defaults, as `appwright new` runs it


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


@app.command("run")
def run(
    models: str = typer.Option(..., help="Registry names, comma-separated (appwright models list); `auto`: the "
                               "gateway's ladder, cheapest first until an app passes its checks (docs/gateway.md)."),
    split: str = typer.Option("dev", help="train, dev or test."),
    kinds: str = typer.Option("build,edit,fix,taste", help="Task kinds, comma-separated."),
    limit: Optional[int] = typer.Option(None, help="At most this many tasks, spread over kinds and domains "
                                                   "(default: every task of the split)."),
    tasks_file: Optional[Path] = typer.Option(None, "--tasks", help="A file of task ids, one per line: run "
                                              "exactly these, in that order (docs/results/dev40.txt is the "
                                              "published yardstick); --split, --kinds and --limit then do not apply."),
    samples: int = typer.Option(1, help="Attempts per task and model; pass@k uses k = samples."),
    workers: int = typer.Option(1, help="Grading threads (one Chromium each)."),
    backend_workers: int = typer.Option(1, help="Agent threads per model where the backend allows it "
                                                "(openai); 1 for llamacpp, transformers, scripted."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for results.jsonl, trajectories, bundles, report."),
    protocol: str = typer.Option(_DEFAULTS.protocol, help="files or tools (the agent's protocol)."),
    max_steps: int = typer.Option(_DEFAULTS.budget.max_steps, help="At most this many model calls per attempt."),
    max_tokens: int = typer.Option(_DEFAULTS.budget.max_tokens,
                                   help="At most this many prompt + completion tokens per attempt."),
    max_seconds: float = typer.Option(_DEFAULTS.budget.max_seconds,
                                      help="Stop starting model calls after this many seconds."),
    temperature: float = typer.Option(_DEFAULTS.temperature, help="Sampling temperature."),
    seed: Optional[int] = typer.Option(None, help="Sample i uses seed + i (default: a random seed each)."),
    ray: Optional[str] = typer.Option(None, "--ray", help="Run the attempts on Ray: local (a Ray instance on this "
                                      "machine), auto, or a cluster head's host:port (docs/scale.md)."),
    ray_workers: int = typer.Option(2, help="With --ray: workers per model (one model instance and one "
                                            "Chromium each)."),
    ray_threads: int = typer.Option(1, help="With --ray: CPUs per worker, and its llama.cpp threads."),
) -> None:
    """Run the agent on each task with each model, grade every attempt, write rows and the report."""
    from appwright.cluster import RayConfig
    from appwright.evals.config import AUTO, EvalConfig, resolve_ladder, resolve_models
    from appwright.evals.runner import run_eval
    from appwright.evals.select import select_tasks, tasks_from_file
    from appwright.models import ModelError
    from appwright.tasks.bank import TaskBank

    # 1. Validate everything before anything starts.
    try:
        config = EvalConfig(models=_split_list(models), split=split, kinds=_split_list(kinds), limit=limit,
                            samples=samples, workers=workers, backend_workers=backend_workers, out=out_dir,
                            protocol=protocol, budget=Budget(max_steps=max_steps, max_tokens=max_tokens,
                                                             max_seconds=max_seconds),
                            temperature=temperature, seed=seed,
                            ray=RayConfig(ray, ray_workers, ray_threads) if ray is not None else None)
        if config.ray is not None and AUTO in config.models:
            raise ValueError("--ray: auto does not run on Ray yet; run it without --ray")
        specs = resolve_models(config)
        ladder, keys = resolve_ladder(config)
    except (ValueError, ModelError) as exc:
        fail(str(exc).replace("Budget: ", "--"), USAGE)
    if tasks_file is not None and limit is not None:
        fail("--tasks names the tasks itself; leave out --limit", USAGE)
    try:
        tasks = (tasks_from_file(TaskBank.default(), tasks_file) if tasks_file is not None
                 else select_tasks(TaskBank.default(), config.split, config.kinds, config.limit))
    except ValueError as exc:
        fail(str(exc), USAGE)
    if not tasks:
        fail(f"no {config.split} tasks of kinds {','.join(config.kinds)}", USAGE)
    # 2. Embedded weights are pulled here, before the progress bar takes the terminal.
    from appwright.models.pull import ensure_model

    for spec in [*specs.values(), *(s for s in ladder if s.name not in specs)]:
        if spec.embedded:
            try:
                ensure_model(spec, err)
            except ModelError as exc:  # the pull failed
                fail(str(exc), FAILED)
    # 3. The run.
    what = f"tasks of {tasks_file}" if tasks_file is not None else f"{config.split} tasks"
    out.print(f"{len(tasks)} {what} x {len(config.models)} model(s) x {config.samples} sample(s) "
              f"-> {escape(str(out_dir))}", highlight=False)
    if ladder:
        out.print("auto: " + " -> ".join(escape(s.name) for s in ladder) + " (a rung that is also a named model "
                  "reuses that model's attempt)", highlight=False)
    try:
        summary = run_eval(config, tasks, specs, out, ladder, keys)
    except ConnectionError as exc:  # --ray: nothing answers at the address
        fail(str(exc), FAILED)
    out.print(f"{summary.ran} attempt(s) run, {summary.skipped} already done"
              + (f", {len(summary.errors)} failed with errors" if summary.errors else ""), highlight=False)
    if summary.interrupted:
        err.print(f"[yellow]interrupted:[/] every finished attempt is in {escape(str(out_dir))}/results.jsonl; "
                  "run the same command again to resume", highlight=False)
        raise typer.Exit(INTERRUPTED)
    # 4. Metrics and the report.
    _report(out_dir)
    if summary.errors:
        fail(f"{len(summary.errors)} attempts failed with errors (no rows written for them; a rerun retries "
             "them); the first: " + summary.errors[0], FAILED)


def _report(folder: Path) -> None:
    from appwright.evals.report import write_report

    try:
        metrics, html_path = write_report(folder)
    except ValueError as exc:  # no rows: nothing to report
        fail(str(exc), FAILED)
    from appwright.evals.report import console_table

    out.print(console_table(metrics))
    out.print(f"report: {escape(str(html_path))}", highlight=False)


@app.command("report")
def report(folder: Path = typer.Argument(..., help="An eval folder (holding results.jsonl).")) -> None:
    """Rebuild metrics.json and report.html from results.jsonl alone, and print the comparison."""
    from appwright.evals.records import RESULTS, read_rows

    if not (folder / RESULTS).is_file():
        fail(f"{folder}: no {RESULTS} here; `appwright eval run --out {folder} ...` writes it", USAGE)
    try:
        read_rows(folder / RESULTS)
    except ValueError as exc:  # a results.jsonl that is not one
        fail(str(exc), USAGE)
    _report(folder)


@app.command("regrade")
def regrade(
    folder: Path = typer.Argument(..., help="A finished eval folder (results.jsonl, and the bundles it kept or "
                                             "trajectories.jsonl to rebuild them from)."),
    out_dir: Path = typer.Option(..., "--out", help="A new folder for the regraded rows and report; rerun to resume."),
) -> None:
    """Grade a finished run's kept bundles again with today's graders, into a new folder.

    The source is only read; the new rows keep each attempt's tokens, cost and time and carry
    the current grader_version. A bundle that was not kept is rebuilt from the attempt's
    trajectory. The verdicts that moved are listed."""
    from appwright.evals.records import RESULTS
    from appwright.evals.regrade import regrade as run_regrade

    if not (folder / RESULTS).is_file():
        fail(f"{folder}: no {RESULTS} here; `appwright eval run --out {folder} ...` writes it", USAGE)
    try:
        summary = run_regrade(folder, out_dir, out)
    except ValueError as exc:  # the same folder, no rows, a results.jsonl that is not one
        fail(str(exc), USAGE)
    out.print(f"{summary.regraded} row(s) regraded ({summary.rebuilt} on files rebuilt from the trajectory), "
              f"{summary.skipped} already done" + (f", {len(summary.errors)} could not be" if summary.errors else ""),
              highlight=False)
    for line in summary.changed:
        out.print(f"  verdict changed: {escape(line)}", highlight=False)
    if summary.interrupted:
        err.print(f"[yellow]interrupted:[/] the regraded rows are in {escape(str(out_dir))}; run the same command "
                  "again to resume", highlight=False)
        raise typer.Exit(INTERRUPTED)
    _report(out_dir)
    if summary.errors:
        fail(f"{len(summary.errors)} row(s) could not be regraded; the first: {summary.errors[0]}", FAILED)
