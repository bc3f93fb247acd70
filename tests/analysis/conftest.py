"""Fixtures of the analysis tests: real engine runs written as run and sweep directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import scenarios
import sim
from tests.analysis.sweepfix import make_sweep

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCRIPT_NAME = "<script>alert(1)</script>"
DISTRICT_NAME = "<img src=x onerror=alert(2)>West"
LABEL_NAME = "<b onmouseover=alert(3)>fast & \"quoted\"</b>"


def hostile_scenario():
    """A small grid city whose user-supplied names are HTML and script."""
    return scenarios.from_dict({
        "schema_version": 1, "name": SCRIPT_NAME, "seed": 3,
        "description": "Synthetic test city <b>bold</b> & <a href='http://evil.example/x'>link</a>.",
        "time": {"horizon": "3 d", "warmup": "1 d"},
        "geography": {"kind": "grid", "origin_km": [0, 0], "size_km": [6, 4], "spacing_km": 0.5,
                      "speed_kmh": 30},
        "districts": {
            DISTRICT_NAME: {"population": 50000, "boundary": [[0, 0], [3, 0], [3, 4], [0, 4]],
                            "neighbours": ["East"]},
            "East": {"population": 40000, "boundary": [[3, 0], [6, 0], [6, 4], [3, 4]],
                     "neighbours": [DISTRICT_NAME]}},
        "stations": {"S1": {"district": DISTRICT_NAME, "location": [1.5, 2]},
                     "S2": {"district": "East", "location": [4.5, 2]}},
        "hospitals": {"H<i>1</i>": {"location": [3, 2], "capacity": 1, "district": "East"}},
        "unit_types": {"ambulance": {"transports": True}, "engine": {}},
        "fleets": {"S1": {"ambulance": 2, "engine": 1}, "S2": {"ambulance": 2}},
        "incident_types": {"medical": {
            "priority_mix": {1: 0.5, 2: 0.5}, "target_response": {1: "8 min", 2: "12 min"},
            "required_units": {"ambulance": 1},
            "on_scene": {"dist": "lognormal", "mean": "18 min", "sd": "8 min"},
            "transport_probability": 0.6,
            "handover": {"dist": "lognormal", "mean": "15 min", "sd": "6 min"}}},
        "demand": {"per_1000_per_day": {"medical": 0.4}},
    })


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """One 3-day run of ansan."""
    out = tmp_path_factory.mktemp("run") / "ansan"
    return sim.run("ansan", seed=1, days=3).write(out)


@pytest.fixture(scope="session")
def crn_sweep(tmp_path_factory) -> Path:
    """ansan: two policies x two Sadong fleets x 5 replications on common random numbers (3 days each)."""
    return make_sweep(tmp_path_factory.mktemp("sweep") / "crn", days=3, replications=5, failed=True,
                      factors={"policy": (None, ["nearest", "district_first"]),
                               "sadong_ambulances": ("fleets.Sadong.ambulance", [1, 3])})


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory) -> Path:
    """A run of the hostile scenario."""
    return sim.run(hostile_scenario(), seed=2).write(tmp_path_factory.mktemp("hostile") / "run")


@pytest.fixture(scope="session")
def hostile_sweep(tmp_path_factory) -> Path:
    """A sweep of the hostile scenario whose first configuration has an HTML label."""
    out = make_sweep(tmp_path_factory.mktemp("hostile") / "sweep", scenario=hostile_scenario(), days=3,
                     replications=2)
    plan = json.loads((out / "plan.json").read_text())
    plan["configurations"][0]["label"] = LABEL_NAME
    (out / "plan.json").write_text(json.dumps(plan))
    return out


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed by ``make browser`` (a step of ``make test``); skips when missing.

    The fixture never installs anything.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}: run `make browser` "
                    "(apt-get install chromium) to run the report's browser tests")
    pytest.importorskip("playwright.sync_api",
                        reason="the playwright package (dev extra) drives chromium: pip install playwright")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium, tmp_path_factory):
    """A headless chromium with a fresh profile, driven by playwright (one per test session)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(chromium), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1366, "height": 900})
        yield context
        context.close()
