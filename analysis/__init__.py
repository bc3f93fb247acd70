"""Result tables to metrics, statistics and Plotly views (pure functions; imports neither sim nor agents).

Notebook use::

    import analysis
    table = analysis.compare("out/sweep", baseline="c000")     # DataFrame
    fig = analysis.figures.ecdf({"a": minutes_a, "b": minutes_b})
    analysis.write_report("out/sweep")                         # out/sweep/report.html

Every name is imported on first use (PEP 562): the engine, which calls
:func:`summarize`, does not pay for scipy and plotly, and the ``anjeon``
command line, which registers ``report`` on every call, pays for nothing.
"""

from importlib import import_module
from typing import Any

#: Names served lazily: attribute -> (module, attribute in it or None for the module itself).
_LAZY = {
    **{name: ("analysis.metrics", name) for name in (
        "delay_stats", "equity", "gini", "response_by", "response_stats", "run_metrics",
        "status_counts", "summarize", "utilisation_by_kind")},
    "compare": ("analysis.stats", "compare"),
    "config_means": ("analysis.stats", "config_means"),
    "paired_differences": ("analysis.stats", "paired_differences"),
    "holm": ("analysis.stats", "holm"),
    "prob_best": ("analysis.stats", "prob_best"),
    "t_interval": ("analysis.stats", "t_interval"),
    "open_dir": ("analysis.store", "open_dir"),
    "collect": ("analysis.digest", "collect"),
    "build_report": ("analysis.report", "build_report"),
    "build_aar": ("analysis.aar", "build_aar"),
    "build_replay_html": ("analysis.replayview", "build_replay_html"),
    "write_report": ("analysis.report", "write_report"),
    "figures": ("analysis.figures", None),
    "stats": ("analysis.stats", None),
    "timeseries": ("analysis.timeseries", None),
    "report": ("analysis.report", None),
    "store": ("analysis.store", None),
}


def __getattr__(name: str) -> Any:
    """Import the statistics, figures and report parts on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = import_module(module)
    return value if attr is None else getattr(value, attr)


__all__ = [
    "build_aar", "build_replay_html", "build_report", "collect", "compare", "config_means", "delay_stats",
    "equity", "figures", "gini", "holm",
    "open_dir", "paired_differences", "prob_best", "report", "response_by", "response_stats", "run_metrics",
    "stats", "status_counts", "store", "summarize", "t_interval", "timeseries", "utilisation_by_kind",
    "write_report",
]
