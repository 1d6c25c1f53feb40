"""Chunks sent to a dask.distributed LocalCluster with worker processes give the local arrays."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_montecarlo import random_system

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster_identical_to_local_run():
    from lcasolve.montecarlo import MonteCarlo

    system = random_system(n=100, seed=9)
    mc = MonteCarlo(system, {"a": {2: 1.0}, "b": {3: 1.0}}, batch_size=16)
    record = {"technosphere": [200, 201], "biosphere": [5]}
    local = mc.run(96, seed=21, record=record)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = mc.run(96, seed=21, record=record, executor=client)
        pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2
    assert np.array_equal(local.scores, remote.scores)
    for name in record:
        assert np.array_equal(local.inputs[name], remote.inputs[name])
    assert local.n_fallback == remote.n_fallback
