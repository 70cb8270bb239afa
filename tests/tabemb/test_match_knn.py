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


def test_supervised_comparators_hand_computed():
    import pandas as pd

    from tabemb._match_comparators import compare, prepare

    a = pd.Series(["sony PS-LX350H turntable", "office 2004 v3.0", None, "the red box"])
    b = pd.Series(["pslx350h belt drive turntable", "office 2007 3", "x", "the box"])
    i = np.arange(4)

    def run(kind):
        vocab = {}
        return compare(prepare(a, kind, token_vocab=vocab), prepare(b, kind, token_vocab=vocab), i, i, kind)

    code = run("code")  # codes: {pslx350h} vs {pslx350h}; {2004} vs {2007}; none in row 3
    assert code[0] == 1.0 and code[1] == 0.0 and np.isnan(code[2]) and np.isnan(code[3])
    num = run("number")  # numbers: {350} / {350}; {2004, 3} / {2007, 3}: 1 of min(2, 2)
    assert num[0] == 1.0 and num[1] == 0.5 and np.isnan(num[3])
    # idf over the 7 non-missing values of both columns: "the" and "box" occur in 2 docs, "red" in 1
    w = {t: (np.log(8 / (1 + df)) + 1) ** 2 for t, df in {"the": 2, "box": 2, "red": 1}.items()}
    cos = (w["the"] + w["box"]) / np.sqrt((w["the"] + w["red"] + w["box"]) * (w["the"] + w["box"]))
    np.testing.assert_allclose(run("tfidf")[3], cos, rtol=1e-6)
    np.testing.assert_allclose(run("contain")[3], 1.0)  # every word of "the box" is in "the red box"
    assert np.isnan(run("tfidf")[2]) and np.isnan(run("contain")[2])


def test_ivf_topk_one_cell_is_exact_and_more_cells_find_near_copies():
    from tabemb._match_knn import ivf_topk

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ex, _ = exact_topk(x, None, 4)
    one = ivf_topk(x, None, 4, n_cells=1)
    np.testing.assert_array_equal(np.sort(one, axis=1), np.sort(ex, axis=1))
    y = x + 0.01 * rng.normal(size=x.shape).astype(np.float32)  # near copies
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    nn = ivf_topk(y, x, 1, n_probe=3, random_state=0)
    assert (nn[:, 0] == np.arange(300)).mean() >= 0.95
    np.testing.assert_array_equal(nn, ivf_topk(y, x, 1, n_probe=3, random_state=0))  # deterministic
    assert not (ivf_topk(x, None, 3, n_probe=2) == np.arange(300)[:, None]).any()
    with pytest.raises(ValueError, match="k must be"):
        ivf_topk(x, None, 0)


def test_dedupe_through_ivf_blocking_finds_duplicates(monkeypatch):
    import tabemb._match as match
    from tabemb import clusters_to_pairs, corrupt_records, dedupe, generate_people, pair_metrics

    rec, ent = corrupt_records(generate_people(150, random_state=0), random_state=1)
    monkeypatch.setattr(match, "_EXACT_MAX", 10)  # force the approximate path
    res = dedupe(rec, n_neighbors=5, random_state=0)
    m = pair_metrics(clusters_to_pairs(res.clusters), clusters_to_pairs(ent), unordered=True)
    assert m["f1"] >= 0.9
    with pytest.raises(ValueError, match="approximate"):
        dedupe(rec, approximate="hnsw")
