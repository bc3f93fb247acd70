"""Durations written by people: numbers are minutes, text carries units; anything else is refused."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("8 min", 8.0),
        ("2 h", 120.0),
        ("1 h 30 min", 90.0),
        ("30 d", 43_200.0),
        ("45 s", 0.75),
        ("90 seconds", 1.5),
        ("1.5h", 90.0),
        (".5 hours", 30.0),
        ("2 w", 20_160.0),
        ("1 day 2 hours 3 minutes", 1440.0 + 120.0 + 3.0),
        ("  3 MIN ", 3.0),
        ("2 Hr", 120.0),
        ("12", 12.0),
        ("0.25", 0.25),
        ("0 min", 0.0),
    ],
)
def test_parses_text(text, minutes):
    assert parse_duration(text) == pytest.approx(minutes, rel=1e-15)


@pytest.mark.parametrize(("value", "minutes"), [(0, 0.0), (8, 8.0), (2.5, 2.5), (1e6, 1e6)])
def test_numbers_are_minutes(value, minutes):
    got = parse_duration(value)
    assert got == minutes and isinstance(got, float)


@pytest.mark.parametrize(
    "bad",
    [
        -1, -0.5, "-5 min", "-5",                     # negative
        "5 parsecs", "3 fortnights", "5 m",           # unknown units ("m" is ambiguous)
        True, False,                                  # bools are not numbers of minutes
        None, [8], {"min": 8},                        # not a duration at all
        "", "   ", "min", "8 min 2", "8 min,", "1e3 min",
        math.inf, math.nan, "inf", "nan", "inf min",  # not finite
        pytest.param(10**400, id="huge-int"),         # an int no float can hold
    ],
)
def test_rejects(bad):
    with pytest.raises(ValueError, match=r"duration|expected"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(45.0, "45 min"), (119.0, "119 min"), (150.0, "2.5 h"), (1440.0, "24 h"), (2880.0, "2 d"),
     (43_200.0, "30 d"), (0.5, "0.5 min")],
)
def test_format_and_round_trip(minutes, text):
    assert format_duration(minutes) == text
    assert parse_duration(format_duration(minutes)) == pytest.approx(minutes)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 400), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_terms_add_up(days, hours, minutes, seconds):
    text = f"{days} d {hours} h {minutes} min {seconds} s"
    expected = 1440 * days + 60 * hours + minutes + seconds / 60
    assert parse_duration(text) == pytest.approx(expected, rel=1e-12)
    assert parse_duration(text.replace(" ", "")) == parse_duration(text)


@settings(max_examples=100, deadline=None)
@given(st.floats(0, 1e7, allow_nan=False))
def test_numbers_pass_through(value):
    assert parse_duration(value) == value
    assert parse_duration(repr(value)) == value
