"""spread_step / _spread_kernel: the fire front against the whole-grid reference, and its invariants."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels.fire import BURNING, BURNT, EMPTY, FUEL, Front, spread_step, wind_bias
from tests.reference import naive_fire

pytestmark = pytest.mark.nojit

SETTINGS = settings(max_examples=60, deadline=None)
NO_WIND = np.ones((3, 3), dtype=np.float32)


def _full(ny: int, nx: int) -> Front:
    return Front(np.full((ny, nx), FUEL, dtype=np.int8))


def _no_mask(front: Front) -> np.ndarray:
    return np.zeros(front.state.shape, dtype=np.bool_)


def _run(front: Front, steps: int, p: float = 1.0, nb: int = 4, burn_steps: int = 1, seed: int = 0,
         suppressed: np.ndarray | None = None, bias: np.ndarray = NO_WIND) -> list[np.ndarray]:
    """Step ``steps`` times with uniforms from ``seed``; returns each step's newly ignited cells."""
    rng = np.random.default_rng(seed)
    mask = _no_mask(front) if suppressed is None else suppressed
    return [spread_step(front, p, bias, burn_steps, mask, rng.random(front.n * nb), nb) for _ in range(steps)]


# ---- hand-checkable cases -------------------------------------------------------------------------
@pytest.mark.parametrize("t", [0, 1, 2, 3, 5])
def test_p1_four_neighbours_burns_a_diamond(t):
    """p = 1 from the centre of a full grid: after t steps exactly the cells within Manhattan distance t."""
    front = _full(15, 15)
    front.ignite([7 * 15 + 7])
    _run(front, t, burn_steps=1)
    i, j = np.indices((15, 15))
    dist = np.abs(i - 7) + np.abs(j - 7)
    affected = front.state >= BURNING
    npt.assert_array_equal(affected, dist <= t)
    assert affected.sum() == 2 * t * t + 2 * t + 1
    npt.assert_array_equal(front.state == BURNING, dist == t)   # burn_steps 1: only the newest ring burns
    npt.assert_array_equal(np.sort(front.burning), np.flatnonzero(dist.ravel() == t))


def test_p1_eight_neighbours_burns_a_square():
    front = _full(11, 11)
    front.ignite([5 * 11 + 5])
    _run(front, 3, nb=8, burn_steps=2)
    i, j = np.indices((11, 11))
    cheb = np.maximum(np.abs(i - 5), np.abs(j - 5))
    npt.assert_array_equal(front.state >= BURNING, cheb <= 3)
    npt.assert_array_equal(front.state == BURNING, (cheb == 3) | (cheb == 2))   # burns two steps


def test_firebreak_stops_the_fire():
    grid = np.full((7, 9), FUEL, dtype=np.int8)
    grid[:, 4] = EMPTY                                        # a full-height firebreak
    front = Front(grid)
    front.ignite([3 * 9 + 1])
    _run(front, 20, nb=8, burn_steps=2)
    assert (front.state[:, :4] == BURNT).all()
    assert (front.state[:, 5:] == FUEL).all() and (front.state[:, 4] == EMPTY).all()
    assert front.n == 0


def test_suppressed_cells_neither_catch_nor_spread():
    front = _full(1, 7)
    mask = np.zeros((1, 7), dtype=np.bool_)
    mask[0, 4] = True
    front.ignite([0])
    _run(front, 10, suppressed=mask)
    npt.assert_array_equal(front.state[0], [BURNT] * 4 + [FUEL] * 3)
    # a burning cell in a suppressed area burns out without spreading
    front = _full(1, 3)
    front.ignite([1])
    mask = np.array([[False, True, False]])
    _run(front, 3, suppressed=mask)
    npt.assert_array_equal(front.state[0], [FUEL, BURNT, FUEL])


def test_wind_bias_is_directional():
    b = wind_bias(90.0, 1.0)                                   # towards the east (+column)
    assert b[1, 2] == pytest.approx(2.0) and b[1, 0] == pytest.approx(0.0)
    assert b[0, 1] == pytest.approx(1.0) and b[2, 1] == pytest.approx(1.0)
    npt.assert_allclose(wind_bias(0.0, 0.0)[[0, 0, 1, 2], [1, 0, 2, 2]], 1.0)
    # p = 0.5 with full wind: never upwind, always downwind (0.5 * 2 = 1)
    front = _full(1, 9)
    front.ignite([4])
    _run(front, 6, p=0.5, bias=b, seed=3)
    npt.assert_array_equal(front.state[0, :4], FUEL)
    assert (front.state[0, 4:] >= BURNING).all()


def test_uniforms_consumed_are_front_times_neighbours_not_grid():
    front = _full(200, 200)                                    # 40,000 cells
    front.ignite([100 * 200 + 100, 5])
    with pytest.raises(ValueError, match="need 8 uniforms"):
        spread_step(front, 1.0, NO_WIND, 1, _no_mask(front), np.zeros(7), 4)
    for nb in (4, 8):
        f = _full(200, 200)
        f.ignite([100 * 200 + 100, 5])
        for _ in range(3):
            n = f.n
            ref_used = naive_fire.step(f.state, f.burn_count, 1.0, NO_WIND, 2, _no_mask(f), np.zeros(n * nb),
                                       nb)[3]
            assert ref_used == n * nb
            spread_step(f, 1.0, NO_WIND, 2, _no_mask(f), np.zeros(n * nb), nb)   # exactly enough
        assert f.n < 200


def test_bad_input_is_refused():
    front = _full(3, 3)
    front.ignite([4])
    mask = _no_mask(front)
    with pytest.raises(ValueError, match="p_spread"):
        spread_step(front, 1.5, NO_WIND, 1, mask, np.zeros(4))
    with pytest.raises(ValueError, match="bias"):
        spread_step(front, 0.5, np.ones((2, 2)), 1, mask, np.zeros(4))
    with pytest.raises(ValueError, match="burn_steps"):
        spread_step(front, 0.5, NO_WIND, 0, mask, np.zeros(4))
    with pytest.raises(ValueError, match="neighbourhood"):
        spread_step(front, 0.5, NO_WIND, 1, mask, np.zeros(8), 6)
    with pytest.raises(ValueError, match="suppressed"):
        spread_step(front, 0.5, NO_WIND, 1, np.zeros((2, 2), dtype=bool), np.zeros(4))
    with pytest.raises(ValueError, match="EMPTY"):
        Front(np.full((2, 2), BURNING, dtype=np.int8))
    with pytest.raises(ValueError, match="outside"):
        front.ignite([9])
    with pytest.raises(ValueError, match="strength"):
        wind_bias(0.0, -1.0)


# ---- random grids against the reference ----------------------------------------------------------
@st.composite
def fires(draw):
    """A small random grid with fuel, firebreaks, a few burning cells, suppression and wind."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ny, nx = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    grid = (rng.random((ny, nx)) < draw(st.sampled_from([0.5, 0.8, 1.0]))).astype(np.int8)
    front = Front(grid)
    front.ignite(rng.choice(ny * nx, size=rng.integers(1, 4)))
    suppressed = rng.random((ny, nx)) < draw(st.sampled_from([0.0, 0.1]))
    return dict(front=front, suppressed=suppressed, seed=int(rng.integers(2**31)),
                p=draw(st.sampled_from([0.0, 0.3, 0.6, 1.0])), nb=draw(st.sampled_from([4, 8])),
                burn_steps=draw(st.integers(1, 3)),
                bias=wind_bias(draw(st.sampled_from([0.0, 45.0, 200.0])),
                               draw(st.sampled_from([0.0, 0.5, 1.5]))),
                steps=draw(st.integers(1, 6)))


@SETTINGS
@given(fires())
def test_matches_reference(case):
    front, nb = case["front"], case["nb"]
    rng = np.random.default_rng(case["seed"])
    state, count = front.state.copy(), front.burn_count.copy()
    for _ in range(case["steps"]):
        u = rng.random(front.n * nb)
        state, count, ref_new, used = naive_fire.step(state, count, case["p"], case["bias"],
                                                      case["burn_steps"], case["suppressed"], u, nb)
        assert used == len(u)
        new = spread_step(front, case["p"], case["bias"], case["burn_steps"], case["suppressed"], u, nb)
        assert new.tolist() == ref_new
        npt.assert_array_equal(front.state, state)
        npt.assert_array_equal(front.burn_count[state == BURNING], count[state == BURNING])
        npt.assert_array_equal(front.burning, np.flatnonzero(state.ravel() == BURNING))


@SETTINGS
@given(fires())
def test_invariants(case):
    front, nb = case["front"], case["nb"]
    rng = np.random.default_rng(case["seed"])
    empty = front.state == EMPTY
    affected = (front.state >= BURNING).sum()
    for _ in range(case["steps"]):
        before = front.state.copy()
        new = spread_step(front, case["p"], case["bias"], case["burn_steps"], case["suppressed"],
                          rng.random(front.n * nb), nb)
        assert (front.state[before == BURNT] == BURNT).all()           # burnt never burns again
        assert (front.state[empty] == EMPTY).all()                     # firebreaks never burn
        assert (before.ravel()[new] == FUEL).all()                     # only fuel catches
        assert not case["suppressed"].ravel()[new].any()               # suppressed cells never catch
        now = (front.state >= BURNING).sum()
        assert now == affected + len(new) and now >= affected          # burning + burnt only grows
        affected = now
        assert np.all(np.diff(front.burning) > 0)                      # the front stays ascending


def test_jit_and_python_bodies_agree():
    """The compiled kernel and its Python body on one random fire (typing errors show up here)."""
    from sim.kernels.fire import OFFSETS8, _spread_kernel

    py = getattr(_spread_kernel, "py_func", _spread_kernel)
    rng = np.random.default_rng(5)
    grid = (rng.random((30, 30)) < 0.7).astype(np.int8)
    a, b = Front(grid), Front(grid)
    a.ignite([15 * 30 + 15])
    b.ignite([15 * 30 + 15])
    mask = np.zeros((30, 30), dtype=np.bool_)
    bias = wind_bias(30.0, 0.5)
    for _ in range(10):
        u = rng.random(a.n * 8)
        spread_step(a, 0.4, bias, 2, mask, u, 8)
        newly = np.empty(len(u), dtype=np.int32)
        kept, n_new = py(b.state, b.burn_count, b.cells, b.n, OFFSETS8, 0.4, bias, 2, mask, u, newly)
        b.n = kept
        b._merge(np.sort(newly[:n_new]))
        npt.assert_array_equal(a.state, b.state)
        npt.assert_array_equal(a.burning, b.burning)
