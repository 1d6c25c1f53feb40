"""A deterministic ecoinvent-like synthetic database for benchmarks and tests (``eco20k``).

The structure imitates a unit-process database such as ecoinvent:

- one large strongly connected component (``cycle_share`` of the activities; ecoinvent 3.10 has
  ~18k of 23.5k activities in it), the rest upstream (extraction-like activities that only use
  each other, in a DAG) or downstream (final products that use everything, used by nobody in the
  cycle);
- heavy-tailed supplier popularity (a Pareto weight per supplier, so a few products, such as
  electricity, transport and heat markets, feed thousands of activities);
- ``inputs_per_activity`` technosphere inputs per activity on average, ``flows_per_activity``
  biosphere entries drawn from ``n_flows`` elementary flows, again with heavy-tailed popularity
  (fossil CO2 is in most activities);
- mixed units: products are measured in units that differ by orders of magnitude (rows and
  columns are rescaled), so the matrix is badly scaled as real ones are, but productive: every
  column's inputs are worth less than its output in the unscaled system, so the supply of any
  non-negative demand is non-negative;
- uncertainty on every off-diagonal technosphere entry and every biosphere entry: mostly
  lognormal with pedigree-like geometric standard deviations, some normal, triangular, uniform,
  beta-PERT, gamma, Weibull and Student-t (stats_arrays ids 2-5, 8, 9, 12, 13);
- one characterization, ``"GWP100 (synthetic)"`` in kg CO2-eq, with the IPCC AR6 GWP100 values
  of a handful of named greenhouse gases; all other flows are uncharacterized.

Everything is drawn from ``numpy.random.Generator(PCG64(seed))``: a seed gives the same database
on every machine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lcasolve.errors import InputError
from lcasolve.model import UNCERTAINTY_DTYPE, IdEntries, System, build_system

__all__ = ["GHG_FLOWS", "generate"]

#: Named greenhouse gases of the synthetic database and their AR6 GWP100 (first flows).
GHG_FLOWS: tuple[tuple[str, str, float], ...] = (
    ("Carbon dioxide, fossil", "124-38-9", 1.0),
    ("Methane, fossil", "74-82-8", 29.8),
    ("Dinitrogen monoxide", "10024-97-2", 273.0),
    ("Methane, non-fossil", "74-82-8", 27.0),
    ("Sulfur hexafluoride", "2551-62-4", 25200.0),
    ("Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", "811-97-2", 1530.0),
    ("Nitrogen fluoride", "7783-54-2", 17400.0),
    ("Carbon dioxide, non-fossil", "124-38-9", 0.0),
)
_SECTORS = (
    ("electricity", "kWh"),
    ("heat", "MJ"),
    ("transport", "t*km"),
    ("chemicals", "kg"),
    ("metals", "kg"),
    ("agriculture", "kg"),
    ("construction", "m3"),
    ("services", "unit"),
    ("waste treatment", "kg"),
    ("fuels", "kg"),
)
# Structure of the technosphere (tuned so that the sparsity and fill-in of eco20k resemble a
# unit-process database: 20,000 activities, ~244k entries, 15,000 in one strong component).
_POP_ALPHA = 1.1  # Pareto exponent of supplier popularity (heavy-tailed)
_N_HUB = 50  # market-like activities at the centre of the cycle, used by many others
_P_UP = 0.15  # share of a cycle activity's non-market inputs bought from upstream
_UP_POP = 1.0  # popularity of every upstream (extraction-like) activity: none is a hub
_P_FAR = 0.01  # share of long-range links between clusters of the cycle
_HUB_FAR = 3  # inputs each market buys from anywhere in the cycle
_DOWN_DIV = 3  # downstream activities buy inputs_per_activity / _DOWN_DIV inputs
_LOCATIONS = ("GLO", "RER", "RoW", "US", "CN", "DE", "FR", "IN", "BR", "CH")
_UNIT_SCALE = {"kWh": 3.6, "MJ": 1.0, "t*km": 1e3, "kg": 1.0, "m3": 1e3, "unit": 1e2}


def _uncertainty(amount: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Valid stats_arrays records around positive ``amount`` with a realistic mix of types."""
    n = amount.shape[0]
    rec = np.zeros(n, dtype=UNCERTAINTY_DTYPE)
    for name in ("scale", "shape", "minimum", "maximum"):
        rec[name] = np.nan
    rec["loc"] = amount
    kinds = rng.choice(
        np.array([2, 3, 5, 4, 13, 9, 8, 12], dtype=np.uint8),
        size=n,
        p=[0.78, 0.08, 0.05, 0.04, 0.02, 0.01, 0.01, 0.01],
    )
    rec["uncertainty_type"] = kinds
    # lognormal: loc = ln(median), scale = ln(GSD); GSDs as the pedigree matrix produces them
    m = kinds == 2
    gsd = 1.05 + rng.gamma(2.0, 0.12, size=int(m.sum()))
    rec["loc"][m] = np.log(amount[m])
    rec["scale"][m] = np.log(np.minimum(gsd, 2.5))
    m = kinds == 3  # normal: mean = amount, sd 5-30 %
    rec["scale"][m] = amount[m] * rng.uniform(0.05, 0.3, size=int(m.sum()))
    m = kinds == 5  # triangular: min < mode = amount < max
    rec["minimum"][m] = amount[m] * rng.uniform(0.5, 0.9, size=int(m.sum()))
    rec["maximum"][m] = amount[m] * rng.uniform(1.1, 2.0, size=int(m.sum()))
    m = kinds == 4  # uniform around the amount
    rec["minimum"][m] = amount[m] * 0.8
    rec["maximum"][m] = amount[m] * 1.2
    m = kinds == 13  # beta-PERT: min, mode (loc), max
    rec["minimum"][m] = amount[m] * 0.7
    rec["maximum"][m] = amount[m] * 1.5
    m = kinds == 9  # gamma with mean = amount: shape k, scale theta, offset loc = 0
    cv = rng.uniform(0.1, 0.3, size=int(m.sum()))
    rec["shape"][m] = 1.0 / cv**2
    rec["scale"][m] = amount[m] * cv**2
    rec["loc"][m] = 0.0
    m = kinds == 8  # Weibull, shape 3, scale set so that the mean equals the amount, offset 0
    rec["shape"][m] = 3.0
    rec["scale"][m] = amount[m] / 0.8929795115692493  # Γ(1 + 1/3)
    rec["loc"][m] = 0.0
    m = kinds == 12  # Student t: location, scale, degrees of freedom in shape
    rec["scale"][m] = amount[m] * 0.05
    rec["shape"][m] = 5.0
    return rec


def _pick_range(
    cumw: np.ndarray,
    order: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    k: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """For each column ``j``, up to ``k[j]`` distinct items of ``order[lo[j]:hi[j]]``.

    Items are drawn with probability proportional to their weight (``cumw`` is the cumulative
    weight along ``order``), with replacement and oversampling, then deduplicated keeping the
    first ``k[j]`` distinct draws. Returns ``(item, column)`` arrays.
    """
    size = np.maximum(hi - lo, 0)
    k = np.minimum(k, size)
    draws = 3 * k + 2
    draws[size == 0] = 0
    col = np.repeat(np.arange(k.shape[0], dtype=np.int64), draws)
    base = np.where(lo > 0, cumw[np.maximum(lo - 1, 0)], 0.0)
    total = cumw[np.maximum(hi - 1, 0)] - base
    pos = np.searchsorted(cumw, base[col] + rng.random(col.shape[0]) * total[col], side="right")
    pos = np.clip(pos, lo[col], np.maximum(hi[col] - 1, 0))
    item = order[pos]
    key = col * (order.shape[0] + 1) + item
    _, first = np.unique(key, return_index=True)
    first.sort()
    col, item = col[first], item[first]
    start = np.searchsorted(col, np.arange(k.shape[0]))
    rank = np.arange(col.shape[0]) - start[col]
    keep = rank < k[col]
    return item[keep], col[keep]


def generate(
    n_processes: int = 20000,
    *,
    seed: int = 42,
    n_flows: int | None = None,
    inputs_per_activity: float = 13.0,
    flows_per_activity: float = 25.0,
    cycle_share: float = 0.75,
    cluster_size: int = 60,
) -> System:
    """Generate the ecoinvent-like synthetic database.

    Parameters
    ----------
    n_processes : int
        Number of activities (``20000`` is the ``eco20k`` benchmark case).
    seed : int
        Seed; the same seed gives the same database.
    n_flows : int, optional
        Number of elementary flows (default ``min(2000, max(20, n_processes // 5))``).
    inputs_per_activity : float
        Mean technosphere inputs per activity.
    flows_per_activity : float
        Mean biosphere entries per activity.
    cycle_share : float
        Share of activities in the large strongly connected component.
    cluster_size : int
        Size of the clusters of related activities inside the cycle, which buy most of their
        non-market inputs from each other (as a sector in a region does).

    Returns
    -------
    System
        Integer ids: activities and their products ``1..n``, flows ``1_000_001..``.

    Examples
    --------
    >>> from lcasolve.synthetic import generate
    >>> system = generate(200, seed=1)
    >>> system.n_activities
    200
    """
    if n_processes < 10:
        raise InputError(f"n_processes must be at least 10, not {n_processes}")
    if not 0.0 < cycle_share < 1.0:
        raise InputError(f"cycle_share must be between 0 and 1, not {cycle_share}")
    rng = np.random.default_rng(seed)
    n = int(n_processes)
    m = int(n_flows) if n_flows is not None else min(2000, max(20, n // 5))
    m = max(m, len(GHG_FLOWS) + 2)

    # roles: 0 upstream (DAG), 1 cycle, 2 downstream; activities in that order in ``order``
    n_cycle = int(round(cycle_share * n))
    n_up = (n - n_cycle) // 2
    popularity = rng.pareto(_POP_ALPHA, size=n) + 1.0  # heavy-tailed supplier weights
    perm = rng.permutation(n)
    # inside the cycle the most popular activities (the "markets": electricity, heat,
    # transport) come first, then clusters of related activities (a sector in a region)
    cyc = perm[n_up : n_up + n_cycle]
    n_hub = min(_N_HUB, max(5, n_cycle // 100))
    cyc = cyc[np.argsort(-popularity[cyc], kind="stable")]
    cyc = np.concatenate([cyc[:n_hub], rng.permutation(cyc[n_hub:])])
    order = np.concatenate([perm[:n_up], cyc, perm[n_up + n_cycle :]])
    role = np.empty(n, dtype=np.int8)
    role[order[:n_up]] = 0
    role[cyc] = 1
    role[order[n_up + n_cycle :]] = 2
    sector = rng.integers(0, len(_SECTORS), size=n)
    n_inputs = np.maximum(1, rng.poisson(inputs_per_activity - 1.0, size=n) + 1)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    cumw = np.cumsum(np.where(role[order] == 0, _UP_POP, popularity[order]))

    # a cycle activity's inputs come from four ranges of ``order``: the markets, upstream
    # activities, its own cluster, and anywhere in the cycle (rare long-range links); upstream
    # activities buy from the basic extraction activities only (a shallow DAG), downstream ones
    # from the upstream and cycle activities (nobody buys from them)
    c0, c1 = n_up + n_hub, n_up + n_cycle  # clustered part of the cycle
    n_base = max(1, n_up // 5)  # basic extraction activities, which buy nothing
    cl_lo = c0 + (np.clip(rank - c0, 0, None) // cluster_size) * cluster_size
    cl_hi = np.minimum(cl_lo + cluster_size, c1)
    in_cycle = role == 1
    hub = in_cycle & (rank < c0)
    k_hub = np.where(in_cycle, rng.binomial(n_inputs, 0.35), 0)
    k_up = np.where(in_cycle, rng.binomial(n_inputs - k_hub, _P_UP), 0)
    k_far = np.where(in_cycle, rng.binomial(n_inputs - k_hub - k_up, _P_FAR), 0)
    k_far = np.where(hub, np.minimum(n_inputs - k_hub - k_up, _HUB_FAR), k_far)
    k_loc = np.where(in_cycle & ~hub, n_inputs - k_hub - k_up - k_far, 0)
    zero = np.zeros(n, dtype=np.int64)
    ranges = (
        (np.full(n, n_up), np.full(n, c0), k_hub),
        (zero, np.full(n, n_up), k_up),
        (np.full(n, n_up), np.full(n, c1), k_far),
        (cl_lo, cl_hi, k_loc),
        (zero, np.full(n, n_base), np.where((role == 0) & (rank >= n_base), n_inputs // 3, 0)),
        (zero, np.full(n, c1), np.where(role == 2, np.maximum(1, n_inputs // _DOWN_DIV), 0)),
    )
    picks = [_pick_range(cumw, order, lo, hi, kk, rng) for lo, hi, kk in ranges]
    off_row = np.concatenate([r for r, _ in picks])
    off_col = np.concatenate([c for _, c in picks])
    # a ring through the cycle activities makes them one strong component
    ring_row, ring_col = np.roll(cyc, -1), cyc
    key = np.unique(np.concatenate([off_col * n + off_row, ring_col * n + ring_row]))
    off_col, off_row = key // n, key % n
    keep = off_row != off_col
    off_row, off_col = off_row[keep], off_col[keep]

    # unscaled amounts: each column's inputs sum to rho_j < 1 (productive)
    raw = rng.lognormal(0.0, 2.0, size=off_row.shape[0])
    col_sum = np.bincount(off_col, weights=raw, minlength=n)
    rho = rng.uniform(0.2, 0.85, size=n)
    amount0 = raw * (rho / np.where(col_sum > 0, col_sum, 1.0))[off_col]
    # units: product i is measured in units worth u_i; activity j produces p_j units per run
    unit = np.array([_UNIT_SCALE[_SECTORS[s][1]] for s in sector]) * rng.lognormal(0, 0.5, n)
    produced = np.where(rng.random(n) < 0.3, 10.0 ** rng.integers(-3, 4, size=n), 1.0)
    # A = R A0 P with R = diag(1/u) (rows in product units), P = diag(p u) (per run)
    scale_col = produced * unit
    amount = amount0 / unit[off_row] * scale_col[off_col]
    diag = produced.copy()

    tech = IdEntries(
        np.concatenate([np.arange(n), off_row]) + 1,
        np.concatenate([np.arange(n), off_col]) + 1,
        np.concatenate([diag, -amount]),
        np.concatenate([_no_uncertainty(diag), _uncertainty(amount, rng)]),
        np.concatenate([np.zeros(n, dtype=bool), np.ones(amount.shape[0], dtype=bool)]),
    )

    # biosphere: heavy-tailed flow popularity, fossil CO2 the most common
    flow_pop = rng.pareto(1.5, size=m) + 1.0
    flow_pop[0] = flow_pop.max() * 5
    n_bio = np.maximum(1, rng.poisson(flows_per_activity, size=n))
    bio_row, bio_col = _pick_range(
        np.cumsum(flow_pop), np.arange(m), np.zeros(n, dtype=np.int64), np.full(n, m), n_bio, rng
    )
    bio_amount = rng.lognormal(-4.0, 2.5, size=bio_row.shape[0]) * scale_col[bio_col]
    flow_ids = np.arange(m) + 1_000_001
    bio = IdEntries(
        flow_ids[bio_row],
        bio_col + 1,
        bio_amount,
        _uncertainty(bio_amount, rng),
        np.zeros(bio_row.shape[0], dtype=bool),
    )
    gwp = [(i, v) for i, (_, _, v) in enumerate(GHG_FLOWS) if v != 0.0]
    char = IdEntries(
        np.zeros(len(gwp), dtype=np.int64),
        flow_ids[[i for i, _ in gwp]],
        np.array([v for _, v in gwp]),
    )

    sector_names = np.array([s for s, _ in _SECTORS], dtype=object)
    units = np.array([u for _, u in _SECTORS], dtype=object)
    names = [f"{sector_names[s]} activity {j + 1}" for j, s in enumerate(sector)]
    activities = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "name": names,
            "product_id": np.arange(1, n + 1),
            "product": [f"{sector_names[s]} product {j + 1}" for j, s in enumerate(sector)],
            "unit": units[sector],
            "location": np.array(_LOCATIONS, dtype=object)[rng.integers(0, len(_LOCATIONS), n)],
            "sector": sector_names[sector],
            "role": np.array(["upstream", "cycle", "downstream"], dtype=object)[role],
        }
    )
    compartments = np.array(["air", "water", "soil", "natural resource"], dtype=object)[
        rng.integers(0, 4, size=m)
    ]
    flow_names = [f"Substance {i + 1}" for i in range(m)]
    cas = [""] * m
    for i, (name, number, _) in enumerate(GHG_FLOWS):
        flow_names[i] = name
        cas[i] = number
        compartments[i] = "air"
    flows = pd.DataFrame(
        {
            "id": flow_ids,
            "name": flow_names,
            "compartment": compartments,
            "unit": "kg",
            "cas": cas,
        }
    )
    categories = pd.DataFrame({"id": [0], "name": ["GWP100 (synthetic)"], "unit": ["kg CO2-eq"]})
    return build_system(
        tech,
        bio,
        char,
        activities=activities,
        flows=flows,
        categories=categories,
        metadata={
            "format": "synthetic",
            "generator": "lcasolve.synthetic.generate",
            "n_processes": n,
            "seed": seed,
        },
    )


def _no_uncertainty(amount: np.ndarray) -> np.ndarray:
    from lcasolve.model import no_uncertainty

    return no_uncertainty(amount)
