"""Node2Vec defaults as a newcomer meets them: the graph as passed, the estimator's defaults.

Usage::

    PYTHONPATH=. python benchmarks/node2vec_defaults_bench.py --data /work/shared/data \
        [--datasets caveman_4x5,caveman_10x10,karate,planted,cora,cora_directed,ppi,wikipedia,blogcatalog] \
        [--subsample 0,1e-3,1e-4,rel10,default] [--seeds 2] [--n-jobs 1]

For each graph and each ``subsample`` setting, ``Node2Vec(subsample=..., random_state=seed)``
with every other parameter at its default is fitted on the graph exactly as a user would
pass it (Cora: the scipy CSR adjacency of the public ``.npz``, not symmetrised by hand;
``cora_directed`` passes ``directed=True``, the old silent reading). Quality: node
classification micro-F1 with :func:`graphemb.evaluation.node_classification` (one-vs-rest
logistic regression, C = 1, 50% of the labelled nodes for training, 5 random splits,
``random_state=0``, the same splits for every setting). ``rel10`` is the threshold
``10 / n_nodes`` (subsampling only nodes whose walk frequency is above ten times the
mean); ``default`` is whatever ``Node2Vec()`` uses. Prints a markdown table (mean over
seeds, and the spread) and writes it to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.io
import scipy.sparse as sp

from graphemb import Node2Vec
from graphemb._node2vec import subsample_threshold
from graphemb.evaluation import node_classification


def load(name: str, data: Path):
    """(graph as a user passes it, labels, Node2Vec extra kwargs)."""
    if name.startswith("caveman"):  # caveman_LxK: L cliques of K nodes, connected in a ring
        cliques, size = (int(x) for x in name.split("_")[1].split("x"))
        return nx.connected_caveman_graph(cliques, size), np.repeat(np.arange(cliques), size), {}
    if name == "karate":
        G = nx.karate_club_graph()
        return G, np.array([G.nodes[v]["club"] == "Mr. Hi" for v in G], int), {}
    if name == "planted":
        G = nx.planted_partition_graph(5, 40, 0.25, 0.01, seed=1)
        return G, np.repeat(np.arange(5), 40), {}
    if name in ("cora", "cora_directed"):
        z = np.load(data / "cora" / "cora.npz")
        A = sp.csr_matrix((z["adj_data"], z["adj_indices"], z["adj_indptr"]), shape=z["adj_shape"])
        return A, z["labels"].astype(int), ({"directed": True} if name == "cora_directed" else {})
    files = {"blogcatalog": "blogcatalog/blogcatalog.mat", "ppi": "ppi_node2vec/Homo_sapiens.mat",
             "wikipedia": "wikipedia_pos_node2vec/POS.mat"}
    if name in files:  # multi-label, symmetric matrices
        m = scipy.io.loadmat(data / files[name])
        return sp.csr_matrix(m["network"]), sp.csr_matrix(m["group"]), {}
    raise ValueError(name)


def n_nodes(graph) -> int:
    return graph.number_of_nodes() if hasattr(graph, "number_of_nodes") else graph.shape[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--datasets", default="caveman_4x5,caveman_8x6,caveman_10x10,karate,planted,cora,"
                    "cora_directed")
    ap.add_argument("--subsample", default="0,1e-3,rel10,default")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    for name in args.datasets.split(","):
        graph, labels, extra = load(name, args.data)
        n = n_nodes(graph)
        for setting in args.subsample.split(","):
            kw = dict(extra)
            if setting == "rel10":
                kw["subsample"] = 10.0 / n
            elif setting != "default":
                kw["subsample"] = float(setting)
            scores, secs = [], []
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    emb = Node2Vec(**kw, n_jobs=args.n_jobs, random_state=seed).fit_transform(graph)
                secs.append(time.perf_counter() - t0)
                scores.append(node_classification(emb, labels, n_repeats=5, random_state=0)["micro_f1"])
            used = subsample_threshold(kw.get("subsample", Node2Vec().subsample), n)
            row = {"dataset": name, "n_nodes": n, "subsample": setting, "threshold": used,
                   "micro_f1": float(np.mean(scores)),
                   "min": float(np.min(scores)), "max": float(np.max(scores)),
                   "fit_s": float(np.median(secs))}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")
    print(markdown(rows))


def markdown(rows: list[dict]) -> str:
    """The rows as a markdown table."""
    lines = ["| graph | nodes | subsample | threshold | micro-F1 (mean) | min | max | fit s |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        thr = r["threshold"] if isinstance(r["threshold"], str) else f"{r['threshold']:.3g}"
        lines.append(f"| {r['dataset']} | {r['n_nodes']} | {r['subsample']} | {thr} | {r['micro_f1']:.3f} "
                     f"| {r['min']:.3f} | {r['max']:.3f} | {r['fit_s']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
