"""Brightway projects read directly, and brightway's name mappings for bare datapackages.

A bw2data project keeps each database as a SQLite table of nodes (activities, products,
elementary flows) and, beside it, the *processed* datapackage that bw2calc solves: the
technosphere and biosphere matrices addressed by node ids. :func:`read_project` reads those
datapackages with :mod:`lcasolve.io.datapackage` (so the system is the one bw2calc builds, with
its duplicate rules and stats_arrays uncertainty), adds the datapackages of the project's
methods as impact categories, and fills the activity and flow tables from the node table:
names, units, locations, reference products, compartments, database and code.

``lcasolve.load("bw://PROJECT/DATABASE")`` does the same (:func:`parse_url` splits the
address; ``%2F`` spells a slash inside a name). The project is looked up in bw2data's data
directory (``BRIGHTWAY2_DIR`` or bw2data's default); bw2data's current project is switched for
the read and switched back afterwards. A database whose processed datapackage is stale
(bw2data's ``dirty`` flag) is processed first, as bw2data does before a calculation.

A datapackage exported without its project keeps only integer ids. Brightway's mapping file
(a JSON list of ``[name, id]`` pairs, e.g. ``bw2io_example_db_mapping.json``) names them:
:func:`read_mapping` reads one and :func:`apply_names` puts the names into a system's
activity, product and flow columns. The datapackage reader picks up ``X_mapping.json`` beside
``X.zip`` by itself, or takes ``mapping=PATH``.

bw2data is an optional dependency: ``pip install 'lcasolve[brightway]'``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from lcasolve.errors import DataFileError, InputError, MissingExtraError
from lcasolve.model import System

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SCHEME",
    "apply_names",
    "is_url",
    "parse_url",
    "read",
    "read_mapping",
    "read_project",
    "sniff",
]

#: ids of a name mapping (Mapping is invariant in its key: a dict[int, str] must fit)
_Id = TypeVar("_Id", bound=Hashable)

#: the address prefix of a brightway project database in :func:`lcasolve.load`
SCHEME = "bw://"

#: SQLite's default limit on bound parameters is 999 in old builds: look nodes up in chunks
_CHUNK = 900


def is_url(path: object) -> bool:
    """True for a ``bw://PROJECT/DATABASE`` address (a string, not a path object)."""
    return isinstance(path, str) and path.startswith(SCHEME)


def sniff(path: Path) -> bool:
    """False for every file or folder: a brightway project is addressed as ``bw://PROJECT/DB``.

    :func:`lcasolve.load` sends such addresses here before it looks at files.
    """
    return False


def parse_url(url: str) -> tuple[str, str]:
    """Split ``bw://PROJECT/DATABASE`` into project and database names.

    The database is the part after the last ``/``; ``%2F`` (and other percent escapes) spell
    characters that would otherwise end a name.

    Raises
    ------
    InputError
        If the address is not of that form.
    """
    if not is_url(url):
        raise InputError(f"{url!r} is not a brightway address ({SCHEME}PROJECT/DATABASE)")
    rest = url[len(SCHEME) :]
    project, sep, database = rest.rpartition("/")
    if not sep or not project or not database:
        raise InputError(
            f"{url!r}: a brightway address names a project and a database: {SCHEME}PROJECT/DATABASE"
        )
    return unquote(project), unquote(database)


def _bw2data() -> Any:
    try:
        import bw2data
    except ImportError:
        raise MissingExtraError("bw2data", "brightway", "reading brightway projects") from None
    return bw2data


def read(
    paths: Sequence[str | os.PathLike[str]],
    *,
    methods: Sequence[Sequence[str]] | None = None,
    dependencies: bool = True,
    **_options: Any,
) -> System:
    """Read one ``bw://PROJECT/DATABASE`` address (the :func:`lcasolve.load` entry point).

    Parameters
    ----------
    paths : sequence of str
        Exactly one brightway address.
    methods, dependencies
        See :func:`read_project`.
    **_options
        Linking options of other readers; a brightway database is already linked.

    Returns
    -------
    System
    """
    if len(paths) != 1:
        raise InputError(
            f"one brightway address at a time, got {len(paths)}: "
            f"{', '.join(map(str, paths))} (a database's dependencies are read with it)"
        )
    project, database = parse_url(str(paths[0]))
    return read_project(project, database, methods=methods, dependencies=dependencies)


def read_project(
    project: str,
    database: str,
    *,
    methods: Sequence[Sequence[str]] | None = None,
    dependencies: bool = True,
) -> System:
    """Read a database of a brightway (bw2data) project into a :class:`System`.

    Parameters
    ----------
    project : str
        The bw2data project.
    database : str
        The database whose activities form the technosphere.
    methods : sequence of method tuples, optional
        The impact categories, e.g. ``[("IPCC", "simple")]``; default: every method of the
        project. Each category is named by its method tuple joined by ``" | "``.
    dependencies : bool
        Also read the databases it links to (its background and biosphere databases), as
        bw2calc does; ``False`` reads the one database (inputs from others are then absent).

    Returns
    -------
    System
        Activity ids, product ids and flow ids are bw2data node ids (``int``); the tables carry
        ``name``, ``unit``, ``location``, ``product`` (the reference product), ``database``,
        ``code`` and ``type``, flows also ``compartment`` (their ``categories`` joined by
        ``/``) and ``cas``. ``metadata`` has ``project``, ``database``, ``databases`` and
        ``methods``.

    Raises
    ------
    MissingExtraError
        Without bw2data (``pip install 'lcasolve[brightway]'``).
    DataFileError
        If the project, the database or a method is not there.
    """
    bd = _bw2data()
    base = getattr(bd.projects, "_base_data_dir", "")
    known = sorted(p.name for p in bd.projects)
    if project not in known:
        raise DataFileError(
            f"brightway project {project!r} not found in {base}; projects there: "
            f"{', '.join(known) or 'none'}"
        )
    previous = bd.projects.current
    bd.projects.set_current(project, update=False)
    try:
        return _read_current(bd, project, database, methods, dependencies)
    finally:
        if previous != project:
            bd.projects.set_current(previous, update=False)


def _read_current(
    bd: Any,
    project: str,
    database: str,
    methods: Sequence[Sequence[str]] | None,
    dependencies: bool,
) -> System:
    from lcasolve.io import datapackage

    if database not in bd.databases:
        raise DataFileError(
            f"brightway project {project!r} has no database {database!r}; databases: "
            f"{', '.join(sorted(bd.databases)) or 'none'}"
        )
    names = (
        sorted(bd.Database(database).find_graph_dependents() | {database})
        if dependencies
        else [database]
    )
    files: list[Path] = []
    for name in names:
        if name not in bd.databases:
            raise DataFileError(
                f"brightway project {project!r}: database {database!r} depends on {name!r}, "
                f"which is not in the project"
            )
        db = bd.Database(name)
        path = Path(db.filepath_processed())
        if bd.databases[name].get("dirty") or not path.exists():
            db.process()
        files.append(path)
    chosen = [tuple(m) for m in bd.methods] if methods is None else [tuple(m) for m in methods]
    for m in chosen:
        if m not in bd.methods:
            raise DataFileError(f"brightway project {project!r} has no method {m!r}")
        files.append(Path(bd.Method(m).filepath_processed()))
    labels = [" | ".join(map(str, m)) for m in chosen]
    system = datapackage.read(files, category_names=labels)
    nodes = _nodes(bd, _ids(system))
    activities = _activity_table(system.activities, nodes)
    flows = _flow_table(system.flows, nodes)
    categories = system.categories.copy()
    categories["unit"] = [str(bd.methods[m].get("unit", "") or "") for m in chosen]
    meta = {
        **dict(system.metadata),
        "format": "brightway",
        "project": project,
        "database": database,
        "databases": names,
        "methods": [list(m) for m in chosen],
    }
    pedigree = _pedigree(names, system)
    if pedigree["matrix"]:
        meta["pedigree"] = pedigree
    return replace(system, activities=activities, flows=flows, categories=categories, metadata=meta)


#: bw2data's pedigree keys (as bw2io writes them from EcoSpold2), in lcasolve's order
_PEDIGREE_KEYS = (
    "reliability",
    "completeness",
    "temporal correlation",
    "geographical correlation",
    "further technological correlation",
)


def _pedigree(databases: Sequence[str], system: System) -> dict[str, list[Any]]:
    """``metadata["pedigree"]`` rows of the exchanges whose data hold a ``pedigree`` dict.

    Biosphere exchanges enter as ``(flow id, activity id, amount)``, technosphere inputs as
    ``(product id, activity id, -amount)``, production and substitution with ``+amount``; node
    ids are bw2data's, as in the system's tables.
    """
    from bw2data.backends import ActivityDataset as AD  # noqa: N817
    from bw2data.backends import ExchangeDataset as ED  # noqa: N817

    from lcasolve.io.distributions import pedigree_or_none

    out: dict[str, list[Any]] = {"matrix": [], "row": [], "col": [], "value": [], "scores": []}
    node: dict[tuple[str, str], int] = {
        (row.database, row.code): int(row.id) for row in AD.select(AD.id, AD.database, AD.code)
    }
    flows, acts = system.flow_index, system.activity_index
    for ex in ED.select().where(ED.output_database << list(databases)):
        data = ex.data or {}
        ped = data.get("pedigree")
        if not isinstance(ped, Mapping):
            continue
        scores = pedigree_or_none([ped.get(k, "") for k in _PEDIGREE_KEYS])
        col = node.get((ex.output_database, ex.output_code))
        row = node.get((ex.input_database, ex.input_code))
        if scores is None or col is None or row is None or col not in acts:
            continue
        amount = float(data.get("amount", 0.0))
        if ex.type == "biosphere" and row in flows:
            matrix, value = "biosphere", amount
        elif ex.type in ("technosphere", "production", "substitution"):
            matrix, value = "technosphere", -amount if ex.type == "technosphere" else amount
        else:
            continue
        out["matrix"].append(matrix)
        out["row"].append(row)
        out["col"].append(col)
        out["value"].append(value)
        out["scores"].append(list(scores))
    return out


def _ids(system: System) -> list[int]:
    table = system.activities
    ids = {*table["id"].tolist(), *table["product_id"].tolist(), *system.flows["id"].tolist()}
    return sorted(int(i) for i in ids)


def _nodes(bd: Any, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Node id -> its fields (the node's data dict, with name, location, database, code)."""
    from bw2data.backends import ActivityDataset as AD  # noqa: N817

    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        for row in AD.select().where(AD.id << chunk):
            data = dict(row.data or {})
            data.update(
                name=row.name or data.get("name", ""),
                location=row.location or data.get("location", ""),
                database=row.database,
                code=row.code,
                type=row.type or data.get("type", ""),
            )
            out[int(row.id)] = data
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "/".join(str(v) for v in value)
    return str(value)


def _activity_table(table: pd.DataFrame, nodes: Mapping[int, Mapping[str, Any]]) -> pd.DataFrame:
    out = table.copy()
    rows = [nodes.get(int(i), {}) for i in out["id"]]
    products = [nodes.get(int(i), {}) for i in out["product_id"]]
    out["name"] = [_text(r.get("name")) or str(i) for r, i in zip(rows, out["id"], strict=True)]
    # the reference product: a product node of its own, else the activity's field
    out["product"] = [
        _text(p.get("name"))
        if p is not r and p.get("type") == "product"
        else _text(r.get("reference product")) or _text(r.get("name"))
        for r, p in zip(rows, products, strict=True)
    ]
    out["unit"] = [
        _text(p.get("unit") or r.get("unit")) for r, p in zip(rows, products, strict=True)
    ]
    out["location"] = [_text(r.get("location")) for r in rows]
    for col in ("database", "code", "type"):
        out[col] = [_text(r.get(col)) for r in rows]
    return out


def _flow_table(table: pd.DataFrame, nodes: Mapping[int, Mapping[str, Any]]) -> pd.DataFrame:
    out = table.copy()
    rows = [nodes.get(int(i), {}) for i in out["id"]]
    out["name"] = [_text(r.get("name")) or str(i) for r, i in zip(rows, out["id"], strict=True)]
    out["compartment"] = [_text(r.get("categories")) for r in rows]
    out["unit"] = [_text(r.get("unit")) for r in rows]
    out["cas"] = [_text(r.get("CAS number")) for r in rows]
    for col in ("database", "code", "type"):
        out[col] = [_text(r.get(col)) for r in rows]
    return out


def read_mapping(path: str | os.PathLike[str]) -> dict[int, str]:
    """Node id -> name from a brightway mapping file (a JSON list of ``[name, id]`` pairs).

    A JSON object ``{id: name}`` is read as well.

    Raises
    ------
    DataFileError
        If the file is missing, not JSON, or not of either shape (the message names it).
    """
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(f"{p}: no such mapping file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(f"{p}: not a readable JSON mapping ({exc})") from None
    pairs: Iterable[Any] = raw.items() if isinstance(raw, dict) else raw
    if not isinstance(raw, (dict, list)):
        raise DataFileError(
            f"{p}: a mapping is a list of [name, id] pairs or an {{id: name}} object"
        )
    out: dict[int, str] = {}
    for k, item in enumerate(pairs):
        if isinstance(raw, dict):
            key, name = item
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            name, key = item
        else:
            raise DataFileError(f"{p}: entry {k} ({item!r}) is not a [name, id] pair")
        try:
            node = int(key)
        except (TypeError, ValueError):
            raise DataFileError(f"{p}: entry {k} ({item!r}) has no integer id") from None
        out[node] = str(name)
    return out


def apply_names(system: System, names: Mapping[_Id, str], *, source: str = "") -> System:
    """A copy of ``system`` whose activities, products and flows are named from ``names``.

    Ids not in ``names`` keep their current name; ``metadata["names"]`` records the source and
    how many activities and flows stayed unnamed.

    Parameters
    ----------
    system : System
    names : mapping
        Id -> name (integer and string spellings of the same id both match).
    source : str
        Where the names came from (a file), for the metadata.
    """
    lookup = {str(k): v for k, v in names.items()}

    def named(ids: pd.Series, current: pd.Series) -> tuple[list[str], int]:
        got = [lookup.get(str(i)) for i in ids]
        return [g if g is not None else str(c) for g, c in zip(got, current, strict=True)], sum(
            g is None for g in got
        )

    activities = system.activities.copy()
    activities["name"], act_missing = named(activities["id"], activities["name"])
    activities["product"], _ = named(activities["product_id"], activities["product"])
    flows = system.flows.copy()
    flows["name"], flow_missing = named(flows["id"], flows["name"])
    meta = {
        **dict(system.metadata),
        "names": {
            "source": source,
            "unnamed activities": act_missing,
            "unnamed flows": flow_missing,
        },
    }
    return replace(system, activities=activities, flows=flows, metadata=meta)
