"""Durations written by people: numbers are minutes, strings carry a unit."""

from __future__ import annotations

import math
import re

_UNIT_MIN = {
    "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60,
    "min": 1.0, "mins": 1.0, "minute": 1.0, "minutes": 1.0,
    "h": 60.0, "hr": 60.0, "hrs": 60.0, "hour": 60.0, "hours": 60.0,
    "d": 1440.0, "day": 1440.0, "days": 1440.0,
    "w": 10080.0, "week": 10080.0, "weeks": 10080.0,
}
_TERM = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]+)\s*")
_EXAMPLES = "a number of minutes or a string such as '8 min', '2 h', '1 h 30 min', '30 d'"


def parse_duration(value: object) -> float:
    """Convert a duration to float minutes.

    Parameters
    ----------
    value : float, int or str
        A number (minutes) or a string of one or more ``<number> <unit>``
        terms; units are s, min, h, d, w and their long forms.

    Returns
    -------
    float
        Minutes, finite and non-negative.

    Raises
    ------
    ValueError
        On a negative or non-finite number, an unknown unit, or text that is
        not a duration.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected {_EXAMPLES}, got {value!r}")
    if isinstance(value, int | float):
        try:
            minutes = float(value)
        except OverflowError:
            raise ValueError(f"a duration must be finite, got {len(str(value))} digits") from None
    elif isinstance(value, str):
        minutes = _parse_text(value)
    else:
        raise ValueError(f"expected {_EXAMPLES}, got {value!r}")
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"a duration must be finite and non-negative, got {value!r}")
    return minutes


def _parse_text(text: str) -> float:
    stripped = text.strip()
    try:
        return float(stripped)
    except ValueError:
        pass
    pos, total = 0, 0.0
    while pos < len(stripped):
        match = _TERM.match(stripped, pos)
        if match is None or match.group(2).lower() not in _UNIT_MIN:
            raise ValueError(f"expected {_EXAMPLES}, got {text!r}")
        total += float(match.group(1)) * _UNIT_MIN[match.group(2).lower()]
        pos = match.end()
    if pos == 0:
        raise ValueError(f"expected {_EXAMPLES}, got {text!r}")
    return total


def format_duration(minutes: float) -> str:
    """Format minutes for people: ``'45 min'``, ``'2.5 h'``, ``'30 d'``."""
    if minutes >= 2880 and minutes % 1440 == 0:
        return f"{minutes / 1440:g} d"
    if minutes >= 120:
        return f"{minutes / 60:g} h"
    return f"{minutes:g} min"
