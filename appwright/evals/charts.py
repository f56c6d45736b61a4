"""The report's charts as inline SVG strings: horizontal bars with interval whiskers, a
labelled scatter, grouped bars per task kind.

    bar_chart("Good rate", [("model-a", estimate, "#2563eb")], pct, fixed_max=1.0)

Every label from the data is HTML-escaped here (model and kind names reach the page through
these strings). Styling is by class names that report.CSS defines. No axes library, no
script: plain <rect>, <line>, <circle> and <text>, so the page needs nothing external.
"""

from __future__ import annotations

from html import escape

from appwright.evals.formatting import money, pct, with_ci
from appwright.evals.stats import Estimate

LABEL_CHAR_W, LABEL_H = 7.0, 14.0  # a scatter label's width per character and its line height (12px text)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")


def bar_chart(title: str, bars: list[tuple[str, Estimate, str]], fmt, fixed_max: float | None = None,
              missing: str = "n/a") -> str:
    """Horizontal bars, one per (label, estimate, colour), with the interval as a whisker."""
    width, left, right, row_h, top = 520, 170, 90, 30, 10
    span = width - left - right
    top_value = fixed_max or max([b.value for _, b, _ in bars if b.value is not None]
                                 + [b.high for _, b, _ in bars if b.high is not None] + [0]) or 1.0
    x = lambda v: left + span * min(v, top_value) / top_value  # noqa: E731
    body = [f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{top + row_h * len(bars)}" class="axis"/>']
    for i, (label, e, colour) in enumerate(bars):
        y = top + i * row_h
        body.append(f'<text x="{left - 8}" y="{y + 19}" text-anchor="end" class="label">{escape(label)}</text>')
        if e.value is None:
            body.append(f'<text x="{left + 6}" y="{y + 19}" class="na">{escape(missing)}</text>')
            continue
        w = max(x(e.value) - left, 1.0)
        body.append(f'<rect x="{left}" y="{y + 5}" width="{w:.1f}" height="{row_h - 12}" fill="{colour}" '
                    f'rx="2"><title>{escape(label)}: {escape(with_ci(e, fmt))}</title></rect>')
        if e.low is not None or e.high is not None:
            lo = x(e.low if e.low is not None else e.value)
            hi = x(e.high) if e.high is not None else left + span
            mid = y + row_h / 2 - 1
            body.append(f'<line x1="{lo:.1f}" y1="{mid}" x2="{hi:.1f}" y2="{mid}" class="whisker"/>'
                        f'<line x1="{lo:.1f}" y1="{mid - 5}" x2="{lo:.1f}" y2="{mid + 5}" class="whisker"/>')
            if e.high is not None:
                body.append(f'<line x1="{hi:.1f}" y1="{mid - 5}" x2="{hi:.1f}" y2="{mid + 5}" class="whisker"/>')
        body.append(f'<text x="{width - right + 6}" y="{y + 19}" class="value">{escape(fmt(e.value))}</text>')
    return _svg(width, top + row_h * len(bars) + 10, title, body)


def _ticks(top_value: float, n: int = 4) -> list[float]:
    return [top_value * i / n for i in range(n + 1)]


def scatter(title: str, points: list[tuple[str, float, Estimate, str]]) -> str:
    """Cost per task (x) against good rate (y), one labelled point per model, good-rate whisker."""
    width, height, left, bottom, top, right = 520, 320, 64, 44, 24, 28
    span_x, span_y = width - left - right, height - top - bottom
    x_max = max([x for _, x, _, _ in points] + [0]) * 1.15 or 1.0
    X = lambda v: left + span_x * v / x_max  # noqa: E731
    Y = lambda v: top + span_y * (1 - v)  # noqa: E731
    body = [f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + span_y}" class="axis"/>',
            f'<line x1="{left}" y1="{top + span_y}" x2="{left + span_x}" y2="{top + span_y}" class="axis"/>']
    for t in _ticks(1.0):
        body.append(f'<line x1="{left - 4}" y1="{Y(t):.1f}" x2="{left + span_x}" y2="{Y(t):.1f}" class="grid"/>'
                    f'<text x="{left - 8}" y="{Y(t) + 4:.1f}" text-anchor="end" class="tick">{pct(t)}</text>')
    for t in _ticks(x_max):
        body.append(f'<text x="{X(t):.1f}" y="{top + span_y + 16}" text-anchor="middle" class="tick">'
                    f'{escape(money(t))}</text>')
    body.append(f'<text x="{left + span_x / 2}" y="{height - 6}" text-anchor="middle" class="label">'
                f'cost per task (US$)</text>'
                f'<text x="14" y="{top + span_y / 2}" text-anchor="middle" class="label" '
                f'transform="rotate(-90 14 {top + span_y / 2})">good rate</text>')
    placed: list[tuple[float, float, float]] = []  # the labels drawn so far: (x0, x1, baseline)
    for label, x, e, colour in points:
        if e.value is None:
            continue
        cx, cy = X(x), Y(e.value)
        if e.low is not None and e.high is not None:
            body.append(f'<line x1="{cx:.1f}" y1="{Y(e.low):.1f}" x2="{cx:.1f}" y2="{Y(e.high):.1f}" '
                        f'stroke="{colour}" class="whisker-c"/>')
        # Right of the point unless that runs off the chart, on the nearest line free of the labels
        # already drawn (close points are common: models of one family cost and score alike).
        text_w = LABEL_CHAR_W * len(label)
        x0 = cx + 10 if cx + 10 + text_w <= width else cx - 10 - text_w
        y = _free_line(placed, x0, x0 + text_w, max(cy - 8, 12.0), 12.0, height - bottom - 4.0)
        placed.append((x0, x0 + text_w, y))
        body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{colour}"><title>{escape(label)}: '
                    f'{escape(money(x))} per task, good {escape(with_ci(e, pct))}</title></circle>'
                    f'<text x="{x0:.1f}" y="{y:.1f}" class="label" style="fill:{colour}">{escape(label)}</text>')
    return _svg(width, height, title, body)


def _free_line(placed: list[tuple[float, float, float]], x0: float, x1: float, want: float,
               lowest: float, highest: float) -> float:
    """The baseline nearest `want` (stepping a line up, then down, and so on) whose label
    [x0, x1] crosses none already placed, within [lowest, highest]; `want` if none is free."""
    for step in range(40):
        y = want + LABEL_H * ((step + 1) // 2) * (-1 if step % 2 else 1)
        if lowest <= y <= highest and not any(x0 < b1 and b0 < x1 and abs(y - by) < LABEL_H
                                              for b0, b1, by in placed):
            return y
    return want


def grouped_bars(title: str, groups: list[str], models: list[str], value, colours: dict[str, str]) -> str:
    """Good rate per group (kind) with one bar per model; `value(model, group)` -> Estimate or None."""
    width, height, left, bottom, top = 520, 260, 48, 56, 14
    span_y = height - top - bottom
    group_w = (width - left - 10) / max(len(groups), 1)
    bar_w = min(28.0, (group_w - 16) / max(len(models), 1))
    Y = lambda v: top + span_y * (1 - v)  # noqa: E731
    body = []
    for t in _ticks(1.0):
        body.append(f'<line x1="{left}" y1="{Y(t):.1f}" x2="{width - 10}" y2="{Y(t):.1f}" class="grid"/>'
                    f'<text x="{left - 6}" y="{Y(t) + 4:.1f}" text-anchor="end" class="tick">{pct(t)}</text>')
    for gi, g in enumerate(groups):
        x0 = left + gi * group_w + (group_w - bar_w * len(models)) / 2
        for mi, m in enumerate(models):
            e = value(m, g)
            if e is None or e.value is None:
                continue
            h = max(span_y * e.value, 1.0)
            body.append(f'<rect x="{x0 + mi * bar_w:.1f}" y="{Y(e.value):.1f}" width="{bar_w - 3:.1f}" '
                        f'height="{h:.1f}" fill="{colours[m]}"><title>{escape(m)} · {escape(g)}: '
                        f'{escape(with_ci(e, pct))} of {e.n}</title></rect>')
        body.append(f'<text x="{left + gi * group_w + group_w / 2:.1f}" y="{top + span_y + 18}" '
                    f'text-anchor="middle" class="label">{escape(g)}</text>')
    slot = (width - left) / max(len(models), 1)  # legend: one slot per model, names cut to fit
    for mi, m in enumerate(models):
        lx = left + mi * slot
        body.append(f'<rect x="{lx:.1f}" y="{height - 22}" width="12" height="12" fill="{colours[m]}"/>'
                    f'<text x="{lx + 18:.1f}" y="{height - 12}" class="tick">{escape(m[:int((slot - 24) / 6)])}</text>')
    return _svg(width, height, title, body)
