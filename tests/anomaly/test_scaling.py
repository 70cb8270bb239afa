"""fit_scaler and the detectors' ``scaler``."""

import numpy as np
import pytest

from anomaly import KNNDetector, fit_scaler


def test_standard_and_robust_by_hand():
    X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [10.0, 1.0]])
    c, s = fit_scaler(X, "standard")
    np.testing.assert_allclose(c, [3.25, 1.0], rtol=1e-6)
    np.testing.assert_allclose(s, [np.std(X[:, 0]), 1.0], rtol=1e-6)  # constant feature: scale 1
    c, s = fit_scaler(X, "robust")
    # median 1.5, IQR = 4.0 - 0.75 = 3.25
    np.testing.assert_allclose(c, [1.5, 1.0], rtol=1e-6)
    np.testing.assert_allclose(s, [3.25, 1.0], rtol=1e-6)
    c, s = fit_scaler(X, None)
    assert c.tolist() == [0, 0] and s.tolist() == [1, 1] and c.dtype == np.float32


def test_robust_falls_back_to_std_when_iqr_is_zero():
    X = np.array([[0.0], [0.0], [0.0], [0.0], [0.0], [8.0]])
    _, s = fit_scaler(X, "robust")
    np.testing.assert_allclose(s, [np.std(X[:, 0])], rtol=1e-6)


def test_unknown_scaler():
    with pytest.raises(ValueError, match="scaler must be one of"):
        fit_scaler(np.ones((3, 2)), "minmax")


def test_standard_scaling_is_applied_by_the_detector():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 10.0]])
    det = KNNDetector(1, scaler="standard", backend="exact").fit(X)
    Xs = (X - X.mean(0)) / X.std(0)
    ref = KNNDetector(1, scaler=None, backend="exact").fit(Xs)
    np.testing.assert_allclose(det.decision_scores_, ref.decision_scores_, rtol=1e-5)
