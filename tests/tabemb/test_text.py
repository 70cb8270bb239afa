"""tabemb._text: the linear document-frequency count (moved here from test_match_knn.py)."""

import numpy as np
import pytest

from tabemb._text import idf_weights


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


