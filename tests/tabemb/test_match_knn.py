"""Exact two-sided top-k blocking and the linear document-frequency count."""

import numpy as np
import pytest

from tabemb._match_knn import exact_topk
from tabemb._text import idf_weights


def _brute(a, b, k, self_join=False):
    sim = a @ b.T
    if self_join:
        np.fill_diagonal(sim, -np.inf)
    out = []
    for row in sim:
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))  # best first, ties: smaller row
        out.append(order[:k])
    return np.array(out, dtype=np.int64).reshape(len(a), -1)


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_exact_topk_both_directions_match_brute_force(block_bytes):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(37, 5)).astype(np.float32)
    b = rng.normal(size=(23, 5)).astype(np.float32)
    b[5] = b[3]  # a tie: row 3 must come first
    nn_a, nn_b = exact_topk(a, b, 3, 2, block_bytes=block_bytes)
    np.testing.assert_array_equal(nn_a, _brute(a, b, 3))
    np.testing.assert_array_equal(nn_b, _brute(b, a, 2))


def test_exact_topk_self_join_never_returns_self_and_caps_k():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(9, 4)).astype(np.float32)
    nn, nn_b = exact_topk(a, None, 3, block_bytes=40)
    np.testing.assert_array_equal(nn, _brute(a, a, 3, self_join=True))
    assert nn_b.shape == (9, 0)
    assert not (nn == np.arange(9)[:, None]).any()
    nn, _ = exact_topk(a[:3], None, 10)  # only 2 others exist
    assert nn.shape == (3, 2)
    with pytest.raises(ValueError, match="same width"):
        exact_topk(a, a[:, :2], 1)
    with pytest.raises(ValueError, match="k_a and k_b"):
        exact_topk(a, a, -1)


def test_idf_weights_equals_sorting_reference():
    rng = np.random.default_rng(2)
    nb = 50
    counts = rng.integers(0, 12, size=200)
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    ids = rng.integers(0, nb, size=indptr[-1]).astype(np.int64)  # repeats inside rows on purpose
    rows = np.repeat(np.arange(len(counts)), counts)
    pair = np.unique(rows * nb + ids)
    df = np.bincount(pair % nb, minlength=nb)
    n_docs = int((counts > 0).sum())
    ref = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
    np.testing.assert_array_equal(idf_weights(ids, indptr, nb), ref)
    with pytest.raises(ValueError, match="n_buckets"):
        idf_weights(ids, indptr, 10)
