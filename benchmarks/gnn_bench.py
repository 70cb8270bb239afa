"""GNNEmbedder on Cora and CiteSeer: DGI + linear probe, fine-tuning, a supervised GCN, inductive.

Protocol (Shchur et al. 2018 style random splits): per split, 20 labelled
nodes per class, 500 validation, 1000 test nodes, drawn at random (stratified
for the labelled ones); mean and std over ``--splits`` splits. The directed
citation adjacency is symmetrised; bag-of-words features are row-normalised.

Rows of the table:

- ``DGI + linear probe``: GNNEmbedder(encoder="gcn", n_layers=1, 512-d,
  pretrain="dgi") pre-trained once per dataset (no labels), then
  ``fine_tune(mode="probe")`` per split (the encoder stays frozen);
- ``DGI + fine-tune``: the same pre-trained encoder, ``fine_tune(mode="finetune")``
  per split (encoder + head trained on the 20/class labels);
- ``supervised GCN``: a plain 2-layer GCN (Kipf & Welling: 16 hidden, ReLU,
  dropout 0.5, Adam lr 0.01, weight decay 5e-4, 200 epochs) written in this script;
- ``inductive``: DGI pre-trained on the subgraph induced by a random 80% of
  the nodes; the full graph is embedded with ``transform`` (the other 20% were
  never seen); the probe is trained on 20/class labelled *seen* nodes and
  evaluated on (up to 1000) unseen nodes. ``transductive, same nodes`` is the
  full-graph model's probe on the same labelled and test nodes.

No early stopping on the validation set is used anywhere (fixed epochs), so
the validation nodes are drawn but unused; they are kept so the split sizes
match the protocol.

Usage::

    .venv/bin/python benchmarks/gnn_bench.py --data /work/shared/data --splits 10
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
from graphemb._gnn_models import message_structure


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
    rng = np.random.default_rng(seed)
    pool = np.arange(len(y)) if pool is None else pool
    train = np.concatenate([rng.choice(pool[y[pool] == c], 20, replace=False) for c in np.unique(y)])
    rest = rng.permutation(np.setdiff1d(pool if test_pool is None else test_pool, train))
    if test_pool is not None:
        return train, None, rest[:1000]
    return train, rest[:500], rest[500:1500]


def labels_series(y, train, n):
    s = pd.Series(np.nan, index=pd.RangeIndex(n))
    s.iloc[train] = y[train]
    return s


def acc(model, test, y, graph=None, features=None):
    pred = model.predict(graph, features)
    return float((pred.to_numpy()[test] == y[test]).mean())


class GCN(torch.nn.Module):
    def __init__(self, f, c):
        super().__init__()
        from torch_geometric.nn import GCNConv

        # normalisation precomputed once (message_structure), same maths as GCNConv's default
        self.c1 = GCNConv(f, 16, normalize=False, add_self_loops=False)
        self.c2 = GCNConv(16, c, normalize=False, add_self_loops=False)

    def forward(self, x, ei):
        h = torch.nn.functional.dropout(x, 0.5, self.training)
        h = torch.relu(self.c1(h, ei))
        h = torch.nn.functional.dropout(h, 0.5, self.training)
        return self.c2(h, ei)


def supervised_gcn(g, X, y, train, test, seed):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        x = torch.from_numpy(X.to_numpy(np.float32))
        ei = message_structure(torch.from_numpy(g.edge_index()), g.n_nodes, "gcn")
        model = GCN(x.shape[1], int(y.max()) + 1)
        opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        yt, tr = torch.from_numpy(y), torch.from_numpy(train)
        t0 = time.perf_counter()
        for _ in range(200):
            model.train()
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x, ei)[tr], yt[tr])
            loss.backward()
            opt.step()
        t = time.perf_counter() - t0
        model.eval()
        model.eval()
        with torch.no_grad():
            pred = model(x, ei).argmax(1).numpy()
    return float((pred[test] == y[test]).mean()), t


CFG = {"dim": 512, "pretrain_epochs": 300, "finetune_epochs": 200}


def dgi_model(seed):
    return GNNEmbedder(encoder="gcn", n_layers=1, hidden_dim=CFG["dim"], dim=CFG["dim"], pretrain="dgi",
                       pretrain_epochs=CFG["pretrain_epochs"], patience=20, lr=1e-3,
                       finetune_epochs=CFG["finetune_epochs"],
                       finetune_lr=0.01, finetune_weight_decay=5e-4, dropout=0.0, random_state=seed)


def run_dataset(data: Path, name: str, n_splits: int, log, ft_splits: int = 10**9) -> dict:
    g, X, y = load(data, name)
    n = g.n_nodes
    out: dict = {"dataset": name, "nodes": n, "edges": g.n_edges}
    t0 = time.perf_counter()
    m = dgi_model(0).pretrain_graph(g, X)
    t_pre = time.perf_counter() - t0
    ep = len(m.pretrain_history_)
    out["dgi_pretrain_s"], out["dgi_epochs"] = t_pre, ep
    log(f"{name}: DGI pre-training {ep} epochs in {t_pre:.1f} s ({t_pre / ep:.3f} s/epoch)")
    # inductive: pre-train on 80% of the nodes, embed the rest with transform
    rng = np.random.default_rng(1234)
    perm = rng.permutation(n)
    seen, unseen = np.sort(perm[: int(0.8 * n)]), np.sort(perm[int(0.8 * n):])
    sub = g.subgraph(g.nodes[seen])
    t0 = time.perf_counter()
    mi = dgi_model(0).pretrain_graph(sub, X.iloc[seen])
    out["inductive_pretrain_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb_full = mi.transform(g, X)
    out["inductive_transform_s"] = time.perf_counter() - t0
    assert emb_full.shape[0] == n
    ind, trans = [], []
    for s in range(n_splits):
        train, _, test = split(y, 100 + s, pool=seen, test_pool=unseen)
        lab = labels_series(y, train, n)
        mi.fine_tune(sub, lab.iloc[seen].set_axis(g.nodes[seen]), X.iloc[seen], mode="probe")
        ind.append(acc(mi, test, y, g, X))
        m.fine_tune(g, lab, X, mode="probe")
        trans.append(acc(m, test, y))
        log(f"  inductive split {s}: unseen {ind[-1]:.3f}  transductive same nodes {trans[-1]:.3f}")
    out.update(inductive=ind, transductive_same=trans)
    probe, ft, gcn, ft_t, gcn_t = [], [], [], [], []
    for s in range(n_splits):
        train, _, test = split(y, s)
        lab = labels_series(y, train, n)
        m.fine_tune(g, lab, X, mode="probe")
        probe.append(acc(m, test, y))
        msg = f"  split {s}: probe {probe[-1]:.3f}"
        if s < ft_splits:
            mf = copy.deepcopy(m)
            mf.set_params(dropout=0.5, random_state=s)
            mf.encoder_.dropout = 0.5
            t1 = time.perf_counter()
            mf.fine_tune(g, lab, X, mode="finetune")
            ft_t.append(time.perf_counter() - t1)
            ft.append(acc(mf, test, y))
            a, t = supervised_gcn(g, X, y, train, test, s)
            gcn.append(a)
            gcn_t.append(t)
            msg += f"  fine-tune {ft[-1]:.3f}  GCN {gcn[-1]:.3f}"
        log(msg)
        out.update(probe=probe, finetune=ft, gcn=gcn, finetune_s=float(np.mean(ft_t)) if ft_t else 0.0,
                   gcn_s=float(np.mean(gcn_t)) if gcn_t else 0.0)
    return out


def ms(v):
    return f"{np.mean(v):.3f} ± {np.std(v):.3f}"


def table(results: list[dict], n_splits: int) -> str:
    rows = ["| method | " + " | ".join(r["dataset"] for r in results) + " |",
            "|---|" + "---|" * len(results)]
    for key, label in [("probe", "DGI + linear probe (frozen encoder)"),
                       ("finetune", "DGI + fine-tune (encoder + head)"),
                       ("gcn", "supervised 2-layer GCN (this script)"),
                       ("inductive", "inductive: probe on unseen 20% (transform)"),
                       ("transductive_same", "transductive, same test nodes")]:
        rows.append(f"| {label} | " + " | ".join(ms(r[key]) for r in results) + " |")
    rows.append("| inductive - transductive | " + " | ".join(
        f"{np.mean(r['inductive']) - np.mean(r['transductive_same']):+.3f}" for r in results) + " |")
    rows.append("")
    rows.append("| timing (CPU) | " + " | ".join(r["dataset"] for r in results) + " |")
    rows.append("|---|" + "---|" * len(results))
    rows.append("| DGI pre-training: epochs, total s, s/epoch | " + " | ".join(
        f"{r['dgi_epochs']}, {r['dgi_pretrain_s']:.1f} s, {r['dgi_pretrain_s'] / r['dgi_epochs']:.3f}"
        for r in results) + " |")
    fe = CFG["finetune_epochs"]
    rows.append(f"| fine-tune, {fe} epochs (mean per split) | " + " | ".join(
        f"{r['finetune_s']:.1f} s, {r['finetune_s'] / fe:.3f} s/epoch" for r in results) + " |")
    rows.append("| supervised GCN, 200 epochs (mean per split) | " + " | ".join(
        f"{r['gcn_s']:.1f} s, {r['gcn_s'] / 200:.4f} s/epoch" for r in results) + " |")
    rows.append("| inductive: pre-train on 80% / transform full graph | " + " | ".join(
        f"{r['inductive_pretrain_s']:.1f} s / {r['inductive_transform_s']:.2f} s" for r in results) + " |")
    n_ft = len(results[0]["finetune"])
    rows.append(f"\nAccuracy: mean ± std over {n_splits} random splits (fine-tune and GCN rows: the first "
                f"{n_ft}). DGI encoder: 1-layer GCN, "
                f"{CFG['dim']}-d, at most {CFG['pretrain_epochs']} pre-training epochs (patience 20).")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ft-splits", type=int, default=None,
                    help="run fine-tuning and the supervised GCN on only the first N splits (default: all)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "gnn_raw.json")
    ap.add_argument("--dim", type=int, default=512, help="DGI encoder width (hidden = output)")
    ap.add_argument("--pretrain-epochs", type=int, default=300)
    ap.add_argument("--finetune-epochs", type=int, default=200)
    args = ap.parse_args()
    CFG.update(dim=args.dim, pretrain_epochs=args.pretrain_epochs, finetune_epochs=args.finetune_epochs)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    ft_splits = args.splits if args.ft_splits is None else args.ft_splits
    results = []
    for d in args.datasets:
        results.append(run_dataset(args.data, d, args.splits, lambda s: print(s, flush=True), ft_splits))
        args.out.write_text(json.dumps({"partial": True, "results": results}, indent=1))
    total = time.perf_counter() - t0
    md = table(results, args.splits)
    print(md)
    print(f"total {total:.0f} s, torch threads {args.threads}, {platform.processor() or platform.machine()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": dt.datetime.now(dt.UTC).isoformat(), "total_s": total,
                                    "threads": args.threads, "results": results}, indent=1))


if __name__ == "__main__":
    main()
