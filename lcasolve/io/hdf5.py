"""Native lcasolve store: one HDF5 file per :class:`~lcasolve.model.System`.

Layout (format version ``FORMAT_VERSION``, root attribute ``lcasolve_format``):

``/<matrix>/`` for ``technosphere``, ``biosphere``, ``characterization``
    attributes ``shape``; datasets ``row``, ``col``, ``value``, ``flip``, ``uncertainty``
    (stats_arrays records) and the CSC pattern ``indptr``, ``indices``, ``slot`` so that loading
    does not re-sort the entries.
``/tables/<table>/``
    one dataset per column; numeric and boolean columns natively, all other columns as one JSON
    text (strings, ``None``, mixed ids); attributes ``columns`` (order) and ``dtypes``.
``/metadata``
    attribute ``json``: the JSON-serializable metadata entries (including the link report); the
    names of skipped entries in attribute ``skipped``. ``metadata["arrays"]`` (presampled values
    of datapackages) is stored under ``/arrays/<matrix>/{entries,values}``.
``/parameters`` (format 3, written only for a system with a
:class:`~lcasolve.parameters.ParameterSet`)
    attribute ``json``: per parameter its name, scope, description and formula, per formula
    entry its matrix, scope and formula (a formula as ``[text as written, canonical text,
    where]``: the canonical text parses back to the same tree whatever the source's decimal
    mark); datasets ``value``, ``uncertainty`` and ``has_uncertainty`` (one per parameter) and
    ``entry``, ``row``, ``col``, ``factor`` (one per formula entry).

Root attribute ``checksum`` (format 2): BLAKE2b of every dataset and attribute above, by path,
dtype, shape and bytes; loading recomputes it from what it read and refuses an altered or
corrupt store. A dataset whose declared size is far above the bytes the file stores for it is
refused before anything is allocated (a 36 kB file cannot ask for 64 GiB).

Loading does no per-row Python work, so a 20 000-activity database loads in well under a second.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve.errors import DataFileError, InputError
from lcasolve.io._atomic import atomic_path
from lcasolve.io.report import LinkReport
from lcasolve.model import System
from lcasolve.model.entries import UNCERTAINTY_DTYPE, Entries, MatrixPattern

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMAT_VERSION", "read", "sniff", "write"]


def sniff(path: Path) -> bool:
    """The native store: a ``.h5`` or ``.hdf5`` file."""
    return path.suffix.lower() in {".h5", ".hdf5"}


#: version written to the root attribute ``lcasolve_format`` (2: with ``checksum``; 3: with
#: ``/parameters``, written only when the system has parameters, so that a store without them
#: stays readable by lcasolve versions that know format 2)
FORMAT_VERSION = 3
#: the version of a store without parameters
_PLAIN_VERSION = 2
#: datasets declaring at most this many bytes are read whatever the file stores for them
_SMALL = 2**16
#: above :data:`_SMALL`, the largest declared / stored size accepted (compressed datasets of
#: other writers; lcasolve writes its datasets uncompressed, declared == stored)
_RATIO = 200


class _Digest:
    """Checksum of a store: the items written or read, hashed in the order of their paths."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, tuple[int, ...], list[bytes]]] = {}

    def add(self, where: str, value: Any) -> None:
        if isinstance(value, str):
            self.items[where] = ("str", (), [value.encode("utf-8")])
            return
        arr = np.asarray(value)
        if arr.dtype.names:  # field by field: padding bytes between fields are not data
            parts = [np.ascontiguousarray(arr[n]).tobytes() for n in arr.dtype.names]
            self.items[where] = (str(arr.dtype.descr), arr.shape, parts)
        else:
            self.items[where] = (arr.dtype.str, arr.shape, [np.ascontiguousarray(arr).tobytes()])

    def hexdigest(self) -> str:
        h = hashlib.blake2b(digest_size=32)
        for where in sorted(self.items):
            dtype, shape, parts = self.items[where]
            h.update(f"{where}|{dtype}|{shape}|{len(parts)}".encode())
            for part in parts:
                h.update(len(part).to_bytes(8, "little"))
                h.update(part)
        return h.hexdigest()


_MATRICES = ("technosphere", "biosphere", "characterization")
_TABLES = ("activities", "flows", "categories")


def _h5py() -> Any:
    import h5py

    return h5py


def write(system: System, path: str | os.PathLike[str], *, progress: bool | None = False) -> Path:
    """Write ``system`` to an HDF5 file, atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    system : System
        The system to store.
    path : path-like
        Target file (conventionally ``.h5``); its folder must exist.
    progress : bool or None
        A progress bar on stderr over the matrices, tables and metadata written (None: when
        stderr is a terminal, see :mod:`lcasolve._progress`).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    DataFileError
        If the folder does not exist or the file cannot be written.
    InputError
        If a table column, a parameter's scope or a formula cannot be stored (naming it).
    """
    h5py = _h5py()
    path = Path(path)
    if not path.parent.is_dir():
        raise DataFileError(f"{path}: the folder {path.parent} does not exist")
    from lcasolve._progress import progress_bar

    parts = [*_MATRICES, *_TABLES, "metadata", "parameters"]
    bar = progress_bar(progress, len(parts) + 1, f"writing {path.name}", unit="part")
    # built in memory, then written with plain file writes: HDF5 failing a write on a full
    # disk can crash the interpreter while it cleans up; a failed Python write is one error
    buf = io.BytesIO()
    digest = _Digest()
    try:
        with h5py.File(buf, "w") as f:
            params = system.parameters
            f.attrs["lcasolve_format"] = _PLAIN_VERSION if params is None else FORMAT_VERSION
            for name in _MATRICES:
                _write_entries(f.create_group(name), getattr(system, name), digest)
                _step(bar, name)
            tables = f.create_group("tables")
            for name in _TABLES:
                _write_table(tables.create_group(name), getattr(system, name), name, digest)
                _step(bar, name)
            _write_metadata(f, dict(system.metadata), digest)
            _step(bar, "metadata")
            if params is not None:
                _write_parameters(f.create_group("parameters"), params, digest)
            _step(bar, "parameters")
            f.attrs["checksum"] = digest.hexdigest()
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            fh.write(buf.getbuffer())
        _step(bar, "file")
    finally:
        if bar is not None:
            bar.close()
    return path


def _step(bar: Any, part: str) -> None:
    """Advance the write's progress bar past ``part``."""
    if bar is not None:
        bar.set_postfix_str(part, refresh=False)
        bar.update()


def _put(g: Any, key: str, data: Any, digest: _Digest) -> None:
    """``g[key] = data``, recorded in ``digest``."""
    ds = g.create_dataset(key, data=data)
    digest.add(ds.name, data)


def _put_attr(g: Any, key: str, value: Any, digest: _Digest) -> None:
    g.attrs[key] = value
    digest.add(f"{g.name}@{key}", value)


def _write_entries(g: Any, e: Entries, digest: _Digest) -> None:
    _put_attr(g, "shape", np.asarray(e.shape, dtype=np.int64), digest)
    for key in ("row", "col", "value", "flip"):
        _put(g, key, getattr(e, key), digest)
    _put(g, "uncertainty", np.asarray(e.uncertainty, dtype=UNCERTAINTY_DTYPE), digest)
    p = e.pattern
    _put(g, "indptr", p.indptr, digest)
    _put(g, "indices", p.indices, digest)
    _put(g, "slot", p.slot, digest)


def _write_table(g: Any, df: pd.DataFrame, name: str, digest: _Digest) -> None:
    import pandas as pd

    columns = [str(c) for c in df.columns]
    if len(set(columns)) != len(columns):
        raise InputError(f"the {name} table has duplicate column names: {columns}")
    _put_attr(g, "columns", json.dumps(columns), digest)
    dtypes = {}
    for i, col in enumerate(df.columns):
        s = df[col]
        dtypes[str(col)] = str(s.dtype)
        key = f"c{i}"
        if s.dtype.kind in "biuf" and not isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            _put(g, key, s.to_numpy(), digest)
        else:
            values = s.astype(object).where(s.notna(), None).tolist()
            try:
                text = json.dumps(values, default=_json_scalar)
            except (TypeError, ValueError) as exc:
                raise InputError(
                    f"the {name} table column {col!r} holds values that cannot be stored ({exc})"
                ) from None
            _put(g, key, np.frombuffer(text.encode("utf-8"), dtype=np.uint8), digest)
    _put_attr(g, "dtypes", json.dumps(dtypes), digest)


def _json_scalar(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _write_metadata(f: Any, metadata: dict[str, Any], digest: _Digest) -> None:
    keep: dict[str, Any] = {}
    skipped: list[str] = []
    arrays = metadata.pop("arrays", None)
    for key, value in metadata.items():
        try:
            json.dumps(value, default=_json_scalar)
        except (TypeError, ValueError):
            skipped.append(str(key))
            continue
        keep[str(key)] = value
    g = f.create_group("metadata")
    _put_attr(g, "json", json.dumps(keep, default=_json_scalar), digest)
    _put_attr(g, "skipped", json.dumps(skipped), digest)
    if isinstance(arrays, dict):
        ga = f.create_group("arrays")
        for matrix, item in arrays.items():
            sub = ga.create_group(str(matrix))
            _put(sub, "entries", np.asarray(item["entries"], dtype=np.int64), digest)
            _put(sub, "values", np.asarray(item["values"], dtype=np.float64), digest)


def _scope_out(scope: Any, what: str) -> Any:
    """A parameter's scope as JSON: None, a string or integer, a tuple id as a list."""
    if scope is None or (isinstance(scope, (str, int)) and not isinstance(scope, bool)):
        return scope
    if isinstance(scope, tuple) and all(isinstance(v, (str, int)) for v in scope):
        return list(scope)
    raise InputError(
        f"{what}: its scope {scope!r} cannot be stored (not a string, integer or tuple of them)"
    )


def _scope_in(value: Any) -> Any:
    """Inverse of :func:`_scope_out` (a list is a tuple id: lists are not hashable scopes)."""
    return tuple(value) if isinstance(value, list) else value


def _formula_out(formula: Any, what: str) -> list[str]:
    """``[text, canonical text, where]``; the canonical text must parse back to the same tree."""
    from lcasolve.parameters._evaluate import to_text
    from lcasolve.parameters._parser import parse

    canonical = to_text(formula.tree)
    if parse(canonical, ".", formula.where) != formula.tree:
        raise InputError(
            f"{what}: formula {formula.text!r} cannot be stored (its canonical text "
            f"{canonical!r} does not parse back to the same formula)"
        )
    return [formula.text, canonical, formula.where]


def _formula_in(item: list[str]) -> Any:
    from lcasolve.parameters import Formula
    from lcasolve.parameters._parser import parse

    text, canonical, where = item
    return Formula(text, parse(canonical, ".", where), where)


def _write_parameters(g: Any, params: Any, digest: _Digest) -> None:
    """Store a :class:`~lcasolve.parameters.ParameterSet` (see the module docstring)."""
    from lcasolve.parameters import scope_label

    ps, es = params.parameters, params.entries
    records = []
    for p in ps:
        what = f"{scope_label(p.scope)} parameter {p.name!r}"
        formula = None if p.formula is None else _formula_out(p.formula, what)
        records.append(
            {
                "name": p.name,
                "scope": _scope_out(p.scope, what),
                "formula": formula,
                "description": p.description,
            }
        )
    entries = []
    for e in es:
        what = f"the {e.matrix} formula entry {e.formula.where or e.entry!r}"
        entries.append(
            {
                "matrix": e.matrix,
                "scope": _scope_out(e.scope, what),
                "formula": _formula_out(e.formula, what),
            }
        )
    text = json.dumps({"parameters": records, "entries": entries}, default=_json_scalar)
    _put_attr(g, "json", text, digest)
    unc = np.zeros(len(ps), dtype=UNCERTAINTY_DTYPE)
    has = np.zeros(len(ps), dtype=bool)
    for i, p in enumerate(ps):
        if p.uncertainty is not None:
            unc[i], has[i] = p.uncertainty, True
    _put(g, "value", np.asarray([p.value for p in ps], dtype=np.float64), digest)
    _put(g, "uncertainty", unc, digest)
    _put(g, "has_uncertainty", has, digest)
    for key in ("entry", "row", "col"):
        _put(g, key, np.asarray([getattr(e, key) for e in es], dtype=np.int64), digest)
    _put(g, "factor", np.asarray([e.factor for e in es], dtype=np.float64), digest)


def _read_parameters(g: Any, read: _Reader) -> Any:
    """The :class:`~lcasolve.parameters.ParameterSet` written by :func:`_write_parameters`."""
    from lcasolve.parameters import FormulaEntry, Parameter, ParameterSet

    spec = json.loads(read.attr(g, "json"))
    value, unc, has = read(g["value"]), read(g["uncertainty"]), read(g["has_uncertainty"])
    if unc.dtype != UNCERTAINTY_DTYPE:
        unc = unc.astype(UNCERTAINTY_DTYPE)
    records, items = spec["parameters"], spec["entries"]
    if not value.shape == unc.shape == has.shape == (len(records),):
        raise ValueError("parameter arrays differ in length")
    parameters = tuple(
        Parameter(
            r["name"],
            float(value[i]),
            None if r["formula"] is None else _formula_in(r["formula"]),
            _scope_in(r["scope"]),
            unc[i].copy() if has[i] else None,
            r["description"],
        )
        for i, r in enumerate(records)
    )
    columns = {key: read(g[key]) for key in ("entry", "row", "col", "factor")}
    if any(c.shape != (len(items),) for c in columns.values()):
        raise ValueError("formula entry arrays differ in length")
    entries = tuple(
        FormulaEntry(
            item["matrix"],
            int(columns["entry"][i]),
            int(columns["row"][i]),
            int(columns["col"][i]),
            _formula_in(item["formula"]),
            float(columns["factor"][i]),
            _scope_in(item["scope"]),
        )
        for i, item in enumerate(items)
    )
    return ParameterSet(parameters, entries)


def read(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], **options: Any
) -> System:
    """Read a system written by :func:`write`.

    Parameters
    ----------
    paths : path-like or sequence of one path-like
        The ``.h5`` file.
    **options
        Linking options of :func:`lcasolve.load` (accepted and ignored: the store is linked).

    Returns
    -------
    System

    Raises
    ------
    DataFileError
        If the file is missing, not HDF5, not an lcasolve store, of a newer format version, or
        lacks a dataset (the message names the file and the dataset).
    InputError
        If several files are given.
    """
    h5py = _h5py()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if len(paths) != 1:
        raise InputError(f"an lcasolve HDF5 store is one file, got {len(paths)}: {list(paths)}")
    path = Path(paths[0])
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataFileError(f"{path}: not a readable HDF5 file ({exc})") from None
    with f:
        version = f.attrs.get("lcasolve_format")
        if version is None:
            raise DataFileError(f"{path}: not an lcasolve store (no 'lcasolve_format' attribute)")
        if int(version) > FORMAT_VERSION:
            raise DataFileError(
                f"{path}: store format version {int(version)} is newer than this lcasolve "
                f"reads ({FORMAT_VERSION}); upgrade lcasolve"
            )
        stored = f.attrs.get("checksum")
        if int(version) >= 2 and stored is None:
            raise DataFileError(f"{path}: no 'checksum' attribute (altered or truncated store)")
        digest = _Digest()
        reader = _Reader(path, digest)
        where = "/"
        try:
            entries = {}
            for name in _MATRICES:
                where = f"/{name}"
                entries[name] = _read_entries(f[name], reader)
            tables = {}
            for name in _TABLES:
                where = f"/tables/{name}"
                tables[name] = _read_table(f["tables"][name], reader)
            where = "/metadata"
            text = reader.attr(f["metadata"], "json")
            reader.attr(f["metadata"], "skipped")
            metadata = json.loads(text)
            if isinstance(metadata.get("link_report"), list):
                metadata["link_report"] = LinkReport(metadata["link_report"])
            if "arrays" in f:
                where = "/arrays"
                metadata["arrays"] = {
                    m: {"entries": reader(g["entries"]), "values": reader(g["values"])}
                    for m, g in f["arrays"].items()
                }
            parameters = None
            if "parameters" in f:
                where = "/parameters"
                parameters = _read_parameters(f["parameters"], reader)
        except DataFileError:
            raise
        except (KeyError, OSError, ValueError, TypeError) as exc:
            raise DataFileError(f"{path}: corrupt lcasolve store at {where} ({exc})") from None
        if stored is not None and str(stored) != digest.hexdigest():
            raise DataFileError(
                f"{path}: the store was altered or is corrupt (the checksum of its arrays and "
                f"header does not match); write it again with lcasolve convert"
            )
    try:
        return System(
            entries["technosphere"],
            entries["biosphere"],
            entries["characterization"],
            tables["activities"],
            tables["flows"],
            tables["categories"],
            metadata,
            parameters,
        )
    except InputError as exc:
        raise DataFileError(f"{path}: inconsistent lcasolve store ({exc})") from None


class _Reader:
    """Reads datasets and attributes into the checksum, refusing oversized declarations."""

    def __init__(self, path: Path, digest: _Digest) -> None:
        self.path = path
        self.digest = digest

    def __call__(self, ds: Any) -> np.ndarray:
        declared = int(np.prod(ds.shape, dtype=object)) * ds.dtype.itemsize
        stored = int(ds.id.get_storage_size())
        if declared > _SMALL and declared > _RATIO * stored:
            raise DataFileError(
                f"{self.path}: dataset {ds.name} declares shape {ds.shape} ({declared} bytes) "
                f"but the file stores {stored} bytes for it (a forged or truncated store)"
            )
        value = ds[()]
        self.digest.add(ds.name, value)
        return value

    def attr(self, g: Any, key: str) -> Any:
        value = g.attrs[key]
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        self.digest.add(f"{g.name}@{key}", value)
        return value


def _read_entries(g: Any, read: _Reader) -> Entries:
    shape = tuple(int(v) for v in read.attr(g, "shape"))
    row, col = read(g["row"]), read(g["col"])
    value, flip = read(g["value"]), read(g["flip"])
    unc = read(g["uncertainty"])
    if unc.dtype != UNCERTAINTY_DTYPE:
        unc = unc.astype(UNCERTAINTY_DTYPE)
    n = value.shape[0]
    if row.shape != (n,) or col.shape != (n,) or flip.shape != (n,) or unc.shape != (n,):
        raise ValueError("entry arrays differ in length")
    e = Entries.create((shape[0], shape[1]), row, col, value, uncertainty=unc, flip=flip)
    slot = read(g["slot"])
    indptr, indices = read(g["indptr"]), read(g["indices"])
    if slot.shape != (n,) or indptr.shape != (shape[1] + 1,) or indices.shape[0] != indptr[-1]:
        raise ValueError("CSC pattern does not match the entries")
    e.__dict__["pattern"] = MatrixPattern((shape[0], shape[1]), indptr, indices, slot)
    return e


def _read_table(g: Any, read: _Reader) -> pd.DataFrame:
    import pandas as pd

    columns = json.loads(read.attr(g, "columns"))
    dtypes = json.loads(read.attr(g, "dtypes"))
    data = {}
    for i, col in enumerate(columns):
        raw = read(g[f"c{i}"])
        if raw.dtype == np.uint8 and dtypes[col] not in ("uint8",):
            values = json.loads(raw.tobytes().decode("utf-8"))
            s = pd.Series(values, dtype=object)
            with contextlib.suppress(TypeError, ValueError):  # keep object if not restorable
                s = s.astype(dtypes[col])
            data[col] = s
        else:
            data[col] = pd.Series(raw)
    return pd.DataFrame(data, columns=columns)
