"""Event log: append-only rows of (t, code, incident, unit), compacted into arrays, details by seq."""

from __future__ import annotations

import json

import numpy as np
import numpy.testing as npt
import pytest

from sim.eventlog import CODE, KINDS, DetailCache, EventKind, EventLog, key


def test_codes_are_positions_of_the_kinds():
    assert [CODE[k] for k in KINDS] == list(range(len(KINDS)))
    assert KINDS[0] is EventKind.CALL_RECEIVED and KINDS[-1] is EventKind.RUN_END
    assert EventKind.UNIT_DISPATCHED == "unit_dispatched"


def test_rows_and_details_survive_compaction_in_order():
    log = EventLog()
    emit = log.emitter()
    log.add(0.0, EventKind.CALL_RECEIVED, incident=0)
    emit((1.5, CODE[EventKind.UNIT_DISPATCHED], 0, 3))
    log.compact()
    log.add(2.25, EventKind.UNIT_ARRIVED, incident=0, unit=3, detail={"b": 2, "a": 1})
    log.compact()
    log.compact()                                               # nothing pending: no-op
    log.add(9.0, EventKind.RUN_END, detail='{"x": 1}')
    assert len(log) == 4
    a = log.arrays()
    npt.assert_array_equal(a["t_min"], [0.0, 1.5, 2.25, 9.0])
    npt.assert_array_equal(a["seq"], [0, 1, 2, 3])
    npt.assert_array_equal(a["code"], [CODE[EventKind.CALL_RECEIVED], CODE[EventKind.UNIT_DISPATCHED],
                                       CODE[EventKind.UNIT_ARRIVED], CODE[EventKind.RUN_END]])
    npt.assert_array_equal(a["incident"], [0, 0, 0, -1])
    npt.assert_array_equal(a["unit"], [-1, 3, 3, -1])
    detail = [a["detail_text"][c] if c >= 0 else None for c in a["detail_code"]]
    assert detail == [None, None, '{"a": 1, "b": 2}', '{"x": 1}']
    assert a["seq"].dtype == np.int64 and a["unit"].dtype == np.int32 and a["detail_code"].dtype == np.int8


@pytest.mark.parametrize("reserve", [0, 3, 10_000])
def test_rows_survive_growth_and_reservation(reserve):
    log = EventLog()
    log.reserve(reserve)
    add_t, add_key, add_incident = log.appenders()
    want = []
    for i in range(9000):
        row = (i * 0.25, CODE[EventKind.UNIT_ARRIVED], i, i % 7)
        want.append(row)
        add_t(row[0])
        add_key(key(row[1], row[3]))
        add_incident(row[2])
        if i % 1000 == 999:
            log.compact()
            log.reserve(5)  # never shrinks
    a = log.arrays()
    assert len(log) == 9000 and len(a["t_min"]) == 9000
    assert list(zip(a["t_min"].tolist(), a["code"].tolist(), a["incident"].tolist(), a["unit"].tolist(),
                    strict=True)) == want


def test_arrays_twice_give_the_same_table():
    log = EventLog()
    for i in range(5):
        log.add(float(i), EventKind.CALL_RECEIVED, incident=i)
    first = log.arrays()
    second = log.arrays()
    for column in ("t_min", "seq", "code", "incident", "unit"):
        npt.assert_array_equal(first[column], second[column])


def test_disabled_log_records_nothing():
    log = EventLog(enabled=False)
    log.add(1.0, EventKind.CALL_RECEIVED, incident=0, detail={"a": 1})
    log.emitter()((2.0, 0, 1, -1))
    assert len(log) == 0
    a = log.arrays()
    assert a["t_min"].shape == (0,) and a["detail_code"].shape == (0,) and a["detail_text"] == []


def test_times_keep_full_precision():
    log = EventLog()
    t = 1234.567890123456789
    log.add(t, EventKind.CALL_RECEIVED, incident=2**40)
    a = log.arrays()
    assert a["t_min"][0] == t and a["incident"][0] == 2**40


def test_detail_cache_serialises_once_per_key():
    cache = DetailCache()
    calls = []

    def make():
        calls.append(1)
        return {"hospital": 2, "a": [1, 2]}

    first = cache(("h", 2), make)
    second = cache(("h", 2), make)
    assert first == second == json.dumps({"a": [1, 2], "hospital": 2}, sort_keys=True)
    assert len(calls) == 1


def test_appenders_pack_kind_and_unit_and_keep_large_ids():
    log = EventLog()
    add_t, add_key, add_incident = log.appenders()
    rows = [(0.5, CODE[EventKind.UNIT_DISPATCHED], 2**40, 0), (0.75, CODE[EventKind.RUN_END], -1, -1),
            (1.0, CODE[EventKind.UNIT_AVAILABLE], -1, 2**30)]
    for t, code, incident, unit in rows:
        add_t(t)
        add_key(key(code, unit))
        add_incident(incident)
    log.compact()
    log.emitter()(rows[0])                                      # the whole-row path agrees
    a = log.arrays()
    assert len(log) == 4
    assert a["t_min"].tolist() == [0.5, 0.75, 1.0, 0.5]
    assert a["code"].tolist() == [r[1] for r in rows] + [rows[0][1]]
    assert a["incident"].tolist() == [r[2] for r in rows] + [rows[0][2]]
    assert a["unit"].tolist() == [r[3] for r in rows] + [rows[0][3]]
    assert a["code"].dtype == np.int8 and a["incident"].dtype == np.int64


def test_disabled_log_appenders_are_emptied_by_compaction():
    log = EventLog(enabled=False)
    add_t, add_key, add_incident = log.appenders()
    for i in range(3):
        add_t(float(i))
        add_key(key(CODE[EventKind.CALL_RECEIVED]))
        add_incident(i)
    log.compact()
    assert len(log) == 0 and log.t == log.keys == log.incidents == []
    assert log.arrays()["seq"].shape == (0,)


def test_first_times_per_incident_survive_batches_and_a_disabled_log():
    kinds = (EventKind.UNIT_DISPATCHED, EventKind.INCIDENT_CLEARED)
    rows = [(1.0, EventKind.CALL_RECEIVED, 0, -1), (2.0, EventKind.UNIT_DISPATCHED, 0, 4),
            (2.0, EventKind.UNIT_DISPATCHED, 2, 5), (3.5, EventKind.UNIT_DISPATCHED, 0, 6),
            (4.0, EventKind.INCIDENT_CLEARED, 2, -1), (5.0, EventKind.UNIT_DISPATCHED, 2, 1),
            (7.25, EventKind.UNIT_DISPATCHED, 3, 1)]
    for enabled in (True, False):
        log = EventLog(enabled, kinds, n_incidents=5)
        for n, (t, kind, incident, unit) in enumerate(rows):
            log.add(t, kind, incident, unit)
            if n in (2, 5):                                     # batches split an incident's rows
                log.compact()
        nan = np.nan
        npt.assert_array_equal(log.first_times(EventKind.UNIT_DISPATCHED), [2.0, nan, 2.0, 7.25, nan])
        npt.assert_array_equal(log.first_times(EventKind.INCIDENT_CLEARED), [nan, nan, 4.0, nan, nan])
        assert len(log) == (len(rows) if enabled else 0)
    with pytest.raises(KeyError):
        log.first_times(EventKind.UNIT_ARRIVED)                 # not tracked


def test_columns_share_one_buffer_without_overlap():
    log = EventLog()
    log.reserve(1000)
    for i in range(1000):
        log.add(i + 0.5, KINDS[i % len(KINDS)], incident=-i, unit=2**31 - 1 - i)
    a = log.arrays()
    columns = [a[name] for name in ("t_min", "code", "incident", "unit")]
    assert len({id(c.base) for c in columns}) == 1                # one allocation holds the log
    assert all(c.flags.aligned and c.flags.c_contiguous for c in columns)
    npt.assert_array_equal(a["t_min"], np.arange(1000) + 0.5)      # no column overwrote another
    npt.assert_array_equal(a["code"], np.arange(1000) % len(KINDS))
    npt.assert_array_equal(a["incident"], -np.arange(1000))
    npt.assert_array_equal(a["unit"], 2**31 - 1 - np.arange(1000))


def test_detail_cache_get_sees_only_texts_made():
    cache = DetailCache()
    assert cache.get(("h", 1)) is None
    text = cache(("h", 1), lambda: {"hospital": "H"})
    assert cache.get(("h", 1)) is text == '{"hospital": "H"}'
