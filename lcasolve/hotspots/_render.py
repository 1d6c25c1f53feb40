"""Tables, text and HTML of upstream trees (rows depth-first, rest and unlinked rows in place)."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lcasolve.hotspots._grow import VIRTUAL

if TYPE_CHECKING:
    from lcasolve.hotspots.tree import SupplyTree

__all__ = [
    "frame",
    "jsonable",
    "tree_dict",
    "tree_html",
    "tree_table",
    "tree_text",
    "unlinked_frame",
]

COLUMNS = [
    "path",
    "depth",
    "kind",
    "activity_id",
    "name",
    "location",
    "amount",
    "unit",
    "supply",
    "direct",
    "cumulative",
    "rest",
    "share",
    "hidden",
]
#: rows a notebook shows before it says how many more there are
HTML_ROWS = 300


def _meta(tree: SupplyTree, column: str, virtual: str) -> np.ndarray:
    values = tree.basis.system.activities[column].to_numpy(dtype=object)
    act = tree.activity
    out = np.where(act == VIRTUAL, virtual, values[np.where(act == VIRTUAL, 0, act)])
    return out.astype(object)


def subtree_sizes(tree: SupplyTree) -> np.ndarray:
    """Number of nodes in each node's subtree (itself included)."""
    size = np.ones(tree.n_nodes, dtype=np.int64)
    depth = tree.depth
    for d in range(int(depth.max()), 0, -1):
        at = np.flatnonzero(depth == d)
        np.add.at(size, tree.parent[at], size[at])
    return size


def frame(tree: SupplyTree, *, rest: bool = True, unlinked: bool = True) -> pd.DataFrame:
    """Rows of every node depth-first; a node's rest and unlinked rows follow its subtree."""
    k = tree.k
    n = tree.n_nodes
    pos = np.empty(n, dtype=np.int64)
    pos[tree.preorder] = np.arange(n)
    end = pos + subtree_sizes(tree) - 1
    share = tree.share
    nodes = pd.DataFrame(
        {
            "path": tree.paths,
            "depth": tree.depth.astype(np.int64),
            "kind": "activity",
            "activity_id": _meta(tree, "id", ""),
            "name": _meta(tree, "name", "(functional unit)"),
            "location": _meta(tree, "location", ""),
            "amount": tree.amount,
            "unit": _meta(tree, "unit", ""),
            "supply": tree.supply,
            "direct": tree.direct[:, k],
            "cumulative": tree.cumulative[:, k],
            "rest": tree.rest[:, k],
            "share": share,
            "hidden": tree.hidden,
        }
    )
    parts = [nodes]
    keys = [(pos, np.zeros(n), np.zeros(n), np.zeros(n))]
    if unlinked:
        node, _, frame_ = unlinked_rows(tree)
        if node.size:
            parts.append(frame_)
            keys.append((end[node], np.ones(node.size), -tree.depth[node], np.zeros(node.size)))
    if rest:
        show = np.flatnonzero(tree.hidden > 0)
        if show.size:
            why = np.where(tree.expanded[show], "not shown", "not expanded")
            names = [f"(rest: {h} inputs {w})" for h, w in zip(tree.hidden[show], why, strict=True)]
            value = tree.rest[show, k]
            parts.append(
                pd.DataFrame(
                    {
                        "path": [f"{p}/rest" if p else "rest" for p in tree.paths[show]],
                        "depth": tree.depth[show].astype(np.int64) + 1,
                        "kind": "rest",
                        "activity_id": "",
                        "name": names,
                        "location": "",
                        "amount": np.nan,
                        "unit": "",
                        "supply": np.nan,
                        "direct": np.nan,
                        "cumulative": value,
                        "rest": value,
                        "share": tree.totals.share(value),
                        "hidden": tree.hidden[show],
                    }
                )
            )
            keys.append((end[show], np.ones(show.size), -tree.depth[show], np.ones(show.size)))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else nodes
    primary, second, third, fourth = (np.concatenate(x) for x in zip(*keys, strict=True))
    order = np.lexsort((fourth, third, second, primary))
    return out.iloc[order].reset_index(drop=True)[COLUMNS]


def unlinked_rows(tree: SupplyTree) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The cut-off inputs of every node shown as tree rows, their nodes and link-report entries."""
    ul = tree.basis.unlinked
    real = np.flatnonzero(tree.activity != VIRTUAL)
    act = tree.activity[real]
    counts = ul.indptr[act + 1] - ul.indptr[act]
    node = np.repeat(real, counts)
    if not node.size:
        return node, node, pd.DataFrame(columns=COLUMNS)
    starts = np.repeat(ul.indptr[act], counts)
    offset = np.arange(node.size) - np.repeat(np.cumsum(counts) - counts, counts)
    entry = starts + offset
    paths = tree.paths[node]
    nan = np.full(node.size, np.nan)
    return (
        node,
        entry,
        pd.DataFrame(
            {
                "path": [f"{p}/unlinked:{f}" for p, f in zip(paths, ul.flow[entry], strict=True)],
                "depth": tree.depth[node].astype(np.int64) + 1,
                "kind": "unlinked",
                "activity_id": "",
                "name": ul.flow_name[entry],
                "location": "",
                "amount": ul.amount[entry] * tree.supply[node],
                "unit": "",
                "supply": nan,
                "direct": nan,
                "cumulative": nan,
                "rest": nan,
                "share": nan,
                "hidden": 0,
            }
        ),
    )


def unlinked_frame(tree: SupplyTree) -> pd.DataFrame:
    """Cut-off inputs of the nodes shown, one row each, with the node's path and activity."""
    node, entry, rows = unlinked_rows(tree)
    ul = tree.basis.unlinked
    act = tree.activity[node]
    meta = tree.basis.system.activities
    return pd.DataFrame(
        {
            "path": tree.paths[node],
            "activity_id": meta["id"].to_numpy(dtype=object)[act],
            "activity": meta["name"].to_numpy(dtype=object)[act],
            "flow": ul.flow[entry],
            "flow_name": ul.flow_name[entry],
            "amount": rows["amount"].to_numpy(dtype=float),
            "issue": ul.issue[entry],
        }
    )


def jsonable(value: Any) -> Any:
    """Plain Python for JSON: numpy scalars unwrapped, NaN and infinities as ``None``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def tree_dict(tree: SupplyTree) -> dict[str, Any]:
    """Summary and rows of a tree for JSON."""
    t = tree.totals
    return jsonable(
        {
            "demand": tree.demand,
            "category": tree.category,
            "unit": tree.unit,
            "score": tree.score,
            "totals": {
                "net": t.net,
                "positive": t.positive,
                "negative": t.negative,
                "gross": t.gross,
            },
            "coverage": tree.coverage,
            "cutoff": tree.cutoff,
            "max_depth": tree.max_depth,
            "max_nodes": tree.max_nodes,
            "truncated": tree.truncated,
            "n_nodes": tree.n_nodes,
            "rows": tree.to_frame().to_dict(orient="records"),
        }
    )


def _num(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:.4g}"


def _pct(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:+.1%}"


def summary(tree: SupplyTree) -> str:
    """One line: score, gross, coverage, nodes and rule."""
    t = tree.totals
    credits = f", credits {t.negative:.4g}" if t.negative < 0 else ""
    limit = "" if tree.max_depth is None else f", max depth {tree.max_depth}"
    full = "; node budget reached" if tree.truncated else ""
    return (
        f"{tree.category}: {tree.score:.6g} {tree.unit} (gross {t.gross:.4g}{credits}); "
        f"{tree.n_nodes} nodes, coverage {_pct(tree.coverage).lstrip('+')} by direct scores; "
        f"cut-off {tree.cutoff:g} of the gross total{limit}{full}"
    )


def tree_text(tree: SupplyTree, *, max_rows: int | None = None) -> str:
    """Indented lines: name, location, amount, cumulative and share, direct score."""
    df = tree.to_frame()
    lines = [summary(tree), ""]
    shown = df if max_rows is None else df.iloc[:max_rows]
    for row in shown.itertuples(index=False):
        pad = "  " * int(row.depth)
        if row.kind == "activity":
            where = f" [{row.location}]" if row.location else ""
            amount = f"  {_num(row.amount)} {row.unit}" if math.isfinite(row.amount) else ""
            lines.append(
                f"{pad}{row.name}{where}{amount}  |  {_num(row.cumulative)} {tree.unit} "
                f"({_pct(row.share)}), direct {_num(row.direct)}"
            )
        elif row.kind == "rest":
            lines.append(f"{pad}... {row.name}  {_num(row.cumulative)} ({_pct(row.share)})")
        else:
            amount = _num(row.amount) or "amount unknown (allocated process)"
            lines.append(f"{pad}! unlinked input, not in the system: {row.name}  {amount}")
    if max_rows is not None and len(df) > max_rows:
        lines.append(f"... {len(df) - max_rows} more rows (use --json or to_frame() for all)")
    return "\n".join(lines)


def tree_table(tree: SupplyTree, max_rows: int | None = None) -> str:
    """The tree as an indented HTML table (credits in red, rest and unlinked rows in italics)."""
    df = tree.to_frame()
    head = (
        "<tr><th style='text-align:left'>node</th><th>amount</th><th>unit</th>"
        f"<th>cumulative ({html.escape(tree.unit)})</th><th>share</th><th>direct</th></tr>"
    )
    body = []
    for row in (df if max_rows is None else df.iloc[:max_rows]).itertuples(index=False):
        name = html.escape(str(row.name))
        if row.kind == "activity" and row.location:
            name += f" <small>[{html.escape(str(row.location))}]</small>"
        if row.kind == "unlinked":
            name = f"<i>unlinked input (no data): {name}</i>"
        elif row.kind == "rest":
            name = f"<i>{name}</i>"
        color = " style='color:#a00'" if row.kind != "unlinked" and row.cumulative < 0 else ""
        body.append(
            f"<tr{color}><td style='text-align:left;padding-left:{1.2 * row.depth:.1f}em'>"
            f"{name}</td><td class='num'>{_num(row.amount)}</td>"
            f"<td>{html.escape(str(row.unit))}</td><td class='num'>{_num(row.cumulative)}</td>"
            f"<td class='num'>{_pct(row.share)}</td><td class='num'>{_num(row.direct)}</td></tr>"
        )
    more = (
        f"<p>{len(df) - max_rows} more rows: use <code>to_frame()</code>.</p>"
        if max_rows is not None and len(df) > max_rows
        else ""
    )
    return f"<table>{head}{''.join(body)}</table>{more}"


def tree_html(tree: SupplyTree) -> str:
    """A summary line and the first rows of the tree as an indented table."""
    return (
        f"<p>Upstream tree of {html.escape(repr(tree.demand))} — {html.escape(summary(tree))}</p>"
        + tree_table(tree, HTML_ROWS)
    )
