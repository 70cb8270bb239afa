"""Node2Vec benchmark: graphtab vs pecanpy + gensim, same graphs, same splits.

Usage::

    .venv/bin/python benchmarks/node2vec_bench.py --data /work/shared/data [--repeats 3]
        [--datasets cora,blogcatalog,ppi,wikipedia,synthetic] [--threads 2]
        [--n-walks 10] [--walk-length 80] [--epochs 1] [--blog-pq "1,1;0.25,4"]
        [--paper-pq-repeats 0]
        [--synthetic-nodes 1000000 --synthetic-edges 10000000 --synthetic-walks 10 --synthetic-length 80]

Each embedding run is a fresh subprocess that reports its own wall times
(walks, training; graph loading excluded for both tools) and its peak RSS
(``VmHWM`` of /proc/self/status, read inside the worker: ``ru_maxrss`` would carry
the driver's peak over fork + exec):

- graphtab runs in this interpreter's environment (``sys.executable``), through
  ``graphemb.Node2Vec``'s own walk and training steps (what ``fit`` runs);
- pecanpy + gensim run in the peer venv ``benchmarks/.venv-node2vec``
  (created here with pip if missing). pecanpy's mode is the one its README
  recommends (:func:`pecanpy_mode`): ``FirstOrderUnweighted`` (or
  ``PreCompFirstOrder`` if weighted) for p = q = 1, else ``PreComp`` up to 10k
  nodes, ``SparseOTF`` above (``DenseOTF`` for graphs with > 10% of the possible
  edges); gensim ``Word2Vec(sg=1, min_count=0, negative=5, sample=1e-3)`` with
  ``workers = --threads``. pecanpy compiles its numba kernels in every process;
  that time is part of its walk time, as for any user of it.

Both tools get the same hyper-parameters (dim 128, walk length 80, 10 walks
per node, window 10, ``--epochs`` epochs, default 1) and the same seed in run r
(r + 1); the tools alternate run by run. Quality is computed here, by the same code
(``graphemb.evaluation``) on the same splits (random_state 0), for both
embeddings: node classification with ``node_classification_select`` (C in
{1, 10, 100} and row normalisation chosen on a validation fifth of the training
labels, 50% training labels, 3 splits) plus the fixed C = 1, raw-vector score
(``*_c1``); link prediction on Cora (50% of edges held out); on the synthetic
planted-partition graph, the mean cosine of same-community pairs minus that of
random pairs (``cos_gap``). BlogCatalog runs both tools at each ``--blog-pq``
setting (the paper's tuned one is p = q = 0.25), and optionally graphtab alone at
p = q = 0.25 (``--paper-pq-repeats``). Times are medians over ``--repeats`` runs; the ratio is
graphtab / peer in the same run of this script.

Writes ``--out`` (JSON: ``rows`` = medians, ``runs`` = every run, rewritten after
each run) and prints a markdown table.
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
from _peak_rss import peak_rss_bytes

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv-node2vec"
PEER_PACKAGES = ["pecanpy==2.0.9", "gensim==4.4.0", "numpy<2", "scipy"]

# node2vec paper (Grover & Leskovec 2016), Table 2 macro-F1 at 50% labels, and the p, q it reports
PAPER = {"blogcatalog": (0.2581, 0.25, 0.25), "ppi": (0.1791, 4.0, 1.0), "wikipedia": (0.1552, 4.0, 0.5)}


# ----------------------------------------------------------------------------- workers
def worker_graphtab(cfg: dict) -> dict:
    """graphtab through the public estimator's own walk and training steps (what ``fit`` runs)."""
    import scipy.sparse as sp

    from graphemb import Node2Vec, as_graph

    A = sp.load_npz(cfg["graph"]).tocsr()
    g = as_graph(A, directed=False)  # all-equal weights: unweighted fast path
    model = Node2Vec(dim=cfg["dim"], walk_length=cfg["walk_length"], n_walks=cfg["n_walks"],
                     window=cfg["window"], p=cfg["p"], q=cfg["q"], epochs=cfg["epochs"],
                     subsample=1e-3, n_jobs=cfg["threads"])  # gensim's sample=1e-3, as the peer
    model.subsample_ = 1e-3  # what fit sets before it calls _walk and _train
    rng = np.random.default_rng(cfg["seed"])
    t0 = time.perf_counter()
    walks = model._walk(g, rng, cfg["seed"])
    t1 = time.perf_counter()
    X = model._train(walks, g.n_nodes, cfg["seed"])
    t2 = time.perf_counter()
    np.save(cfg["out"], X)
    rss = peak_rss_bytes() / 2**20  # before counting the steps (that needs a mask of the walks)
    steps = sum(int(np.count_nonzero(walks[i:i + 2**20] >= 0)) for i in range(0, len(walks), 2**20))
    return {"walk_s": t1 - t0, "train_s": t2 - t1, "total_s": t2 - t0, "rss_mb": rss,
            "mode": "graphtab", "steps": steps}


def pecanpy_mode(n_nodes: int, n_edges: int, p: float, q: float, weighted: bool) -> str:
    """The mode pecanpy's README recommends for the graph and setting.

    p = q = 1: the first-order modes (``FirstOrderUnweighted``, or ``PreCompFirstOrder``
    when weighted). Otherwise ``PreComp`` for <= 10k nodes, ``SparseOTF`` for larger
    graphs with <= 10% of the possible edges, ``DenseOTF`` for larger dense graphs.
    """
    if p == 1 and q == 1:
        return "PreCompFirstOrder" if weighted else "FirstOrderUnweighted"
    if n_nodes <= 10_000:
        return "PreComp"
    return "SparseOTF" if n_edges <= 0.1 * n_nodes * (n_nodes - 1) / 2 else "DenseOTF"


def worker_pecanpy(cfg: dict) -> dict:
    from gensim.models import Word2Vec
    from pecanpy import pecanpy

    weighted = cfg["weighted"]
    mode = getattr(pecanpy, cfg["mode"])
    g = mode(p=cfg["p"], q=cfg["q"], workers=cfg["threads"], verbose=False, random_state=cfg["seed"])
    g.read_edg(cfg["edges"], weighted=weighted, directed=False)
    t0 = time.perf_counter()
    g.preprocess_transition_probs()
    walks = g.simulate_walks(cfg["n_walks"], cfg["walk_length"])
    t1 = time.perf_counter()
    steps = int(sum(len(w) for w in walks))
    if cfg.get("peer_walks_only"):
        # the walks alone (gensim's training at this size would take hours): no embedding
        return {"walk_s": t1 - t0, "train_s": None, "total_s": None,
                "rss_mb": peak_rss_bytes() / 2**20, "mode": mode.__name__, "steps": steps,
                "walks_only": True}
    w2v = Word2Vec(walks, vector_size=cfg["dim"], window=cfg["window"], sg=1, min_count=0,
                   negative=5, workers=cfg["threads"], epochs=cfg["epochs"], seed=cfg["seed"])
    t2 = time.perf_counter()
    n = cfg["n_nodes"]
    X = np.zeros((n, cfg["dim"]), np.float32)
    for key, i in w2v.wv.key_to_index.items():
        X[int(key)] = w2v.wv.vectors[i]
    np.save(cfg["out"], X)
    return {"walk_s": t1 - t0, "train_s": t2 - t1, "total_s": t2 - t0, "rss_mb": peak_rss_bytes() / 2**20,
            "mode": mode.__name__, "steps": steps}


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
    return info, (None if info.get("walks_only") else np.load(cfg["out"]))


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
    import pandas as pd
    import scipy.sparse as sp

    weighted = A.nnz > 0 and not np.all(A.data == A.data[0])
    gpath = tmp / f"{tag}.npz"
    sp.save_npz(gpath, A.tocsr())
    coo = sp.triu(A, k=0).tocoo()
    epath = tmp / f"{tag}.tsv"
    cols = {"u": coo.row, "v": coo.col}
    if weighted:
        cols["w"] = coo.data
    pd.DataFrame(cols).to_csv(epath, sep="\t", header=False, index=False)
    return str(gpath), str(epath), bool(weighted)


def synthetic_graph(n_nodes: int, n_edges: int, n_communities: int, p_in: float, seed: int):
    """Undirected planted-partition graph: each edge joins a uniform node to a node of its own
    community with probability ``p_in``, else to a uniform node; self-loops and duplicates
    dropped, then trimmed to ``n_edges``. Returns (CSR adjacency, community of each node)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    size = n_nodes // n_communities
    comm = np.minimum(np.arange(n_nodes) // size, n_communities - 1)
    m = int(n_edges * 1.02)
    u = rng.integers(0, n_nodes, m)
    inside = rng.random(m) < p_in
    start = comm[u] * size
    width = np.where(comm[u] == n_communities - 1, n_nodes - start, size)
    v = np.where(inside, start + (rng.random(m) * width).astype(np.int64), rng.integers(0, n_nodes, m))
    a, b = np.minimum(u, v), np.maximum(u, v)
    key = np.unique(a[a != b] * np.int64(n_nodes) + b[a != b])
    key = rng.permutation(key)[:n_edges]
    a, b = key // n_nodes, key % n_nodes
    A = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n_nodes, n_nodes)).tocsr()
    return (A + A.T).tocsr(), comm


def community_gap(X: np.ndarray, comm: np.ndarray, n_pairs: int = 200_000, seed: int = 0) -> dict:
    """Mean cosine similarity of random same-community pairs minus that of random pairs."""
    rng = np.random.default_rng(seed)
    Xn = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    a = rng.integers(0, len(X), n_pairs)
    order = np.argsort(comm, kind="stable")
    first = np.searchsorted(comm[order], comm[a])
    count = np.searchsorted(comm[order], comm[a], side="right") - first
    b_same = order[first + (rng.random(n_pairs) * count).astype(np.int64)]
    b_rand = rng.integers(0, len(X), n_pairs)
    same = float(np.mean(np.sum(Xn[a] * Xn[b_same], axis=1)))
    rand = float(np.mean(np.sum(Xn[a] * Xn[b_rand], axis=1)))
    return {"cos_same": same, "cos_random": rand, "cos_gap": same - rand}


SELECT_C = (1.0, 10.0, 100.0)
SELECT_NORMALIZE = (False, True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--datasets", default="cora,blogcatalog,ppi,wikipedia")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quality-repeats", type=int, default=None,
                    help="runs whose embeddings are scored on PPI/Wikipedia (default --repeats)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-walks", type=int, default=10, help="walks per node (both tools)")
    ap.add_argument("--walk-length", type=int, default=80, help="walk length (both tools)")
    ap.add_argument("--epochs", type=int, default=1,
                    help="training epochs over the walks (both tools: Node2Vec(epochs=), gensim epochs=)")
    ap.add_argument("--blog-pq", default="1,1;0.25,4",
                    help="BlogCatalog p,q settings run by both tools, ';'-separated")
    ap.add_argument("--synthetic-nodes", type=int, default=1_000_000)
    ap.add_argument("--synthetic-edges", type=int, default=10_000_000)
    ap.add_argument("--synthetic-communities", type=int, default=1000)
    ap.add_argument("--synthetic-walks", type=int, default=10, help="walks per node on the synthetic graph")
    ap.add_argument("--synthetic-length", type=int, default=80, help="walk length on the synthetic graph")
    ap.add_argument("--synthetic-pq", default="1,1", help="p,q on the synthetic graph")
    ap.add_argument("--synthetic-peer-walks-only", action="store_true",
                    help="on the synthetic graph, run pecanpy's walks but not gensim's training "
                         "(hours at 10 walks x 80 on 1M nodes): walk time, steps/s and RSS only")
    ap.add_argument("--paper-pq-repeats", type=int, default=0,
                    help="extra graphtab-only runs at the paper's BlogCatalog p = q = 0.25 (default 0: "
                         "none; put '0.25,0.25' in --blog-pq to run both tools there)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "node2vec.json")
    args = ap.parse_args()

    import pandas as pd

    from graphemb import as_graph
    from graphemb.evaluation import (
        link_prediction,
        node_classification,
        node_classification_select,
        split_edges,
    )

    peer_py = ensure_peer_venv()
    if args.epochs < 1:
        ap.error(f"--epochs must be a positive integer, got {args.epochs}")
    base = dict(dim=128, walk_length=args.walk_length, n_walks=args.n_walks, window=10,
                threads=args.threads, epochs=args.epochs)
    try:
        blog_pq = [tuple(float(x) for x in s.split(",")) for s in args.blog_pq.split(";") if s.strip()]
    except ValueError:
        blog_pq = None
    if blog_pq is None or any(len(t) != 2 or min(t) <= 0 for t in blog_pq):
        ap.error(f"--blog-pq must be ';'-separated positive 'p,q' pairs such as '1,1;0.25,4', "
                 f"got {args.blog_pq!r}")
    rows: list[dict] = []
    per_run: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="n2v-bench-"))
    print(f"started {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC; inputs in {tmp}", flush=True)

    def dump():
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"rows": rows, "runs": per_run}, indent=1, default=str))

    def score_nodes(X, index, labels):
        """C / normalisation chosen on validation labels; plus the fixed C = 1, raw setting."""
        emb = pd.DataFrame(X, index=index)
        sel = node_classification_select(emb, labels, train_size=0.5, n_repeats=3, C=SELECT_C,
                                         normalize=SELECT_NORMALIZE, random_state=0, n_jobs=args.threads)
        c1 = node_classification(emb, labels, train_size=0.5, n_repeats=3, random_state=0,
                                 n_jobs=args.threads)
        return {"micro_f1": sel["micro_f1"], "macro_f1": sel["macro_f1"],
                "micro_f1_c1": c1["micro_f1"], "macro_f1_c1": c1["macro_f1"],
                "chosen": [(c, nm) for _, c, nm in sel["chosen"]]}

    def runs(A, tag, p, q, repeats, score, extra=None, tools=("graphtab", "pecanpy")):
        gpath, epath, weighted = write_inputs(A, tmp, tag)
        n_edges = int(sp_triu_nnz(A))
        mode = pecanpy_mode(A.shape[0], n_edges, p, q, weighted)
        out, files = {}, {}
        infos = {tool: [] for tool in tools}
        scores = {tool: [] for tool in tools}
        for tool in tools:
            files[tool] = []
        # the tools alternate run by run (graphtab run r, then pecanpy run r, same seed), so a
        # change of machine load hits both and the per-run ratios compare back-to-back runs
        for r in range(repeats):
            for tool in tools:
                cfg = dict(base, **(extra or {}), graph=gpath, edges=epath, weighted=weighted, p=p, q=q,
                           seed=r + 1, n_nodes=A.shape[0], mode=mode,
                           out=str(tmp / f"{tag}-{tool}-{r}.npy"))
                info, X = run_worker(tool, cfg, peer_py)
                files[tool].append(cfg["out"])
                infos[tool].append(info)
                if score is not None and X is not None:
                    scores[tool].append(score(X))
                    info.update({k: v for k, v in scores[tool][-1].items()})
                del X
                per_run.append(dict(tag=tag, p=p, q=q, tool=tool, run=r, seed=r + 1,
                                    epochs=cfg["epochs"], **info))
                dump()
                print(f"  {tag} p={p} q={q} {tool} run {r}: {info}", flush=True)
        for tool in tools:
            med = {k: (float(np.median([i[k] for i in infos[tool]]))
                       if all(i[k] is not None for i in infos[tool]) else None)
                   for k in ("walk_s", "train_s", "total_s", "rss_mb", "steps")}
            med["steps_per_s"] = float(np.median([i["steps"] / i["walk_s"] for i in infos[tool]]))
            if scores[tool]:
                med.update({k: float(np.median([s[k] for s in scores[tool]])) for k in scores[tool][0]
                            if k in ("micro_f1", "macro_f1", "micro_f1_c1", "macro_f1_c1", "auc",
                                     "auc_dot", "cos_gap", "cos_same", "cos_random")})
            med["mode"] = infos[tool][0].get("mode", "graphtab")
            out[tool] = med
        # ratios per run index (graphtab run r / pecanpy run r, back to back in this script run)
        if "pecanpy" in out and out["pecanpy"]["total_s"] is not None:
            out["ratio"] = {"total_s_median_ratio": out["graphtab"]["total_s"] / out["pecanpy"]["total_s"]}
        return out, files

    def sp_triu_nnz(A):
        import scipy.sparse as sp

        return sp.triu(A, k=1).nnz

    for name in args.datasets.split(","):
        if name == "synthetic":
            t = time.perf_counter()
            A, comm = synthetic_graph(args.synthetic_nodes, args.synthetic_edges, args.synthetic_communities,
                                      0.8, seed=0)
            print(f"synthetic: {A.shape[0]} nodes, {A.nnz // 2} edges, {args.synthetic_communities} "
                  f"communities, built in {time.perf_counter() - t:.1f} s", flush=True)
            p, q = (float(x) for x in args.synthetic_pq.split(","))
            extra = dict(n_walks=args.synthetic_walks, walk_length=args.synthetic_length,
                         peer_walks_only=args.synthetic_peer_walks_only)

            def score_syn(X, comm=comm):
                return community_gap(X, comm)
            res, _ = runs(A, "synthetic", p, q, 1, score_syn, extra)
            task = (f"{A.shape[0]} nodes, {A.nnz // 2} edges, {args.synthetic_walks} walks x "
                    f"{args.synthetic_length}")
            rows.append(dict(dataset="synthetic", task=task, p=p, q=q, **_flat(res)))
            del A
        else:
            A, labels = load_dataset(name, args.data)
            print(f"{name}: {A.shape[0]} nodes, {A.nnz} arcs", flush=True)
            index = np.arange(A.shape[0])
            if name == "cora":
                def score_nc(X, index=index, labels=labels):
                    return score_nodes(X, index, labels)
                res, _ = runs(A, "cora", 1.0, 1.0, args.repeats, score_nc)
                rows.append(dict(dataset="cora", task="node classification, 50% labels", p=1, q=1,
                                 **_flat(res)))
                g = as_graph(A, directed=False)
                train, pairs = split_edges(g, test_size=0.5, random_state=0)
                gt = as_graph(train, nodes=g.nodes)
                At = gt.to_scipy().astype(np.float64)

                def score_lp(X, index=index, pairs=pairs):
                    return link_prediction(pd.DataFrame(X, index=index), pairs, random_state=0)
                res, _ = runs(At, "cora-lp", 1.0, 1.0, args.repeats, score_lp)
                rows.append(dict(dataset="cora", task="link prediction (50% edges held out)", p=1, q=1,
                                 **_flat(res)))
            elif name == "blogcatalog":
                def score_ml(X, index=index, labels=labels):
                    return score_nodes(X, index, labels)
                for p, q in blog_pq:
                    res, _ = runs(A, f"blog-{p}-{q}", p, q, args.repeats, score_ml)
                    rows.append(dict(dataset="blogcatalog", task="multi-label, 50% labels", p=p, q=q,
                                     **_flat(res)))
                    dump()
                if args.paper_pq_repeats > 0 and PAPER["blogcatalog"][1:] not in blog_pq:
                    # the paper's tuned setting for BlogCatalog, graphtab only (quality row)
                    p, q = PAPER["blogcatalog"][1:]
                    res, _ = runs(A, f"blog-{p}-{q}", p, q, args.paper_pq_repeats, score_ml,
                                  tools=("graphtab",))
                    rows.append(dict(dataset="blogcatalog", task="multi-label, 50% labels (paper's p, q; "
                                     "graphtab only)", p=p, q=q, **_flat(res)))
            else:
                _, p, q = PAPER[name]

                def score_ml(X, index=index, labels=labels):
                    return score_nodes(X, index, labels)
                res, _ = runs(A, name, p, q, args.quality_repeats or args.repeats, score_ml)
                rows.append(dict(dataset=name, task="multi-label, 50% labels", p=p, q=q, **_flat(res)))
        dump()
    print(f"finished {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC", flush=True)
    print(markdown(rows))


def _flat(res: dict) -> dict:
    return {f"{tool}_{k}": v for tool, d in res.items() for k, v in d.items()}


def markdown(rows: list[dict]) -> str:
    lines = ["| dataset | task | p, q | metric | graphtab | pecanpy+gensim | paper | "
             "time graphtab (walk + train) | time pecanpy+gensim (walk + train) | ratio | "
             "peak RSS MB (ours / peer) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        metrics = [m for m in ("micro_f1", "macro_f1", "auc", "cos_gap") if f"graphtab_{m}" in r]
        if "graphtab_total_s" not in r:
            for m in metrics:
                lines.append(f"| {r['dataset']} | {r['task']} | - | {m} | {r[f'graphtab_{m}']:.4f} | "
                             f"{r[f'pecanpy_{m}']:.4f} | - | - | - | - | - |")
            continue
        paper = PAPER.get(r["dataset"], (None,))[0]
        t_g = f"{r['graphtab_total_s']:.1f} s ({r['graphtab_walk_s']:.1f} + {r['graphtab_train_s']:.1f})"
        has_peer = "pecanpy_total_s" in r
        peer_walks_only = has_peer and r["pecanpy_total_s"] is None
        if peer_walks_only:  # pecanpy's walks only (--synthetic-peer-walks-only)
            t_p = f"walks only: {r['pecanpy_walk_s']:.1f} s"
        else:
            t_p = (f"{r['pecanpy_total_s']:.1f} s ({r['pecanpy_walk_s']:.1f} + {r['pecanpy_train_s']:.1f})"
                   if has_peer else "-")
        ratio = (f"{r['graphtab_total_s'] / r['pecanpy_total_s']:.2f}"
                 if has_peer and not peer_walks_only else "-")
        rss = f"{r['graphtab_rss_mb']:.0f} / " + (f"{r['pecanpy_rss_mb']:.0f}" if has_peer else "-")
        for m in metrics or [None]:
            mg = f"{r[f'graphtab_{m}']:.4f}" if m else "-"
            mp = f"{r[f'pecanpy_{m}']:.4f}" if (m and f"pecanpy_{m}" in r) else "-"
            pp = f"{paper:.4f}" if (paper and m == "macro_f1") else "-"
            lines.append(f"| {r['dataset']} | {r['task']} | {r['p']:g}, {r['q']:g} | {m or '-'} | {mg} | "
                         f"{mp} | {pp} | {t_g} | {t_p} | {ratio} | {rss} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--worker":
        fn = {"graphtab": worker_graphtab, "pecanpy": worker_pecanpy}[sys.argv[2]]
        print(json.dumps(fn(json.loads(sys.argv[3]))))
    else:
        main()
