"""GNNEmbedder on Cora and CiteSeer: DGI + linear probe, LP-FT fine-tuning, a supervised GCN, inductive.

Protocol (Shchur et al. 2018 style random splits): per split, 20 labelled
nodes per class (stratified), 500 validation and 1000 test nodes, drawn at
random; mean and std over ``--splits`` splits (10 by default) for every row.
The directed citation adjacency is symmetrised; bag-of-words features are
row-normalised. The 500 validation nodes are the only nodes used for model
selection (best-validation-accuracy epoch, ties broken by validation loss);
test labels are only read to report accuracy.

Rows of the table:

- ``DGI + linear probe``: GNNEmbedder(encoder="gcn", n_layers=1, 512-d,
  pretrain="dgi", lr 1e-3, patience 20 on the training loss, best-loss
  weights restored) pre-trained once per dataset (DGI uses no labels), then
  ``fine_tune(mode="probe", validation=...)`` per split: logistic regression
  on the frozen embeddings (Adam lr 0.01, no weight decay, up to
  ``--probe-epochs`` epochs, the best validation epoch kept);
- ``DGI + fine-tune``: a copy of the same pre-trained encoder,
  ``fine_tune(mode="finetune", validation=...)`` per split: LP-FT (the probe
  above as warm start of the head, then encoder + head trained together with
  dropout 0.5, Adam lr 0.01 for the head and ``--encoder-lr`` for the
  encoder, weight decay 5e-4), best validation epoch kept, patience 50;
- ``supervised GCN``: a 2-layer GCN with Kipf & Welling's settings (16
  hidden, ReLU, dropout 0.5, Glorot init, Adam lr 0.01, weight decay 5e-4 on
  the first layer, at most 200 epochs) written in this script, with the same
  model selection as fine-tuning (best validation accuracy, patience 50);
- ``inductive``: DGI pre-trained on the subgraph induced by a random 80% of
  the nodes (one draw); the full graph is embedded with ``transform`` (the
  other 20% were never seen); per split the probe is trained on 20/class
  labelled *seen* nodes, selected on 500 seen validation nodes and evaluated on
  up to 1000 unseen nodes. ``transductive, same nodes`` is the full-graph
  model's probe on the same labelled, validation and test nodes.

``--defaults`` (issue 19): ``GNNEmbedder()`` with no arguments, and the
candidate defaults it was chosen from (encoder, width, depth, normalisation),
on Cora with the 0/1 bag of words passed three ways (raw as a scipy CSR
matrix, row-normalised as a scipy CSR matrix, standardised as a dense array),
plus the issue's input containers (edge list + DataFrame, PyG ``Data`` with
``x``, edge list + scipy matrix). One pre-training per row (no labels); the
probe is scikit-learn's ``LogisticRegression`` on the frozen embeddings
(standardised with the training rows' statistics), trained on 20 labelled
nodes per class; validation accuracy (500 nodes) is what the defaults were
chosen by, test accuracy (1000 nodes) is reported beside it.

Usage::

    .venv/bin/python benchmarks/gnn_bench.py --data /work/shared/data --splits 10 --threads 1
    .venv/bin/python benchmarks/gnn_bench.py --defaults --data /work/shared/data --splits 5 --threads 1
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from graphemb import GNNEmbedder, as_graph
from graphemb._gnn._models import message_structure

CFG = {"dim": 512, "pretrain_epochs": 1000, "patience": 20, "probe_epochs": 100, "finetune_epochs": 200,
       "encoder_lr": 1e-3, "ft_patience": 50, "gcn_epochs": 200}


def load(data: Path, name: str):
    z = np.load(data / name / f"{name}.npz")
    A = sp.csr_matrix((z["adj_data"], z["adj_indices"], z["adj_indptr"]), shape=z["adj_shape"])
    A = A.maximum(A.T).tocsr()
    A.data[:] = 1.0
    X = sp.csr_matrix((z["attr_data"], z["attr_indices"], z["attr_indptr"]), shape=z["attr_shape"])
    X = X.astype(np.float32).toarray()
    rs = X.sum(axis=1, keepdims=True)
    X = np.divide(X, rs, out=np.zeros_like(X), where=rs > 0)
    return as_graph(A, directed=False), pd.DataFrame(X, index=pd.RangeIndex(len(X))), z["labels"].astype(int)


def split(y: np.ndarray, seed: int, pool: np.ndarray | None = None, test_pool: np.ndarray | None = None):
    """20 per class labelled + 500 validation from ``pool``, 1000 test from ``test_pool`` (or the rest)."""
    rng = np.random.default_rng(seed)
    pool = np.arange(len(y)) if pool is None else pool
    train = np.concatenate([rng.choice(pool[y[pool] == c], 20, replace=False) for c in np.unique(y)])
    rest = rng.permutation(np.setdiff1d(pool, train))
    if test_pool is not None:
        return train, rest[:500], rng.permutation(test_pool)[:1000]
    return train, rest[:500], rest[500:1500]


def labels_series(y, idx, n):
    s = pd.Series(np.nan, index=pd.RangeIndex(n))
    s.iloc[idx] = y[idx]
    return s


def acc(model, test, y, graph=None, features=None):
    pred = model.predict(graph, features)
    return float((pred.to_numpy()[test] == y[test]).mean())


class GCN(torch.nn.Module):
    """Kipf & Welling's 2-layer GCN: A_hat ReLU(A_hat drop(X) W1) W2, dropout 0.5 on both inputs."""

    def __init__(self, f, c, hidden=16):
        super().__init__()
        self.w1 = torch.nn.Parameter(torch.nn.init.xavier_uniform_(torch.empty(f, hidden)))
        self.b1 = torch.nn.Parameter(torch.zeros(hidden))
        self.w2 = torch.nn.Parameter(torch.nn.init.xavier_uniform_(torch.empty(hidden, c)))
        self.b2 = torch.nn.Parameter(torch.zeros(c))

    def forward(self, x, adj):
        # x: sparse COO (row-normalised bag of words); dropout on its non-zeros (Kipf's sparse dropout)
        x = torch.sparse_coo_tensor(x.indices(), torch.nn.functional.dropout(x.values(), 0.5, self.training),
                                    x.shape, is_coalesced=True, check_invariants=False)
        h = torch.relu(adj @ torch.sparse.mm(x, self.w1) + self.b1)
        h = torch.nn.functional.dropout(h, 0.5, self.training)
        return adj @ (h @ self.w2) + self.b2


def supervised_gcn(g, X, y, train, val, test, seed):
    """Returns test accuracy, seconds, epochs run, best epoch (selection on validation accuracy)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        x = torch.from_numpy(X.to_numpy(np.float32)).to_sparse().coalesce()  # 1.3% non-zero
        adj = message_structure(torch.from_numpy(g.edge_index()), g.n_nodes, "gcn")
        model = GCN(x.shape[1], int(y.max()) + 1)
        opt = torch.optim.Adam([{"params": [model.w1, model.b1], "weight_decay": 5e-4},
                                {"params": [model.w2, model.b2], "weight_decay": 0.0}], lr=0.01)
        yt, tr, va = torch.from_numpy(y), torch.from_numpy(train), torch.from_numpy(val)
        best, best_state, best_epoch, wait, epoch = None, None, 0, 0, 0
        t0 = time.perf_counter()
        for epoch in range(1, CFG["gcn_epochs"] + 1):
            model.train()
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x, adj)[tr], yt[tr])
            loss.backward()
            opt.step()
            model.eval()
            with torch.no_grad():
                out = model(x, adj)[va]
                score = (float((out.argmax(1) == yt[va]).float().mean()),
                         -float(torch.nn.functional.cross_entropy(out, yt[va])))
            if best is None or score > best:
                best, best_epoch, wait = score, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                wait += 1
                if wait >= CFG["ft_patience"]:
                    break
        t = time.perf_counter() - t0
        model.load_state_dict(best_state)
        model.eval()
        with torch.no_grad():
            pred = model(x, adj).argmax(1).numpy()
    return float((pred[test] == y[test]).mean()), t, epoch, best_epoch


def dgi_model(seed):
    return GNNEmbedder(encoder="gcn", n_layers=1, hidden_dim=CFG["dim"], dim=CFG["dim"], pretrain="dgi",
                       epochs=CFG["pretrain_epochs"], patience=CFG["patience"], learning_rate=1e-3,
                       dropout=0.0, random_state=seed)


def probe_kw():
    return dict(probe_epochs=CFG["probe_epochs"], probe_learning_rate=0.01, probe_l2=0.0)


def finetune_kw():
    return dict(epochs=CFG["finetune_epochs"], learning_rate=0.01, encoder_learning_rate=CFG["encoder_lr"],
                l2=5e-4, dropout=0.5, patience=CFG["ft_patience"], probe_first=True, **probe_kw())


def finetune_epochs(model) -> int:
    return sum(1 for h in model.finetune_history_ if h["stage"] == "finetune")


def run_dataset(data: Path, name: str, n_splits: int, log, rows: set[str]) -> dict:
    g, X, y = load(data, name)
    n = g.n_nodes
    out: dict = {"dataset": name, "nodes": n, "edges": g.n_edges}
    t0 = time.perf_counter()
    m = dgi_model(0).pretrain_graph(g, X)
    t_pre = time.perf_counter() - t0
    ep = len(m.pretrain_history_)
    out.update(dgi_pretrain_s=t_pre, dgi_epochs=ep, dgi_best_epoch=int(np.argmin(m.pretrain_history_)) + 1)
    log(f"{name}: DGI pre-training {ep} epochs in {t_pre:.1f} s ({t_pre / ep:.3f} s/epoch), "
        f"best loss at epoch {out['dgi_best_epoch']}")
    for key in ("probe", "probe_val", "finetune", "finetune_val", "finetune_s", "finetune_ep", "gcn",
                "gcn_val", "gcn_s", "gcn_ep", "inductive", "transductive_same"):
        out[key] = []
    for s in range(n_splits):
        train, val, test = split(y, s)
        lab, vlab = labels_series(y, train, n), labels_series(y, val, n)
        m.fine_tune(g, lab, X, mode="probe", validation=vlab, **probe_kw())
        out["probe"].append(acc(m, test, y))
        out["probe_val"].append(acc(m, val, y))
        msg = f"  split {s}: probe {out['probe'][-1]:.3f} (val {out['probe_val'][-1]:.3f})"
        if "finetune" in rows:
            mf = copy.deepcopy(m).set_params(random_state=s)
            t1 = time.perf_counter()
            mf.fine_tune(g, lab, X, mode="finetune", validation=vlab, **finetune_kw())
            out["finetune_s"].append(time.perf_counter() - t1)
            out["finetune_ep"].append(finetune_epochs(mf))
            out["finetune"].append(acc(mf, test, y))
            out["finetune_val"].append(acc(mf, val, y))
            msg += (f"  fine-tune {out['finetune'][-1]:.3f} (val {out['finetune_val'][-1]:.3f}, "
                    f"{out['finetune_ep'][-1]} ep, best {mf.best_epoch_})")
        if "gcn" in rows:
            a, t, e, be = supervised_gcn(g, X, y, train, val, test, s)
            out["gcn"].append(a)
            out["gcn_s"].append(t)
            out["gcn_ep"].append(e)
            msg += f"  GCN {a:.3f} ({e} ep, best {be})"
        log(msg)
    if "inductive" in rows:
        # inductive: pre-train on 80% of the nodes, embed the rest with transform
        rng = np.random.default_rng(1234)
        perm = rng.permutation(n)
        seen, unseen = np.sort(perm[: int(0.8 * n)]), np.sort(perm[int(0.8 * n):])
        sub = g.subgraph(g.nodes[seen])
        t0 = time.perf_counter()
        mi = dgi_model(0).pretrain_graph(sub, X.iloc[seen])
        out["inductive_pretrain_s"] = time.perf_counter() - t0
        out["inductive_epochs"] = len(mi.pretrain_history_)
        t0 = time.perf_counter()
        emb_full = mi.transform(g, X)
        out["inductive_transform_s"] = time.perf_counter() - t0
        assert emb_full.shape[0] == n
        for s in range(n_splits):
            train, val, test = split(y, 100 + s, pool=seen, test_pool=unseen)
            lab, vlab = labels_series(y, train, n), labels_series(y, val, n)
            mi.fine_tune(sub, lab.iloc[seen].set_axis(g.nodes[seen]), X.iloc[seen], mode="probe",
                         validation=vlab.iloc[seen].set_axis(g.nodes[seen]), **probe_kw())
            out["inductive"].append(acc(mi, test, y, g, X))
            m.fine_tune(g, lab, X, mode="probe", validation=vlab, **probe_kw())
            out["transductive_same"].append(acc(m, test, y))
            log(f"  inductive split {s}: unseen {out['inductive'][-1]:.3f}  "
                f"transductive same nodes {out['transductive_same'][-1]:.3f}")
    return out


def ms(v):
    return f"{np.mean(v):.3f} ± {np.std(v):.3f}" if len(v) else "-"


def table(results: list[dict], n_splits: int) -> str:
    rows = ["| method (test accuracy) | " + " | ".join(r["dataset"] for r in results) + " |",
            "|---|" + "---|" * len(results)]
    for key, label in [("probe", "DGI + linear probe (frozen encoder)"),
                       ("finetune", "DGI + fine-tune (LP-FT, encoder + head)"),
                       ("gcn", "supervised 2-layer GCN (Kipf & Welling, this script)"),
                       ("inductive", "inductive: probe on unseen 20% (transform)"),
                       ("transductive_same", "transductive, same test nodes")]:
        rows.append(f"| {label} | " + " | ".join(ms(r[key]) for r in results) + " |")
    if all(r["inductive"] for r in results):
        rows.append("| inductive - transductive | " + " | ".join(
            f"{np.mean(r['inductive']) - np.mean(r['transductive_same']):+.3f}" for r in results) + " |")
    rows += ["", "| validation accuracy (model selection) | " + " | ".join(r["dataset"] for r in results)
             + " |", "|---|" + "---|" * len(results)]
    for key, label in [("probe_val", "DGI + linear probe"), ("finetune_val", "DGI + fine-tune")]:
        rows.append(f"| {label} | " + " | ".join(ms(r[key]) for r in results) + " |")
    rows += ["", "| timing (CPU) | " + " | ".join(r["dataset"] for r in results) + " |",
             "|---|" + "---|" * len(results)]
    rows.append("| DGI pre-training: epochs (best), total s, s/epoch | " + " | ".join(
        f"{r['dgi_epochs']} ({r['dgi_best_epoch']}), {r['dgi_pretrain_s']:.1f} s, "
        f"{r['dgi_pretrain_s'] / r['dgi_epochs']:.3f}" for r in results) + " |")

    def per_epoch(r, key):
        if not r[key + "_s"]:
            return "-"
        tot, ep = np.mean(r[key + "_s"]), np.mean(r[key + "_ep"])
        return f"{ep:.0f} ep, {tot:.1f} s, {tot / max(ep, 1):.4f} s/epoch"

    rows.append("| fine-tune (mean per split: epochs, s, s/epoch incl. validation pass) | " + " | ".join(
        per_epoch(r, "finetune") for r in results) + " |")
    rows.append("| supervised GCN (mean per split: epochs, s, s/epoch incl. validation pass) | " + " | ".join(
        per_epoch(r, "gcn") for r in results) + " |")
    if all("inductive_pretrain_s" in r for r in results):
        rows.append("| inductive: pre-train on 80% (epochs) / transform full graph | " + " | ".join(
            f"{r['inductive_pretrain_s']:.1f} s ({r['inductive_epochs']}) / "
            f"{r['inductive_transform_s']:.2f} s" for r in results) + " |")
    rows.append(f"\nAccuracy: mean ± std over {n_splits} random splits. DGI encoder: 1-layer GCN, "
                f"{CFG['dim']}-d, at most {CFG['pretrain_epochs']} pre-training epochs (patience "
                f"{CFG['patience']}).")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------
# --defaults: issue 19's rows. GNNEmbedder's defaults and the candidates they were chosen from,
# on Cora with the features scaled three ways; linear probe on frozen embeddings.
# ---------------------------------------------------------------------------------------------
CANDIDATES = {
    "defaults: GNNEmbedder()": {},
    "normalize=None": {"normalize": None},
    "normalize='row'": {"normalize": "row"},
    "normalize='standard'": {"normalize": "standard"},
    "width 256": {"dim": 256, "hidden_dim": 256},
    "2-layer GCN": {"n_layers": 2},
    "2-layer SAGE 256/128": {"encoder": "sage", "n_layers": 2, "hidden_dim": 256, "dim": 128},
    "old defaults (SAGE 2x256/128, normalize=None)": {"encoder": "sage", "n_layers": 2, "hidden_dim": 256,
                                                      "dim": 128, "normalize": None},
}


def scaled_features(data: Path, name: str):
    """The graph (symmetrised), the 0/1 bag of words scaled three ways, labels, the raw arrays."""
    from sklearn.preprocessing import StandardScaler

    z = np.load(data / name / f"{name}.npz")
    A = sp.csr_matrix((z["adj_data"], z["adj_indices"], z["adj_indptr"]), shape=z["adj_shape"])
    A = A.maximum(A.T).tocsr()
    A.data[:] = 1.0
    B = sp.csr_matrix((z["attr_data"], z["attr_indices"], z["attr_indptr"]), shape=z["attr_shape"])
    B = B.astype(np.float32)
    rs = np.asarray(B.sum(axis=1)).ravel()
    rownorm = sp.csr_matrix(sp.diags(np.divide(1.0, rs, out=np.zeros_like(rs), where=rs > 0)) @ B)
    standardised = StandardScaler().fit_transform(B.toarray()).astype(np.float32)
    scalings = {"raw 0/1 (scipy CSR)": B, "row-normalised (scipy CSR)": rownorm.astype(np.float32),
                "standardised (dense ndarray)": standardised}
    return A, scalings, z["labels"].astype(int)


def probe_scores(E: np.ndarray, y: np.ndarray, splits) -> tuple[list[float], list[float]]:
    """Logistic regression on the frozen embeddings (standardised with the training rows' statistics)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    val, test = [], []
    for train, va, te in splits:
        sc = StandardScaler().fit(E[train])
        clf = LogisticRegression(max_iter=2000).fit(sc.transform(E[train]), y[train])
        val.append(float(clf.score(sc.transform(E[va]), y[va])))
        test.append(float(clf.score(sc.transform(E[te]), y[te])))
    return val, test


def run_defaults(args) -> None:
    import torch_geometric.data

    A, scalings, y = scaled_features(args.data, "cora")
    splits = [split(y, s) for s in range(args.splits)]
    g = as_graph(A, directed=False)
    edges = pd.DataFrame({"src": A.tocoo().row, "dst": A.tocoo().col})
    edges = edges[edges.src < edges.dst].reset_index(drop=True)  # each undirected edge once
    rows: list[dict] = []
    out = {"date": dt.datetime.now(dt.UTC).isoformat(), "splits": args.splits, "rows": rows}
    jobs = [(c, sname) for c in args.candidates for sname in scalings
            if sname.split(" ")[0] in args.scalings]
    # the containers: an edge list with a DataFrame, a PyG Data with x, a scipy sparse matrix
    coo = A.tocoo()
    arcs = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    pyg = torch_geometric.data.Data(x=torch.from_numpy(scalings["raw 0/1 (scipy CSR)"].toarray()),
                                    edge_index=arcs, num_nodes=A.shape[0])
    containers = {
        "edge list + row-normalised DataFrame": (edges, pd.DataFrame(
            scalings["row-normalised (scipy CSR)"].toarray(), index=pd.RangeIndex(A.shape[0]))),
        "PyG Data with x (raw 0/1)": (pyg, None),
        "edge list + raw scipy CSR": (edges, None),
    }
    t_all = time.perf_counter()
    for cand, sname in jobs:
        t0 = time.perf_counter()
        m = GNNEmbedder(random_state=0, **CANDIDATES[cand]).fit(g, scalings[sname])
        t = time.perf_counter() - t0
        val, test = probe_scores(m.transform().to_numpy(), y, splits)
        rows.append({"candidate": cand, "features": sname, "val": val, "test": test, "fit_s": t,
                     "epochs": len(m.pretrain_history_)})
        print(f"{cand:48s} {sname:30s} val {np.mean(val):.3f} test {np.mean(test):.3f} "
              f"{len(m.pretrain_history_)} ep {t:.0f} s", flush=True)
        args.out.write_text(json.dumps(out, indent=1))
    if "containers" in args.rows_defaults:
        for cname, (graph, feats) in containers.items():
            t0 = time.perf_counter()
            if cname.endswith("scipy CSR"):
                # the edge list's first-appearance order differs from the matrix rows: align by node id
                gg = as_graph(graph)
                feats = scalings["raw 0/1 (scipy CSR)"][gg.nodes.to_numpy()]
            m = GNNEmbedder(random_state=0).fit(graph, feats)
            t = time.perf_counter() - t0
            emb = m.transform().sort_index().to_numpy()
            val, test = probe_scores(emb, y, splits)
            rows.append({"candidate": "container: " + cname, "features": "-", "val": val, "test": test,
                         "fit_s": t, "epochs": len(m.pretrain_history_)})
            print(f"{cname:48s} val {np.mean(val):.3f} test {np.mean(test):.3f} {t:.0f} s", flush=True)
            args.out.write_text(json.dumps(out, indent=1))
    out["total_s"] = time.perf_counter() - t_all
    args.out.write_text(json.dumps(out, indent=1))
    print(defaults_table(rows, args.splits))


def defaults_table(rows: list[dict], n_splits: int) -> str:
    lines = ["| candidate | features | valid accuracy | test accuracy | pre-training epochs | fit s |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['candidate']} | {r['features']} | {ms(r['val'])} | {ms(r['test'])} | "
                     f"{r['epochs']} | {r['fit_s']:.0f} |")
    lines.append(f"\nAccuracy: linear probe (scikit-learn LogisticRegression on the standardised frozen "
                 f"embeddings), mean ± std over {n_splits} splits of 20 labelled nodes per class, "
                 "500 validation and 1000 test nodes.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    ap.add_argument("--rows", nargs="+", default=["finetune", "gcn", "inductive"],
                    choices=["finetune", "gcn", "inductive"], help="rows besides the probe (default: all)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "gnn_raw.json")
    ap.add_argument("--dim", type=int, default=CFG["dim"], help="DGI encoder width (hidden = output)")
    ap.add_argument("--pretrain-epochs", type=int, default=CFG["pretrain_epochs"])
    ap.add_argument("--probe-epochs", type=int, default=CFG["probe_epochs"])
    ap.add_argument("--finetune-epochs", type=int, default=CFG["finetune_epochs"])
    ap.add_argument("--encoder-lr", type=float, default=CFG["encoder_lr"])
    ap.add_argument("--defaults", action="store_true",
                    help="issue 19's rows: GNNEmbedder() and candidate defaults on Cora, features raw, "
                         "row-normalised and standardised, linear probe (--out default: gnn_defaults.json)")
    ap.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    ap.add_argument("--scalings", nargs="+", default=["raw", "row-normalised", "standardised"],
                    choices=["raw", "row-normalised", "standardised"], help="feature scalings (--defaults)")
    ap.add_argument("--rows-defaults", nargs="*", default=["containers"], choices=["containers"])
    args = ap.parse_args()
    if args.defaults:
        torch.set_num_threads(args.threads)
        if args.out.name == "gnn_raw.json":
            args.out = args.out.with_name("gnn_defaults.json")
        run_defaults(args)
        return
    CFG.update(dim=args.dim, pretrain_epochs=args.pretrain_epochs, probe_epochs=args.probe_epochs,
               finetune_epochs=args.finetune_epochs, encoder_lr=args.encoder_lr)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    results = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for d in args.datasets:
        results.append(run_dataset(args.data, d, args.splits, lambda s: print(s, flush=True), set(args.rows)))
        args.out.write_text(json.dumps({"partial": True, "cfg": CFG, "results": results}, indent=1))
    total = time.perf_counter() - t0
    print(table(results, args.splits))
    print(f"total {total:.0f} s, torch threads {args.threads}, {platform.processor() or platform.machine()}")
    args.out.write_text(json.dumps({"date": dt.datetime.now(dt.UTC).isoformat(), "total_s": total,
                                    "threads": args.threads, "cfg": CFG, "results": results}, indent=1))


if __name__ == "__main__":
    main()
