"""KNNDetector, LOFDetector, EnsembleDetector: hand-computed values, sklearn agreement,
thresholds, determinism, bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from anomaly import EnsembleDetector, KNNDetector, LOFDetector
from nnstore import NotFittedError

LINE = np.array([[0.0], [1.0], [3.0], [7.0]])


@pytest.mark.parametrize("method, train, new", [
    # neighbours (k=2, self excluded): 0 -> {1, 3}, 1 -> {0, 2}, 3 -> {2, 3}, 7 -> {4, 6}
    ("largest", [3.0, 2.0, 3.0, 6.0], 3.0),
    ("mean", [2.0, 1.5, 2.5, 5.0], 2.0),
    ("median", [2.0, 1.5, 2.5, 5.0], 2.0),
])
def test_knn_scores_by_hand(method, train, new):
    det = KNNDetector(2, method=method, scaler=None, backend="exact").fit(LINE)
    np.testing.assert_allclose(det.decision_scores_, train, rtol=1e-6)
    # the new point 4 has neighbours 3 (distance 1) and 7 (distance 3)
    np.testing.assert_allclose(det.decision_function([[4.0]]), [new], rtol=1e-6)


def test_knn_two_dimensional_by_hand():
    X = np.array([[0, 0], [3, 4], [0, 4], [6, 8]], dtype=float)
    det = KNNDetector(1, scaler=None, backend="exact").fit(X)
    # nearest other point: (0,0)->(0,4) 4; (3,4)->(0,4) 3; (0,4)->(3,4) 3; (6,8)->(3,4) 5
    np.testing.assert_allclose(det.decision_scores_, [4, 3, 3, 5], rtol=1e-6)


def test_standard_scaling_is_applied():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 10.0]])
    det = KNNDetector(1, scaler="standard", backend="exact").fit(X)
    Xs = (X - X.mean(0)) / X.std(0)
    ref = KNNDetector(1, scaler=None, backend="exact").fit(Xs)
    np.testing.assert_allclose(det.decision_scores_, ref.decision_scores_, rtol=1e-5)


def test_lof_textbook_three_points():
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


def test_lof_agrees_with_sklearn():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(300, 5)), rng.normal(4, 0.5, size=(60, 5))]).astype(np.float32)
    Q = rng.normal(1, 2, size=(80, 5)).astype(np.float32)
    det = LOFDetector(15, scaler=None, backend="exact").fit(X)
    sk = LocalOutlierFactor(n_neighbors=15).fit(X)
    np.testing.assert_allclose(det.decision_scores_, -sk.negative_outlier_factor_, rtol=1e-4)
    nov = LocalOutlierFactor(n_neighbors=15, novelty=True).fit(X)
    np.testing.assert_allclose(det.decision_function(Q), -nov.score_samples(Q), rtol=1e-4)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_duplicate_rows_match_sklearn(k):
    # rows drawn with replacement from 40 points (plus a block of 30 copies): the exact
    # backend searches the distinct points once and expands them by their counts
    rng = np.random.default_rng(11)
    base = rng.normal(size=(40, 3)).astype(np.float32)
    X = np.vstack([base[rng.integers(0, 40, size=200)], np.repeat(base[:1], 30, axis=0)])
    Q = np.vstack([rng.normal(size=(20, 3)).astype(np.float32), base[:3]])
    nn = NearestNeighbors().fit(X)
    d, _ = nn.kneighbors(n_neighbors=k)
    dq, _ = nn.kneighbors(Q, n_neighbors=k)
    det = KNNDetector(k, method="mean", scaler=None, backend="exact").fit(X)
    np.testing.assert_allclose(det.decision_scores_, d.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(det.decision_function(Q), dq.mean(axis=1), rtol=1e-5, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn warns about duplicates
        sk = LocalOutlierFactor(n_neighbors=k).fit(X)
        nov = LocalOutlierFactor(n_neighbors=k, novelty=True).fit(X)
    lof = LOFDetector(k, scaler=None, backend="exact").fit(X)
    np.testing.assert_allclose(lof.decision_scores_, -sk.negative_outlier_factor_, rtol=1e-4)
    np.testing.assert_allclose(lof.decision_function(Q), -nov.score_samples(Q), rtol=1e-4)


def test_all_rows_identical():
    det = KNNDetector(3, scaler=None, backend="exact").fit(np.ones((10, 2)))
    np.testing.assert_array_equal(det.decision_scores_, np.zeros(10))
    np.testing.assert_allclose(det.decision_function([[2.0, 1.0]]), [1.0])


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
    det.set_threshold(quantile=0.9)
    assert det.labels_.sum() == 20
    det.set_threshold(score=float(np.sort(det.decision_scores_)[-3]))
    assert det.labels_.sum() == 2
    det.set_threshold(contamination=0.25)
    assert det.labels_.sum() == 50
    with pytest.raises(ValueError, match="exactly one"):
        det.set_threshold(quantile=0.5, score=1.0)
    with pytest.raises(ValueError, match="quantile must be in"):
        det.set_threshold(quantile=1.5)


def test_predict_proba_in_unit_interval():
    X = np.random.default_rng(2).normal(size=(200, 3))
    det = KNNDetector(5, backend="exact").fit(X)
    Q = np.random.default_rng(3).normal(scale=3, size=(50, 3))
    for method in ("linear", "unify"):
        p = det.predict_proba(Q, method=method)
        assert p.shape == (50, 2) and (p >= 0).all() and (p <= 1).all()
        np.testing.assert_allclose(p.sum(1), 1.0)
    # linear calibration is monotone in the raw score
    s = det.decision_function(Q)
    p1 = det.predict_proba(Q)[:, 1]
    assert (np.diff(p1[np.argsort(s)]) >= -1e-12).all()


def test_dataframe_index_preserved_and_columns_selected():
    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.normal(size=(100, 3)), columns=["a", "b", "c"],
                      index=pd.Index([f"r{i}" for i in range(100)], name="rid"))
    det = KNNDetector(5, backend="exact").fit(df)
    assert list(det.keys_[:2]) == ["r0", "r1"]
    q = df.iloc[:7][["c", "a", "b"]].assign(extra="x")  # reordered + a text column
    sf = det.score_frame(q)
    assert list(sf.index) == list(q.index) and sf.index.name == "rid"
    assert list(sf.columns) == ["score", "probability", "label"]
    np.testing.assert_allclose(sf["score"], det.decision_function(df.iloc[:7]))


def test_embeddings_frame_input():
    from nnstore import embeddings_frame

    emb = embeddings_frame(np.random.default_rng(5).normal(size=(60, 4)), [f"n{i}" for i in range(60)])
    det = LOFDetector(5, backend="exact").fit(emb)
    assert det.score_frame(emb.iloc[:3]).index.tolist() == ["n0", "n1", "n2"]


def test_explain_names_deviating_feature():
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=["w", "x", "y", "z"])
    X.loc[299, "y"] = 9.0  # one planted outlier, on feature y
    det = KNNDetector(5, contamination=0.01, backend="exact").fit(X)
    assert det.labels_[299] == 1
    ex = det.explain(299)
    assert ex.index[0] == "y" and ex["z_score"].iloc[0] > 5
    assert list(ex.columns) == ["value", "neighbor_mean", "neighbor_std", "z_score"]
    assert len(ex.attrs["neighbors"]) == 5 and 299 not in ex.attrs["neighbors"]
    assert all(det.labels_[n] == 0 for n in ex.attrs["neighbors"])
    assert ex.attrs["label"] == 1
    ex2 = det.explain(X.iloc[299].to_numpy(), n_neighbors=3)
    assert ex2.index[0] == "y" and len(ex2.attrs["neighbors"]) == 3


def test_determinism_and_annoy_backend():
    rng = np.random.default_rng(7)
    far = rng.uniform(6, 10, size=(8, 6)) * rng.choice([-1.0, 1.0], size=(8, 6))
    X = np.vstack([rng.normal(size=(400, 6)), far])
    a = KNNDetector(5, backend="annoy", random_state=0).fit(X)
    b = KNNDetector(5, backend="annoy", random_state=0).fit(X)
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)
    exact = KNNDetector(5, backend="exact").fit(X)
    assert a.backend_ == "annoy" and exact.backend_ == "exact"
    assert np.corrcoef(a.decision_scores_, exact.decision_scores_)[0, 1] > 0.95
    # the planted points are the top scores for both
    assert set(np.argsort(-a.decision_scores_)[:8]) == set(range(400, 408))
    lof = LOFDetector(10, backend="annoy", random_state=0).fit(X)
    assert set(np.argsort(-lof.decision_scores_)[:8]) == set(range(400, 408))


def test_auto_backend_small_data_is_exact():
    det = KNNDetector(3).fit(np.random.default_rng(0).normal(size=(50, 2)))
    assert det.backend_ == "exact"


def test_ensemble_averages_standardised_scores():
    rng = np.random.default_rng(8)
    X = np.vstack([rng.normal(size=(200, 3)), [[6.0, 6.0, 6.0]]])
    members = [KNNDetector(5, backend="exact"), LOFDetector(10, backend="exact")]
    ens = EnsembleDetector(members, contamination=0.01).fit(X)
    z = [(m.decision_scores_ - m.decision_scores_.mean()) / m.decision_scores_.std()
         for m in ens.detectors_]
    np.testing.assert_allclose(ens.decision_scores_, np.mean(z, axis=0))
    assert ens.decision_scores_.argmax() == 200 and ens.labels_[200] == 1
    assert not hasattr(members[0], "decision_scores_")  # members are cloned
    Q = rng.normal(size=(5, 3))
    assert ens.decision_function(Q).shape == (5,)
    assert ens.explain(200).attrs["label"] == 1


@pytest.mark.parametrize("kwargs, X, exc, match", [
    ({"contamination": 0.7}, None, ValueError, r"contamination must be in \(0, 0.5\], got 0.7"),
    ({"contamination": 0.0}, None, ValueError, "contamination must be in"),
    ({"n_neighbors": 10}, np.zeros((10, 2)), ValueError, r"n_neighbors \(k=10\) must be smaller"),
    ({"n_neighbors": 0}, None, ValueError, "n_neighbors must be >= 1"),
    ({"method": "max"}, None, ValueError, "method must be one of"),
    ({"scaler": "minmax"}, None, ValueError, "scaler must be one of"),
    ({"backend": "faiss"}, None, ValueError, "backend must be one of"),
    ({}, np.array([[0.0, 1.0], [np.nan, 1.0], [2.0, 2.0]]), ValueError, "X contains NaN or infinite"),
    ({}, np.array([[0.0, 1.0], [np.inf, 1.0], [2.0, 2.0]]), ValueError, "X contains NaN or infinite"),
])
def test_bad_input_at_fit(kwargs, X, exc, match):
    X = np.random.default_rng(0).normal(size=(20, 2)) if X is None else X
    with pytest.raises(exc, match=match):
        KNNDetector(**{"n_neighbors": 2, **kwargs}).fit(X)


def test_bad_input_at_scoring():
    det = KNNDetector(2, backend="exact").fit(np.random.default_rng(0).normal(size=(20, 3)))
    with pytest.raises(ValueError, match=r"X has 2 features, but KNNDetector was fitted with 3"):
        det.decision_function(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="X contains NaN"):
        det.predict([[0.0, np.nan, 1.0]])
    with pytest.raises(NotFittedError, match="not fitted"):
        LOFDetector().decision_function(np.zeros((2, 2)))
    df_det = KNNDetector(2, backend="exact").fit(pd.DataFrame(np.eye(4)[:, :3] + 0.1 * np.arange(4)[:, None],
                                                              columns=["a", "b", "c"]))
    with pytest.raises(KeyError, match=r"lacks column\(s\) \['c'\]"):
        df_det.decision_function(pd.DataFrame({"a": [1.0], "b": [2.0]}))
