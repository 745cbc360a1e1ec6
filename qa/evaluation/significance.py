"""Paired significance tests between two runs over the same questions (scipy)."""

from __future__ import annotations

import math
import warnings


def paired_tests(a: list[float], b: list[float], resamples: int = 10000, seed: int = 0) -> dict[str, float]:
    """Two-sided p-values of a paired t-test and a paired randomisation (sign-flip) test.

    ``a`` and ``b`` are per-question scores of the two runs, in the same question order.
    Identical runs give p = 1.
    """
    import numpy as np
    from scipy import stats

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) != len(y):
        raise ValueError("paired tests need the same questions in both runs")
    diff = x - y
    if len(diff) < 2 or not np.any(diff):
        return {"t_test": 1.0, "randomisation": 1.0}
    with warnings.catch_warnings():  # near-constant differences: scipy warns, the p-value is still right
        warnings.simplefilter("ignore", RuntimeWarning)
        t = stats.ttest_rel(x, y)
    p_t = float(t.pvalue) if not math.isnan(t.pvalue) else 1.0
    perm = stats.permutation_test(
        (x, y),
        lambda u, v, axis: np.mean(u - v, axis=axis),
        permutation_type="samples",
        n_resamples=resamples,
        alternative="two-sided",
        vectorized=True,
        random_state=np.random.default_rng(seed),
    )
    return {"t_test": p_t, "randomisation": float(perm.pvalue)}
