"""Earthquake shaking and building damage on a grid of cells.

Intensity: the intensity prediction equation of Allen, Wald and Worden
(2012, *Intensity attenuation for active crustal regions*, J. Seismology 16,
409-433), hypocentral-distance form, coefficients as in the GEM OpenQuake
implementation (``AllenEtAl2012Rhypo``)::

    MMI = c0 + c1 M + c2 ln(sqrt(R^2 + R_M^2)) [+ c4 ln(R / 50) for R > 50 km]
    R_M = m1 + m2 exp(M - 5)

with R the hypocentral distance in km (epicentral distance and depth), no
site term. The mean is used (no scatter). Intensity is capped at 12 and
floored at 1.

Damage: intensity is turned into peak ground acceleration with the
ground-motion-to-intensity relation of Wald et al. (1999, Earthquake
Spectra 15, 557-564), ``MMI = 3.66 log10(PGA) - 1.66`` (PGA in cm/s2), and
each building class has lognormal fragility curves in PGA (HAZUS style):
``P(damage >= ds | PGA) = Phi(ln(PGA / median_ds) / beta)``. The kernel
gives, per cell and class, the probability of each damage state (none,
slight, moderate, extensive, complete); the caller draws building counts
from them with its own stream.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.kernels._config import FASTMATH

#: Allen, Wald and Worden (2012), hypocentral distance: c0, c1, c2, c4, m1, m2
AWW2012 = (2.085, 1.428, -1.402, 0.078, -0.209, 2.042)
#: damage states above "none", in order
STATES = ("slight", "moderate", "extensive", "complete")
G_CM_S2 = 980.665


@njit(cache=True, fastmath=FASTMATH)
def _mmi(magnitude, r_km):
    c0, c1, c2, c4, m1, m2 = 2.085, 1.428, -1.402, 0.078, -0.209, 2.042
    rm = m1 + m2 * math.exp(magnitude - 5.0)
    f = c2 * math.log(math.sqrt(r_km * r_km + rm * rm))
    if r_km > 50.0:
        f += c4 * math.log(r_km / 50.0)
    v = c0 + c1 * magnitude + f
    return min(12.0, max(1.0, v))


@njit(cache=True, fastmath=FASTMATH)
def _intensity_kernel(out, origin_x_km, origin_y_km, cell_km, epi_x_km, epi_y_km, depth_km, magnitude):
    """Fill ``out`` (float64[ny, nx], MMI) from the cell centres' hypocentral distances. Mutates ``out``."""
    ny, nx = out.shape
    for i in range(ny):
        dy = origin_y_km + (i + 0.5) * cell_km - epi_y_km
        for j in range(nx):
            dx = origin_x_km + (j + 0.5) * cell_km - epi_x_km
            out[i, j] = _mmi(magnitude, math.sqrt(dx * dx + dy * dy + depth_km * depth_km))


@njit(cache=True, fastmath=FASTMATH)
def _damage_kernel(mmi, cells, medians_g, betas, out):
    """Damage-state probabilities. Mutates ``out``.

    mmi : float64[n_cells_total]; cells : int64[m] flat cells to do; medians_g : float64[n_classes, 4]
    (ascending per class); betas : float64[n_classes]; out : float64[m, n_classes, 5] (none, slight,
    moderate, extensive, complete; rows sum to 1).
    """
    n_classes = medians_g.shape[0]
    for k in range(cells.shape[0]):
        v = mmi[cells[k]]
        pga_g = 10.0 ** ((v + 1.66) / 3.66) / 980.665
        for c in range(n_classes):
            prev = 1.0
            for s in range(4):
                z = math.log(pga_g / medians_g[c, s]) / betas[c]
                exceed = 0.5 * math.erfc(-z / math.sqrt(2.0))
                if exceed > prev:
                    exceed = prev
                out[k, c, s] = prev - exceed
                prev = exceed
            out[k, c, 4] = prev


def intensity(shape: tuple[int, int], origin_km: tuple[float, float], cell_km: float,
              epicentre_km: tuple[float, float], depth_km: float, magnitude: float) -> np.ndarray:
    """Modified Mercalli intensity at the cell centres, float64[ny, nx].

    Parameters
    ----------
    shape : (int, int)
    origin_km : (float, float)
        South-west corner of the grid (row ``i`` at ``y = origin_y + (i + 0.5) * cell_km``).
    cell_km : float
    epicentre_km : (float, float)
    depth_km : float
        Hypocentre depth, km; >= 0.
    magnitude : float
        Moment magnitude.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    ValueError
        On a negative depth or a non-finite magnitude.
    """
    if not (depth_km >= 0 and math.isfinite(magnitude)):
        raise ValueError(f"need depth_km >= 0 and a finite magnitude, got {depth_km}, {magnitude}")
    out = np.empty(shape, dtype=np.float64)
    _intensity_kernel(out, float(origin_km[0]), float(origin_km[1]), float(cell_km), float(epicentre_km[0]),
                      float(epicentre_km[1]), float(depth_km), float(magnitude))
    return out


def pga_g(mmi: np.ndarray) -> np.ndarray:
    """Peak ground acceleration (g) of an intensity: Wald et al. (1999), ``MMI = 3.66 log10(PGA) - 1.66``.

    Parameters
    ----------
    mmi : ndarray of float

    Returns
    -------
    ndarray of float64
        PGA in g (cm/s2 over 980.665).
    """
    return 10.0 ** ((np.asarray(mmi, dtype=np.float64) + 1.66) / 3.66) / G_CM_S2


def damage_probabilities(mmi: np.ndarray, cells: np.ndarray, medians_g: np.ndarray,
                         betas: np.ndarray) -> np.ndarray:
    """Probability of each damage state per cell and building class.

    Parameters
    ----------
    mmi : ndarray of float64
        Intensity per cell (any shape; read flat).
    cells : ndarray of int, shape (m,)
        Flat cells to compute (e.g. those with buildings and intensity above a floor).
    medians_g : ndarray of float, shape (n_classes, 4)
        Median PGA (g) of reaching slight, moderate, extensive, complete damage; ascending, > 0.
    betas : ndarray of float, shape (n_classes,)
        Lognormal standard deviations; > 0.

    Returns
    -------
    ndarray of float64, shape (m, n_classes, 5)
        P(none), P(slight), P(moderate), P(extensive), P(complete); each row sums to 1.

    Raises
    ------
    ValueError
        On medians not positive and ascending, or betas not positive.
    """
    medians_g = np.ascontiguousarray(medians_g, dtype=np.float64)
    betas = np.ascontiguousarray(betas, dtype=np.float64)
    if medians_g.ndim != 2 or medians_g.shape[1] != 4 or (medians_g <= 0).any() \
            or (np.diff(medians_g, axis=1) < 0).any():
        raise ValueError("medians_g must be float[n_classes, 4], positive and ascending per class")
    if betas.shape != (medians_g.shape[0],) or (betas <= 0).any():
        raise ValueError("betas must be float[n_classes], positive")
    cells = np.ascontiguousarray(cells, dtype=np.int64)
    out = np.empty((len(cells), medians_g.shape[0], 5), dtype=np.float64)
    _damage_kernel(np.ascontiguousarray(mmi, dtype=np.float64).reshape(-1), cells, medians_g, betas, out)
    return out
