"""EnsembleDetector: standardised score averaging, members cloned, defaults."""

import numpy as np
import pytest

from anomaly import EnsembleDetector, KNNDetector, LOFDetector


def _data():
    rng = np.random.default_rng(8)
    return rng, np.vstack([rng.normal(size=(200, 3)), [[6.0, 6.0, 6.0]]])


@pytest.mark.parametrize("combination, combine", [("mean", np.mean), ("max", np.max)])
def test_combines_standardised_scores(combination, combine):
    rng, X = _data()
    members = [KNNDetector(5, backend="exact"), LOFDetector(10, backend="exact")]
    ens = EnsembleDetector(members, combination=combination, contamination=0.01).fit(X)
    z = [(m.decision_scores_ - m.decision_scores_.mean()) / m.decision_scores_.std()
         for m in ens.detectors_]
    np.testing.assert_allclose(ens.decision_scores_, combine(z, axis=0))
    assert ens.decision_scores_.argmax() == 200 and ens.labels_[200] == 1
    assert not hasattr(members[0], "decision_scores_")  # members are cloned
    Q = rng.normal(size=(5, 3))
    zq = [(m.decision_function(Q) - mu) / sd
          for m, mu, sd in zip(ens.detectors_, ens.score_mean_, ens.score_std_, strict=True)]
    np.testing.assert_allclose(ens.decision_function(Q), combine(zq, axis=0))


def test_default_members_are_knn_and_lof():
    _, X = _data()
    ens = EnsembleDetector().fit(X)
    assert [type(d).__name__ for d in ens.detectors_] == ["KNNDetector", "LOFDetector"]
    assert ens.detectors is None


def test_explain_uses_the_ensembles_labels():
    _, X = _data()
    ens = EnsembleDetector([KNNDetector(5), LOFDetector(10)], contamination=0.01).fit(X)
    ex = ens.explain(200)
    assert ex.attrs["label"] == 1 and ex.attrs["score"] == ens.decision_scores_[200]
    ex2 = ens.explain(X[200])
    assert ex2.attrs["score"] == pytest.approx(float(ens.decision_function(X[200:201])[0]))


def test_constant_member_scores_do_not_divide_by_zero():
    X = np.ones((20, 2))
    ens = EnsembleDetector([KNNDetector(3), KNNDetector(4, method="mean")]).fit(X)
    np.testing.assert_array_equal(ens.decision_scores_, np.zeros(20))
