"""Reference for sim.kernels.quake: intensity and damage-state probabilities cell by cell, with scipy."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

# Allen, Wald and Worden (2012), hypocentral distance (OpenQuake AllenEtAl2012Rhypo)
C0, C1, C2, C4, M1, M2 = 2.085, 1.428, -1.402, 0.078, -0.209, 2.042


def mmi(magnitude: float, r_km: float) -> float:
    """Intensity at hypocentral distance ``r_km``, clipped to [1, 12]."""
    rm = M1 + M2 * math.exp(magnitude - 5.0)
    v = C0 + C1 * magnitude + C2 * math.log(math.hypot(r_km, rm))
    if r_km > 50:
        v += C4 * math.log(r_km / 50.0)
    return min(12.0, max(1.0, v))


def intensity(shape, origin_km, cell_km, epicentre_km, depth_km, magnitude) -> np.ndarray:
    """MMI at every cell centre."""
    ny, nx = shape
    out = np.empty(shape)
    for i in range(ny):
        for j in range(nx):
            dx = origin_km[0] + (j + 0.5) * cell_km - epicentre_km[0]
            dy = origin_km[1] + (i + 0.5) * cell_km - epicentre_km[1]
            out[i, j] = mmi(magnitude, math.sqrt(dx * dx + dy * dy + depth_km * depth_km))
    return out


def damage(mmi_values, medians_g, betas) -> np.ndarray:
    """P(state) for each value, class and state (none..complete), from the lognormal CDFs."""
    medians_g, betas = np.asarray(medians_g, float), np.asarray(betas, float)
    out = np.empty((len(mmi_values), len(betas), 5))
    for k, v in enumerate(mmi_values):
        pga = 10 ** ((v + 1.66) / 3.66) / 980.665          # Wald et al. (1999), cm/s2 -> g
        for c in range(len(betas)):
            exceed = [1.0] + [norm.cdf(math.log(pga / m) / betas[c]) for m in medians_g[c]] + [0.0]
            out[k, c] = [exceed[s] - exceed[s + 1] for s in range(5)]
    return out
