"""plume_step / _plume_kernel: the Gaussian-plume formula at sample points, and the whole-grid reference."""

from __future__ import annotations

import math

import numpy as np
import numpy.testing as npt
import pytest

from sim.kernels.plume import RURAL, URBAN, Plume, coefficients, plume_box, plume_step
from tests.reference import naive_plume

pytestmark = pytest.mark.nojit


def _grid(ny=81, nx=81, cell_m=50.0):
    return Plume((ny, nx), (0.0, 0.0), cell_m)


@pytest.mark.parametrize("stability", list("ABCDEF"))
@pytest.mark.parametrize("terrain", ["rural", "urban"])
def test_ground_concentration_equals_the_closed_form_at_sample_points(stability, terrain):
    """Wind towards the east along row 40: cells at (x, y) downwind/crosswind of the source."""
    coef = coefficients(stability, terrain)
    plume = _grid()
    src = (25.0, 40 * 50.0 + 25.0)                         # the centre of cell (40, 0)
    q, h, u = 500.0, 20.0, 3.0
    plume_step(plume, src, q, h, u, 90.0, coef, 0.0, 1e9, x_min_m=10.0, n_sigma=6.0)
    for i, j in [(40, 4), (40, 20), (40, 60), (41, 10), (42, 30), (38, 50)]:
        x, y = j * 50.0, (i - 40) * 50.0
        sy = coef[0] * x * (1 + coef[1] * x) ** coef[2]
        sz = coef[3] * x * (1 + coef[4] * x) ** coef[5]
        exact = (1000 * q / (math.pi * u * sy * sz) * math.exp(-y * y / (2 * sy * sy))
                 * math.exp(-h * h / (2 * sz * sz)))
        if abs(y) <= 6 * sy:
            assert plume.conc[i, j] == pytest.approx(exact, rel=1e-12), (i, j)
    assert (plume.conc[:, 0] == 0).all()                   # at and upwind of the source


def test_briggs_d_rural_at_one_km_by_hand():
    """Class D, open country, x = 1 km: sigma_y = 80 / sqrt(1.1) = 76.28, sigma_z = 60 / sqrt(2.5) = 37.95 m.

    Urban class A at 1 km: sigma_z = 240 sqrt(2).
    """
    a = RURAL[3]
    assert a[0] * 1000 * (1 + a[1] * 1000) ** a[2] == pytest.approx(76.277, abs=1e-3)
    assert a[3] * 1000 * (1 + a[4] * 1000) ** a[5] == pytest.approx(37.947, abs=1e-3)
    u = URBAN[0]
    assert u[3] * 1000 * (1 + u[4] * 1000) ** u[5] == pytest.approx(240 * math.sqrt(2), rel=1e-12)


@pytest.mark.parametrize("direction", [0.0, 37.0, 90.0, 200.0, 315.0])
@pytest.mark.parametrize("window", [(0.0, 1e9), (0.0, 900.0), (400.0, 1600.0)])
def test_matches_the_whole_grid_reference(direction, window):
    coef = coefficients("C", "urban")
    plume = _grid(31, 33, 100.0)
    src = (1630.0, 1490.0)
    n = plume_step(plume, src, 200.0, 5.0, 2.5, direction, coef, *window, x_min_m=10.0, n_sigma=4.0,
                   threshold=1.0)
    ref = naive_plume.field((31, 33), (0.0, 0.0), 100.0, src, 200.0, 5.0, 2.5, direction, coef, *window)
    npt.assert_allclose(plume.conc, ref, rtol=1e-12, atol=0)
    assert n == int((ref >= 1.0).sum())


def test_a_new_step_clears_the_old_plume_and_the_box_holds_it():
    coef = coefficients("D", "rural")
    plume = _grid(41, 41, 100.0)
    plume_step(plume, (2050.0, 2050.0), 100.0, 0.0, 4.0, 90.0, coef, 0.0, 1500.0)
    i0, i1, j0, j1 = plume.box
    inside = np.zeros(plume.conc.shape, dtype=bool)
    inside[i0:i1, j0:j1] = True
    assert (plume.conc[~inside] == 0).all() and plume.conc.max() > 0
    assert (i1 - i0) * (j1 - j0) < plume.conc.size / 4      # the step touched a small part of the grid
    plume_step(plume, (2050.0, 2050.0), 100.0, 0.0, 4.0, 270.0, coef, 0.0, 1500.0)   # the wind turns
    assert (plume.conc[:, 21:] == 0).all() and plume.conc[:, :20].max() > 0
    plume_step(plume, (2050.0, 2050.0), 0.0, 0.0, 4.0, 270.0, coef, 0.0, 1500.0)     # release stopped
    assert (plume.conc == 0).all() and plume.box == (0, 0, 0, 0)


def test_box_is_empty_off_the_grid():
    assert plume_box((10, 10), (0.0, 0.0), 10.0, (-5000.0, -5000.0), 225.0, RURAL[3], 1000.0, 10.0, 4.0) \
        == (0, 0, 0, 0)


def test_bad_input_is_refused():
    plume = _grid(5, 5)
    with pytest.raises(ValueError, match="wind speed"):
        plume_step(plume, (0.0, 0.0), 1.0, 0.0, 0.0, 0.0, RURAL[0], 0.0, 100.0)
    with pytest.raises(ValueError, match="q_gs"):
        plume_step(plume, (0.0, 0.0), -1.0, 0.0, 1.0, 0.0, RURAL[0], 0.0, 100.0)
    with pytest.raises(ValueError, match="stability"):
        coefficients("G", "rural")
    with pytest.raises(ValueError, match="terrain"):
        coefficients("A", "suburban")
