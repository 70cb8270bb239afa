"""Bad input gives a named error (anomaly/_validation.py), at fit and at scoring, for every detector."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from anomaly import EnsembleDetector, KNNDetector, LOFDetector

GOOD = np.random.default_rng(0).normal(size=(20, 2))


def _detectors():
    return [KNNDetector(2), LOFDetector(3), EnsembleDetector([KNNDetector(2), LOFDetector(3)])]


BAD_X = [
    (np.array([[0.0, 1.0], [np.nan, 1.0], [2.0, 2.0]]), ValueError,
     r"X contains NaN or infinite .* rows: \[1\]"),
    (np.array([[0.0, 1.0], [np.inf, 1.0], [2.0, 2.0]]), ValueError, "X contains NaN or infinite"),
    (np.array([[0.0, 1e39], [1.0, 1.0], [2.0, 2.0]]), ValueError, "exceed the float32 range"),
    (np.array([["a", "b"], ["c", "d"], ["e", "f"]]), ValueError, "X must be numeric, got dtype <U1"),
    (np.array([[0.0, "x"], [1.0, 2.0], [3.0, 4.0]], dtype=object), ValueError,
     r"X must be numeric, got the string 'x' at position \(0, 1\)"),
    (np.array([[0.0, {}], [1.0, 2.0], [3.0, 4.0]], dtype=object), TypeError, "X must be numeric: .*dict"),
    (np.ones((3, 2)) + 1j, ValueError, "Complex data not supported: X has dtype complex128"),
    (np.arange(5.0), ValueError, r"X must be 2-D .* got 1-D shape \(5,\); Reshape your data"),
    (np.ones((2, 2, 2)), ValueError, "X must be 2-D .* got 3-D"),
    (np.empty((0, 2)), ValueError, r"X has 0 sample\(s\) \(shape=\(0, 2\)\)"),
    (np.empty((5, 0)), ValueError, r"X has 0 feature\(s\) \(shape=\(5, 0\)\)"),
    (sp.csr_matrix(np.ones((5, 2))), ValueError, "sparse"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}), ValueError, r"non-numeric: \['b'\]"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1j, 2j, 3j]}), ValueError,
     r"Complex data not supported: X has complex column\(s\) \['b'\]"),
    (pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"), "b": [1.0, 2.0, 3.0]}), ValueError,
     "missing values"),
    (pd.Series([1.0, 2.0]), ValueError, "got a Series"),
    ("not an array", ValueError, "X must be numeric"),
]


@pytest.mark.parametrize("X, exc, match", BAD_X)
@pytest.mark.parametrize("det", _detectors(), ids=lambda d: type(d).__name__)
def test_bad_input_at_fit(det, X, exc, match):
    with pytest.raises(exc, match=match):
        det.fit(X)
    assert not hasattr(det, "decision_scores_")


@pytest.mark.parametrize("X, exc, match", [b for b in BAD_X if not isinstance(b[0], pd.DataFrame)])
@pytest.mark.parametrize("det", _detectors(), ids=lambda d: type(d).__name__)
def test_bad_input_at_scoring(det, X, exc, match):
    det.fit(GOOD)
    for method in (det.decision_function, det.predict, det.predict_proba, det.score_frame):
        with pytest.raises(exc, match=match):
            method(X)


@pytest.mark.parametrize("det", _detectors(), ids=lambda d: type(d).__name__)
def test_wrong_number_of_features(det):
    det.fit(GOOD)
    name = type(det).__name__
    with pytest.raises(ValueError, match=rf"X has 3 features, but {name} is expecting 2 features"):
        det.decision_function(np.zeros((4, 3)))


def test_missing_column_is_named():
    det = KNNDetector(2).fit(pd.DataFrame(GOOD, columns=["a", "b"]))
    with pytest.raises(ValueError, match=r"X lacks column\(s\) \['b'\] the detector was fitted with"):
        det.decision_function(pd.DataFrame({"a": [1.0]}))


@pytest.mark.parametrize("n_neighbors, n, match", [
    (10, 10, r"n_neighbors \(k=10\) must be smaller than the number of training samples \(n_samples=10\)"),
    (50, 10, r"n_neighbors \(k=50\)"),
    (1, 1, r"X has 1 sample \(n_samples=1\)"),
])
@pytest.mark.parametrize("cls", [KNNDetector, LOFDetector])
def test_too_few_training_rows(cls, n_neighbors, n, match):
    with pytest.raises(ValueError, match=match):
        cls(n_neighbors).fit(np.random.default_rng(0).normal(size=(n, 2)))


@pytest.mark.parametrize("cls, params, name", [
    (KNNDetector, {"contamination": 0.7}, "contamination"),
    (KNNDetector, {"contamination": 0.0}, "contamination"),
    (KNNDetector, {"contamination": "0.1"}, "contamination"),
    (KNNDetector, {"n_neighbors": 0}, "n_neighbors"),
    (KNNDetector, {"n_neighbors": 2.5}, "n_neighbors"),
    (KNNDetector, {"n_neighbors": True}, "n_neighbors"),
    (KNNDetector, {"method": "max"}, "method"),
    (KNNDetector, {"scaler": "minmax"}, "scaler"),
    (KNNDetector, {"backend": "faiss"}, "backend"),
    (KNNDetector, {"n_trees": 0}, "n_trees"),
    (KNNDetector, {"search_k": -1}, "search_k"),
    (KNNDetector, {"n_jobs": 0}, "n_jobs"),
    (KNNDetector, {"n_jobs": 1.5}, "n_jobs"),
    (KNNDetector, {"random_state": -1}, "random_state"),
    (KNNDetector, {"random_state": "seed"}, "random_state"),
    (LOFDetector, {"n_neighbors": -3}, "n_neighbors"),
    (EnsembleDetector, {"combination": "median"}, "combination"),
    (EnsembleDetector, {"detectors": []}, "detectors"),
    (EnsembleDetector, {"detectors": [object()]}, "detectors"),
    (EnsembleDetector, {"detectors": KNNDetector()}, "detectors"),
])
def test_bad_parameter_is_named(cls, params, name):
    det = cls(**params)
    with pytest.raises(ValueError, match=rf"'{name}' parameter of anomaly.{cls.__name__}"):
        det.fit(GOOD)
    assert det.get_params()[name] is params[name]  # stored untouched
