"""The citizen kernels against their plain-Python references, and the point queue's exact law."""

from __future__ import annotations

import math

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

from agents.population import shelter_routes
from sim.kernels import citizens as k
from tests.reference import naive_citizens as ref

pytestmark = pytest.mark.nojit


def _people(n: int, rng: np.random.Generator, n_cells: int, n_nodes: int) -> dict[str, np.ndarray]:
    return {
        "state": rng.choice([k.HOME, k.HOME, k.HOME, k.MOVING, k.SHELTERED, k.DEAD], n).astype(np.int8),
        "home_cell": rng.integers(0, n_cells, n).astype(np.int32),
        "node": rng.integers(0, n_nodes, n).astype(np.int32),
        "age": rng.integers(0, 3, n).astype(np.int8),
        "health": rng.uniform(0.5, 1.0, n).astype(np.float32),
        "injury": np.where(rng.random(n) < 0.2, rng.integers(1, 4, n), 0).astype(np.int8),
        "cause": np.full(n, -1, dtype=np.int8),
        "injured_at": rng.uniform(0, 30, n),
        "health_injured": rng.uniform(0.3, 0.8, n).astype(np.float32),
        "treated": rng.random(n) < 0.1,
        "died_at": np.full(n, np.inf),
        "dies_at": rng.uniform(20, 120, n),
        "u_death": rng.random(n).astype(np.float32),
        "u_triage": rng.random(n).astype(np.float32),
        "warned_at": np.where(rng.random(n) < 0.3, 5.0, np.inf),
    }


ORDER = (
    "state",
    "home_cell",
    "node",
    "age",
    "health",
    "injury",
    "cause",
    "injured_at",
    "health_injured",
    "treated",
    "died_at",
    "dies_at",
    "u_death",
    "u_triage",
    "warned_at",
)


@pytest.mark.parametrize(("seed", "indoor"), [(1, 1.0), (2, 0.3), (3, 0.0)])
def test_people_step_equals_reference(seed, indoor):
    rng = np.random.default_rng(seed)
    n, n_cells, n_nodes = 300, 12, 9
    cells = rng.choice([0.0, 2.0, 8.0, 30.0], (2, n_cells))
    nodes = rng.choice([0.0, 2.0, 8.0, 30.0], (2, n_nodes))
    harm, threshold, cue = np.array([0.02, 0.05]), np.array([1.0, 0.0]), np.array([20.0, np.inf])
    cause = np.array([0, 1], dtype=np.int8)
    vuln = np.array([1.2, 1.0, 1.6])
    triage = np.array([[0.2, 0.5, 1.0], [0.1, 0.4, 1.0]])
    scale, shape = np.array([20.0, 200.0, np.inf]), np.array([1.5, 1.2, 1.0])
    fast = _people(n, rng, n_cells, n_nodes)
    slow = {key: v.copy() for key, v in fast.items()}
    dead_before = np.count_nonzero(fast["state"] == k.DEAD)
    hurt = 0
    for t1 in (31.0, 32.0, 40.0, 60.0, 90.0):
        new_inj, new_warn = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        a, b = k.people_step(
            t1,
            *(fast[c] for c in ORDER),
            cells,
            nodes,
            harm,
            threshold,
            cue,
            cause,
            vuln,
            0.8,
            triage,
            scale,
            shape,
            indoor,
            new_inj,
            new_warn,
        )
        inj, warn = ref.people_step(
            t1,
            *(slow[c] for c in ORDER),
            cells,
            nodes,
            harm,
            threshold,
            cue,
            cause,
            vuln,
            0.8,
            triage,
            scale,
            shape,
            indoor,
        )
        assert list(new_inj[:a]) == inj and list(new_warn[:b]) == warn
        hurt += a
        for c in ORDER:
            npt.assert_allclose(fast[c], slow[c], rtol=1e-6, err_msg=c)
    assert hurt > 0 and np.count_nonzero(fast["state"] == k.DEAD) > dead_before  # the cases did something


def test_warning_kernels_equal_reference():
    rng = np.random.default_rng(5)
    n, n_cells = 400, 10
    p = _people(n, rng, n_cells, 1)
    phone, u, e = (
        rng.random(n) < 0.8,
        rng.random(n).astype(np.float32),
        rng.exponential(1, n).astype(np.float32),
    )
    mask = rng.random(n_cells) < 0.5
    q = {key: v.copy() for key, v in p.items()}
    buf = np.zeros(n, dtype=np.int64)
    m = k.reach(3.0, mask, True, phone, u, 0.7, p["state"], p["home_cell"], p["warned_at"], buf)
    assert list(buf[:m]) == ref.reach(
        3.0, mask, True, phone, u, 0.7, q["state"], q["home_cell"], q["warned_at"]
    )
    pressure, pressure_ref = np.zeros(n_cells), np.zeros(n_cells)
    scratch = np.zeros(n_cells, dtype=np.int64), np.zeros(n_cells, dtype=np.int64)
    for t1 in (4.0, 5.0, 6.0, 7.0, 8.0):
        m = k.spread(t1, 1.0, 0.3, p["state"], p["home_cell"], p["warned_at"], e, pressure, *scratch, buf)
        want = ref.spread(t1, 1.0, 0.3, q["state"], q["home_cell"], q["warned_at"], e, pressure_ref)
        assert list(buf[:m]) == want
        npt.assert_allclose(pressure, pressure_ref)
    npt.assert_array_equal(p["warned_at"], q["warned_at"])


# -- evacuation ---------------------------------------------------------------------------------------
def _grid(nx: int, ny: int, rng: np.random.Generator) -> csr_matrix:
    """A grid road network, both directions, random link minutes in {0.5, 1, 2}."""
    tail, head = [], []
    for i in range(ny):
        for j in range(nx):
            v = i * nx + j
            for w in ([v + 1] if j + 1 < nx else []) + ([v + nx] if i + 1 < ny else []):
                tail += [v, w]
                head += [w, v]
    minutes = rng.choice([0.5, 1.0, 2.0], len(tail))
    g = csr_matrix((minutes, (tail, head)), shape=(nx * ny, nx * ny))
    g.sort_indices()
    return g


class _Evac:
    """Kernel-side evacuation arrays of a small world, and the reference beside them."""

    def __init__(self, g, shelter_node, capacity, gap, n, rng, opens_at=None):
        self.next_link, self.dist = shelter_routes(g, np.array(shelter_node))
        self.opens_at = np.array([-np.inf] * len(capacity) if opens_at is None else opens_at, dtype=float)
        self.head, self.minutes = g.indices.astype(np.int32), g.data.astype(np.float64)
        self.gap = np.asarray(gap, dtype=np.float64)
        self.free_at = np.full(len(self.head), -np.inf)
        self.shelter_node = np.array(shelter_node, dtype=np.int32)
        self.capacity = np.array(capacity, dtype=np.int64)
        self.occupancy = np.zeros(len(capacity), dtype=np.int64)
        self.p = {
            "state": np.zeros(n, dtype=np.int8),
            "node": rng.integers(0, g.shape[0], n).astype(np.int32),
            "link": np.full(n, -1, dtype=np.int32),
            "phase": np.zeros(n, dtype=np.int8),
            "target": np.full(n, -1, dtype=np.int32),
            "shelter": np.full(n, -1, dtype=np.int32),
            "departed_at": np.full(n, np.inf),
            "arrived_at": np.full(n, np.inf),
            "treated": np.zeros(n, dtype=np.bool_),
            "first": rng.integers(-1, len(capacity), n).astype(np.int32),
            "mobility": rng.choice([0.5, 1.0], n).astype(np.float32),
        }
        self.heap_t, self.heap_p, self.size = (
            np.zeros(n),
            np.zeros(n, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
        )
        self.ref = ref.Evacuation(
            self.head.tolist(),
            self.minutes.tolist(),
            self.gap.tolist(),
            self.next_link.tolist(),
            self.dist.tolist(),
            self.shelter_node.tolist(),
            self.capacity.tolist(),
            self.opens_at.tolist(),
        )
        self.q = {key: (v.tolist() if key == "mobility" else v.copy()) for key, v in self.p.items()}

    def depart(self, t, people):
        for person in people:
            k.heap_push(self.heap_t, self.heap_p, self.size, t, person)
            self.p["phase"][person] = k.DEPART
            self.ref.depart(t, person)

    def advance(self, t):
        p = self.p
        k.evacuate(
            t,
            p["state"],
            p["node"],
            p["link"],
            p["phase"],
            p["target"],
            p["shelter"],
            p["departed_at"],
            p["arrived_at"],
            p["treated"],
            p["first"],
            p["mobility"],
            self.head,
            self.minutes,
            self.gap,
            self.free_at,
            self.next_link,
            self.dist,
            self.shelter_node,
            self.occupancy,
            self.capacity,
            self.opens_at,
            self.heap_t,
            self.heap_p,
            self.size,
        )
        self.ref.advance(t, self.q)

    def open(self, j, t):
        """Open shelter j at t (what :meth:`Citizens.open_shelter` does) in the kernel and the reference."""
        self.opens_at[j] = self.ref.opens_at[j] = t
        k.reopen(t, self.p["state"], self.p["treated"], self.p["phase"], self.heap_t, self.heap_p, self.size)
        self.ref.reopen(t, self.q)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_evacuation_equals_reference(seed):
    rng = np.random.default_rng(seed)
    g = _grid(5, 4, rng)
    ev = _Evac(g, [0, 19, 7], [40, 25, 30], rng.choice([0.25, 0.5, 1.0], g.nnz), 120, rng)
    order = rng.permutation(120)  # each person sets off once
    for j, t in enumerate(range(0, 60, 5)):
        ev.depart(float(t) + 0.5, order[10 * j : 10 * j + 10])
        ev.advance(float(t + 5))
    ev.advance(1e9)
    for key in ("state", "node", "shelter", "departed_at", "arrived_at"):
        npt.assert_array_equal(ev.p[key], np.asarray(ev.q[key]), err_msg=key)
    assert list(ev.occupancy) == ev.ref.occupancy
    assert (
        ev.occupancy <= ev.capacity
    ).all() and ev.occupancy.sum() == 95  # full: 95 places, the rest stranded
    assert np.count_nonzero(ev.p["state"] == k.STRANDED) > 0


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_evacuation_with_shelters_opening_equals_reference(seed):
    # two of three shelters closed; one opens at 17.5 (between steps), the other at 40 (on a step)
    rng = np.random.default_rng(seed)
    g = _grid(5, 4, rng)
    ev = _Evac(g, [0, 19, 7], [15, 40, 30], rng.choice([0.25, 0.5, 1.0], g.nnz), 120, rng,
               opens_at=[-np.inf, np.inf, np.inf])
    order = rng.permutation(120)
    for j, t in enumerate(range(0, 60, 5)):
        ev.depart(float(t) + 0.5, order[10 * j : 10 * j + 10])
        if t == 15:  # the kernel has run to 15: choices in (15, 17.5) are made later and must see it closed
            ev.open(1, 17.5)
        ev.advance(float(t + 5))
        if t + 5 == 40:  # after the step at 40: who found nothing at 40 goes again at 40
            ev.open(2, 40.0)
    ev.advance(1e9)
    for key in ("state", "node", "shelter", "departed_at", "arrived_at"):
        npt.assert_array_equal(ev.p[key], np.asarray(ev.q[key]), err_msg=key)
    assert list(ev.occupancy) == ev.ref.occupancy
    sheltered = ev.p["state"] == k.SHELTERED
    for s, opened in ((1, 17.5), (2, 40.0)):
        arrived = ev.p["arrived_at"][sheltered & (ev.p["shelter"] == s)]
        assert len(arrived) and arrived.min() >= opened  # nobody is in before it opens
    assert np.isin(ev.p["departed_at"], [17.5, 40.0]).any()  # some waited at home and left at an opening


def _closed_then_open(open_at: float, step: float):
    """10 people at node 0 set off at 0 to a closed shelter at node 1 (one 4-min link, 2 a minute)."""
    ev = _one_link(10, 4.0, 2.0)
    ev.opens_at[0] = ev.ref.opens_at[0] = np.inf
    ev.depart(0.0, range(10))
    t = 0.0
    while t < 100:
        t += step
        ev.advance(t)
        if t - step < open_at <= t:
            ev.open(0, open_at)
    return ev


@pytest.mark.parametrize("step", [1.0, 2.5, 7.0])
def test_a_shelter_opening_at_t_sends_the_waiting_at_t_whatever_the_step(step):
    # they wait at home until 6.25, then go as if they had all left at 6.25: the k-th arrives at 10.25 + k / 2
    ev = _closed_then_open(6.25, step)
    npt.assert_array_equal(ev.p["departed_at"], np.full(10, 6.25))
    npt.assert_allclose(ev.p["arrived_at"], 10.25 + np.arange(10) / 2)
    assert (ev.p["state"] == k.SHELTERED).all()
    npt.assert_array_equal(ev.p["arrived_at"], np.asarray(ev.q["arrived_at"]))


def test_the_stranded_go_on_when_a_shelter_opens_and_wait_while_none_does():
    # shelter 0 at node 1 holds 3; shelter 1 at node 0 (behind them) is closed until 20
    g = csr_matrix(([4.0, 4.0], ([0, 1], [1, 0])), shape=(2, 2))
    ev = _Evac(g, [1, 0], [3, 100], [0.5, 0.5], 8, np.random.default_rng(0), opens_at=[-np.inf, np.inf])
    for q in (ev.p, ev.q):
        q["node"][:], q["first"][:] = 0, 0
    ev.q["mobility"] = [1.0] * 8
    ev.p["mobility"][:] = 1.0
    ev.depart(0.0, range(8))
    ev.advance(19.0)
    assert np.count_nonzero(ev.p["state"] == k.STRANDED) == 5 and (ev.p["phase"][ev.p["state"] == k.STRANDED]
                                                                    == k.WAITING).all()
    ev.open(1, 20.0)
    ev.advance(100.0)
    assert np.count_nonzero(ev.p["state"] == k.SHELTERED) == 8 and ev.occupancy.tolist() == [3, 5]
    back = ev.p["shelter"] == 1  # left node 1 at 20 and queued back over the 4-minute link
    npt.assert_allclose(np.sort(ev.p["arrived_at"][back]), 24.0 + np.arange(5) * 0.5)
    for key in ("state", "shelter", "arrived_at"):
        npt.assert_array_equal(ev.p[key], np.asarray(ev.q[key]), err_msg=key)


def _one_link(n: int, minutes: float, per_min: float, capacity: int | None = None):
    g = csr_matrix(([minutes], ([0], [1])), shape=(2, 2))
    ev = _Evac(
        g, [1], [capacity if capacity is not None else n], [1.0 / per_min], n, np.random.default_rng(0)
    )
    ev.p["node"][:], ev.p["first"][:], ev.p["mobility"][:] = 0, 0, 1.0
    ev.q["node"][:], ev.q["first"][:], ev.q["mobility"] = 0, 0, [1.0] * n
    return ev


def test_point_queue_on_one_link_is_exact():
    # 2 people per minute through a 4-minute link: the k-th leaves at 4 + k / 2
    ev = _one_link(6, 4.0, 2.0)
    ev.depart(0.0, range(6))
    ev.advance(100.0)
    assert ev.p["arrived_at"].tolist() == [4.0, 4.5, 5.0, 5.5, 6.0, 6.5]
    assert (ev.p["state"] == k.SHELTERED).all()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    per_min=st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0]),
    minutes=st.sampled_from([0.25, 1.0, 3.0]),
    capacity=st.integers(1, 60),
)
def test_congestion_takes_at_least_n_over_c(n, per_min, minutes, capacity):
    ev = _one_link(n, minutes, per_min, capacity)
    ev.depart(0.0, range(n))
    ev.advance(1e6)
    arrived = np.sort(ev.p["arrived_at"][ev.p["state"] == k.SHELTERED])
    assert len(arrived) == min(n, capacity)  # the shelter never takes more than its capacity
    if len(arrived):  # the point queue's law: the j-th (0-based) leaves at minutes + j / c
        npt.assert_allclose(arrived, minutes + np.arange(len(arrived)) / per_min)
        if minutes >= 1 / per_min:
            assert arrived[-1] >= len(arrived) / per_min - 1e-12
    assert np.count_nonzero(ev.p["state"] == k.STRANDED) == n - min(n, capacity)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 80),
    caps=st.lists(st.integers(0, 30), min_size=1, max_size=3),
)
def test_conservation_and_capacity(seed, n, caps):
    rng = np.random.default_rng(seed)
    g = _grid(4, 3, rng)
    nodes = rng.choice(12, len(caps), replace=False).tolist()
    ev = _Evac(g, nodes, caps, rng.choice([0.5, 1.0], g.nnz), n, rng)
    p = ev.p
    order = rng.permutation(n)
    for j, t in enumerate(range(0, 40, 4)):
        ev.depart(float(t), order[5 * j : 5 * j + 5])
        ev.advance(float(t) + 2.0)
        counts = np.bincount(p["state"], minlength=5)
        assert counts.sum() == n  # everyone in exactly one state, nobody made or lost
        assert (ev.occupancy <= ev.capacity).all()
        for s in range(len(caps)):
            assert np.count_nonzero((p["state"] == k.SHELTERED) & (p["shelter"] == s)) == ev.occupancy[s]
        on_road = p["state"] == k.MOVING
        assert ev.size[0] == np.count_nonzero(on_road) + np.count_nonzero(
            (p["state"] == k.HOME) & np.isin(np.arange(n), ev.heap_p[: ev.size[0]])
        )


def test_survival_curve_kills_at_the_weibull_quantile():
    # hurt at t = 0 (health 1 -> 0.5: red), untreated: dies at the first step with exp(-(t / 30) ** 2) <= u
    u = 0.5
    death = 30 * math.sqrt(-math.log(u))  # 24.98 min
    p = _people(1, np.random.default_rng(0), 1, 1)
    p.update(
        state=np.zeros(1, dtype=np.int8),
        injury=np.zeros(1, dtype=np.int8),
        health=np.ones(1, np.float32),
        treated=np.zeros(1, dtype=np.bool_),
        u_death=np.array([u], dtype=np.float32),
        dies_at=np.full(1, np.inf),
    )
    levels = np.ones((1, 1))
    for t1 in range(0, 40):
        harm = np.array([0.5 if t1 == 0 else 0.0])
        k.people_step(
            float(t1),
            *(p[c] for c in ORDER),
            levels,
            levels,
            harm,
            np.zeros(1),
            np.full(1, np.inf),
            np.zeros(1, dtype=np.int8),
            np.ones(3),
            0.8,
            np.ones((1, 3)),
            np.array([30.0, 1, 1]),
            np.array([2.0, 1, 1]),
            1.0,
            np.zeros(1, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
        )
        assert p["injury"][0] == 1
        if p["state"][0] == k.DEAD:
            break
    assert p["dies_at"][0] == pytest.approx(death) and p["died_at"][0] == math.ceil(death) == 25
