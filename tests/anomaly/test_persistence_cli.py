"""save/load round trips and the `graphtab anomaly fit|score` commands."""

import numpy as np
import pandas as pd
import pytest

from anomaly import EnsembleDetector, KNNDetector, LOFDetector, load_detector
from graphtab.cli import main
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


def test_cli_fit_and_score_in_chunks(tmp_path, capsys):
    df = _frame(200).reset_index()
    df.loc[199, "b"] = 12.0
    df["label_text"] = "x"
    src = tmp_path / "train.parquet"
    df.to_parquet(src, index=False)
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "model"), "--key", "key",
                 "--columns", "a", "b", "c", "--method", "mean", "--k", "5",
                 "--contamination", "0.05", "--backend", "exact"]) == 0
    assert "flags 10 training rows" in capsys.readouterr().out
    csv = tmp_path / "new.csv"
    df.to_csv(csv, index=False)
    out = tmp_path / "scores.parquet"
    assert main(["anomaly", "score", str(tmp_path / "model"), str(csv), "--out", str(out),
                 "--chunksize", "64", "--no-progress"]) == 0
    scores = pd.read_parquet(out)
    assert len(scores) == 200 and scores.index.name == "key" and scores.index[0] == "k0"
    det = load_detector(tmp_path / "model")
    expected = det.score_frame(df.set_index("key"))
    pd.testing.assert_frame_equal(scores, expected)
    assert scores["score"].idxmax() == "k199"


def test_cli_fit_annoy_knobs(tmp_path, capsys):
    src = tmp_path / "train.csv"
    _frame(120).reset_index().to_csv(src, index=False)
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "m"), "--key", "key",
                 "--backend", "annoy", "--n-trees", "3", "--n-jobs", "1", "--random-state", "0"]) == 0
    assert "backend annoy" in capsys.readouterr().out
    det = load_detector(tmp_path / "m")
    assert (det.backend_, det.n_trees, det.n_jobs) == ("annoy", 3, 1)


def test_cli_errors(tmp_path, capsys):
    df = _frame(20).reset_index()
    src = tmp_path / "t.csv"
    df.to_csv(src, index=False)
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "m"), "--key", "key",
                 "--k", "20"]) == 2
    assert "n_neighbors (k=20) must be smaller" in capsys.readouterr().err
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "m"), "--key", "key",
                 "--contamination", "0.9"]) == 2
    assert "contamination must be in (0, 0.5], got 0.9" in capsys.readouterr().err
