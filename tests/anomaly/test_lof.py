"""LOFDetector: the textbook case by hand and agreement with scikit-learn."""

import warnings

import numpy as np
import pytest
from sklearn.neighbors import LocalOutlierFactor

from anomaly import LOFDetector


def test_textbook_three_points():
    # a=0, b=1, c=3 on a line, k=2: every point's neighbours are the other two.
    # k-distance: a 3, b 2, c 3.
    # reach(a,b)=max(2,1)=2, reach(a,c)=max(3,3)=3 -> lrd(a)=1/2.5=0.4
    # reach(b,a)=max(3,1)=3, reach(b,c)=max(3,2)=3 -> lrd(b)=1/3
    # reach(c,a)=max(3,3)=3, reach(c,b)=max(2,2)=2 -> lrd(c)=0.4
    # LOF(a)=(1/3+0.4)/2/0.4=11/12, LOF(b)=(0.4+0.4)/2*3=1.2, LOF(c)=11/12
    X = np.array([[0.0], [1.0], [3.0]])
    det = LOFDetector(2, scaler=None, backend="exact").fit(X)
    np.testing.assert_allclose(det.k_distance_, [3, 2, 3], rtol=1e-6)
    np.testing.assert_allclose(det.lrd_, [0.4, 1 / 3, 0.4], rtol=1e-6)
    np.testing.assert_allclose(det.decision_scores_, [11 / 12, 1.2, 11 / 12], rtol=1e-6)
    # a new point at 2: neighbours b (1) and c (1); reach = max(2,1)=2, max(3,1)=3 -> lrd 0.4
    # LOF = (lrd(b) + lrd(c)) / 2 / 0.4 = (1/3 + 0.4) / 0.8
    np.testing.assert_allclose(det.decision_function([[2.0]]), [(1 / 3 + 0.4) / 0.8], rtol=1e-6)


def test_agrees_with_sklearn():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(300, 5)), rng.normal(4, 0.5, size=(60, 5))]).astype(np.float32)
    Q = rng.normal(1, 2, size=(80, 5)).astype(np.float32)
    det = LOFDetector(15, scaler=None, backend="exact").fit(X)
    sk = LocalOutlierFactor(n_neighbors=15).fit(X)
    np.testing.assert_allclose(det.decision_scores_, -sk.negative_outlier_factor_, rtol=1e-4)
    nov = LocalOutlierFactor(n_neighbors=15, novelty=True).fit(X)
    np.testing.assert_allclose(det.decision_function(Q), -nov.score_samples(Q), rtol=1e-4)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_duplicate_rows_agree_with_sklearn(k):
    rng = np.random.default_rng(11)
    base = rng.normal(size=(40, 3)).astype(np.float32)
    X = np.vstack([base[rng.integers(0, 40, size=200)], np.repeat(base[:1], 30, axis=0)])
    Q = np.vstack([rng.normal(size=(20, 3)).astype(np.float32), base[:3]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn warns about duplicates
        sk = LocalOutlierFactor(n_neighbors=k).fit(X)
        nov = LocalOutlierFactor(n_neighbors=k, novelty=True).fit(X)
    lof = LOFDetector(k, scaler=None, backend="exact").fit(X)
    np.testing.assert_allclose(lof.decision_scores_, -sk.negative_outlier_factor_, rtol=1e-4)
    np.testing.assert_allclose(lof.decision_function(Q), -nov.score_samples(Q), rtol=1e-4)


def test_annoy_backend_finds_planted_points():
    rng = np.random.default_rng(7)
    far = rng.uniform(6, 10, size=(8, 6)) * rng.choice([-1.0, 1.0], size=(8, 6))
    X = np.vstack([rng.normal(size=(400, 6)), far])
    lof = LOFDetector(10, backend="annoy", random_state=0).fit(X)
    assert set(np.argsort(-lof.decision_scores_)[:8]) == set(range(400, 408))
