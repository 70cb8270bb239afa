"""tabemb._text: the compiled n-gram hashing (char and char_wb analyzers) and the document-frequency count."""

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from tabemb._text import hash_char_ngrams, hash_parts, idf_weights, take_ragged, text_codes

VALUES = ["Sony  Bravia KDL-40XBR", "a b", "x", "hp laserjet 1020 (q5911a)", "  lead  and trail "]


@pytest.mark.parametrize("ngram_range", [(2, 4), (3, 5), (2, 2)])
def test_char_wb_emits_scikit_learns_char_wb_ngrams(ngram_range):
    analyzer = CountVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    for v in VALUES:
        grams = analyzer(v)
        ids, _ = hash_char_ngrams(pd.Series([v]), n_buckets=1 << 30, salt=3, ngram_range=ngram_range,
                                       char_wb=True)
        assert len(ids) == len(grams), v  # one key per n-gram, repeats included
        assert len(np.unique(ids)) == len(set(grams)), v  # distinct n-grams -> distinct buckets
        full, _ = hash_char_ngrams(pd.Series([v]), n_buckets=1 << 30, salt=3, ngram_range=ngram_range)
        # every within-word n-gram is one of the n-grams across words, and the cross-word ones are gone
        assert set(ids) <= set(full)
        if ngram_range[1] >= 3 and " " in v.strip():  # (2-grams never hold a space inside)
            assert len(set(full) - set(ids)) > 0


def test_char_wb_counts_and_words_together():
    codes, st, en = text_codes(pd.Series(["ab ab", None]))
    _ids, tf, indptr = hash_parts(codes, st, en, n_buckets=1 << 30, salt=0, ngram_range=(2, 3), words=1,
                                 char_wb=True)
    # " ab ab " within words: " a", "ab", "b ", " ab", "ab " twice each, the word "ab" twice
    assert indptr.tolist() == [0, 6, 6]
    assert sorted(tf.tolist()) == [2.0] * 6


def test_hashing_exact_counts_and_typos():
    s = pd.Series(["ab", None, "", "Abc"], dtype="string")
    ids, indptr = hash_char_ngrams(s, n_buckets=1 << 20, salt=1, ngram_range=(2, 4))
    # " ab " has 3 bigrams, 2 trigrams, 1 four-gram; " abc " has 4 + 3 + 2; missing and empty: none
    assert np.diff(indptr).tolist() == [6, 0, 0, 9]
    # case-insensitive and deterministic
    ids2, _ = hash_char_ngrams(pd.Series(["AB"]), n_buckets=1 << 20, salt=1)
    assert sorted(ids2.tolist()) == sorted(ids[:6].tolist())
    # a one-letter typo keeps most n-grams
    a, _ = hash_char_ngrams(pd.Series(["jonathan"]), n_buckets=1 << 20, salt=1)
    b, _ = hash_char_ngrams(pd.Series(["jonathon"]), n_buckets=1 << 20, salt=1)
    c, _ = hash_char_ngrams(pd.Series(["margaret"]), n_buckets=1 << 20, salt=1)
    assert len(set(a) & set(b)) >= 15 and len(set(a) & set(c)) <= 2


def test_idf_and_take_ragged():
    ids = np.array([0, 1, 1, 2])
    indptr = np.array([0, 3, 3, 4])  # row 0: {0, 1, 1}, row 1: empty, row 2: {2}
    idf = idf_weights(ids, indptr, 3)
    n = 2  # rows with any n-gram
    np.testing.assert_allclose(idf, [np.log(3 / 2) + 1, np.log(3 / 2) + 1, np.log(3 / 2) + 1], rtol=1e-6)
    assert n == 2
    pos, counts = take_ragged(indptr, np.array([2, 0, 1]))
    assert pos.tolist() == [3, 0, 1, 2] and counts.tolist() == [1, 3, 0]


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


