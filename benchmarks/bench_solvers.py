"""Which sparse LU for an LCA technosphere: KLU whole vs on the cyclic blocks, A vs Aᵀ.

One process, each variant timed once after a warm-up on a small matrix (the machine may be
loaded: compare ratios within one run, not across runs)::

    python benchmarks/bench_solvers.py [n_processes]   # default 20000 (eco20k)

Variants, each: factorization (symbolic + numeric), one solve of ``A x = f``, one of
``Aᵀ y = c``, and a refactorization with new values on the same pattern.

- ``klu(A)``: KLU of ``A`` (its own block-triangular form, AMD per block), ``Aᵀ`` solves by
  KLU's transposed solve;
- ``klu(Aᵀ)``: KLU of ``Aᵀ``, the orientations swapped;
- ``umfpack-kvxopt(A)`` / ``(Aᵀ)``: UMFPACK from the same wheel;
- ``klu-direct(Aᵀ) dense=d``: KLU of ``Aᵀ`` called directly in kvxopt's library
  (:mod:`lcasolve.solve._libklu`, lcasolve's default where the library is found), each block
  ordered by AMD with its dense-row threshold at ``d``·√n (10 is AMD's default, what kvxopt's
  module runs);
- ``btf+superlu`` / ``btf+umfpack`` / ``btf+klu``: lcasolve's block-triangular order with the
  cyclic blocks factorized by SuperLU, scikit-umfpack or KLU.

kvxopt's module exposes no ordering choice: KLU orders each block with AMD (default dense-row
threshold), UMFPACK chooses itself.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import scipy.sparse as sp


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _kvx(A):  # noqa: N803
    import kvxopt

    A = sp.csc_matrix(A)  # noqa: N806
    A.sort_indices()
    cols = np.repeat(np.arange(A.shape[1], dtype=np.int64), np.diff(A.indptr))
    return kvxopt.spmatrix(
        kvxopt.matrix(A.data.astype(np.float64)),
        kvxopt.matrix(A.indices.astype(np.int64)),
        kvxopt.matrix(cols),
        A.shape,
    )


def _kvxopt_variant(module: str, A, A_new, f, c, transpose_first: bool) -> dict:  # noqa: N803
    import importlib

    import kvxopt

    lib = importlib.import_module(f"kvxopt.{module}")
    M = A.T.tocsc() if transpose_first else A  # noqa: N806
    M_new = A_new.T.tocsc() if transpose_first else A_new  # noqa: N806
    K, t_conv = _timed(lambda: _kvx(M))  # noqa: N806
    S, t_sym = _timed(lambda: lib.symbolic(K))  # noqa: N806
    N, t_num = _timed(lambda: lib.numeric(K, S))  # noqa: N806

    def solve(rhs, trans):
        B = kvxopt.matrix(rhs.copy())  # noqa: N806
        lib.solve(K, N, B, trans) if module == "umfpack" else lib.solve(K, S, N, B, trans)
        return np.asarray(B).ravel()

    K2 = _kvx(M_new)  # noqa: N806
    if module == "klu":
        L, U, *_, F, _r = lib.get_numeric(K, S, N)  # noqa: N806
        nnz = len(L) + len(U) + len(F)
    else:
        L, U, *_ = lib.get_numeric(K, N)  # noqa: N806
        nnz = len(L) + len(U)
    forward, backward = ("T", "N") if transpose_first else ("N", "T")
    return {
        "convert_s": t_conv,
        "symbolic_s": t_sym,
        "numeric_s": t_num,
        **_solves(lambda rhs, t: solve(rhs, backward if t else forward), f, c),
        "refactorize_s": _timed(lambda: lib.numeric(K2, S))[1],
        "factor_nnz": nnz,
    }


def _solves(solve, f, c) -> dict:
    """First and further ``A x = f``, one ``Aᵀ y = c``; ``solve(rhs, transposed)``."""
    x, t_x = _timed(lambda: solve(f, False))
    y, t_y = _timed(lambda: solve(c, True))
    _, t_x2 = _timed(lambda: solve(f * 2, False))
    return {
        "first_solve_s": t_x,
        "further_solve_s": t_x2,
        "transposed_solve_s": t_y,
        "_x": x,
        "_y": y,
    }


def _direct_variant(A, A_new, f, c, dense: float) -> dict:  # noqa: N803
    from lcasolve.solve import _libklu
    from lcasolve.solve.klu import _TransposedPattern

    lib = _libklu.load()
    if lib is None:
        return {"error": "kvxopt ships no callable KLU library here"}
    saved, _libklu.AMD_DENSE = _libklu.AMD_DENSE, dense
    try:
        P, t_conv = _timed(lambda: _TransposedPattern(A))  # noqa: N806
        S, t_sym = _timed(lambda: _libklu.Symbolic(lib, P.indptr, P.indices))  # noqa: N806
    finally:
        _libklu.AMD_DENSE = saved
    values = np.ascontiguousarray(A.data[P.order])
    N, t_num = _timed(lambda: _libklu.Numeric(S, P.indptr, P.indices, values))  # noqa: N806

    def solve(rhs, transposed):
        x = np.array(rhs, dtype=np.float64)
        N.solve(x, not transposed)  # the factors are Aᵀ's
        return x

    new_values = np.ascontiguousarray(A_new.data[P.order])
    return {
        "convert_s": t_conv,
        "symbolic_s": t_sym,
        "numeric_s": t_num,
        **_solves(solve, f, c),
        "refactorize_s": _timed(lambda: _libklu.Numeric(S, P.indptr, P.indices, new_values))[1],
        "factor_nnz": N.nnz,
    }


def _btf_variant(block_solver: str, A, A_new, f, c) -> dict:  # noqa: N803
    from lcasolve.solve.btf import BTFFactorization

    fact, t = _timed(lambda: BTFFactorization(A, block_solver=block_solver))
    return {
        "numeric_s": t,
        **_solves(lambda rhs, tr: fact.solve(rhs, transposed=tr, check=False).x, f, c),
        "refactorize_s": _timed(lambda: fact.refactorize(A_new))[1],
        "factor_nnz": fact.factor_nnz,
    }


def _btf_klu_blocks(A) -> dict:  # noqa: N803
    """lcasolve's block-triangular order, then KLU on each cyclic segment (factorization only)."""
    import kvxopt.klu as klu

    from lcasolve.solve.btf import _segments, block_triangular_order

    t0 = time.perf_counter()
    perm, block_ptr = block_triangular_order(A)
    M = sp.csc_matrix(A[perm][:, perm])  # noqa: N806
    t_order = time.perf_counter() - t0
    t_sym = t_num = 0.0
    nnz = 0
    for start, end, cyclic in _segments(block_ptr):
        if cyclic:
            K = _kvx(M[start:end, start:end])  # noqa: N806
            S, ts = _timed(lambda K=K: klu.symbolic(K))  # noqa: N806
            N, tn = _timed(lambda K=K, S=S: klu.numeric(K, S))  # noqa: N806
            t_sym, t_num = t_sym + ts, t_num + tn
            L, U, *_, F, _r = klu.get_numeric(K, S, N)  # noqa: N806
            nnz += len(L) + len(U) + len(F)
    return {"order_s": t_order, "symbolic_s": t_sym, "numeric_s": t_num, "factor_nnz": nnz}


def main(n: int) -> dict:
    """Run every variant once on the synthetic database of ``n`` activities."""
    from lcasolve.solve import available_backends
    from lcasolve.synthetic import generate

    system = generate(n, seed=42)
    A = sp.csc_matrix(system.A)  # noqa: N806
    A.sort_indices()
    rng = np.random.default_rng(1)
    A_new = A.copy()  # noqa: N806
    A_new.data *= rng.lognormal(0, 0.05, A.nnz)
    f = np.zeros(n)
    f[n // 3] = 1.0
    c = np.ascontiguousarray(sp.csr_matrix(system.C @ system.B)[0].toarray().ravel())
    # warm-up: imports, compiled kernels
    small = generate(300, seed=1)
    for bs in ("superlu", "umfpack") if "umfpack" in available_backends() else ("superlu",):
        _btf_variant(bs, small.A, small.A, np.ones(300), np.ones(300))
    _kvxopt_variant(
        "klu", sp.csc_matrix(small.A), sp.csc_matrix(small.A), np.ones(300), np.ones(300), False
    )

    out: dict[str, dict] = {}
    out["klu(A)"] = _kvxopt_variant("klu", A, A_new, f, c, False)
    out["klu(AT)"] = _kvxopt_variant("klu", A, A_new, f, c, True)
    for dense in (2.0, 10.0):
        out[f"klu-direct(AT) dense={dense:g}"] = _direct_variant(A, A_new, f, c, dense)
    out["umfpack-kvxopt(A)"] = _kvxopt_variant("umfpack", A, A_new, f, c, False)
    out["umfpack-kvxopt(AT)"] = _kvxopt_variant("umfpack", A, A_new, f, c, True)
    out["btf+superlu"] = _btf_variant("superlu", A, A_new, f, c)
    if "umfpack" in available_backends():
        out["btf+umfpack"] = _btf_variant("umfpack", A, A_new, f, c)
    out["btf+klu"] = _btf_klu_blocks(A)
    x_ref, y_ref = out["btf+superlu"]["_x"], out["btf+superlu"]["_y"]
    for v in out.values():
        if "_x" not in v:
            continue
        v["max_rel_diff_x"] = float(np.abs(v.pop("_x") - x_ref).max() / np.abs(x_ref).max())
        v["max_rel_diff_y"] = float(np.abs(v.pop("_y") - y_ref).max() / np.abs(y_ref).max())
    return out


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    res = main(n)
    for name, v in res.items():
        print(f"{name:20s} " + " ".join(f"{k}={v[k]:.4g}" for k in v if v[k] is not None))
    print(json.dumps({"n": n, "variants": res}))
