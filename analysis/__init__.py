"""Result tables to metrics, statistics and Plotly views (pure functions; imports neither sim nor agents)."""

from analysis.metrics import response_stats, status_counts, summarize, utilisation_by_kind

__all__ = ["response_stats", "status_counts", "summarize", "utilisation_by_kind"]
