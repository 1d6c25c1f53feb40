"""Upstream trees, Sankey graphs and structural paths: by hand and against explicit recursion."""

from __future__ import annotations

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import InvalidParameterError, UnknownCategoryError, UnknownDemandError
from tests import naive


def system_from(A, cB, categories=None):  # noqa: N803
    """A system with products/activities 1..n and one flow per activity carrying ``cB``."""
    A = np.asarray(A, dtype=float)  # noqa: N806
    n = A.shape[0]
    tech = [(i + 1, j + 1, A[i, j]) for i in range(n) for j in range(n) if A[i, j] != 0]
    cB = np.atleast_2d(cB)  # noqa: N806
    bio = [(f"e{j + 1}", j + 1, 1.0) for j in range(n)]
    names = categories or [f"cat{k}" for k in range(cB.shape[0])]
    char = {name: {f"e{j + 1}": float(cB[k, j]) for j in range(n)} for k, name in enumerate(names)}
    return lcasolve.build_system(tech, bio, char)


def as_paths(tree):
    """``{tuple of positions: node}`` of the activity nodes."""
    return {tuple(int(x) for x in p.split("/")): i for i, p in enumerate(tree.paths) if p}


def random_system(seed, n=8):
    rng = np.random.default_rng(seed)
    A = np.zeros((n, n))  # noqa: N806
    diag = rng.uniform(0.5, 3.0, n)
    for j in range(n):
        others = rng.choice([i for i in range(n) if i != j], size=rng.integers(1, 4), replace=False)
        share = rng.uniform(0.05, 0.85 / len(others), len(others))
        sign = np.where(rng.random(len(others)) < 0.15, 1.0, -1.0)  # a few avoided products
        A[others, j] = sign * share * diag[others]
        A[j, j] = diag[j]
    cB = rng.uniform(-0.5, 3.0, n)  # noqa: N806
    return A, cB


# ---------------------------------------------------------------------- by hand
@pytest.fixture
def chain():
    # 1 needs 0.5 of 2 and 0.2 of 3; 2 needs 0.4 of 3; direct scores 1, 2, 3 per unit
    A = [[1, 0, 0], [-0.5, 1, 0], [-0.2, -0.4, 1]]  # noqa: N806
    return system_from(A, [1.0, 2.0, 3.0])


def test_tree_by_hand(chain):
    lca = lcasolve.LCA(chain)
    tree = lca.tree({1: 1.0}, cutoff=0.01)
    # λ3 = 3, λ2 = 2 + 0.4·3 = 3.2, λ1 = 1 + 0.5·3.2 + 0.2·3 = 3.2
    nodes = as_paths(tree)
    assert set(nodes) == {(0,), (0, 1), (0, 2), (0, 1, 2)}
    expect = {(0,): (1.0, 3.2, 1.0), (0, 1): (0.5, 1.6, 1.0), (0, 2): (0.2, 0.6, 0.6)}
    expect[(0, 1, 2)] = (0.2, 0.6, 0.6)
    for path, (amount, cum, direct) in expect.items():
        i = nodes[path]
        assert tree.amount[i] == pytest.approx(amount, rel=1e-14)
        assert tree.cumulative[i, 0] == pytest.approx(cum, rel=1e-14)
        assert tree.direct[i, 0] == pytest.approx(direct, rel=1e-14)
    np.testing.assert_allclose(tree.rest[:, 0], 0.0, atol=1e-14)
    assert tree.score == pytest.approx(3.2, rel=1e-14)
    assert tree.coverage == pytest.approx(1.0, rel=1e-14)
    assert tree.hidden.tolist() == [0, 0, 0, 0]


def test_cutoff_moves_branches_into_rest(chain):
    # gross total 3.2; cutoff 0.19 -> threshold 0.608: both 0.6 branches of product 3 are hidden
    tree = lcasolve.LCA(chain).tree({1: 1.0}, cutoff=0.19)
    nodes = as_paths(tree)
    assert set(nodes) == {(0,), (0, 1)}
    assert tree.rest[nodes[(0,)], 0] == pytest.approx(0.6, rel=1e-14)
    assert tree.rest[nodes[(0, 1)], 0] == pytest.approx(0.6, rel=1e-14)
    assert tree.hidden.tolist() == [1, 1]
    df = tree.to_frame()
    assert df["kind"].tolist() == ["activity", "activity", "rest", "rest"]
    assert df["path"].tolist() == ["0", "0/1", "0/1/rest", "0/rest"]
    assert df["cumulative"].tolist()[2:] == pytest.approx([0.6, 0.6], rel=1e-14)
    assert tree.coverage == pytest.approx(2.0 / 3.2, rel=1e-14)


def test_root_equals_score_and_identity_on_random_systems():
    for seed in range(30):
        A, cB = random_system(seed)  # noqa: N806
        system = system_from(A, cB)
        lca = lcasolve.LCA(system)
        cutoff = [0.001, 0.01, 0.05][seed % 3]
        for product in range(3):
            f = np.zeros(len(cB))
            f[product] = 2.0
            tree = lca.tree({product + 1: 2.0}, cutoff=cutoff, max_nodes=100_000, max_depth=6)
            score = lca.calculate({product + 1: 2.0}).score()
            assert tree.score == pytest.approx(score, rel=1e-12, abs=1e-13)
            gross = naive.gross_total(A, cB, f)
            assert tree.totals.gross == pytest.approx(gross, rel=1e-12)
            ref = naive.enumerate_tree(A, cB, product, 2.0, cutoff * gross, max_depth=6)
            nodes = as_paths(tree)
            assert set(nodes) == set(ref)
            for path, r in ref.items():
                i = nodes[path]
                assert tree.amount[i] == pytest.approx(r["amount"], rel=1e-12)
                assert tree.cumulative[i, 0] == pytest.approx(r["cumulative"], rel=1e-12, abs=1e-14)
                assert tree.direct[i, 0] == pytest.approx(r["direct"], rel=1e-12, abs=1e-14)
                rest = r["cumulative"] - r["direct"] - r["children"]
                assert tree.rest[i, 0] == pytest.approx(rest, abs=1e-12 * gross)
            below = np.zeros(len(tree))
            np.add.at(below, tree.parent[1:], tree.cumulative[1:, 0])
            np.testing.assert_allclose(
                tree.direct[:, 0] + below + tree.rest[:, 0],
                tree.cumulative[:, 0],
                rtol=0,
                atol=1e-12 * gross,
            )


def test_two_cycle_unrolls_as_a_geometric_series():
    # 1 needs a = 0.6 of 2; 2 needs b = 0.5 of 1: the path amounts alternate b, ab, ab·b, ...
    a, b = 0.6, 0.5
    system = system_from([[1, -b], [-a, 1]], [1.0, 2.0])
    lca = lcasolve.LCA(system)
    tree = lca.tree({1: 1.0}, cutoff=1e-6, max_depth=12)
    order = np.argsort(tree.depth)
    assert tree.depth[order].tolist() == list(range(13))  # one chain, no branching
    for d, i in enumerate(order):
        expected = (a * b) ** (d // 2) * (a if d % 2 else 1.0)
        assert tree.amount[i] == pytest.approx(expected, rel=1e-13)
        assert tree.activity[i] == d % 2
    # λ1 = (1 + 2a) / (1 - ab): the unrolled direct scores and the last node's rest add up to it
    lam1 = (1 + 2 * a) / (1 - a * b)
    assert tree.score == pytest.approx(lam1, rel=1e-14)
    tail = tree.rest[order[-1], 0]
    assert tree.direct[:, 0].sum() + tail == pytest.approx(lam1, rel=1e-13)
    # depth 12 is product 1 after 6 round trips: all but its own direct score is rest
    assert tail == pytest.approx((a * b) ** 6 * (lam1 - 1.0), rel=1e-12)
    # the graph keeps one node per activity and draws both links of the cycle
    graph = lca.graph({1: 1.0})
    assert sorted(graph.activity.tolist()) == [0, 1]
    links = {(int(s), int(t)) for s, t in zip(graph.source, graph.target, strict=True)}
    pos = {int(act): i for i, act in enumerate(graph.activity)}
    assert (pos[1], pos[0]) in links and (pos[0], pos[1]) in links


def test_avoided_product_gives_a_negative_branch():
    # 1 needs 0.5 of 2 and avoids 0.4 of 3 (a credit); direct scores 1, 2, 5
    A = [[1, 0, 0], [-0.5, 1, 0], [0.4, 0, 1]]  # noqa: N806
    system = system_from(A, [1.0, 2.0, 5.0])
    lca = lcasolve.LCA(system)
    tree = lca.tree({1: 1.0}, cutoff=0.01)
    nodes = as_paths(tree)
    credit = nodes[(0, 2)]
    assert tree.amount[credit] == pytest.approx(-0.4)
    assert tree.cumulative[credit, 0] == pytest.approx(-2.0)
    # net 1 + 1 - 2 = 0 would hide everything against the net total; the gross total is 4
    assert tree.score == pytest.approx(0.0, abs=1e-14)
    assert tree.totals.positive == pytest.approx(2.0)
    assert tree.totals.negative == pytest.approx(-2.0)
    assert tree.totals.gross == pytest.approx(4.0)
    assert np.isnan(tree.share).all()  # a zero net total has no shares
    tree2 = lcasolve.LCA(system_from(A, [3.0, 2.0, 5.0])).tree({1: 1.0}, cutoff=0.01)
    nodes2 = as_paths(tree2)
    assert tree2.score == pytest.approx(2.0)
    assert tree2.share[nodes2[(0, 2)]] == pytest.approx(-1.0)  # signed share of the net total
    assert tree2.share[nodes2[(0, 1)]] == pytest.approx(0.5)
    # a credit smaller than the cut-off of the gross total goes into the rest, with its sign
    small = lcasolve.LCA(system_from(A, [3.0, 2.0, 0.01])).tree({1: 1.0}, cutoff=0.01)
    assert (0, 2) not in as_paths(small)
    assert small.rest[0, 0] == pytest.approx(-0.004)


def test_several_products_get_a_virtual_root_and_all_categories(chain):
    A = [[1, 0, 0], [-0.5, 1, 0], [-0.2, -0.4, 1]]  # noqa: N806
    system = system_from(A, [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], ["gwp", "other"])
    lca = lcasolve.LCA(system)
    with pytest.raises(lcasolve.errors.InputError, match="name one of"):
        lca.tree({1: 1.0})
    tree = lca.tree({1: 1.0, 2: 2.0}, category="gwp", cutoff=0.01)
    assert tree.activity[0] == -1 and tree.paths[0] == ""
    assert set(as_paths(tree)) >= {(0,), (1,), (0, 1), (1, 2)}
    result = lca.calculate({1: 1.0, 2: 2.0})
    for k, name in enumerate(["gwp", "other"]):
        assert tree.cumulative[0, k] == pytest.approx(result.score(name), rel=1e-13)
        below = np.zeros(len(tree))
        np.add.at(below, tree.parent[1:], tree.cumulative[1:, k])
        np.testing.assert_allclose(
            tree.direct[:, k] + below + tree.rest[:, k], tree.cumulative[:, k], atol=1e-13
        )
    assert tree.to_frame()["name"].iloc[0] == "(functional unit)"
    # path ids of some nodes, walked up from each, are those of every node's listing
    nodes = np.arange(len(tree))
    assert tree.path_ids(nodes).tolist() == tree.paths.tolist()
    single = lca.tree({2: 1.0}, category="gwp", cutoff=0.01)
    assert single.path_ids(np.arange(len(single))).tolist() == single.paths.tolist()


def test_node_budget_and_truncation():
    A, cB = random_system(3, n=10)  # noqa: N806
    lca = lcasolve.LCA(system_from(A, cB))
    full = lca.tree({1: 1.0}, cutoff=0.001, max_nodes=100_000, max_depth=8)
    small = lca.tree({1: 1.0}, cutoff=0.001, max_nodes=5, max_depth=8)
    assert len(small) == 5 and small.truncated and not full.truncated
    # the budget keeps the largest branches: every node shown is in the full tree
    big = as_paths(full)
    for path, i in as_paths(small).items():
        assert small.cumulative[i, 0] == pytest.approx(full.cumulative[big[path], 0], rel=1e-14)
    assert small.cumulative[0, 0] == pytest.approx(
        small.direct[:, 0].sum() + small.rest[:, 0].sum(), rel=1e-12
    )


def test_expand_grows_one_branch_without_a_solve():
    A, cB = random_system(7, n=9)  # noqa: N806
    lca = lcasolve.LCA(system_from(A, cB))
    shallow = lca.tree({1: 1.0}, cutoff=0.002, max_depth=1, max_nodes=100_000)
    deep = lca.tree({1: 1.0}, cutoff=0.002, max_depth=4, max_nodes=100_000)
    child = next(p for p in shallow.paths if p.count("/") == 1)
    grown = shallow.expand(child, max_depth=3)
    deep_nodes = as_paths(deep)
    grown_nodes = as_paths(grown)
    prefix = tuple(int(x) for x in child.split("/"))
    expected = {p for p in deep_nodes if len(p) <= 2 or p[:2] == prefix}
    assert set(grown_nodes) == expected
    for p, i in grown_nodes.items():
        assert grown.cumulative[i, 0] == pytest.approx(deep.cumulative[deep_nodes[p], 0], rel=1e-14)
    assert len(shallow) < len(grown)  # the original is unchanged (frozen)
    with pytest.raises(InvalidParameterError, match="no node of the tree has the path"):
        shallow.expand("0/999")


def test_paths_rank_by_contribution_and_match_path_products():
    A, cB = random_system(11, n=8)  # noqa: N806
    lca = lcasolve.LCA(system_from(A, cB))
    paths = lca.paths({1: 1.0}, top=10, cutoff=0.001)
    df = paths.to_frame()
    assert len(df) == 10
    values = df["contribution"].to_numpy()
    assert (np.diff(np.abs(values)) <= 1e-15).all()
    for row in df.itertuples():
        path = tuple(int(x) for x in row.path.split("/"))
        assert row.contribution == pytest.approx(naive.path_values(A, cB, path, 1.0), rel=1e-12)


def test_graph_nodes_add_up():
    A, cB = random_system(5, n=10)  # noqa: N806
    system = system_from(A, cB)
    lca = lcasolve.LCA(system)
    graph = lca.graph({1: 1.0}, min_share=1e-6, max_nodes=1000)
    n = graph.n_nodes
    incoming = np.zeros(n)
    outgoing = np.zeros(n)
    for s, t, v in zip(graph.source, graph.target, graph.link_value, strict=True):
        if t >= 0:
            incoming[t] += v
        if s >= 0:
            outgoing[s] += v
    np.testing.assert_allclose(graph.direct + incoming, graph.value, atol=1e-12)
    full = n == int((lca.calculate({1: 1.0}).supply != 0).sum())
    if full:  # every consumer shown: a node's links out carry its whole value
        np.testing.assert_allclose(outgoing, graph.value, atol=1e-12)
    assert graph.coverage == pytest.approx(1.0, rel=1e-12)
    lam = naive.dense_scores(A, cB)
    s = np.linalg.solve(A, np.eye(len(cB))[0])
    np.testing.assert_allclose(graph.value, (np.diag(A) * s * lam)[graph.activity], rtol=1e-12)
    few = lca.graph({1: 1.0}, min_share=1e-6, max_nodes=3)
    assert few.n_nodes == 3 and few.truncated
    top3 = np.argsort(-np.abs(np.diag(A) * s * lam), kind="stable")[:3]
    assert few.activity.tolist() == top3.tolist()
    links = few.links_frame()
    assert {"(other upstream)", "(functional unit)"} <= set(links["source"]) | set(links["target"])


def test_bad_input_gives_specific_errors(chain):
    lca = lcasolve.LCA(chain)
    with pytest.raises(InvalidParameterError):
        lca.tree({1: 1.0}, cutoff=2)
    assert lca._factorization is None  # settings are checked before any factorization
    with pytest.raises(UnknownDemandError, match="99 is not a product"):
        lca.tree({99: 1.0})
    for bad in (0, 1, -0.1, 1.5, float("nan"), "x"):
        with pytest.raises(InvalidParameterError, match="cutoff must be"):
            lca.tree({1: 1.0}, cutoff=bad)
    with pytest.raises(InvalidParameterError, match="min_share must be"):
        lca.graph({1: 1.0}, min_share=0)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InvalidParameterError, match="max_nodes must be"):
            lca.tree({1: 1.0}, max_nodes=bad)
    with pytest.raises(InvalidParameterError, match="max_depth must be"):
        lca.tree({1: 1.0}, max_depth=-1)
    with pytest.raises(InvalidParameterError, match="top must be"):
        lca.paths({1: 1.0}, top=0)
    with pytest.raises(UnknownCategoryError, match="unknown impact category"):
        lca.tree({1: 1.0}, category="nope")


def test_outputs_render(chain):
    lca = lcasolve.LCA(chain)
    tree = lca.tree({1: 1.0}, cutoff=0.19)
    text = tree.to_text()
    assert "coverage 62.5%" in text and "(rest: 1 inputs not shown)" in text
    html = tree._repr_html_()
    assert "<table>" in html and "padding-left:1.2em" in html
    d = tree.to_dict()
    assert d["score"] == pytest.approx(3.2) and len(d["rows"]) == 4
    assert lca.paths({1: 1.0})._repr_html_().startswith("<p>Structural paths")
    assert "Supply graph" in lca.graph({1: 1.0})._repr_html_()


# ---------------------------------------------------------------------- real data
CEMENT = "62993671-574c-3fc5-b66a-6be3bb21ad3d"  # USLCI "Portland cement, at plant"


@pytest.fixture(scope="module")
def uslci(shared_data):
    from lcasolve.methods import with_methods

    path = shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"
    return with_methods(lcasolve.load(path, strict=False), None)


@pytest.mark.data
def test_uslci_cement_tree(uslci):
    lca = lcasolve.LCA(uslci)
    score = lca.calculate({CEMENT: 1.0}).score()
    tree = lca.tree({CEMENT: 1.0}, cutoff=0.001, max_nodes=5000)
    assert tree.activity[0] == uslci.product_position(CEMENT)
    assert tree.score == pytest.approx(score, rel=1e-12)
    assert 0.9 < tree.coverage <= 1.0 + 1e-12
    assert f"coverage {tree.coverage:.1%}" in tree.to_text()
    below = np.zeros(len(tree))
    np.add.at(below, tree.parent[1:], tree.cumulative[1:, 0])
    np.testing.assert_allclose(
        tree.direct[:, 0] + below + tree.rest[:, 0], tree.cumulative[:, 0], rtol=0, atol=1e-12
    )
    # every input the linker cut off, of every activity in the chain, is listed under its node
    report = [
        e
        for e in uslci.metadata["link_report"]
        if e["issue"] == "unlinked" and e["action"] == "cut off"
    ]
    ids = uslci.activities["id"].to_numpy()
    expected = set()
    for i in range(len(tree)):
        aid = ids[tree.activity[i]]
        for e in report:
            if e["process"] == aid:
                expected.add((tree.paths[i], e["flow"], e["amount"] * tree.supply[i]))
    shown = tree.unlinked_inputs()
    assert len(shown) == len(expected) > 20
    got = {(r.path, r.flow, r.amount) for r in shown.itertuples()}
    assert {(p, f) for p, f, _ in got} == {(p, f) for p, f, _ in expected}
    for p, f, a in expected:
        row = shown[(shown["path"] == p) & (shown["flow"] == f)]
        assert row["amount"].iloc[0] == pytest.approx(a, rel=1e-12)
    root = shown[shown["path"] == tree.paths[0]]
    assert "CUTOFF Slag, at blast furnace" in set(root["flow_name"])
    frame = tree.to_frame()
    assert (frame["kind"] == "unlinked").sum() == len(expected)
    assert frame.loc[frame["kind"] == "unlinked", "cumulative"].isna().all()


def test_sankey_plots(chain, monkeypatch):
    pytest.importorskip("plotly")
    A = [[1, 0, 0], [-0.5, 1, 0], [0.4, -0.4, 1]]  # noqa: N806 - product 3 partly avoided
    graph = lcasolve.LCA(system_from(A, [1.0, 2.0, 5.0])).graph({1: 1.0}, min_share=1e-6)
    fig = graph.plot(width=600)
    (trace,) = fig.data
    keep = graph.link_value != 0
    np.testing.assert_allclose(trace.link.value, np.abs(graph.link_value[keep]))
    assert sum(c.startswith("rgba(200") for c in trace.link.color) == int(
        (graph.link_value[keep] < 0).sum()
    )
    assert fig.layout.width == 600
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    assert isinstance(graph.plot_static(), Figure)
    # not left open in pyplot (a report drawing it in Jupyter showed it as a stray figure)
    assert plt.get_fignums() == before
    monkeypatch.setitem(__import__("sys").modules, "plotly.graph_objects", None)
    with pytest.raises(lcasolve.errors.MissingExtraError, match=r"lcasolve\[plot\]"):
        graph.plot()
