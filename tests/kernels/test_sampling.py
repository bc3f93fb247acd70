"""categorical: inverse-CDF draws from many weight rows, vs the running-sum reference and by chi-square."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.kernels import categorical
from sim.kernels.sampling import _categorical_kernel
from tests.reference import naive_sampling

pytestmark = pytest.mark.nojit

KERNEL_PY = getattr(_categorical_kernel, "py_func", _categorical_kernel)
SETTINGS = settings(max_examples=60, deadline=None)
SEED = 20260611
ALPHA = 1e-3        # fixed seeds: a deterministic check that the frequencies fit the weights
U_MAX = float(np.nextafter(1.0, 0.0))


def test_hand_computed():
    w = np.array([[0.0, 1.0, 0.0, 3.0]])            # cumulative 0, 1, 1, 4
    u = np.array([0.0, 0.2, 0.25, 0.26, U_MAX])     # targets 0, 0.8, 1.0, 1.04, ~4
    expected = [1, 1, 3, 3, 3]
    npt.assert_array_equal(categorical(w, np.zeros(5, dtype=np.int64), u), expected)
    npt.assert_array_equal(naive_sampling.categorical(w, np.zeros(5, dtype=np.int64), u), expected)


def test_each_item_uses_its_own_row():
    w = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 5.0], [0.0, 2.0, 0.0]])
    rows = np.array([2, 0, 1, 1, 0, 2])
    u = np.linspace(0.0, 0.9, 6)
    npt.assert_array_equal(categorical(w, rows, u), [1, 0, 2, 2, 0, 1])


def test_trailing_zero_weights_unreachable_even_at_top_of_range():
    w = np.array([[3.0, 0.7, 0.0, 0.0], [0.1, 0.2, 0.0, 0.0]])
    got = categorical(w, np.array([0, 1]), np.array([U_MAX, U_MAX]))
    npt.assert_array_equal(got, [1, 1])


def test_unused_zero_row_is_allowed_and_empty_input_works():
    w = np.array([[0.0, 0.0], [1.0, 1.0]])
    npt.assert_array_equal(categorical(w, np.array([1, 1]), np.array([0.1, 0.9])), [0, 1])
    assert categorical(w, np.empty(0, dtype=np.int64), np.empty(0)).size == 0


@st.composite
def draws(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    r, m, n = draw(st.integers(1, 4)), draw(st.integers(1, 7)), draw(st.integers(0, 40))
    w = rng.choice([0.0, 0.0, 0.5, 1.0, 3.0], size=(r, m)) * rng.random((r, m)).round(2)
    w[:, rng.integers(0, m, r)] += 0.25                        # every row has some weight
    u = rng.random(n)
    u[rng.random(n) < 0.1] = 0.0
    u[rng.random(n) < 0.1] = U_MAX
    return w, rng.integers(0, r, n).astype(np.int64), u


@SETTINGS
@given(draws())
def test_matches_reference_and_never_picks_zero_weight(case):
    w, rows, u = case
    expected = naive_sampling.categorical(w, rows, u)
    got = categorical(w, rows, u)
    npt.assert_array_equal(got, expected)
    out = np.full(len(rows), -1, dtype=np.int64)
    KERNEL_PY(np.ascontiguousarray(np.cumsum(w, axis=1)), rows, u, out)
    npt.assert_array_equal(out, expected)
    assert np.all(w[rows, got] > 0)


@SETTINGS
@given(draws())
def test_monotone_in_u(case):
    """Inverse CDF: within one row a larger uniform never gives an earlier category."""
    w, rows, u = case
    rows = np.zeros_like(rows)
    order = np.argsort(u, kind="stable")
    got = categorical(w, rows[order], u[order])
    assert np.all(np.diff(got) >= 0)


def test_frequencies_match_weights_chi_square():
    rng = np.random.default_rng(SEED)
    weights = np.array([1.0, 0.0, 2.0, 3.0, 0.0, 4.0])
    n = 20_000
    got = categorical(weights[None, :], np.zeros(n, dtype=np.int64), rng.random(n))
    counts = np.bincount(got, minlength=len(weights))
    assert counts[weights == 0].sum() == 0
    expected = n * weights / weights.sum()
    chi2 = naive_sampling.chi_square(counts, expected)
    dof = int((weights > 0).sum()) - 1
    assert stats.chi2.sf(chi2, dof) > ALPHA, f"chi2={chi2:.2f}, counts={counts}"


def test_rows_have_their_own_frequencies():
    rng = np.random.default_rng(SEED + 1)
    w = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 9.0]])
    n = 10_000
    rows = rng.integers(0, 2, n)
    got = categorical(w, rows, rng.random(n))
    for r in range(2):
        counts = np.bincount(got[rows == r], minlength=3)
        expected = counts.sum() * w[r] / w[r].sum()
        chi2 = naive_sampling.chi_square(counts, expected)
        assert counts[w[r] == 0].sum() == 0
        assert stats.chi2.sf(chi2, int((w[r] > 0).sum()) - 1) > ALPHA


@pytest.mark.parametrize(
    ("weights", "rows", "u", "match"),
    [
        ([1.0, 2.0], [0], [0.5], "2-D"),
        ([[1.0, 2.0]], [0, 0], [0.5], "one length"),
        ([[1.0, -2.0]], [0], [0.5], "non-negative"),
        ([[1.0, 2.0], [0.0, 0.0]], [0, 1], [0.5, 0.5], "zero total"),
        ([[1.0, 2.0]], [0], [1.0], r"\[0, 1\)"),
        ([[1.0, 2.0]], [0], [-0.1], r"\[0, 1\)"),
        ([[1.0, 2.0]], [0], [np.nan], r"\[0, 1\)"),                 # NaN is not in [0, 1)
        ([[1.0, np.nan, 1.0]], [0], [0.5], "non-negative"),            # nor is NaN a non-negative weight
    ],
    ids=["1-D weights", "lengths", "negative", "zero row", "u=1", "u<0", "u=NaN", "NaN weight"],
)
def test_wrapper_rejects_bad_input(weights, rows, u, match):
    with pytest.raises(ValueError, match=match):
        categorical(np.asarray(weights), np.asarray(rows), np.asarray(u))
