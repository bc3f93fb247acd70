"""Reference for sim.network: Dijkstra with heapq over an adjacency list of (head, minutes)."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict


def adjacency(tail, head, minutes) -> dict[int, list[tuple[int, float]]]:
    """Directed adjacency lists, parallel edges kept as they are."""
    adj: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for u, v, w in zip(tail, head, minutes, strict=True):
        adj[int(u)].append((int(v), float(w)))
    return adj


def dijkstra(adj: dict[int, list[tuple[int, float]]], n: int, source: int) -> list[float]:
    """Shortest minutes from ``source`` to every node (``inf`` when unreachable)."""
    dist = [math.inf] * n
    dist[source] = 0.0
    heap = [(0.0, source)]
    done = [False] * n
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for v, w in adj.get(u, ()):
            if d + w < dist[v]:
                dist[v] = d + w
                heapq.heappush(heap, (dist[v], v))
    return dist


def all_pairs(tail, head, minutes, n: int) -> list[list[float]]:
    """Matrix of shortest minutes, one Dijkstra per source."""
    adj = adjacency(tail, head, minutes)
    return [dijkstra(adj, n, s) for s in range(n)]


def edge_minutes(tail, head, minutes) -> dict[tuple[int, int], float]:
    """Fastest edge between each ordered pair of nodes."""
    best: dict[tuple[int, int], float] = {}
    for u, v, w in zip(tail, head, minutes, strict=True):
        key = (int(u), int(v))
        best[key] = min(best.get(key, math.inf), float(w))
    return best
