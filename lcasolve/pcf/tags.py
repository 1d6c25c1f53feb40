"""Life-cycle stage and scope tags of activities: table columns, id tables or name rules."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from lcasolve.errors import DataFileError, InputError
from lcasolve.model import System

__all__ = ["UNTAGGED", "read_tag_table", "resolve_tags", "upstream_values"]

#: label of activities that no tag source covers
UNTAGGED = "(untagged)"


def read_tag_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV mapping activities to tags.

    The table has a column ``id`` (activity id) or ``pattern`` (a shell-style pattern matched
    against activity names, case-insensitive; first matching row wins) and one column per tag
    (e.g. ``stage``, ``scope``).

    Raises
    ------
    DataFileError
        If the file cannot be read or has neither ``id`` nor ``pattern`` column.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{path}: cannot read tag table: {exc}") from None
    if "id" not in table.columns and "pattern" not in table.columns:
        raise DataFileError(f"{path}: a tag table needs an 'id' or a 'pattern' column")
    if len([c for c in table.columns if c not in ("id", "pattern")]) == 0:
        raise DataFileError(f"{path}: a tag table needs at least one tag column (e.g. stage)")
    table.attrs["source"] = str(path)
    return table


def resolve_tags(
    system: System,
    tag: str,
    table: pd.DataFrame | Mapping[object, str] | None = None,
) -> np.ndarray:
    """Tag of every activity, as an object array of strings.

    Precedence: an explicit row of ``table`` for the activity id, then the first ``pattern`` row
    matching its name, then the column ``tag`` of ``system.activities``; else ``"(untagged)"``.

    Parameters
    ----------
    system : System
    tag : str
        Tag name, e.g. ``"stage"`` or ``"scope"``.
    table : DataFrame or mapping, optional
        A tag table (see :func:`read_tag_table`) or ``{activity id: tag}``.

    Raises
    ------
    InputError
        If the table names activities that are not in the system, or no source has the tag.
    """
    acts = system.activities
    n = len(acts)
    out = np.full(n, UNTAGGED, dtype=object)
    have = np.zeros(n, dtype=bool)
    if tag in acts.columns:
        col = acts[tag]
        for j, v in enumerate(col.tolist()):
            if v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v) != "":
                out[j] = _label(v)
                have[j] = True
    found_source = tag in acts.columns
    if table is None:
        if not found_source:
            raise InputError(
                f"no {tag!r} tags: the activity table has no {tag!r} column and no tag table "
                "was given"
            )
        return out
    frame: pd.DataFrame = (
        pd.DataFrame({"id": list(table.keys()), tag: list(table.values())})
        if isinstance(table, Mapping)
        else table
    )
    if tag not in frame.columns:
        if not found_source:
            source = frame.attrs.get("source", "tag table")
            raise InputError(f"{source}: no {tag!r} column and none in the activity table")
        return out
    source = frame.attrs.get("source", "tag table")
    ids = [str(x) for x in acts["id"].tolist()]
    names = [str(x).lower() for x in acts["name"].tolist()]
    position = {i: j for j, i in enumerate(ids)}
    assigned = np.zeros(n, dtype=bool)
    if "pattern" in frame.columns:
        rules = [
            (str(p).lower(), v)
            for p, v, i in zip(
                frame["pattern"],
                frame[tag],
                frame["id"] if "id" in frame.columns else [""] * len(frame),
                strict=True,
            )
            if str(p) not in ("", "nan") and str(i) in ("", "nan")
        ]
        for j, name in enumerate(names):
            for pattern, value in rules:
                if fnmatch.fnmatchcase(name, pattern) and str(value) not in ("", "nan"):
                    out[j] = _label(value)
                    assigned[j] = True
                    break
    if "id" in frame.columns:
        unknown = []
        for i, value in zip(frame["id"], frame[tag], strict=True):
            key = str(i)
            if key in ("", "nan"):
                continue
            if key not in position:
                unknown.append(key)
                continue
            if str(value) not in ("", "nan"):
                out[position[key]] = _label(value)
                assigned[position[key]] = True
        if unknown:
            raise InputError(
                f"{source}: activities not in the system: {', '.join(unknown[:10])}"
                + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
            )
    return out


def upstream_values(
    system: System,
    labels: np.ndarray,
    supply: np.ndarray,
    f: np.ndarray,
    lam: np.ndarray,
    cb: np.ndarray,
) -> np.ndarray:
    """Per-activity contributions with the untagged background moved to the tagged activities.

    A background (untagged) input counts in the tag of the tagged exchange that pulls it in:
    with ``U`` the untagged activities and ``λᵁ`` their scores per unit within the background
    (``A_UUᵀ λᵁ = (cᵀB)_U``), a tagged activity ``t`` gets
    ``(cᵀB)_t s_t + Σ_{i∈U} (−A[i, t] s_t) λᵁ_i`` and an untagged one keeps only what the
    functional unit demands of it directly, ``f_i λᵁ_i``. Because
    ``s_U = A_UU⁻¹ (f_U − A_UT s_T)``, the values add up to the total exactly.

    Parameters
    ----------
    system : System
    labels : numpy.ndarray
        Tag of every activity (:data:`UNTAGGED` for the background).
    supply, f : numpy.ndarray
        Supply ``s`` and final demand of the functional unit.
    lam : numpy.ndarray
        Scores per unit of every product in the whole system (``Aᵀ λ = (cᵀB)ᵀ``); used as
        ``λᵁ`` when no untagged activity consumes a tagged product (then they are equal),
        else the background block is factorized and solved on its own.
    cb : numpy.ndarray
        Direct score per unit of every activity, ``(cᵀB)_j``.

    Returns
    -------
    numpy.ndarray
        Per-activity values; they sum to ``cᵀB s``.
    """
    untagged = np.asarray(labels == UNTAGGED, dtype=bool)
    if not untagged.any() or untagged.all():
        return cb * supply
    A = system.A.tocsc()  # noqa: N806
    u = np.flatnonzero(untagged)
    t = np.flatnonzero(~untagged)
    lam_u = np.zeros(len(labels))
    if A[t][:, u].count_nonzero() == 0:
        lam_u[u] = lam[u]
    else:  # the background consumes tagged products: solve the background block alone
        from lcasolve.solve import factorize

        block = A[u][:, u].tocsc()
        lam_u[u] = factorize(block).solve(cb[u], transposed=True).x
    pulled = -(A.T @ lam_u)  # Σ_{i∈U} (−A[i, j]) λᵁ_i for every column j
    out = np.zeros(len(labels))
    out[t] = (cb[t] + pulled[t]) * supply[t]
    out[u] = f[u] * lam_u[u]
    return out


def _label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
