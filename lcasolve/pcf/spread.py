"""Is the Monte Carlo spread of a footprint honest? Checks and the entries that drive it.

:func:`check_spread` compares the samples with the deterministic footprint and warns when

- the deterministic value lies outside the 95 % interval of the samples,
- the mean departs from it by more than a factor (default 1.5), or
- nothing uncertain reaches the product (every sample is the same number),

and names the entries responsible: their first-order contribution to the variance
(``(∂h/∂x · σ_x)² / Σ``, :func:`lcasolve.sensitivity.local_sensitivities`) and their shift of the
mean (``∂h/∂x · (E[x] − x)``: a distribution whose mean is far from the entry's amount, such as
a uniform range given in the wrong unit, moves the Monte Carlo mean away from the footprint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lcasolve.lca import LCA
from lcasolve.pcf.footprint import Footprint
from lcasolve.uncertainty import DISTRIBUTIONS

__all__ = ["Driver", "SpreadCheck", "check_spread"]


@dataclass(frozen=True)
class Driver:
    """A matrix entry whose distribution moves the footprint's samples.

    Attributes
    ----------
    matrix : str
        ``technosphere``, ``biosphere`` or ``characterization``.
    entry : int
        Position in that matrix's entries.
    row_name, col_name : str
        Input product (or flow, or category) and consuming activity (or flow).
    distribution : str
        The entry's distribution (``uniform``, ``lognormal``, ...).
    value, mean, std : float
        The entry's amount and its distribution's mean and standard deviation (matrix sign).
    variance_share : float
        First-order share of the footprint's variance.
    mean_shift : float
        First-order shift of the footprint's mean, ``∂h/∂x · (mean − value)``.
    """

    matrix: str
    entry: int
    row_name: str
    col_name: str
    distribution: str
    value: float
    mean: float
    std: float
    variance_share: float
    mean_shift: float

    @property
    def entry_key(self) -> tuple[str, int]:
        """``(matrix, entry)``."""
        return self.matrix, self.entry

    def label(self) -> str:
        """``<distribution> distribution of <row> into <col> (<matrix> entry n)``."""
        into = "into" if self.matrix == "technosphere" else "of"
        return (
            f"{self.distribution} distribution of {self.row_name} {into} {self.col_name} "
            f"({self.matrix} entry {self.entry}: amount {self.value:.4g}, distribution mean "
            f"{self.mean:.4g})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class SpreadCheck:
    """What the samples say about the deterministic footprint.

    Attributes
    ----------
    deterministic, mean, lo, hi : float
        Footprint and the samples' mean and 95 % interval.
    factor : float
        The mean may depart from the footprint by up to this factor.
    no_spread : bool
        Every sample is the same number: no uncertain entry reaches the product.
    outside : bool
        The footprint lies outside ``[lo, hi]``.
    mean_off : bool
        ``mean / footprint`` is beyond ``[1 / factor, factor]`` (or their signs differ).
    drivers : tuple of Driver
        Largest first-order variance shares first (at most ``top``).
    mean_drivers : tuple of Driver
        Largest absolute shifts of the mean first (at most ``top``).
    coverage : dict
        Inventory entries the footprint depends on (nonzero sensitivity; production amounts and
        characterization factors left out), by distribution (``none`` for
        fixed amounts), and ``"uncertain share"``: the share of ``Σ |∂h/∂x · x|`` carried by
        entries with a distribution (the pedigree scores themselves, where the data have
        them, are summarized by :func:`lcasolve.pcf.quality.data_quality`).
    """

    deterministic: float
    mean: float
    lo: float
    hi: float
    factor: float
    no_spread: bool
    outside: bool
    mean_off: bool
    drivers: tuple[Driver, ...]
    mean_drivers: tuple[Driver, ...]
    coverage: dict[str, float] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        """Readable warnings, each naming the entries responsible."""
        out = []
        if self.no_spread:
            out.append(
                "no uncertain entry reaches the product: every Monte Carlo iteration gave "
                f"{self.mean:.6g}; the interval says nothing about the data's uncertainty"
            )
            return out
        if self.outside:
            out.append(
                f"the deterministic footprint {self.deterministic:.4g} lies outside the Monte "
                f"Carlo 95 % interval [{self.lo:.4g}, {self.hi:.4g}]"
            )
        if self.mean_off:
            ratio = self.mean / self.deterministic if self.deterministic else float("inf")
            out.append(
                f"the Monte Carlo mean {self.mean:.4g} is {ratio:.3g} × the deterministic "
                f"footprint (allowed factor {self.factor:g})"
            )
        if out and self.mean_drivers:
            d = self.mean_drivers[0]
            out.append(
                f"the mean is moved most by the {d.label()}: shift {d.mean_shift:+.4g}, "
                f"{d.variance_share:.1%} of the variance"
            )
        first = self.mean_drivers[0].entry_key if self.mean_drivers else None
        if out and self.drivers and self.drivers[0].entry_key != first:
            d = self.drivers[0]
            out.append(f"the variance comes most from the {d.label()}: {d.variance_share:.1%}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready check with its warnings and drivers."""
        return {
            "factor": self.factor,
            "no_spread": self.no_spread,
            "deterministic_outside_interval": self.outside,
            "mean_departs": self.mean_off,
            "warnings": self.warnings,
            "variance_drivers": [d.to_dict() for d in self.drivers],
            "mean_drivers": [d.to_dict() for d in self.mean_drivers],
            "coverage": dict(self.coverage),
        }


def check_spread(
    lca: LCA,
    fp: Footprint,
    samples: np.ndarray,
    *,
    factor: float = 1.5,
    top: int = 5,
) -> SpreadCheck:
    """Check Monte Carlo samples of a footprint against its deterministic value.

    Parameters
    ----------
    lca : LCA
        The calculation the footprint came from.
    fp : Footprint
    samples : array
        Monte Carlo samples of the footprint.
    factor : float
        Largest accepted ratio between the samples' mean and the footprint (> 1).
    top : int
        Drivers kept per ranking.

    Returns
    -------
    SpreadCheck
    """
    from lcasolve.errors import InputError
    from lcasolve.sensitivity import local_sensitivities
    from lcasolve.uncertainty import describe

    if not factor > 1:
        raise InputError(f"factor must be > 1, not {factor!r}")
    s = np.asarray(samples, dtype=float).ravel()
    if s.size == 0:
        raise InputError("no Monte Carlo samples given")
    det = float(fp.total)
    mean = float(np.mean(s))
    lo, hi = (float(x) for x in np.percentile(s, [2.5, 97.5]))
    scale = max(abs(det), abs(mean), np.finfo(float).tiny)
    no_spread = bool(np.ptp(s) <= 1e-12 * scale)
    outside = not no_spread and not (lo <= det <= hi)
    if det == 0:
        mean_off = mean != 0
    else:
        ratio = mean / det
        mean_off = not no_spread and not (1 / factor <= ratio <= factor)
    ls = local_sensitivities(lca, fp.demand, fp.category)
    share = ls.variance_share()
    frame = ls.to_frame(rank_by="importance")
    names = {
        (m, int(i)): (str(r), str(c))
        for m, i, r, c in zip(
            frame["matrix"], frame["entry"], frame["row_name"], frame["col_name"], strict=True
        )
    }
    found: list[Driver] = []
    counts: dict[str, float] = {}
    weight = [0.0, 0.0]  # sum |dh/dx x| of fixed and of uncertain entries
    for m in ("technosphere", "biosphere", "characterization"):
        e = getattr(fp.system, m)
        sens = ls.sensitivity(m)
        kind = np.asarray(e.uncertainty["uncertainty_type"], dtype=np.int64)
        used = (sens != 0) & (m != "characterization")  # inventory data only
        if m == "technosphere":  # production amounts (the diagonal) are not input data
            used &= np.asarray(e.row) != np.asarray(e.col)
        for t, n in zip(*np.unique(kind[used], return_counts=True), strict=True):
            name = "none" if t <= 1 else DISTRIBUTIONS.get(int(t), str(int(t)))
            counts[name] = counts.get(name, 0) + int(n)
        w = np.abs(sens * e.value)
        weight[0] += float(w[used & (kind <= 1)].sum())
        weight[1] += float(w[used & (kind > 1)].sum())
        idx = np.flatnonzero((sens != 0) & (kind > 1))
        if not idx.size:
            continue
        mu, sd = describe(e.uncertainty[idx])
        flip = np.asarray(e.flip[idx], dtype=bool)
        mu = np.where(flip, -mu, mu)
        shift = sens[idx] * (mu - e.value[idx])
        found.extend(
            Driver(
                matrix=m,
                entry=int(i),
                row_name=names.get((m, int(i)), ("", ""))[0],
                col_name=names.get((m, int(i)), ("", ""))[1],
                distribution=DISTRIBUTIONS.get(int(kind[i]), str(int(kind[i]))),
                value=float(e.value[i]),
                mean=float(mu[n]),
                std=float(sd[n]),
                variance_share=float(share[m][i]),
                mean_shift=float(shift[n]) if np.isfinite(shift[n]) else 0.0,
            )
            for n, i in enumerate(idx)
        )
    by_var = sorted(found, key=lambda d: -d.variance_share)[:top]
    by_mean = sorted(found, key=lambda d: -abs(d.mean_shift))[:top]
    return SpreadCheck(
        deterministic=det,
        mean=mean,
        lo=lo,
        hi=hi,
        factor=float(factor),
        no_spread=no_spread,
        outside=outside,
        mean_off=bool(mean_off),
        drivers=tuple(d for d in by_var if d.variance_share > 0),
        mean_drivers=tuple(d for d in by_mean if d.mean_shift != 0),
        coverage={**counts, "uncertain share": weight[1] / sum(weight) if sum(weight) else 0.0},
    )
