"""Slow, obvious references for the fast code paths (dense inverses, explicit recursion)."""

from __future__ import annotations

import numpy as np


def dense_scores(A: np.ndarray, cB: np.ndarray) -> np.ndarray:  # noqa: N803
    """Score per unit of every product, ``cB · A⁻¹`` from a dense inverse."""
    return cB @ np.linalg.inv(A)


def gross_total(A: np.ndarray, cB: np.ndarray, f: np.ndarray) -> float:  # noqa: N803
    """Sum of absolute activity contributions ``Σ_j |cB_j s_j|`` with ``s = A⁻¹ f``."""
    s = np.linalg.inv(A) @ f
    return float(np.abs(cB * s).sum())


def enumerate_tree(
    A: np.ndarray,  # noqa: N803
    cB: np.ndarray,
    product: int,
    amount: float,
    threshold: float,
    max_depth: int | None = None,
) -> dict[tuple[int, ...], dict[str, float]]:
    """Every branch with ``|cumulative| ≥ threshold``, by explicit recursion from one product.

    Returns ``{path (tuple of positions from the root): {amount, cumulative, direct, children}}``
    where ``children`` is the sum of the shown children's cumulative scores.
    """
    lam = dense_scores(A, cB)
    out: dict[tuple[int, ...], dict[str, float]] = {}

    def visit(path: tuple[int, ...], a: float) -> float:
        j = path[-1]
        s = a / A[j, j]
        node = {"amount": a, "cumulative": a * lam[j], "direct": s * cB[j], "children": 0.0}
        out[path] = node
        if max_depth is not None and len(path) - 1 >= max_depth:
            return node["cumulative"]
        for i in range(A.shape[0]):
            if i == j or A[i, j] == 0:
                continue
            child = -A[i, j] * s
            cum = child * lam[i]
            if abs(cum) >= threshold and cum != 0:
                node["children"] += visit((*path, i), child)
        return node["cumulative"]

    visit((product,), amount)
    return out


def path_values(
    A: np.ndarray,  # noqa: N803
    cB: np.ndarray,
    path: tuple[int, ...],
    amount: float,
) -> float:
    """Direct score at the end of a path: ``cB_end`` times the product of the link factors."""
    a = amount
    for j, i in zip(path[:-1], path[1:], strict=True):
        a = -A[i, j] * a / A[j, j]
    end = path[-1]
    return float(cB[end] * a / A[end, end])
