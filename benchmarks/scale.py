"""Local against Ray on this machine: the wall time of the same eval, run both ways in one go.

    .venv/bin/python benchmarks/scale.py --out runs/scale                      # the frozen dev 40
    .venv/bin/python benchmarks/scale.py --out runs/scale-a --every 2           # every other one of them
    .venv/bin/python benchmarks/scale.py --out runs/scale-b --every 2 --start 1 # and the rest

Runs `appwright eval run` twice on the same tasks, model and seed: first locally (one agent
thread with every llama.cpp thread, one grading thread: the default), then with `--ray local
--ray-workers 2 --ray-threads 1` (two workers, each one model instance with one llama.cpp
thread and its own Chromiums; Ray's dashboard is off in appwright/cluster.py). Each run is a
subprocess, so nothing of the first stays in memory for the second; the machine's 1-minute load
average is read every 5 s while each runs. A stopped benchmark resumes: each eval resumes its
own folder, and the wall time of a resumed run is not comparable, so it is marked.

Columns: attempts, wall seconds, attempts per hour, good, load average (mean and max of the
samples), and the ratio of the local wall time to Ray's (above 1: Ray is faster). Measure alone
(the task's notes: llama.cpp's threads spin while they wait, so any other job skews both runs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from appwright.evals.records import read_rows

ROOT = Path(__file__).resolve().parents[1]
APPWRIGHT = Path(sys.executable).parent / "appwright"


def _load_sampler(samples: list[float], stop: threading.Event) -> None:
    while not stop.wait(5.0):
        samples.append(os.getloadavg()[0])


def _run(name: str, args: list[str], out: Path, console: Console) -> dict:
    """One eval as a subprocess, timed, with the load average sampled while it runs."""
    resumed = (out / "results.jsonl").is_file()
    samples: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_load_sampler, args=(samples, stop), daemon=True)
    console.print(f"[bold]{name}[/]: appwright eval run {' '.join(args)}", highlight=False)
    start = time.monotonic()
    sampler.start()
    try:
        proc = subprocess.run([str(APPWRIGHT), "eval", "run", *args], cwd=ROOT)
    finally:
        stop.set()
        sampler.join()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{name}: appwright eval run exited {proc.returncode}; rerun this benchmark to resume")
    rows = read_rows(out / "results.jsonl")
    return {"name": name, "attempts": len(rows), "good": sum(r.good for r in rows), "wall": wall,
            "load": samples or [os.getloadavg()[0]], "resumed": resumed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for the two evals (local/, ray/) and scale.json")
    ap.add_argument("--model", default="appwright-0.5b")
    ap.add_argument("--tasks", type=Path, default=ROOT / "docs" / "results" / "dev40.txt")
    ap.add_argument("--every", type=int, default=1, help="take every n-th task of --tasks (1: all)")
    ap.add_argument("--start", type=int, default=0, help="with --every: the first task taken (0-based)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    console = Console()
    ids = [x.strip() for x in args.tasks.read_text().splitlines() if x.strip() and not x.startswith("#")]
    ids = ids[args.start :: args.every]
    args.out.mkdir(parents=True, exist_ok=True)
    tasks = args.out / "tasks.txt"
    tasks.write_text("\n".join(ids) + "\n")
    console.print(f"{len(ids)} tasks of {args.tasks}, model {args.model}, {os.cpu_count()} cores, "
                  f"load average now {os.getloadavg()[0]:.2f}", highlight=False)
    common = ["--models", args.model, "--tasks", str(tasks), "--seed", str(args.seed)]
    runs = [_run("local", [*common, "--out", str(args.out / "local")], args.out / "local", console),
            _run("ray, 2 workers x 1 thread", [*common, "--out", str(args.out / "ray"), "--ray", "local",
                                               "--ray-workers", "2", "--ray-threads", "1"], args.out / "ray", console)]
    table = Table("run", "attempts", "wall s", "attempts/h", "good", "load avg mean", "load avg max")
    for r in runs:
        table.add_row(r["name"] + (" (resumed: not comparable)" if r["resumed"] else ""), str(r["attempts"]),
                      f"{r['wall']:.0f}", f"{3600 * r['attempts'] / r['wall']:.1f}", f"{r['good']}/{r['attempts']}",
                      f"{sum(r['load']) / len(r['load']):.2f}", f"{max(r['load']):.2f}")
    console.print(table)
    ratio = runs[0]["wall"] / runs[1]["wall"]
    console.print(f"local / Ray wall time: [bold]{ratio:.2f}[/]")
    (args.out / "scale.json").write_text(json.dumps({"model": args.model, "tasks": ids, "runs": runs,
                                                     "ratio": ratio}, indent=1) + "\n")


if __name__ == "__main__":
    main()
