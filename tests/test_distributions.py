"""Sampling kernels against scipy.stats: moments, KS tests, bounds, validation, reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lcasolve.errors import InputError, InvalidUncertaintyError
from lcasolve.model.entries import UNCERTAINTY_DTYPE
from lcasolve.uncertainty import describe, sample, sample_records, validate

N = 20_000
nan = math.nan


def record(kind, loc=nan, scale=nan, shape=nan, minimum=nan, maximum=nan, negative=False):
    r = np.zeros(1, dtype=UNCERTAINTY_DTYPE)
    r[0] = (kind, loc, scale, shape, minimum, maximum, negative)
    return r


def _pert(a, m, c, lam=4.0):
    al = 1 + lam * (m - a) / (c - a)
    be = 1 + lam * (c - m) / (c - a)
    return stats.beta(al, be, loc=a, scale=c - a)


CONTINUOUS = [
    ("lognormal", record(2, loc=math.log(2.0), scale=0.4), stats.lognorm(s=0.4, scale=2.0)),
    ("normal", record(3, loc=-1.5, scale=0.3), stats.norm(-1.5, 0.3)),
    ("uniform", record(4, minimum=0.2, maximum=0.8), stats.uniform(0.2, 0.6)),
    ("triangular", record(5, loc=1.0, minimum=0.5, maximum=3.0), stats.triang(0.2, 0.5, 2.5)),
    ("weibull", record(8, loc=1.0, scale=2.0, shape=1.5), stats.weibull_min(1.5, 1.0, 2.0)),
    ("gamma", record(9, loc=0.5, scale=2.0, shape=3.0), stats.gamma(3.0, 0.5, 2.0)),
    ("gamma small shape", record(9, scale=1.0, shape=0.4), stats.gamma(0.4, 0.0, 1.0)),
    ("beta", record(10, loc=2.0, shape=5.0, minimum=1, maximum=3), stats.beta(2, 5, 1, 2)),
    ("gumbel", record(11, loc=1.0, scale=0.5, shape=0.0), stats.gumbel_r(1.0, 0.5)),
    ("gev xi>0", record(11, loc=0.0, scale=1.0, shape=0.2), stats.genextreme(-0.2, 0, 1)),
    ("gev xi<0", record(11, loc=0.0, scale=1.0, shape=-0.3), stats.genextreme(0.3, 0, 1)),
    ("student t", record(12, loc=1.0, scale=2.0, shape=5.0), stats.t(5.0, 1.0, 2.0)),
    ("beta-PERT", record(13, loc=2.0, minimum=1.0, maximum=6.0), _pert(1.0, 2.0, 6.0)),
    (
        "beta-PERT lambda",
        record(13, loc=2.0, scale=2.0, minimum=1.0, maximum=6.0),
        _pert(1.0, 2.0, 6.0, 2.0),
    ),
]


@pytest.mark.parametrize(("name", "rec", "dist"), CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_continuous_against_scipy(name, rec, dist):
    x = sample(rec, N, seed=7)[0]
    assert stats.kstest(x, dist.cdf).pvalue > 1e-3
    mean, std = describe(rec)
    assert mean[0] == pytest.approx(dist.mean(), rel=1e-9, abs=1e-12)
    assert std[0] == pytest.approx(dist.std(), rel=1e-9)
    assert abs(x.mean() - dist.mean()) < 5 * dist.std() / math.sqrt(N)
    assert x.std() == pytest.approx(dist.std(), rel=0.05)


def test_negative_flag_lognormal_gamma_weibull():
    for rec, dist in (
        (record(2, loc=0.0, scale=0.2, negative=True), stats.lognorm(s=0.2)),
        (record(9, scale=1.0, shape=2.0, negative=True), stats.gamma(2.0)),
        (record(8, scale=1.0, shape=2.0, negative=True), stats.weibull_min(2.0)),
    ):
        x = sample(rec, N, seed=3)[0]
        assert (x < 0).all()
        assert stats.kstest(-x, dist.cdf).pvalue > 1e-3
        assert describe(rec)[0][0] == pytest.approx(-dist.mean())


def test_bernoulli_and_discrete_uniform_frequencies():
    x = sample(record(6, loc=0.3), N, seed=1)[0]
    assert set(np.unique(x)) == {0.0, 1.0}
    assert stats.binomtest(int(x.sum()), N, 0.3).pvalue > 1e-3
    y = sample(record(7, minimum=2, maximum=7), N, seed=1)[0]
    values, counts = np.unique(y, return_counts=True)
    assert values.tolist() == [2, 3, 4, 5, 6]
    assert stats.chisquare(counts).pvalue > 1e-3
    mean, std = describe(record(7, minimum=2, maximum=7))
    assert mean[0] == pytest.approx(stats.randint(2, 7).mean())
    assert std[0] == pytest.approx(stats.randint(2, 7).std())


def test_bounds_truncate_by_rejection():
    rec = record(3, loc=0.0, scale=1.0, minimum=-0.5, maximum=1.0)
    x = sample(rec, N, seed=2)[0]
    assert x.min() >= -0.5 and x.max() <= 1.0
    assert stats.kstest(x, stats.truncnorm(-0.5, 1.0).cdf).pvalue > 1e-3
    rec = record(2, loc=0.0, scale=0.5, minimum=0.8, maximum=1.5)
    x = sample(rec, N, seed=2)[0]
    assert x.min() >= 0.8 and x.max() <= 1.5
    for kind_rec in (
        record(4, minimum=1, maximum=2),
        record(5, loc=1.2, minimum=1, maximum=2),
        record(13, loc=1.9, minimum=1, maximum=2),
        record(10, loc=0.5, shape=0.5, minimum=1, maximum=2),
    ):
        x = sample(kind_rec, 5000, seed=4)[0]
        assert x.min() >= 1 and x.max() <= 2


def test_no_uncertainty_returns_loc():
    rec = np.concatenate([record(0, loc=3.5), record(1, loc=-2.0)])
    assert (sample(rec, 10, seed=0) == np.array([[3.5], [-2.0]])).all()
    mean, std = describe(rec)
    assert mean.tolist() == [3.5, -2.0] and std.tolist() == [0, 0]


def test_streams_are_counter_based():
    recs = np.concatenate([record(2, loc=0.0, scale=0.5), record(9, scale=1, shape=0.7)])
    a = sample(recs, 100, seed=11)
    assert np.array_equal(sample(recs, 37, seed=11), a[:, :37])
    its = np.array([99, 3, 50])
    assert np.array_equal(sample_records(recs, its, 11), a[:, its])
    assert np.array_equal(sample(recs, 100, seed=11, threads=1), a)
    assert not np.array_equal(sample(recs, 100, seed=12), a)
    # entry keys, not positions, select the stream: skipping an entry changes no other draw
    only_second = sample_records(recs[1:], np.arange(100), 11, entry_keys=np.array([1]))
    assert np.array_equal(only_second, a[1:])


@pytest.mark.parametrize(
    ("rec", "words"),
    [
        (record(3, loc=1.0, scale=0.0), "scale"),
        (record(2, loc=0.0, scale=-1.0), "scale"),
        (record(4, minimum=2.0, maximum=1.0), "minimum > maximum"),
        (record(5, loc=5.0, minimum=1.0, maximum=2.0), "mode"),
        (record(13, loc=0.0, minimum=1.0, maximum=2.0), "mode"),
        (record(6, loc=1.5), "probability"),
        (record(9, scale=1.0, shape=0.0), "shape"),
        (record(14, loc=1.0), "unknown distribution"),
        (record(4, minimum=1.0), "minimum and maximum"),
    ],
)
def test_invalid_parameters_raise_naming_the_entry(rec, words):
    with pytest.raises(InvalidUncertaintyError, match=words):
        validate(rec, names=["flow 'CO2' of activity 'steel'"])
    with pytest.raises(InvalidUncertaintyError, match="flow 'CO2' of activity 'steel'"):
        validate(rec, names=["flow 'CO2' of activity 'steel'"])
    with pytest.raises(InvalidUncertaintyError):
        sample(rec, 10)


def test_bad_counts_and_seeds():
    rec = record(3, loc=0.0, scale=1.0)
    for n in (0, -5, 2.5, True):
        with pytest.raises(InputError):
            sample(rec, n)
    with pytest.raises(InputError, match="seed"):
        sample(rec, 10, seed=-1)


def test_pedigree_uncertainty_is_sampled_with_the_combined_lognormal_variance():
    """The cement example's grinding electricity: 40 kWh, basic GSD 1.1, pedigree (2,2,1,1,1).

    ecoinvent v3 pedigree variances of ln(x) (Weidema et al. 2013, table 10.6): reliability 2 ->
    0.0006, completeness 2 -> 0.0001, the other three scores 1 -> 0; they add to ln(GSD)².
    """
    from lcasolve.examples import load_example
    from lcasolve.montecarlo import MonteCarlo

    system, demand = load_example("cement")
    tech = system.technosphere
    pid = system.activities["product_id"].to_numpy()[tech.row]
    aid = system.activities["id"].to_numpy()[tech.col]
    (entry,) = np.flatnonzero((pid == "electricity") & (aid == "cement"))
    sigma = math.sqrt(math.log(1.1) ** 2 + 0.0006 + 0.0001)
    res = MonteCarlo(system, demand).run(N, seed=4, record={"technosphere": [entry]})
    x = -res.inputs["technosphere"][:, 0]  # inputs enter A negative
    assert stats.kstest(x, stats.lognorm(s=sigma, scale=40.0).cdf).pvalue > 1e-3
    assert np.log(x).std() == pytest.approx(sigma, rel=0.03)
