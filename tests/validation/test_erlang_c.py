"""The engine on the built-in `mmc` scenario against the M/M/c queue (Erlang C).

With zero travel, zero call handling and exponential on-scene times, the
dispatch queue is an M/M/c queue: the wait of a call (dispatch - call) has
P(wait > 0) = C(c, a) and E[wait] = C(c, a) / (c mu - lambda), where
C is Erlang's C formula and a = lambda / mu. Each check uses independent
replications after a warm-up and a two-sided 99% t-interval; the seeds are
fixed, so the test is deterministic.
"""

import math

import numpy as np
import pytest
from scipy import stats

import scenarios
import sim

C_UNITS = 5
MU_PER_MIN = 0.1  # mean service 10 min


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load a < c."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def replicate(rho: float, days: float, reps: int):
    lam_per_min = rho * C_UNITS * MU_PER_MIN
    scenario = scenarios.override(scenarios.load("mmc"), {
        "demand.rates_per_hr.city.call": lam_per_min * 60,
        "time.horizon": f"{days} d",
        "time.warmup": "2 d",
    })
    world = sim.compile(scenario)
    out = []
    for r in range(reps):
        res = sim.run(scenario, world=world, seed=2024, replication=r, log_events=False)
        inc = res.incidents[~res.incidents["in_warmup"] & res.incidents["t_dispatch_min"].notna()]
        wait = (inc["t_dispatch_min"] - inc["t_call_min"]).to_numpy()
        out.append({
            "mean_wait": wait.mean(),
            "p_wait": (wait > 1e-9).mean(),
            "p_wait_gt_10": (wait > 10.0).mean(),
            "utilization": res.units["utilization"].mean(),
        })
    return lam_per_min, {k: np.array([o[k] for o in out]) for k in out[0]}


def within_ci(samples: np.ndarray, truth: float, level: float = 0.99) -> tuple[bool, str]:
    n = len(samples)
    mean, se = samples.mean(), samples.std(ddof=1) / math.sqrt(n)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * se
    return abs(mean - truth) <= half, f"{mean:.4f} +- {half:.4f} vs theory {truth:.4f}"


@pytest.mark.parametrize(("rho", "days", "reps"), [(0.5, 40, 6), (0.8, 80, 8), (0.95, 120, 10)])
def test_wait_matches_erlang_c(rho, days, reps):
    lam, m = replicate(rho, days, reps)
    a = lam / MU_PER_MIN
    p_wait = erlang_c(C_UNITS, a)
    mean_wait = p_wait / (C_UNITS * MU_PER_MIN - lam)
    for name, truth in [("p_wait", p_wait), ("mean_wait", mean_wait), ("utilization", rho),
                        ("p_wait_gt_10", p_wait * math.exp(-(C_UNITS * MU_PER_MIN - lam) * 10.0))]:
        ok, text = within_ci(m[name], truth)
        assert ok, f"rho={rho} {name}: {text}"


def test_erlang_c_formula_known_values():
    # Textbook values: c=2, a=1 -> 1/3; c=1 reduces to a (M/M/1: P(wait) = rho).
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
