"""Designs: turn an experiment's factors into design points (factor name -> value).

``grid`` is the full factorial of the levels, in factor order (the last
factor varies fastest). ``list`` takes the configurations as written.
``lhs`` (Latin hypercube) and ``random`` draw ``samples`` points from one
``numpy.random.Generator`` seeded by ``SeedSequence(seed)``: the same seed
gives the same points on every machine.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from experiments.spec import Experiment, Factor


def points(spec: Experiment) -> list[dict[str, Any]]:
    """Design points of ``spec``, in design order.

    Parameters
    ----------
    spec : Experiment
        A validated spec.

    Returns
    -------
    list of dict
        One mapping factor name -> value per point (``[{}]`` without factors).
    """
    kind = spec.design.kind
    if kind == "grid":
        return grid(spec.factors)
    if kind == "list":
        return [{name: c[name] for name in spec.factors} for c in spec.design.configurations or []]
    seed = spec.design.seed if spec.design.seed is not None else spec.seed
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    n = spec.design.samples or 0
    unit = latin_hypercube(len(spec.factors), n, rng) if kind == "lhs" else rng.random((n, len(spec.factors)))
    return [{name: from_unit(f, float(u[j])) for j, (name, f) in enumerate(spec.factors.items())}
            for u in unit]


def grid(factors: dict[str, Factor]) -> list[dict[str, Any]]:
    """Every combination of the factors' levels (the last factor varies fastest).

    Parameters
    ----------
    factors : dict
        Factor name -> Factor with levels.

    Returns
    -------
    list of dict
    """
    names = list(factors)
    combos = itertools.product(*(factors[n].levels or [] for n in names))
    return [dict(zip(names, combo, strict=True)) for combo in combos]


def latin_hypercube(d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """A Latin hypercube sample of ``n`` points in ``[0, 1)^d``.

    Each column has exactly one point in each of the ``n`` strata
    ``[i/n, (i+1)/n)``; columns are permuted independently.

    Parameters
    ----------
    d : int
        Dimensions (factors).
    n : int
        Points.
    rng : numpy.random.Generator
        Source of the permutations and the jitter inside strata.

    Returns
    -------
    ndarray
        float64[n, d].
    """
    out = np.empty((n, d))
    for j in range(d):
        out[:, j] = (rng.permutation(n) + rng.random(n)) / n
    return out


def from_unit(factor: Factor, u: float) -> Any:
    """Map ``u`` in ``[0, 1)`` to a value of ``factor``.

    Levels are equal-width categories; a range is linear (an integer range
    gives each whole number from low to high the same width). Continuous
    values are rounded to 6 significant digits (readable labels, stable ids).

    Parameters
    ----------
    factor : Factor
        A factor with levels or a range.
    u : float
        A point of the unit interval.

    Returns
    -------
    Any
        A level, an int or a float.
    """
    if factor.levels is not None:
        return factor.levels[min(int(u * len(factor.levels)), len(factor.levels) - 1)]
    low, high = factor.range or (0.0, 1.0)
    if factor.integer:
        return int(min(math.floor(low + u * (high - low + 1)), high))
    return float(f"{low + u * (high - low):.6g}")
