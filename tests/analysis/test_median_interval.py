"""Confidence interval of a median: order statistics with binomial coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from analysis.stats import median_interval


@pytest.mark.parametrize(("n", "k"), [(6, 1), (11, 2), (21, 6), (31, 10), (101, 41)])
def test_ranks_are_the_tightest_with_95_percent_coverage(n, k):
    lo, hi, coverage = median_interval([float(x) for x in range(1, n + 1)])
    assert (lo, hi) == (k, n + 1 - k)                           # ranks k and n + 1 - k
    assert coverage == pytest.approx(1 - 2 * binom.cdf(k - 1, n, 0.5)) and coverage >= 0.95
    assert 1 - 2 * binom.cdf(k, n, 0.5) < 0.95                 # one rank tighter falls short


def test_too_few_values_give_the_range_and_its_coverage():
    assert median_interval([3.0, 1.0, 2.0]) == (1.0, 3.0, 0.75)


def test_interval_covers_the_true_median_as_often_as_it_claims():
    rng = np.random.default_rng(7)
    samples = rng.lognormal(0.0, 0.5, size=(4000, 21))         # true median exp(0) = 1
    hits = [lo <= 1.0 <= hi for lo, hi, _ in map(median_interval, samples.tolist())]
    claimed = median_interval(samples[0].tolist())[2]
    assert abs(np.mean(hits) - claimed) < 4 * np.sqrt(claimed * (1 - claimed) / len(hits))
