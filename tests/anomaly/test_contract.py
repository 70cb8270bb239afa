"""Every public detector keeps graphtab's estimator contract and passes scikit-learn's checks.

scikit-learn's ``parametrize_with_checks`` runs with no expected failures. Its
outlier-convention checks (``predict`` in {-1, +1}, lower = more anomalous) are
not among them because the detectors follow PyOD's convention and say so in
their tags (see anomaly/_base.py).
"""

import inspect

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import anomaly
from anomaly import EnsembleDetector, KNNDetector, LOFDetector
from nnstore.testing import check_estimator_contract

X = np.random.default_rng(0).normal(size=(120, 4))
Q = np.random.default_rng(1).normal(size=(15, 4))


def test_every_public_estimator_is_covered():
    public = {name for name in anomaly.__all__
              if isinstance(getattr(anomaly, name), type) and hasattr(getattr(anomaly, name), "fit")
              and not inspect.isabstract(getattr(anomaly, name))}
    assert public == {"EnsembleDetector", "KNNDetector", "LOFDetector"}
    with pytest.raises(TypeError, match="abstract"):
        anomaly.BaseDetector()


BAD = {"contamination": [0.0, 0.6, "0.1"], "n_neighbors": [0, 1.5], "n_jobs": [0],
       "random_state": [-1, "x"], "backend": ["faiss"], "scaler": ["minmax"]}


@pytest.mark.parametrize("est, bad", [
    (KNNDetector(5, method="mean"), {**BAD, "method": ["max"]}),
    (KNNDetector(5, backend="annoy", random_state=0), BAD),
    (LOFDetector(10), BAD),
    (LOFDetector(10, backend="annoy", random_state=0), BAD),
    (EnsembleDetector([KNNDetector(5), LOFDetector(10)]),
     {"contamination": [0.0, 0.6], "combination": ["median"], "detectors": [[], ["knn"]]}),
], ids=["knn", "knn-annoy", "lof", "lof-annoy", "ensemble"])
def test_contract(est, bad, tmp_path):
    check_estimator_contract(
        est, lambda e: e.fit(X),
        outputs=lambda e: (e.decision_function(Q), e.predict(Q), e.decision_scores_, e.labels_,
                           e.score_frame(Q)),
        unfitted=[lambda e: e.decision_function(Q), lambda e: e.predict(Q),
                  lambda e: e.predict_proba(Q), lambda e: e.score_frame(Q),
                  lambda e: e.set_threshold(quantile=0.5), lambda e: e.save(tmp_path / "x")],
        bad_params=bad, tmp_path=tmp_path)


# n_neighbors=5 for LOF: scikit-learn's checks fit on as few as 10 rows, and the detectors refuse
# n_neighbors >= n_samples (LOF's default is 20)
@parametrize_with_checks([
    KNNDetector(),
    KNNDetector(method="median", backend="annoy", scaler="standard"),
    LOFDetector(n_neighbors=5),
    LOFDetector(n_neighbors=5, backend="annoy"),
    EnsembleDetector([KNNDetector(), LOFDetector(n_neighbors=5)]),
])
def test_sklearn_checks(estimator, check):
    check(estimator)
