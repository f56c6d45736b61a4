"""The statistics behind the eval metrics: point estimates with 95% intervals.

    wilson(7, 10)                        # Estimate(value=0.7, low=0.397, high=0.892, n=10, method="wilson")
    mean_t([0.5, 1.0, 0.75])             # Student t interval of a mean
    pass_at_k(n=5, c=2, k=3)             # the unbiased estimator of the Codex paper (Chen et al. 2021)
    bootstrap(items, statistic)          # percentile bootstrap, fixed seed: the same numbers every time

Which interval goes with which metric is metrics.py's choice; docs/evals.md says it for each.
Not done: no multiple-comparison correction, no paired tests between models, no clustering
of attempts by task (samples of one task are treated as independent in Wilson and t).
"""

from __future__ import annotations

import math
import random
from statistics import NormalDist, fmean, stdev
from typing import Callable, Literal, Sequence, TypeVar

from pydantic import BaseModel, ConfigDict

Z = NormalDist().inv_cdf(0.975)  # 1.95996...
BOOTSTRAP_RESAMPLES = 2000
SEED = 0
# Student t, 97.5% quantile, for 1..30 degrees of freedom (standard tables); beyond 30 the
# Cornish-Fisher expansion below is within 1e-4 of the exact value.
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]

T = TypeVar("T")


class Estimate(BaseModel):
    """A value with its 95% interval. `value` None: not defined (no data, or a ratio over
    zero); `high` None with a value: the interval has no upper bound."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int  # what the estimate is over (attempts, tasks, ...)
    method: Literal["wilson", "t", "bootstrap", "none"]


def _r(x: float | None) -> float | None:
    # 9 significant digits: stable JSON, and a cost of $0.0000123 keeps its precision
    return None if x is None else float(f"{x:.9g}")


def wilson(successes: int, n: int) -> Estimate:
    """A proportion with the Wilson score interval (good near 0 and 1, unlike the normal one)."""
    if n == 0:
        return Estimate(value=None, n=0, method="wilson")
    p = successes / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends: no 1e-17 of rounding noise
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Estimate(value=_r(p), low=_r(low), high=_r(high), n=n, method="wilson")


def t_quantile(df: int) -> float:
    if df <= 30:
        return _T975[df - 1]
    z = Z
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def mean_t(values: Sequence[float], low: float | None = 0.0, high: float | None = None) -> Estimate:
    """A mean with the Student t interval, clipped to [low, high] (the range the values can
    take: counts, seconds and costs are never negative); one value has no interval."""
    n = len(values)
    if n == 0:
        return Estimate(value=None, n=0, method="t")
    m = fmean(values)
    if n == 1:
        return Estimate(value=_r(m), n=1, method="t")
    half = t_quantile(n - 1) * stdev(values) / math.sqrt(n)
    lo, hi = m - half, m + half
    lo = lo if low is None else max(low, lo)
    hi = hi if high is None else min(high, hi)
    return Estimate(value=_r(m), low=_r(lo), high=_r(hi), n=n, method="t")


def pass_at_k(n: int, c: int, k: int) -> float:
    """P(at least one of k samples drawn without replacement from n is good), c of n good:
    1 - C(n-c, k) / C(n, k). Needs n >= k."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def bootstrap(items: Sequence[T], statistic: Callable[[Sequence[T]], float | None]) -> Estimate:
    """`statistic` of `items` with a 95% percentile bootstrap interval (resampling `items`).
    A resample where the statistic is None (a ratio over zero) counts as +infinity: when more
    than 2.5% of resamples are, the interval has no upper bound (`high` None)."""
    n = len(items)
    value = statistic(items) if n else None
    if value is None:
        return Estimate(value=None, n=n, method="bootstrap")
    rng = random.Random(SEED)
    stats = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        s = statistic([items[rng.randrange(n)] for _ in range(n)])
        stats.append(math.inf if s is None else s)
    stats.sort()
    low = stats[int(0.025 * BOOTSTRAP_RESAMPLES)]
    high = stats[math.ceil(0.975 * BOOTSTRAP_RESAMPLES) - 1]
    return Estimate(value=_r(value), low=None if math.isinf(low) else _r(low),
                    high=None if math.isinf(high) else _r(high), n=n,
                    method="bootstrap")
