"""How the eval's numbers read: percentages, dollars, counts, and a value with its interval.

    pct(0.625) -> "62%"    money(0.004344) -> "$0.00434"    with_ci(estimate, pct) -> "62% [48%, 74%]"

`None` reads "n/a" everywhere (a metric that is not defined, such as the cost per good app
with no good app); an interval with no upper end reads "∞". Used by the report, its charts
and the terminal table; it formats text and escapes nothing (the HTML side does that).
"""

from __future__ import annotations

import math

from appwright.evals.stats import Estimate


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.0f}%"


def money(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x == 0:
        return "$0"
    digits = min(8, max(2, 2 - math.floor(math.log10(abs(x)))))
    return f"${x:.{digits}f}"


def num(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def with_ci(e: Estimate | None, fmt) -> str:
    """`62% [48%, 74%]`; `n/a` for no value; an open upper end as `∞`."""
    if e is None or e.value is None:
        return "n/a"
    if e.low is None and e.high is None:
        return fmt(e.value)
    return f"{fmt(e.value)} [{fmt(e.low) if e.low is not None else '?'}, {fmt(e.high) if e.high is not None else '∞'}]"
