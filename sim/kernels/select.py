"""Choosing responders: the k best candidates by (group, travel time, index)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.kernels._config import FASTMATH


@njit(cache=True, fastmath=FASTMATH)
def _precedes(g, t, j, g2, t2, j2):
    """Whether key (group g, minutes t, position j) ranks before (g2, t2, j2): the order of both kernels."""
    return g < g2 or (g == g2 and (t < t2 or (t == t2 and j < j2)))


@njit(cache=True, fastmath=FASTMATH)
def _select_k_kernel(group, value, k, out):
    """Write into ``out`` the indices of the ``k`` smallest (group, value, index) keys.

    group : int64[n], lower is preferred first (e.g. 0 = own district).
    value : float64[n], minutes; ``inf`` marks a candidate that cannot be used.
    out : int64[k], filled from the front. Returns the number written (<= k).
    Partial selection, O(n k): candidate lists are short (units of one kind).
    """
    n = group.shape[0]
    taken = np.zeros(n, dtype=np.bool_)
    count = 0
    for slot in range(k):
        best = -1
        for i in range(n):
            if taken[i] or value[i] == np.inf:
                continue
            if best < 0 or _precedes(group[i], value[i], i, group[best], value[best], best):
                best = i
        if best < 0:
            break
        taken[best] = True
        out[slot] = best
        count += 1
    return count


def select_k(group: np.ndarray, value: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best candidates, best first.

    Parameters
    ----------
    group : ndarray of int, shape (n,)
        Preference class of each candidate; lower classes come first.
    value : ndarray of float, shape (n,)
        Travel time in minutes; ``inf`` excludes a candidate. Ties are broken
        by position (lower index first), which makes choices deterministic.
    k : int
        How many to choose (at least 0).

    Returns
    -------
    ndarray of int64, shape (m,), m <= k
        Positions into ``group``/``value``.

    Raises
    ------
    ValueError
        If the arrays differ in length, ``k`` is negative or a value is NaN.
    """
    group = np.ascontiguousarray(group, dtype=np.int64)
    value = np.ascontiguousarray(value, dtype=np.float64)
    if group.shape != value.shape or group.ndim != 1:
        raise ValueError(f"group and value must be 1-D of one length, got {group.shape}, {value.shape}")
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    if np.isnan(value).any():
        raise ValueError("travel times must not be NaN")
    out = np.empty(k, dtype=np.int64)
    m = _select_k_kernel(group, value, k, out)
    return out[:m]


@njit(cache=True, fastmath=FASTMATH)
def _where(u, loc, on_trip, trip_t0, now, speed, route_nodes, route_cum, route_len):
    """Location of unit ``u`` now: ``loc[u]``, or the last node of its route passed by ``now``.

    A unit on a trip left at ``trip_t0[u]``; ``(now - trip_t0[u]) * speed[u]`` minutes
    (at speed factor 1) into its route, it is at the last node whose time
    ``route_cum[u, i]`` is not after that (the first node before the trip starts).
    """
    if not on_trip[u]:
        return loc[u]
    elapsed = (now - trip_t0[u]) * speed[u]
    lo = 0
    hi = route_len[u]
    while lo < hi:  # bisect right: the first node reached after ``elapsed``
        mid = (lo + hi) // 2
        if elapsed < route_cum[u, mid]:
            hi = mid
        else:
            lo = mid + 1
    return route_nodes[u, lo - 1 if lo > 0 else 0]


@njit(cache=True, fastmath=FASTMATH)
def _choose_kernel(cands, status, eligible, loc, on_trip, trip_t0, now, route_nodes, route_cum,
                   route_len, row_of, rows, dest, speed, turnout, group, k, out, out_min):
    """Pick up to ``k`` units among ``cands`` by (group, expected arrival, unit index).

    cands : int64[m] unit indices able to do the job (one capability), ascending and
        unique: ties are broken by position, hence by unit index.
    status : int8[n_units] unit states; turnout is added for status 0 (at its station) only.
    eligible : bool[n_units] the availability mask: only these units may be chosen.
    loc : int64[n_units] location of each unit not on a trip.
    on_trip : bool[n_units] units on a trip that may be cut short (home, to a new post); their
        location is computed here from ``trip_t0`` (float64[n_units], minutes), ``now`` and their
        route: ``route_nodes`` (int64[n_units, L]), ``route_cum`` (float64[n_units, L], minutes at
        speed factor 1 at which each node is reached) and ``route_len`` (int64[n_units]): see
        :func:`_where`. Computing it for the candidates only keeps a decision's cost from growing
        with the number of units on the move (see benchmarks/city_scale.py).
    row_of : int64[n_locations] row of ``rows`` holding times from that location (all >= 0 here).
    rows : float32 or float64[r, n_locations], minutes at speed factor 1; inf = unreachable.
    dest : location of the incident. speed, turnout : float64[n_units].
    group : int64[n_units] preference class (lower first).
    out : int64[k] chosen units, best first; out_min : float64[k] their expected minutes.
    Returns the number chosen.

    Allocates nothing (numba's runtime allocations cost about as much as the
    search on a short list): each of the ``k`` passes recomputes the expected
    minutes and takes the least key (group, minutes, position) above the key
    chosen by the pass before; keys are unique, so this is the k-smallest
    selection of ``_select_k_kernel``, O(m k).
    """
    m = cands.shape[0]
    count = 0
    last_g = 0
    last_t = 0.0
    last_j = -1
    for slot in range(k):
        best = -1
        best_g = 0
        best_t = 0.0
        for j in range(m):
            u = cands[j]
            if not eligible[u]:
                continue
            here = loc[u]
            if on_trip[u]:
                here = _where(u, loc, on_trip, trip_t0, now, speed, route_nodes, route_cum, route_len)
            t = rows[row_of[here], dest] / speed[u]
            if status[u] == 0:
                t += turnout[u]
            if t == np.inf:
                continue
            g = group[u]
            if slot > 0 and not _precedes(last_g, last_t, last_j, g, t, j):
                continue  # chosen already, or ahead of the last chosen
            if best < 0 or _precedes(g, t, j, best_g, best_t, best):
                best = j
                best_g = g
                best_t = t
        if best < 0:
            break
        out[slot] = cands[best]
        out_min[slot] = best_t
        last_g = best_g
        last_t = best_t
        last_j = best
        count += 1
    return count


def choose_units(cands: np.ndarray, status: np.ndarray, eligible: np.ndarray, loc: np.ndarray,
                 row_of: np.ndarray, rows: np.ndarray, dest: int, speed: np.ndarray,
                 turnout: np.ndarray, group: np.ndarray, k: int, *, trips: dict | None = None,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Choose up to ``k`` eligible units, best (group, expected arrival, index) first.

    Parameters
    ----------
    cands : ndarray of int, shape (m,)
        Units that have the needed capability.
    status : ndarray of int8, shape (n_units,)
        Unit states; 0 (at station) adds the turnout.
    eligible : ndarray of bool, shape (n_units,)
        The availability mask: which units may be sent.
    loc : ndarray of int, shape (n_units,)
        Location of each unit (not on a trip).
    row_of : ndarray of int, shape (n_locations,)
        Row of ``rows`` for each location; every location where an eligible candidate stands
        must have one.
    rows : ndarray of float, shape (r, n_locations)
        Travel minutes at speed factor 1 from the row's location to every location.
    dest : int
        Location of the incident.
    speed, turnout : ndarray of float, shape (n_units,)
        Speed factor and turnout minutes (added when leaving from the station).
    group : ndarray of int, shape (n_units,)
        Preference class of each unit (lower first).
    k : int
        How many units to choose.
    trips : dict, optional
        Units on a trip: ``on_trip`` (bool[n_units]), ``trip_t0`` (float[n_units]), ``now``
        (float), ``route_nodes`` (int[n_units, L]), ``route_cum`` (float[n_units, L]),
        ``route_len`` (int[n_units]); default: none.

    Returns
    -------
    units : ndarray of int64, shape (c,), c <= k
    minutes : ndarray of float64, shape (c,)
        Expected minutes until each chosen unit arrives.

    Raises
    ------
    ValueError
        On negative ``k`` or a location of an eligible candidate without a row.
    """
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    n = len(status)
    cands = np.unique(np.asarray(cands, dtype=np.int64))  # sorted, unique: ties go to the lower index
    eligible = np.asarray(eligible, dtype=np.bool_)
    if eligible.shape != np.shape(status):
        raise ValueError(f"eligible must have one entry per unit, got shape {eligible.shape}")
    t = trips or {}
    on_trip = np.asarray(t.get("on_trip", np.zeros(n, dtype=np.bool_)), dtype=np.bool_)
    route_nodes = np.asarray(t.get("route_nodes", np.zeros((n, 1), dtype=np.int64)), dtype=np.int64)
    route_len = np.asarray(t.get("route_len", np.zeros(n, dtype=np.int64)), dtype=np.int64)
    ok = cands[eligible[cands]]
    standing = np.asarray(loc, dtype=np.int64)[ok[~on_trip[ok]]]
    moving = np.concatenate([route_nodes[u, :route_len[u]] for u in ok[on_trip[ok]]] or [standing[:0]])
    if (row_of[np.concatenate([standing, moving])] < 0).any():
        raise ValueError("an eligible candidate's location has no travel-time row")
    out = np.empty(k, dtype=np.int64)
    out_min = np.empty(k)
    c = _choose_kernel(cands, np.asarray(status, dtype=np.int8), eligible, np.asarray(loc, dtype=np.int64),
                       on_trip, np.asarray(t.get("trip_t0", np.zeros(n)), dtype=np.float64),
                       float(t.get("now", 0.0)), route_nodes,
                       np.asarray(t.get("route_cum", np.zeros((n, 1))), dtype=np.float64), route_len,
                       np.asarray(row_of, dtype=np.int64), rows, dest, np.asarray(speed, dtype=np.float64),
                       np.asarray(turnout, dtype=np.float64), np.asarray(group, dtype=np.int64),
                       k, out, out_min)
    return out[:c], out_min[:c]
