"""A replication's incident stream, drawn up front as arrays.

Times come from the non-homogeneous Poisson process of the World's piecewise
constant rates: a Poisson count per rate bin, uniform times inside it (exact
for piecewise-constant intensities, no thinning needed). District and type,
priority, place and every per-incident duration are drawn from their own
named streams, so the stream depends on the scenario, seed and replication
only, never on the policy: this is what common random numbers rest on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels import categorical, points_in_polygon
from sim.rng import Streams


@dataclass(frozen=True, eq=False)
class IncidentStream:
    """Per-incident inputs, sorted by call time; index = incident id.

    ``delay`` holds the gaps between calls: ``t_call == cumsum(delay)`` exactly,
    the same float additions the event loop performs, so logged times equal
    ``t_call`` bit for bit.
    """

    t_call: np.ndarray       # float64, minutes
    delay: np.ndarray        # float64, minutes since the previous call
    kind: np.ndarray         # int64, incident type index
    district: np.ndarray     # int64
    priority: np.ndarray     # int64, 1 = most urgent
    loc: np.ndarray          # int64, location of the scene
    x_km: np.ndarray
    y_km: np.ndarray
    on_scene: np.ndarray     # float64, minutes each unit spends on scene
    transport: np.ndarray    # bool, a patient goes to hospital
    handover: np.ndarray     # float64, minutes of hospital handover
    answer: np.ndarray       # float64, minutes from call-taker free to answered
    processing: np.ndarray   # float64, minutes from answer to dispatch decision
    patience: np.ndarray     # float64, minutes a caller waits before hanging up (inf: forever)
    target: np.ndarray       # float64, target response minutes
    scripted: np.ndarray     # bool
    label: tuple[str, ...]

    @property
    def n(self) -> int:
        """Number of incidents."""
        return len(self.t_call)


def generate(world, travel, streams: Streams) -> IncidentStream:
    """Draw the incident stream of one replication.

    Parameters
    ----------
    world : sim.world.World
    travel : geography of the run (``world.geo.for_run()``); mutated for
        plane geographies, whose scene points are added to its table.
    streams : Streams
        The replication's random streams.

    Returns
    -------
    IncidentStream
    """
    gen = _generated(world, streams)
    scr = _scripted(world, streams)
    if len(scr["t"]):
        cols = {k: np.concatenate([gen[k], scr[k]]) for k in gen}
        order = np.lexsort((np.arange(len(cols["t"])), cols["scripted"], cols["t"]))
        cols = {k: v[order] for k, v in cols.items()}
    else:  # generated times are sorted already: the merge would be the identity
        cols = gen
    locs = _places(world, travel, cols, streams)
    xy = travel.xy(locs)
    delay = np.diff(cols["t"], prepend=0.0)
    n = len(delay)
    answer = world.answer.sample(streams("call_answer"), n)
    processing = world.processing.sample(streams("call_process"), n)
    patience = (world.patience.sample(streams("patience"), n) if world.patience is not None
                else np.full(n, np.inf))
    target = _target_table(world)[cols["kind"], cols["priority"]]
    return IncidentStream(
        t_call=np.cumsum(delay), delay=delay, kind=cols["kind"], district=cols["district"],
        priority=cols["priority"], loc=locs, x_km=xy[:, 0], y_km=xy[:, 1],
        on_scene=cols["on_scene"], transport=cols["transport"], handover=cols["handover"],
        answer=answer, processing=processing, patience=patience, target=target,
        scripted=cols["scripted"], label=tuple(cols["label"].tolist()),
    )


def _target_table(world) -> np.ndarray:
    """Target response minutes as float64[n_types, max priority + 1] (NaN where no such pair)."""
    top = max((p for _, p in world.type_target), default=0)
    table = np.full((len(world.type_names), top + 1), np.nan)
    for (k, p), minutes in world.type_target.items():
        table[k, p] = minutes
    return table


def _generated(world, streams: Streams) -> dict[str, np.ndarray]:
    widths = np.diff(world.bin_edges)
    flat = world.rates.reshape(len(widths), -1)
    total = flat.sum(axis=1)
    counts = streams("arrivals").poisson(total * widths)
    n = int(counts.sum())
    bins = np.repeat(np.arange(len(widths)), counts)
    t = np.sort(world.bin_edges[bins] + widths[bins] * streams("arrivals").random(n))
    # sorting keeps bins in order, so the bin of each sorted time is unchanged
    cell = categorical(flat, bins, streams("kinds").random(n))
    n_types = world.rates.shape[2]
    kind, district = cell % n_types, cell // n_types
    priority = world.type_priority_values[
        kind, categorical(world.type_priority_weights, kind, streams("priorities").random(n))
    ]
    return {
        "t": t, "kind": kind, "district": district, "priority": priority,
        "on_scene": _per_type(world.type_on_scene, kind, streams, "on_scene"),
        "transport": streams("transport").random(n) < world.type_transport_p[kind],
        "handover": _per_type(world.type_handover, kind, streams, "handover"),
        "scripted": np.zeros(n, dtype=bool),
        "fixed_loc": np.full((n, 2), np.nan),
        "fixed_place": np.full(n, -1, dtype=np.int64),
        "label": np.array([""] * n, dtype=object),
    }


def _per_type(dists, kind: np.ndarray, streams: Streams, name: str) -> np.ndarray:
    """Durations drawn per incident type, each type from its own sub-stream."""
    out = np.empty(len(kind))
    for k, dist in enumerate(dists):
        idx = np.flatnonzero(kind == k)
        out[idx] = dist.sample(streams(name, k), len(idx))
    return out


def _scripted(world, streams: Streams) -> dict[str, np.ndarray]:
    items = world.scripted
    n = len(items)
    rng = streams("scripted")
    kind = np.array([world.type_names.index(s.type) for s in items], dtype=np.int64)
    u = rng.random((n, 4))
    prio = np.empty(n, dtype=np.int64)
    on_scene = np.empty(n)
    handover = np.empty(n)
    transport = np.empty(n, dtype=bool)
    fixed_loc = np.full((n, 2), np.nan)
    fixed_place = np.full(n, -1, dtype=np.int64)
    for i, (s, k) in enumerate(zip(items, kind, strict=True)):
        if s.priority is not None:
            prio[i] = s.priority
        else:
            j = categorical(world.type_priority_weights, np.array([k]), u[i, :1])[0]
            prio[i] = world.type_priority_values[k, j]
        on_scene[i] = s.on_scene if s.on_scene is not None else world.type_on_scene[k].sample(rng, 1)[0]
        handover[i] = world.type_handover[k].sample(rng, 1)[0]
        transport[i] = s.transport if s.transport is not None else u[i, 1] < world.type_transport_p[k]
        if isinstance(s.location, str):
            fixed_place[i] = world.geo.index[s.location]
        elif s.location is not None:
            fixed_loc[i] = s.location
    return {
        "t": np.array([s.at for s in items], dtype=np.float64), "kind": kind,
        "district": np.array([world.district_names.index(s.district) for s in items], dtype=np.int64),
        "priority": prio, "on_scene": on_scene, "transport": transport, "handover": handover,
        "scripted": np.ones(n, dtype=bool), "fixed_loc": fixed_loc, "fixed_place": fixed_place,
        "label": np.array([s.label for s in items], dtype=object),
    }


def _places(world, travel, cols, streams: Streams) -> np.ndarray:
    """Scene location of every incident: given, or drawn inside its district."""
    n = len(cols["t"])
    district = cols["district"]
    need = np.isnan(cols["fixed_loc"][:, 0]) & (cols["fixed_place"] < 0)
    rng = streams("locations")
    if world.geo.kind == "matrix":
        locs = cols["fixed_place"].copy()
        for d, zones in enumerate(world.district_zones):
            idx = np.flatnonzero(need & (district == d))
            if idx.size:
                rows = np.zeros(idx.size, dtype=np.int64)
                pick = categorical(zones[1][None, :], rows, rng.random(idx.size))
                locs[idx] = zones[0][pick]
        return locs
    xy = cols["fixed_loc"].copy()
    on_nodes = {}  # osm geographies: scenes drawn among a district's road nodes, by weight (zones)
    for d, poly in enumerate(world.district_boundaries):
        idx = np.flatnonzero(need & (district == d))
        if idx.size and world.district_zones[d] is not None:
            nodes, weights = world.district_zones[d]
            on_nodes[d] = (idx, nodes[categorical(weights[None, :], np.zeros(idx.size, dtype=np.int64),
                                                  rng.random(idx.size))])
            xy[idx] = travel.xy(on_nodes[d][1])
        elif idx.size:
            xy[idx] = sample_in_polygon(poly, idx.size, rng)
    locs = np.asarray(travel.add_points(xy), dtype=np.int64).reshape(n)
    for idx, nodes in on_nodes.values():
        locs[idx] = nodes
    return locs


def sample_in_polygon(poly: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform inside a polygon, by rejection from its bounding box.

    Parameters
    ----------
    poly : ndarray of float, shape (m, 2)
    n : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of float, shape (n, 2)
    """
    lo, hi = poly.min(axis=0), poly.max(axis=0)
    out = np.empty((n, 2))
    filled = 0
    for _ in range(100_000):
        if filled >= n:
            break
        batch = max(64, 2 * (n - filled))
        pts = lo + (hi - lo) * rng.random((batch, 2))
        ok = pts[points_in_polygon(pts[:, 0], pts[:, 1], poly)]
        take = min(len(ok), n - filled)
        out[filled:filled + take] = ok[:take]
        filled += take
    else:
        raise RuntimeError(f"could not place points inside polygon {poly.tolist()}: is its area tiny?")
    return out
