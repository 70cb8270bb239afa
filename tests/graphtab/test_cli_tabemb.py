"""graphtab tabemb fit / embed / link-embed on a tiny CSV."""

import numpy as np
import pandas as pd

from graphtab.cli import main


def test_fit_then_embed(tmp_path, capsys):
    df = pd.DataFrame({"key": [f"k{i}" for i in range(30)],
                       "name": [f"name {i % 7} x{i}" for i in range(30)],
                       "color": ["red", "blue", "green"] * 10,
                       "size": [float(i) for i in range(30)]})
    src = tmp_path / "t.csv"
    df.to_csv(src, index=False)
    assert main(["tabemb", "fit", str(src), "--out", str(tmp_path / "m"), "--key", "key",
                 "--epochs", "1", "--schema", "color=text"]) == 0
    out = capsys.readouterr().out
    assert "saved table_encoder" in out and "override" in out
    assert main(["tabemb", "embed", str(tmp_path / "m"), str(src), "--key", "key",
                 "--out", str(tmp_path / "e.parquet")]) == 0
    emb = pd.read_parquet(tmp_path / "e.parquet")
    assert list(emb.index) == list(df["key"]) and emb.columns[0] == "emb_0"
    assert main(["tabemb", "embed", str(tmp_path / "nope"), str(src),
                 "--out", str(tmp_path / "x.parquet")]) == 2


def test_link_embed(tmp_path, capsys):
    df = pd.DataFrame({"key": [f"k{i}" for i in range(30)],
                       "name": [f"{w} street {i}" for i, w in enumerate(["oak", "elm", "ash"] * 10)]})
    other = df.assign(key=[f"b{i}" for i in range(30)], name=df["name"].str.replace("street", "st"))
    df.to_csv(tmp_path / "a.csv", index=False)
    other.to_csv(tmp_path / "b.csv", index=False)
    assert main(["tabemb", "fit", str(tmp_path / "a.csv"), "--out", str(tmp_path / "m"), "--key", "key",
                 "--epochs", "0"]) == 0
    assert main(["tabemb", "link-embed", str(tmp_path / "m"), str(tmp_path / "a.csv"),
                 str(tmp_path / "b.csv"), "--key", "key", "--out", str(tmp_path / "le")]) == 0
    assert "hubness-corrected" in capsys.readouterr().out
    ea, eb = pd.read_parquet(tmp_path / "le" / "a.parquet"), pd.read_parquet(tmp_path / "le" / "b.parquet")
    assert list(ea.index) == list(df["key"]) and list(eb.index) == list(other["key"])
    assert ea.shape[1] == eb.shape[1] and (ea.iloc[:, -1] == 1).all()
    assert ((eb.to_numpy() @ ea.to_numpy().T).argmax(axis=1) == np.arange(30)).all()


def test_fit_defaults_follow_the_library_and_bad_epochs_is_usage(tmp_path, capsys):
    import json

    from tabemb import TableEncoder

    df = pd.DataFrame({"name": [f"item {i} of {i % 5}" for i in range(20)], "color": ["red", "blue"] * 10})
    src = tmp_path / "t.csv"
    df.to_csv(src, index=False)
    assert main(["tabemb", "fit", str(src), "--out", str(tmp_path / "m")]) == 0
    params = json.loads((tmp_path / "m" / "manifest.json").read_text())["params"]
    assert params["epochs"] == TableEncoder().epochs and params["analyzer"] == TableEncoder().analyzer
    assert main(["tabemb", "fit", str(src), "--out", str(tmp_path / "m2"), "--epochs", "-1"]) == 2
    assert "epochs" in capsys.readouterr().err
