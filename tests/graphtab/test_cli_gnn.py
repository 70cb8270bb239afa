"""``graphtab gnn fit | embed``."""

import networkx as nx
import numpy as np
import pandas as pd

from graphemb import GNNEmbedder
from graphtab.cli import main


def _planted(n_blocks=4, size=25, seed=0, n_features=12):
    G = nx.planted_partition_graph(n_blocks, size, 0.3, 0.01, seed=seed)
    G = nx.relabel_nodes(G, {i: f"n{i}" for i in G.nodes})
    y = np.repeat(np.arange(n_blocks), size)
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n_blocks * size, n_features))
    F[:, :n_blocks] += np.eye(n_blocks)[y]
    return G, pd.DataFrame(F, index=list(G.nodes), columns=[f"f{i}" for i in range(n_features)]), y


def test_fit_and_embed(tmp_path, capsys):
    G, F, y = _planted()
    edges = pd.DataFrame(list(G.edges), columns=["src", "dst"])
    edges.to_csv(tmp_path / "edges.csv", index=False)
    F.to_parquet(tmp_path / "f.parquet")
    pd.DataFrame({"label": pd.Series(y, index=list(G.nodes)).where(np.arange(100) % 3 == 0)}) \
        .to_parquet(tmp_path / "l.parquet")
    pd.DataFrame({"label": pd.Series(y, index=list(G.nodes)).where(np.arange(100) % 3 == 1)}) \
        .to_parquet(tmp_path / "v.parquet")
    assert main(["gnn", "fit", str(tmp_path / "edges.csv"), "--features", str(tmp_path / "f.parquet"),
                 "--labels", str(tmp_path / "l.parquet"), "--validation", str(tmp_path / "v.parquet"),
                 "--out", str(tmp_path / "model"), "--dim", "8", "--hidden-dim", "16",
                 "--epochs", "3", "--finetune-epochs", "3", "--learning-rate", "0.01", "--seed", "0"]) == 0
    fitted = GNNEmbedder.load(tmp_path / "model")
    assert fitted.best_epoch_ is not None
    assert fitted.get_params()["learning_rate"] == 0.01 and fitted.get_params()["epochs"] == 3
    H = pd.concat([edges, pd.DataFrame({"src": ["new"], "dst": ["n0"]})])
    H.to_csv(tmp_path / "edges2.csv", index=False)
    assert main(["gnn", "embed", str(tmp_path / "model"), str(tmp_path / "edges2.csv"),
                 "--features", str(tmp_path / "f.parquet"), "--out", str(tmp_path / "emb.parquet"),
                 "--predictions"]) == 0
    emb = pd.read_parquet(tmp_path / "emb.parquet")
    assert emb.shape == (101, 9) and "new" in emb.index
    model = GNNEmbedder.load(tmp_path / "model")
    pd.testing.assert_frame_equal(emb.drop(columns="prediction").rename_axis(None),
                                  model.transform(H, F))
    capsys.readouterr()
    assert main(["gnn", "embed", str(tmp_path / "model"), str(tmp_path / "edges2.csv"),
                 "--out", str(tmp_path / "e.parquet")]) == 2  # features required: one-line error
    assert "Traceback" not in capsys.readouterr().err


def test_usage_errors_come_before_training(tmp_path, capsys):
    pd.DataFrame({"src": ["a"], "dst": ["b"]}).to_csv(tmp_path / "e.csv", index=False)
    assert main(["gnn", "fit", str(tmp_path / "e.csv"), "--out", str(tmp_path / "m.csv")]) == 2
    assert "looks like a file name" in capsys.readouterr().err
    assert main(["gnn", "fit", str(tmp_path / "e.csv"), "--out", str(tmp_path / "m"),
                 "--label-col", "y"]) == 2
    assert "--label-col needs --labels" in capsys.readouterr().err
    assert main(["gnn", "fit", str(tmp_path / "e.csv"), "--out", str(tmp_path / "m"),
                 "--device", "tpu"]) == 2
    assert "--device" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
