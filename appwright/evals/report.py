"""Metrics and rows -> `metrics.json` and one self-contained `report.html`; a terminal table.

    metrics, path = write_report("runs/e1")     # reads runs/e1/results.jsonl only
    Console().print(console_table(metrics))

The page has no script, no external file of any kind (no CDN, fonts or images): CSS in a
<style> element and the charts as inline SVG, so it opens from a mail attachment or a CI
artefact. Sections: the models side by side (the best value of a row in bold), bar charts of
good rate and cost per good app with their 95% intervals as whiskers, cost per task against
good rate, good rate by task kind (chart and table) and by domain, where the cascade (`auto`)
stopped and whether its escalations paid (evals/ladder.py), the worst failures (lowest reward)
with each failed check's evidence, and a short glossary.

Every string that comes from the data (model names, task ids, prompts, evidence, paths) goes
through `html.escape` on its way into the page, in the SVG too: prompts and evidence hold
XSS payloads on purpose. The page shows no wall-clock time of its own, so rebuilding it
from the same rows gives the same bytes.

Not done: no interactivity (sorting, filtering); no per-check breakdown; no comparison of
two eval folders.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from rich.table import Table

from appwright.evals.charts import bar_chart, grouped_bars, scatter
from appwright.evals.config import AUTO
from appwright.evals.formatting import money, num, pct, with_ci
from appwright.evals.ladder import Ladder, ladder
from appwright.evals.metrics import NO_MACHINE, GroupMetrics, Metrics, compute_metrics
from appwright.evals.records import RESULTS, AttemptRow, read_rows
from appwright.evals.stats import Estimate

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
MARKDOWN_FILE = "report.md"
WORST = 12  # failures listed
COLOURS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"]


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- the rows of the comparison: (label, how to read one model's metrics, format, higher is better) --

def _rows(metrics: Metrics):
    rows = [("good rate (pass@1)", lambda m: m.good_rate, pct, True)]
    if metrics.k > 1:
        rows.append((f"pass@{metrics.k}", lambda m: m.pass_at_k, pct, True))
    rows += [
        ("mean reward", lambda m: m.mean_reward, lambda x: f"{x:.3f}", True),
        ("functional rate", lambda m: m.functional_rate, pct, True),
        ("secure rate (of functional)", lambda m: m.secure_rate, pct, True),
        ("tokens / task", lambda m: m.tokens_per_task, num, False),
        ("agent seconds / task", lambda m: m.agent_seconds_per_task, lambda x: num(x, 1), False),
        ("grade seconds / task", lambda m: m.grade_seconds_per_task, lambda x: num(x, 1), False),
        ("cost / task", lambda m: m.cost_per_task, money, False),
        ("cost / good app", lambda m: m.cost_per_good, money, False),
    ]
    return rows


def _best(values: list[float | None], higher: bool) -> float | None:
    present = [v for v in values if v is not None]
    if len(present) < 2 or len(set(present)) == 1:
        return None
    return max(present) if higher else min(present)


def console_table(metrics: Metrics) -> Table:
    from rich.markup import escape as rich_escape

    table = Table(title=f"{metrics.attempts} attempts · split {', '.join(metrics.splits)} · 95% intervals",
                  caption=rich_escape(machines_line(metrics)))
    table.add_column("metric")
    for m in metrics.models:
        table.add_column(rich_escape(m), overflow="fold")
    for label, get, fmt, _ in _rows(metrics):
        table.add_row(label, *[with_ci(get(m), fmt) for m in metrics.overall])
    table.add_row("attempts / tasks", *[f"{m.attempts} / {m.tasks}" for m in metrics.overall])
    return table


def machines_line(metrics: Metrics) -> str:
    """Where the attempts ran, with a warning when it was more than one machine."""
    parts = [f"{m} ({n})" for m, n in metrics.machines.items()]
    recorded = [m for m in metrics.machines if m != NO_MACHINE]
    warning = (" · more than one machine: one prompt at one seed can give other tokens on another, so compare"
               " runs made on one machine") if len(recorded) > 1 else ""
    return "ran on " + "; ".join(parts) + warning


def markdown_tables(metrics: Metrics, rows: list[AttemptRow] | None = None) -> str:
    """The comparison and the per-kind breakdown as Markdown tables (what docs/results.md holds),
    and, given the rows of a run with `auto`, where the cascade stopped."""
    models = metrics.models
    lines = [f"{metrics.attempts} attempts · split {', '.join(metrics.splits)} · 95% intervals", "",
             machines_line(metrics), "",
             "| metric (95% interval) | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]
    for label, get, fmt, _ in _rows(metrics):
        lines.append(f"| {label} | " + " | ".join(with_ci(get(m), fmt) for m in metrics.overall) + " |")
    lines.append("| attempts / tasks | " + " | ".join(f"{m.attempts} / {m.tasks}" for m in metrics.overall) + " |")
    by = {(g.model, g.name): g for g in metrics.by_kind}
    kinds = list(dict.fromkeys(g.name for g in metrics.by_kind))
    lines += ["", "| kind: good (of attempts) · mean reward · secure | " + " | ".join(models) + " |",
              "| --- |" + " --- |" * len(models)]
    for k in kinds:
        cells = [f"{by[m, k].good}/{by[m, k].attempts} · {by[m, k].mean_reward.value:.2f} · "
                 f"{pct(by[m, k].secure_rate.value)}" if (m, k) in by else "-" for m in models]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    if rows and (lad := ladder(rows)):
        lines += ["", *_ladder_lines(lad)]
    return "\n".join(lines) + "\n"


def _ladder_cells(lad: Ladder) -> list[list[str]]:
    """The ladder table's rows: each rung, the attempts no rung accepted, the escalations."""
    cells = [[str(g.position), g.model, str(g.reached), str(g.accepted), str(g.good), money(g.cost_usd),
              money(g.cost_per_good)] for g in lad.rungs]
    cells.append(["none accepted", "(graded on the last rung's app)", str(lad.unaccepted), "-",
                  f"{lad.unaccepted_good} good", "-", "-"])
    cells.append(["escalations", "every rung above the first", str(lad.escalated), "-",
                  f"{lad.escalated_good} good", money(lad.escalation_cost), money(lad.escalation_cost_per_good)])
    return cells


LADDER_HEAD = ["rung", "model", "reached", "accepted", "good (of accepted)", "cost", "cost / good app"]


def _ladder_verdict(lad: Ladder) -> str:
    if lad.pays is None:
        return "Nothing was escalated, or the first rung made no good app: no comparison."
    first = money(lad.rungs[0].cost_per_good)
    bought = (f"made no good app for {money(lad.escalation_cost)}" if not lad.escalated_good else
              f"bought good apps at {money(lad.escalation_cost_per_good)} each")
    return (f"The escalations {'paid' if lad.pays else 'did not pay'}: they {bought}, and the first rung "
            f"paid {first} for each of its own. The cascade's cost per good app falls below its first "
            "rung's only when the escalations' falls below the first rung's.")


def _ladder_lines(lad: Ladder) -> list[str]:
    lines = [f"Where `{AUTO}` stopped ({lad.attempts} attempts):", "",
             "| " + " | ".join(LADDER_HEAD) + " |", "|" + " --- |" * len(LADDER_HEAD)]
    lines += ["| " + " | ".join(c) + " |" for c in _ladder_cells(lad)]
    return [*lines, "", _ladder_verdict(lad)]


# -- the page -------------------------------------------------------------------------------------

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2937;background:#f8fafc;margin:0}
main{max-width:1160px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 10px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
.meta{color:#64748b;margin:0}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0001;margin:8px 0}
th,td{padding:6px 12px;border-bottom:1px solid #e2e8f0;text-align:left;vertical-align:top}
th{background:#f1f5f9;font-weight:600;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.best{font-weight:700;color:#166534}
.ci{color:#64748b;font-size:13px}
#compare .ci{display:block;font-size:12px}
.wide{overflow-x:auto}
.charts{display:flex;flex-wrap:wrap;gap:18px}
figure{background:#fff;box-shadow:0 1px 2px #0001;margin:0;padding:10px 12px}
figcaption{font-weight:600;margin-bottom:4px}
svg .label{font-size:12px;fill:#334155}svg .tick{font-size:11px;fill:#64748b}svg .value{font-size:12px;fill:#0f172a}
svg .na{font-size:12px;fill:#94a3b8;font-style:italic}
svg .axis{stroke:#94a3b8}svg .grid{stroke:#e2e8f0}svg .whisker{stroke:#0f172a;stroke-width:1.5}
svg .whisker-c{stroke-width:2;opacity:.5}
.failure{background:#fff;box-shadow:0 1px 2px #0001;padding:10px 14px;margin:10px 0}
.failure h3{font-size:15px;margin:0 0 4px}
.prompt{white-space:pre-wrap;color:#475569;margin:4px 0 6px;border-left:3px solid #cbd5e1;padding-left:8px}
.evidence{white-space:pre-wrap;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#f8fafc;
  padding:4px 6px;margin:2px 0 6px;overflow-wrap:anywhere}
.tag{display:inline-block;font-size:12px;padding:0 6px;border-radius:3px;background:#fee2e2;color:#991b1b}
.tag.opt{background:#fef3c7;color:#92400e}
dt{font-weight:600;margin-top:6px}dd{margin:0 0 0 16px;color:#475569}
footer{margin-top:36px;color:#64748b;font-size:13px}
"""

GLOSSARY = [
    ("good rate (pass@1)", "Share of attempts whose every required check passed. 95% Wilson interval."),
    ("pass@k", "Chance that at least one of k attempts at a task is good: mean over tasks with at least k "
               "samples of 1 - C(n-c, k)/C(n, k) (Chen et al. 2021). 95% bootstrap interval over tasks."),
    ("mean reward", "Mean weighted share of checks passed, in [0, 1]. 95% Student t interval."),
    ("functional rate", "Share of attempts whose every required schema, api and ui check passed. Wilson."),
    ("secure rate", "Of the functional attempts that have security or isolation checks, the share that passed "
                    "every one of them. Wilson; the denominator is shown as n."),
    ("tokens, seconds, cost / task", "Means per attempt (prompt + completion tokens; the agent's and the "
                                     "grade's wall time; the registry price times the tokens). Student t."),
    ("cost / good app", "Total cost of every attempt divided by the number of good ones (failures are paid "
                        "for too); n/a with no good app. 95% bootstrap interval; ∞ when over 2.5% of "
                        "resamples hold no good app."),
]


def _cell(e: Estimate | None, fmt, best: bool) -> str:
    if e is None or e.value is None:
        return '<td class="num">n/a</td>'
    ci = ""
    if e.low is not None or e.high is not None:
        ci = (f' <span class="ci">[{escape(fmt(e.low)) if e.low is not None else "?"}, '
              f'{escape(fmt(e.high)) if e.high is not None else "∞"}]</span>')
    return f'<td class="num{" best" if best else ""}">{escape(fmt(e.value))}{ci}</td>'


def _compare_table(metrics: Metrics) -> str:
    head = "".join(f"<th>{escape(m)}</th>" for m in metrics.models)
    body = []
    for label, get, fmt, higher in _rows(metrics):
        values = [get(m) for m in metrics.overall]
        best = _best([v.value if v else None for v in values], higher)
        cells = "".join(_cell(v, fmt, best is not None and v is not None and v.value == best) for v in values)
        body.append(f"<tr><th>{escape(label)}</th>{cells}</tr>")
    body.append("<tr><th>secure / functional with security checks</th>" + "".join(
        f'<td class="num">{m.secure} / {m.secure_eligible}</td>' for m in metrics.overall) + "</tr>")
    body.append("<tr><th>good / attempts / tasks</th>" + "".join(
        f'<td class="num">{m.good} / {m.attempts} / {m.tasks}</td>' for m in metrics.overall) + "</tr>")
    body.append("<tr><th>total cost</th>" + "".join(
        f'<td class="num">{escape(money(m.total_cost))}</td>' for m in metrics.overall) + "</tr>")
    return f'<table class="compare" id="compare"><tr><th>metric</th>{head}</tr>{"".join(body)}</table>'


def _breakdown_table(metrics: Metrics, groups: list[GroupMetrics], what: str) -> str:
    names = list(dict.fromkeys(g.name for g in groups))
    by = {(g.model, g.name): g for g in groups}
    head = "".join(f"<th>{escape(m)}</th>" for m in metrics.models)
    body = []
    for n in names:
        cells = []
        for m in metrics.models:
            g = by.get((m, n))
            if g is None:
                cells.append('<td class="num">-</td>')
                continue
            cells.append(f'<td class="num">{escape(pct(g.good_rate.value))} <span class="ci">'
                         f'{g.good}/{g.attempts} · reward {g.mean_reward.value:.2f} · secure '
                         f'{escape(pct(g.secure_rate.value))}</span></td>')
        body.append(f"<tr><th>{escape(n)}</th>{''.join(cells)}</tr>")
    return (f'<table class="breakdown" id="by-{escape(what)}"><tr><th>{escape(what)}</th>{head}</tr>'
            f'{"".join(body)}</table>')


def _failures(rows: list[AttemptRow]) -> str:
    bad = sorted((r for r in rows if not r.good), key=lambda r: (r.reward, r.model, r.task_id, r.sample))[:WORST]
    if not bad:
        return "<p>No failures: every attempt was good.</p>"
    out = []
    for r in bad:
        checks = []
        for c in r.checks:
            if c.passed:
                continue
            tag = '<span class="tag">required</span>' if c.required else '<span class="tag opt">optional</span>'
            checks.append(f'<li><b>{escape(c.name)}</b> ({escape(c.kind)}) {tag}'
                          f'<div class="evidence">{escape(c.evidence)}</div></li>')
        stop = escape(r.stop_reason or "-") + (f" · {escape(r.error)}" if r.error else "")
        out.append(
            f'<article class="failure"><h3>{escape(r.task_id)} · {escape(r.model)} · sample {r.sample}</h3>'
            f'<div class="meta">{escape(r.kind)} · {escape(r.domain or "-")} · reward {r.reward:.2f} · stopped: '
            f'{stop} · bundle <code>{escape(r.bundle)}</code></div>'
            f'<div class="prompt">{escape(r.prompt)}</div><ul>{"".join(checks)}</ul></article>')
    return "".join(out)


def _ladder_html(rows: list[AttemptRow]) -> str:
    if (lad := ladder(rows)) is None:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in LADDER_HEAD)
    body = "".join("<tr>" + "".join(f'<td class="num">{escape(c)}</td>' if i >= 2 else f"<td>{escape(c)}</td>"
                                    for i, c in enumerate(cells)) + "</tr>" for cells in _ladder_cells(lad))
    return (f'<section id="ladder-{AUTO}"><h2>Where {AUTO} stopped</h2>'
            f'<div class="wide"><table class="ladder"><tr>{head}</tr>{body}</table></div>'
            f'<p class="meta">{escape(_ladder_verdict(lad))}</p></section>')


def render_html(metrics: Metrics, rows: list[AttemptRow]) -> str:
    colours = {m: COLOURS[i % len(COLOURS)] for i, m in enumerate(metrics.models)}
    overall = {m.model: m for m in metrics.overall}
    when = sorted(r.created_at for r in rows)
    kinds = list(dict.fromkeys(g.name for g in metrics.by_kind))
    by_kind = {(g.model, g.name): g.good_rate for g in metrics.by_kind}
    charts = [
        ("Good rate (pass@1), 95% Wilson", bar_chart(
            "Good rate per model", [(m, overall[m].good_rate, colours[m]) for m in metrics.models], pct, 1.0)),
        ("Cost per good app, 95% bootstrap", bar_chart(
            "Cost per good app per model", [(m, overall[m].cost_per_good, colours[m]) for m in metrics.models],
            money, missing="n/a: no good app")),
        ("Cost per task against good rate", scatter(
            "Cost per task against good rate",
            [(m, overall[m].cost_per_task.value or 0.0, overall[m].good_rate, colours[m]) for m in metrics.models])),
        ("Good rate by task kind", grouped_bars("Good rate by task kind", kinds, metrics.models,
                                                lambda m, k: by_kind.get((m, k)), colours)),
    ]
    figures = "".join(f"<figure><figcaption>{escape(c)}</figcaption>{svg}</figure>" for c, svg in charts)
    glossary = "".join(f"<dt>{escape(t)}</dt><dd>{escape(d)}</dd>" for t, d in GLOSSARY)
    meta = (f"split {escape(', '.join(metrics.splits))} · {len({r.task_id for r in rows})} tasks · "
            f"{len(metrics.models)} model(s) · {metrics.attempts} attempts · k = {metrics.k} · "
            f"rows written {escape(when[0][:16])} to {escape(when[-1][:16])} UTC<br>{escape(machines_line(metrics))}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Appwright eval: {escape(' vs '.join(metrics.models))}</title><style>{CSS}</style></head>
<body><main>
<h1>Appwright eval: {escape(' vs '.join(metrics.models))}</h1>
<p class="meta">{meta}</p>
<section id="summary"><h2>Side by side</h2><div class="wide">{_compare_table(metrics)}</div>
<p class="meta">Brackets: 95% intervals. Bold: the best value of a row. Definitions below and in docs/evals.md.</p>
</section>
<section id="charts"><h2>Charts</h2><div class="charts">{figures}</div></section>
<section id="kinds"><h2>By task kind</h2><div class="wide">{_breakdown_table(metrics, metrics.by_kind, "kind")}</div>
</section>
<section id="domains"><h2>By domain</h2><div class="wide">{_breakdown_table(metrics, metrics.by_domain, "domain")}</div>
</section>
{_ladder_html(rows)}
<section id="failures"><h2>Worst failures (lowest reward)</h2>{_failures(rows)}</section>
<section id="glossary"><h2>Glossary</h2><dl>{glossary}</dl></section>
<footer>Built by <code>appwright eval report</code> from {RESULTS} alone.</footer>
</main></body></html>
"""


def write_report(folder: str | Path) -> tuple[Metrics, Path]:
    """metrics.json, report.html and report.md in `folder`, from its results.jsonl; ValueError when
    it has no rows."""
    folder = Path(folder)
    rows = read_rows(folder / RESULTS)
    if not rows:
        raise ValueError(f"{folder / RESULTS}: no rows yet; nothing to report")
    metrics = compute_metrics(rows)
    _write(folder / METRICS_FILE, metrics.model_dump_json(indent=2) + "\n")
    path = folder / REPORT_FILE
    _write(path, render_html(metrics, rows))
    _write(folder / MARKDOWN_FILE, markdown_tables(metrics, rows))
    return metrics, path
