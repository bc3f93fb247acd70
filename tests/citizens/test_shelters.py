"""Shelters that start closed and open during the run (``open: false``, ``opens_at``, ``open_shelter``).

In the tiny road town (tests/citizens/conftest.py): nobody reaches a shelter before it opens and
people do after; those who found no open shelter go when one opens; a drill's ``shelter_opening``
inject and ``opens_at`` give the same run; bad names fail before the run, one line naming the field.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from tests.citizens.conftest import run, town

pytestmark = pytest.mark.nojit

ALERT = {"alerts": [{"at": 10, "share": 1.0}]}


def _citizens(hall: dict, school: dict | None = None, **evacuation) -> dict:
    shelters = {"Hall": {"xy_km": [4, 2], "capacity": 2000, **hall}}
    if school is not None:
        shelters["School"] = {"xy_km": [0, 2], "capacity": 2000, **school}
    return {"warnings": ALERT, "evacuation": {"shelters": shelters, "share": 1.0, "share_prepared": 1.0,
                                              "capacity_per_min": 1000, **evacuation}}


def _first_in(result, shelter: str) -> float:
    rows = result.extra["shelters"]
    rows = rows[(rows["shelter"] == shelter) & (rows["occupancy"] > 0)]
    return float(rows["t_min"].min()) if len(rows) else np.inf


def test_nobody_reaches_a_closed_shelter_before_it_opens_and_people_do_after():
    result = run(town(_citizens({"open": False, "opens_at": 90}, {})))
    assert _first_in(result, "Hall") >= 90 and _first_in(result, "School") < 90
    hall = result.extra["shelters"].query("shelter == 'Hall'")
    assert hall["occupancy"].max() > 0
    ev = result.events[result.events["kind"].astype(str) == "shelter_opened"]
    assert ev["t_min"].tolist() == [90.0]


def _alert_only(citizens: dict) -> dict:
    """Only the alert warns (no neighbours): the same people are warned whoever has left."""
    return citizens | {"warnings": ALERT | {"neighbour_rate_per_min": 0.0}}


def test_the_waiting_leave_when_the_only_shelter_opens_and_all_get_there():
    closed, always = (run(town(_alert_only(_citizens(hall))))
                      for hall in ({"open": False, "opens_at": 120}, {}))
    assert _first_in(closed, "Hall") >= 120 > _first_in(always, "Hall")
    a, b = closed.meta["components"]["citizens"], always.meta["components"]["citizens"]
    # the same people leave (common random numbers): the early ones wait at home, then go at 120
    assert a["people_warned"] == b["people_warned"]
    assert a["evacuated"] == b["evacuated"] > 0 and a["stranded"] == a["still_moving"] == 0
    assert a["median_evac_min"] > b["median_evac_min"]
    ev = closed.events[closed.events["kind"].astype(str) == "shelter_opened"]
    assert len(ev) == 1 and '"waiting"' in str(ev["detail"].iloc[0])


def test_a_shelter_never_opened_takes_nobody_and_its_evacuees_stay_home():
    result = run(town(_citizens({"open": False})))
    fig = result.meta["components"]["citizens"]
    assert fig["evacuated"] == fig["stranded"] == fig["still_moving"] == 0 and fig["people_warned"] > 0


def test_the_stranded_and_the_waiting_go_on_when_a_shelter_opens():
    # Hall holds 50: who finds it full is stranded there, who leaves later stays home, until School opens
    at_150, never = (run(town(_alert_only(_citizens({"capacity": 50}, school))))
                     for school in ({"open": False, "opens_at": 150}, {"open": False}))
    opened, stuck = at_150.meta["components"]["citizens"], never.meta["components"]["citizens"]
    assert stuck["stranded"] > 0 and stuck["evacuated"] == 50
    assert opened["stranded"] == opened["still_moving"] == 0 and opened["evacuated"] > 50 + stuck["stranded"]
    everyone = run(town(_alert_only(_citizens({"capacity": 50}, {})))).meta["components"]["citizens"]
    assert opened["evacuated"] == everyone["evacuated"]  # all who would have gone with School open
    assert _first_in(at_150, "School") >= 150 and _first_in(never, "School") == np.inf


def test_a_drill_inject_opens_the_shelter_as_opens_at_does():
    """``shelter_opening`` at 75 min calls ``open_shelter``: the citizens' tables equal ``opens_at: 75``."""
    by_time = town(_citizens({"open": False, "opens_at": 75}, {}))
    by_drill = town(_citizens({"open": False}, {}))
    by_drill["drill"] = {"background": False,
                         "injects": [{"id": "hall", "at": 75, "kind": "shelter_opening", "shelter": "Hall"}]}
    a, b = run(by_time), run(by_drill)
    for name in ("evacuation", "shelters", "warnings"):
        pd.testing.assert_frame_equal(a.extra[name], b.extra[name])
    kinds = b.events["kind"].astype(str).tolist()
    at = b.events["t_min"].tolist()
    assert at[kinds.index("inject")] == at[kinds.index("shelter_opened")] == 75.0
    assert kinds.index("inject") < kinds.index("shelter_opened")


def test_opening_an_open_shelter_does_nothing():
    d = town(_citizens({}, {}))
    d["drill"] = {"background": False,
                  "injects": [{"id": "hall", "at": 75, "kind": "shelter_opening", "shelter": "Hall"}]}
    a, b = run(d), run(town(_citizens({}, {})))
    pd.testing.assert_frame_equal(a.extra["shelters"], b.extra["shelters"])
    assert "shelter_opened" not in set(a.events["kind"].astype(str))


@pytest.mark.parametrize(("citizens", "shelter", "path", "message"), [
    (_citizens({}), "Gym", "drill.injects[0].shelter", "unknown shelter 'Gym'; expected one of 'Hall'"),
    ({"warnings": ALERT}, "Hall", "drill.injects[0].shelter",
     "components.citizens has no evacuation.shelters"),
    (_citizens({"opens_at": 30}), "Hall", "components.citizens.evacuation.shelters.Hall",
     "opens_at is for a shelter that starts closed: add open: false"),
    (_citizens({"open": False, "opens_at": -5}), "Hall",
     "components.citizens.evacuation.shelters.Hall.opens_at",
     "a duration must be finite and non-negative"),
])
def test_bad_shelter_input_is_one_line_naming_the_field(citizens, shelter, path, message):
    d = town(citizens)
    d["drill"] = {"background": False,
                  "injects": [{"id": "open", "at": 60, "kind": "shelter_opening", "shelter": shelter}]}
    with pytest.raises(InputError) as err:
        run(d)
    line = err.value.one_line()
    assert err.value.path == path and message in line and "\n" not in line, line
