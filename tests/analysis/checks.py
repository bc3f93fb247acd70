"""Checks shared by the report tests: a self-contained HTML file, and the page as Chromium draws it."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from plotly.offline import get_plotlyjs

URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "srcset", "data", "background"}


class _Attrs(HTMLParser):
    """Collects tag names and URL-bearing attributes (script bodies are not parsed as markup)."""

    def __init__(self):
        super().__init__()
        self.urls, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [(tag, k, v) for k, v in attrs if k in URL_ATTRS]


def parse(text):
    p = _Attrs()
    p.feed(text)
    return p


def check_self_contained(text):
    """plotly.js once, no external URL in any src/href, no CSS imports; returns the figure count."""
    head = get_plotlyjs()[:200]
    assert text.count(head) == 1, "plotly.js must be embedded exactly once"
    p = parse(text)
    external = [(t, k, v) for t, k, v in p.urls if not (v or "").startswith("#")]
    assert external == [], external
    assert "@import" not in text.split("<script", 1)[0]
    n = json.loads(re.search(r'name="anjeon-report" content="([^"]*)"', text).group(1)
                   .replace("&quot;", '"'))["figures"]
    assert text.count('class="plotly-graph-div"') == n == text.count("Plotly.newPlot(")
    return n


def section_ids(text):
    return re.findall(r'<section id="([^"]+)"', text)


DRAWN = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).filter(d =>
    d.querySelector('.main-svg') && d._fullData && d._fullData.length > 0
    && d.querySelector('.scatterlayer .trace, .heatmaplayer .hm')
    && d.getBoundingClientRect().width > 100 && d.getBoundingClientRect().height > 100).length"""

URLS = """() => Array.from(document.querySelectorAll('*')).flatMap(e =>
    ['src', 'href', 'xlink:href', 'srcset', 'action', 'poster'].map(a => e.getAttribute(a))
    .filter(v => v !== null))"""


def open_watched(browser, html: Path) -> tuple:
    """Open ``html`` (to its load event); return the page and its log: errors, dialogs, requests."""
    page = browser.new_page()
    log = {"errors": [], "dialogs": [], "requests": []}
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.goto(html.resolve().as_uri(), wait_until="load")
    return page, log


def open_report(browser, html: Path) -> tuple:
    """Open ``html``; return the page and what it logged: console errors, dialogs, requests."""
    page, log = open_watched(browser, html)
    expected = page.evaluate("JSON.parse(document.querySelector('meta[name=anjeon-report]').content).figures")
    page.wait_for_function(f"() => ({DRAWN})() >= {expected}", timeout=30_000)
    return page, log, expected


def check_clean(page, log):
    assert log["errors"] == []
    assert log["dialogs"] == []
    assert [u for u in log["requests"] if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
    external = [u for u in page.evaluate(URLS) if not u.startswith(("#", "data:"))]   # heat maps: data:image
    assert external == []
