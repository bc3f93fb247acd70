"""Generated demand against its rates: incident counts are Poisson with the scenario's means."""

import numpy as np
import pytest
from scipy import stats

import scenarios
import sim
from sim.demand import generate
from sim.rng import Streams

ALPHA = 0.001  # seeds are fixed: a deterministic check that the counts fit their model


@pytest.fixture(scope="module")
def ansan_30d():
    world = sim.compile(scenarios.load("ansan"))
    return world, generate(world, world.geo.for_run(), Streams(7, 0))


def test_counts_per_district_and_type_match_rates(ansan_30d):
    world, stream = ansan_30d
    expected = world.expected_counts()                      # [district, type]
    observed = np.zeros_like(expected)
    np.add.at(observed, (stream.district, stream.kind), 1)
    keep = expected > 5                                     # chi-square needs sizeable cells
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    p = stats.chi2.sf(chi2, keep.sum())                     # totals are random: no dof lost
    assert p > ALPHA, f"chi2={chi2:.1f} on {keep.sum()} cells, p={p:.2g}"
    small = ~keep & (expected > 0)
    total_small = expected[small].sum()
    assert observed[small].sum() == pytest.approx(total_small, abs=4 * np.sqrt(total_small) + 1)


def test_counts_per_hour_of_day_follow_the_profile(ansan_30d):
    world, stream = ansan_30d
    edges = world.bin_edges
    per_bin = np.diff(edges)[:, None, None] * world.rates
    hour = ((edges[:-1] // 60) % 24).astype(int)
    expected = np.bincount(hour, per_bin.sum(axis=(1, 2)), minlength=24)
    observed = np.bincount((stream.t_call // 60 % 24).astype(int), minlength=24)
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert stats.chi2.sf(chi2, 24) > ALPHA
    assert observed[3] < observed[12]                      # night is quieter than noon in the profile


def test_daily_totals_are_poisson_not_overdispersed():
    scenario = scenarios.override(scenarios.load("mmc"), {"time.horizon": "400 d"})
    world = sim.compile(scenario)
    stream = generate(world, world.geo.for_run(), Streams(11, 3))
    daily = np.bincount((stream.t_call // 1440).astype(int), minlength=400)
    lam = 24 * 24.0
    assert daily.mean() == pytest.approx(lam, rel=4 * np.sqrt(lam / 400) / lam + 1e-9)
    # index of dispersion: (n-1) s^2 / lambda ~ chi2(n-1) for Poisson counts
    d = (len(daily) - 1) * daily.var(ddof=1) / lam
    assert ALPHA < stats.chi2.sf(d, len(daily) - 1) < 1 - ALPHA
