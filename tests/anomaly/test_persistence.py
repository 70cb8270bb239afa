"""save/load round trips of the detectors."""

import numpy as np
import pandas as pd
import pytest

from anomaly import EnsembleDetector, KNNDetector, LOFDetector, load_detector
from nnstore import ArtifactError, read_artifact


def _frame(n=150, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"],
                        index=pd.Index([f"k{i}" for i in range(n)], name="key"))


@pytest.mark.parametrize("make", [
    lambda: KNNDetector(4, method="mean", backend="exact", scaler="robust"),
    lambda: LOFDetector(8, backend="exact"),
    lambda: KNNDetector(4, backend="annoy", random_state=0),
    lambda: LOFDetector(8, backend="annoy", random_state=0),
    lambda: EnsembleDetector([KNNDetector(4, backend="exact"), LOFDetector(8, backend="annoy",
                                                                         random_state=1)]),
])
def test_save_load_round_trip(tmp_path, make):
    df = _frame()
    q = _frame(30, seed=1)
    det = make().fit(df)
    det.set_threshold(quantile=0.8)
    det.save(tmp_path / "m")
    back = load_detector(tmp_path / "m")
    assert type(back) is type(det) and back.get_params().keys() == det.get_params().keys()
    np.testing.assert_array_equal(back.decision_function(q), det.decision_function(q))
    np.testing.assert_array_equal(back.decision_scores_, det.decision_scores_)
    np.testing.assert_array_equal(back.labels_, det.labels_)
    assert back.threshold_ == det.threshold_
    assert list(back.keys_) == list(det.keys_)
    pd.testing.assert_frame_equal(back.explain("k3"), det.explain("k3"))
    assert read_artifact(tmp_path / "m").kind == "anomaly_detector"


def test_load_refuses_other_kinds(tmp_path):
    det = KNNDetector(3, backend="exact").fit(_frame())
    det.save(tmp_path / "m")
    with pytest.raises(TypeError, match="holds a KNNDetector, not a LOFDetector"):
        LOFDetector.load(tmp_path / "m")
    with pytest.raises(ArtifactError, match="no artifact directory"):
        load_detector(tmp_path / "missing")
