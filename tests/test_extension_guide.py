"""docs/howto-components.md: its example component, built from the page's own code blocks, runs."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

import scenarios
import sim
from agents import components
from tests.conftest import _CITY

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "howto-components.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def guide_module():
    """The guide's Python blocks, run as one module (registers ``sensor_alarms``)."""
    module = types.ModuleType("howto_components_example")
    sys.modules[module.__name__] = module
    exec(compile("\n".join(_blocks("python")), str(GUIDE), "exec"), module.__dict__)
    yield module
    components.REGISTRY.pop("sensor_alarms", None)
    sys.modules.pop(module.__name__, None)


def _city_with_sensors(section: dict) -> dict:
    d = {**_CITY, "components": section, "time": {**_CITY["time"], "horizon": "3 d"}}
    d["incident_types"] = {**_CITY["incident_types"]}
    return d


def test_guide_example_raises_alarms_as_incidents(guide_module):
    section = yaml.safe_load(_blocks("yaml")[0])["components"]
    result = sim.run(scenarios.from_dict(_city_with_sensors(section)), seed=3)
    alarms = result.extra["sensor_alarms"]
    raised = result.incidents[result.incidents["source"] == "sensor_alarms"]
    assert result.meta["components"]["sensor_alarms"]["alarms"] == len(alarms) > 0
    # over 3 days at 0.75 alarms/hour, 54 are expected: a Poisson count within 5 sd of it
    assert abs(len(alarms) - 54) < 5 * 54**0.5
    assert raised["incident_id"].tolist() == alarms["incident_id"].tolist()
    assert (raised["kind"] == "fire").all() and set(raised["district"]) <= {"North", "South"}
    assert raised["t_call_min"].tolist() == alarms["t_min"].tolist()
    assert raised["incident_id"].min() >= (result.incidents["source"] != "sensor_alarms").sum()
    ev = result.events
    assert (ev["kind"] == "sensor_alarm").sum() == len(alarms)
    assert (ev["kind"] == "incident_raised").sum() == len(alarms)
    served = raised[raised["status"] == "resolved"]
    assert len(served) > 0.9 * len(raised)


def test_guide_example_leaves_other_incidents_alone_when_switched_off(guide_module):
    base = sim.run(scenarios.from_dict(_city_with_sensors({})), seed=3)
    assert (base.incidents["source"] != "sensor_alarms").all()
    off = sim.run(scenarios.from_dict(_city_with_sensors(
        {"sensor_alarms": {"rate_per_hr": {"North": 0.0}, "incident_type": "fire"}})), seed=3)
    for table in ("incidents", "assignments", "events"):
        assert getattr(off, table).equals(getattr(base, table)), table


def test_guide_error_line_is_what_the_cli_prints(guide_module, tmp_path):
    d = _city_with_sensors({"sensor_alarms": {"rate_per_hour": {"North": 1.0}, "incident_type": "fire"}})
    path = tmp_path / "my_city.yaml"
    path.write_text(yaml.safe_dump(d))
    # the CLI runs in a fresh process: name the class by module path, found through sys.path
    (tmp_path / "my_sensors.py").write_text("\n".join(_blocks("python")))
    d["components"] = {"my_sensors:SensorAlarms": d["components"]["sensor_alarms"]}
    path.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    proc = subprocess.run([str(Path(sys.executable).parent / "anjeon"), "run", str(path), "--out", str(out),
                           "--allow-code"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0] == (f"anjeon: error: {path}: components.my_sensors:SensorAlarms.rate_per_hour: "
                        "unknown field; did you mean 'rate_per_hr'? (and 1 more problem)")
    assert not out.exists()
