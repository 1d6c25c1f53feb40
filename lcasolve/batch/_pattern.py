"""A fixed CSR sparsity pattern whose values vary per variant: ``data[slot, variant]``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import PatternChangedError

__all__ = ["Pattern"]


@dataclass(frozen=True, eq=False)
class Pattern:
    """The stored positions of a sparse matrix in CSR order; values live apart, per variant.

    Attributes
    ----------
    shape : tuple of int
        ``(rows, columns)``.
    indptr, indices : numpy.ndarray
        CSR row pointers and column indices (sorted within each row, no duplicates), int64.
    """

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def from_entries(
        cls, row: np.ndarray, col: np.ndarray, shape: tuple[int, int]
    ) -> tuple[Pattern, np.ndarray]:
        """The pattern of the positions ``(row, col)`` and each entry's slot in it.

        Entries at the same position share a slot (their values are summed by the caller).
        """
        nrows, ncols = shape
        width = max(ncols, 1)
        key = np.asarray(row, dtype=np.int64) * width + np.asarray(col, dtype=np.int64)
        ukeys, slot = np.unique(key, return_inverse=True)
        indptr = np.zeros(nrows + 1, dtype=np.int64)
        np.add.at(indptr, ukeys // width + 1, 1)
        pattern = cls((int(nrows), int(ncols)), np.cumsum(indptr), (ukeys % width).astype(np.int64))
        return pattern, slot.reshape(-1).astype(np.int64)

    @classmethod
    def of(cls, M: sp.spmatrix) -> tuple[Pattern, np.ndarray]:  # noqa: N803
        """The pattern of a sparse matrix (explicit zeros kept) and its values in slot order."""
        csr = sp.csr_matrix(M, copy=True)
        csr.sum_duplicates()
        shape = (int(csr.shape[0]), int(csr.shape[1]))
        return cls(shape, csr.indptr.astype(np.int64), csr.indices.astype(np.int64)), csr.data

    @property
    def nnz(self) -> int:
        """Stored positions."""
        return int(self.indices.shape[0])

    def locate(self, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        """Slots of the positions ``(row, col)``.

        Raises
        ------
        PatternChangedError
            A position is not stored in the pattern.
        """
        width = max(self.shape[1], 1)
        rows = np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.indptr))
        keys = rows * width + self.indices
        want = np.asarray(row, dtype=np.int64) * width + np.asarray(col, dtype=np.int64)
        slot = np.searchsorted(keys, want)
        ok = slot < keys.size
        ok[ok] = keys[slot[ok]] == want[ok]
        if not ok.all():
            bad = int(np.flatnonzero(~ok)[0])
            raise PatternChangedError(
                f"{int((~ok).sum())} positions are not in the pattern, the first "
                f"(row {int(np.asarray(row)[bad])}, column {int(np.asarray(col)[bad])})"
            )
        return slot.astype(np.int64)

    def matrix(self, values: np.ndarray) -> sp.csr_matrix:
        """The CSR matrix of one variant's values ``(nnz,)``."""
        return sp.csr_matrix((values, self.indices, self.indptr), shape=self.shape)

    def multiply(self, data: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``M_k x_k`` for every variant: ``data`` ``(nnz, K)``, ``x`` ``(columns, K)``."""
        from lcasolve.batch import _kernels

        out = np.empty((self.shape[0], x.shape[1]))
        _kernels.spmv(
            self.indptr,
            self.indices,
            np.ascontiguousarray(data, dtype=np.float64),
            np.ascontiguousarray(x, dtype=np.float64),
            out,
        )
        return out
