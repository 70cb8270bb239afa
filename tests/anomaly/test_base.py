"""The shared detector surface (anomaly/_base.py): thresholds, labels, calibration, frames,
not-fitted errors, tags, public names, loading by class."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_outlier_detector
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from anomaly import BaseDetector, EnsembleDetector, KNNDetector, LOFDetector, check_contamination
from nnstore import NotFittedError


@pytest.mark.parametrize("contamination, expected", [(0.05, 50), (0.1, 100), (0.5, 500)])
def test_contamination_sets_share_of_flags(contamination, expected):
    X = np.random.default_rng(0).normal(size=(1000, 3))
    det = KNNDetector(5, contamination=contamination, backend="exact").fit(X)
    assert det.labels_.sum() == expected
    assert det.predict(X).sum() <= expected  # scored anew, each point is its own 0-distance neighbour
    np.testing.assert_array_equal(det.labels_, (det.decision_scores_ > det.threshold_).astype(int))


def test_thresholds_from_quantile_and_score():
    X = np.random.default_rng(1).normal(size=(200, 2))
    det = KNNDetector(3, method="mean", backend="exact").fit(X)  # mean: no tied scores
    assert det.set_threshold(quantile=0.9) is det
    assert det.labels_.sum() == 20
    det.set_threshold(score=float(np.sort(det.decision_scores_)[-3]))
    assert det.labels_.sum() == 2
    det.set_threshold(contamination=0.25)
    assert det.labels_.sum() == 50
    with pytest.raises(ValueError, match="exactly one"):
        det.set_threshold(quantile=0.5, score=1.0)
    with pytest.raises(ValueError, match="quantile must be in"):
        det.set_threshold(quantile=1.5)
    with pytest.raises(ValueError, match="score must be a finite number"):
        det.set_threshold(score=float("nan"))


@pytest.mark.parametrize("value, exc", [(0.7, ValueError), (0.0, ValueError), (True, TypeError),
                                        ("0.1", TypeError)])
def test_check_contamination(value, exc):
    with pytest.raises(exc, match="contamination"):
        check_contamination(value)
    assert check_contamination(0.5) == 0.5


def test_predict_is_pyod_zero_one_and_higher_is_more_anomalous():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(300, 2))
    det = KNNDetector(5, contamination=0.05, backend="exact").fit(X)
    Q = np.array([[0.0, 0.0], [9.0, 9.0]])
    s = det.decision_function(Q)
    assert s[1] > s[0] and s.dtype == np.float64
    assert det.predict(Q).tolist() == [0, 1] and det.predict(Q).dtype == np.int64
    assert det.fit_predict(X).tolist() == det.labels_.tolist()


def test_predict_proba_in_unit_interval():
    X = np.random.default_rng(2).normal(size=(200, 3))
    det = KNNDetector(5, backend="exact").fit(X)
    Q = np.random.default_rng(3).normal(scale=3, size=(50, 3))
    for method in ("linear", "unify"):
        p = det.predict_proba(Q, method=method)
        assert p.shape == (50, 2) and (p >= 0).all() and (p <= 1).all()
        np.testing.assert_allclose(p.sum(1), 1.0)
    s = det.decision_function(Q)
    p1 = det.predict_proba(Q)[:, 1]
    assert (np.diff(p1[np.argsort(s)]) >= -1e-12).all()  # monotone in the raw score
    with pytest.raises(ValueError, match="'linear' or 'unify'"):
        det.calibrate(s, "sigmoid")


def test_score_frame_keeps_the_index_and_selects_columns_by_name():
    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.normal(size=(100, 3)), columns=["a", "b", "c"],
                      index=pd.Index([f"r{i}" for i in range(100)], name="rid"))
    det = KNNDetector(5, backend="exact").fit(df)
    assert list(det.keys_[:2]) == ["r0", "r1"]
    assert det.feature_names_in_.tolist() == ["a", "b", "c"]
    q = df.iloc[:7][["c", "a", "b"]].assign(extra="x")  # reordered + a text column
    sf = det.score_frame(q)
    assert list(sf.index) == list(q.index) and sf.index.name == "rid"
    assert list(sf.columns) == ["score", "probability", "label"]
    np.testing.assert_allclose(sf["score"], det.decision_function(df.iloc[:7]))
    # an array input gives a 0..n-1 index
    assert list(det.score_frame(df.to_numpy()[:3]).index) == [0, 1, 2]


def test_embeddings_frame_is_read_by_position():
    from nnstore import embeddings_frame

    emb = embeddings_frame(np.random.default_rng(5).normal(size=(60, 4)), [f"n{i}" for i in range(60)])
    det = LOFDetector(5, backend="exact").fit(emb)
    assert not hasattr(det, "feature_names_in_")
    assert det.score_frame(emb.iloc[:3]).index.tolist() == ["n0", "n1", "n2"]


def test_refit_on_an_array_forgets_the_column_names():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 2)), columns=["a", "b"])
    det = KNNDetector(3).fit(df)
    assert hasattr(det, "feature_names_in_")
    det.fit(df.to_numpy())
    assert not hasattr(det, "feature_names_in_")


@pytest.mark.parametrize("call", [
    lambda d: d.decision_function(np.zeros((2, 2))),
    lambda d: d.predict(np.zeros((2, 2))),
    lambda d: d.predict_proba(np.zeros((2, 2))),
    lambda d: d.score_frame(np.zeros((2, 2))),
    lambda d: d.set_threshold(quantile=0.5),
    lambda d: d.explain(0),
    lambda d: d.save("never-written"),
])
@pytest.mark.parametrize("cls", [KNNDetector, LOFDetector, EnsembleDetector])
def test_not_fitted(cls, call, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFittedError, match=rf"This anomaly.{cls.__name__} instance is not fitted"):
        call(cls())
    assert not (tmp_path / "never-written").exists()


def test_public_names_and_tags():
    assert KNNDetector.__module__ == "anomaly" and repr(KNNDetector(3)) == "KNNDetector(n_neighbors=3)"
    assert issubclass(KNNDetector, BaseDetector)
    # PyOD's sign convention: not declared a scikit-learn "outlier_detector" (whose convention is
    # -1/+1 and lower = more anomalous)
    assert not is_outlier_detector(KNNDetector())


def test_clone_and_pipeline():
    X = np.random.default_rng(0).normal(size=(80, 3)) * [1, 10, 100]
    det = KNNDetector(4, scaler=None, backend="exact")
    twin = clone(det).set_params(n_neighbors=6)
    assert det.n_neighbors == 4 and twin.n_neighbors == 6
    pipe = make_pipeline(StandardScaler(), KNNDetector(4, scaler=None, backend="exact")).fit(X)
    ref = KNNDetector(4, scaler="standard", backend="exact").fit(X)
    np.testing.assert_allclose(pipe.decision_function(X[:5]), ref.decision_function(X[:5]), rtol=1e-4)
