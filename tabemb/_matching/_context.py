"""Record-context pair features: how a pair ranks among each record's whole-table similarities.

A pair's own similarity says how alike two records are; on product data
many non-matches are alike too (the 2007 and 2008 editions of one program,
one camera in two colours). What separates the match is often that it is
the *best* partner a record has in the other table. These features give the
scorer that view, without labels:

- ``char_cos``: cosine of the two records' whole-text TF-IDF vectors over
  character 3-grams (within words, padded by a space: scikit-learn's
  ``char_wb``), IDF fitted on the texts of both tables;
- ``rank_a``: 1 + the number of records of B more similar to ``a`` than ``b``
  is (1 = ``b`` is ``a``'s best partner; ties count as equal);
- ``rank_b``: the same for ``a`` among ``b``'s partners in A;
- ``gap_a``: ``char_cos(a, b) - max over B of char_cos(a, .)`` (0 for the best);
- ``gap_b``: the same from ``b``'s side.

A mutual best pair has ``rank_a == rank_b == 1``. For deduplication both
sides are the one table, a record never counting itself.

Cost: the full similarity matrix of the two tables, one sparse product per
block of rows (dense blocks of about 64 MiB), in each direction: fine for
tables of tens of thousands of rows, quadratic beyond. ``RecordMatcher``
switches these features on for supervised matching (``context_features``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["CONTEXT_FEATURES", "char_tfidf", "context_features"]

CONTEXT_FEATURES = ("char_cos", "rank_a", "rank_b", "gap_a", "gap_b")
_BLOCK_BYTES = 64 << 20
_TIE = 1e-6  # similarities closer than this count as equal when ranking


def char_tfidf(text_a: pd.Series, text_b: pd.Series | None) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """L2-normalised character 3-gram TF-IDF rows of two text columns (IDF over both).

    ``text_b=None`` (deduplication) returns the same matrix twice.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    ta = pd.Series(text_a).astype("string").fillna("").str.lower()
    tb = None if text_b is None else pd.Series(text_b).astype("string").fillna("").str.lower()
    corpus = ta if tb is None else pd.concat([ta, tb], ignore_index=True)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), lowercase=False, dtype=np.float32)
    try:
        vec.fit(corpus.tolist())
    except ValueError:  # no 3-gram anywhere (e.g. every text shorter than 2 characters)
        za = sp.csr_matrix((len(ta), 1), dtype=np.float32)
        return za, za if tb is None else sp.csr_matrix((len(tb), 1), dtype=np.float32)
    xa = vec.transform(ta.tolist()).tocsr()
    xb = xa if tb is None else vec.transform(tb.tolist()).tocsr()
    return xa, xb


def _one_side(x: sp.csr_matrix, y: sp.csr_matrix, rows: np.ndarray, s_pair: np.ndarray, self_join: bool
              ) -> tuple[np.ndarray, np.ndarray]:
    """Per pair ``k``: 1 + the number of rows of ``y`` more similar to row ``rows[k]`` of ``x`` than
    ``s_pair[k]``, and that row's best similarity."""
    n_x, n_y = x.shape[0], y.shape[0]
    rank = np.ones(len(rows), dtype=np.float32)
    best = np.zeros(len(rows), dtype=np.float32)
    if len(rows) == 0 or n_y == 0:
        return rank, best
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    block = max(1, _BLOCK_BYTES // (4 * n_y))
    yt = y.T.tocsc()
    for s in range(0, n_x, block):
        e = min(n_x, s + block)
        lo, hi = np.searchsorted(sorted_rows, [s, e])
        if lo == hi:
            continue
        sel = order[lo:hi]
        need = np.unique(rows[sel])
        sim = (x[need] @ yt).toarray()
        loc = np.searchsorted(need, rows[sel])
        if self_join:
            sim[np.arange(len(need)), need] = -np.inf
        best[sel] = sim.max(axis=1)[loc]
        rank[sel] = 1 + (sim[loc] > (s_pair[sel, None] + _TIE)).sum(axis=1)
    return rank, best


def context_features(xa: sp.csr_matrix, xb: sp.csr_matrix, ia: np.ndarray, ib: np.ndarray, *,
                     self_join: bool = False) -> np.ndarray:
    """(n_pairs, 5) float32: ``char_cos, rank_a, rank_b, gap_a, gap_b`` of pairs ``(ia[k], ib[k])``.

    ``xa``, ``xb``: L2-normalised rows (:func:`char_tfidf`); ``self_join``: the
    two are one table (deduplication), so a record is never its own partner.
    A record with no 3-gram has similarity 0 to everything.
    """
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    if ia.shape != ib.shape:
        raise ValueError(f"ia and ib must have the same shape, got {ia.shape} and {ib.shape}")
    out = np.zeros((len(ia), len(CONTEXT_FEATURES)), dtype=np.float32)
    if len(ia) == 0:
        return out
    s_pair = np.asarray(xa[ia].multiply(xb[ib]).sum(axis=1), dtype=np.float32).ravel()
    rank_a, best_a = _one_side(xa, xb, ia, s_pair, self_join)
    rank_b, best_b = _one_side(xb, xa, ib, s_pair, self_join)
    out[:, 0] = s_pair
    out[:, 1] = rank_a
    out[:, 2] = rank_b
    out[:, 3] = s_pair - best_a
    out[:, 4] = s_pair - best_b
    return out
