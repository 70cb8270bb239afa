"""A detector's row keys (the DataFrame index) are checked at the start of fit and keep their types
through save/load (nnstore's one key serialiser)."""

import numpy as np
import pandas as pd
import pytest

from anomaly import KNNDetector, LOFDetector, load_detector


@pytest.mark.parametrize("cls", [KNNDetector, LOFDetector])
def test_mixed_and_tuple_keys_round_trip(tmp_path, cls):
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)),
                     index=pd.Index([1, "a", ("t", 2), *range(100, 127)], tupleize_cols=False))
    det = cls(n_neighbors=3).fit(X)
    det.save(tmp_path / "m")
    back = load_detector(tmp_path / "m")
    assert list(back.keys_) == list(X.index)
    assert [type(k) for k in back.keys_[:4]] == [int, str, tuple, int]


@pytest.mark.parametrize("bad, what", [(np.nan, "NaN"), (None, "None"), (b"k", "bytes")])
def test_unstorable_keys_refused_before_fitting(bad, what):
    X = pd.DataFrame(np.ones((5, 2)), index=pd.Index([bad, 1, 2, 3, 4], dtype=object))
    with pytest.raises(TypeError, match=f"X index cannot be stored: .*{what}"):
        KNNDetector(n_neighbors=2).fit(X)
