"""The column encoders (tabemb._encoders) on tiny frames, with exact expectations."""

import numpy as np
import pandas as pd

from tabemb._encoders import (
    CategoricalEncoder,
    DatetimeEncoder,
    NumericEncoder,
    TextEncoder,
    ValueEncoder,
    encoder_from_state,
)


def test_categorical_rare_unseen_missing():
    enc = CategoricalEncoder("c", min_frequency=2).fit(pd.Series(["a", "a", "b", "c", "c", None]))
    assert enc.vocabulary == ["a", "c"]
    (codes,) = enc.features(pd.Series(["a", "b", "c", None, "zzz"]))
    assert codes.tolist() == [2, 1, 3, 0, 1]  # b rare -> 1, unseen -> 1, missing -> 0
    assert enc.dim == round(1.6 * 4 ** 0.56)


def test_categorical_one_hot_block_size_and_state():
    s = pd.Series(["a", "a", "b", "b", "c", "c", "d"])
    enc = CategoricalEncoder("c", min_frequency=2, max_dim=32, one_hot=True).fit(s)
    assert enc.one_hot_init and enc.dim == 4  # codes 1 (rare: d), 2..4 (a, b, c)
    small = CategoricalEncoder("c", min_frequency=2, max_dim=3, one_hot=True).fit(s)
    assert not small.one_hot_init and small.dim == 3  # 4 codes do not fit: the size rule
    back = encoder_from_state(enc.state(), {"min_frequency": 2, "max_categorical_dim": 32})
    assert back.one_hot_init and back.dim == 4
    old = {k: v for k, v in enc.state().items() if k != "one_hot"}  # saved before one-hot starts
    back = encoder_from_state(old, {"min_frequency": 2, "max_categorical_dim": 32})
    assert not back.one_hot and back.dim == round(1.6 * 5 ** 0.56)


def test_boolean_encoder():
    enc = CategoricalEncoder("b", boolean=True).fit(pd.Series(["yes", "no"]))
    (codes,) = enc.features(pd.Series(["Yes", "no", None, "1", "maybe"]))
    assert codes.tolist() == [3, 2, 0, 3, 0]


def test_numeric_robust_scaling_and_missing():
    enc = NumericEncoder("x").fit(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, np.nan]))
    assert enc.median == 3.0 and enc.scale == 2.0  # IQR of 1..5 = 4 - 2
    (f,) = enc.features(pd.Series(["5", None, "abc", 3]))
    np.testing.assert_allclose(f[:, 0], [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(f[:, 1], [0.0, 1.0, 1.0, 0.0])
    assert f[1, 2:].sum() == 0.0 and f[3, 2:].argmax() == 4  # bin centred at 0
    const = NumericEncoder("k").fit(pd.Series([7.0, 7.0]))
    assert const.scale == 1.0
    allnan = NumericEncoder("n").fit(pd.Series([np.nan, np.nan]))
    assert np.isfinite(allnan.features(pd.Series([np.nan, 1.0]))[0]).all()


def test_datetime_parts():
    enc = DatetimeEncoder("d").fit(pd.Series(["2020-01-01", "2022-01-01"]))
    (f,) = enc.features(pd.Series(["2021-01-01 06:00", None, "not a date"]))
    assert f.shape == (3, 10)
    np.testing.assert_allclose(f[0, 1:3], [0.0, 1.0], atol=1e-6)  # January: sin 0, cos 1
    np.testing.assert_allclose(f[0, 7:9], [1.0, 0.0], atol=1e-6)  # 06:00 = a quarter day
    assert f[1, -1] == 1.0 and f[2, -1] == 1.0 and f[1, :-1].sum() == 0.0


def test_text_encoder_distinct_buckets_counts_and_idf():
    enc = TextEncoder("t", salt=3, n_buckets=1 << 16, ngram_range=(2, 4), max_chars=10, dim=8, words=False)
    enc.fit(pd.Series(["abc", "abd", None]))
    ids, tf, indptr = enc.features(pd.Series(["abc", "a" * 50]))
    # " abc " has 9 distinct n-grams; "a" * 50 is cut to 10 chars: " aaaaaaaaaa " has the distinct
    # n-grams " a", "aa", "a ", " aa", "aaa", "aa ", " aaa", "aaaa", "aaa " (counts 1, 9, 1, 1, 8, ...)
    assert np.diff(indptr).tolist() == [9, 9]
    assert tf[:9].tolist() == [1.0] * 9 and sorted(tf[9:].tolist()) == [1, 1, 1, 1, 1, 1, 7, 8, 9]
    assert len(set(ids[:9].tolist())) == 9
    assert enc.idf.dtype == np.float32 and enc.idf.min() >= 1.0
    # words: one more bucket per word
    w = TextEncoder("t", salt=3, n_buckets=1 << 16, ngram_range=(2, 4), max_chars=10, dim=8, words=True)
    _, _, indptr_w = w.features(pd.Series(["abc", "ab cd"]))
    assert np.diff(indptr_w).tolist() == [9 + 1, 6 + 5 + 4 + 2]  # " ab cd ": 15 n-grams + 2 words


def test_sketch_matches_csr_and_is_unit_length():
    from tabemb._text import embed_blocks, hash_parts, sketch_columns, text_codes

    name = pd.Series(["main street", "main st", None, "x"])
    city = pd.Series(["oslo", None, None, "rome  "])
    (c1, s1, e1), (c2, s2, e2) = text_codes(name), text_codes(city)
    codes = np.concatenate([c1, c2])
    starts, ends = np.stack([s1, s2 + len(c1)], 1), np.stack([e1, e2 + len(c1)], 1)
    nb = 1 << 10
    w_col, w_row = np.linspace(1, 2, nb).astype(np.float32), np.linspace(2, 1, nb).astype(np.float32)
    out = np.zeros((4, 16 + 32), dtype=np.float32)
    embed_blocks(out, codes, starts, ends, part_blocks=[(0, 16, 2.0, w_col), None],
                 row_block=(16, 32, 0.5, w_row), n_buckets=nb, words=True)

    def reference(ids, tf, indptr, weight, dim, scale):
        col, sign = sketch_columns(nb, dim)
        ref = np.zeros((4, dim))
        rows = np.repeat(np.arange(4), np.diff(indptr))
        np.add.at(ref, (rows, col[ids]), sign[ids] * (1 + np.log(tf)) * weight[ids])
        norm = np.linalg.norm(ref, axis=1, keepdims=True)
        return np.where(norm > 0, scale * ref / np.where(norm > 0, norm, 1), 0)

    # the column block: the name's own bag; the row block: the name's bag + the city's bag
    col = hash_parts(c1, s1, e1, n_buckets=nb, salt=0, words=True)
    np.testing.assert_allclose(out[:, :16], reference(*col, w_col, 16, 2.0), rtol=1e-5, atol=1e-6)
    row = hash_parts(codes, starts, ends, n_buckets=nb, salt=0, words=True, join=False)
    np.testing.assert_allclose(out[:, 16:], reference(*row, w_row, 32, 0.5), rtol=1e-5, atol=1e-6)
    assert out[2].sum() == 0.0  # nothing in the row: zero blocks
    assert np.diff(row[2]).tolist()[1] == np.diff(col[2]).tolist()[1]  # missing city adds nothing


def test_joined_tokens_share_the_word_bucket():
    from tabemb._text import hash_parts, text_codes

    s = pd.Series(["kx-ts208w", "kxts208w", "4.0", "010-10613-00", "0101061300"])
    bags = {}
    for mode in (1, 2):
        ids, _tf, indptr = hash_parts(*text_codes(s), n_buckets=1 << 20, salt=0, words=mode)
        bags[mode] = [set(ids[indptr[i]:indptr[i + 1]].tolist()) for i in range(len(s))]
    # words=2 adds exactly one bucket to a token that punctuation splits: the bucket of the joined word
    assert [len(x) for x in bags[2]] == [len(x) + d for x, d in zip(bags[1], [1, 0, 0, 1, 0], strict=True)]
    assert (bags[2][0] - bags[1][0]) <= bags[1][1]  # "kx-ts208w" -> the word "kxts208w"
    assert (bags[2][3] - bags[1][3]) <= bags[1][4]  # "010-10613-00" -> the word "0101061300"
    assert bags[2][2] == bags[1][2]  # "4.0" -> "40": shorter than 4, not hashed
    assert len(bags[2][0] & bags[2][1]) == len(bags[1][0] & bags[1][1]) + 1


def test_text_encoder_state_words_mode():
    from tabemb._encoders import encoder_from_state

    params = {"n_buckets": 64, "ngram_range": [2, 4], "max_chars": 32, "text_dim": 8, "words": True,
              "joined_tokens": True}
    enc = TextEncoder("t", salt=0, n_buckets=64, ngram_range=(2, 4), max_chars=32, dim=8, words=2)
    assert encoder_from_state(enc.state(), params).words == 2
    old = {**enc.state(), "words": True}  # saved before joined tokens: a bool
    assert encoder_from_state(old, params).words == 1


def test_bucket_kinds_exact():
    from tabemb._text import N_KINDS, N_TOKEN_KINDS, bucket_kinds, hash_parts, text_codes, token_kinds

    def kinds_in_order(text, words):
        codes, st, en = text_codes(pd.Series([text]))
        ids, _tf, _ip = hash_parts(codes, st, en, n_buckets=1 << 20, salt=0, words=words, dedup=False)
        kinds = bucket_kinds(codes, st, en, n_buckets=1 << 20, salt=0, words=words)
        return kinds[ids].tolist(), int((kinds > 0).sum())

    # " ab ": n-grams by start: " a", " ab", " ab " | "ab", "ab " | "b " (letters and spaces: size 2 ->
    # 1, 3 -> 4, 4 -> 7), then the word "ab" (letters, 1-3 characters: 13)
    assert kinds_in_order("ab", 1) == ([1, 4, 7, 1, 4, 1, 13], 7)
    # " a1-bc ": a digit -> content 1, "-" without a digit -> content 2; words "a1" (both, 1-3: 19),
    # "bc" (letters: 13); joined token "a1bc" (both, 4-6: 20)
    got, n_kinds = kinds_in_order("a1-bc", 2)
    assert got == [1, 5, 8, 2, 5, 8, 2, 5, 8, 3, 6, 9, 1, 4, 1, 19, 13, 20]
    assert n_kinds == 18
    # words of digits and long words: "2024" (digits, 4-6: 17), "thinkpad" (letters, 7+: 15)
    assert kinds_in_order("2024", 1)[0][-1] == 17 and kinds_in_order("thinkpad", 1)[0][-1] == 15
    # with document-frequency bins: 4 * kind + bin (1 row -> 0, 2-3 -> 1, 4-15 -> 2, 16+ -> 3)
    s = pd.Series(["ab"] * 3 + ["cd"] * 20)
    codes, st, en = text_codes(s)
    ids, _tf, ip = hash_parts(codes, st, en, n_buckets=1 << 20, salt=0, words=1)
    full = token_kinds(ids, ip, bucket_kinds(codes, st, en, n_buckets=1 << 20, salt=0, words=1))
    assert full.dtype == np.int8 and full.max() < N_KINDS == 4 * N_TOKEN_KINDS
    ab, cd = ids[ip[0]:ip[1]], ids[ip[3]:ip[4]]
    assert sorted(full[ab].tolist()) == [4 * k + 1 for k in (1, 1, 1, 4, 4, 7, 13)]
    assert sorted(full[cd].tolist()) == [4 * k + 3 for k in (1, 1, 1, 4, 4, 7, 13)]
    enc = TextEncoder("t", salt=0, n_buckets=1 << 20, ngram_range=(2, 4), max_chars=32, dim=8, words=1).fit(s)
    np.testing.assert_array_equal(enc.kinds, full)


def test_value_encoder_exact_values_hashed_one_hots():
    enc = ValueEncoder(["year", "price"], dim=64).fit(None)
    df = pd.DataFrame({"year": ["1999", "1999.0", 1999, None, "abc", "2000", "-0.0", 0.0],
                       "price": [None] * 8}, dtype=object)
    (x,) = enc.features(df)
    assert x.shape == (8, 64) and x.dtype == np.float32
    np.testing.assert_array_equal(np.abs(x[[0, 1, 2, 5, 6]]).sum(1), 1.0)  # one signed 1 per value
    np.testing.assert_array_equal(x[0], x[1])  # the same number, however written
    np.testing.assert_array_equal(x[0], x[2])
    np.testing.assert_array_equal(x[6], x[7])  # -0.0 is 0.0
    assert not x[3].any() and not x[4].any()  # missing, not a number: nothing
    assert not np.array_equal(x[0], x[5])
    # each column its own hash: 1999 as a price is not 1999 as a year; a row sums its columns
    both = pd.DataFrame({"year": ["1999"], "price": ["1999"]})
    (y,) = enc.features(both)
    (only_year,) = enc.features(both.assign(price=None))
    assert np.abs(y).sum() == 2.0 and np.abs(only_year).sum() == 1.0
    assert not np.array_equal(y, only_year)
    back = encoder_from_state(enc.state(), {})
    assert isinstance(back, ValueEncoder) and back.features(df)[0].tobytes() == x.tobytes()
