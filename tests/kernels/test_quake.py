"""intensity / damage_probabilities: against the cell-by-cell reference; damage rises with intensity."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels.quake import damage_probabilities, intensity, pga_g
from tests.reference import naive_quake

pytestmark = pytest.mark.nojit

MEDIANS = np.array([[0.10, 0.18, 0.30, 0.55], [0.14, 0.25, 0.45, 0.90]])
BETAS = np.array([0.64, 0.70])


def test_intensity_matches_reference():
    got = intensity((12, 15), (-3.0, 2.0), 0.7, (1.1, 5.2), 10.0, 6.4)
    npt.assert_allclose(got, naive_quake.intensity((12, 15), (-3.0, 2.0), 0.7, (1.1, 5.2), 10.0, 6.4),
                        rtol=1e-13)
    far = intensity((1, 1), (200.0, 0.0), 1.0, (0.0, 0.0), 10.0, 6.4)        # beyond 50 km: anelastic term
    r_km = float(np.sqrt(200.5**2 + 0.5**2 + 100))
    assert far[0, 0] == pytest.approx(naive_quake.mmi(6.4, r_km), rel=1e-13)


def test_intensity_by_hand_and_falls_with_distance():
    """M 6, R = 10 km: R_M = -0.209 + 2.042 e = 5.342; MMI = 2.085 + 8.568 - 1.402 ln(sqrt(100 + 28.54))."""
    rm = -0.209 + 2.042 * np.e
    expected = 2.085 + 1.428 * 6 - 1.402 * np.log(np.sqrt(100 + rm * rm))
    assert naive_quake.mmi(6.0, 10.0) == pytest.approx(expected)
    row = intensity((1, 60), (0.0, 0.0), 1.0, (0.0, 0.5), 10.0, 6.0)[0]
    assert row[0] == pytest.approx(naive_quake.mmi(6.0, float(np.sqrt(0.25 + 100))), rel=1e-13)
    assert np.all(np.diff(row) < 0)


def test_damage_matches_reference():
    mmi = np.linspace(3.0, 11.0, 17)
    got = damage_probabilities(mmi, np.arange(17), MEDIANS, BETAS)
    npt.assert_allclose(got, naive_quake.damage(mmi, MEDIANS, BETAS), rtol=1e-10, atol=1e-14)
    npt.assert_allclose(got.sum(axis=2), 1.0, rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.floats(2.0, 11.0), st.floats(0.0, 1.0))
def test_damage_rises_with_intensity(low, more):
    """Each state's exceedance probability (and so the expected damage) rises with intensity."""
    p = damage_probabilities(np.array([low, low + more]), np.array([0, 1]), MEDIANS, BETAS)
    exceed = np.cumsum(p[:, :, ::-1], axis=2)[:, :, ::-1][:, :, 1:]     # P(>= slight) .. P(complete)
    assert (exceed[1] >= exceed[0] - 1e-15).all()
    states = np.arange(5)
    assert ((p[1] * states).sum(axis=1) >= (p[0] * states).sum(axis=1) - 1e-12).all()


def test_median_pga_gives_half_exceedance():
    """At the PGA of a median the probability of reaching that state is one half."""
    mmi = 3.66 * np.log10(0.30 * 980.665) - 1.66
    assert pga_g(np.array([mmi]))[0] == pytest.approx(0.30)
    p = damage_probabilities(np.array([mmi]), np.array([0]), MEDIANS, BETAS)[0, 0]
    assert p[3] + p[4] == pytest.approx(0.5, abs=1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="ascending"):
        damage_probabilities(np.array([5.0]), np.array([0]), MEDIANS[:, ::-1], BETAS)
    with pytest.raises(ValueError, match="betas"):
        damage_probabilities(np.array([5.0]), np.array([0]), MEDIANS, np.array([0.5]))
    with pytest.raises(ValueError, match="depth"):
        intensity((2, 2), (0.0, 0.0), 1.0, (0.0, 0.0), -1.0, 6.0)
