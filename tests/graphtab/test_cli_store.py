"""``graphtab store build`` / ``graphtab store query``."""

import numpy as np
import pandas as pd
import pytest

from graphtab.cli import main
from nnstore import NeighborStore


@pytest.fixture()
def table(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    df = pd.DataFrame(X, columns=[f"emb_{i}" for i in range(4)])
    df.insert(0, "sku", [f"s{i}" for i in range(60)])
    df["color"] = np.where(np.arange(60) % 2 == 0, "red", "blue")
    path = tmp_path / "items.parquet"
    df.to_parquet(path, index=False)
    return path, df, X


def test_build_and_query_by_vectors_and_keys(tmp_path, table, capsys):
    path, df, _ = table
    out = tmp_path / "store"
    assert main(["store", "build", str(path), "--out", str(out), "--key", "sku", "--metric", "euclidean",
                 "--metadata-cols", "color", "--seed", "0", "--n-trees", "5"]) == 0
    store = NeighborStore.load(out)
    assert len(store) == 60 and store.metric == "euclidean"
    assert store.get_metadata(["s2"])["color"].iloc[0] == "red"
    # query by vectors from CSV, each query named by its key column
    qcsv = tmp_path / "q.csv"
    df.iloc[:3].to_csv(qcsv, index=False)
    res_path = tmp_path / "res.parquet"
    assert main(["store", "query", str(out), str(qcsv), "--k", "2", "--out", str(res_path),
                 "--key", "sku", "--no-progress"]) == 0
    res = pd.read_parquet(res_path)
    assert list(res.columns) == ["query", "rank", "key", "distance"] and len(res) == 6
    assert res.groupby("query")["key"].first().to_dict() == {"s0": "s0", "s1": "s1", "s2": "s2"}
    # by keys (self excluded)
    assert main(["store", "query", str(out), str(qcsv), "--k", "3", "--by-key", "--key", "sku",
                 "--out", str(tmp_path / "r2.csv"), "--no-progress"]) == 0
    r2 = pd.read_csv(tmp_path / "r2.csv")
    assert len(r2) == 9 and not (r2["query"] == r2["key"]).any()


def test_build_from_list_column(tmp_path):
    df = pd.DataFrame({"id": [1, 2, 3], "vec": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]})
    path = tmp_path / "v.parquet"
    df.to_parquet(path, index=False)
    assert main(["store", "build", str(path), "--out", str(tmp_path / "s"), "--key", "id", "--list-col",
                 "vec", "--exact"]) == 0
    store = NeighborStore.load(tmp_path / "s")
    assert store.keys.tolist() == [1, 2, 3] and store.dim == 2


def test_keys_found_without_key_option(tmp_path):
    """An embeddings CSV written with its index (the key) as the one non-emb_* column."""
    emb = pd.DataFrame(np.eye(3, dtype=np.float32), columns=["emb_0", "emb_1", "emb_2"],
                       index=pd.Index(["a", "b", "c"], name="node"))
    emb.to_csv(tmp_path / "e.csv")
    assert main(["store", "build", str(tmp_path / "e.csv"), "--out", str(tmp_path / "s"), "--exact"]) == 0
    assert NeighborStore.load(tmp_path / "s").keys.tolist() == ["a", "b", "c"]


def test_ids_as_str_keeps_leading_zeros(tmp_path):
    df = pd.DataFrame({"id": ["007", "010", "100"], "emb_0": [1.0, 0.0, 1.0], "emb_1": [0.0, 1.0, 1.0]})
    df.to_csv(tmp_path / "e.csv", index=False)
    assert main(["store", "build", str(tmp_path / "e.csv"), "--out", str(tmp_path / "s"), "--key", "id",
                 "--exact", "--ids-as-str"]) == 0
    assert NeighborStore.load(tmp_path / "s").keys.tolist() == ["007", "010", "100"]
    assert main(["store", "build", str(tmp_path / "e.csv"), "--out", str(tmp_path / "t"), "--key", "id",
                 "--exact"]) == 0
    assert NeighborStore.load(tmp_path / "t").keys.tolist() == [7, 10, 100]


def test_cli_errors(tmp_path, table, capsys):
    path, _, _ = table
    assert main(["store", "build", str(path), "--out", str(tmp_path / "s"), "--key", "nope"]) == 2
    assert "key column 'nope'" in capsys.readouterr().err
    assert main(["store", "build", str(path), "--out", str(tmp_path / "s"), "--key", "sku",
                 "--columns", "emb_0", "zzz"]) == 2
    assert "columns ['zzz']" in capsys.readouterr().err
    assert main(["store", "query", str(tmp_path / "none"), str(path), "--out",
                 str(tmp_path / "o.parquet")]) == 2
    assert "error:" in capsys.readouterr().err
    # the output format is checked before any work
    assert main(["store", "query", str(tmp_path / "none"), str(path), "--out",
                 str(tmp_path / "o.json")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "notes.txt").write_text("mine")
    assert main(["store", "build", str(path), "--out", str(tmp_path / "occupied"), "--key", "sku"]) == 2
    assert "holds no graphtab artifact" in capsys.readouterr().err
    assert (tmp_path / "occupied" / "notes.txt").read_text() == "mine"
    assert main(["store", "query", str(tmp_path / "none"), str(path), "--out", str(tmp_path / "o.csv"),
                 "--k", "0"]) == 2
    assert "--k must be a positive int" in capsys.readouterr().err


def test_deprecated_spellings_still_work(tmp_path, table, capsys):
    path, df, _ = table
    out = tmp_path / "store"
    assert main(["store", "build", str(path), "--out", str(out), "--key", "sku", "--random-state", "0",
                 "--vector-cols", "emb_0", "emb_1", "emb_2", "emb_3", "--n-trees", "2"]) == 0
    err = capsys.readouterr().err
    assert "--random-state is deprecated" in err and "use --seed" in err
    qcsv = tmp_path / "q.csv"
    df.iloc[:2].to_csv(qcsv, index=False)
    assert main(["store", "query", str(out), str(qcsv), "--id-col", "sku", "--chunksize", "1",
                 "--out", str(tmp_path / "r.csv"), "--no-progress"]) == 0
    assert "--id-col is deprecated" in capsys.readouterr().err
    assert set(pd.read_csv(tmp_path / "r.csv")["query"]) == {"s0", "s1"}
