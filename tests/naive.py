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


def greedy_order(n: int, edges: list[tuple[int, int, float]]) -> list[int]:
    """Eades-Lin-Smyth greedy order with Python's ``heapq`` over ``(-(out - in), vertex)``.

    ``edges`` are ``(u, v, w)``: ``u`` should come before ``v``. Sinks go to the back and
    sources to the front as they appear (last found first), otherwise the vertex with the
    largest outgoing minus incoming weight goes to the front, lowest index on ties.
    """
    import heapq

    out: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    inc: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for u, v, w in sorted(edges):
        out[u].append((v, w))
        inc[v].append((u, w))
    w_out = [sum(w for _, w in out[u]) for u in range(n)]
    w_in = [sum(w for _, w in inc[u]) for u in range(n)]
    n_out = [len(out[u]) for u in range(n)]
    n_in = [len(inc[u]) for u in range(n)]
    alive = [True] * n
    sinks = [u for u in range(n - 1, -1, -1) if n_out[u] == 0]
    sources = [u for u in range(n - 1, -1, -1) if n_out[u] and n_in[u] == 0]
    heap = [(-(w_out[u] - w_in[u]), u) for u in range(n)]
    heapq.heapify(heap)
    front: list[int] = []
    back: list[int] = []
    while len(front) + len(back) < n:
        u, to_front = -1, True
        if sinks:
            u, to_front = sinks.pop(), False
        elif sources:
            u = sources.pop()
        else:
            while heap:
                key, v = heapq.heappop(heap)
                if alive[v] and key == -(w_out[v] - w_in[v]):
                    u = v
                    break
        if u < 0 or not alive[u]:
            continue
        alive[u] = False
        (front if to_front else back).append(u)
        for v, w in out[u]:
            if alive[v]:
                w_in[v] -= w
                n_in[v] -= 1
                if n_in[v] == 0 and n_out[v] > 0:
                    sources.append(v)
                heapq.heappush(heap, (-(w_out[v] - w_in[v]), v))
        for v, w in inc[u]:
            if alive[v]:
                w_out[v] -= w
                n_out[v] -= 1
                if n_out[v] == 0:
                    sinks.append(v)
                heapq.heappush(heap, (-(w_out[v] - w_in[v]), v))
    return front + back[::-1]
