"""tabemb._matching._context: record-context pair features (rank / gap among whole-table partners)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tabemb import RecordMatcher
from tabemb._matching import _context as mc
from tabemb._matching._context import CONTEXT_FEATURES, char_tfidf, context_features


def _unit(x):
    x = np.asarray(x, dtype=np.float32)
    return sp.csr_matrix(x / np.linalg.norm(x, axis=1, keepdims=True))


def _brute(xa, xb, ia, ib, self_join):
    s = (xa @ xb.T).toarray().astype(np.float64)
    if self_join:
        np.fill_diagonal(s, -np.inf)
    sp_ = s[ia, ib] if not self_join else (xa[ia].multiply(xb[ib]).sum(axis=1).A.ravel())
    rank_a = 1 + (s[ia] > sp_[:, None] + 1e-6).sum(axis=1)
    rank_b = 1 + (s[:, ib].T > sp_[:, None] + 1e-6).sum(axis=1)
    return np.c_[sp_, rank_a, rank_b, sp_ - s[ia].max(axis=1), sp_ - s[:, ib].max(axis=0)]


def test_hand_made_ranks_and_gaps():
    # A0 is closest to B0, then B1; B1's best partner is A1, so (A0, B1) is second on both sides
    xa = _unit([[1, 0, 0], [0, 1, 0]])
    xb = _unit([[1, 0.1, 0], [0.6, 1, 0], [0, 0, 1]])
    got = context_features(xa, xb, np.array([0, 0, 1, 0]), np.array([0, 1, 1, 2]))
    assert got.shape == (4, len(CONTEXT_FEATURES))
    cos01 = 0.6 / np.sqrt(1.36)
    np.testing.assert_allclose(got[0], [1 / np.sqrt(1.01), 1, 1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(got[1], [cos01, 2, 2, cos01 - 1 / np.sqrt(1.01), cos01 - 1 / np.sqrt(1.36)],
                               atol=1e-6)
    np.testing.assert_allclose(got[2, 1:3], [1, 1])  # mutual best
    np.testing.assert_allclose(got[3], [0, 3, 1, -1 / np.sqrt(1.01), 0], atol=1e-6)  # B2 has no partner


@pytest.mark.parametrize("self_join", [False, True])
def test_matches_brute_force_across_blocks(monkeypatch, self_join):
    rng = np.random.default_rng(0)
    xa = _unit(rng.random((37, 6)) * (rng.random((37, 6)) < 0.6) + 1e-3)
    xb = xa if self_join else _unit(rng.random((23, 6)) * (rng.random((23, 6)) < 0.6) + 1e-3)
    ia = rng.integers(0, xa.shape[0], 200)
    ib = rng.integers(0, xb.shape[0], 200)
    if self_join:
        keep = ia != ib
        ia, ib = ia[keep], ib[keep]
    want = _brute(xa, xb, ia, ib, self_join)
    got_one = context_features(xa, xb, ia, ib, self_join=self_join)
    monkeypatch.setattr(mc, "_BLOCK_BYTES", 4 * xb.shape[0] * 5)  # 5 rows per block
    got_blocks = context_features(xa, xb, ia, ib, self_join=self_join)
    np.testing.assert_allclose(got_one, want, atol=1e-5)
    np.testing.assert_array_equal(got_one, got_blocks)


def test_self_join_never_counts_itself():
    x = _unit([[1, 0], [1, 0.01], [0, 1]])
    got = context_features(x, x, np.array([0]), np.array([1]), self_join=True)
    np.testing.assert_allclose(got[0, 1:], [1, 1, 0, 0], atol=1e-6)  # without self_join, rank 2
    assert context_features(x, x, np.array([0]), np.array([1]))[0, 1] == 2


def test_char_tfidf_and_bad_input():
    xa, xb = char_tfidf(pd.Series(["sony bravia 40", None]), pd.Series(["Sony Bravia 40", "apple"]))
    assert xa.shape[0] == 2 and xb.shape[0] == 2
    np.testing.assert_allclose((xa @ xb.T).toarray()[0, 0], 1.0, atol=1e-6)  # case-insensitive
    assert xa[1].nnz == 0  # a missing text has no 3-gram: similarity 0 to everything
    x1, x2 = char_tfidf(pd.Series(["", None]), None)
    assert x1 is x2 and x1.nnz == 0
    assert context_features(xa, xb, np.zeros(0, int), np.zeros(0, int)).shape == (0, 5)
    with pytest.raises(ValueError, match="same shape"):
        context_features(xa, xb, np.array([0, 1]), np.array([0]))


PRODUCTS_A = pd.DataFrame({"title": ["acme photo editor 2007", "acme photo editor 2008", "zeta backup pro 5",
                                     "zeta backup pro 6", "orbit mail server", "lumen office suite"],
                           "price": [49.0, 59.0, 30.0, 35.0, 300.0, 99.0]},
                          index=[f"a{i}" for i in range(6)])
PRODUCTS_B = pd.DataFrame({"title": ["acme photo editor 2007 win", "acme photo editor 2008 win",
                                     "zeta backup pro 5 box", "zeta backup pro 6.0", "orbit mail srv",
                                     "lumen office"],
                           "price": [48.0, 59.0, 31.0, 35.0, 290.0, 99.0]},
                          index=[f"b{i}" for i in range(6)])


def test_matcher_context_features_on_off_and_round_trip(tmp_path):
    swaps = [(0, 1), (1, 0), (2, 3), (3, 2), (4, 5), (5, 4)]
    rows = [(f"a{i}", f"b{i}", 1) for i in range(6)] + [(f"a{i}", f"b{j}", 0) for i, j in swaps]
    labels = pd.DataFrame(rows,
                          columns=["index_a", "index_b", "label"])
    tp = {"max_iter": 20, "min_samples_leaf": 2}
    m = RecordMatcher(random_state=0, tree_params=tp).fit(PRODUCTS_A, PRODUCTS_B, labels=labels)
    names = [f"<row>__{n}" for n in CONTEXT_FEATURES]
    assert m.feature_names_[-5:] == names
    s = m.score_pairs(PRODUCTS_A, PRODUCTS_B, labels)
    # each true pair is the mutual best partner; each edition swap is not
    assert (s.loc[:5, "<row>__rank_a"] == 1).all() and (s.loc[:5, "<row>__rank_b"] == 1).all()
    assert (s.loc[6:, "<row>__rank_a"] >= 2).all()
    assert (s.loc[:5, "score"].min() > s.loc[6:, "score"].max())
    m.save(tmp_path / "m")
    m2 = RecordMatcher.load(tmp_path / "m")
    assert m2.feature_names_ == m.feature_names_
    pd.testing.assert_frame_equal(m2.score_pairs(PRODUCTS_A, PRODUCTS_B, labels), s)
    off = RecordMatcher(random_state=0, tree_params=tp, context_features=False).fit(
        PRODUCTS_A, PRODUCTS_B, labels=labels)
    assert not any(n in off.feature_names_ for n in names)
    assert off.score_pairs(PRODUCTS_A, PRODUCTS_B, labels).shape[1] == s.shape[1] - 5
    # unsupervised: Fellegi-Sunter never gets them
    fs = RecordMatcher(random_state=0, n_neighbors=2).fit(PRODUCTS_A, PRODUCTS_B)
    assert fs.mode_ == "fellegi_sunter" and not any(n in fs.feature_names_ for n in names)


def test_matcher_context_features_warn_on_large_tables(monkeypatch):
    from tabemb._matching import _features

    labels = pd.DataFrame([(f"a{i}", f"b{i}", 1) for i in range(6)] + [("a0", "b1", 0), ("a2", "b3", 0)],
                          columns=["index_a", "index_b", "label"])
    tp = {"max_iter": 5, "min_samples_leaf": 2}
    monkeypatch.setattr(_features, "_CONTEXT_WARN_PAIRS", 35)  # 6 x 6 = 36 record pairs
    with pytest.warns(UserWarning, match="context_features=False"):
        RecordMatcher(random_state=0, tree_params=tp).fit(PRODUCTS_A, PRODUCTS_B, labels=labels)
    monkeypatch.setattr(_features, "_CONTEXT_WARN_PAIRS", 36)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RecordMatcher(random_state=0, tree_params=tp).fit(PRODUCTS_A, PRODUCTS_B, labels=labels)
