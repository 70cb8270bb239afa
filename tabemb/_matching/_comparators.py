"""Per-column comparators for record matching: vectorised over arrays of pairs.

Every comparator takes two columns (one per table) and two integer arrays
``ia, ib`` of row positions (one entry per candidate pair) and returns one
float32 value per pair, NaN where either value is missing:

- ``jaro_winkler``: Jaro-Winkler similarity in [0, 1] (Winkler 1990: prefix
  scale 0.1, prefix up to 4 characters), computed by a compiled (numba) loop
  over the pairs on the code points of the lower-cased, stripped strings.
- ``token``: Jaccard overlap of the sets of whitespace/punctuation tokens,
  in [0, 1] (tokens are factorised to integers once; the intersection is a
  merge of two sorted integer runs, compiled).
- ``tfidf``: cosine of the token sets with each token weighted by its
  inverse document frequency over the two compared columns (smoothed, as
  scikit-learn's: ``log((1 + N) / (1 + df)) + 1``), in [0, 1]: agreeing on a
  rare word (a model name) counts more than agreeing on "the".
- ``code``: overlap coefficient ``|A & B| / min(|A|, |B|)`` of the *codes*
  of the two values: tokens of 3+ characters holding a digit, with inner
  punctuation removed (``PS-LX350H`` and ``pslx350h`` agree); NaN when either
  value has no code. Product and model numbers, part numbers.
- ``contain``: the same weights, shared weight over the smaller of the two
  (``w(A & B) / min(w(A), w(B))``, squared weights), in [0, 1]: 1 when one
  value's words are all in the other (a short title inside a long one).
- ``number``: overlap coefficient of the number tokens (``3.0`` = ``3``,
  versions, sizes, years); NaN when either value has none.
- ``numeric``: relative difference ``|a - b| / max(|a|, |b|)`` in [0, 1]
  (0 when both are 0); strings are parsed as numbers, others are missing.
- ``date``: absolute difference in days (day/month swaps count as 1 day).
- ``exact``: 1.0 if equal (after strip + lower-case for strings), else 0.0.

Each column is prepared once per table (:func:`prepare`) so that the pair
loop touches only flat arrays; nothing per pair runs in Python.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

__all__ = ["COMPARATORS", "compare", "jaro_winkler", "prepare"]

COMPARATORS = ("jaro_winkler", "token", "tfidf", "contain", "code", "number", "numeric", "date", "exact")


# -- string encoding ---------------------------------------------------------------
def _clean_strings(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip().str.lower()
    return s.mask(s == "")


def _encode(values: pd.Series):
    """Flat uint32 code points + offsets for the non-missing strings (missing = empty)."""
    s = _clean_strings(values)
    null = s.isna().to_numpy()
    filled = s.fillna("")
    lens = filled.str.len().to_numpy(dtype=np.int64)
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    joined = "".join(filled.tolist())
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32) if joined else \
        np.zeros(0, dtype=np.uint32)
    return codes, offsets, null


@numba.njit(cache=True, nogil=True)
def _jw_one(a, b, prefix_scale):
    la, lb = len(a), len(b)
    if la == 0 or lb == 0:
        return 0.0
    window = max(la, lb) // 2 - 1
    if window < 0:
        window = 0
    ma = np.zeros(la, dtype=np.bool_)
    mb = np.zeros(lb, dtype=np.bool_)
    m = 0
    for i in range(la):
        lo = max(0, i - window)
        hi = min(lb, i + window + 1)
        for j in range(lo, hi):
            if not mb[j] and a[i] == b[j]:
                ma[i] = True
                mb[j] = True
                m += 1
                break
    if m == 0:
        return 0.0
    t = 0
    j = 0
    for i in range(la):
        if ma[i]:
            while not mb[j]:
                j += 1
            if a[i] != b[j]:
                t += 1
            j += 1
    jaro = (m / la + m / lb + (m - t / 2.0) / m) / 3.0
    p = 0
    for i in range(min(4, la, lb)):
        if a[i] == b[i]:
            p += 1
        else:
            break
    return jaro + p * prefix_scale * (1.0 - jaro)


@numba.njit(cache=True, parallel=True, nogil=True)
def _jw_pairs(ca, oa, cb, ob, ia, ib, prefix_scale):
    n = len(ia)
    out = np.empty(n, dtype=np.float32)
    for k in numba.prange(n):
        i = ia[k]
        j = ib[k]
        out[k] = _jw_one(ca[oa[i]:oa[i + 1]], cb[ob[j]:ob[j + 1]], prefix_scale)
    return out


@numba.njit(cache=True, nogil=True)
def _sorted_intersection(x, y):
    """Number of ids two sorted, duplicate-free id runs share (one merge pass)."""
    p = 0
    q = 0
    inter = 0
    while p < len(x) and q < len(y):
        if x[p] == y[q]:
            inter += 1
            p += 1
            q += 1
        elif x[p] < y[q]:
            p += 1
        else:
            q += 1
    return inter


@numba.njit(cache=True, parallel=True, nogil=True)
def _set_overlap_pairs(ta, oa, tb, ob, ia, ib, over_min):
    """Overlap of sorted id runs: Jaccard ``|A & B| / |A | B|``, or with ``over_min``
    ``|A & B| / min(|A|, |B|)``; NaN when either is empty."""
    n = len(ia)
    out = np.empty(n, dtype=np.float32)
    for k in numba.prange(n):
        x = ta[oa[ia[k]]:oa[ia[k] + 1]]
        y = tb[ob[ib[k]]:ob[ib[k] + 1]]
        if len(x) == 0 or len(y) == 0:
            out[k] = np.nan
            continue
        inter = _sorted_intersection(x, y)
        out[k] = inter / (min(len(x), len(y)) if over_min else len(x) + len(y) - inter)
    return out


@numba.njit(cache=True, parallel=True, nogil=True)
def _weighted_cosine_pairs(ta, oa, na2, tb, ob, nb2, w2, ia, ib, contain):
    """sum of w^2 over shared ids / (|A|_w |B|_w) of sorted id runs (``contain``: over the
    smaller of ``|A|_w^2, |B|_w^2``); NaN when either is empty."""
    n = len(ia)
    out = np.empty(n, dtype=np.float32)
    for k in numba.prange(n):
        i = ia[k]
        j = ib[k]
        x = ta[oa[i]:oa[i + 1]]
        y = tb[ob[j]:ob[j + 1]]
        if len(x) == 0 or len(y) == 0:
            out[k] = np.nan
            continue
        p = 0
        q = 0
        acc = 0.0
        while p < len(x) and q < len(y):
            if x[p] == y[q]:
                acc += w2[x[p]]
                p += 1
                q += 1
            elif x[p] < y[q]:
                p += 1
            else:
                q += 1
        den = min(na2[i], nb2[j]) if contain else np.sqrt(na2[i] * nb2[j])
        out[k] = min(1.0, acc / den)
    return out


def _row_sums(ids: np.ndarray, offsets: np.ndarray, w: np.ndarray) -> np.ndarray:
    rows = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return np.bincount(rows, weights=w[ids], minlength=len(offsets) - 1)


def jaro_winkler(a, b, *, prefix_scale: float = 0.1) -> np.ndarray:
    """Jaro-Winkler similarity of ``a[i]`` and ``b[i]`` (strings, case-insensitive).

    Parameters
    ----------
    a, b : str or sequence of str of the same length
    prefix_scale : float, default 0.1
        Winkler's prefix weight (common prefix counted up to 4 characters).

    Returns
    -------
    float32 ndarray of shape (n,) (a scalar input gives shape (1,)); NaN where a
    value is missing.

    Examples
    --------
    >>> [round(float(v), 3) for v in jaro_winkler(["MARTHA", "DWAYNE", "DIXON"],
    ...                                           ["MARHTA", "DUANE", "DICKSONX"])]
    [0.961, 0.84, 0.813]
    """
    a = pd.Series([a] if isinstance(a, str) else list(a), dtype=object)
    b = pd.Series([b] if isinstance(b, str) else list(b), dtype=object)
    if len(a) != len(b):
        raise ValueError(f"a and b must have the same length, got {len(a)} and {len(b)}")
    pa, pb = prepare(a, "jaro_winkler"), prepare(b, "jaro_winkler")
    idx = np.arange(len(a), dtype=np.int64)
    return compare(pa, pb, idx, idx, "jaro_winkler", prefix_scale=prefix_scale)


# -- preparation (once per column and table) -----------------------------------------
_TOKEN_SPLIT = r"[^\w]+"
_CODE_STRIP = r"[^\w]+"


def _token_sets(flat: pd.Series, null: np.ndarray, n: int, token_vocab: dict | None):
    """Sorted distinct token ids per row (CSR) from the exploded tokens ``flat`` (index = row)."""
    flat = flat[flat.notna() & (flat != "")]
    vocab = token_vocab if token_vocab is not None else {}
    uniq = pd.unique(flat.to_numpy(dtype=object))
    for t in uniq:
        if t not in vocab:
            vocab[t] = len(vocab)
    ids = flat.map(vocab).to_numpy(dtype=np.int64)
    rows = flat.index.to_numpy(dtype=np.int64)
    order = np.lexsort((ids, rows))
    rows, ids = rows[order], ids[order]
    keep = np.ones(len(ids), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (ids[1:] != ids[:-1])
    rows, ids = rows[keep], ids[keep]
    counts = np.bincount(rows, minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ids, offsets, null | (counts == 0)


def prepare(values: pd.Series, kind: str, *, token_vocab: dict | None = None):
    """Turn one column into the flat arrays its comparator reads.

    ``token_vocab`` (token -> int) is shared by the two tables of a column so
    that token ids agree; it is extended in place.
    """
    values = pd.Series(values).reset_index(drop=True)
    if kind == "jaro_winkler":
        return _encode(values)
    if kind in ("token", "tfidf", "contain"):
        s = _clean_strings(values)
        null = s.isna().to_numpy()
        flat = s.fillna("").str.split(_TOKEN_SPLIT, regex=True).explode()
        return _token_sets(flat, null, len(values), token_vocab)
    if kind == "code":
        s = _clean_strings(values)
        null = s.isna().to_numpy()
        flat = s.fillna("").str.split().explode()
        flat = flat[flat.notna()].str.replace(_CODE_STRIP, "", regex=True)
        flat = flat[(flat.str.len() >= 3) & flat.str.contains(r"\d", regex=True)]
        return _token_sets(flat, null, len(values), token_vocab)
    if kind == "number":
        s = _clean_strings(values)
        null = s.isna().to_numpy()
        flat = s.fillna("").str.findall(r"\d+(?:\.\d+)?").explode()
        flat = flat[flat.notna()].str.replace(r"\.0+$", "", regex=True).str.lstrip("0").replace("", "0")
        return _token_sets("#" + flat, null, len(values), token_vocab)
    if kind == "numeric":
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return (x,)
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(values):
            d = pd.to_datetime(values)
        else:
            s = values.astype("string").str.strip()
            d = pd.to_datetime(s, errors="coerce", format="mixed")
        days = (d - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=np.float64, na_value=np.nan)
        month = d.dt.month.to_numpy(dtype=np.float64, na_value=np.nan)
        day = d.dt.day.to_numpy(dtype=np.float64, na_value=np.nan)
        year = d.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
        return days, year, month, day
    if kind == "exact":
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            s = _clean_strings(values)
        else:
            s = values
        return (pd.Series(s).to_numpy(dtype=object, na_value=None),)
    raise ValueError(f"comparator must be one of {COMPARATORS}, got {kind!r}")


def compare(pa, pb, ia: np.ndarray, ib: np.ndarray, kind: str, *,
            prefix_scale: float = 0.1) -> np.ndarray:
    """Compare prepared columns ``pa`` (table A) and ``pb`` (table B) on pairs ``(ia[k], ib[k])``.

    Returns float32 of shape (n_pairs,), NaN where either value is missing.
    """
    ia = np.ascontiguousarray(ia, dtype=np.int64)
    ib = np.ascontiguousarray(ib, dtype=np.int64)
    if kind == "jaro_winkler":
        ca, oa, na = pa
        cb, ob, nb = pb
        out = _jw_pairs(ca, oa, cb, ob, ia, ib, float(prefix_scale))
        out[na[ia] | nb[ib]] = np.nan
        return out
    if kind == "token":
        ta, oa, na = pa
        tb, ob, nb = pb
        out = _set_overlap_pairs(ta, oa, tb, ob, ia, ib, False)
        out[na[ia] | nb[ib]] = np.nan
        return out
    if kind in ("tfidf", "contain"):
        ta, oa, na = pa
        tb, ob, nb = pb
        size = int(max(ta.max(initial=-1), tb.max(initial=-1))) + 1
        df = np.bincount(ta, minlength=size)
        n_docs = int((np.diff(oa) > 0).sum())
        if pb is not pa:
            df = df + np.bincount(tb, minlength=size)
            n_docs += int((np.diff(ob) > 0).sum())
        w2 = np.square(np.log((1.0 + n_docs) / (1.0 + df)) + 1.0)
        out = _weighted_cosine_pairs(ta, oa, _row_sums(ta, oa, w2), tb, ob, _row_sums(tb, ob, w2), w2, ia, ib,
                                     kind == "contain")
        out[na[ia] | nb[ib]] = np.nan
        return out
    if kind in ("code", "number"):
        ta, oa, _ = pa
        tb, ob, _ = pb
        return _set_overlap_pairs(ta, oa, tb, ob, ia, ib, True)
    if kind == "numeric":
        xa, xb = pa[0][ia], pb[0][ib]
        den = np.maximum(np.abs(xa), np.abs(xb))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(den > 0, np.abs(xa - xb) / den, 0.0)
        out[np.isnan(xa) | np.isnan(xb)] = np.nan
        return out.astype(np.float32)
    if kind == "date":
        da, ya, ma, dda = (v[ia] for v in pa)
        db, yb, mb, ddb = (v[ib] for v in pb)
        out = np.abs(da - db)
        swapped = (ya == yb) & (ma == ddb) & (dda == mb) & (ma != mb)
        out = np.where(swapped, np.minimum(out, 1.0), out)
        return out.astype(np.float32)
    if kind == "exact":
        sa, sb = pa[0], pb[0]
        va, vb = sa[ia], sb[ib]
        miss = pd.isna(va) | pd.isna(vb)
        eq = (va == vb).astype(bool)
        out = np.where(miss, np.nan, eq.astype(np.float64))
        return out.astype(np.float32)
    raise ValueError(f"comparator must be one of {COMPARATORS}, got {kind!r}")
