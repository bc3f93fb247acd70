"""Report sections of the mechanisms' tables (forces, stock, drones, hazards, citizens, any time series).

The tables are synthetic, written by the test beside a real run's (the mechanisms' own code may not exist).
"""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import sim
from analysis.extras import lending_cost
from analysis.report import build_report
from tests.analysis.checks import check_self_contained, section_ids

SHELTER = "<b>School</b> & gym"


def test_lending_cost_counts_own_incidents_while_units_are_away():
    a = pd.DataFrame({"incident_id": [1, 2], "home_district": ["A", "A"], "escalation_level": [1, 0],
                      "t_dispatch_min": [10.0, 60.0], "busy_min": [30.0, 10.0]})
    inc = pd.DataFrame({"district": ["A", "A", "B"], "t_call_min": [20.0, 50.0, 20.0],
                        "response_min": [9.0, 5.0, 1.0]})
    out = lending_cost(a, inc).iloc[0]
    lent = (out["assignments lent"], out["unit-hours lent"], out["own incidents while lending"])
    assert lent == (1, 0.5, 1)
    assert (out["their mean response"], out["other own incidents' mean response"]) == (9.0, 5.0)


@pytest.fixture
def mechanism_run(run_dir, tmp_path):
    out = shutil.copytree(run_dir, tmp_path / "run")
    a = pd.read_parquet(out / "assignments.parquet")
    a["escalation_level"] = a["mutual_aid"].astype("int8")
    a["diverted"] = np.arange(len(a)) % 7 == 0
    a.to_parquet(out / "assignments.parquet")
    t = np.array([0.0, 60.0, 120.0, 180.0])
    tables = {
        # Spare never stocks foam (its one row is the initial 0): neither a line nor a stock-out
        "stock": pd.DataFrame({"t_min": [0.0, *t], "depot": ["Spare"] + ["HQ"] * 4, "material": ["foam"] * 5,
                               "level": [0.0, 2.0, 1.0, 0.0, 2.0], "change": [0.0, 2.0, -1.0, -1.0, 2.0],
                               "reason": ["initial", "initial", "consumed", "consumed", "resupplied"]}),
        "drones": pd.DataFrame({"drone": ["d1", "d1", "d2"], "incident_id": [1, 2, 3],
                                "t_launch_min": [0.0, 30.0, 40.0], "t_arrive_min": [4.0, 36.0, 43.0],
                                "t_back_min": [10.0, 45.0, 50.0],
                                "outcome": ["confirmed", "false_alarm", "confirmed"],
                                "battery_left_min": [20.0, 12.0, 18.0]}),
        "footprints": pd.DataFrame({"hazard": ["flood"] * 3 + ["plume"], "t_min": [60.0, 60.0, 120.0, 60.0],
                                    "x_km": [1.0, 1.5, 1.5, 3.0], "y_km": [1.0, 1.0, 1.5, 3.0],
                                    "cell_km": [0.5] * 4, "value": [0.3, 0.8, 1.1, 2.0]}),
        "casualties": pd.DataFrame({"district": ["Singil", "Singil"], "cause": ["flood", "flood"],
                                    "injured": [3, 2], "dead": [0, 1]}),
        "evacuation": pd.DataFrame({"district": ["Singil"], "people": [1000], "warned": [900],
                                    "evacuated": [700], "median_evac_min": [45.0], "p90_evac_min": [90.0]}),
        "shelters": pd.DataFrame({"t_min": t, "shelter": [SHELTER] * 4, "occupancy": [0, 50, 80, 20],
                                  "capacity": [100] * 4}),
        "warnings": pd.DataFrame({"t_min": [5.0, 10.0, 15.0], "channel": ["sms", "siren", "sms"],
                                  "reached": [100, 50, 30]}),
        "flood": pd.DataFrame({"t_min": t, "max_depth_m": [0.0, 0.4, 1.2, 0.6], "wet_cells": [0, 4, 9, 5]}),
        "site_events": pd.DataFrame({"t_call_min": [5.0, 9.0], "site": ["<i>Mipo</i>", "Onsan"],
                                     "false_alarm": [False, True]}),      # no t_min: shown as rows
    }
    for name, df in tables.items():
        df.to_parquet(out / f"{name}.parquet")
    meta = json.loads((out / "run.json").read_text())
    meta["tables"] = sorted([*meta.get("tables", []), *tables])
    meta["components"] = {"flood": {"peak_depth_m": 1.2, "by_district": {"Singil": 3}}}
    (out / "run.json").write_text(json.dumps(meta))
    return out


def test_each_table_gets_its_section(mechanism_run):
    text = build_report(mechanism_run)
    ids = section_ids(text)
    for sid in ("forces", "stock", "drones", "hazards", "citizens", "series", "components"):
        assert sid in ids
    assert ids.index("forces") > ids.index("units") and ids[-1] == "provenance"
    # the run's 7 figures, then stock, footprints, shelters, warnings and the flood series
    assert check_self_contained(text) == 7 + 5
    assert SHELTER not in text and "&lt;b&gt;School&lt;/b&gt; &amp; gym" in text
    assert "by_district.Singil" in text and "peak_depth_m" in text
    assert "site_events.parquet (2 rows)" in text and "&lt;i&gt;Mipo&lt;/i&gt;" in text
    stock = text.split('<section id="stock">')[1].split("</section>")[0]
    assert "Spare" not in stock
    assert '<td class="text">HQ</td><td class="text">foam</td><td class="num">120</td>' in stock
    forces = text.split('<section id="forces">')[1].split("</section>")[0]
    a = pd.read_parquet(mechanism_run / "assignments.parquet")
    a = a[a["t_dispatch_min"] >= json.loads((mechanism_run / "run.json").read_text())["warmup_min"]]
    for level, n in a["escalation_level"].value_counts().items():
        assert f"<td class=\"num\">{level}</td>" in forces and f"{n:,}" in forces


def test_a_plain_run_has_none_of_them(run_dir):
    ids = section_ids(build_report(run_dir))
    assert not {"stock", "drones", "hazards", "citizens", "series", "components"} & set(ids)
    a = pd.read_parquet(run_dir / "assignments.parquet")
    helped = "escalation_level" in a and bool((a["escalation_level"] > 0).any() or a["diverted"].any())
    assert ("forces" in ids) == helped


def test_the_forces_section_counts_what_run_json_counts(tmp_path):
    """Levels and lenders of the report are run.json's: after the warm-up, mutual aid (level 1) only.

    chongqing_tiers has every level and city-tier units whose home is a district: counting the
    warm-up or the city's units as a district's loan would change both tables.
    """
    result = sim.run("chongqing_tiers", days=1, seed=3)
    figures = result.meta["components"]["escalation"]
    out = result.write(tmp_path / "run")
    text = build_report(out)
    forces = text.split('<section id="forces">')[1].split("</section>")[0]
    rows = [[cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", forces, flags=re.S)]
    by_level = {r[1]: int(r[2].replace(",", "")) for r in rows if len(r) == 8}
    names = {"own": "own district", "mutual_aid": "mutual aid", "city": "city tier",
             "enterprise_lent": "enterprise brigade"}
    assert by_level == {names[k]: n for k, n in figures["assignments_by_level"].items() if n}
    assert by_level["mutual aid"] > 10 and by_level["city tier"] > 0
    start = result.meta["warmup_min"]
    a = result.assignments[result.assignments["t_dispatch_min"] >= start]
    a = a.assign(busy_min=a["t_free_min"].fillna(a["t_clear_min"]) - a["t_dispatch_min"])
    lent = lending_cost(a, result.incidents, start).set_index("lending district")
    assert lent["assignments lent"].to_dict() == {d: v["assignments"] for d, v in figures["lenders"].items()}
    lenders = {r[0]: int(r[1].replace(",", "")) for r in rows if len(r) == 6}   # the report's own table
    assert lenders == lent["assignments lent"].to_dict()
    # the stock figure has a legend entry for every depot that held something, also for the
    # technical reserve, which holds only breathing sets (not the first panel's material)
    stock = text.split('<section id="stock">')[1].split("</section>")[0]
    legend = re.findall(r'"name":"([^"]+)","showlegend":true', stock)
    st = result.extra["stock"]
    held = sorted(st.loc[st["level"] > 0, "depot"].astype(str).unique())
    assert sorted(legend) == held and "technical_reserve" in held
