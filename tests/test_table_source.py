"""A system's tables kept as columns (a datapackage's) equal the DataFrames built eagerly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lcasolve.errors import ShapeMismatchError
from lcasolve.io import datapackage
from lcasolve.model import build_system
from lcasolve.model.table import TableSource
from lcasolve.synthetic import generate

TRIPLETS = [(1, 1, 1.0), (2, 2, 1.0), (3, 3, 2.0), (2, 1, -0.5), (1, 3, -0.25)]


def test_columns_are_read_without_building_the_frames(tmp_path: Path) -> None:
    path = tmp_path / "eco50.zip"
    datapackage.write(generate(50, seed=5), path)
    system = datapackage.read([path])
    for table in ("activities", "flows", "categories"):
        assert isinstance(system.__dict__[f"_{table}_table"], TableSource)
    ids = system.column("activities", "id")
    assert len(ids) == system.n_activities
    assert system.product_position(system.column("activities", "product_id")[7]) == 7
    assert system.has_column("categories", "unit")
    assert not system.has_column("activities", "waste")
    assert isinstance(system.__dict__["_activities_table"], TableSource)  # still not built
    frame = system.activities
    assert isinstance(frame, pd.DataFrame)
    assert system.activities is frame  # built once
    assert frame["id"].tolist() == ids


def test_lazy_tables_equal_the_eager_frames() -> None:
    lazy = build_system(TRIPLETS, [("CO2", 1, 1.0), ("CH4", 3, 0.1)], {"GWP": {"CO2": 1.0}})
    ids = [1, 2, 3]
    eager = build_system(
        TRIPLETS,
        [("CO2", 1, 1.0), ("CH4", 3, 0.1)],
        {"GWP": {"CO2": 1.0}},
        activities=pd.DataFrame({"id": pd.Series(ids, dtype=object)}),
        flows=pd.DataFrame({"id": pd.Series(["CH4", "CO2"], dtype=object)}),
        categories=pd.DataFrame({"id": pd.Series(["GWP"], dtype=object), "name": ["GWP"]}),
    )
    for table in ("activities", "flows", "categories"):
        got, want = getattr(lazy, table), getattr(eager, table)
        assert got.columns.tolist() == want.columns.tolist(), table
        for column in want.columns:
            assert got[column].tolist() == want[column].tolist(), (table, column)
        assert got["id"].dtype == object
    assert lazy.activities["product_id"].dtype == object
    assert np.allclose(lazy.A.toarray(), eager.A.toarray())


def test_tables_given_as_columns_are_checked() -> None:
    bio = [("CO2", 1, 1.0), ("CH4", 3, 0.1)]
    with pytest.raises(ShapeMismatchError, match="'CH4'"):
        build_system(TRIPLETS, bio, flows={"id": ["CO2"]})
    with pytest.raises(ShapeMismatchError, match="duplicate ids in the flow table: 'CO2'"):
        build_system(TRIPLETS, bio, flows={"id": ["CO2", "CH4", "CO2"]})
    with pytest.raises(ShapeMismatchError, match="needs an 'id' column"):
        build_system(TRIPLETS, activities={"name": ["a", "b", "c"]})
    system = build_system(TRIPLETS, activities={"id": [3, 1, 2], "name": ["c", "a", "b"]})
    assert system.column("activities", "name") == ["c", "a", "b"]
    assert system.activities["product"].tolist() == ["c", "a", "b"]
    assert system.activity_index[3] == 0


def test_unequal_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        TableSource({"id": [1, 2], "name": ["a"]})
