"""Sparse matrix entries as COO triplets with their uncertainty.

An :class:`Entries` object is the single source of truth for one matrix of a system: positions,
values as they enter the matrix (signed), and uncertainty parameters in the stats_arrays layout,
aligned entry by entry. Duplicates are allowed and summed when the matrix is assembled, so a Monte
Carlo engine can sample each entry independently and scatter the draws into a fixed pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from lcasolve.errors import InputError, NonFiniteValueError, ShapeMismatchError

__all__ = ["UNCERTAINTY_DTYPE", "Entries", "MatrixPattern", "no_uncertainty"]

#: stats_arrays parameter layout, one record per matrix entry. ``loc``, ``minimum`` and ``maximum``
#: are in the *source sign* (before ``flip``); for lognormal ``loc`` is the log of the median.
UNCERTAINTY_DTYPE = np.dtype(
    [
        ("uncertainty_type", "u1"),
        ("loc", "f8"),
        ("scale", "f8"),
        ("shape", "f8"),
        ("minimum", "f8"),
        ("maximum", "f8"),
        ("negative", "?"),
    ]
)


def no_uncertainty(amounts: np.ndarray) -> np.ndarray:
    """Return stats_arrays records saying "no uncertainty" (type 0) for the given amounts.

    Parameters
    ----------
    amounts : numpy.ndarray
        Amounts in the source sign; stored as ``loc``.

    Returns
    -------
    numpy.ndarray
        Structured array of :data:`UNCERTAINTY_DTYPE`.
    """
    amounts = np.asarray(amounts, dtype=np.float64)
    out = np.zeros(amounts.shape[0], dtype=UNCERTAINTY_DTYPE)
    out["loc"] = amounts
    out["scale"] = np.nan
    out["shape"] = np.nan
    out["minimum"] = np.nan
    out["maximum"] = np.nan
    out["negative"] = amounts < 0
    return out


@dataclass(frozen=True, eq=False)
class MatrixPattern:
    """Fixed CSC sparsity pattern of a matrix and where each entry lands in it.

    Attributes
    ----------
    shape : tuple of int
        Matrix shape.
    indptr, indices : numpy.ndarray
        CSC structure (sorted indices, duplicates merged).
    slot : numpy.ndarray
        For each entry ``e`` of the :class:`Entries`, the position in the CSC ``data`` array it is
        added to. ``data = np.bincount(slot, weights=values, minlength=nnz)``.
    """

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    slot: np.ndarray

    @property
    def nnz(self) -> int:
        """Number of structural nonzeros after merging duplicates."""
        return int(self.indices.shape[0])

    def data(self, values: np.ndarray) -> np.ndarray:
        """Sum entry values into CSC data order.

        Parameters
        ----------
        values : numpy.ndarray
            One value per entry, shape ``(n_entries,)`` or ``(n_entries, K)`` for K samples.

        Returns
        -------
        numpy.ndarray
            Shape ``(nnz,)`` or ``(nnz, K)``.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            return np.bincount(self.slot, weights=values, minlength=self.nnz)
        out = np.zeros((self.nnz, values.shape[1]), dtype=np.float64)
        np.add.at(out, self.slot, values)
        return out

    def matrix(self, values: np.ndarray) -> sp.csc_matrix:
        """Assemble a CSC matrix on this pattern from entry values."""
        return sp.csc_matrix(
            (self.data(values), self.indices, self.indptr), shape=self.shape, copy=False
        )


@dataclass(frozen=True, eq=False)
class Entries:
    """Entries of one sparse matrix: positions, signed values and uncertainty.

    Use :meth:`Entries.create` to build one; it validates and normalizes the arrays.

    Attributes
    ----------
    shape : tuple of int
        ``(rows, columns)`` of the matrix.
    row, col : numpy.ndarray
        int64 positions (not source ids).
    value : numpy.ndarray
        float64 values as they enter the matrix (technosphere inputs negative).
    uncertainty : numpy.ndarray
        :data:`UNCERTAINTY_DTYPE` records in the source sign.
    flip : numpy.ndarray
        bool; where True the matrix value is the negated source amount (``value = -amount``).
    """

    shape: tuple[int, int]
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray
    uncertainty: np.ndarray
    flip: np.ndarray

    @classmethod
    def create(
        cls,
        shape: tuple[int, int],
        row: np.ndarray,
        col: np.ndarray,
        value: np.ndarray,
        *,
        uncertainty: np.ndarray | None = None,
        flip: np.ndarray | None = None,
        name: str = "matrix",
    ) -> Entries:
        """Validate and build entries.

        Parameters
        ----------
        shape : tuple of int
            Matrix shape.
        row, col : array_like
            Positions of the entries.
        value : array_like
            Signed values as they enter the matrix.
        uncertainty : numpy.ndarray, optional
            stats_arrays records (source sign); default: no uncertainty, ``loc`` = source amount.
        flip : array_like of bool, optional
            Whether the matrix value is the negated source amount; default all False.
        name : str
            Matrix name used in error messages.

        Returns
        -------
        Entries

        Raises
        ------
        ShapeMismatchError
            If arrays differ in length or positions fall outside ``shape``.
        NonFiniteValueError
            If a value is NaN or infinite.
        """
        nrows, ncols = (int(shape[0]), int(shape[1]))
        row = np.ascontiguousarray(row, dtype=np.int64)
        col = np.ascontiguousarray(col, dtype=np.int64)
        value = np.ascontiguousarray(value, dtype=np.float64)
        n = value.shape[0]
        if value.ndim != 1 or row.shape != (n,) or col.shape != (n,):
            raise ShapeMismatchError(
                f"{name}: row, col and value must be 1-D arrays of equal length, "
                f"got {row.shape}, {col.shape}, {value.shape}"
            )
        if n and (row.min() < 0 or row.max() >= nrows or col.min() < 0 or col.max() >= ncols):
            bad = np.flatnonzero((row < 0) | (row >= nrows) | (col < 0) | (col >= ncols))[0]
            raise ShapeMismatchError(
                f"{name}: entry {bad} at ({row[bad]}, {col[bad]}) is outside the "
                f"{nrows} x {ncols} matrix"
            )
        if not np.isfinite(value).all():
            bad = np.flatnonzero(~np.isfinite(value))[0]
            raise NonFiniteValueError(
                f"{name}: entry ({row[bad]}, {col[bad]}) has the non-finite value {value[bad]}"
            )
        if flip is None:
            flip = np.zeros(n, dtype=bool)
        flip = np.ascontiguousarray(flip, dtype=bool)
        if uncertainty is None:
            uncertainty = no_uncertainty(np.where(flip, -value, value))
        else:
            uncertainty = np.asarray(uncertainty)
            if uncertainty.dtype != UNCERTAINTY_DTYPE:
                uncertainty = _as_uncertainty_dtype(uncertainty)
        if flip.shape != (n,) or uncertainty.shape != (n,):
            raise ShapeMismatchError(
                f"{name}: flip and uncertainty must have one record per entry ({n}), "
                f"got {flip.shape} and {uncertainty.shape}"
            )
        return cls((nrows, ncols), row, col, value, uncertainty, flip)

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Entries:
        """Entries of an all-zero matrix of ``shape``."""
        z = np.zeros(0, dtype=np.int64)
        return cls.create(shape, z, z, np.zeros(0))

    def __len__(self) -> int:
        return int(self.value.shape[0])

    @property
    def amount(self) -> np.ndarray:
        """Values in the source sign (``-value`` where ``flip``)."""
        return np.where(self.flip, -self.value, self.value)

    @property
    def uncertain(self) -> np.ndarray:
        """Boolean mask of entries with a distribution (stats_arrays type > 1)."""
        return self.uncertainty["uncertainty_type"] > 1

    @cached_property
    def pattern(self) -> MatrixPattern:
        """The CSC pattern of the assembled matrix and each entry's slot in it."""
        nrows, ncols = self.shape
        n = len(self)
        key = self.col * nrows + self.row
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        first = np.ones(n, dtype=bool)
        if n:
            first[1:] = sorted_key[1:] != sorted_key[:-1]
        unique_pos = np.cumsum(first) - 1
        slot = np.empty(n, dtype=np.int64)
        slot[order] = unique_pos
        ukeys = sorted_key[first]
        indices = (ukeys % nrows).astype(np.int32) if nrows else ukeys.astype(np.int32)
        cols = ukeys // nrows if nrows else ukeys
        indptr = np.zeros(ncols + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=ncols), out=indptr[1:])  # np.add.at: 30x slower
        indptr = indptr.astype(np.int32)
        return MatrixPattern((nrows, ncols), indptr, indices, slot)

    @cached_property
    def matrix(self) -> sp.csc_matrix:
        """The assembled matrix (duplicates summed, explicit zeros kept), CSC."""
        m = self.pattern.matrix(self.value)
        m.data.setflags(write=False)
        return m

    def with_values(self, value: np.ndarray) -> Entries:
        """Return new entries with other values and the same positions and uncertainty."""
        value = np.ascontiguousarray(value, dtype=np.float64)
        if value.shape != self.value.shape:
            raise ShapeMismatchError(
                f"expected {self.value.shape[0]} values, got array of shape {value.shape}"
            )
        new = Entries(self.shape, self.row, self.col, value, self.uncertainty, self.flip)
        if "pattern" in self.__dict__:  # positions unchanged: reuse the pattern
            new.__dict__["pattern"] = self.__dict__["pattern"]
        return new

    def select(self, mask: np.ndarray) -> Entries:
        """Return the entries where ``mask`` is True (same shape)."""
        return Entries(
            self.shape,
            self.row[mask],
            self.col[mask],
            self.value[mask],
            self.uncertainty[mask],
            self.flip[mask],
        )

    @staticmethod
    def concatenate(parts: list[Entries]) -> Entries:
        """Join entries of matrices with the same shape (duplicates are summed on assembly)."""
        if not parts:
            raise InputError("nothing to concatenate")
        shape = parts[0].shape
        for p in parts:
            if p.shape != shape:
                raise ShapeMismatchError(f"cannot join entries of shapes {shape} and {p.shape}")
        return Entries(
            shape,
            np.concatenate([p.row for p in parts]),
            np.concatenate([p.col for p in parts]),
            np.concatenate([p.value for p in parts]),
            np.concatenate([p.uncertainty for p in parts]),
            np.concatenate([p.flip for p in parts]),
        )


def _as_uncertainty_dtype(arr: np.ndarray) -> np.ndarray:
    """Copy a structured array with stats_arrays field names into :data:`UNCERTAINTY_DTYPE`."""
    out = np.zeros(arr.shape[0], dtype=UNCERTAINTY_DTYPE)
    names = arr.dtype.names or ()
    for field in UNCERTAINTY_DTYPE.names or ():
        if field in names:  # a contiguous cast first: a strided one into the record is slow
            out[field] = np.ascontiguousarray(arr[field]).astype(UNCERTAINTY_DTYPE[field])
        elif field != "uncertainty_type" and field != "negative":
            out[field] = np.nan
    return out
