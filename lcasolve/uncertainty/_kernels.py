"""Numba sampling kernels for stats_arrays distributions with a counter-based hash RNG.

Every draw is a pure function of ``(seed key, entry key, iteration, draw number)``: a splitmix64
hash of the key gives the state of one short stream per (entry, iteration), so values do not
depend on batch size, thread count, worker count, or on which other entries are drawn.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from lcasolve._parallel import split

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_MAX_REJECT = 1000


@njit(cache=True, nogil=True)
def _mix(z):  # pragma: no cover - compiled
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True)
def _stream(seed_key, entry_key, iteration):  # pragma: no cover - compiled
    """State of the stream of one (entry, iteration)."""
    return _mix(seed_key ^ _mix(entry_key * _GOLDEN + np.uint64(iteration)))


@njit(cache=True, nogil=True)
def _bits(state, i):  # pragma: no cover - compiled
    """The ``i``-th 64-bit word of a stream."""
    return _mix(state + np.uint64(i + 1) * _GOLDEN)


@njit(cache=True, nogil=True)
def _unit(word):  # pragma: no cover - compiled
    """A 64-bit word's top 53 bits as a uniform in the open interval (0, 1)."""
    return (float(word >> _S11) + 0.5) * _INV53


@njit(cache=True, nogil=True)
def _uniform(state, i):  # pragma: no cover - compiled
    """The ``i``-th uniform of a stream, in the open interval (0, 1)."""
    return _unit(_bits(state, i))


@njit(cache=True, nogil=True)
def _normal(state, i):  # pragma: no cover - compiled
    """A standard normal from uniforms ``i`` and ``i + 1`` (Box-Muller, cosine branch)."""
    u1 = _uniform(state, i)
    u2 = _uniform(state, i + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, nogil=True)
def _gamma(state, i, a):  # pragma: no cover - compiled
    """Gamma(a, 1) by Marsaglia-Tsang; returns (value, next draw number)."""
    boost = 1.0
    if a < 1.0:
        boost = _uniform(state, i) ** (1.0 / a)
        i += 1
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for _ in range(_MAX_REJECT):
        z = _normal(state, i)
        u = _uniform(state, i + 2)
        i += 3
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(u) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v * boost, i
    return d * boost, i


@njit(cache=True, nogil=True)
def _beta(state, i, a, b):  # pragma: no cover - compiled
    x, i = _gamma(state, i, a)
    y, i = _gamma(state, i, b)
    return x / (x + y), i


@njit(cache=True, nogil=True)
def _draw(kind, loc, scale, shape, lo, hi, negative, state, i):  # pragma: no cover - compiled
    """One unbounded draw of distribution ``kind``; returns (value, next draw number)."""
    if kind == 2:  # lognormal: loc = log of the median of |x|
        v = math.exp(loc + scale * _normal(state, i))
        return (-v if negative else v), i + 2
    if kind == 3:
        return loc + scale * _normal(state, i), i + 2
    if kind == 4:
        return lo + (hi - lo) * _uniform(state, i), i + 1
    if kind == 5:  # triangular lo, mode = loc, hi
        u = _uniform(state, i)
        fc = (loc - lo) / (hi - lo)
        if u < fc:
            return lo + math.sqrt(u * (hi - lo) * (loc - lo)), i + 1
        return hi - math.sqrt((1.0 - u) * (hi - lo) * (hi - loc)), i + 1
    if kind == 6:  # bernoulli: 1 with probability loc
        return (1.0 if _uniform(state, i) <= loc else 0.0), i + 1
    if kind == 7:  # discrete uniform on {lo, ..., hi - 1}
        low = 0.0 if math.isnan(lo) else lo
        v = math.floor(low + (hi - low) * _uniform(state, i))
        top = hi - 1.0
        return (top if top < v else v), i + 1  # min(v, top) without compiling min
    if kind == 8:  # weibull: offset loc, scale, shape k
        off = 0.0 if math.isnan(loc) else loc
        v = off + scale * (-math.log(_uniform(state, i))) ** (1.0 / shape)
        return (-v if negative else v), i + 1
    if kind == 9:  # gamma: offset loc, shape k, scale theta
        off = 0.0 if math.isnan(loc) else loc
        g, i = _gamma(state, i, shape)
        v = off + scale * g
        return (-v if negative else v), i
    if kind == 10:  # beta: alpha = loc, beta = shape on [minimum, maximum] (default [0, 1])
        low = 0.0 if math.isnan(lo) else lo
        high = 1.0 if math.isnan(hi) else hi
        x, i = _beta(state, i, loc, shape)
        return low + (high - low) * x, i
    if kind == 11:  # generalized extreme value: mu = loc, sigma = scale, xi = shape
        e = -math.log(_uniform(state, i))
        xi = 0.0 if math.isnan(shape) else shape
        if xi == 0.0:
            return loc - scale * math.log(e), i + 1
        return loc + scale * (e ** (-xi) - 1.0) / xi, i + 1
    if kind == 12:  # student t: df = shape, location loc, scale
        z = _normal(state, i)
        g, i = _gamma(state, i + 2, 0.5 * shape)
        t = z / math.sqrt(g / (0.5 * shape))
        sc = 1.0 if math.isnan(scale) else scale
        off = 0.0 if math.isnan(loc) else loc
        return off + sc * t, i
    if kind == 13:  # beta-PERT: lo, mode = loc, hi, lambda = scale (default 4)
        lam = 4.0 if math.isnan(scale) else scale
        a = 1.0 + lam * (loc - lo) / (hi - lo)
        b = 1.0 + lam * (hi - loc) / (hi - lo)
        x, i = _beta(state, i, a, b)
        return lo + (hi - lo) * x, i
    return loc, i  # 0 undefined, 1 no uncertainty


@njit(cache=True, nogil=True)
def _bounded(kind, loc, scale, shape, lo, hi, negative, state):  # pragma: no cover - compiled
    """A draw inside ``[lo, hi]`` (NaN bounds are open), by rejection; clipped after many tries."""
    i = np.int64(0)  # not the literal 0: one compiled specialization of _draw and its callees
    v = loc
    for _ in range(_MAX_REJECT):
        v, i = _draw(kind, loc, scale, shape, lo, hi, negative, state, i)
        if not (v < lo or v > hi):
            return v
    if v < lo:
        return lo
    return hi


def _ziggurat_tables(layers: int = 128, r: float = 3.442619855899, v: float = 9.91256303526217e-3):
    """Layer edges ``x`` and accept ratios ``x[i + 1] / x[i]`` of the normal ziggurat.

    Marsaglia & Tsang (2000), in Doornik's form (2005): 128 layers of equal area ``v`` under
    ``exp(-x²/2)``, the base layer reaching out to ``r``.
    """
    x = np.zeros(layers + 1)
    f = math.exp(-0.5 * r * r)
    x[0] = v / f
    x[1] = r
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1], r


_ZIG_X, _ZIG_RATIO, _ZIG_R = _ziggurat_tables()
_LAYER = np.uint64(127)


@njit(cache=True, nogil=True)
def _ziggurat(state):  # pragma: no cover - compiled
    """A standard normal by the ziggurat method from the words of one stream.

    One word gives the layer (7 bits) and a signed uniform (53 bits); 98.8 % of draws end
    there with one multiplication. The rest test the wedge of their layer or, in the base
    layer, draw from the tail beyond ``r`` (Marsaglia's exponential method).
    """
    j = np.int64(0)  # not the literal 0 (one specialization of _bits and _uniform)
    for _ in range(_MAX_REJECT):
        h = _bits(state, j)
        j += 1
        u = 2.0 * _unit(h) - 1.0
        i = int(h & _LAYER)
        if abs(u) < _ZIG_RATIO[i]:
            return u * _ZIG_X[i]
        if i == 0:  # the tail |z| > r
            for _ in range(_MAX_REJECT):
                a = _uniform(state, j)
                b = _uniform(state, j + 1)
                j += 2
                t = math.log(a) / _ZIG_R
                if -2.0 * math.log(b) >= t * t:
                    return t - _ZIG_R if u < 0 else _ZIG_R - t
            return -_ZIG_R if u < 0 else _ZIG_R
        z = u * _ZIG_X[i]
        f0 = math.exp(-0.5 * (_ZIG_X[i] * _ZIG_X[i] - z * z))
        f1 = math.exp(-0.5 * (_ZIG_X[i + 1] * _ZIG_X[i + 1] - z * z))
        w = _uniform(state, j)
        j += 1
        if f1 + w * (f0 - f1) < 1.0:
            return z
    return 0.0


@njit(cache=True, nogil=True)
def _entry(t, mu, sd, sh, lo, hi, neg, s, key, seed_key, iterations, dst):  # pragma: no cover
    """``dst[k]`` = ``s`` times one entry's draw at iteration ``iterations[k]``.

    Unbounded normal and lognormal entries draw their normal by the ziggurat method (no
    logarithm, root or trigonometric function in 98.8 % of draws); the other distributions use
    Box-Muller normals. Every draw comes from one stream per (entry, iteration).

    The ziggurat's first try (hash, layer, accept test) runs for all iterations in one
    branch-free loop the compiler vectorizes; the 1.2 % it rejects then take
    :func:`_ziggurat` from the start (which makes the same first try again), and the
    exponentials follow in a loop of their own. Each value is the one of :func:`_ziggurat`,
    computed with the same operations (eco20k, 214k entries x 16 iterations: 72 -> 54 ms CPU).
    """
    K = iterations.shape[0]
    if t <= 1:
        for k in range(K):
            dst[k] = s * mu
        return
    if (t == 2 or t == 3) and math.isnan(lo) and math.isnan(hi):
        lognormal = t == 2
        if lognormal and neg:
            s = -s
        rejected = False
        for k in range(K):  # NaN marks a rejected first try (the accepted ones are finite)
            h = _bits(_stream(seed_key, key, iterations[k]), np.int64(0))
            u = 2.0 * _unit(h) - 1.0
            i = h & _LAYER
            accept = abs(u) < _ZIG_RATIO[i]
            dst[k] = u * _ZIG_X[i] if accept else np.nan
            rejected |= not accept
        if rejected:
            for k in range(K):
                if math.isnan(dst[k]):
                    dst[k] = _ziggurat(_stream(seed_key, key, iterations[k]))
        if lognormal:
            for k in range(K):
                dst[k] = s * math.exp(mu + sd * dst[k])
        else:
            for k in range(K):
                dst[k] = s * (mu + sd * dst[k])
        return
    for k in range(K):
        state = _stream(seed_key, key, iterations[k])
        dst[k] = s * _bounded(t, mu, sd, sh, lo, hi, neg, state)


def sample_block(
    kind, loc, scale, shape, lo, hi, negative, sign, entry_key, seed_key, iterations, out
) -> None:  # fmt: skip
    """Fill ``out[u, k]`` with entry ``u``'s draw at iteration ``iterations[k]``, times ``sign[u]``.

    Entries in contiguous ranges on threads (:func:`lcasolve._parallel.split`); each value
    depends only on its own key, never on the thread or block.
    """
    columns = (kind, loc, scale, shape, lo, hi, negative, sign, entry_key)
    split(_sample_block, int(kind.shape[0]), *columns, seed_key, iterations, out)


@njit(cache=True, nogil=True, error_model="numpy")
def _sample_block(
    kind, loc, scale, shape, lo, hi, negative, sign, key, seed_key, iterations, out, first, stop
):  # pragma: no cover - compiled
    """:func:`sample_block` of the entries ``first`` to ``stop - 1``."""
    for u in range(first, stop):
        _entry(
            kind[u], loc[u], scale[u], shape[u], lo[u], hi[u], negative[u], sign[u], key[u],
            seed_key, iterations, out[u],
        )  # fmt: skip


def sample_into(
    kind, loc, scale, shape, lo, hi, negative, sign, entry_key, seed_key, iterations,
    group_ptr, group_slot, base, out,
) -> None:  # fmt: skip
    """Matrix values ``out[p, k]``: ``base[p]`` plus the draws of the entries stored at ``p``.

    The entries of group ``g`` (``group_ptr[g]`` to ``group_ptr[g + 1]``, in entry order) add
    into slot ``group_slot[g]`` (the other slots are the caller's). Groups in contiguous ranges
    on threads (:func:`lcasolve._parallel.split`), each slot summed in the same order whatever
    the threads.
    """
    columns = (kind, loc, scale, shape, lo, hi, negative, sign, entry_key)
    split(
        _sample_into, int(group_slot.shape[0]), *columns, seed_key, iterations, group_ptr,
        group_slot, base, out,
    )  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy")
def _sample_into(
    kind, loc, scale, shape, lo, hi, negative, sign, key, seed_key, iterations,
    group_ptr, group_slot, base, out, first, stop,
):  # pragma: no cover - compiled  # fmt: skip
    """:func:`sample_into` of the groups ``first`` to ``stop - 1``."""
    K = iterations.shape[0]
    tmp = np.empty(K)
    for g in range(first, stop):
        p = group_slot[g]
        row = out[p]
        b = base[p]
        for k in range(K):
            row[k] = b
        for u in range(group_ptr[g], group_ptr[g + 1]):
            _entry(
                kind[u], loc[u], scale[u], shape[u], lo[u], hi[u], negative[u], sign[u], key[u],
                seed_key, iterations, tmp,
            )  # fmt: skip
            for k in range(K):
                row[k] += tmp[k]
