"""Result tables to metrics, statistics and Plotly views (pure functions; imports neither sim nor agents)."""

from analysis.metrics import (
    response_stats,
    run_metrics,
    status_counts,
    summarize,
    utilisation_by_kind,
)

__all__ = ["response_stats", "run_metrics", "status_counts", "summarize", "utilisation_by_kind"]
