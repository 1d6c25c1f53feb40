"""``lcasolve sensitivity`` on the bundled cement example."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lcasolve
from lcasolve.cli.main import main
from lcasolve.examples import example_path
from lcasolve.methods import with_methods

CEMENT = str(example_path("cement"))


def run(capsys, *argv):
    code = main(["sensitivity", CEMENT, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def dense_score(system, demand):
    s = np.linalg.solve(system.A.toarray(), system.demand_vector(demand))
    return float((system.C.toarray() @ (system.B.toarray() @ s))[0])


def test_json_lists_ranked_parameters_that_match_finite_differences(capsys):
    code, out, _ = run(capsys, "--demand", "cement=1000", "--top", "6", "--json")
    assert code == 0
    payload = json.loads(out)
    (category,) = payload["categories"]
    assert category["name"] == "IPCC AR6 GWP100"
    rows = [{**r, "row": r["row_id"], "col": r["col_id"]} for r in category["rows"]]
    assert len(rows) == 6
    el = [abs(r["elasticity"]) for r in rows]
    assert el == sorted(el, reverse=True)
    # scaling the reference product of the demanded activity scales the score by 1/x: elasticity -1
    assert rows[0] == {**rows[0], "matrix": "technosphere", "row": "cement", "col": "cement"}
    assert rows[0]["elasticity"] == pytest.approx(-1.0, abs=1e-12)
    # every listed value equals a central finite difference of a dense recalculation
    system = with_methods(lcasolve.load(CEMENT), None)
    demand = {"cement": 1000.0}
    h = dense_score(system, demand)
    import dataclasses

    for r in rows:
        entries = getattr(system, r["matrix"])
        if r["matrix"] == "technosphere":
            rows_ids = system.activities["product_id"].to_numpy()[entries.row]
            cols_ids = system.activities["id"].to_numpy()[entries.col]
        elif r["matrix"] == "biosphere":
            rows_ids = system.flows["id"].to_numpy()[entries.row]
            cols_ids = system.activities["id"].to_numpy()[entries.col]
        else:
            rows_ids = system.categories["id"].to_numpy()[entries.row]
            cols_ids = system.flows["id"].to_numpy()[entries.col]
        (e,) = np.flatnonzero((rows_ids == r["row"]) & (cols_ids == r["col"]))[:1]
        v = entries.value.copy()
        step = 1e-6 * abs(v[e])
        hs = []
        for sgn in (1, -1):
            w = v.copy()
            w[e] += sgn * step
            hs.append(
                dense_score(
                    dataclasses.replace(system, **{r["matrix"]: entries.with_values(w)}), demand
                )
            )
        fd = (hs[0] - hs[1]) / (2 * step)
        assert r["sensitivity"] == pytest.approx(fd, rel=1e-6)
        assert r["elasticity"] == pytest.approx(fd * r["value"] / h, rel=1e-6)


def test_text_output_names_the_activities(capsys):
    code, out, _ = run(capsys, "--demand", "cement=1", "--top", "3")
    assert code == 0
    assert "IPCC AR6 GWP100" in out
    assert "Clinker production" in out
    assert "relative residual" in out


def test_unknown_demand_exits_1_with_one_line(capsys):
    code, out, err = run(capsys, "--demand", "unobtainium=1")
    assert code == 1
    assert "unobtainium" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_top_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        run(capsys, "--demand", "cement=1", "--top", "0")
    assert info.value.code == 2
    assert "--top" in capsys.readouterr().err
