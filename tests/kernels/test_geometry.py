"""points_in_polygon: even-odd ray casting, against the orientation-test reference and known areas."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels import points_in_polygon
from sim.kernels.geometry import _points_in_polygon_kernel
from tests.reference import naive_geometry

pytestmark = pytest.mark.nojit

KERNEL_PY = getattr(_points_in_polygon_kernel, "py_func", _points_in_polygon_kernel)
SETTINGS = settings(max_examples=50, deadline=None)
SEED = 8128

SQUARE = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
# An L: the unit squares [0,2]x[0,1] and [0,1]x[1,2]
ELL = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 2.0], [0.0, 2.0]])
DIAMOND = np.array([[0.0, -1.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


def _kernel_py(x, y, poly):
    out = np.zeros(len(x), dtype=np.bool_)
    KERNEL_PY(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64),
              np.ascontiguousarray(poly[:, 0]), np.ascontiguousarray(poly[:, 1]), out)
    return out


@pytest.mark.parametrize(
    ("poly", "points", "inside"),
    [
        (SQUARE, [(1, 1), (0.1, 1.9), (2.1, 1), (-0.1, 1), (1, 2.5), (1, -3)], [1, 1, 0, 0, 0, 0]),
        (ELL, [(0.5, 0.5), (1.5, 0.5), (0.5, 1.5), (1.5, 1.5), (3, 0.5)], [1, 1, 1, 0, 0]),
        # rays through vertices at the same height: each vertex is crossed once
        (DIAMOND, [(-0.5, 0.0), (0.0, 0.0), (0.99, 0.0), (1.5, 0.0), (-1.5, 0.0)], [1, 1, 1, 0, 0]),
    ],
    ids=["square", "ell", "diamond"],
)
def test_hand_computed(poly, points, inside):
    x, y = np.array(points, dtype=np.float64).T
    expected = np.array(inside, dtype=bool)
    npt.assert_array_equal(points_in_polygon(x, y, poly), expected)
    npt.assert_array_equal(_kernel_py(x, y, poly), expected)
    npt.assert_array_equal(naive_geometry.points_in_polygon(x, y, poly), expected)


def test_fraction_inside_matches_area():
    """Uniform points in the bounding box fall inside with probability area / box area."""
    rng = np.random.default_rng(SEED)
    poly = ELL
    n = 20_000
    pts = rng.random((n, 2)) * 2.0
    frac = points_in_polygon(pts[:, 0], pts[:, 1], poly).mean()
    p = naive_geometry.polygon_area(poly) / 4.0                 # 3 / 4
    assert p == pytest.approx(0.75)
    assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / n)


def _star_polygon(rng, m):
    """A simple polygon: vertices at increasing angles around (0, 0) with random radii."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, m))
    radii = rng.uniform(0.3, 3.0, m)
    return np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])


@st.composite
def polygons_and_points(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m = draw(st.integers(3, 12))
    # a simple (star-shaped) polygon, or any ring, often self-intersecting
    poly = _star_polygon(rng, m) if draw(st.booleans()) else rng.uniform(-3, 3, (m, 2))
    n = draw(st.integers(0, 60))
    pts = rng.uniform(-3.5, 3.5, (n, 2))
    return poly, pts[:, 0].copy(), pts[:, 1].copy()


@SETTINGS
@given(polygons_and_points())
def test_matches_reference(case):
    poly, x, y = case
    expected = naive_geometry.points_in_polygon(x, y, poly)
    npt.assert_array_equal(points_in_polygon(x, y, poly), expected)
    npt.assert_array_equal(_kernel_py(x, y, poly), expected)


@SETTINGS
@given(polygons_and_points())
def test_ring_start_direction_and_closing_vertex_do_not_matter(case):
    poly, x, y = case
    base = points_in_polygon(x, y, poly)
    npt.assert_array_equal(points_in_polygon(x, y, poly[::-1]), base)
    npt.assert_array_equal(points_in_polygon(x, y, np.roll(poly, 2, axis=0)), base)
    npt.assert_array_equal(points_in_polygon(x, y, np.vstack([poly, poly[:1]])), base)


@SETTINGS
@given(polygons_and_points())
def test_outside_bounding_box_is_outside(case):
    poly, x, y = case
    lo, hi = poly.min(axis=0), poly.max(axis=0)
    out_of_box = (x < lo[0]) | (x > hi[0]) | (y < lo[1]) | (y > hi[1])
    assert not points_in_polygon(x, y, poly)[out_of_box].any()


def test_accepts_lists_and_returns_bool():
    got = points_in_polygon([1.0, 5.0], [1.0, 5.0], SQUARE.tolist())
    assert got.dtype == np.bool_
    npt.assert_array_equal(got, [True, False])


@pytest.mark.parametrize(
    ("x", "y", "poly", "match"),
    [
        ([0.0, 1.0], [0.0], SQUARE, "one length"),
        (np.zeros((2, 2)), np.zeros((2, 2)), SQUARE, "1-D"),
        ([0.0], [0.0], SQUARE[:2], "m >= 3"),
        ([0.0], [0.0], np.zeros((4, 3)), "m >= 3"),
        ([0.0], [0.0], np.zeros(6), "m >= 3"),
    ],
)
def test_wrapper_rejects_bad_input(x, y, poly, match):
    with pytest.raises(ValueError, match=match):
        points_in_polygon(np.asarray(x), np.asarray(y), poly)
