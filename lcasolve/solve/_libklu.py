"""SuiteSparse KLU called directly (``ctypes``) in the library that ``kvxopt``'s wheel ships.

kvxopt's Python module runs KLU with its default options: AMD on each diagonal block with
AMD's default dense-row threshold (10√n). An LCA technosphere has moderately dense rows (the
popular suppliers: 7,624 entries in a row of eco20k's 15,000-activity loop against a
threshold of 1,224), which make that AMD slow: four fifths of KLU's symbolic phase. Called
directly, KLU takes a user ordering (``Common.ordering = 3``): AMD from the same wheel with the
dense threshold at 2√n orders that block 4× faster for 5 % more fill-in (eco20k: 0.024 vs
0.106 s of CPU, 0.97 M vs 0.93 M entries; ``benchmarks/bench_solvers.py``). The solves also
work in place on NumPy arrays, without kvxopt's matrix copies.

The binding needs the shared KLU library next to kvxopt (its Linux wheels ship KLU 1.3.3 in
``kvxopt.libs``, its macOS wheels KLU 2.3 in ``kvxopt/.dylibs``). Where KLU is linked into
kvxopt's extension instead (its Windows wheel), :func:`load` returns ``None`` and
:mod:`lcasolve.solve.klu` uses kvxopt's module. The layout of ``klu_l_common`` (KLU 1.x,
unchanged in 2.x) is checked against the defaults ``klu_l_defaults`` writes before the library
is used.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import weakref
from typing import Any

import numpy as np

__all__ = ["KLUError", "Numeric", "Symbolic", "load"]

_Long = ctypes.c_int64
_Ptr = ctypes.c_void_p

#: ``Common->status`` values (klu.h)
_KLU_OK, _KLU_SINGULAR = 0, 1
#: AMD's dense-row threshold for the diagonal blocks, in units of √n (AMD's default is 10)
AMD_DENSE = 2.0
#: ``amd.h``: position of the dense control and of the estimated nnz(L) in Control/Info
_AMD_DENSE, _AMD_LNZ, _AMD_CONTROL, _AMD_INFO = 0, 9, 5, 20


class KLUError(ArithmeticError):
    """KLU stopped with an error status (``status`` is KLU's, e.g. 1 for singular)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Common(ctypes.Structure):
    pass


_UserOrder = ctypes.CFUNCTYPE(
    _Long, _Long, ctypes.POINTER(_Long), ctypes.POINTER(_Long), ctypes.POINTER(_Long),
    ctypes.POINTER(_Common),
)  # fmt: skip

_Common._fields_ = [
    ("tol", ctypes.c_double),
    ("memgrow", ctypes.c_double),
    ("initmem_amd", ctypes.c_double),
    ("initmem", ctypes.c_double),
    ("maxwork", ctypes.c_double),
    ("btf", _Long),
    ("ordering", _Long),
    ("scale", _Long),
    ("user_order", _UserOrder),
    ("user_data", _Ptr),
    ("halt_if_singular", _Long),
    ("status", _Long),
    ("nrealloc", _Long),
    ("structural_rank", _Long),
    ("numerical_rank", _Long),
    ("singular_col", _Long),
    ("noffdiag", _Long),
    ("flops", ctypes.c_double),
    ("rcond", ctypes.c_double),
    ("condest", ctypes.c_double),
    ("rgrowth", ctypes.c_double),
    ("work", ctypes.c_double),
    ("memusage", ctypes.c_size_t),
    ("mempeak", ctypes.c_size_t),
]


class _Lib:
    """The bound functions of one loaded KLU (and AMD) library."""

    def __init__(self, klu: ctypes.CDLL, amd: ctypes.CDLL) -> None:
        common = ctypes.POINTER(_Common)
        handle = ctypes.POINTER(_Ptr)
        self.defaults = _bind(klu, "klu_l_defaults", _Long, [common])
        self.analyze = _bind(klu, "klu_l_analyze", _Ptr, [_Long, _Ptr, _Ptr, common])
        self.factor = _bind(klu, "klu_l_factor", _Ptr, [_Ptr, _Ptr, _Ptr, _Ptr, common])
        self.solve = _bind(klu, "klu_l_solve", _Long, [_Ptr, _Ptr, _Long, _Long, _Ptr, common])
        self.tsolve = _bind(klu, "klu_l_tsolve", _Long, [_Ptr, _Ptr, _Long, _Long, _Ptr, common])
        self.free_symbolic = _bind(klu, "klu_l_free_symbolic", _Long, [handle, common])
        self.free_numeric = _bind(klu, "klu_l_free_numeric", _Long, [handle, common])
        self.extract = _bind(klu, "klu_l_extract", _Long, [_Ptr] * 15 + [common])
        self.amd_defaults = _bind(amd, "amd_l_defaults", None, [_Ptr])
        self.amd_order = _bind(amd, "amd_l_order", _Long, [_Long, _Ptr, _Ptr, _Ptr, _Ptr, _Ptr])
        # one callback object for the life of the library (KLU calls it once per block)
        self.user_order = _UserOrder(self._amd_block)

    def _amd_block(self, n: int, ap: Any, ai: Any, perm: Any, _common: Any) -> int:
        """KLU's user ordering: AMD of one diagonal block with a lower dense-row threshold."""
        control = (ctypes.c_double * _AMD_CONTROL)()
        self.amd_defaults(control)
        control[_AMD_DENSE] = AMD_DENSE
        info = (ctypes.c_double * _AMD_INFO)()
        as_ptr = ctypes.cast
        status = self.amd_order(
            n, as_ptr(ap, _Ptr), as_ptr(ai, _Ptr), as_ptr(perm, _Ptr), control, info
        )
        # AMD_OK (0) or AMD_OK_BUT_JUMBLED (1); KLU takes 0 as failure, else the nnz(L) estimate
        return int(info[_AMD_LNZ]) + n if status >= 0 else 0

    def free(self, kind: str, ptr: int) -> None:
        """Free a ``"symbolic"`` or ``"numeric"`` object (a finalizer)."""
        fn = self.free_symbolic if kind == "symbolic" else self.free_numeric
        fn(ctypes.byref(_Ptr(ptr)), ctypes.byref(self.common()))

    def common(self) -> _Common:
        """KLU's default options with the user ordering.

        One ``Common`` per call: KLU writes its status and statistics into it.
        """
        c = _Common()
        self.defaults(ctypes.byref(c))
        c.ordering = 3
        c.user_order = self.user_order
        return c


def _bind(lib: ctypes.CDLL, name: str, restype: Any, argtypes: list[Any]) -> Any:
    fn = getattr(lib, name)
    fn.restype, fn.argtypes = restype, argtypes
    return fn


def _candidates() -> list[str]:
    """Files that may hold KLU: the wheel's vendored libraries, then kvxopt's own extension."""
    try:
        import kvxopt.klu as kvx_klu
    except ImportError:
        return []
    pkg = os.path.dirname(os.path.abspath(kvx_klu.__file__))
    found: list[str] = []
    for folder in (os.path.join(pkg, os.pardir, "kvxopt.libs"), os.path.join(pkg, ".dylibs")):
        for stem in ("klu", "amd"):
            found += sorted(glob.glob(os.path.join(folder, f"lib{stem}[-.]*")))
    return [*found, kvx_klu.__file__]


def _defaults_match(lib: _Lib) -> bool:
    """Whether ``klu_l_defaults`` fills the struct as KLU 1.x/2.x documents (layout check)."""
    c = _Common()
    if lib.defaults(ctypes.byref(c)) != 1:
        return False
    reals = (c.tol, c.memgrow, c.initmem_amd, c.initmem, c.maxwork)
    integers = (c.btf, c.ordering, c.scale, c.halt_if_singular, c.status)
    return reals == (0.001, 1.2, 1.2, 10.0, 0.0) and integers == (1, 0, 2, 1, 0)


@functools.cache
def load() -> _Lib | None:
    """The KLU library of the installed kvxopt, or ``None`` where it cannot be called directly.

    Returns
    -------
    _Lib or None
    """
    files = _candidates()
    if not files:
        return None
    handles = []
    for path in files:
        try:
            handles.append(ctypes.CDLL(path))
        except OSError:
            continue
    klu = next((h for h in handles if hasattr(h, "klu_l_analyze")), None)
    amd = next((h for h in handles if hasattr(h, "amd_l_order")), None)
    if klu is None or amd is None:
        return None
    lib = _Lib(klu, amd)
    return lib if _defaults_match(lib) else None


def _check(common: _Common, what: str) -> None:
    if common.status != _KLU_OK:
        kind = "singular" if common.status == _KLU_SINGULAR else f"status {common.status}"
        raise KLUError(f"KLU {what}: {kind}", int(common.status))


class Symbolic:
    """KLU's analysis of a sparsity pattern (block-triangular form and orderings).

    Parameters
    ----------
    lib : _Lib
        From :func:`load`.
    indptr, indices : numpy.ndarray
        CSC pattern of a square matrix, int64, without duplicates.
    """

    def __init__(self, lib: _Lib, indptr: np.ndarray, indices: np.ndarray) -> None:
        self.lib = lib
        self.n = len(indptr) - 1
        common = lib.common()
        ptr = lib.analyze(self.n, indptr.ctypes.data, indices.ctypes.data, ctypes.byref(common))
        if not ptr:
            _check(common, "analysis")
            raise KLUError("KLU analysis failed", int(common.status))
        self.ptr = ptr
        self._finalizer = weakref.finalize(self, lib.free, "symbolic", ptr)


class Numeric:
    """KLU's LU factors of one matrix on a :class:`Symbolic` pattern.

    Parameters
    ----------
    symbolic : Symbolic
    indptr, indices : numpy.ndarray
        The pattern the symbolic analysis was made for (int64).
    data : numpy.ndarray
        The values, float64, in the pattern's order.

    Raises
    ------
    KLUError
        If the matrix is singular (``status`` 1) or KLU fails otherwise.
    """

    def __init__(
        self, symbolic: Symbolic, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray
    ) -> None:
        lib = symbolic.lib
        self.symbolic = symbolic  # the factors are read through it
        common = lib.common()
        ptr = lib.factor(
            indptr.ctypes.data, indices.ctypes.data, data.ctypes.data, symbolic.ptr,
            ctypes.byref(common),
        )  # fmt: skip
        if not ptr:
            _check(common, "factorization")
            raise KLUError("KLU factorization failed", int(common.status))
        self.ptr = ptr
        self._entries = int(indices.shape[0])
        self._finalizer = weakref.finalize(self, lib.free, "numeric", ptr)

    @property
    def nnz(self) -> int:
        """Entries in L and U (diagonals included) and in the off-diagonal blocks.

        ``lnz`` and ``unz`` are the third and fourth fields of ``klu_l_numeric`` (in every KLU
        version); the off-diagonal count is extracted (``klu_l_extract`` of the blocks F only).
        """
        lib = self.symbolic.lib
        head = (_Long * 4).from_address(self.ptr)
        fp = np.zeros(self.symbolic.n + 1, dtype=np.int64)
        fi = np.empty(max(self._entries, 1), dtype=np.int64)
        fx = np.empty(max(self._entries, 1), dtype=np.float64)
        # L (Lp, Li, Lx) and U (Up, Ui, Ux) not extracted, then F, then P, Q, Rs, R not either
        args = [None] * 6 + [fp.ctypes.data, fi.ctypes.data, fx.ctypes.data] + [None] * 4
        common = lib.common()
        if not lib.extract(self.ptr, self.symbolic.ptr, *args, ctypes.byref(common)):
            _check(common, "extract")
            raise KLUError("KLU extract failed", int(common.status))
        return int(head[2] + head[3] + fp[-1])

    def solve(self, b: np.ndarray, transposed: bool) -> None:
        """Overwrite ``b`` (Fortran-ordered float64, ``n`` rows) with the solution.

        ``transposed=False`` solves with the factorized matrix, ``True`` with its transpose.
        KLU's solve uses a workspace inside the factors: one solve at a time per object.
        """
        lib = self.symbolic.lib
        n = self.symbolic.n
        nrhs = 1 if b.ndim == 1 else b.shape[1]
        common = lib.common()
        fn = lib.tsolve if transposed else lib.solve
        if not fn(self.symbolic.ptr, self.ptr, n, nrhs, b.ctypes.data, ctypes.byref(common)):
            _check(common, "solve")
            raise KLUError("KLU solve failed", int(common.status))
