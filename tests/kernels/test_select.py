"""select_k: the k best (group, minutes, position) keys, against the sort-everything reference."""

from __future__ import annotations

import math

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels import select_k
from sim.kernels.select import _select_k_kernel
from tests.reference import naive_select

pytestmark = pytest.mark.nojit

#: The Python body of the jitted kernel (the function itself when NUMBA_DISABLE_JIT=1).
KERNEL_PY = getattr(_select_k_kernel, "py_func", _select_k_kernel)
SETTINGS = settings(max_examples=60, deadline=None)

# Repeated values make ties common; inf marks unusable candidates.
values = st.one_of(
    st.sampled_from([0.0, 1.0, 2.5, 2.5, 7.0, math.inf]),
    st.floats(0.0, 120.0, allow_nan=False, allow_infinity=False),
    st.just(math.inf),
)


@st.composite
def candidates(draw, max_n: int = 14):
    n = draw(st.integers(0, max_n))
    group = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    value = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
    k = draw(st.integers(0, n + 2))
    return group, value, k


def _kernel_py(group, value, k):
    out = np.full(k, -7, dtype=np.int64)
    m = KERNEL_PY(group, value, k, out)
    assert 0 <= m <= k
    return out[:m]


def _key(group, value, i):
    return (int(group[i]), float(value[i]), int(i))


def test_hand_computed_order():
    group = np.array([1, 0, 0, 1, 0])
    value = np.array([1.0, 5.0, np.inf, 0.5, 5.0])
    # keys (0, 5, 1) < (0, 5, 4) < (1, 0.5, 3) < (1, 1, 0); position 2 is unusable
    npt.assert_array_equal(select_k(group, value, 4), [1, 4, 3, 0])
    npt.assert_array_equal(select_k(group, value, 10), [1, 4, 3, 0])
    npt.assert_array_equal(select_k(group, value, 2), [1, 4])
    npt.assert_array_equal(select_k(group, value, 0), np.empty(0, dtype=np.int64))
    npt.assert_array_equal(naive_select.select_k(group, value, 4), [1, 4, 3, 0])


def test_group_outranks_value():
    # a far candidate of a preferred group comes before a near one of a later group
    npt.assert_array_equal(select_k([2, 0, 1], [0.1, 99.0, 5.0], 3), [1, 2, 0])


def test_all_unusable_and_empty():
    assert select_k([0, 0], [np.inf, np.inf], 2).size == 0
    assert select_k(np.empty(0, dtype=np.int64), np.empty(0), 3).size == 0


def test_accepts_other_dtypes():
    got = select_k(np.array([1, 0, 0], dtype=np.int32), np.array([1.0, 3.0, 2.0], dtype=np.float32), 3)
    assert got.dtype == np.int64
    npt.assert_array_equal(got, [2, 1, 0])


@SETTINGS
@given(candidates())
def test_matches_reference(case):
    group, value, k = case
    expected = naive_select.select_k(group, value, k)
    npt.assert_array_equal(select_k(group, value, k), expected)
    npt.assert_array_equal(_kernel_py(group, value, k), expected)


@SETTINGS
@given(candidates())
def test_invariants(case):
    group, value, k = case
    got = select_k(group, value, k)
    finite = np.flatnonzero(value != np.inf)
    assert len(got) == min(k, len(finite))
    assert len(set(got.tolist())) == len(got)                   # distinct
    assert np.all(value[got] != np.inf)                         # never an unusable candidate
    keys = [_key(group, value, i) for i in got]
    assert keys == sorted(keys)                                 # best first
    if len(got):                                                # nothing left out beats the last chosen
        rest = set(finite.tolist()) - set(got.tolist())
        assert all(_key(group, value, i) > keys[-1] for i in rest)


@pytest.mark.parametrize(
    ("group", "value", "k", "match"),
    [
        ([0, 1], [1.0], 1, "one length"),
        (np.zeros((2, 2)), np.zeros((2, 2)), 1, "1-D"),
        ([0, 1], [1.0, 2.0], -1, "non-negative"),
        ([0, 1], [1.0, np.nan], 1, "NaN"),
    ],
)
def test_wrapper_rejects_bad_input(group, value, k, match):
    with pytest.raises(ValueError, match=match):
        select_k(np.asarray(group), np.asarray(value), k)


def test_warm_compiles_every_kernel_the_engine_calls():
    """sim.kernels.warm leaves a compiled signature in each kernel (both travel-row dtypes for choice)."""
    from sim.kernels import fire, geometry, sampling, select, warm

    warm()
    kernels = (select._select_k_kernel, select._choose_kernel, sampling._categorical_kernel,
               geometry._points_in_polygon_kernel, fire._spread_kernel)
    if not hasattr(select._choose_kernel, "signatures"):
        pytest.skip("numba's JIT is disabled: nothing to compile")
    assert all(k.signatures for k in kernels)
    at = select._choose_kernel.py_func.__code__.co_varnames.index("rows")  # the travel rows
    rows_types = {str(sig[at]) for sig in select._choose_kernel.signatures}
    assert {"array(float32, 2d, C)", "array(float64, 2d, C)"} <= rows_types
