"""``graphtab node2vec embed``: edge list in, embeddings table out."""

from __future__ import annotations

import pandas as pd
import pytest

from graphtab.cli import main


def test_embed_edge_list(tmp_path, capsys):
    edges = pd.DataFrame({"a": ["x", "y", "z", "x"], "b": ["y", "z", "w", "w"], "w": [1.0, 2.0, 1.0, 0.5]})
    src = tmp_path / "edges.csv"
    edges.to_csv(src, index=False)
    out = tmp_path / "emb.parquet"
    code = main(["node2vec", "embed", str(src), "--out", str(out), "--src", "a", "--dst", "b", "--weight",
                 "w", "--dim", "8", "--walk-length", "10", "--window", "3", "--n-walks", "2", "--p",
                 "0.5", "--q", "2", "--seed", "0", "--save-model", str(tmp_path / "model")])
    assert code == 0
    emb = pd.read_parquet(out)
    assert sorted(emb.index) == ["w", "x", "y", "z"] and emb.shape == (4, 8)
    assert "embedded" in capsys.readouterr().out
    assert (tmp_path / "model" / "manifest.json").exists()


@pytest.mark.parametrize(("extra", "message"), [(["--p", "0"], "'p' parameter|p must be"),
                                                (["--src", "nope"], "no column"),
                                                (["--device", "tpu"], "--device: must be")])
def test_embed_errors(tmp_path, capsys, extra, message):
    src = tmp_path / "edges.csv"
    pd.DataFrame({"src": [1, 2], "dst": [2, 3]}).to_csv(src, index=False)
    code = main(["node2vec", "embed", str(src), "--out", str(tmp_path / "o.parquet"), "--walk-length", "5",
                 "--window", "2", *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert pytest.importorskip("re").search(message, err), err
    assert "Traceback" not in err
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize(("extra", "directed"), [([], False), (["--directed"], True)])
def test_embed_reads_undirected_unless_directed(tmp_path, capsys, extra, directed):
    # x-y both ways, y->z one way: looks directed; read undirected (with a warning) unless --directed
    src = tmp_path / "edges.csv"
    pd.DataFrame({"src": ["x", "y", "y"], "dst": ["y", "x", "z"]}).to_csv(src, index=False)
    model = tmp_path / "model"
    args = ["node2vec", "embed", str(src), "--out", str(tmp_path / "o.csv"), "--walk-length", "5",
            "--window", "2", "--n-walks", "1", "--dim", "4", "--seed", "0", "--subsample", "0",
            "--save-model", str(model), *extra]
    if directed:
        assert main(args) == 0
    else:
        with pytest.warns(UserWarning, match="directed=True"):
            assert main(args) == 0
    out = capsys.readouterr().out
    assert ("3 nodes, 3 edges, directed" if directed else "3 nodes, 2 edges, undirected") in out
    from graphemb import Node2Vec

    assert Node2Vec.load(model).subsample == 0.0


def test_subsample_option_is_checked(tmp_path, capsys):
    src = tmp_path / "edges.csv"
    pd.DataFrame({"src": [1], "dst": [2]}).to_csv(src, index=False)
    code = main(["node2vec", "embed", str(src), "--out", str(tmp_path / "o.csv"), "--subsample", "often"])
    assert code == 2 and "expected 'auto' or a number" in capsys.readouterr().err
