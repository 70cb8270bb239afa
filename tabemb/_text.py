"""Vectorised character n-gram hashing (no per-row Python).

A text value is lower-cased, cut to ``max_chars`` characters, padded with one
space at each end (so word starts and ends make their own n-grams), and its
character n-grams (sizes ``ngram_range``) are hashed into ``n_buckets`` buckets
with a per-column salt. Everything is numpy on a fixed-width code-point matrix:
the values are joined into one uint32 code-point array and every n-gram
position is hashed at once, so a typo changes only the few n-grams that cover it and the
value keeps most of its buckets: it lands near the original.

Missing values and empty strings have no n-grams.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["hash_char_ngrams", "idf_weights", "take_ragged", "to_text"]

_M1 = np.uint32(0x9E3779B1)
_M2 = np.uint32(0x85EBCA6B)
_P = np.uint32(0x01000193)


def to_text(s: pd.Series, *, max_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, lengths)``: the padded, lower-cased values' code points, concatenated
    (uint32, one separator after each value), and each value's padded length
    (0 for missing and empty values)."""
    missing = s.isna().to_numpy()
    if s.dtype == object:
        s = s.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
    t = s.astype("string").fillna("").str.strip().str.lower().str.slice(0, max_chars)
    lengths = t.str.len().to_numpy(dtype=np.int64, na_value=0)
    empty = (lengths == 0) | missing
    padded = (" " + t + " ").to_numpy(dtype=object, na_value="")
    padded[empty] = ""
    lengths = np.where(empty, 0, lengths + 2)
    joined = "\x00".join(padded.tolist()) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    return codes, lengths


def hash_char_ngrams(s: pd.Series, *, n_buckets: int, salt: int, ngram_range: tuple[int, int] = (2, 4),
                     max_chars: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Bucket ids of every character n-gram of every value, as a ragged array.

    Returns
    -------
    ids : ndarray of shape (n_ngrams,), int64
        Bucket ids in ``[0, n_buckets)``, grouped by value.
    indptr : ndarray of shape (n_values + 1,), int64
        Value ``i``'s n-grams are ``ids[indptr[i]:indptr[i + 1]]`` (none for missing values).
    """
    codes, lengths = to_text(s, max_chars=max_chars)
    n = len(lengths)
    total = len(codes)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    row = np.repeat(np.arange(n), lengths + 1)
    pos = np.arange(total) - starts[row] if n else np.zeros(0, dtype=np.int64)
    room = lengths[row] - pos if n else np.zeros(0, dtype=np.int64)  # chars left in the value
    lo, hi = ngram_range
    ks = list(range(lo, hi + 1))
    ids = np.empty((total, len(ks)), dtype=np.int64)
    valid = np.empty((total, len(ks)), dtype=bool)
    padded = np.concatenate([codes, np.zeros(hi, dtype=np.uint32)])
    with np.errstate(over="ignore"):
        for j, k in enumerate(ks):
            h = np.full(total, np.uint32((salt * 7919 + k) & 0xFFFFFFFF) * _M1, dtype=np.uint32)
            for i in range(k):
                h = (h ^ padded[i:i + total]) * _P
            h ^= h >> np.uint32(15)
            h *= _M2
            h ^= h >> np.uint32(13)
            ids[:, j] = h % np.uint32(n_buckets)
            valid[:, j] = room >= k
    counts = np.bincount(row, weights=valid.sum(axis=1), minlength=n).astype(np.int64) if n else \
        np.zeros(0, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return ids[valid], indptr


def idf_weights(ids: np.ndarray, indptr: np.ndarray, n_buckets: int) -> np.ndarray:
    """Smoothed inverse document frequency of each bucket.

    ``idf = log((1 + N) / (1 + df)) + 1`` over the N values that have any n-gram,
    as scikit-learn's TfidfTransformer(smooth_idf=True) does. Shape (n_buckets,).
    """
    counts = np.diff(indptr)
    n_docs = int((counts > 0).sum())
    rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    pair = np.unique(rows * n_buckets + ids)
    df = np.bincount(pair % n_buckets, minlength=n_buckets).astype(np.float64)
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    return idf.astype(np.float32)


def take_ragged(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions into the flat array of the entries of ``rows`` (in order), and their counts."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), counts
    first = np.zeros(len(rows), dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    pos = np.arange(total, dtype=np.int64) - np.repeat(first - starts, counts)
    return pos, counts
