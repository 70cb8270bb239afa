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
    assert main(["store", "build", str(path), str(out), "--key", "sku", "--metric", "euclidean",
                 "--metadata-cols", "color", "--random-state", "0", "--n-trees", "5"]) == 0
    store = NeighborStore.load(out)
    assert len(store) == 60 and store.metric == "euclidean"
    assert store.get_metadata(["s2"])["color"].iloc[0] == "red"
    # query by vectors from CSV
    qcsv = tmp_path / "q.csv"
    df.iloc[:3].to_csv(qcsv, index=False)
    res_path = tmp_path / "res.parquet"
    assert main(["store", "query", str(out), str(qcsv), "--k", "2", "--out", str(res_path),
                 "--id-col", "sku", "--no-progress"]) == 0
    res = pd.read_parquet(res_path)
    assert list(res.columns) == ["query", "rank", "key", "distance"] and len(res) == 6
    assert res.groupby("query")["key"].first().to_dict() == {"s0": "s0", "s1": "s1", "s2": "s2"}
    # by keys (self excluded)
    assert main(["store", "query", str(out), str(qcsv), "--k", "3", "--keys-col", "sku",
                 "--out", str(tmp_path / "r2.csv"), "--no-progress"]) == 0
    r2 = pd.read_csv(tmp_path / "r2.csv")
    assert len(r2) == 9 and not (r2["query"] == r2["key"]).any()


def test_build_from_list_column_csv(tmp_path):
    df = pd.DataFrame({"id": [1, 2, 3], "vec": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]})
    path = tmp_path / "v.parquet"
    df.to_parquet(path, index=False)
    assert main(["store", "build", str(path), str(tmp_path / "s"), "--key", "id", "--list-col", "vec",
                 "--exact"]) == 0
    store = NeighborStore.load(tmp_path / "s")
    assert store.keys.tolist() == [1, 2, 3] and store.dim == 2


def test_cli_errors(tmp_path, table, capsys):
    path, _, _ = table
    assert main(["store", "build", str(path), str(tmp_path / "s"), "--key", "nope"]) == 2
    assert "key column 'nope'" in capsys.readouterr().err
    assert main(["store", "build", str(path), str(tmp_path / "s"), "--key", "sku",
                 "--vector-cols", "emb_0", "zzz"]) == 2
    assert "vector columns ['zzz']" in capsys.readouterr().err
    assert main(["store", "query", str(tmp_path / "none"), str(path), "--out",
                 str(tmp_path / "o.parquet")]) == 2
    assert "error:" in capsys.readouterr().err
