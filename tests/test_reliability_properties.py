"""Issue 17: random hostile mutations of the shipped fixtures never give a traceback or a
non-finite number — either a specific :class:`~lcasolve.errors.LcasolveError` or finite scores.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lcasolve
from lcasolve.errors import LcasolveError
from lcasolve.examples import example_path, load_example
from lcasolve.io.jsonld_write import _uid, write_jsonld

HOSTILE = st.sampled_from(
    [None, True, False, "false", "true", "abc", "", "1e308", -1, -1.0, 0, 0.0, 1e308, -1e308,
     1e-320, 5e-324, 1e300, [], {}, [1, 2], {"@id": 3}, "NaN", 2**70, "\x1b[31m"]
)  # fmt: skip
CELL = st.sampled_from(
    ["", "abc", "nan", "inf", "-inf", "1e308", "-1e308", "1e-320", "-1", "0", "1e400",
     "\x1b[2J", '"', "cement", "clinker", "lognormal", "normal", "triangular", "uniform"]
)  # fmt: skip


def finite_or_specific_error(load):
    try:
        system = load()
        result = lcasolve.LCA(system).calculate({DEMAND[0]: 1.0})
        scores = result.scores.to_numpy()
    except LcasolveError:
        return
    OUTCOMES.append(float(scores[0]))
    assert np.isfinite(scores).all()
    assert math.isfinite(result.residual)


DEMAND = ["cement"]
OUTCOMES: list[float] = []  # scores of the mutations that loaded (some must, or nothing is tested)


class _Docs(dict):
    """Parsed documents with a short repr (hypothesis prints the arguments of a failure)."""

    def __repr__(self) -> str:
        return f"<{len(self)} documents>"


@pytest.fixture(scope="module")
def cement_members(tmp_path_factory):
    system, _ = load_example()
    path = write_jsonld(system, tmp_path_factory.mktemp("prop") / "cement.zip")
    with zipfile.ZipFile(path) as z:
        return _Docs({n: json.loads(z.read(n)) for n in z.namelist()})


def _paths(obj, prefix=()):
    """Every (container, key) position in a parsed JSON document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield obj, k
            yield from _paths(v)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield obj, i
            yield from _paths(v)


@settings(
    max_examples=int(os.environ.get("LCASOLVE_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.booleans(), HOSTILE),
                min_size=1, max_size=3))  # fmt: skip
def test_json_ld_mutations(cement_members, tmp_path, edits):
    members = json.loads(json.dumps(cement_members))
    names = sorted(n for n in members if "/" in n)
    for which, where, delete, value in edits:
        name = names[which % len(names)]
        spots = list(_paths(members[name]))
        container, key = spots[where % len(spots)]
        if delete and isinstance(container, dict):
            del container[key]
        else:
            container[key] = json.loads(json.dumps(value))  # a fresh copy
    path = tmp_path / "mutated.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, doc in members.items():
            z.writestr(name, json.dumps(doc))
    DEMAND[0] = _uid("process", "cement")
    try:
        finite_or_specific_error(lambda: lcasolve.methods.with_methods(lcasolve.load(path), None))
    finally:
        DEMAND[0] = "cement"


@pytest.fixture(scope="module")
def cement_tables():
    folder = example_path("cement")
    return _Docs({f.name: f.read_text() for f in folder.glob("*.csv")})


@settings(
    max_examples=int(os.environ.get("LCASOLVE_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 99), CELL),
                min_size=1, max_size=3))  # fmt: skip
def test_table_mutations(cement_tables, tmp_path, edits):
    tables = {name: list(csv.reader(io.StringIO(text))) for name, text in cement_tables.items()}
    names = sorted(tables)
    for which, row, col, value in edits:
        rows = tables[names[which % len(names)]]
        cells = rows[row % len(rows)]
        cells[col % len(cells)] = value
    folder = tmp_path / "mutated"
    folder.mkdir(exist_ok=True)
    for name, rows in tables.items():
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        (folder / name).write_text(buf.getvalue())
    finite_or_specific_error(lambda: lcasolve.methods.with_methods(lcasolve.load(folder), None))


def test_some_mutations_load():
    """Guard for the two property tests above: not every mutation may end in an error."""
    assert OUTCOMES, "no mutated fixture loaded: the property tests test nothing"
