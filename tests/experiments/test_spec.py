"""Experiment specs and plans: validation errors name the field, designs and ids are deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import designs
from experiments.plan import make_plan
from experiments.spec import spec_from_dict
from experiments.sweep import load_plan
from sim.cli import main
from sim.errors import InputError
from tests.experiments.conftest import EXAMPLE, write_spec

FLEET = {"path": "fleets.Singil.ambulance", "levels": [2, 3]}
POLICY = {"path": "policy.dispatch", "levels": ["nearest", "district_first"]}


def _spec(**fields):
    data = {"name": "t", "scenarios": ["ansan"], "seed": 5, "replications": 2, "horizon": "2 d",
            "warmup": "0.5 d"}
    data.update(fields)
    return spec_from_dict(data, source="t.yaml")


BAD = [
    ("unknown_path", {"factors": {"a": {"path": "fleets.Singil.ambulanse", "levels": [2]}}},
     "factors.a.path", "not a field of scenario 'ansan'"),
    ("unknown_field", {"factors": {"a": {"path": "demand.scal", "levels": [1.0]}}},
     "factors.a.path", "did you mean 'scale'"),
    ("empty_levels", {"factors": {"a": {"path": "demand.scale", "levels": []}}},
     "factors.a.levels", "at least one level"),
    ("wrong_type", {"replications": "three"}, "replications", "valid integer"),
    ("wrong_level_type", {"factors": {"a": {"path": "fleets.Singil.ambulance", "levels": [2, "two"]}}},
     "factors.a.levels[1]", "valid integer"),
    ("missing_base", {"scenarios": ["ansn"]}, "scenarios[0]", "unknown scenario"),
    ("missing_base_file", {"scenarios": ["nowhere/x.yaml"]}, "scenarios[0]", "file not found"),
    ("unknown_policy", {"factors": {"policy": {**POLICY, "levels": ["nearest", "farthest"]}}},
     "factors.policy.levels[1]", "unknown dispatch policy 'farthest'"),
    ("unimportable_policy", {"factors": {"policy": {"path": "policy.dispatch", "levels": ["nomod:X"]}}},
     "factors.policy.levels[0]", "cannot import module 'nomod'"),
    ("code_without_allow_code", {"factors": {"policy": {"path": "policy.dispatch", "levels": ["nomod:X"]}}},
     "factors.policy.levels[0]", "'nomod:X' names code"),
    ("typo", {"factor": {}}, "factor", "did you mean 'factors'"),
    ("unknown_metric", {"metrics": ["mean_respons_min"]}, "metrics[0]", "did you mean 'mean_response_min'"),
    ("grid_with_range", {"factors": {"a": {"path": "demand.scale", "range": [0.5, 1.5]}}},
     "factors.a.levels", "grid design needs levels"),
    ("bad_combination", {"factors": {"a": {"path": "time.warmup", "levels": ["1 d", "4 d"]}}},
     "factors.a.levels[1]", "must be shorter than horizon"),
    ("reserved_name", {"factors": {"seed": {"path": "seed", "levels": [1, 2]}}}, "factors.seed", "column"),
    ("baseline", {"factors": {"a": FLEET}, "baseline": {"a": 7}}, "baseline", "matches 0 configurations"),
    ("adaptive_cap", {"adaptive": {"metric": "mean_response_min", "half_width": 0.1, "max_replications": 1}},
     "adaptive.max_replications", "at least replications"),
    ("lhs_without_samples", {"design": {"kind": "lhs", "seed": 1},
                             "factors": {"a": {"path": "demand.scale", "range": [0.5, 1.5]}}},
     "design.samples", "number of samples"),
    ("list_unknown_factor", {"design": {"kind": "list", "configurations": [{"b": 1}]},
                             "factors": {"a": FLEET}}, "design.configurations[0].b", "not a factor"),
]


@pytest.mark.parametrize(("name", "fields", "field", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_spec_gives_one_line_naming_the_field(tmp_path, capsys, name, fields, field, message):
    spec = write_spec(tmp_path / f"{name}.yaml", **fields)
    out = tmp_path / "out"
    code = ["--allow-code"] if name == "unimportable_policy" else []  # (issue #16: code only when asked)
    run = ["sweep", str(spec), "--out", str(out), "--workers", "1", *code]
    for argv in (["sweep", "check", str(spec), *code], run):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith(f"anjeon: error: {spec}: {field}: "), err
        assert message in err, err
    assert not out.exists()  # nothing half-written


def test_check_prints_the_number_of_runs(capsys):
    assert main(["sweep", "check", str(EXAMPLE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ok: ansan_policy_fleet: 16 runs (4 configurations x 4 replications")
    assert lines[1].endswith("policy=nearest, singil_ambulances=2  (baseline)")
    assert len(lines) == 5


def test_usage_errors_exit_2(capsys):
    assert main(["sweep", "check"]) == 2
    assert main(["sweep", str(EXAMPLE), "--workers", "2", "--dask-local", "2"]) == 2
    assert main(["sweep", str(EXAMPLE), "--workers", "0"]) == 2
    assert main(["sweep", str(EXAMPLE), "--resume", "--out", "/nonexistent/sweep"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4 and all(e.startswith("anjeon: error: ") for e in err)
    assert "nothing to resume" in err[-1]


def test_plan_ids_are_stable_and_follow_content():
    a = make_plan(_spec(factors={"policy": POLICY, "amb": FLEET}), probe=False)
    b = make_plan(_spec(factors={"policy": POLICY, "amb": FLEET}), probe=False)
    assert [c.config_id for c in a.configurations] == [c.config_id for c in b.configurations]
    assert len({c.config_id for c in a.configurations}) == 4
    assert [c.values for c in a.configurations] == [
        {"policy": "nearest", "amb": 2}, {"policy": "nearest", "amb": 3},
        {"policy": "district_first", "amb": 2}, {"policy": "district_first", "amb": 3}]
    longer = make_plan(_spec(factors={"policy": POLICY, "amb": FLEET}, horizon="3 d"), probe=False)
    assert not {c.config_id for c in a.configurations} & {c.config_id for c in longer.configurations}
    other_seed = make_plan(_spec(factors={"policy": POLICY, "amb": FLEET}, seed=6), probe=False)
    assert not {c.config_id for c in a.configurations} & {c.config_id for c in other_seed.configurations}
    assert a.baseline == a.configurations[0].config_id


def test_baseline_by_values_and_plan_json():
    plan = make_plan(_spec(factors={"policy": POLICY, "amb": FLEET},
                           baseline={"policy": "district_first", "amb": 3}), probe=False)
    assert plan.config(plan.baseline).values == {"policy": "district_first", "amb": 3}
    doc = plan.to_json()
    assert doc["baseline"] == plan.baseline and doc["seeds"] == [5] and doc["replications"] == 2
    assert [f["name"] for f in doc["factors"]] == ["policy", "amb"]
    assert {"config_id", "label", "values"} <= set(doc["configurations"][0])


def test_probe_checks_metrics_and_lists_them():
    plan, _ = load_plan(EXAMPLE)
    assert {"mean_response_min", "within_target", "utilization_ambulance"} <= set(plan.metric_keys)


def test_latin_hypercube_has_one_point_per_stratum():
    u = designs.latin_hypercube(3, 10, np.random.default_rng(1))
    for j in range(3):
        assert sorted(np.floor(u[:, j] * 10).astype(int)) == list(range(10))


def test_sampled_designs_are_seeded_and_within_range():
    factors = {"scale": {"path": "demand.scale", "range": [0.5, 1.5]},
               "amb": {"path": "fleets.Singil.ambulance", "range": [1, 4], "integer": True},
               "policy": POLICY}
    for kind in ("lhs", "random"):
        spec = _spec(design={"kind": kind, "samples": 8, "seed": 3}, factors=factors)
        pts = designs.points(spec)
        assert pts == designs.points(spec) and len(pts) == 8
        assert pts != designs.points(_spec(design={"kind": kind, "samples": 8, "seed": 4}, factors=factors))
        assert all(0.5 <= p["scale"] <= 1.5 and p["amb"] in (1, 2, 3, 4) for p in pts)
        assert all(p["policy"] in ("nearest", "district_first") for p in pts)
    lhs = designs.points(_spec(design={"kind": "lhs", "samples": 8, "seed": 3}, factors=factors))
    assert sorted(p["amb"] for p in lhs) == [1, 1, 2, 2, 3, 3, 4, 4]


def test_sampled_duplicates_are_merged_and_list_design_keeps_order():
    spec = _spec(design={"kind": "random", "samples": 12, "seed": 1}, factors={"policy": POLICY})
    plan = make_plan(spec, probe=False)
    assert len(plan.configurations) == 2 and plan.merged_duplicates == 10
    listed = _spec(design={"kind": "list", "configurations": [{"amb": 3}, {"amb": 1}]},
                   factors={"amb": {"path": "fleets.Singil.ambulance"}})
    assert [c.values["amb"] for c in make_plan(listed, probe=False).configurations] == [3, 1]


def test_list_design_duplicate_is_an_error():
    spec = _spec(design={"kind": "list", "configurations": [{"amb": 3}, {"amb": 3}]},
                 factors={"amb": {"path": "fleets.Singil.ambulance"}})
    with pytest.raises(InputError, match="design points 0 and 1"):
        make_plan(spec, probe=False)
