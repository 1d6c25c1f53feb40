"""Brightway ``bw_processing`` datapackages: read (as bw2calc 3.x combines them) and write.

A datapackage is a zip (or folder) of ``datapackage.json`` plus ``.npy`` resources. Resources are
grouped; each group belongs to a matrix named by the resource's ``matrix`` field
(``technosphere_matrix``, ``biosphere_matrix``, ``characterization_matrix``; group names vary, e.g.
``mc-technosphere``) and has ``indices`` (source ids), ``data``, optional ``flip`` (negate:
brightway stores technosphere inputs positive) and optional ``distributions`` (stats_arrays
records; brightway stores their parameters as float32).

Combination rules follow bw2calc 3.x / matrix_utils: duplicates inside a group are summed
(``sum_intra_duplicates``); a later group either adds to (``sum_inter_duplicates``) or replaces
earlier values at the same position. Each package with a characterization matrix is one impact
category; its (flow, geography) entries are restricted to the package's ``global_index`` column.
Products are matched to the activities that produce them, so production need not sit on the
diagonal in id order.

``array`` resources (presampled columns) enter the matrices with their first column; all columns
are kept in ``system.metadata["arrays"]``: ``{matrix: {"entries": entry indices, "values":
(n_entries, n_columns)}}`` for Monte Carlo.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve.errors import DataFileError, InputError
from lcasolve.io._atomic import atomic_path
from lcasolve.io._files import member_names, read_member
from lcasolve.model import UNCERTAINTY_DTYPE, IdEntries, System, build_system
from lcasolve.model.entries import no_uncertainty

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read", "sniff", "write"]


def sniff(path: Path) -> bool:
    """A zip or folder with a ``datapackage.json``."""
    names = member_names(path)
    return names is not None and any(
        n.rstrip("/").split("/")[-1] == "datapackage.json" for n in names
    )


_MATRICES = ("technosphere_matrix", "biosphere_matrix", "characterization_matrix")


@dataclass
class _Group:
    """One resource group of one package, loaded."""

    package: str
    name: str
    matrix: str
    metadata: dict[str, Any]
    indices: np.ndarray
    data: np.ndarray
    flip: np.ndarray | None = None
    distributions: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def npy_array(raw: bytes, where: str) -> np.ndarray:
    """The array of a ``.npy`` file's bytes, read in place (read-only, no copy).

    A header that declares more data than the file holds is refused before anything is
    allocated (``numpy.load`` allocates the declared shape first, so a 128-byte header asking
    for terabytes would exhaust memory), and so are arrays of Python objects.
    """
    buf = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(buf)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran_order, dtype = read_header(buf)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise DataFileError(f"{where} is not a valid numpy array ({exc})") from None
    if dtype.hasobject:
        raise DataFileError(f"{where} holds Python objects; only numeric arrays are read")
    count = int(np.prod(shape, dtype=object))
    declared = count * dtype.itemsize
    available = len(raw) - buf.tell()
    if declared > available:
        raise DataFileError(
            f"{where}: the header declares shape {shape} ({declared} bytes) but the file holds "
            f"{available} bytes of data (truncated, or a forged header)"
        )
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=buf.tell())
    if fortran_order:
        return flat.reshape(shape[::-1]).transpose()
    return flat.reshape(shape)


class _Package:
    """Random access to the files of a datapackage zip or folder, with errors naming them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            return
        try:
            self._zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise DataFileError(f"{path}: no such datapackage file") from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataFileError(f"{path}: not a readable zip datapackage ({exc})") from None

    def read_bytes(self, name: str) -> bytes:
        if not isinstance(name, str) or not name:
            raise DataFileError(f"{self.path}: a resource has no 'path' (got {name!r})")
        inside = self._inside(name)
        try:
            if self._zip is None:
                return inside.read_bytes()
            return read_member(self._zip, self._zip.getinfo(name), f"{self.path}:{name}")
        except KeyError:
            raise DataFileError(f"{self.path}: the resource file {name!r} is missing") from None
        except FileNotFoundError:
            raise DataFileError(f"{self.path}: the resource file {name!r} is missing") from None
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
            raise DataFileError(f"{self.path}: cannot read {name!r} ({exc})") from None

    def _inside(self, name: str) -> Path:
        """The file of resource path ``name``, refused when it points outside the package."""
        parts = Path(name.replace("\\", "/")).parts
        if Path(name).is_absolute() or name.startswith(("/", "\\")) or ".." in parts:
            raise DataFileError(
                f"{self.path}: resource path {name!r} points outside the datapackage (absolute "
                f"or with '..'); refused"
            )
        if self._zip is not None:
            return Path(name)
        target = (self.path / name).resolve()
        if not target.is_relative_to(self.path.resolve()):
            raise DataFileError(
                f"{self.path}: resource path {name!r} leads outside the datapackage (via a "
                f"symbolic link); refused"
            )
        return target

    def metadata(self) -> dict[str, Any]:
        raw = self.read_bytes("datapackage.json")
        try:
            meta = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataFileError(
                f"{self.path}: datapackage.json is not valid JSON ({exc})"
            ) from None
        if not isinstance(meta, dict) or not isinstance(meta.get("resources"), list):
            raise DataFileError(f"{self.path}: datapackage.json has no 'resources' list")
        return meta

    def array(self, resource: dict[str, Any]) -> np.ndarray:
        name = resource.get("path", "")
        try:
            raw = self.read_bytes(name)
            return npy_array(raw, f"{self.path}: resource {resource.get('name', name)!r} ({name})")
        except DataFileError:
            raise
        except (ValueError, OSError, EOFError) as exc:
            raise DataFileError(
                f"{self.path}: resource {resource.get('name', name)!r} ({name}) is not a valid "
                f"numpy array ({exc})"
            ) from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _load_groups(path: Path) -> tuple[list[_Group], dict[str, Any]]:
    pkg = _Package(path)
    try:
        meta = pkg.metadata()
        by_group: dict[tuple[str, str], dict[str, Any]] = {}
        for res in meta["resources"]:
            matrix = res.get("matrix")
            if matrix not in _MATRICES:
                continue
            key = (matrix, str(res.get("group", res.get("name", ""))))
            by_group.setdefault(key, {})[res.get("kind")] = res
        groups = []
        for (matrix, group), kinds in by_group.items():
            label = f"{path}: resource group {group!r} ({matrix})"
            if "indices" not in kinds or "data" not in kinds:
                raise DataFileError(f"{label} lacks its indices or data resource")
            indices = pkg.array(kinds["indices"])
            if (
                indices.ndim != 1
                or indices.dtype.names is None
                or not {"row", "col"} <= set(indices.dtype.names)
                or any(indices.dtype[k].kind not in "iu" for k in ("row", "col"))
            ):
                raise DataFileError(
                    f"{label}: indices must be a 1-D structured array of integer (row, col)"
                )
            data = _numeric(pkg.array(kinds["data"]), label, "data", (1, 2))
            first = {k: v for k, v in kinds["data"].items() if k in ("global_index", "identifier")}
            g = _Group(str(path), group, matrix, {**first}, indices, data)
            if "flip" in kinds:
                g.flip = _numeric(pkg.array(kinds["flip"]), label, "flip", (1,), "biu").astype(bool)
            if "distributions" in kinds:
                g.distributions = pkg.array(kinds["distributions"])
                if g.distributions.ndim != 1 or g.distributions.dtype.names is None:
                    raise DataFileError(
                        f"{label}: distributions must be a 1-D structured array (stats_arrays)"
                    )
            n = indices.shape[0]
            if (
                data.shape[0] != n
                or (g.flip is not None and g.flip.shape[0] != n)
                or (g.distributions is not None and g.distributions.shape[0] != n)
            ):
                raise DataFileError(
                    f"{label}: indices, data, flip and distributions differ in length"
                )
            if not np.isfinite(data).all():
                bad = int(np.flatnonzero(~np.isfinite(data).reshape(n, -1).all(axis=1))[0])
                raise DataFileError(
                    f"{label}: entry ({indices['row'][bad]}, {indices['col'][bad]}) is not finite"
                )
            groups.append(g)
        return groups, meta
    finally:
        pkg.close()


def _numeric(
    array: np.ndarray, label: str, kind: str, ndims: tuple[int, ...], kinds: str = "biuf"
) -> np.ndarray:
    """``array`` as float64 (or as is for flips), refusing text, records and wrong dimensions.

    Raises
    ------
    DataFileError
        If the array is not numeric or has another number of dimensions, naming the group and
        the resource kind.
    """
    if array.dtype.kind not in kinds or array.dtype.names is not None:
        raise DataFileError(f"{label}: the {kind} array holds {array.dtype} values, not numbers")
    if array.ndim not in ndims:
        want = " or ".join(f"{n}-D" for n in ndims)
        raise DataFileError(f"{label}: the {kind} array must be {want}, not of shape {array.shape}")
    return array.astype(np.float64) if kind == "data" else array


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate(parts)``, without a copy of a single part.

    A copy of a packed record array takes 0.1 s for eco20k's biosphere.
    """
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _pairs_in(rows: np.ndarray, cols: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Whether each pair ``(rows[k], cols[k])`` is one of the pairs ``(r, c)`` (vectorized)."""
    if not r.size or not rows.size:
        return np.zeros(rows.shape[0], dtype=bool)
    # ranks of the ids make a key below n_rows * n_cols (no overflow for any id values)
    u_r, inv_r = np.unique(np.concatenate([rows, r]), return_inverse=True)
    u_c, inv_c = np.unique(np.concatenate([cols, c]), return_inverse=True)
    key = inv_r.astype(np.int64) * u_c.shape[0] + inv_c
    return np.isin(key[: rows.shape[0]], key[rows.shape[0] :])


def _combine(groups: list[_Group], sum_inter: list[bool]) -> dict[str, Any]:
    """Concatenate groups of one matrix, dropping earlier entries that later groups replace."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    data: list[np.ndarray] = []
    flips: list[np.ndarray] = []
    dists: list[np.ndarray] = []
    arrays: list[np.ndarray | None] = []
    for g, add in zip(groups, sum_inter, strict=True):
        r = g.indices["row"].astype(np.int64)
        c = g.indices["col"].astype(np.int64)
        if not add and rows:
            for i in range(len(rows)):
                keep = ~_pairs_in(rows[i], cols[i], r, c)
                rows[i], cols[i], data[i] = rows[i][keep], cols[i][keep], data[i][keep]
                flips[i], dists[i] = flips[i][keep], dists[i][keep]
                if arrays[i] is not None:
                    arrays[i] = arrays[i][keep]  # type: ignore[index]
        values = g.data if g.data.ndim == 1 else g.data[:, 0]
        flip = g.flip if g.flip is not None else np.zeros(r.shape[0], dtype=bool)
        if g.distributions is not None:
            dist = np.zeros(r.shape[0], dtype=UNCERTAINTY_DTYPE)
            for name in UNCERTAINTY_DTYPE.names or ():
                if name in (g.distributions.dtype.names or ()):
                    # cast contiguously first: a strided float32 -> float64 cast of NaNs into
                    # the packed record is ~50x slower (70 ms for eco20k's biosphere)
                    field = np.ascontiguousarray(g.distributions[name])
                    dist[name] = field.astype(UNCERTAINTY_DTYPE[name], copy=False)
        else:
            dist = no_uncertainty(values)
        rows.append(r)
        cols.append(c)
        data.append(values)
        flips.append(flip)
        dists.append(dist)
        arrays.append(g.data if g.data.ndim == 2 else None)
    flip_all = _joined(flips)
    values_all = _joined(data)
    out = {
        "row": _joined(rows),
        "col": _joined(cols),
        "value": np.where(flip_all, -values_all, values_all),
        "flip": flip_all,
        "uncertainty": _joined(dists),
    }
    if any(a is not None for a in arrays):
        width = max(a.shape[1] for a in arrays if a is not None)
        columns = []
        for a, d in zip(arrays, data, strict=True):
            if a is None:
                columns.append(np.repeat(d[:, None], width, axis=1))
            else:
                columns.append(np.resize(a, (a.shape[0], width)))
        stacked = np.concatenate(columns)
        out["array"] = np.where(flip_all[:, None], -stacked, stacked)
    return out


def read(
    paths: Sequence[str | os.PathLike[str]],
    *,
    category_names: Sequence[str] | None = None,
    mapping: str | os.PathLike[str] | None = None,
    **_options: Any,
) -> System:
    """Read and combine brightway datapackages into one system.

    Parameters
    ----------
    paths : sequence of path-like
        Datapackage zips or folders, combined in order (e.g. a database and method packages).
    category_names : sequence of str, optional
        Names of the impact categories, one per package with a characterization matrix, in
        order. Default: the group's ``identifier`` (joined by " | "), else the package name.
    mapping : path-like, optional
        Brightway's mapping JSON (``[name, id]`` pairs) naming the activities, products and
        flows (:func:`lcasolve.io.brightway.read_mapping`). Default: ``X_mapping.json`` beside
        each package ``X.zip`` when there is one; without names the tables show the ids.
    **_options
        Linking options of other readers; datapackages are already linked, so they are ignored.

    Returns
    -------
    System

    Raises
    ------
    DataFileError
        A missing, truncated or corrupt package or resource (the message names file and resource).
    """
    by_matrix: dict[str, list[_Group]] = {m: [] for m in _MATRICES}
    inter: dict[str, list[bool]] = {m: [] for m in _MATRICES}
    sources = []
    char_labels: list[str] = []
    for p in paths:
        path = Path(p)
        groups, meta = _load_groups(path)
        sources.append({"path": str(path), "name": meta.get("name"), "id": meta.get("id")})
        add = bool(meta.get("sum_inter_duplicates", False))
        for g in groups:
            g.extra["package_name"] = meta.get("name") or path.stem
            by_matrix[g.matrix].append(g)
            inter[g.matrix].append(add)
    if not by_matrix["technosphere_matrix"]:
        raise DataFileError(
            f"no technosphere matrix in {', '.join(str(p) for p in paths)}: a system needs one"
        )
    tech = _combine(by_matrix["technosphere_matrix"], inter["technosphere_matrix"])
    arrays: dict[str, Any] = {}
    if "array" in tech:
        arrays["technosphere"] = {"entries": np.arange(len(tech["row"])), "values": tech["array"]}
    if by_matrix["biosphere_matrix"]:
        bio = _combine(by_matrix["biosphere_matrix"], inter["biosphere_matrix"])
        if "array" in bio:
            arrays["biosphere"] = {"entries": np.arange(len(bio["row"])), "values": bio["array"]}
    else:
        bio = None

    char_parts = []
    for i, g in enumerate(by_matrix["characterization_matrix"]):
        sel = (
            g.indices["col"] == g.metadata["global_index"]
            if "global_index" in g.metadata
            else (np.ones(g.indices.shape[0], dtype=bool))
        )
        part = _combine([_select(g, sel)], [True])
        ident = g.metadata.get("identifier")
        label = " | ".join(map(str, ident)) if ident else str(g.extra["package_name"] or g.name)
        if category_names is not None:
            if len(category_names) != len(by_matrix["characterization_matrix"]):
                raise InputError(
                    f"{len(category_names)} category names given for "
                    f"{len(by_matrix['characterization_matrix'])} characterization groups"
                )
            label = category_names[i]
        if label in char_labels:
            label = f"{label} ({i + 1})"
        char_labels.append(label)
        char_parts.append(part)

    def ids(a: dict[str, Any], key: str) -> np.ndarray:
        return a[key].astype(np.int64)

    tech_e = IdEntries(
        ids(tech, "row"), ids(tech, "col"), tech["value"], tech["uncertainty"], tech["flip"]
    )
    if bio is not None:
        bio_e = IdEntries(
            ids(bio, "row"), ids(bio, "col"), bio["value"], bio["uncertainty"], bio["flip"]
        )
    else:
        z = np.zeros(0, dtype=np.int64)
        bio_e = IdEntries(z, z, np.zeros(0))
    if char_parts:
        # characterization rows are flow ids (column ids of C); stored in "row" of the package
        char_e = IdEntries(
            np.concatenate(
                [np.full(len(p["row"]), k, dtype=np.int64) for k, p in enumerate(char_parts)]
            ),
            np.concatenate([p["row"] for p in char_parts]),
            np.concatenate([p["value"] for p in char_parts]),
            np.concatenate([p["uncertainty"] for p in char_parts]),
            np.concatenate([p["flip"] for p in char_parts]),
        )
    else:
        z = np.zeros(0, dtype=np.int64)
        char_e = IdEntries(z, z, np.zeros(0))
    categories = {
        "id": list(range(len(char_labels))),
        "name": char_labels,
        "unit": [""] * len(char_labels),
    }
    system = build_system(
        tech_e,
        bio_e,
        char_e,
        categories=categories,
        metadata={"format": "datapackage", "sources": sources},
    )
    if arrays:
        # System.metadata is read-only; rebuild with the arrays attached.
        from dataclasses import replace

        system = replace(system, metadata={**system.metadata, "arrays": arrays})
    return _named(system, [Path(p) for p in paths], mapping)


def _named(system: System, paths: list[Path], mapping: str | os.PathLike[str] | None) -> System:
    """The system with names from the given mapping file or those beside the packages."""
    from lcasolve.io.brightway import apply_names, read_mapping

    files = (
        [Path(mapping)]
        if mapping is not None
        else [
            f
            for p in paths
            if (f := p.with_name(f"{p.stem if p.suffix else p.name}_mapping.json")).is_file()
        ]
    )
    if not files:
        return system
    names: dict[int, str] = {}
    for f in files:
        names.update(read_mapping(f))
    return apply_names(system, names, source=", ".join(map(str, files)))


def _select(g: _Group, mask: np.ndarray) -> _Group:
    return _Group(
        g.package,
        g.name,
        g.matrix,
        g.metadata,
        g.indices[mask],
        g.data[mask],
        None if g.flip is None else g.flip[mask],
        None if g.distributions is None else g.distributions[mask],
        g.extra,
    )


def write(system: System, path: str | os.PathLike[str], *, name: str | None = None) -> Path:
    """Write a system as a bw_processing zip datapackage that bw2calc 3.x reads.

    Technosphere inputs are stored positive with ``flip=True`` (brightway's convention);
    uncertainty is stored as ``distributions``; each category is a characterization group with
    ``global_index`` 0. Activity, product and flow ids must be integers (brightway ids); other
    ids are replaced by their positions (products and activities share ids ``0..n-1``; flows
    ``n..n+m-1``). The file is written to a temporary name and renamed.

    Parameters
    ----------
    system : System
    path : path-like
        Target ``.zip``.
    name : str, optional
        Package name.

    Returns
    -------
    pathlib.Path
    """
    import bw_processing as bwp
    from fsspec.implementations.zip import ZipFileSystem

    target = Path(path)
    n, m = system.n_activities, system.n_flows
    act_ids = _int_ids(system.activities["id"], np.arange(n))
    prod_ids = _int_ids(system.activities["product_id"], act_ids)
    flow_ids = _int_ids(system.flows["id"], np.arange(n, n + m))
    with (
        atomic_path(target, suffix=".zip", exists=False) as tmp,
        _closing(ZipFileSystem(str(tmp), mode="w")) as fs,
    ):
        dp = bwp.create_datapackage(
            fs=fs,
            name=name or target.stem,
            sum_intra_duplicates=True,
            sum_inter_duplicates=False,
        )
        for label, entries, rows, cols in (
            ("technosphere", system.technosphere, prod_ids, act_ids),
            ("biosphere", system.biosphere, flow_ids, act_ids),
        ):
            if not len(entries):
                continue
            idx = np.empty(len(entries), dtype=bwp.INDICES_DTYPE)
            idx["row"] = rows[entries.row]
            idx["col"] = cols[entries.col]
            dp.add_persistent_vector(
                matrix=f"{label}_matrix",
                name=label,
                indices_array=idx,
                data_array=entries.amount,
                flip_array=entries.flip,
                distributions_array=_to_bwp_distributions(entries.uncertainty, bwp),
            )
        char = system.characterization
        for k in range(system.n_categories):
            sel = char.row == k
            idx = np.empty(int(sel.sum()), dtype=bwp.INDICES_DTYPE)
            idx["row"] = flow_ids[char.col[sel]]
            idx["col"] = 0
            dp.add_persistent_vector(
                matrix="characterization_matrix",
                name=f"characterization-{k}",
                indices_array=idx,
                data_array=char.value[sel],
                distributions_array=_to_bwp_distributions(char.uncertainty[sel], bwp),
                global_index=0,
                identifier=[str(system.categories["name"].iloc[k])],
            )
        dp.finalize_serialization()
    return target


@contextlib.contextmanager
def _closing(fs: Any) -> Iterator[Any]:
    """Yield the zip file system; after an error close it once, ignoring a second error.

    A write that failed (a full disk) leaves the zip open; its ``__del__`` would retry the
    close at exit and print "Exception ignored ... OSError" after the one-line error.
    """
    try:
        yield fs
    except BaseException:
        with contextlib.suppress(Exception):
            fs.close()
        with contextlib.suppress(Exception):
            fs.fo.close()  # the local file; its buffered bytes cannot be written anyway
        fs.__dict__.pop("zip", None)  # nothing left for __del__ to retry
        fs.__dict__.pop("of", None)
        raise


def _int_ids(ids: pd.Series, fallback: np.ndarray) -> np.ndarray:
    values = ids.tolist()
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray(fallback, dtype=np.int64)


def _to_bwp_distributions(records: np.ndarray, bwp: Any) -> np.ndarray:
    dtype = np.dtype(bwp.UNCERTAINTY_DTYPE)  # bw_processing gives a list of fields
    out = np.zeros(records.shape[0], dtype=dtype)
    for name in dtype.names or ():
        if name in (records.dtype.names or ()):
            out[name] = records[name]
    return out
