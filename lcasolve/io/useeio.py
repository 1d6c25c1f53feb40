"""USEEIO input-output models (USEPA ``useeio-widgets`` JSON API files) as a System.

A model folder holds ``sectors.json``, ``flows.json``, ``indicators.json``, ``demands/<id>.json``
and ``matrix/{A,B,C,D,L,U}.json`` (each optionally gzip-compressed, ``.json.gz``). Matrices are
dense JSON arrays of rows. The System has ``technosphere = I − A`` (one activity per sector, ids =
the lower-case sector code before the first ``/``; inputs stored with ``flip=True``), ``biosphere
= B`` and ``characterization = C``. When ``flows.json``/``indicators.json`` do not describe the
rows of ``B``/``C`` (USEEIOv2.0-GHG), rows are named ``flow <i>``/``indicator <i>``.

Not in the format registry: call :func:`read` directly.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import DataFileError, UnknownDemandError
from lcasolve.model import System
from lcasolve.model.entries import Entries

__all__ = ["read", "read_demand", "read_json", "read_matrix", "sector_code"]


def read_json(folder: str | os.PathLike[str], name: str) -> Any:
    """Parse ``<folder>/<name>.json`` or ``<folder>/<name>.json.gz``.

    Raises
    ------
    DataFileError
        If neither file exists or the JSON is corrupt (naming the file).
    """
    folder = Path(folder)
    for path in (folder / f"{name}.json", folder / f"{name}.json.gz"):
        if path.is_file():
            try:
                opener = gzip.open if path.suffix == ".gz" else open
                with opener(path, "rt", encoding="utf-8") as fh:
                    return json.load(fh)
            except (OSError, EOFError, ValueError) as exc:
                raise DataFileError(f"{path}: corrupt JSON ({exc})") from None
    raise DataFileError(f"{folder / name}.json(.gz): no such file")


def read_records(folder: str | os.PathLike[str], name: str, keys: tuple[str, ...]) -> list[Any]:
    """``<folder>/<name>.json(.gz)`` as a list of objects that have ``keys``, sorted by ``index``.

    ``index`` (when among ``keys``) must be an integer; the other keys may hold any scalar.

    Raises
    ------
    DataFileError
        If the JSON is not a list of objects, or one lacks a key (naming the file, the entry
        and the key).
    """
    records = read_json(folder, name)
    where = Path(folder) / f"{name}.json"
    if not isinstance(records, list):
        raise DataFileError(
            f"{where}: must be a list of objects, not a JSON {type(records).__name__}"
        )
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise DataFileError(f"{where}, entry {i}: must be an object, not {rec!r:.60}")
        for key in keys:
            value = rec.get(key)
            if value is None or isinstance(value, (dict, list)):
                raise DataFileError(f"{where}, entry {i}: no usable {key!r} ({value!r:.60})")
        if "index" in keys and (
            isinstance(rec["index"], bool) or not isinstance(rec["index"], int)
        ):
            raise DataFileError(
                f"{where}, entry {i}: 'index' must be an integer, not {rec['index']!r:.60}"
            )
    if "index" in keys:
        records = sorted(records, key=lambda r: r["index"])
    return records


def read_matrix(folder: str | os.PathLike[str], name: str) -> np.ndarray:
    """A dense matrix ``<folder>/matrix/<name>.json(.gz)`` as a float64 array."""
    rows = read_json(Path(folder) / "matrix", name)
    try:
        arr = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataFileError(
            f"{Path(folder) / 'matrix' / name}: not a numeric matrix ({exc})"
        ) from None
    if arr.ndim != 2:
        raise DataFileError(f"{Path(folder) / 'matrix' / name}: not a 2-D matrix")
    return arr


def sector_code(sector_id: str) -> str:
    """The lower-case code before the first ``/`` of a sector id (robust to mis-encoded names)."""
    return str(sector_id).split("/", 1)[0].strip().lower()


def read(folder: str | os.PathLike[str]) -> System:
    """Read one USEEIO model folder into a :class:`~lcasolve.model.System`.

    Parameters
    ----------
    folder : path-like
        The model folder (e.g. ``useeio/USEEIO``).

    Returns
    -------
    System
        Activity and product ids are sector codes; ``metadata["L"]`` is not stored (compute it).
    """
    folder = Path(folder)
    sectors = read_records(folder, "sectors", ("index", "id"))
    a = read_matrix(folder, "A")
    b = read_matrix(folder, "B")
    c = read_matrix(folder, "C")
    n = a.shape[0]
    if a.shape != (n, n) or len(sectors) != n or b.shape[1] != n or c.shape[1] != b.shape[0]:
        raise DataFileError(
            f"{folder}: inconsistent shapes A {a.shape}, B {b.shape}, C {c.shape}, "
            f"{len(sectors)} sectors"
        )
    codes = [sector_code(s["id"]) for s in sectors]
    activities = pd.DataFrame(
        {
            "id": codes,
            "name": [s.get("name", "") for s in sectors],
            "product_id": codes,
            "product": [s.get("name", "") for s in sectors],
            "unit": "USD",
            "location": [s.get("location", "") for s in sectors],
        }
    )
    flows_meta = read_records(folder, "flows", ("index", "id"))
    if len(flows_meta) == b.shape[0]:
        fl = flows_meta
        flows = pd.DataFrame(
            {
                "id": [f["id"] for f in fl],
                "name": [f.get("name", "") for f in fl],
                "compartment": [f"{f.get('category', '')}/{f.get('subCategory', '')}" for f in fl],
                "unit": [f.get("unit", "") for f in fl],
            }
        )
    else:
        ids = [f"flow {i}" for i in range(b.shape[0])]
        flows = pd.DataFrame({"id": ids, "name": ids, "compartment": "", "unit": ""})
    ind_meta = read_records(folder, "indicators", ("index", "id"))
    if len(ind_meta) == c.shape[0]:
        ind = ind_meta
        categories = pd.DataFrame(
            {
                "id": [i.get("code", i["id"]) for i in ind],
                "name": [i.get("name", "") for i in ind],
                "unit": [i.get("unit", "") for i in ind],
            }
        )
    else:
        ids = [f"indicator {i}" for i in range(c.shape[0])]
        categories = pd.DataFrame({"id": ids, "name": ids, "unit": ""})
    tech = np.eye(n) - a
    r, cc = np.nonzero(tech)
    off = r != cc
    technosphere = Entries.create((n, n), r, cc, tech[r, cc], flip=off, name="technosphere")
    br, bc = np.nonzero(b)
    biosphere = Entries.create(b.shape, br, bc, b[br, bc], name="biosphere")
    cr, ccol = np.nonzero(c)
    characterization = Entries.create(c.shape, cr, ccol, c[cr, ccol], name="characterization")
    return System(
        technosphere,
        biosphere,
        characterization,
        activities,
        flows,
        categories,
        {"format": "useeio", "source": str(folder)},
    )


def read_demand(folder: str | os.PathLike[str], name: str) -> dict[str, float]:
    """A demand vector ``demands/<name>.json`` as ``{sector code: amount}``.

    Entries are matched by sector code (see :func:`sector_code`), so sectors whose names are
    spelled differently in ``sectors.json`` still match.

    Raises
    ------
    UnknownDemandError
        If a demand entry names a sector code the model does not have.
    """
    folder = Path(folder)
    known = {sector_code(s["id"]) for s in read_records(folder, "sectors", ("index", "id"))}
    demand: dict[str, float] = {}
    where = folder / "demands" / name
    for i, item in enumerate(read_records(folder / "demands", name, ("sector", "amount"))):
        code = sector_code(item["sector"])
        if code not in known:
            raise UnknownDemandError(f"{where}: sector {item['sector']!r} is not in the model")
        amount = item["amount"]
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise DataFileError(
                f"{where}.json, entry {i}: 'amount' must be a number, not {amount!r:.60}"
            )
        demand[code] = demand.get(code, 0.0) + float(amount)
    return demand
