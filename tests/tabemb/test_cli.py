"""graphtab tabemb fit / embed on a tiny CSV."""

import pandas as pd

from nnstore._cli import main


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
    assert main(["tabemb", "embed", str(src), "--model", str(tmp_path / "m"), "--key", "key",
                 "--out", str(tmp_path / "e.parquet")]) == 0
    emb = pd.read_parquet(tmp_path / "e.parquet")
    assert list(emb.index) == list(df["key"]) and emb.columns[0] == "emb_0"
    assert main(["tabemb", "embed", str(src), "--model", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "x.parquet")]) == 2
