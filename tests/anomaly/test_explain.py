"""explain: the nearest normal neighbours and the features on which a point deviates."""

import numpy as np
import pandas as pd
import pytest

from anomaly import KNNDetector


def _fitted():
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=["w", "x", "y", "z"])
    X.loc[299, "y"] = 9.0  # one planted outlier, on feature y
    return X, KNNDetector(5, contamination=0.01, backend="exact").fit(X)


def test_names_the_deviating_feature():
    _, det = _fitted()
    assert det.labels_[299] == 1
    ex = det.explain(299)
    assert ex.index[0] == "y" and ex["z_score"].iloc[0] > 5
    assert list(ex.columns) == ["value", "neighbor_mean", "neighbor_std", "z_score"]
    assert len(ex.attrs["neighbors"]) == 5 and 299 not in ex.attrs["neighbors"]
    assert all(det.labels_[n] == 0 for n in ex.attrs["neighbors"])
    assert ex.attrs["label"] == 1
    assert ex.attrs["neighbor_distances"] == sorted(ex.attrs["neighbor_distances"])


def test_vector_series_and_frame_give_the_same_answer():
    X, det = _fitted()
    a = det.explain(X.iloc[299].to_numpy(), n_neighbors=3)
    b = det.explain(X.iloc[299])
    c = det.explain(X.iloc[[299]], n_neighbors=3)
    assert a.index[0] == "y" and len(a.attrs["neighbors"]) == 3
    pd.testing.assert_frame_equal(a, c)
    assert b.index[0] == "y"


@pytest.mark.parametrize("x, n, exc, match", [
    ("nope", None, KeyError, "neither a vector nor a training key"),
    (np.zeros((2, 4)), None, ValueError, "x must be one point, got 2 rows"),
    (np.zeros(3), None, ValueError, "x has 3 features"),
    (0, 0, ValueError, "n_neighbors must be an int >= 1"),
])
def test_bad_arguments(x, n, exc, match):
    _, det = _fitted()
    with pytest.raises(exc, match=match):
        det.explain(x, n_neighbors=n)
