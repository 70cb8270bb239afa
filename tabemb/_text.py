"""Character n-gram (and word) hashing in one compiled pass over a concatenated buffer.

A column's values are joined into one string (missing values -> empty),
lower-cased in one call and viewed as a uint32 code-point buffer. A numba
kernel then walks every row once: it strips each value, collapses runs of
white space to one space (as scikit-learn's char analyzer does), cuts each
value to ``max_chars`` characters, joins the row's parts (one part for a
column; several for the row-text block) with single spaces, pads the result
with one space at each end (so word starts and ends make their own n-grams),
and hashes its character n-grams (sizes ``ngram_range``) into ``n_buckets``
buckets with a per-column salt. Optionally every word (a maximal run of
letters and digits) is hashed too, in its own hash space (``words=1``), and
with ``words=2`` also every white-space token that punctuation splits into
several words, its letters and digits joined, into the bucket of that one
word (``kx-ts208w`` -> the bucket of the word ``kxts208w``; joined tokens
shorter than 4 characters are skipped). The output is CSR:
``ids`` grouped by row and ``indptr``. A typo changes only the few n-grams
that cover it, so the value keeps most of its buckets and lands near the
original.

Missing values and empty strings have no n-grams.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
import pandas as pd

__all__ = ["N_KINDS", "N_TOKEN_KINDS", "bucket_kinds", "embed_blocks", "hash_char_ngrams", "hash_parts",
           "idf_weights", "sketch_columns", "take_ragged",
           "text_codes", "token_kinds", "unit_rows"]


def text_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(codes, starts, ends)``: the lower-cased values as one uint32 code-point buffer,
    and each value's ``[start, end)`` in it (empty for missing values; not stripped).

    Non-string values (numbers in an object column) are written with ``str()``.
    """
    n = len(s)
    missing = s.isna().to_numpy()
    if s.dtype == object:
        arr = s.to_numpy(dtype=object, copy=True)
    elif isinstance(s.dtype, pd.StringDtype):
        arr = s.to_numpy(dtype=object, na_value="")
    else:
        arr = s.astype(str).to_numpy(dtype=object)
    arr[missing] = ""
    try:
        joined = "\x00".join(arr)
    except TypeError:  # mixed object column
        arr = np.array([v if isinstance(v, str) else str(v) for v in arr], dtype=object)
        joined = "\x00".join(arr)
    if joined.count("\x00") != n - 1:  # a value holds NUL itself
        joined = "\x00".join(v.replace("\x00", " ") for v in arr)
    codes = np.frombuffer((joined.lower() + "\x00").encode("utf-32-le"), dtype=np.uint32)
    ends = np.flatnonzero(codes == 0).astype(np.int64)
    starts = np.empty(n, dtype=np.int64)
    if n:
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    return codes, starts, ends


# a joined token (``words=2``) shorter than this is not hashed ("4.0" -> "40" is noise; codes are longer)
_MIN_JOINED = 4


@numba.njit(cache=True, inline="always")
def _keys_per_char(lo, hi, words):
    """Upper bound of the keys one character can emit: one per n-gram size, a word, a joined token."""
    return hi - lo + 1 + (1 if words else 0) + (1 if words >= 2 else 0)


@numba.njit(cache=True, inline="always")
def _is_space(c):
    return c <= 32 or c == 0x85 or c == 0xA0 or c == 0x1680 or (0x2000 <= c <= 0x200B) or \
        c == 0x2028 or c == 0x2029 or c == 0x202F or c == 0x205F or c == 0x3000 or c == 0xFEFF


@numba.njit(cache=True, inline="always")
def _is_word(c):
    c = np.int64(c)
    return (48 <= c <= 57) or (97 <= c <= 122) or (65 <= c <= 90) or c >= 0xC0


@numba.njit(cache=True, inline="always")
def _is_digit(c):
    return 48 <= np.int64(c) <= 57


@numba.njit(cache=True, inline="always")
def _mix(h):
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(13)
    return h


@numba.njit(cache=True, inline="always")
def _emit(key, inc, out, ids, tf, dedup, slot_key, slot_pos, slot_stamp, stamp, m):
    """Append bucket ``key`` with count ``inc`` to the row's ``ids``/``tf`` (with ``dedup``: add
    ``inc`` to its count if the row has it already); returns the new length. The hash table is
    ``slot_*[:m + 1]`` (``m + 1`` a power of two); its entries of other stamps count as empty."""
    if not dedup:
        ids[out] = key
        tf[out] = inc
        return out + 1
    j = (key * 0x9E3779B1) & m
    while slot_stamp[j] == stamp:
        if slot_key[j] == key:
            tf[slot_pos[j]] += inc
            return out
        j = (j + 1) & m
    slot_stamp[j], slot_key[j], slot_pos[j] = stamp, key, out
    ids[out] = key
    tf[out] = inc
    return out + 1


@numba.njit(cache=True)
def _row_max(starts, ends, max_chars):
    """A bound on the longest row's padded length (parts joined, or each part padded)."""
    n, p = starts.shape
    row_max = 2
    for i in range(n):
        r = 2
        for j in range(p):
            r += min(ends[i, j] - starts[i, j], max_chars) + 2
        row_max = max(row_max, r)
    return row_max


@numba.njit(cache=True)
def _clean_into(codes, a, b, max_chars, buf, m):
    """Append ``codes[a:b]`` stripped, white space collapsed and cut to ``max_chars`` to ``buf`` at
    ``m``, followed by one space if anything was written; returns the new length."""
    written = 0
    pending = False
    start = m
    for q in range(a, b):
        c = codes[q]
        if _is_space(c):
            pending = written > 0
            continue
        if written >= max_chars:
            break
        if pending:
            buf[m] = 32
            m += 1
            written += 1
            pending = False
            if written >= max_chars:
                break
        buf[m] = c
        m += 1
        written += 1
    if m > start:
        if buf[m - 1] == 32:
            m -= 1
        buf[m] = 32
        m += 1
    return m


@numba.njit(cache=True, inline="always")
def _ngram_key(h, t, nb, mask):
    """Bucket of an n-gram of ``t + 1`` characters whose running hash is ``h`` (the size is mixed
    in, so the sizes do not share keys)."""
    return np.int64((_mix(h ^ (np.uint64(t + 2) * np.uint64(0x27D4EB2F) & mask)) * nb) >> np.uint64(32))


@numba.njit(cache=True, inline="always")
def _word_key(h, nb):
    """Bucket of a word (or joined token) whose hash is ``h``."""
    return np.int64((_mix(h ^ np.uint64(0x27D4EB2F)) * nb) >> np.uint64(32))


@numba.njit(cache=True, inline="always")
def _scan_word(buf, t, m, seed, prime, mask):
    """Hash the run of word characters starting at ``buf[t]``: (hash, end, digits, length)."""
    h = seed
    n_dig = 0
    length = 0
    while t < m and _is_word(buf[t]):
        h = ((h ^ buf[t]) * prime) & mask
        n_dig += _is_digit(buf[t])
        length += 1
        t += 1
    return h, t, n_dig, length


@numba.njit(cache=True, inline="always")
def _scan_token(buf, t, m, seed, prime, mask):
    """Hash the letters and digits of the white-space token starting at ``buf[t]`` (punctuation
    dropped): (hash, position after its space, word runs, length, digits)."""
    h = seed
    runs = 0
    length = 0
    n_dig = 0
    prev = False
    while t < m and buf[t] != 32:
        w = _is_word(buf[t])
        if w:
            h = ((h ^ buf[t]) * prime) & mask
            length += 1
            n_dig += _is_digit(buf[t])
            if not prev:
                runs += 1
        prev = w
        t += 1
    return h, t + 1, runs, length, n_dig


@numba.njit(cache=True)
def _hash_buf(buf, m, n_buckets, seed, lo, hi, words, wb, dedup, ids, tf, out, slot_key, slot_pos,
              slot_stamp, stamp):
    """Hash the n-grams (and words) of the padded text ``buf[0:m]`` into ``ids``/``tf`` from
    position ``out``; returns the new length. One pass per start position hashes its n-grams of
    every size (the size is mixed in at the end)."""
    mask = np.uint64(0xFFFFFFFF)
    prime = np.uint64(0x01000193)
    nb = np.uint64(n_buckets)
    # a table just big enough for this text (small tables stay in L1)
    need = 2 * m * (hi - lo + 2)
    mask_t = 15
    while mask_t + 1 < need and mask_t + 1 < len(slot_key):
        mask_t = 2 * mask_t + 1
    for s0 in range(0, m - lo + 1):
        h = seed
        top = min(hi, m - s0)
        for t in range(top):
            h = ((h ^ buf[s0 + t]) * prime) & mask
            if t + 1 >= lo:
                out = _emit(_ngram_key(h, t, nb, mask), 1.0, out, ids, tf, dedup, slot_key, slot_pos,
                            slot_stamp, stamp, mask_t)
            if wb and t > 0 and buf[s0 + t] == 32:  # char_wb: an n-gram ends at its word's end
                break
    if words:
        t = 1
        while t < m:
            if _is_word(buf[t]):
                h, t, _, _ = _scan_word(buf, t, m, seed, prime, mask)
                out = _emit(_word_key(h, nb), 1.0, out, ids, tf, dedup, slot_key, slot_pos, slot_stamp, stamp,
                            mask_t)
            else:
                t += 1
    if words >= 2:  # joined tokens: a token's letters and digits, punctuation dropped (kx-ts208w -> kxts208w)
        t = 1
        while t < m:
            h, t, runs, length, _ = _scan_token(buf, t, m, seed, prime, mask)
            if runs >= 2 and length >= _MIN_JOINED:  # else the same as its one word, already hashed
                # the word hash: a joined token lands in the bucket of the same letters written as one word
                out = _emit(_word_key(h, nb), 1.0, out, ids, tf, dedup, slot_key, slot_pos, slot_stamp, stamp,
                            mask_t)
    return out


@numba.njit(cache=True)
def _row_ngrams(codes, starts, ends, i, n_buckets, seed, lo, hi, max_chars, words, wb, dedup, join, buf,
                ids, tf, slot_key, slot_pos, slot_stamp, stamp):
    """Row ``i``'s bucket ids (and counts) into ``ids``/``tf``; returns how many. ``join``: the
    parts joined by single spaces make one text; else each part is padded and hashed on its own
    and the row's entries are its parts' entries one after the other (a bucket in two parts
    appears twice, with each part's count)."""
    p = starts.shape[1]
    out = 0
    if join:
        m = 1
        buf[0] = 32
        for j in range(p):
            m = _clean_into(codes, starts[i, j], ends[i, j], max_chars, buf, m)
        if m > 1:
            out = _hash_buf(buf, m, n_buckets, seed, lo, hi, words, wb, dedup, ids, tf, 0, slot_key,
                            slot_pos, slot_stamp, stamp)
        return out
    for j in range(p):
        buf[0] = 32
        m = _clean_into(codes, starts[i, j], ends[i, j], max_chars, buf, 1)
        if m > 1:
            out = _hash_buf(buf, m, n_buckets, seed, lo, hi, words, wb, dedup, ids, tf, out, slot_key,
                            slot_pos, slot_stamp, stamp * p + j)
    return out


@numba.njit(cache=True)
def _table(n_entries):
    size = 16
    while size < 2 * n_entries:
        size *= 2
    return (np.empty(n_entries, dtype=np.int64), np.empty(n_entries, dtype=np.float32),
            np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64), np.full(size, -1, dtype=np.int64))


@numba.njit(cache=True)
def _seed(salt):
    return (np.uint64((salt * 7919) & 0xFFFFFFFF) * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)


@numba.njit(cache=True)
def _hash_kernel(codes, starts, ends, n_buckets, salt, lo, hi, max_chars, words, wb, dedup, join):
    n, p = starts.shape
    nk = _keys_per_char(lo, hi, words)
    row_max = _row_max(starts, ends, max_chars)
    buf = np.empty(p * (max_chars + 1) + 2, dtype=np.uint64)
    rids, rtf, slot_key, slot_pos, slot_stamp = _table(row_max * nk)
    seed = _seed(salt)
    cap = max(16, n * 8)
    ids = np.empty(cap, dtype=np.int64)
    tf = np.empty(cap, dtype=np.float32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    out = 0
    for i in range(n):
        c = _row_ngrams(codes, starts, ends, i, n_buckets, seed, lo, hi, max_chars, words, wb, dedup, join,
                        buf, rids, rtf, slot_key, slot_pos, slot_stamp, i)
        if out + c > cap:
            while out + c > cap:
                cap *= 2
            ids2 = np.empty(cap, dtype=np.int64)
            tf2 = np.empty(cap, dtype=np.float32)
            ids2[:out] = ids[:out]
            tf2[:out] = tf[:out]
            ids, tf = ids2, tf2
        ids[out:out + c] = rids[:c]
        tf[out:out + c] = rtf[:c]
        out += c
        indptr[i + 1] = out
    return ids[:out].copy(), tf[:out].copy(), indptr


# token kinds (``bucket_kinds``): 0 = no token of fit hashed there; 1-12 = character n-gram, by size
# (the first four sizes of ngram_range) x content (letters and spaces only / has a digit / has other
# characters); 13-21 = word or joined token, by content (letters / digits / both) x length (1-3 /
# 4-6 / 7+ characters)
N_TOKEN_KINDS = 22


@numba.njit(cache=True, inline="always")
def _set_kind(out, key, kind):
    if out[key] == 0:
        out[key] = kind


@numba.njit(cache=True)
def _kinds_buf(buf, m, n_buckets, seed, lo, hi, words, wb, out):
    """Record in ``out`` the kind of every key the padded text ``buf[0:m]`` emits (a bucket keeps
    the first kind seen). The keys are computed exactly as in ``_hash_buf``."""
    mask = np.uint64(0xFFFFFFFF)
    prime = np.uint64(0x01000193)
    nb = np.uint64(n_buckets)
    for s0 in range(0, m - lo + 1):
        h = seed
        top = min(hi, m - s0)
        digit = False
        other = False
        for t in range(top):
            c = buf[s0 + t]
            h = ((h ^ c) * prime) & mask
            if _is_digit(c):
                digit = True
            elif c != 32 and not _is_word(c):
                other = True
            if t + 1 >= lo:
                content = 1 if digit else (2 if other else 0)
                _set_kind(out, _ngram_key(h, t, nb, mask), 1 + 3 * min(t + 1 - lo, 3) + content)
            if wb and t > 0 and c == 32:
                break
    if words:
        t = 1
        while t < m:
            if _is_word(buf[t]):
                h, t, n_dig, length = _scan_word(buf, t, m, seed, prime, mask)
                _set_kind(out, _word_key(h, nb), _word_kind(n_dig, length))
            else:
                t += 1
    if words >= 2:
        t = 1
        while t < m:
            h, t, runs, length, n_dig = _scan_token(buf, t, m, seed, prime, mask)
            if runs >= 2 and length >= _MIN_JOINED:
                _set_kind(out, _word_key(h, nb), _word_kind(n_dig, length))


@numba.njit(cache=True, inline="always")
def _word_kind(n_dig, length):
    content = 1 if n_dig == length else (2 if n_dig > 0 else 0)
    size = 0 if length <= 3 else (1 if length <= 6 else 2)
    return 13 + 3 * content + size


@numba.njit(cache=True)
def _kinds_kernel(codes, starts, ends, n_buckets, salt, lo, hi, max_chars, words, wb, join):
    n, p = starts.shape
    out = np.zeros(n_buckets, dtype=np.int8)
    buf = np.empty(p * (max_chars + 1) + 2, dtype=np.uint64)
    seed = _seed(salt)
    for i in range(n):
        if join:
            m = 1
            buf[0] = 32
            for j in range(p):
                m = _clean_into(codes, starts[i, j], ends[i, j], max_chars, buf, m)
            if m > 1:
                _kinds_buf(buf, m, n_buckets, seed, lo, hi, words, wb, out)
        else:
            for j in range(p):
                buf[0] = 32
                m = _clean_into(codes, starts[i, j], ends[i, j], max_chars, buf, 1)
                if m > 1:
                    _kinds_buf(buf, m, n_buckets, seed, lo, hi, words, wb, out)
    return out


def bucket_kinds(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, n_buckets: int, salt: int,
                 ngram_range: tuple[int, int] = (2, 4), max_chars: int = 256, words: int = 0,
                 join: bool = True, char_wb: bool = False) -> np.ndarray:
    """The token kind of every bucket the rows hash into (arguments as :func:`hash_parts`).

    Returns an int8 array of shape (n_buckets,): 0 for a bucket no token of these rows hashed
    into; 1-12 for a character n-gram, ``1 + 3 * size + content`` with ``size`` the n-gram's size
    minus ``ngram_range[0]`` (at most 3) and ``content`` 0 = letters and spaces only, 1 = has a
    digit, 2 = has another character; 13-21 for a word or joined token, ``13 + 3 * content +
    length`` with ``content`` 0 = letters only, 1 = digits only, 2 = both, and ``length`` 0 = 1-3,
    1 = 4-6, 2 = 7 or more characters. When tokens of several kinds share a bucket (a hash
    collision, or a joined token that is also written as one word) the first one seen decides.
    """
    codes, starts, ends, lo, hi = _part_args(codes, starts, ends, ngram_range)
    return _kinds_kernel(codes, starts, ends, int(n_buckets), int(salt), lo, hi, int(max_chars),
                         int(words), bool(char_wb), bool(join))


@numba.njit(cache=True, inline="always")
def _column_sign(b, dim):
    """Sketch column in [0, dim) and sign (+1 / -1) of bucket ``b`` (multiply-shift hashing)."""
    mask = np.uint64(0xFFFFFFFF)
    u = np.uint64(b)
    col = np.int64((((u * np.uint64(0x9E3779B1)) & mask) * np.uint64(dim)) >> np.uint64(32))
    neg = (((u * np.uint64(0x85EBCA6B)) & mask) >> np.uint64(31)) == np.uint64(1)
    return col, neg


@numba.njit(cache=True)
def _columns_signs(n_buckets, dim):
    col = np.empty(n_buckets, dtype=np.int64)
    sign = np.empty(n_buckets, dtype=np.float32)
    for b in range(n_buckets):
        c, neg = _column_sign(b, dim)
        col[b] = c
        sign[b] = -1.0 if neg else 1.0
    return col, sign


@numba.njit(cache=True, inline="always")
def _add_sketch(row, dim, ids, tf, count, weight, sublinear):
    """Add the sketch of the bag ``ids/tf[:count]`` to ``row`` (length ``dim``)."""
    for q in range(count):
        b = ids[q]
        t = tf[q]
        if sublinear and t != 1.0:
            t = 1.0 + np.log(t)
        k, neg = _column_sign(b, dim)
        row[k] += -t * weight[b] if neg else t * weight[b]


@numba.njit(cache=True, inline="always")
def _scale_to(row, dim, scale):
    acc = np.float32(0.0)
    for k in range(dim):
        acc += row[k] * row[k]
    if acc > 1e-12:
        f = np.float32(scale / np.sqrt(acc))
        for k in range(dim):
            row[k] *= f


@numba.njit(cache=True, parallel=True)
def _embed_kernel(codes, starts, ends, n_buckets, salt, lo, hi, max_chars, words, wb, sublinear, part_col0,
                  part_dim, part_scale, part_weight, row_col0, row_dim, row_scale, row_weight, out, unit):
    n, p = starts.shape
    nk = _keys_per_char(lo, hi, words)
    seed = _seed(salt)
    n_chunks = min(n, 64)
    for ch in numba.prange(n_chunks):
        buf = np.empty(max_chars + 3, dtype=np.uint64)
        ids, tf, slot_key, slot_pos, slot_stamp = _table((max_chars + 2) * nk)
        for i in range(ch * n // n_chunks, (ch + 1) * n // n_chunks):
            for j in range(p):
                buf[0] = 32
                m = _clean_into(codes, starts[i, j], ends[i, j], max_chars, buf, 1)
                if m == 1:
                    continue
                c = _hash_buf(buf, m, n_buckets, seed, lo, hi, words, wb, True, ids, tf, 0, slot_key,
                              slot_pos, slot_stamp, i * p + j)
                if part_col0[j] >= 0:
                    blk = out[i, part_col0[j]:part_col0[j] + part_dim[j]]
                    _add_sketch(blk, part_dim[j], ids, tf, c, part_weight[j], sublinear)
                    _scale_to(blk, part_dim[j], part_scale[j])
                if row_col0 >= 0:
                    _add_sketch(out[i, row_col0:row_col0 + row_dim], row_dim, ids, tf, c, row_weight,
                                sublinear)
            if row_col0 >= 0:
                _scale_to(out[i, row_col0:row_col0 + row_dim], row_dim, row_scale)
            if unit:
                _scale_to(out[i], out.shape[1], 1.0)


def hash_parts(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, n_buckets: int, salt: int,
               ngram_range: tuple[int, int] = (2, 4), max_chars: int = 256, words: int = 0,
               dedup: bool = True, join: bool = True,
               char_wb: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hash the rows of a code-point buffer; row ``i`` is the parts ``codes[starts[i, j]:ends[i, j]]``
    (each stripped, white space collapsed, cut to ``max_chars``), joined by single spaces into one
    text (``join=True``), or each hashed on its own with the counts added up (``join=False``: the
    row-text block, whose bag is then the sum of its columns' bags).

    ``starts``/``ends``: int64 arrays of shape (n_rows,) or (n_rows, n_parts). ``words``: 0 / False
    = n-grams only, 1 / True = also words, 2 = also words and joined tokens (see the module text).
    ``char_wb``: character n-grams only inside a word and its padding spaces (scikit-learn's
    ``analyzer="char_wb"``), else across word boundaries too (``analyzer="char"``).

    Returns
    -------
    ids : ndarray of shape (nnz,), int64
        Bucket ids, grouped by row; with ``dedup`` each bucket once per row (first-seen order).
    tf : ndarray of shape (nnz,), float32
        How often the bucket occurs in the row (all ones without ``dedup``).
    indptr : ndarray of shape (n_rows + 1,), int64
    """
    codes, starts, ends, lo, hi = _part_args(codes, starts, ends, ngram_range)
    return _hash_kernel(codes, starts, ends, int(n_buckets), int(salt), lo, hi, int(max_chars),
                        int(words), bool(char_wb), bool(dedup), bool(join))


def _part_args(codes, starts, ends, ngram_range):
    """The kernels' shared inputs: contiguous codes, (n_rows, n_parts) int64 starts/ends, lo, hi."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if starts.ndim == 1:
        starts, ends = starts[:, None], ends[:, None]
    lo, hi = (int(v) for v in ngram_range)
    if not 1 <= lo <= hi:
        raise ValueError(f"ngram_range must be (lo, hi) with 1 <= lo <= hi, got {ngram_range}")
    return (np.ascontiguousarray(codes), np.ascontiguousarray(starts), np.ascontiguousarray(ends),
            lo, hi)


def hash_char_ngrams(s: pd.Series, *, n_buckets: int, salt: int, ngram_range: tuple[int, int] = (2, 4),
                     max_chars: int = 256, words: int = 0,
                     char_wb: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Bucket ids of every character n-gram (and word, with ``words``) of every value, as CSR.

    Returns
    -------
    ids : ndarray of shape (n_ngrams,), int64
        Bucket ids in ``[0, n_buckets)``, grouped by value (repeats kept).
    indptr : ndarray of shape (n_values + 1,), int64
        Value ``i``'s n-grams are ``ids[indptr[i]:indptr[i + 1]]`` (none for missing values).
    """
    codes, starts, ends = text_codes(s)
    ids, _tf, indptr = hash_parts(codes, starts, ends, n_buckets=n_buckets, salt=salt,
                                  ngram_range=ngram_range, max_chars=max_chars, words=words, dedup=False,
                                  char_wb=char_wb)
    return ids, indptr


@functools.lru_cache(maxsize=16)
def sketch_columns(n_buckets: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Sketch column (int64, in ``[0, dim)``) and sign (float32, +1 / -1) of every bucket: fixed
    multiply-shift hashes of the bucket id (the rows of the fixed signed ``EmbeddingBag``)."""
    return _columns_signs(int(n_buckets), int(dim))


def embed_blocks(out: np.ndarray, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, *,
                 part_blocks: list, row_block: tuple | None, n_buckets: int, salt: int = 0,
                 ngram_range: tuple[int, int] = (2, 4), max_chars: int = 256, words: int = 0,
                 sublinear: bool = True, unit: bool = False, char_wb: bool = False) -> None:
    """All text blocks of a table in one compiled pass (threads over rows).

    Row ``i`` has parts ``codes[starts[i, j]:ends[i, j]]`` (the text columns and the other columns
    of the row text). Each part is cleaned and hashed once; its bag (distinct buckets and counts)
    is sketched into its own block (when ``part_blocks[j]`` is ``(col0, dim, scale, weight)``;
    None = no block of its own) and into the row block ``row_block`` ``(col0, dim, scale, weight)``
    (None = no row block), which thus sketches the sum of the parts' bags.

    A block ``out[i, col0:col0 + dim]`` (zero on entry) becomes the signed hashed sketch of the
    bag: bucket ``b`` goes to :func:`sketch_columns` ``(b)`` with value ``weight[b] * (1 + log tf)``
    (``tf`` with ``sublinear=False``); the block is then scaled to length ``scale`` (an empty bag
    leaves it zero). The same blocks as :func:`hash_parts` (``join=False`` for the row block) and
    :func:`sketch_columns` give. With ``unit``, each whole row of ``out`` (the other blocks
    filled in before) is then scaled to unit length.
    """
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    ends = np.ascontiguousarray(ends, dtype=np.int64)
    if starts.ndim == 1:
        starts, ends = starts[:, None], ends[:, None]
    p = starts.shape[1]
    if len(part_blocks) != p:
        raise ValueError(f"part_blocks has {len(part_blocks)} entries for {p} parts")
    col0 = np.full(p, -1, dtype=np.int64)
    dim = np.ones(p, dtype=np.int64)
    scale = np.zeros(p, dtype=np.float64)
    weight = np.zeros((p, n_buckets), dtype=np.float32)
    for j, blk in enumerate(part_blocks):
        if blk is not None:
            col0[j], dim[j], scale[j] = int(blk[0]), int(blk[1]), float(blk[2])
            weight[j] = blk[3]
    if row_block is None:
        r_col0, r_dim, r_scale, r_weight = -1, 1, 0.0, np.zeros(n_buckets, dtype=np.float32)
    else:
        r_col0, r_dim, r_scale = int(row_block[0]), int(row_block[1]), float(row_block[2])
        r_weight = np.ascontiguousarray(row_block[3], dtype=np.float32)
    lo, hi = (int(v) for v in ngram_range)
    _embed_kernel(np.ascontiguousarray(codes), starts, ends, int(n_buckets), int(salt), lo, hi,
                  int(max_chars), int(words), bool(char_wb), bool(sublinear), col0, dim, scale, weight,
                  r_col0, r_dim,
                  r_scale, r_weight, out, bool(unit))


@numba.njit(cache=True, parallel=True)
def _unit_rows(out):
    n, d = out.shape
    for i in numba.prange(n):
        acc = np.float32(0.0)
        for k in range(d):
            acc += out[i, k] * out[i, k]
        if acc > 1e-12:
            f = np.float32(1.0 / np.sqrt(acc))
            for k in range(d):
                out[i, k] *= f


def unit_rows(out: np.ndarray) -> None:
    """Scale each row of the float32 matrix ``out`` to unit length in place (zero rows stay zero)."""
    _unit_rows(out)


@numba.njit(cache=True)
def _doc_freq(ids, indptr, n_buckets):
    """Number of rows holding each bucket (a bucket repeated in a row counts once): one pass,
    ``last[b]`` remembers the last row that counted ``b``."""
    df = np.zeros(n_buckets, dtype=np.int64)
    last = np.full(n_buckets, -1, dtype=np.int64)
    for i in range(len(indptr) - 1):
        for q in range(indptr[i], indptr[i + 1]):
            b = ids[q]
            if last[b] != i:
                last[b] = i
                df[b] += 1
    return df


# document-frequency bins of ``token_kinds``: 1 (or unseen), 2-3, 4-15, 16 or more rows
_DF_EDGES = np.array([2, 4, 16])
N_KINDS = N_TOKEN_KINDS * (len(_DF_EDGES) + 1)


def token_kinds(ids: np.ndarray, indptr: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Kind of every bucket, token kind x document-frequency bin: ``4 * base[b] + bin``, with
    ``base`` from :func:`bucket_kinds` and ``bin`` 0 = the bucket is in at most one row of
    ``(ids, indptr)``, 1 = 2-3 rows, 2 = 4-15 rows, 3 = 16 or more. int8 of shape
    ``base.shape``, values in ``[0, N_KINDS)``."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    df = _doc_freq(ids, indptr, len(base))
    return (np.asarray(base, dtype=np.int64) * (len(_DF_EDGES) + 1)
            + np.searchsorted(_DF_EDGES, df, side="right")).astype(np.int8)


def idf_weights(ids: np.ndarray, indptr: np.ndarray, n_buckets: int) -> np.ndarray:
    """Smoothed inverse document frequency of each bucket.

    ``idf = log((1 + N) / (1 + df)) + 1`` over the N values that have any n-gram,
    as scikit-learn's TfidfTransformer(smooth_idf=True) does. Shape (n_buckets,).
    Linear in the number of entries (no sort).
    """
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    n_buckets = int(n_buckets)
    if len(ids) and (ids.min() < 0 or ids.max() >= n_buckets):
        raise ValueError(f"ids must lie in [0, n_buckets={n_buckets}), got values in "
                         f"[{ids.min()}, {ids.max()}]")
    counts = np.diff(indptr)
    n_docs = int((counts > 0).sum())
    df = _doc_freq(ids, indptr, n_buckets).astype(np.float64)
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
