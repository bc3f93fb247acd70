"""HTML building blocks of the report: page, sections, tables, figures; every text escaped.

Only this module writes markup. Anything that is not markup goes through
:func:`esc`, so user-supplied names (scenario, districts, units,
configurations, descriptions) always show as text.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

#: Plotly options of every figure: no logo or cloud links, resizes with the window.
PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["sendDataToCloud", "select2d", "lasso2d"],
               "toImageButtonOptions": {"format": "png", "scale": 2}}

_CSS = """
:root { --ink:#1d2430; --muted:#5b6575; --line:#e3e7ee; --bg:#ffffff; --panel:#f6f8fb; --accent:#2f6fde; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans KR",
       sans-serif; color:var(--ink); background:var(--bg); }
header { background:#16325c; color:#fff; padding:1.4rem 1rem 1rem; }
header .inner, main, nav .inner { max-width:1180px; margin:0 auto; }
header h1 { margin:0 0 .3rem; font-size:1.55rem; font-weight:650; word-break:break-word; }
header p { margin:.2rem 0; color:#d7e2f5; }
nav { position:sticky; top:0; z-index:5; background:#fff; border-bottom:1px solid var(--line); }
nav .inner { display:flex; flex-wrap:wrap; gap:.2rem .9rem; padding:.45rem 1rem; font-size:.9rem; }
nav a { color:var(--accent); text-decoration:none; }
main { padding:0 1rem 3rem; }
section { border-bottom:1px solid var(--line); padding:1.2rem 0 1.6rem; }
h2 { font-size:1.25rem; margin:.2rem 0 .4rem; }
h3 { font-size:1.02rem; margin:1.1rem 0 .3rem; }
p.lead { color:var(--muted); margin:.1rem 0 .8rem; }
p.headline { font-size:1.05rem; font-weight:600; border-left:3px solid var(--accent); padding:.3rem .7rem; }
p.note { background:var(--panel); border-left:3px solid #c9d3e3; padding:.45rem .7rem; color:var(--muted); }
.table-wrap { overflow-x:auto; margin:.4rem 0 .8rem; }
table { border-collapse:collapse; font-size:.88rem; min-width:50%; }
th, td { padding:.3rem .6rem; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th { background:var(--panel); font-weight:600; white-space:normal; vertical-align:bottom; }
td.text, th.text { text-align:left; white-space:normal; }
tr.baseline td { font-weight:600; }
.swatch { display:inline-block; width:.8em; height:.8em; border-radius:2px; margin-right:.4em;
          vertical-align:-0.05em; }
figure { margin:.6rem 0 1.2rem; }
figure .plot { width:100%; min-height:260px; }
figcaption { color:var(--muted); font-size:.88rem; margin-top:.2rem; }
figcaption b { color:var(--ink); }
pre { background:var(--panel); padding:.6rem; overflow-x:auto; font-size:.8rem; white-space:pre-wrap; }
details summary { cursor:pointer; color:var(--accent); }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:.15rem 1rem; margin:.3rem 0; }
dl.kv dt { color:var(--muted); } dl.kv dd { margin:0; word-break:break-all; }
@media (max-width:700px) { body { font-size:14px; } th, td { padding:.25rem .4rem; } }
"""


def esc(text: Any) -> str:
    """Text made safe for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


@dataclass
class Section:
    """One section of the report: an id, a title, a one-line question and its blocks of HTML."""

    id: str
    title: str
    lead: str = ""
    blocks: list[str] = field(default_factory=list)

    def add(self, block: str | None) -> None:
        """Append a block (None is ignored). Mutates the section."""
        if block:
            self.blocks.append(block)

    def html(self) -> str:
        """The section's markup."""
        lead = f'<p class="lead">{esc(self.lead)}</p>' if self.lead else ""
        return (f'<section id="{esc(self.id)}"><h2>{esc(self.title)}</h2>{lead}'
                + "".join(self.blocks) + "</section>")


class FigureBox:
    """Numbers figures in page order and turns each into an embedded Plotly div."""

    def __init__(self) -> None:
        self.count = 0

    def embed(self, fig: Any, what: str) -> str:
        """A ``<figure>`` holding ``fig`` and the caption "What this shows: ``what``".

        Parameters
        ----------
        fig : plotly.graph_objects.Figure or None
            The figure (None gives an empty string).
        what : str
            One sentence saying what the figure shows (escaped here).

        Returns
        -------
        str
        """
        if fig is None:
            return ""
        self.count += 1
        height = int(fig.layout.height or 420)
        div = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"fig{self.count}",
                          config=PLOT_CONFIG, default_width="100%", default_height=f"{height}px",
                          validate=False)
        return (f'<figure><div class="plot" data-figure="{self.count}">{div}</div>'
                f"<figcaption><b>What this shows:</b> {esc(what)}</figcaption></figure>")


def note(text: str) -> str:
    """A grey note paragraph (escaped)."""
    return f'<p class="note">{esc(text)}</p>'


def para(text: str) -> str:
    """A plain paragraph (escaped)."""
    return f"<p>{esc(text)}</p>"


def headline(text: str) -> str:
    """The report's verdict in a highlighted paragraph (escaped)."""
    return f'<p class="headline">{esc(text)}</p>'


def heading(text: str) -> str:
    """A third-level heading (escaped)."""
    return f"<h3>{esc(text)}</h3>"


def table(df: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]] | None = None,
          text_columns: Sequence[str] = (), swatches: Mapping[str, str] | None = None,
          swatch_column: str | None = None, row_class: Sequence[str] | None = None,
          headers: Mapping[str, str] | None = None) -> str:
    """An HTML table of ``df`` with every cell escaped.

    Parameters
    ----------
    df : DataFrame
        Rows and columns shown as they are ordered.
    formats : mapping, optional
        Column -> function turning a value into text; default :func:`fmt_value`.
    text_columns : sequence of str
        Columns aligned left (names, labels).
    swatches : mapping, optional
        Value of ``swatch_column`` -> CSS colour of a small square put before it.
    swatch_column : str, optional
        Column that gets colour swatches.
    row_class : sequence of str, optional
        A CSS class per row ("" for none).
    headers : mapping, optional
        Column -> header text.

    Returns
    -------
    str
    """
    formats = formats or {}
    headers = headers or {}
    cols = list(df.columns)
    head = "".join(f'<th class="{_align(c, text_columns)}">{esc(headers.get(c, c))}</th>' for c in cols)
    body = []
    for i, row in enumerate(df.itertuples(index=False, name=None)):
        cells = []
        for c, v in zip(cols, row, strict=True):
            text = esc(formats.get(c, fmt_value)(v))
            if swatches and c == swatch_column and str(v) in swatches:
                text = f'<span class="swatch" style="background:{esc(swatches[str(v)])}"></span>{text}'
            cells.append(f'<td class="{_align(c, text_columns)}">{text}</td>')
        cls = f' class="{esc(row_class[i])}"' if row_class and row_class[i] else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _align(col: str, text_columns: Sequence[str]) -> str:
    return "text" if col in text_columns else "num"


def fmt_value(v: Any, digits: int = 2) -> str:
    """A table cell: numbers with ``digits`` decimals (integers without), missing as a dash."""
    if _missing(v):
        return "–"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer) or (isinstance(v, float | np.floating) and float(v).is_integer()
                                           and abs(v) >= 100):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        return f"{v:.{digits}f}"
    return str(v)


def _missing(v: Any) -> bool:
    """True for None, NaN, infinities and pandas' NA."""
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float | np.floating) and not np.isfinite(v)


def fmt_count(v: Any) -> str:
    """A count, or a mean count over runs: whole numbers without decimals, others with one."""
    if _missing(v):
        return "–"
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"


def fmt_pct(v: Any) -> str:
    """A share as a percentage with one decimal (missing as a dash)."""
    return "–" if _missing(v) else f"{100 * v:.1f}%"


def fmt_ci(mean: float, half: float, pct: bool = False) -> str:
    """``mean ± half`` (or just the mean when the half-width is undefined)."""
    if not np.isfinite(mean):
        return "–"
    if pct:
        return fmt_pct(mean) + (f" ± {100 * half:.1f}" if np.isfinite(half) else "")
    return f"{mean:.2f}" + (f" ± {half:.2f}" if np.isfinite(half) else "")


def kv(pairs: Sequence[tuple[str, Any]]) -> str:
    """A definition list of (name, value) pairs, escaped."""
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs)
    return f'<dl class="kv">{items}</dl>'


def pre(text: str, summary: str) -> str:
    """Collapsible preformatted text (escaped)."""
    return f"<details><summary>{esc(summary)}</summary><pre>{esc(text)}</pre></details>"


def page(title: str, subtitle: Sequence[str], sections: Sequence[Section], n_figures: int) -> str:
    """The whole document: plotly.js inlined once in the head, then header, menu and sections.

    Parameters
    ----------
    title : str
        Page title (escaped).
    subtitle : sequence of str
        Lines under the title (escaped).
    sections : sequence of Section
        In order.
    n_figures : int
        Number of figures embedded (recorded in a meta tag for checks).

    Returns
    -------
    str
    """
    js = get_plotlyjs().replace("</script", "<\\/script")
    menu = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
    sub = "".join(f"<p>{esc(line)}</p>" for line in subtitle)
    meta = json.dumps({"figures": n_figures})
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="anjeon-report" content="{esc(meta)}">'
            f"<title>{esc(title)}</title><style>{_CSS}</style>"
            f'<script type="text/javascript">{js}</script></head><body>'
            f'<header><div class="inner"><h1>{esc(title)}</h1>{sub}</div></header>'
            f'<nav><div class="inner">{menu}</div></nav><main>'
            + "".join(s.html() for s in sections) + "</main></body></html>\n")
