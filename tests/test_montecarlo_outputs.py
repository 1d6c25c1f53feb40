"""Optional Monte Carlo outputs: per-activity contributions, inventories, streaming statistics.

Every check compares with an independent dense recomputation of the same iterations: the run
records the sampled value of every matrix entry (``record=``), and numpy rebuilds ``A_k``, ``B_k``
and ``C_k`` from them and solves ``A_k s_k = f`` with ``numpy.linalg.solve``.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from lcasolve.errors import InputError
from lcasolve.montecarlo import MonteCarlo, StreamingStatistics
from tests.test_montecarlo import random_system


@pytest.fixture(scope="module")
def system():
    return random_system(n=60, seed=3)


def everything(system):
    return {
        name: np.arange(len(getattr(system, name)))
        for name in ("technosphere", "biosphere", "characterization")
    }


def dense(system, matrix, values):
    e = getattr(system, matrix)
    out = np.zeros(e.shape)
    np.add.at(out, (e.row, e.col), values)
    return out


def reference(system, res, demand, k):
    """Supply, inventory, scores and per-activity contributions of iteration k, dense."""
    A = dense(system, "technosphere", res.inputs["technosphere"][k])  # noqa: N806
    B = dense(system, "biosphere", res.inputs["biosphere"][k])  # noqa: N806
    C = dense(system, "characterization", res.inputs["characterization"][k])  # noqa: N806
    s = np.linalg.solve(A, system.demand_vector(demand))
    return s, B @ s, C @ (B @ s), (C @ B) * s


def test_contributions_and_inventory_equal_a_dense_recomputation(system):
    demands = {"one": {4: 1.0}, "two": {9: 2.0, 11: 0.5}}
    # flow 3 has no characterization factor: kept only because its inventory is asked for;
    # exact solves, so that the comparison checks the outputs, not the iteration's tolerance
    res = MonteCarlo(system, demands, batch_size=8, method="exact").run(
        24, seed=5, record=everything(system), contributions=True, inventory=[3, 0]
    )
    assert res.contributions.shape == (24, 2, 2, system.n_activities)
    assert res.inventory.shape == (24, 2, 2)
    assert res.inventory_flows == [3, 0]
    contrib = res.contributions.todense()
    for d, name in enumerate(demands):
        for k in (0, 7, 23):
            s, g, h, parts = reference(system, res, demands[name], k)
            np.testing.assert_allclose(res.scores[k, d], h, rtol=1e-9)
            np.testing.assert_allclose(res.inventory[k, d], g[[3, 0]], rtol=1e-9)
            scale = np.abs(parts).max()
            np.testing.assert_allclose(contrib[k, d], parts, rtol=1e-9, atol=1e-12 * scale)
    # every iteration's contributions add up to its score
    np.testing.assert_allclose(contrib.sum(axis=-1), res.scores, rtol=1e-12)
    # asking for outputs draws nothing more for the scores: the same arrays as a bare run
    bare = MonteCarlo(system, demands, batch_size=8, method="exact").run(24, seed=5)
    assert np.array_equal(bare.scores, res.scores)


def test_chosen_activities_are_a_slice_and_results_are_batch_independent(system):
    acts = [7, 2, 30]
    runs = [
        MonteCarlo(system, {4: 1.0}, batch_size=bs, threads=t).run(
            20, seed=1, contributions=acts, inventory=[1]
        )
        for bs, t in ((1, 1), (6, 2), (64, None))
    ]
    full = MonteCarlo(system, {4: 1.0}).run(20, seed=1, contributions=True)
    for r in runs:
        assert r.contribution_activities == acts
        assert np.array_equal(r.contributions.todense(), runs[0].contributions.todense())
        assert np.array_equal(r.inventory, runs[0].inventory)
    np.testing.assert_array_equal(
        runs[0].contributions.todense()[..., :], full.contributions.todense()[..., acts]
    )
    table = full.activity_contributions(category="c0")
    dense_c = full.contributions.todense()[:, 0, 0, :]
    top = table.index[0]
    assert table.loc[top, "mean"] == pytest.approx(dense_c[:, top].mean(), rel=1e-12)
    assert table.loc[top, "std"] == pytest.approx(dense_c[:, top].std(ddof=1), rel=1e-9)
    assert table["share"].sum() == pytest.approx(1.0, rel=1e-9)
    frame = runs[0].inventories()
    assert list(frame.columns) == [1] and len(frame) == 20


def test_outputs_survive_the_run_file_and_resume(system, tmp_path):
    out = tmp_path / "run.h5"
    mc = MonteCarlo(system, {4: 1.0}, batch_size=5)
    mem = mc.run(23, seed=2, contributions=[3, 4, 5], inventory=[0, 2])
    disk = mc.run(23, seed=2, contributions=[3, 4, 5], inventory=[0, 2], out=out)
    again = mc.run(23, seed=2, contributions=[3, 4, 5], inventory=[0, 2], out=out, resume=True)
    for res in (disk, again):
        assert np.array_equal(res.contributions.todense(), mem.contributions.todense())
        assert np.array_equal(res.inventory, mem.inventory)
        assert res.contribution_activities == [3, 4, 5] and res.inventory_flows == [0, 2]
    with h5py.File(out) as h5:
        assert h5["contributions/data"].shape[0] == mem.contributions.nnz
    with pytest.raises(InputError, match="options differ"):
        mc.run(23, seed=2, contributions=[3, 4], inventory=[0, 2], out=out, resume=True)


def test_bad_output_requests(system):
    mc = MonteCarlo(system, {4: 1.0})
    with pytest.raises(InputError, match="activities not in the system"):
        mc.run(5, contributions=["nope"])
    with pytest.raises(InputError, match="flows not in the system"):
        mc.run(5, inventory=["nope"])
    with pytest.raises(InputError, match="thresholds"):
        mc.run(5, thresholds=[float("nan")])
    res = mc.run(5)
    with pytest.raises(InputError, match="contributions"):
        res.activity_contributions()
    with pytest.raises(InputError, match="inventories"):
        res.inventories()


def test_streaming_statistics_equal_the_stored_samples(system):
    res = MonteCarlo(system, {"a": {4: 1.0}, "b": {5: 1.0}}, batch_size=7).run(
        200, seed=3, thresholds=[0.0, 40.0, 80.0]
    )
    run = res.running
    assert run.count == 200
    np.testing.assert_allclose(run.mean, res.scores.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(run.std, res.scores.std(axis=0, ddof=1), rtol=1e-9)
    assert np.array_equal(run.minimum, res.scores.min(axis=0))
    assert np.array_equal(run.maximum, res.scores.max(axis=0))
    for i, t in enumerate((0.0, 40.0, 80.0)):
        assert np.array_equal(run.p_exceed[i], (res.scores > t).mean(axis=0))
        assert run.p_exceed[i, 0, 1] == res.p_exceed(t, "a", "c1")
    # merging chunks in any split gives the same moments
    alone = StreamingStatistics((2, 2))
    alone.update(res.scores[:1])
    alone.update(res.scores[1:150])
    alone.update(res.scores[150:])
    np.testing.assert_allclose(alone.mean, run.mean, rtol=1e-12)
    np.testing.assert_allclose(alone.std, run.std, rtol=1e-12)


def test_every_uncertain_entry_is_drawn_into_the_matrices(system, monkeypatch):
    from lcasolve.uncertainty import _kernels as sampling

    calls = []
    real = sampling.sample_into

    def counting(kind, *args):
        calls.append(len(kind))
        return real(kind, *args)

    monkeypatch.setattr(sampling, "sample_into", counting)
    res = MonteCarlo(system, {4: 1.0}, batch_size=10, skip=False).run(30, seed=0)
    # per chunk one in-place call per matrix, with every uncertain entry of that matrix (the
    # chunks may run side by side on threads: their calls interleave)
    per_matrix = [
        int(getattr(system, m).uncertain.sum())
        for m in ("technosphere", "biosphere", "characterization")
    ]
    assert sorted(calls) == sorted(per_matrix * 3)
    assert res.n_fallback == 0


def test_progress_bar_shows_rate_and_running_statistics(system, capsys):
    res = MonteCarlo(system, {4: 1.0}, batch_size=10).run(30, seed=0, progress=True)
    err = capsys.readouterr().err
    assert "30/30" in err and ("it/s" in err or "s/it" in err)
    assert f"mean {res.running.mean[0, 0]:.4g}" in err
