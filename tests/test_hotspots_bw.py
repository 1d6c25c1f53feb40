"""Upstream trees against bw_graph_tools' NewNodeEachVisitGraphTraversal on the same datapackage."""

from __future__ import annotations

import warnings

import pytest

import lcasolve

bw2calc = pytest.importorskip("bw2calc")
bwp = pytest.importorskip("bw_processing")
bgt = pytest.importorskip("bw_graph_tools")
ZipFileSystem = pytest.importorskip("fsspec.implementations.zip").ZipFileSystem


def bw_tree(paths, demand, cutoff, max_depth):
    """``{tuple of activity ids from the demanded one: cumulative}`` from bw_graph_tools."""
    from bw_graph_tools.graph_traversal.settings import GraphTraversalSettings

    packages = [bwp.load_datapackage(ZipFileSystem(str(p))) for p in paths]
    lca = bw2calc.LCA(demand, data_objs=packages)
    lca.lci()
    lca.lcia()
    settings = GraphTraversalSettings(
        cutoff=cutoff,
        max_calc=10**7,
        max_depth=max_depth,
        separate_biosphere_flows=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # its coverage warning
        traversal = bgt.NewNodeEachVisitGraphTraversal(lca, settings)
        traversal.traverse()
    parent = {e.producer_unique_id: e.consumer_unique_id for e in traversal.edges}
    out = {}
    for uid, node in traversal.nodes.items():
        if uid == -1:
            continue
        chain = []
        u = uid
        while u != -1:
            chain.append(int(traversal.nodes[u].activity_datapackage_id))
            u = parent[u]
        out[tuple(reversed(chain))] = float(node.cumulative_score)
    return out, float(lca.score)


def ours(system, demand, cutoff, max_depth):
    tree = lcasolve.LCA(system).tree(demand, cutoff=cutoff, max_depth=max_depth, max_nodes=10**6)
    ids = system.activities["id"].to_numpy()
    out = {}
    for i, path in enumerate(tree.paths):
        chain = tuple(int(ids[int(x)]) for x in path.split("/"))
        out[chain] = float(tree.cumulative[i, tree.k])
    return out, tree


def compare(system, paths, demand, cutoff, max_depth=None):
    mine, tree = ours(system, demand, cutoff, max_depth)
    # bw_graph_tools cuts at cutoff × |net score|; ours at cutoff × the gross total
    bw_cutoff = cutoff * tree.totals.gross / abs(tree.totals.net)
    theirs, score = bw_tree(paths, demand, bw_cutoff, None if max_depth is None else max_depth + 1)
    assert tree.score == pytest.approx(score, rel=1e-9)
    assert set(mine) == set(theirs)
    for path, value in theirs.items():
        assert mine[path] == pytest.approx(value, rel=1e-9, abs=1e-12 * abs(score))
    return len(mine)


@pytest.fixture(scope="module")
def fx(shared_data):
    return shared_data / "bw2calc-fixtures"


def test_basic_fixture(fx):
    system = lcasolve.load(fx / "basic_fixture.zip")
    assert (
        compare(system, [fx / "basic_fixture.zip"], {1: 1.0}, 0.005) == 1
    )  # product 2 scores 0: cut


@pytest.mark.parametrize(("product", "cutoff"), [(1, 0.005), (1, 0.0001), (7, 0.001)])
def test_bw2io_example_db(fx, product, cutoff):
    files = [fx / "bw2io_example_db.zip", fx / "ipcc_simple.zip"]
    system = lcasolve.load(*files)
    assert compare(system, files, {product: 1.0}, cutoff) >= 3


@pytest.mark.parametrize(
    ("n", "seed", "product", "cutoff", "max_depth"),
    [(300, 3, 5, 0.01, None), (300, 3, 120, 0.002, None), (2000, 1, 17, 0.005, 4)],
)
def test_synthetic(tmp_path, n, seed, product, cutoff, max_depth):
    from lcasolve.io import datapackage
    from lcasolve.synthetic import generate

    system = generate(n, seed=seed)
    path = datapackage.write(system, tmp_path / "synthetic.zip")
    loaded = lcasolve.load(path)
    nodes = compare(loaded, [path], {product: 1.0}, cutoff, max_depth)
    assert nodes > 5
