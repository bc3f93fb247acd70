"""Hazard kernels beside their peers: cell updates per second, and the fire against Mesa.

Cases, each timed in this process (``time.perf_counter``; median of
``--reps`` repetitions of the same work on fresh copies):

- ``fire``: the frontier kernel (:func:`sim.kernels.fire.spread_step`, the
  uniforms drawn each step included) against the plain-Python whole-grid
  reference (``tests/reference/naive_fire.py``) and a Mesa 3.3 model of the
  same rule with one agent per cell (``benchmarks/_mesa_fire.py``), on a
  500 x 500 grid (``--quick``: 200 x 200), fuel density 0.9, p = 0.6,
  4-neighbourhood, burn_steps 2, lit in the centre. All three run
  ``--peer-steps`` steps from the same state twice: from ignition (a small
  front) and mid-fire (after n / 4 kernel steps: a front of thousands of
  cells); the kernel also runs the whole fire until it is out.
- ``flood``: the active-cell kernel (:func:`sim.kernels.flood.flood_step`)
  against ``tests/reference/naive_flood.py`` on a tilted valley (300 x 300,
  ``--quick`` 120 x 120) after 20 mm of excess rain on every cell.
- ``plume``: the bounding-box kernel against the whole-grid formula of
  ``tests/reference/naive_plume.py`` (400 x 400 cells of 50 m; ``--quick``
  150 x 150), a 5 km plume.
- ``quake``: the intensity kernel against ``tests/reference/naive_quake.py``
  (500 x 500; ``--quick`` 200 x 200), and the damage kernel against the
  scipy-based reference (2,000 cells, 3 classes).

Cell updates are grid cells x steps for every implementation of a case
(the whole-grid work the step stands for), so within a case their ratio is
the ratio of times for the same simulated work. Figures are printed and
written to ``out/bench/hazards.json``. Never a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import write_figures

NO_WIND = np.ones((3, 3), dtype=np.float32)


def _median_time(fn: Callable[[], Any], reps: int) -> float:
    """Median wall seconds of ``reps`` calls of ``fn``."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# -- fire ---------------------------------------------------------------------------------------------
def fire_case(n: int, peer_steps: int, reps: int, mesa: bool) -> dict[str, Any]:
    """The fire kernel, its reference and the Mesa model on an n x n grid, from ignition and mid-fire."""
    from sim.kernels.fire import Front, spread_step

    rng = np.random.default_rng(12)
    fuel = (rng.random((n, n)) < 0.9).astype(np.int8)
    c = (n // 2) * n + n // 2
    fuel.flat[c] = 1
    p, burn = 0.6, 2

    def lit() -> Front:
        front = Front(fuel)
        front.ignite([c])
        return front

    def run(front: Front, steps: int | None, seed: int = 1) -> int:
        mask, u_rng, done = np.zeros((n, n), dtype=np.bool_), np.random.default_rng(seed), 0
        while front.n and (steps is None or done < steps):
            spread_step(front, p, NO_WIND, burn, mask, u_rng.random(front.n * 4), 4)
            done += 1
        return done

    run(lit(), 5)                                     # compile or load the kernel
    total = run(lit(), None)
    mid = lit()
    run(mid, n // 4)                                  # a quarter of the way to the border: a long front
    out: dict[str, Any] = {"grid": [n, n], "p_spread": p, "burn_steps": burn, "fuel_density": 0.9,
                           "fire_steps_until_out": total,
                           "kernel_whole_fire_s": _median_time(lambda: run(lit(), None), reps)}
    for label, start in (("from_ignition", lit()), ("mid_fire", mid)):
        out[label] = _fire_peers(start, n, p, burn, peer_steps, reps, mesa, run)
    return out


def _fire_peers(start: Any, n: int, p: float, burn: int, steps: int, reps: int, mesa: bool,
                run: Callable[..., int]) -> dict[str, Any]:
    """Time ``steps`` steps from the state of ``start`` with the kernel, the reference and Mesa."""
    import copy

    from benchmarks._mesa_fire import FireModel
    from tests.reference import naive_fire

    mask = np.zeros((n, n), dtype=np.bool_)
    copies = iter([copy.deepcopy(start) for _ in range(reps)])      # copied outside the timing
    t_kernel = _median_time(lambda: run(next(copies), steps, 2), reps)

    def reference() -> None:
        state, count, u_rng = start.state.copy(), start.burn_count.copy(), np.random.default_rng(2)
        for _ in range(steps):
            m = int((state == 2).sum())
            state, count, _, _ = naive_fire.step(state, count, p, NO_WIND, burn, mask, u_rng.random(m * 4), 4)

    t_ref = _median_time(reference, 1)
    cells = n * n * steps
    fig = {"front_cells": int(start.n), "steps": steps,
           "kernel_cell_updates_per_s": cells / t_kernel, "reference_cell_updates_per_s": cells / t_ref,
           "kernel_s_per_step": t_kernel / steps, "reference_s_per_step": t_ref / steps,
           "kernel_over_reference": t_ref / t_kernel}
    if mesa:
        t0 = time.perf_counter()
        model = FireModel(start.state, start.burn_count, p, burn, np.random.default_rng(3))
        fig["mesa_build_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(steps):
            model.step()
        t_mesa = time.perf_counter() - t0
        fig.update(mesa_cell_updates_per_s=cells / t_mesa, mesa_s_per_step=t_mesa / steps,
                   kernel_over_mesa=t_mesa / t_kernel)
        del model
    return fig


# -- flood --------------------------------------------------------------------------------------------
def flood_case(n: int, steps: int, reps: int) -> dict[str, Any]:
    """The flood kernel against the whole-grid reference on an n x n valley."""
    from sim.kernels.flood import Basin, flood_step, valley_terrain
    from tests.reference import naive_flood

    z = valley_terrain((n, n), 0.05, 0.5, 2.0, n / 2, 0.3)

    def fresh() -> Basin:
        b = Basin(z, 1e-3)
        b.add_depth(None, 0.02)
        return b

    def kernel() -> None:
        b = fresh()
        for _ in range(steps):
            flood_step(b, 0.25, True)

    kernel()
    t_kernel = _median_time(kernel, reps)
    b = fresh()
    ref_steps = max(1, steps // 10)
    t0 = time.perf_counter()
    h = b.h.copy()
    for _ in range(ref_steps):
        h, _ = naive_flood.step(z, h, 0.25, 1e-3, True)
    t_ref = time.perf_counter() - t0
    b = fresh()
    for _ in range(steps):
        flood_step(b, 0.25, True)
    return {"grid": [n, n], "steps": steps, "reference_steps": ref_steps,
            "active_cells_after": int(b.n),
            "kernel_cell_updates_per_s": n * n * steps / t_kernel,
            "reference_cell_updates_per_s": n * n * ref_steps / t_ref,
            "kernel_over_reference": (t_ref / ref_steps) / (t_kernel / steps)}


# -- plume --------------------------------------------------------------------------------------------
def plume_case(n: int, reps: int) -> dict[str, Any]:
    """The plume kernel (its bounding box) against the whole-grid formula."""
    from sim.kernels.plume import Plume, coefficients, plume_step
    from tests.reference import naive_plume

    coef = coefficients("D", "urban")
    cell = 50.0
    src = (n * cell / 2, n * cell / 4)
    grid = Plume((n, n), (0.0, 0.0), cell)
    steps = 10

    def kernel() -> None:
        for k in range(steps):
            plume_step(grid, src, 1000.0, 10.0, 3.0, 10.0 + k, coef, 0.0, 5000.0)

    kernel()
    t_kernel = _median_time(kernel, reps)
    box = grid.box
    t0 = time.perf_counter()
    naive_plume.field((n, n), (0.0, 0.0), cell, src, 1000.0, 10.0, 3.0, 19.0, coef, 0.0, 5000.0)
    t_ref = time.perf_counter() - t0
    return {"grid": [n, n], "box_cells": (box[1] - box[0]) * (box[3] - box[2]),
            "kernel_cell_updates_per_s": n * n * steps / t_kernel,
            "reference_cell_updates_per_s": n * n / t_ref,
            "kernel_over_reference": t_ref / (t_kernel / steps)}


# -- quake --------------------------------------------------------------------------------------------
def quake_case(n: int, reps: int) -> dict[str, Any]:
    """Intensity and damage kernels against the references."""
    from sim.kernels.quake import damage_probabilities, intensity
    from tests.reference import naive_quake

    def mmi() -> np.ndarray:
        return intensity((n, n), (0.0, 0.0), 0.1, (n * 0.05, n * 0.05), 10.0, 6.5)

    mmi()
    t_kernel = _median_time(mmi, reps)
    t0 = time.perf_counter()
    naive_quake.intensity((n, n), (0.0, 0.0), 0.1, (n * 0.05, n * 0.05), 10.0, 6.5)
    t_ref = time.perf_counter() - t0
    medians = np.array([[0.14, 0.23, 0.45, 0.85], [0.13, 0.22, 0.42, 0.75], [0.24, 0.45, 0.95, 1.6]])
    betas = np.full(3, 0.64)
    values = np.linspace(4.0, 9.0, 2000)
    cells = np.arange(2000)
    damage_probabilities(values, cells, medians, betas)
    t_dk = _median_time(lambda: damage_probabilities(values, cells, medians, betas), reps)
    t0 = time.perf_counter()
    naive_quake.damage(values, medians, betas)
    t_dr = time.perf_counter() - t0
    return {"grid": [n, n], "intensity_kernel_cells_per_s": n * n / t_kernel,
            "intensity_reference_cells_per_s": n * n / t_ref,
            "intensity_kernel_over_reference": t_ref / t_kernel,
            "damage_kernel_cell_classes_per_s": 6000 / t_dk,
            "damage_reference_cell_classes_per_s": 6000 / t_dr,
            "damage_kernel_over_reference": t_dr / t_dk}


def _print(fig: dict[str, Any], indent: str) -> None:
    for key, value in fig.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print(value, indent + "  ")
        else:
            shown = f"{value:,.4g}" if isinstance(value, float) else value
            print(f"{indent}{key:36s} {shown}")


def main(argv: list[str] | None = None) -> dict:
    """Run the cases, print the figures and write them to ``--out``."""
    parser = argparse.ArgumentParser(prog="benchmarks.hazards")
    parser.add_argument("--quick", action="store_true", help="smaller grids, fewer repetitions")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--peer-steps", type=int, default=None, help="steps of the fire's peers (default 30)")
    parser.add_argument("--no-mesa", action="store_true", help="skip the Mesa model (slow to build)")
    parser.add_argument("--out", type=Path, default=Path("out/bench/hazards.json"))
    args, _ = parser.parse_known_args(argv)
    quick = args.quick
    reps = 2 if quick else args.reps
    peer_steps = args.peer_steps or (10 if quick else 30)
    figures = {
        "fire": fire_case(200 if quick else 500, peer_steps, reps, not args.no_mesa),
        "flood": flood_case(120 if quick else 300, 50 if quick else 200, reps),
        "plume": plume_case(150 if quick else 400, reps),
        "quake": quake_case(200 if quick else 500, reps),
    }
    for case, fig in figures.items():
        print(f"{case}:")
        _print(fig, "  ")
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()
