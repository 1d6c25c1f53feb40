"""Find activities by name, product, location or category, and name a demand in words.

:func:`search` ranks every activity of a system against a free-text query (each query word found
in a field counts, and the whole query is compared with the name by :mod:`difflib`, so small typos
still match); :func:`resolve_demand` turns the keys of a demand into activity ids, accepting an
activity id, a product flow id (where the format has one, e.g. the openLCA product flow UUID), a
process id (the source's activity id: an ecoinvent activity id alone where it has one reference
product), ``ACTIVITY_PRODUCT`` (ecoinvent's and brightway's name of a dataset) or an exact
activity or product name when it names one activity, and suggests the closest names for an
unknown key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve.errors import UnknownDemandError

if TYPE_CHECKING:
    import pandas as pd

    from lcasolve.model import System

__all__ = ["FIELDS", "resolve_demand", "search"]

#: the activity columns searched, with their weights (the name counts most)
FIELDS: Mapping[str, float] = {"name": 1.0, "product": 0.9, "location": 0.5, "category": 0.4}

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _word_found(word: str, text: set[str]) -> bool:
    """``word`` is a word of ``text``, the start of one, or one with a typo."""
    if word in text or any(t.startswith(word) for t in text):
        return True
    return len(word) > 3 and bool(difflib.get_close_matches(word, text, n=1, cutoff=0.8))


def _column(system: System, name: str) -> list[str]:
    acts = system.activities
    if name not in acts:
        return [""] * len(acts)
    return [
        "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in acts[name]
    ]


def search(system: System, query: str, *, limit: int | None = 20) -> pd.DataFrame:
    """Activities ranked by how well they match ``query``.

    Parameters
    ----------
    system : System
        The system to search.
    query : str
        Free text, e.g. ``"portland cement"`` or ``"electricity RNA"``.
    limit : int or None, optional
        At most this many rows (all matches when None).

    Returns
    -------
    pandas.DataFrame
        One row per matching activity, best first: ``position`` (column of ``A``), ``id`` (use it
        in a demand), ``name``, ``product``, ``location``, ``category`` (empty where the format has
        none) and ``score`` in (0, 1]. Activities that share no word with the query and are not
        similar to it are left out.
    """
    import pandas as pd

    words = _words(query)
    if not words:
        raise UnknownDemandError("search: the query has no words")
    columns = {f: _column(system, f) for f in FIELDS}
    phrase = " ".join(words)
    total = sum(FIELDS.values())
    scores = np.zeros(system.n_activities)
    for i in range(system.n_activities):
        found = 0.0
        for field, weight in FIELDS.items():
            text = set(_words(columns[field][i]))
            if not text:
                continue
            hits = sum(1 for w in words if _word_found(w, text))
            found += weight * hits / len(words)
        name = " ".join(_words(columns["name"][i]))
        similar = difflib.SequenceMatcher(None, phrase, name[: len(phrase) + 20]).ratio()
        exact = 1.0 if phrase in name else 0.0
        scores[i] = 0.6 * found / total + 0.25 * similar + 0.15 * exact
    keep = [i for i in np.argsort(-scores, kind="stable") if scores[i] > 0.2]
    if limit is not None:
        keep = keep[:limit]
    acts = system.activities
    return pd.DataFrame(
        {
            "position": keep,
            "id": [acts["id"].iloc[i] for i in keep],
            **{f: [columns[f][i] for i in keep] for f in FIELDS},
            "score": [round(float(scores[i]), 4) for i in keep],
        }
    )


def _lookup(system: System) -> dict[str, dict[str, list[Hashable]]]:
    """Product flow ids and exact names -> the activity ids they may mean."""
    acts = system.activities
    ids = acts["id"].tolist()
    out: dict[str, dict[str, list[Hashable]]] = {}
    keyed: list[tuple[str, list[Any]]] = [
        (kind, acts[column].tolist())
        for kind, column in (
            ("product flow", "product_flow"),
            ("process", "process_id"),
            ("name", "name"),
            ("name", "product"),
        )
        if column in acts
    ]
    if "process_id" in acts and "product_flow" in acts:
        # ecoinvent's and brightway's dataset name: activity id, "_", product id
        pairs = zip(acts["process_id"].tolist(), acts["product_flow"].tolist(), strict=True)
        keyed.append(("dataset", [f"{a}_{f}" if a and f else "" for a, f in pairs]))
    if "product_flow" in acts:
        # ... and the activity id of a dataset named that way (ecoinvent's allocated datasets)
        pairs = zip(acts["id"].tolist(), acts["product_flow"].tolist(), strict=True)
        keyed.append(
            (
                "process",
                [
                    i[: -len(f) - 1] if isinstance(i, str) and f and i.endswith(f"_{f}") else ""
                    for i, f in pairs
                ],
            )
        )
    for kind, keys in keyed:
        table = out.setdefault(kind, {})
        for key, pid in zip(keys, ids, strict=True):
            if isinstance(key, str) and key:
                hits = table.setdefault(key, [])
                if pid not in hits:
                    hits.append(pid)
    return out


def resolve_demand(system: System, demand: Mapping[Hashable, float]) -> dict[Hashable, float]:
    """``demand`` with every key an activity id of ``system``.

    A key is taken as it is when it is an activity id; otherwise as a product flow id, then as
    ``PROCESS_PRODUCT`` (process id, ``_``, product flow id), then as a process id, then as an
    exact activity or product name, when it names exactly one activity. Amounts of keys that
    resolve to the same activity add up.

    Raises
    ------
    UnknownDemandError
        A key names no activity (the message suggests the closest names), or several (the
        message lists them).
    """
    known = system.product_index
    table: dict[str, dict[str, list[Hashable]]] | None = None
    out: dict[Hashable, float] = {}
    for key, amount in demand.items():
        if key in known:
            pid = key
        else:
            table = table if table is not None else _lookup(system)
            pid = _one(system, key, table)
        out[pid] = out.get(pid, 0.0) + float(amount)
    return out


def _one(
    system: System, key: Hashable, table: Mapping[str, Mapping[str, list[Hashable]]]
) -> Hashable:
    text = str(key)
    for kind in ("product flow", "dataset", "process", "name"):
        hits = table.get(kind, {}).get(text, [])
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            shown = ", ".join(repr(h) for h in hits[:5])
            raise UnknownDemandError(
                f"demand {text!r}: the {kind} of {len(hits)} activities ({shown}); give one id"
            )
    message = f"demand id {key!r} is not a product of this system"
    found = search(system, text, limit=3) if _words(text) else None
    if found is not None and len(found):
        names = "; ".join(
            f"{n!r} ({loc}) id {i}" if loc else f"{n!r} id {i}"
            for n, loc, i in zip(found["name"], found["location"], found["id"], strict=True)
        )
        message += f"; closest: {names}"
    raise UnknownDemandError(message)
