"""Two districts, two units, fixed preferences: the engine against Larson's hypercube model.

Each district's unit is its first choice, the other unit its second
(``district_first`` with zero travel); calls that find both busy wait in one
first-come-first-served queue; service is exponential. The continuous-time
Markov chain has states 0 (both free), A (only unit 1 busy), B (only unit 2
busy) and Q_k (both busy, k calls waiting). From it:

- workload of unit 1 = P(A) + P(both busy), of unit 2 = P(B) + P(both busy);
- a district-1 call is answered by unit 2 when it arrives in state A, and with
  probability 1/2 when it must wait (both units are alike once busy).
"""

import math

import numpy as np
import pytest
from scipy import stats

import scenarios
import sim

LAM1, LAM2, MU = 3.0 / 60, 1.5 / 60, 1.0 / 20   # per minute
K = 400                                           # queue truncation (P(Q_400) is ~1e-50)


def hypercube() -> dict[str, float]:
    lam = LAM1 + LAM2
    n = 3 + K                                     # 0, A, B, Q_0..Q_{K-1}
    Q = np.zeros((n, n))
    Q[0, 1], Q[0, 2] = LAM1, LAM2
    Q[1, 0], Q[1, 3] = MU, lam
    Q[2, 0], Q[2, 3] = MU, lam
    Q[3, 1], Q[3, 2] = MU, MU                     # unit 2 frees -> A; unit 1 frees -> B
    for k in range(3, n):
        if k + 1 < n:
            Q[k, k + 1] = lam
        if k > 3:
            Q[k, k - 1] = 2 * MU
    np.fill_diagonal(Q, -Q.sum(axis=1))
    A = np.vstack([Q.T, np.ones(n)])
    p = np.linalg.lstsq(A, np.r_[np.zeros(n), 1.0], rcond=None)[0]
    busy = p[3:].sum()
    return {
        "util_1": p[1] + busy,
        "util_2": p[2] + busy,
        "cross_1": p[1] + 0.5 * busy,             # district-1 calls served by unit 2
        "cross_2": p[2] + 0.5 * busy,             # district-2 calls served by unit 1
        "both_busy": busy,
    }


def scenario():
    return scenarios.from_dict({
        "schema_version": 1, "name": "hypercube-2",
        "time": {"horizon": "150 d", "warmup": "2 d"},
        "geography": {"kind": "matrix", "places": ["p1", "p2"], "travel_min": [[0, 0], [0, 0]]},
        "districts": {"d1": {"zones": {"p1": 1}, "neighbours": ["d2"]},
                      "d2": {"zones": {"p2": 1}, "neighbours": ["d1"]}},
        "stations": {"s1": {"district": "d1", "location": "p1"},
                     "s2": {"district": "d2", "location": "p2"}},
        "unit_types": {"unit": {}},
        "fleets": {"s1": {"unit": 1}, "s2": {"unit": 1}},
        "incident_types": {"call": {"priority_mix": {1: 1.0}, "target_response": "10 min",
                                    "required_units": {"unit": 1},
                                    "on_scene": {"dist": "exponential", "mean": 1 / MU}}},
        "demand": {"rates_per_hr": {"d1": {"call": LAM1 * 60}, "d2": {"call": LAM2 * 60}}},
        "policy": {"dispatch": "district_first"},
    })


def test_hypercube_workloads_and_cross_district_fractions():
    s = scenario()
    world = sim.compile(s)
    rows = []
    for r in range(8):
        res = sim.run(s, world=world, seed=31, replication=r, log_events=False)
        util = res.units.set_index("unit_id")["utilization"]
        a = res.assignments.merge(res.incidents[["incident_id", "district", "in_warmup"]], on="incident_id")
        a = a[~a["in_warmup"]]
        d1, d2 = a[a["district"] == "d1"], a[a["district"] == "d2"]
        rows.append({"util_1": util["s1/unit/1"], "util_2": util["s2/unit/1"],
                     "cross_1": d1["mutual_aid"].mean(), "cross_2": d2["mutual_aid"].mean()})
    truth = hypercube()
    del truth["both_busy"]
    for key, value in truth.items():
        x = np.array([row[key] for row in rows])
        half = stats.t.ppf(0.995, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
        assert abs(x.mean() - value) <= half, f"{key}: {x.mean():.4f} +- {half:.4f} vs {value:.4f}"


def test_hypercube_chain_is_consistent_with_erlang_c():
    # Both units alike once busy: P(both busy) is Erlang C for M/M/2, and workloads sum to a.
    truth = hypercube()
    a = (LAM1 + LAM2) / MU
    top = a**2 / 2 * 2 / (2 - a)
    assert truth["both_busy"] == pytest.approx(top / (1 + a + top), rel=1e-9)
    assert truth["util_1"] + truth["util_2"] == pytest.approx(a, rel=1e-9)
    assert truth["util_1"] > truth["util_2"]                  # district 1 is busier
