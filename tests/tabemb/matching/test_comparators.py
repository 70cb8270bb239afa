"""tabemb._matching._comparators: Jaro-Winkler and the other per-column comparators."""

import numpy as np
import pandas as pd
import pytest

from tabemb import jaro_winkler
from tabemb._matching._comparators import compare, prepare


# -- comparators -------------------------------------------------------------------------------
def test_jaro_winkler_textbook_values():
    got = jaro_winkler(["MARTHA", "DWAYNE", "DIXON", "abc", "abc"],
                       ["MARHTA", "DUANE", "DICKSONX", "abc", "xyz"])
    np.testing.assert_allclose(got[:3], [0.9611, 0.84, 0.8133], atol=5e-4)
    assert got[3] == pytest.approx(1.0)
    assert got[4] == 0.0


def test_jaro_winkler_missing_and_case():
    got = jaro_winkler(["Martha", None, ""], ["MARHTA", "x", "y"])
    assert got[0] == pytest.approx(0.9611, abs=5e-4)
    assert np.isnan(got[1]) and np.isnan(got[2])
    with pytest.raises(ValueError, match="same length"):
        jaro_winkler(["a"], ["a", "b"])


def _cmp(a, b, kind):
    vocab = {}
    pa = prepare(pd.Series(a, dtype=object), kind, token_vocab=vocab)
    pb = prepare(pd.Series(b, dtype=object), kind, token_vocab=vocab)
    idx = np.arange(len(a))
    return compare(pa, pb, idx, idx, kind)


def test_other_comparators():
    np.testing.assert_allclose(_cmp(["john smith", "a b c", None], ["Smith, John", "a d", "x"], "token"),
                               [1.0, 0.25, np.nan])
    np.testing.assert_allclose(_cmp([1.0, 2.0, None, 0.0], ["1", "3", "4", 0], "numeric"),
                               [0.0, 1 / 3, np.nan, 0.0], rtol=1e-6)
    np.testing.assert_allclose(_cmp(["2001-02-03", "2001-02-03", "2001-02-03", None],
                                    ["2001-02-03", "2001-03-02", "2001-02-13", "2001-01-01"], "date"),
                               [0.0, 1.0, 10.0, np.nan])
    np.testing.assert_allclose(_cmp([" A", "b", None], ["a", "c", "d"], "exact"), [1.0, 0.0, np.nan])


def test_supervised_comparators_hand_computed():
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

