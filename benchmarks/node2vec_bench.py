"""Node2Vec benchmark: graphtab vs pecanpy + gensim, same graphs, same splits.

Usage::

    .venv/bin/python benchmarks/node2vec_bench.py --data /work/shared/data [--repeats 3]
        [--datasets cora,blogcatalog,ppi,wikipedia] [--threads 2]

Each embedding run is a fresh subprocess that reports its own wall times
(walks, training; graph loading excluded for both tools) and its peak RSS:

- graphtab runs in this interpreter's environment (``sys.executable``);
- pecanpy + gensim run in the peer venv ``benchmarks/.venv-node2vec``
  (created here with pip if missing). pecanpy's mode is the one its README
  recommends for the setting: ``FirstOrderUnweighted`` for p = q = 1 on an
  unweighted graph, ``PreCompFirstOrder`` for p = q = 1 weighted, ``PreComp``
  otherwise; gensim ``Word2Vec(sg=1, min_count=0, negative=5, sample=1e-3)``
  with ``workers = --threads``.

Both tools get the same hyper-parameters (dim 128, walk length 80, 10 walks
per node, window 10, 1 epoch). Quality is computed here, by the same code
(``graphemb.evaluation``) on the same splits, for both embeddings. Times are
medians over ``--repeats`` runs; the ratio column is graphtab / peer in the
same run of this script.

Writes ``benchmarks/results/node2vec.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv-node2vec"
PEER_PACKAGES = ["pecanpy==2.0.9", "gensim==4.4.0", "numpy<2", "scipy"]

# node2vec paper (Grover & Leskovec 2016), Table 2 macro-F1 at 50% labels, and the p, q it reports
PAPER = {"blogcatalog": (0.2581, 0.25, 0.25), "ppi": (0.1791, 4.0, 1.0), "wikipedia": (0.1552, 4.0, 0.5)}


# ----------------------------------------------------------------------------- workers
def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_graphtab(cfg: dict) -> dict:
    import scipy.sparse as sp

    from graphemb import as_graph
    from graphemb._skipgram import train_skipgram_numba
    from graphemb._walks import build_alias, random_walks

    A = sp.load_npz(cfg["graph"]).tocsr()
    g = as_graph(A, directed=False)
    n = g.n_nodes
    rng = np.random.default_rng(cfg["seed"])
    t0 = time.perf_counter()
    alias = build_alias(g.indptr, g.weights) if g.weights is not None else None
    parts = []
    for r in range(cfg["n_walks"]):
        parts.append(random_walks(g.indptr, g.indices, g.weights, rng.permutation(n),
                                  walk_length=cfg["walk_length"], p=cfg["p"], q=cfg["q"],
                                  seed=cfg["seed"] + r * n, alias_tables=alias))
    walks = np.concatenate(parts)
    t1 = time.perf_counter()
    X = train_skipgram_numba(walks, n, dim=cfg["dim"], window=cfg["window"], seed=cfg["seed"])
    t2 = time.perf_counter()
    np.save(cfg["out"], X)
    return {"walk_s": t1 - t0, "train_s": t2 - t1, "total_s": t2 - t0, "rss_mb": _peak_rss_mb(),
            "steps": int((walks >= 0).sum())}


def worker_pecanpy(cfg: dict) -> dict:
    from gensim.models import Word2Vec
    from pecanpy import pecanpy

    weighted = cfg["weighted"]
    if cfg["p"] == 1 and cfg["q"] == 1:
        mode = pecanpy.PreCompFirstOrder if weighted else pecanpy.FirstOrderUnweighted
    else:
        mode = pecanpy.SparseOTF if cfg.get("sparse_otf") else pecanpy.PreComp
    g = mode(p=cfg["p"], q=cfg["q"], workers=cfg["threads"], verbose=False, random_state=cfg["seed"])
    g.read_edg(cfg["edges"], weighted=weighted, directed=False)
    t0 = time.perf_counter()
    g.preprocess_transition_probs()
    walks = g.simulate_walks(cfg["n_walks"], cfg["walk_length"])
    t1 = time.perf_counter()
    w2v = Word2Vec(walks, vector_size=cfg["dim"], window=cfg["window"], sg=1, min_count=0,
                   negative=5, workers=cfg["threads"], epochs=1, seed=cfg["seed"])
    t2 = time.perf_counter()
    n = cfg["n_nodes"]
    X = np.zeros((n, cfg["dim"]), np.float32)
    for i in range(n):
        if str(i) in w2v.wv.key_to_index:
            X[i] = w2v.wv[str(i)]
    np.save(cfg["out"], X)
    return {"walk_s": t1 - t0, "train_s": t2 - t1, "total_s": t2 - t0, "rss_mb": _peak_rss_mb(),
            "mode": mode.__name__, "steps": int(sum(len(w) for w in walks))}


# ----------------------------------------------------------------------------- driver
def ensure_peer_venv() -> Path:
    py = PEER_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return py


def run_worker(tool: str, cfg: dict, peer_py: Path) -> tuple[dict, np.ndarray]:
    py = str(peer_py) if tool == "pecanpy" else sys.executable
    env = dict(os.environ, NUMBA_NUM_THREADS=str(cfg["threads"]), OMP_NUM_THREADS="1",
               PYTHONPATH=str(HERE.parent) if tool == "graphtab" else "")
    res = subprocess.run([py, str(Path(__file__).resolve()), "--worker", tool, json.dumps(cfg)],
                         capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"{tool} worker failed:\n{res.stderr[-3000:]}")
    info = json.loads(res.stdout.strip().splitlines()[-1])
    return info, np.load(cfg["out"])


def load_dataset(name: str, data: Path):
    import scipy.io
    import scipy.sparse as sp

    if name == "cora":
        z = np.load(data / "cora" / "cora.npz")
        A = sp.csr_matrix((z["adj_data"], z["adj_indices"], z["adj_indptr"]), shape=z["adj_shape"])
        A = ((A + A.T) > 0).astype(np.float64)
        return A.tocsr(), z["labels"]
    path = {"blogcatalog": "blogcatalog/blogcatalog.mat", "ppi": "ppi_node2vec/Homo_sapiens.mat",
            "wikipedia": "wikipedia_pos_node2vec/POS.mat"}[name]
    m = scipy.io.loadmat(data / path)
    A = sp.csr_matrix(m["network"]).astype(np.float64)
    A = A.maximum(A.T).tocsr()
    return A, sp.csr_matrix(m["group"])


def write_inputs(A, tmp: Path, tag: str) -> tuple[str, str, bool]:
    import scipy.sparse as sp

    weighted = A.nnz > 0 and not np.all(A.data == A.data[0])
    gpath = tmp / f"{tag}.npz"
    sp.save_npz(gpath, A.tocsr())
    coo = sp.triu(A, k=0).tocoo()
    epath = tmp / f"{tag}.tsv"
    with open(epath, "w") as f:
        if weighted:
            for u, v, w in zip(coo.row, coo.col, coo.data, strict=True):
                f.write(f"{u}\t{v}\t{w}\n")
        else:
            for u, v in zip(coo.row, coo.col, strict=True):
                f.write(f"{u}\t{v}\n")
    return str(gpath), str(epath), bool(weighted)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--datasets", default="cora,blogcatalog,ppi,wikipedia")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quality-repeats", type=int, default=None,
                    help="runs whose embeddings are scored on PPI/Wikipedia (default --repeats)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "node2vec.json")
    args = ap.parse_args()

    from graphemb import as_graph
    from graphemb.evaluation import link_prediction, node_classification, split_edges

    peer_py = ensure_peer_venv()
    base = dict(dim=128, walk_length=80, n_walks=10, window=10, threads=args.threads)
    rows: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="n2v-bench-"))

    def runs(A, tag, p, q, repeats, score):
        gpath, epath, weighted = write_inputs(A, tmp, tag)
        out = {}
        for tool in ("graphtab", "pecanpy"):
            infos, scores = [], []
            for r in range(repeats):
                cfg = dict(base, graph=gpath, edges=epath, weighted=weighted, p=p, q=q, seed=r + 1,
                           n_nodes=A.shape[0], out=str(tmp / f"{tag}-{tool}-{r}.npy"))
                info, X = run_worker(tool, cfg, peer_py)
                infos.append(info)
                if score is not None:
                    scores.append(score(X))
                print(f"  {tag} p={p} q={q} {tool} run {r}: {info} {scores[-1] if scores else ''}",
                      flush=True)
            med = {k: float(np.median([i[k] for i in infos])) for k in ("walk_s", "train_s", "total_s",
                                                                         "rss_mb", "steps")}
            if scores:
                med.update({k: float(np.median([s[k] for s in scores])) for k in scores[0]
                            if k in ("micro_f1", "macro_f1", "auc", "auc_dot")})
            med["mode"] = infos[0].get("mode", "numba")
            out[tool] = med
        return out

    for name in args.datasets.split(","):
        A, labels = load_dataset(name, args.data)
        print(f"{name}: {A.shape[0]} nodes, {A.nnz} arcs", flush=True)
        index = np.arange(A.shape[0])
        if name == "cora":
            import pandas as pd

            def score_nc(X, index=index, labels=labels):
                return node_classification(pd.DataFrame(X, index=index), labels, train_size=0.5,
                                           n_repeats=5, random_state=0)
            res = runs(A, "cora", 1.0, 1.0, args.repeats, score_nc)
            rows.append(dict(dataset="cora", task="node classification, 50% labels", p=1, q=1, **_flat(res)))
            g = as_graph(A, directed=False)
            train, pairs = split_edges(g, test_size=0.5, random_state=0)
            gt = as_graph(train, nodes=g.nodes)
            At = gt.to_scipy().astype(np.float64)

            def score_lp(X, index=index, pairs=pairs):
                return link_prediction(pd.DataFrame(X, index=index), pairs, random_state=0)
            res = runs(At, "cora-lp", 1.0, 1.0, args.repeats, score_lp)
            rows.append(dict(dataset="cora", task="link prediction (50% edges held out)", p=1, q=1,
                             **_flat(res)))
        elif name == "blogcatalog":
            import pandas as pd

            def score_ml(X, index=index, labels=labels):
                return node_classification(pd.DataFrame(X, index=index), labels, train_size=0.5,
                                           n_repeats=3, random_state=0)
            for p, q in ((1.0, 1.0), (0.25, 4.0)):
                res = runs(A, f"blog-{p}-{q}", p, q, args.repeats, score_ml)
                rows.append(dict(dataset="blogcatalog", task="multi-label, 50% labels", p=p, q=q,
                                 **_flat(res)))
        else:
            import pandas as pd

            _, p, q = PAPER[name]

            def score_ml(X, index=index, labels=labels):
                return node_classification(pd.DataFrame(X, index=index), labels, train_size=0.5,
                                           n_repeats=3, random_state=0)
            res = runs(A, name, p, q, args.quality_repeats or args.repeats, score_ml)
            rows.append(dict(dataset=name, task="multi-label, 50% labels", p=p, q=q, **_flat(res)))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=1))
    print(markdown(rows))


def _flat(res: dict) -> dict:
    return {f"{tool}_{k}": v for tool, d in res.items() for k, v in d.items()}


def markdown(rows: list[dict]) -> str:
    lines = ["| dataset | task | p, q | metric | graphtab | pecanpy+gensim | paper | "
             "time graphtab (walk + train) | time pecanpy+gensim (walk + train) | ratio | "
             "peak RSS MB (ours / peer) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        metrics = [m for m in ("micro_f1", "macro_f1", "auc") if f"graphtab_{m}" in r]
        paper = PAPER.get(r["dataset"], (None,))[0]
        t_g = f"{r['graphtab_total_s']:.1f} s ({r['graphtab_walk_s']:.1f} + {r['graphtab_train_s']:.1f})"
        t_p = f"{r['pecanpy_total_s']:.1f} s ({r['pecanpy_walk_s']:.1f} + {r['pecanpy_train_s']:.1f})"
        ratio = r["graphtab_total_s"] / r["pecanpy_total_s"]
        rss = f"{r['graphtab_rss_mb']:.0f} / {r['pecanpy_rss_mb']:.0f}"
        for m in metrics or [None]:
            mg = f"{r[f'graphtab_{m}']:.4f}" if m else "-"
            mp = f"{r[f'pecanpy_{m}']:.4f}" if m else "-"
            pp = f"{paper:.4f}" if (paper and m == "macro_f1") else "-"
            lines.append(f"| {r['dataset']} | {r['task']} | {r['p']:g}, {r['q']:g} | {m or '-'} | {mg} | "
                         f"{mp} | {pp} | {t_g} | {t_p} | {ratio:.2f} | {rss} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--worker":
        fn = {"graphtab": worker_graphtab, "pecanpy": worker_pecanpy}[sys.argv[2]]
        print(json.dumps(fn(json.loads(sys.argv[3]))))
    else:
        main()
