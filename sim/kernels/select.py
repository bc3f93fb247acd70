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
def _store_route(u, a, b, pred, reach, row_of, route_nodes, route_cum):
    """Write the route a -> b into row ``u`` of the route table; its length, or 0 if it cannot.

    The route is read from ``a``'s predecessor row (``pred[row_of[a]]``, walked
    back from ``b``), each node with the minutes ``reach[row_of[a], node]`` at
    which it is reached: the route and times of ``RoadNetwork.path`` on a
    network holding every row. 0 when the route is longer than the table is
    wide or ``b`` cannot be reached from ``a`` (the caller stores it another way).
    """
    r = row_of[a]
    m = 1
    node = b
    while node != a:
        node = pred[r, node]
        if node < 0:
            return 0
        m += 1
    if m > route_nodes.shape[1]:
        return 0
    node = b
    for j in range(m - 1, -1, -1):
        route_nodes[u, j] = node
        route_cum[u, j] = reach[r, node]
        node = pred[r, node]
    return m


@njit(cache=True, fastmath=FASTMATH)
def _where(u, loc, on_trip, trip_t0, now, speed, trip_from, trip_to, pred, reach, row_of, route_nodes,
           route_cum, route_len):
    """Location of unit ``u`` now: ``loc[u]``, or the last node of its route passed by ``now``; -1 if unknown.

    A unit on a trip left ``trip_from[u]`` for ``trip_to[u]`` at ``trip_t0[u]``;
    ``(now - trip_t0[u]) * speed[u]`` minutes (at speed factor 1) into its route,
    it is at the last node whose time ``route_cum[u, i]`` is not after that (the
    first node before the trip starts). The route is stored in the table on
    first use (:func:`_store_route`; ``route_len[u] == 0``: not yet); -1 when it
    cannot be (the caller stores it and asks again).
    """
    if not on_trip[u]:
        return loc[u]
    m = route_len[u]
    if m == 0:
        m = _store_route(u, trip_from[u], trip_to[u], pred, reach, row_of, route_nodes, route_cum)
        if m == 0:
            return -1
        route_len[u] = m
    elapsed = (now - trip_t0[u]) * speed[u]
    lo = 0
    hi = m
    while lo < hi:  # bisect right: the first node reached after ``elapsed``
        mid = (lo + hi) // 2
        if elapsed < route_cum[u, mid]:
            hi = mid
        else:
            lo = mid + 1
    return route_nodes[u, lo - 1 if lo > 0 else 0]


@njit(cache=True, fastmath=FASTMATH)
def _choose_kernel(cands, status, eligible, loc, on_trip, trip_t0, now, trip_from, trip_to, pred, reach,
                   route_nodes, route_cum, route_len, row_of, rows, dest, speed, turnout, group, k, out,
                   out_min):
    """Pick up to ``k`` units among ``cands`` by (group, expected arrival, unit index).

    cands : int64[m] unit indices able to do the job (one capability), ascending and
        unique: ties are broken by position, hence by unit index.
    status : int8[n_units] unit states; turnout is added for status 0 (at its station) only.
    eligible : bool[n_units] the availability mask: only these units may be chosen.
    loc : int64[n_units] location of each unit not on a trip.
    on_trip : bool[n_units] units on a trip that may be cut short (home, to a new post); their
        location is computed here (:func:`_where`) from the trip's start ``trip_t0``
        (float64[n_units], minutes), ``now`` and its route from ``trip_from`` to ``trip_to``
        (int64[n_units]). A route is read once from the start's row of predecessors ``pred``
        (int32[r, n_locations], rows as ``rows``) with the minutes ``reach`` (like ``rows``) at
        which each node is reached, and kept in ``route_nodes`` (int64[n_units, L]), ``route_cum``
        (float64[n_units, L]) and ``route_len`` (int64[n_units]; 0: not read yet), which this
        kernel fills. Placing the candidates only, and reading a route once in compiled code,
        keeps a decision's cost from growing with the number of units on the move (see
        benchmarks/city_scale.py).
    row_of : int64[n_locations] row of ``rows`` holding times from that location (all >= 0 here).
    rows : float32 or float64[r, n_locations], minutes at speed factor 1; inf = unreachable.
    dest : location of the incident. speed, turnout : float64[n_units].
    group : int64[n_units] preference class (lower first).
    out : int64[k] chosen units, best first; out_min : float64[k] their expected minutes.
    Returns the number chosen, or ``-2 - u`` when unit ``u``'s route does not fit the table or
    its start's row does not join its ends (the caller stores that route and calls again).

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
                here = _where(u, loc, on_trip, trip_t0, now, speed, trip_from, trip_to, pred, reach, row_of,
                              route_nodes, route_cum, route_len)
                if here < 0:
                    return -2 - u
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
        (float), ``trip_from`` and ``trip_to`` (int[n_units]: the trip's ends), ``pred``
        (int[r, n_locations]: predecessors on the fastest routes from each row's location, as
        scipy's csgraph gives them) and optionally ``reach`` (minutes at which each node of
        those routes is reached; default ``rows``); then every location must have a row.
        Default: none on a trip.

    Returns
    -------
    units : ndarray of int64, shape (c,), c <= k
    minutes : ndarray of float64, shape (c,)
        Expected minutes until each chosen unit arrives.

    Raises
    ------
    ValueError
        On negative ``k``, a location of an eligible candidate without a row, or a trip whose
        end cannot be reached from its start.
    """
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    n = len(status)
    cands = np.unique(np.asarray(cands, dtype=np.int64))  # sorted, unique: ties go to the lower index
    eligible = np.asarray(eligible, dtype=np.bool_)
    if eligible.shape != np.shape(status):
        raise ValueError(f"eligible must have one entry per unit, got shape {eligible.shape}")
    row_of, rows = np.asarray(row_of, dtype=np.int64), np.asarray(rows)
    t = trips or {}
    on_trip = np.asarray(t.get("on_trip", np.zeros(n, dtype=np.bool_)), dtype=np.bool_)
    ok = cands[eligible[cands]]
    if (row_of[np.asarray(loc, dtype=np.int64)[ok[~on_trip[ok]]]] < 0).any():
        raise ValueError("an eligible candidate's location has no travel-time row")
    if on_trip[ok].any() and (row_of < 0).any():
        raise ValueError("units on a trip need every location's travel-time row")
    pred = np.asarray(t.get("pred", np.zeros((1, 1), dtype=np.int32)), dtype=np.int32)
    reach = np.asarray(t.get("reach", rows), dtype=rows.dtype)
    width = max(1, len(row_of))  # no route visits a location twice
    route_nodes, route_cum = np.zeros((n, width), dtype=np.int64), np.zeros((n, width))
    out = np.empty(k, dtype=np.int64)
    out_min = np.empty(k)
    c = _choose_kernel(cands, np.asarray(status, dtype=np.int8), eligible, np.asarray(loc, dtype=np.int64),
                       on_trip, np.asarray(t.get("trip_t0", np.zeros(n)), dtype=np.float64),
                       float(t.get("now", 0.0)), np.asarray(t.get("trip_from", np.zeros(n)), dtype=np.int64),
                       np.asarray(t.get("trip_to", np.zeros(n)), dtype=np.int64), pred, reach, route_nodes,
                       route_cum, np.zeros(n, dtype=np.int64), row_of, rows, dest,
                       np.asarray(speed, dtype=np.float64), np.asarray(turnout, dtype=np.float64),
                       np.asarray(group, dtype=np.int64), k, out, out_min)
    if c < 0:
        raise ValueError(f"unit {-2 - c}'s trip end cannot be reached from its start")
    return out[:c], out_min[:c]
