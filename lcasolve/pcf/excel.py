"""Excel workbook of a footprint report: one sheet per table (needs the ``excel`` extra)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from lcasolve.errors import MissingExtraError

__all__ = ["report_tables", "write_xlsx"]


def report_tables(report: Any) -> dict[str, pd.DataFrame]:
    """The report's tables by sheet name: footprint breakdowns, then one or more per section.

    A section with a ``to_frames()`` method supplies its own tables; otherwise its
    :meth:`to_dict` is laid out: scalars as a two-column table, lists of records as rows.
    """
    fp = report.footprint
    out: dict[str, pd.DataFrame] = {
        "Summary": pd.DataFrame(
            {
                "item": ["functional unit", "category", "unit", "boundary", "total"],
                "value": [
                    fp.functional_unit_label,
                    fp.category,
                    fp.unit,
                    fp.boundary,
                    float(fp.total),
                ],
            }
        ),
        "By activity": fp.by_activity(None),
        "By flow": fp.by_flow(None),
    }
    for tag in fp.tags:
        df = fp.by_tag(tag).reset_index()
        labels = fp.labels(tag)
        df.insert(1, "label", [labels.get(str(v), str(v)) for v in df[tag]])
        out[f"By {tag}"] = df
    for s in report.sections:
        frames = s.to_frames() if hasattr(s, "to_frames") else _frames(s.title, s.to_dict())
        out.update(frames)
    return {_sheet_name(k): v for k, v in out.items()}


def write_xlsx(report: Any, path: str | Path) -> Path:
    """Write :func:`report_tables` to an ``.xlsx`` workbook, atomically; returns the path."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise MissingExtraError("openpyxl", "excel", "writing Excel workbooks") from None
    from lcasolve.io._atomic import atomic_path

    path = Path(path)
    tables = report_tables(report)
    with atomic_path(path, suffix=".xlsx") as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        for name, df in tables.items():
            df.to_excel(xl, sheet_name=name, index=False)
    return path


def _frames(title: str, value: Any) -> dict[str, pd.DataFrame]:
    """A section's JSON as tables: its scalars, then each list of records under its key."""
    name = title.split(":")[0].split("(")[0].strip()
    if isinstance(value, list):
        return {name: pd.DataFrame([_flat(v) for v in value])}
    out: dict[str, pd.DataFrame] = {}
    if isinstance(value, Mapping):
        scalars = {k: v for k, v in _flat(value).items() if not isinstance(v, list)}
        if scalars:
            out[name] = pd.DataFrame({"item": list(scalars), "value": list(scalars.values())})
        for k, v in _lists(value):
            if v and all(isinstance(x, Mapping) for x in v):
                out[f"{name} {k.replace('_', ' ')}"] = pd.DataFrame([_flat(x) for x in v])
    return out


def _lists(value: Mapping[str, Any], prefix: str = "") -> list[tuple[str, list[Any]]]:
    out = []
    for k, v in value.items():
        if isinstance(v, list):
            out.append((prefix + str(k), v))
        elif isinstance(v, Mapping):
            out += _lists(v, f"{prefix}{k} ")
    return out


def _flat(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings flattened with ``a.b`` keys; lists of scalars joined by ``; ``."""
    out: dict[str, Any] = {}
    for k, v in value.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flat(v, key + "."))
        elif isinstance(v, list) and all(not isinstance(x, (Mapping, list)) for x in v):
            out[key] = "; ".join(str(x) for x in v)
        else:
            out[key] = v
    return out


def _sheet_name(name: str) -> str:
    """An Excel sheet name: at most 31 characters, none of the characters Excel refuses."""
    clean = "".join(c for c in name if c not in "[]:*?/\\")[:31]
    return clean or "Sheet"
