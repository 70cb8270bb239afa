"""``graphtab anomaly fit | score``."""

import numpy as np
import pandas as pd

from anomaly import load_detector
from graphtab.cli import main


def _frame(n=150, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"],
                        index=pd.Index([f"k{i}" for i in range(n)], name="key"))


def test_fit_and_score_in_chunks(tmp_path, capsys):
    df = _frame(200).reset_index()
    df.loc[199, "b"] = 12.0
    df["label_text"] = "x"
    src = tmp_path / "train.parquet"
    df.to_parquet(src, index=False)
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "model"), "--key", "key",
                 "--columns", "a", "b", "c", "--method", "mean", "--n-neighbors", "5",
                 "--contamination", "0.05", "--backend", "exact"]) == 0
    assert "flags 10 training rows" in capsys.readouterr().out
    csv = tmp_path / "new.csv"
    df.to_csv(csv, index=False)
    out = tmp_path / "scores.parquet"
    assert main(["anomaly", "score", str(tmp_path / "model"), str(csv), "--out", str(out),
                 "--chunk-rows", "64", "--no-progress"]) == 0
    scores = pd.read_parquet(out)
    assert len(scores) == 200 and scores.index.name == "key" and scores.index[0] == "k0"
    det = load_detector(tmp_path / "model")
    expected = det.score_frame(df.set_index("key")[["a", "b", "c"]])
    pd.testing.assert_frame_equal(scores, expected)
    assert scores["score"].idxmax() == "k199"


def test_fit_annoy_knobs(tmp_path, capsys):
    src = tmp_path / "train.csv"
    _frame(120).reset_index().to_csv(src, index=False)
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "m"), "--key", "key",
                 "--backend", "annoy", "--n-trees", "3", "--n-jobs", "1", "--seed", "0"]) == 0
    assert "backend annoy" in capsys.readouterr().out
    det = load_detector(tmp_path / "m")
    assert (det.backend_, det.n_trees, det.n_jobs) == ("annoy", 3, 1)


def test_errors(tmp_path, capsys):
    df = _frame(20).reset_index()
    src = tmp_path / "t.csv"
    df.to_csv(src, index=False)
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "m"), "--key", "key",
                 "--n-neighbors", "20"]) == 2
    assert "must be smaller" in capsys.readouterr().err
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "m"), "--key", "key",
                 "--contamination", "0.9"]) == 2
    assert "contamination" in capsys.readouterr().err and not (tmp_path / "m").exists()


def test_a_string_in_a_numeric_column_is_named_not_dropped(tmp_path, capsys):
    df = _frame(30).reset_index()
    df["b"] = df["b"].astype(object)
    df.loc[17, "b"] = "n/a?"
    df.to_csv(tmp_path / "t.csv", index=False)
    assert main(["anomaly", "fit", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m"),
                 "--key", "key"]) == 2
    err = capsys.readouterr().err
    assert "column 'b'" in err and "row 17" in err and "'n/a?'" in err
    assert not (tmp_path / "m").exists()



def test_fit_bad_backend_is_a_usage_error(tmp_path, capsys):
    src = tmp_path / "train.csv"
    _frame(60).reset_index().to_csv(src, index=False)
    assert main(["anomaly", "fit", str(src), "--out", str(tmp_path / "m2"), "--key", "key",
                 "--backend", "faiss"]) == 2
    assert "--backend" in capsys.readouterr().err and not (tmp_path / "m2").exists()
