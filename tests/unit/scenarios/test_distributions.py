"""Duration distributions: sample moments against mean_min (and the sd asked for), within standard errors."""

from __future__ import annotations

import math

import numpy as np
import numpy.testing as npt
import pytest
from pydantic import BaseModel
from scipy import stats

from scenarios.distributions import ZERO, Distribution, TruncatedNormal

SEED = 424242
N = 40_000
Z = 5.0             # tolerance in standard errors; fixed seeds make the check deterministic

class _Holder(BaseModel):
    """A field typed ``Distribution``, as the schema's fields are (the shorthand is applied per field)."""

    d: Distribution


def _dist(spec):
    return _Holder(d=spec).d


def _sample(dist, n=N, seed=SEED):
    x = dist.sample(np.random.default_rng(seed), n)
    assert x.shape == (n,) and x.dtype == np.float64
    assert np.all(x >= 0) and np.all(np.isfinite(x))
    return x


def _assert_mean(x, mean):
    se = x.std(ddof=1) / math.sqrt(len(x))
    assert abs(x.mean() - mean) <= Z * se + 1e-12, f"mean {x.mean():.4f} vs {mean:.4f} (se {se:.4f})"


def _assert_sd(x, sd):
    """Sample variance within Z standard errors of sd**2, SE from the fourth central moment."""
    m2 = x.var(ddof=1)
    m4 = np.mean((x - x.mean()) ** 4)
    se = math.sqrt(max(m4 - m2**2, 0.0) / len(x))
    assert abs(m2 - sd**2) <= Z * se, f"var {m2:.4f} vs {sd ** 2:.4f} (se {se:.4f})"


@pytest.mark.parametrize(
    ("spec", "mean", "sd"),
    [
        ({"dist": "exponential", "mean": 20}, 20.0, 20.0),
        ({"dist": "lognormal", "mean": 30, "sd": 10}, 30.0, 10.0),
        ({"dist": "lognormal", "mean": "2 h", "sd": "1 h"}, 120.0, 60.0),
        ({"dist": "gamma", "mean": 20, "sd": 8}, 20.0, 8.0),
        ({"dist": "gamma", "mean": 5, "sd": 10}, 5.0, 10.0),                # shape < 1
        ({"dist": "uniform", "low": 10, "high": 20}, 15.0, 10 / math.sqrt(12)),
        ({"dist": "empirical", "values": [10, 20, 60]}, 30.0, math.sqrt((20**2 + 10**2 + 30**2) / 3)),
        ({"dist": "empirical", "values": [10, 20, 60], "weights": [2, 1, 1]}, 25.0,
         math.sqrt((2 * 15**2 + 5**2 + 35**2) / 4)),
    ],
)
def test_sample_moments(spec, mean, sd):
    dist = _dist(spec)
    assert dist.mean_min == pytest.approx(mean)
    x = _sample(dist)
    _assert_mean(x, mean)
    _assert_sd(x, sd)


@pytest.mark.parametrize(
    ("mean", "sd", "low", "high"),
    [(10.0, 5.0, 0.0, None), (1.5, 0.5, 0.5, None), (10.0, 5.0, 10.0, None), (10.0, 4.0, 6.0, 12.0),
     (2.0, 3.0, 0.0, 1.0), (0.0, 1.0, 4.0, None), (30.0, 2.0, 0.0, 200.0)],
)
def test_truncated_normal_against_scipy(mean, sd, low, high):
    spec = {"dist": "truncated_normal", "mean": mean, "sd": sd, "low": low, "high": high}
    dist = _dist(spec)
    upper = math.inf if high is None else high
    ref = stats.truncnorm((low - mean) / sd, (upper - mean) / sd, loc=mean, scale=sd)
    assert dist.mean_min == pytest.approx(ref.mean(), rel=1e-9)
    x = _sample(dist)
    assert x.min() >= low and x.max() <= upper
    _assert_mean(x, ref.mean())
    _assert_sd(x, ref.std())
    # the whole distribution, not only two moments
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3


def test_truncated_normal_default_bounds():
    dist = _dist({"dist": "truncated_normal", "mean": 1, "sd": 2})
    assert isinstance(dist, TruncatedNormal) and dist.low == 0.0 and dist.high is None
    assert dist.mean_min == pytest.approx(stats.truncnorm(-0.5, np.inf, loc=1, scale=2).mean())


def test_empirical_frequencies_follow_weights():
    dist = _dist({"dist": "empirical", "values": [1, 2, 3, 4], "weights": [0.5, 0, 1.5, 2]})
    x = _sample(dist, n=8000)
    counts = np.array([(x == v).sum() for v in (1, 2, 3, 4)])
    assert counts[1] == 0
    expected = 8000 * np.array([0.125, 0.375, 0.5])
    assert stats.chisquare(counts[[0, 2, 3]], expected).pvalue > 1e-3


@pytest.mark.parametrize("spec", [7, "7 min", {"dist": "constant", "value": 7}, {"dist": "uniform", "low": 7,
                                                                                    "high": 7}])
def test_degenerate_distributions_are_constant(spec):
    dist = _dist(spec)
    npt.assert_array_equal(_sample(dist, n=50), 7.0)
    assert dist.mean_min == 7.0


def test_zero_default():
    npt.assert_array_equal(ZERO.sample(np.random.default_rng(SEED), 3), 0.0)
    assert ZERO.mean_min == 0.0


def test_same_generator_state_same_draws():
    dist = _dist({"dist": "gamma", "mean": 20, "sd": 8})
    npt.assert_array_equal(_sample(dist, n=100, seed=1), _sample(dist, n=100, seed=1))
    assert not np.array_equal(_sample(dist, n=100, seed=1), _sample(dist, n=100, seed=2))


def test_size_zero():
    for spec in ({"dist": "lognormal", "mean": 3, "sd": 1}, {"dist": "empirical", "values": [1]}, 4):
        assert _dist(spec).sample(np.random.default_rng(SEED), 0).shape == (0,)


@pytest.mark.parametrize("sds_above", [6.5, 7.0])
def test_truncated_normal_deep_in_the_upper_tail_stays_finite(sds_above):
    """The validator accepts a lower bound this far above the mean; every draw must still be a finite
    duration (inverse-CDF sampling through ndtr close to 1 runs out of precision there)."""
    dist = _dist({"dist": "truncated_normal", "mean": 10, "sd": 1, "low": 10 + sds_above})
    x = dist.sample(np.random.default_rng(SEED), 200_000)
    assert np.isfinite(x).all(), f"{np.isinf(x).sum()} infinite draws of 200000"
    assert x.min() >= 10 + sds_above
    _assert_mean(x, dist.mean_min)
