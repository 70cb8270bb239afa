"""The node2vec walk engine: golden walks, edges followed, p/q and weight statistics."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphemb import as_graph
from graphemb._walks import build_alias, random_walks

EDGES = pd.DataFrame({"src": [0, 0, 1, 2, 3, 3], "dst": [1, 2, 2, 3, 4, 0],
                      "weight": [1.0, 2.0, 1.0, 3.0, 1.0, 0.5]})


def _walk(g, starts, **kw):
    return random_walks(g.indptr, g.indices, g.weights, np.asarray(starts), **kw)


@pytest.mark.parametrize(("p", "q", "expected"), [
    (1.0, 1.0, [[0, 2, 1, 0, 2, 3], [1, 2, 0, 1, 0, 1], [2, 3, 2, 3, 2, 3], [3, 0, 2, 3, 2, 0],
                [4, 3, 2, 3, 2, 0]]),
    (0.5, 2.0, [[0, 2, 0, 3, 2, 3], [1, 2, 0, 1, 0, 2], [2, 3, 2, 0, 2, 3], [3, 0, 2, 0, 2, 3],
                [4, 3, 2, 3, 2, 1]]),
])
def test_golden_walks(p, q, expected):
    g = as_graph(EDGES)
    walks = _walk(g, np.arange(5), walk_length=6, p=p, q=q, seed=42, n_jobs=1)
    assert walks.dtype == np.int32
    assert walks.tolist() == expected


def test_same_walks_for_any_thread_count():
    g = as_graph(EDGES)
    a = _walk(g, np.repeat(np.arange(5), 50), walk_length=20, p=0.3, q=3.0, seed=7, n_jobs=1)
    b = _walk(g, np.repeat(np.arange(5), 50), walk_length=20, p=0.3, q=3.0, seed=7, n_jobs=2)
    c = _walk(g, np.repeat(np.arange(5), 50), walk_length=20, p=0.3, q=3.0, seed=8, n_jobs=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@settings(max_examples=25, deadline=None)
@given(
    edges=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.floats(0.1, 10.0)),
                   min_size=1, max_size=40),
    directed=st.booleans(),
    p=st.sampled_from([0.25, 1.0, 4.0]),
    q=st.sampled_from([0.25, 1.0, 4.0]),
    seed=st.integers(0, 2**31),
)
def test_every_step_follows_an_edge(edges, directed, p, q, seed):
    df = pd.DataFrame(edges, columns=["src", "dst", "weight"])
    g = as_graph(df, directed=directed)
    walks = _walk(g, np.arange(g.n_nodes), walk_length=12, p=p, q=q, seed=seed)
    A = g.to_scipy().tocsr()
    for w in walks:
        valid = w[w >= 0]
        assert (w[len(valid):] == -1).all()  # padding only at the end
        for a, b in itertools.pairwise(valid):
            assert A[a, b] > 0
        if len(valid) < len(w):  # stopped at a node with no out-neighbours
            assert g.degree[valid[-1]] == 0


def test_directed_walk_stops_at_sink():
    g = as_graph(pd.DataFrame({"src": ["a", "b"], "dst": ["b", "c"]}), directed=True)
    walks = _walk(g, g.rows(["a", "c"]), walk_length=5, seed=0)
    assert walks.tolist() == [[0, 1, 2, -1, -1], [2, -1, -1, -1, -1]]


# 0 - 1 and 1's neighbours: 0 (return), 2 (also a neighbour of 0), 3 and 4 (outwards)
BIAS_EDGES = pd.DataFrame({"src": [0, 1, 1, 1, 0], "dst": [1, 2, 3, 4, 2],
                           "weight": [1.0, 2.0, 1.0, 3.0, 1.0]})


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("p", "q"), [(0.25, 4.0), (4.0, 0.25), (0.5, 1.0), (1.0, 1.0)])
def test_second_order_frequencies_match_p_q(p, q, weighted):
    df = BIAS_EDGES if weighted else BIAS_EDGES.drop(columns="weight")
    g = as_graph(df)
    n = 60_000
    walks = _walk(g, np.zeros(n, np.int32), walk_length=3, p=p, q=q, seed=3)
    third = walks[walks[:, 1] == 1, 2]
    w = {0: 1.0, 2: 2.0, 3: 1.0, 4: 3.0} if weighted else dict.fromkeys((0, 2, 3, 4), 1.0)
    alpha = {0: 1 / p, 2: 1.0, 3: 1 / q, 4: 1 / q}
    target = np.array([w[x] * alpha[x] for x in (0, 2, 3, 4)])
    target /= target.sum()
    counts = np.array([(third == x).sum() for x in (0, 2, 3, 4)])
    assert counts.sum() == len(third)
    freq = counts / counts.sum()
    se = np.sqrt(target * (1 - target) / counts.sum())
    assert np.all(np.abs(freq - target) < 5 * se + 1e-3), (freq, target)


def test_weighted_first_step_matches_weights():
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    g = as_graph(pd.DataFrame({"src": [0, 0, 0, 0], "dst": [1, 2, 3, 4], "weight": weights}))
    n = 50_000
    walks = _walk(g, np.zeros(n, np.int32), walk_length=2, seed=11)
    counts = np.bincount(walks[:, 1], minlength=5)[1:]
    expected = n * weights / weights.sum()
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 16.3  # 99.9% quantile of chi-square with 3 degrees of freedom


def test_alias_tables_are_exact():
    indptr = np.array([0, 3, 3, 5], np.int64)
    w = np.array([1.0, 1.0, 2.0, 5.0, 5.0], np.float32)
    prob, alias = build_alias(indptr, w)
    for lo, hi in ((0, 3), (3, 5)):
        d = hi - lo
        mass = np.zeros(d)
        for k in range(d):
            mass[k] += prob[lo + k] / d
            mass[alias[lo + k]] += (1 - prob[lo + k]) / d
        np.testing.assert_allclose(mass, w[lo:hi] / w[lo:hi].sum(), atol=1e-6)


def test_walks_written_in_place_into_out():
    """``out=`` (a slice of one walk array for all rounds) gets the same walks as a fresh array;
    a wrong shape, dtype or layout is refused, naming ``out``."""
    g = as_graph(pd.DataFrame({"src": [0, 1, 2, 3, 0], "dst": [1, 2, 3, 0, 2]}))
    starts = np.arange(4, dtype=np.int32)
    fresh = random_walks(g.indptr, g.indices, g.weights, starts, walk_length=6, p=0.5, q=2.0, seed=3)
    big = np.full((8, 6), -7, np.int32)
    got = random_walks(g.indptr, g.indices, g.weights, starts, walk_length=6, p=0.5, q=2.0, seed=3,
                       out=big[4:])
    assert np.shares_memory(got, big)
    np.testing.assert_array_equal(big[4:], fresh)
    assert (big[:4] == -7).all()
    for bad in (np.empty((4, 5), np.int32), np.empty((4, 6), np.int64), np.empty((6, 4), np.int32).T):
        with pytest.raises(ValueError, match="out must be a C-contiguous int32 array of shape"):
            random_walks(g.indptr, g.indices, g.weights, starts, walk_length=6, out=bad)


def test_start_rows_out_of_range_are_an_error():
    from graphemb._walks import random_walks

    indptr = np.array([0, 1, 2], np.int64)
    indices = np.array([1, 0], np.int32)
    with pytest.raises(ValueError, match=r"starts must be rows in \[0, 2\)"):
        random_walks(indptr, indices, None, np.array([0, 5], np.int32), walk_length=3)
