"""The chains a user types, run as subprocesses of the installed ``graphtab`` command: each
command's output is the next one's input, with no extra flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

GRAPHTAB = str(Path(sys.executable).parent / "graphtab")


def gt(*argv) -> str:
    r = subprocess.run([GRAPHTAB, *map(str, argv)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, f"graphtab {' '.join(map(str, argv))}\n{r.stdout}\n{r.stderr}"
    assert "Traceback" not in r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("chains")


def test_edges_node2vec_store_query_and_anomaly_and_gnn(work):
    G = nx.connected_caveman_graph(4, 6)  # 4 cliques of 6, linked in a ring
    edges = pd.DataFrame([(f"n{u}", f"n{v}") for u, v in G.edges], columns=["src", "dst"])
    edges.to_csv(work / "edges.csv", index=False)
    gt("node2vec", "embed", work / "edges.csv", "--out", work / "emb.parquet", "--dim", 8,
       "--walk-length", 20, "--n-walks", 5, "--window", 4, "--subsample", 0, "--seed", 0, "--n-jobs", 1)
    gt("node2vec", "embed", work / "edges.csv", "--out", work / "emb.csv", "--dim", 8,
       "--walk-length", 20, "--n-walks", 5, "--window", 4, "--subsample", 0, "--seed", 0, "--n-jobs", 1)
    for name in ("emb.parquet", "emb.csv"):
        stem = name.replace(".", "-")
        gt("store", "build", work / name, "--out", work / f"store-{stem}", "--n-trees", 5, "--seed", 0)
        gt("store", "query", work / f"store-{stem}", work / name, "--by-key", "--k", 3,
           "--out", work / f"q-{stem}.parquet")
        q = pd.read_parquet(work / f"q-{stem}.parquet")
        assert set(q["query"]) == set(edges["src"]) | set(edges["dst"]) and len(q) == 24 * 3
        assert not (q["query"] == q["key"]).any()
        clique = {f"n{i}": i // 6 for i in range(24)}
        same = (q["query"].map(clique) == q["key"].map(clique)).mean()
        assert same > 0.8, same  # neighbours in the embedding are clique mates
    gt("anomaly", "fit", work / "emb.parquet", "--out", work / "det", "--n-neighbors", 3)
    gt("anomaly", "score", work / "det", work / "emb.parquet", "--out", work / "s.parquet")
    assert sorted(pd.read_parquet(work / "s.parquet").index) == sorted(clique)
    gt("gnn", "fit", work / "edges.csv", "--features", work / "emb.parquet", "--out", work / "gnn",
       "--dim", 4, "--hidden-dim", 8, "--pretrain-epochs", 2, "--seed", 0)
    gt("gnn", "embed", work / "gnn", work / "edges.csv", "--features", work / "emb.csv",
       "--out", work / "gnn-emb.parquet")
    assert pd.read_parquet(work / "gnn-emb.parquet").shape == (24, 4)


@pytest.fixture(scope="module")
def table(work):
    from tabemb import corrupt_records, generate_people

    people = generate_people(60, random_state=0)
    records, _ = corrupt_records(people, random_state=1)
    df = records.reset_index(drop=True)
    df.insert(0, "id", [f"p{i:03d}" for i in range(len(df))])
    df.to_csv(work / "people.csv", index=False)
    df.to_parquet(work / "people.parquet", index=False, row_group_size=40)
    return df


def test_table_tabemb_store_query(work, table):
    gt("tabemb", "fit", work / "people.csv", "--key", "id", "--out", work / "enc", "--epochs", 0,
       "--seed", 0)
    gt("tabemb", "embed", work / "enc", work / "people.csv", "--key", "id", "--out", work / "temb.parquet")
    gt("store", "build", work / "temb.parquet", "--out", work / "tstore", "--seed", 0)
    gt("store", "query", work / "tstore", work / "temb.parquet", "--k", 2, "--out", work / "tq.csv")
    q = pd.read_csv(work / "tq.csv")
    assert set(q["query"]) == set(table["id"]) and q["key"].isin(table["id"]).all()
    top = q[q["rank"] == 0].set_index("query")["key"]
    assert (top.index == top.to_numpy()).mean() > 0.95  # a record's own vector is its nearest


def test_table_anomaly_fit_score(work):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    X.loc[7] = [9.0, -9.0, 9.0]
    X.insert(0, "id", [f"r{i:03d}" for i in range(200)])
    X.to_csv(work / "num.csv", index=False)
    gt("anomaly", "fit", work / "num.csv", "--key", "id", "--out", work / "numdet", "--contamination",
       0.01)
    gt("anomaly", "score", work / "numdet", work / "num.csv", "--out", work / "num-s.csv")
    s = pd.read_csv(work / "num-s.csv", index_col=0)
    assert s["score"].idxmax() == "r007" and s.loc["r007", "label"] == 1


def test_interactions_recommend_fit_top(work):
    rng = np.random.default_rng(0)
    rows = [(f"u{g}_{u}", f"i{g}_{i}") for g in range(3) for u in range(10)
            for i in rng.choice(10, size=6, replace=False)]
    pd.DataFrame(rows, columns=["user", "item"]).to_csv(work / "inter.csv", index=False)
    gt("recommend", "fit", work / "inter.csv", "--out", work / "rec", "--dim", 8, "--epochs", 20,
       "--batch-size", 64, "--seed", 0)
    gt("recommend", "top", work / "rec", "--out", work / "recs.parquet", "--k", 3)
    recs = pd.read_parquet(work / "recs.parquet")
    assert len(recs) == 30 * 3
    assert (recs["user"].str[1] == recs["item"].str[1]).mean() > 0.8  # users get their group's items


def test_scaleout_chain(work, table):
    if not (work / "enc").exists():
        pytest.skip("needs test_table_tabemb_store_query's artifacts")
    gt("anomaly", "fit", work / "temb.parquet", "--out", work / "tdet", "--n-neighbors", 5)
    gt("scaleout", "run", work / "people.parquet", "--out", work / "scored",
       "--step", f"embed={work / 'enc'}", "--step", f"neighbors={work / 'tstore'}:k=2",
       "--step", f"anomaly={work / 'tdet'}")
    got = pd.read_parquet(work / "scored")
    assert len(got) == len(table) and {"neighbor_key_0", "anomaly_score"} <= set(got.columns)
    assert (got["neighbor_key_0"] == got["id"]).mean() > 0.95
