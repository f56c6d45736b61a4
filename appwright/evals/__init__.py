"""Evaluation: run models over a task split, grade every attempt, compare them in a report.

    appwright eval run --models qwen2.5-coder-0.5b,gpt-4.1-mini --split dev --limit 40 --out runs/e1
    appwright eval report runs/e1           # rebuilds runs/e1/report.html from results.jsonl

Modules, one job each: `config.py` (every knob, validated once), `select.py` (which tasks,
spread over kinds and domains), `records.py` (the JSONL row of one attempt), `runner.py`
(agent threads -> grader threads -> rows appended as they finish), `stats.py` (Wilson,
t, bootstrap, pass@k), `metrics.py` (rows -> per-model metrics), `formatting.py` (how numbers read),
`charts.py` (inline SVG), `report.py` (metrics and rows -> one self-contained HTML file),
`cli.py` (the `appwright eval` sub-commands).
docs/evals.md defines every metric.
"""

from appwright.evals.config import EvalConfig
from appwright.evals.metrics import Metrics, compute_metrics
from appwright.evals.records import AttemptRow, read_rows
from appwright.evals.report import write_report
from appwright.evals.runner import run_eval
from appwright.evals.select import select_tasks

__all__ = ["AttemptRow", "EvalConfig", "Metrics", "compute_metrics", "read_rows", "run_eval", "select_tasks",
           "write_report"]
