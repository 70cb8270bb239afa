"""``graphtab kge fit | predict | evaluate``."""

from __future__ import annotations

import pandas as pd
import pytest

from graphtab.cli import main


def _kg(n=12, held=3):
    """Person i is married to person n+i (symmetric) and is parent of child 2n+i,
    with child_of the inverse of parent_of. Some reverse triples are held out."""
    train, test = [], []
    for i in range(n):
        a, b, c = f"p{i}", f"p{n + i}", f"c{i}"
        train.append((a, "married", b))
        train.append((a, "parent_of", c))
        (test if i < held else train).append((b, "married", a))
        (test if i < held else train).append((c, "child_of", a))
    cols = ["head", "relation", "tail"]
    return pd.DataFrame(train, columns=cols), pd.DataFrame(test, columns=cols)


def test_cli_fit_predict_evaluate(tmp_path, capsys):
    train, test = _kg()
    train.to_csv(tmp_path / "train.txt", sep="\t", header=False, index=False)
    test.to_csv(tmp_path / "test.txt", sep="\t", header=False, index=False)
    assert main(["kge", "fit", str(tmp_path / "train.txt"), "--out", str(tmp_path / "m"),
                 "--model", "distmult", "--dim", "8", "--epochs", "5", "--no-progress"]) == 0
    pd.DataFrame({"head": ["p0"], "relation": ["parent_of"]}).to_csv(tmp_path / "q.csv", index=False)
    assert main(["kge", "predict", str(tmp_path / "m"), str(tmp_path / "q.csv"),
                 "--out", str(tmp_path / "p.parquet"), "--k", "3", "--exact"]) == 0
    pred = pd.read_parquet(tmp_path / "p.parquet")
    assert len(pred) == 3 and list(pred["rank"]) == [0, 1, 2]
    capsys.readouterr()
    assert main(["kge", "evaluate", str(tmp_path / "m"), str(tmp_path / "test.txt"),
                 "--known", str(tmp_path / "train.txt")]) == 0
    assert "mrr" in capsys.readouterr().out


@pytest.mark.parametrize(("line", "got"), [("a\tr\n", "got 2"), ("a\tr\tb\tc\n", "got 4")])
def test_fit_on_a_file_without_three_columns_exits_2(tmp_path, capsys, line, got):
    path = tmp_path / "train.txt"
    path.write_text("x\tr\ty\n" + line, encoding="utf-8")
    code = main(["kge", "fit", str(path), "--out", str(tmp_path / "m"), "--epochs", "1", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "line 2" in err and got in err and "train.txt" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_fit_n3_and_old_regularization_option(tmp_path, capsys):
    train, _ = _kg()
    train.to_csv(tmp_path / "train.txt", sep="\t", header=False, index=False)
    assert main(["kge", "fit", str(tmp_path / "train.txt"), "--out", str(tmp_path / "m"), "--dim", "4",
                 "--epochs", "1", "--n3", "0.01", "--no-progress"]) == 0
    from graphemb import KGEmbedder

    assert KGEmbedder.load(tmp_path / "m").n3 == 0.01
