"""The Monte Carlo section: statistics, histogram, warnings and the entries driving the spread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lcasolve.montecarlo.noise import sample_std
from lcasolve.pcf.report import blocks as h
from lcasolve.pcf.report._sections import ThresholdsSection
from lcasolve.pcf.spread import Driver, SpreadCheck

if TYPE_CHECKING:
    from lcasolve.pcf.report._base import PCFReport

__all__ = ["MonteCarloSection"]


@dataclass(frozen=True, eq=False)
class MonteCarloSection:
    """Statistics of a Monte Carlo run of the footprint, and its samples for the histogram.

    Attributes
    ----------
    iterations, seed : int
    mean, std, lo, hi : float
        Mean, standard deviation and the 2.5 % / 97.5 % percentiles of the samples.
    n_fallback : int
        Iterations solved by the direct fallback solver.
    samples : numpy.ndarray
        The sampled footprint (not in :meth:`to_dict`).
    out : str, optional
        HDF5 file of the run.
    check : SpreadCheck, optional
        The samples against the deterministic footprint, with the entries driving them.
    n_invalid : int
        Samples without meaning kept in ``samples`` (a production amount drawn ≤ 0, or a loop
        drawn unproductive; :mod:`lcasolve.montecarlo._validity`).
    dropped : int
        Such samples left out of ``samples``.
    invalid_counts : dict
        ``{"nonpositive_production": n, "unproductive": m}`` over the kept and dropped ones.
    """

    key: ClassVar[str] = "monte_carlo"
    title: ClassVar[str] = "Monte Carlo"

    iterations: int
    seed: int | None
    mean: float
    std: float | None
    lo: float
    hi: float
    samples: np.ndarray = field(repr=False)
    n_fallback: int = 0
    out: str | None = None
    check: SpreadCheck | None = None
    n_invalid: int = 0
    dropped: int = 0
    invalid_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_samples(
        cls,
        samples: np.ndarray,
        *,
        seed: int | None = None,
        n_fallback: int = 0,
        out: Any = None,
        n_invalid: int = 0,
        dropped: int = 0,
        invalid_counts: dict[str, int] | None = None,
    ) -> MonteCarloSection:
        """Statistics of the given samples of the footprint."""
        s = np.asarray(samples, dtype=float).ravel()
        return cls(
            iterations=int(s.size),
            seed=seed,
            mean=float(np.mean(s)),
            std=float(sample_std(s)) if s.size > 1 else None,
            lo=float(np.percentile(s, 2.5)),
            hi=float(np.percentile(s, 97.5)),
            samples=s,
            n_fallback=int(n_fallback),
            out=None if out is None else str(out),
            n_invalid=int(n_invalid),
            dropped=int(dropped),
            invalid_counts=dict(invalid_counts or {}),
        )

    def invalid_text(self) -> str | None:
        """The disclosure of samples without meaning (None when there are none)."""
        if not (self.n_invalid or self.dropped):
            return None
        c = self.invalid_counts
        why = (
            f"{c.get('nonpositive_production', 0)} with a production amount drawn ≤ 0, "
            f"{c.get('unproductive', 0)} with a loop drawn so that it no longer converges"
        )
        if self.dropped:
            return (
                f"{self.dropped} of {self.iterations + self.dropped} Monte Carlo samples have no "
                f"meaning ({why}) and are left out: the statistics are of the other "
                f"{self.iterations}."
            )
        return (
            f"{self.n_invalid} of {self.iterations} Monte Carlo samples have no meaning ({why}); "
            f"they are included in the statistics below."
        )

    def to_dict(self) -> dict[str, Any]:
        """Iterations, seed, mean, std, ``2.5%``, ``97.5%``, n_fallback (and the run file)."""
        out: dict[str, Any] = {
            "iterations": self.iterations,
            "seed": self.seed,
            "mean": self.mean,
            "std": self.std,
            "2.5%": self.lo,
            "97.5%": self.hi,
            "n_fallback": self.n_fallback,
            "n_invalid": self.n_invalid,
            "dropped": self.dropped,
            "invalid": dict(self.invalid_counts),
        }
        if self.out is not None:
            out["out"] = self.out
        if self.check is not None:
            out["check"] = self.check.to_dict()
        return out

    def to_html(self, report: PCFReport) -> str:
        """Warnings, the histogram (limits and deterministic value marked), statistics, drivers.

        Without spread (nothing uncertain reaches the product) the histogram is replaced by a
        note saying so.
        """
        from lcasolve.pcf import plots

        fp = report.footprint
        unit = fp.unit
        check = self.check
        out = [h.warning(h.esc(w)) for w in (check.warnings if check else [])]
        invalid = self.invalid_text()
        if invalid is not None:
            out.append(h.warning(h.esc(invalid)))
        if check is None or not check.no_spread:
            limits = report.section(ThresholdsSection)
            fig = plots.histogram(
                self.samples,
                {t.name: t.limit for t in limits.rows} if limits else None,
                unit=unit,
                deterministic=fp.total,
                title=None,
                xlabel=f"{fp.category} [{unit}]" if unit else fp.category,
            )
            out.append(h.img("Monte Carlo distribution", fig))
        rows: list[tuple[str, str, bool]] = [
            ("Iterations", h.num(self.iterations), True),
            ("Seed", h.num(self.seed), True),
            (h.with_unit("Mean", unit), h.num(self.mean), True),
            (h.with_unit("Standard deviation", unit), h.num(self.std), True),
            h.interval_row("95 % interval (2.5 % – 97.5 % percentiles)", unit, self.lo, self.hi),
            ("Iterations solved by the direct fallback solver", h.num(self.n_fallback), True),
            (
                "Samples without meaning (kept / left out)",
                f"{self.n_invalid} / {self.dropped}",
                True,
            ),
        ]
        if self.out is not None:
            rows.append(("Run file", h.esc(self.out), False))
        if check is not None and check.coverage:
            cov = dict(check.coverage)
            share = cov.pop("uncertain share", 0.0)
            rows.append(
                (
                    "Entries the footprint depends on, by distribution",
                    h.esc(", ".join(f"{k} {int(v)}" for k, v in sorted(cov.items()))),
                    False,
                )
            )
            rows.append(("Share of |∂footprint/∂x · x| with a distribution", h.share(share), True))
        out.append(h.pairs(rows))
        if check is not None and (check.drivers or check.mean_drivers):
            seen: dict[tuple[str, int], Driver] = {}
            for d in (*check.drivers, *check.mean_drivers):
                seen.setdefault(d.entry_key, d)
            header = [
                ("Entry", False),
                ("Distribution", False),
                ("Amount", True),
                ("Distribution mean", True),
                ("Variance share", True),
                (h.with_unit("Mean shift", unit), True),
            ]
            body = [
                [
                    h.esc(f"{d.row_name} → {d.col_name} ({d.matrix} {d.entry})"),
                    h.esc(d.distribution),
                    h.num(d.value),
                    h.num(d.mean),
                    h.share(d.variance_share),
                    h.num(d.mean_shift, sign=True),
                ]
                for d in seen.values()
            ]
            out.append("<p>Entries driving the spread and the mean:</p>" + h.table(header, body))
            out.append(
                h.note(
                    "Variance share (first order): (∂footprint/∂x · σ_x)² over the sum for all "
                    "entries. Mean shift: ∂footprint/∂x · (mean of x's distribution − x's amount); "
                    "a distribution whose mean is far from the amount moves the Monte Carlo mean "
                    "away from the deterministic footprint."
                )
            )
        return "".join(out)

    def to_text(self, report: PCFReport) -> list[str]:
        """One line: iterations, mean, 95 % interval."""
        out = [
            f"Monte Carlo ({self.iterations}): mean {self.mean:.6g}, "
            f"95 % [{self.lo:.6g}, {self.hi:.6g}]"
        ]
        invalid = self.invalid_text()
        out += [f"  warning: {invalid}"] if invalid is not None else []
        return out + [f"  warning: {w}" for w in (self.check.warnings if self.check else [])]
