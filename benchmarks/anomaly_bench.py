"""Anomaly detection benchmark: graphtab's detectors against PyOD and scikit-learn.

Two parts, both run by default:

``adbench``
    The 18 ADBench "Classical" sets (``--data``/anomaly_adbench/*.npz), 70/30
    stratified split, 5 seeds; detectors fitted on the training part (labels
    unused), ROC-AUC and average precision on the test part. In the same run:
    KNNDetector and LOFDetector (exact backend), PyOD KNN and LOF at the same
    k and method, scikit-learn IsolationForest. Scaling is the same for ours
    and PyOD's: PyOD gets the training-set standardised data, ours the raw
    data with ``scaler="standard"`` (the same statistics). KNNDetector is also
    run with ``scaler="robust"`` and ``scaler=None`` to choose the default.

``scale``
    Generated n x 32 data (20 Gaussian clusters + 1% planted anomalies),
    fit + scoring of every point (``fit`` computes every training point's
    score) for KNNDetector (annoy backend) against PyOD KNN (exact), each in a
    fresh subprocess reporting its own wall time, ROC-AUC and peak RSS. PyOD is
    run in full at the sizes given by ``--pyod-sizes`` (stopped at
    ``--pyod-timeout`` seconds) and extrapolated from sampled queries at
    ``--sampled-sizes`` (marked as such). With ``--baseline-src DIR`` the same
    KNNDetector run is repeated from another source tree (``DIR`` first on
    ``PYTHONPATH``, e.g. an earlier commit's ``anomaly`` and ``nnstore``),
    reported as "before", so a change is measured end to end in one run.

Run (ours with graphtab's environment, PyOD from the peers' one)::

    PYTHONPATH=. python benchmarks/anomaly_bench.py --data /work/shared/data \
        --peer-python /work/venv-peers/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _peak_rss import peak_rss_bytes

HERE = Path(__file__).resolve().parent
K_KNN, K_LOF = 5, 20


# -- data ---------------------------------------------------------------------------
def adbench_sets(data: Path) -> list[Path]:
    files = sorted((data / "anomaly_adbench").glob("*.npz"), key=lambda p: int(p.name.split("_")[0]))
    if len(files) != 18:
        raise SystemExit(f"expected 18 ADBench files in {data / 'anomaly_adbench'}, found {len(files)}")
    return files


def make_scale_data(n: int, d: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """20 Gaussian clusters (random centres and spreads) + 1% anomalies: half uniform in
    the bounding box (global), half cluster points with 3x the cluster's spread (local)."""
    rng = np.random.default_rng(seed)
    n_out = n // 100
    n_in = n - n_out
    centres = rng.uniform(-10, 10, size=(20, d))
    spreads = rng.uniform(0.5, 2.0, size=20)
    c = rng.integers(0, 20, size=n_in)
    X_in = centres[c] + rng.standard_normal((n_in, d)) * spreads[c, None]
    n_glob = n_out // 2
    lo, hi = X_in.min(axis=0), X_in.max(axis=0)
    X_glob = rng.uniform(lo, hi, size=(n_glob, d))
    c2 = rng.integers(0, 20, size=n_out - n_glob)
    X_loc = centres[c2] + rng.standard_normal((n_out - n_glob, d)) * spreads[c2, None] * 3.0
    X = np.vstack([X_in, X_glob, X_loc]).astype(np.float32)
    y = np.r_[np.zeros(n_in), np.ones(n_out)].astype(np.int64)
    perm = rng.permutation(n)
    return X[perm], y[perm]


# -- ADBench part ---------------------------------------------------------------------
def run_adbench(data: Path, seeds: list[int], sets: list[str] | None, out_json: Path,
                variants_max_rows: int) -> dict:
    """Runs set by set, merging each finished set into ``out_json`` (so a long run can be
    stopped and resumed with ``--sets``); the scaler variants are skipped on sets with more
    than ``variants_max_rows`` rows."""
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    from anomaly import KNNDetector, LOFDetector, fit_scaler

    methods = {
        "KNNDetector": lambda s: ("raw", KNNDetector(K_KNN, method="largest", backend="exact",
                                                     scaler="standard")),
        "PyOD KNN": lambda s: ("std", KNN(n_neighbors=K_KNN, method="largest")),
        "LOFDetector": lambda s: ("raw", LOFDetector(K_LOF, backend="exact", scaler="standard")),
        "PyOD LOF": lambda s: ("std", LOF(n_neighbors=K_LOF)),
        "IsolationForest": lambda s: ("raw", IsolationForest(random_state=s)),
        "KNNDetector robust": lambda s: ("raw", KNNDetector(K_KNN, backend="exact", scaler="robust")),
        "KNNDetector unscaled": lambda s: ("raw", KNNDetector(K_KNN, backend="exact", scaler=None)),
    }
    res = json.loads(out_json.read_text()) if out_json.exists() else {
        "rows": [], "k_knn": K_KNN, "k_lof": K_LOF, "seeds": seeds}
    for path in adbench_sets(data):
        name = path.stem.split("_", 1)[1]
        if sets and name not in sets:
            continue
        z = np.load(path, allow_pickle=False)
        X, y = z["X"].astype(np.float64), z["y"].astype(np.int64)
        rows = []
        for seed in seeds:
            Xtr, Xte, _, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
            center, scale = fit_scaler(Xtr.astype(np.float32), "standard")
            std = {"tr": (Xtr - center) / scale, "te": (Xte - center) / scale}
            for mname, make in methods.items():
                if mname.startswith("KNNDetector ") and len(X) > variants_max_rows:
                    continue
                space, det = make(seed)
                a, b = (Xtr, Xte) if space == "raw" else (std["tr"], std["te"])
                t0 = time.perf_counter()
                det.fit(a)
                s = det.decision_function(b)
                if mname == "IsolationForest":
                    s = -s  # sklearn: higher = more normal
                dt = time.perf_counter() - t0
                rows.append({"dataset": name, "seed": seed, "method": mname,
                             "roc_auc": float(roc_auc_score(yte, s)),
                             "ap": float(average_precision_score(yte, s)), "seconds": dt})
            print(f"{name} seed {seed}: " + ", ".join(
                f"{r['method']} {r['roc_auc']:.3f} ({r['seconds']:.1f}s)" for r in rows
                if r["seed"] == seed), flush=True)
        res["rows"] = [r for r in res["rows"] if r["dataset"] != name] + rows
        out_json.write_text(json.dumps(res, indent=1))
    return res


def adbench_markdown(res: dict) -> str:
    import pandas as pd

    df = pd.DataFrame(res["rows"])
    order = ["KNNDetector", "PyOD KNN", "LOFDetector", "PyOD LOF", "IsolationForest",
             "KNNDetector robust", "KNNDetector unscaled"]
    datasets = list(dict.fromkeys(df["dataset"]))
    n_sets = len(datasets)
    main_cols = order[:5]
    out = [f"\n{n_sets} of 18 sets measured. The scaler variants (last two columns) ran on the sets "
           "with at most 50,000 rows only; their means are over those sets.\n"]
    for metric, label in [("roc_auc", "ROC-AUC"), ("ap", "average precision")]:
        piv = df.pivot_table(index="dataset", columns="method", values=metric, aggfunc="mean")
        piv = piv.loc[datasets, [m for m in order if m in piv.columns]]
        out.append(f"\n**{label}** (test split, mean over seeds {res['seeds']})\n")
        out.append("| dataset | " + " | ".join(piv.columns) + " |")
        out.append("|---" * (len(piv.columns) + 1) + "|")
        for ds, r in piv.iterrows():
            out.append(f"| {ds} | " + " | ".join("-" if pd.isna(v) else f"{v:.3f}" for v in r) + " |")
        out.append("| **mean** | " + " | ".join(f"**{v:.4f}**" for v in piv.mean()) + " |")
    piv = df.pivot_table(index="dataset", columns="method", values="roc_auc", aggfunc="mean")
    m = piv[[c for c in main_cols if c in piv.columns]].mean()
    diff = m["KNNDetector"] - m["PyOD KNN"]
    diff_lof = m["LOFDetector"] - m["PyOD LOF"]
    maxdiff = (piv["KNNDetector"] - piv["PyOD KNN"]).abs().max()
    out.append(f"\nMean ROC-AUC KNNDetector - PyOD KNN = {diff:+.4f} over {n_sets} sets (largest per-set "
               f"|diff| {maxdiff:.4f}; target |mean diff| <= 0.005: "
               f"{'met' if abs(diff) <= 0.005 else 'NOT met'}); LOFDetector - PyOD LOF = {diff_lof:+.4f}.")
    if "KNNDetector robust" in piv.columns:
        v = piv[["KNNDetector", "KNNDetector robust", "KNNDetector unscaled"]].dropna()
        mv = v.mean()
        wins = (v["KNNDetector robust"] > v["KNNDetector"]).sum()
        out.append(f"Scaler for KNNDetector over the {len(v)} sets with all three: mean ROC-AUC standard "
                   f"{mv['KNNDetector']:.4f}, robust {mv['KNNDetector robust']:.4f}, none "
                   f"{mv['KNNDetector unscaled']:.4f}; robust beats standard on {wins} of {len(v)}.")
    sec = df.groupby("method")["seconds"].sum()
    out.append("Total fit+score seconds over the measured sets and seeds: " + ", ".join(
        f"{k} {sec[k]:.0f}" for k in order if k in sec) + ".")
    return "\n".join(out)


# -- scale part -------------------------------------------------------------------------
def _threads_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = str(threads)
    return env


def worker(method: str, n: int, n_trees: int | None, threads: int, scores_out: str | None) -> None:
    """Fit one detector on generated data; print a JSON line (runs in its own process)."""
    from sklearn.metrics import roc_auc_score

    X, y = make_scale_data(n)
    rss0 = peak_rss_bytes() // 1024
    t0 = time.perf_counter()
    if method == "pyod":
        from pyod.models.knn import KNN

        det = KNN(n_neighbors=K_KNN, method="largest", n_jobs=threads).fit(X)
    else:
        from anomaly import KNNDetector

        kw = {} if n_trees is None else {"n_trees": n_trees}  # None: the detector's default
        det = KNNDetector(K_KNN, method="largest", backend=method, scaler=None, n_jobs=threads,
                          **kw).fit(X)
    dt = time.perf_counter() - t0
    auc = roc_auc_score(y, det.decision_scores_)
    rss = peak_rss_bytes() // 1024
    if scores_out:
        np.save(scores_out, np.asarray(det.decision_scores_, dtype=np.float64))
    print(json.dumps({"method": method, "n": n, "n_trees": n_trees, "threads": threads, "seconds": dt,
                      "roc_auc": float(auc), "peak_rss_mb": rss / 1024,
                      "rss_before_fit_mb": rss0 / 1024}), flush=True)


def worker_pyod_sampled(n: int, queries: int, repeats: int, threads: int, ours_scores: str | None) -> None:
    """PyOD KNN's fit, measured on sampled queries (runs in its own process).

    ``KNN.fit`` = ``check_array`` + ``NearestNeighbors.fit`` (PyOD's own object, its
    settings) + ``kneighbors()`` of every training point against all n points, which is
    ``kneighbors(X, k + 1)`` with each point's own entry dropped: its cost is linear in the
    number of query points. Here the first two are run in full; the neighbour search is run
    for ``repeats`` disjoint uniformly random subsets of ``queries // repeats`` training
    points; the full fit is extrapolated as fit time + median per-query cost x n. ROC-AUC on
    the sampled points: their exact k-th-neighbour distances (self excluded, as PyOD) and
    our scores of the same points (``ours_scores``, saved by the annoy worker).
    """
    from pyod.models.knn import KNN
    from sklearn.metrics import roc_auc_score
    from sklearn.utils import check_array

    X, y = make_scale_data(n)
    rss0 = peak_rss_bytes() // 1024
    det = KNN(n_neighbors=K_KNN, method="largest", n_jobs=threads)
    t0 = time.perf_counter()
    Xc = check_array(X)
    det.neigh_.fit(Xc)
    t_fit = time.perf_counter() - t0
    rng = np.random.default_rng(123)
    sample = rng.choice(n, size=queries, replace=False)
    parts = np.array_split(sample, repeats)
    per_query, kth = [], []
    for part in parts:
        t0 = time.perf_counter()
        d, ind = det.neigh_.kneighbors(Xc[part], n_neighbors=K_KNN + 1, return_distance=True)
        per_query.append((time.perf_counter() - t0) / len(part))
        # drop each point's own entry (or the last one when a duplicate came first), as sklearn
        is_self = ind == part[:, None]
        drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), K_KNN)
        keep = np.ones(ind.shape, dtype=bool)
        keep[np.arange(len(part)), drop] = False
        kth.append(d[keep].reshape(-1, K_KNN)[:, -1])
    kth = np.concatenate(kth)
    pq = float(np.median(per_query))
    out = {"method": "pyod-sampled", "n": n, "threads": threads, "algorithm": det.neigh_._fit_method,
           "fit_index_seconds": t_fit, "sampled_queries": int(queries), "repeats": repeats,
           "per_query_seconds": per_query, "seconds": t_fit + pq * n, "extrapolated": True,
           "roc_auc_sample": float(roc_auc_score(y[sample], kth)),
           "peak_rss_mb": peak_rss_bytes() // 1024 / 1024,
           "rss_before_fit_mb": rss0 / 1024}
    if ours_scores and Path(ours_scores).exists():
        ours = np.load(ours_scores)
        out["roc_auc_ours_sample"] = float(roc_auc_score(y[sample], ours[sample]))
    print(json.dumps(out), flush=True)


def run_one(method: str, n: int, timeout: float, n_trees: int | None = None, *, threads: int = 2,
            extra: list[str] | None = None, python: str | None = None, src: str | None = None,
            label: str | None = None) -> dict:
    """One worker in a fresh process: ``python`` (default this one), ``src`` first on PYTHONPATH."""
    cmd = [python or sys.executable, __file__, "--worker", method, str(n), "--threads", str(threads)]
    if n_trees is not None:
        cmd += ["--n-trees", str(n_trees)]
    cmd += extra or []
    env = _threads_env(threads)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
        if label is not None:
            lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
            if p.returncode == 0 and lines:
                row = json.loads(lines[-1])
                row["method"] = label
                return row
    except subprocess.TimeoutExpired:
        return {"method": label or method, "n": n, "n_trees": n_trees, "timeout": timeout}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"method": method, "n": n, "error": p.stderr[-2000:]}
    return json.loads(lines[-1])


def run_scale(sizes: list[int], pyod_sizes: list[int], timeout: float, n_trees: int | None, *,
              threads: int, sampled_sizes: list[int], queries: int, repeats: int,
              out_json: Path, peer_python: str | None = None, baseline_src: str | None = None) -> dict:
    """Merges each finished row into ``out_json`` (a row replaces the earlier one with the
    same method, n and n_trees)."""
    res = json.loads(out_json.read_text()) if out_json.exists() else {"rows": []}
    res["pyod_timeout_s"] = timeout

    def keep(r):
        res["rows"] = [o for o in res["rows"] if (o.get("method"), o.get("n"), o.get("n_trees")) !=
                       (r.get("method"), r.get("n"), r.get("n_trees"))] + [r]
        out_json.write_text(json.dumps(res, indent=1))
        print(json.dumps(r), flush=True)

    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    for n in sizes:  # ours first (before, then now), then the peer by growing size (the slowest last)
        if baseline_src is not None:
            keep(run_one("annoy", n, timeout, n_trees, threads=threads, src=baseline_src,
                         label="annoy-before"))
        keep(run_one("annoy", n, timeout, n_trees, threads=threads,
                     extra=["--scores-out", str(tmp / f"anomaly_bench_ours_{n}.npy")]))
    for n in sorted(pyod_sizes):
        keep(run_one("pyod", n, timeout, threads=threads, python=peer_python))
    for n in sorted(sampled_sizes):
        keep(run_one("pyod-sampled", n, timeout, threads=threads, python=peer_python,
                     extra=["--queries", str(queries), "--repeats", str(repeats),
                            "--ours-scores", str(tmp / f"anomaly_bench_ours_{n}.npy")]))
    return res


def scale_markdown(res: dict) -> str:
    by, sampled = {}, {}
    for r in res["rows"]:
        if r.get("method") == "pyod-sampled" and "seconds" in r:
            sampled[r["n"]] = r
        if r.get("method") == "annoy" and r.get("n_trees") is not None:
            continue  # n_trees sweeps are reported separately
        if r.get("method") == "annoy-before":
            continue  # reported by change_markdown
        key = "pyod" if r.get("method") in ("pyod", "pyod-sampled") else r.get("method")
        if key == "pyod" and key in by.get(r["n"], {}) and r.get("method") == "pyod-sampled":
            continue  # a full PyOD run beats an extrapolation
        by.setdefault(r["n"], {})[key] = r
    out = ["| n (x 32) | KNNDetector annoy s | PyOD KNN exact s | speed-up | ROC-AUC ours | ROC-AUC PyOD "
           "| AUC diff | peak RSS ours MB | peak RSS PyOD MB |", "|---" * 9 + "|"]
    notes = []

    def cell(r, key, fmt):
        if r is None:
            return "not run"
        if "timeout" in r:
            return f"> {r['timeout']:.0f} s (stopped)" if key == "seconds" else "-"
        if "error" in r:
            return "error"
        return format(r[key], fmt)

    for n in sorted(by):
        a, p = by[n].get("annoy"), by[n].get("pyod")
        ok = a and p and "seconds" in a and "seconds" in p
        sp = f"{p['seconds'] / a['seconds']:.1f}x" if ok else "-"
        if ok and p.get("extrapolated"):
            q = p["sampled_queries"]
            sp += "*"
            pcell = f"{p['seconds']:.0f}*"
            auc_o, auc_p = p.get("roc_auc_ours_sample"), p["roc_auc_sample"]
            auc_cells = (f"{auc_o:.4f}*" if auc_o is not None else "-", f"{auc_p:.4f}*",
                         f"{auc_o - auc_p:+.4f}*" if auc_o is not None else "-")
            pq = ", ".join(f"{v * 1e3:.2f}" for v in p["per_query_seconds"])
            notes.append(
                f"\\* n = {n:,}: PyOD time extrapolated from the measured per-query cost on {q:,} sampled "
                f"queries ({p['repeats']} disjoint random subsets of {q // p['repeats']:,}; per-query ms: "
                f"{pq}; median x {n:,} + the measured {p['fit_index_seconds']:.1f} s of check_array and "
                f"NearestNeighbors.fit, algorithm '{p['algorithm']}'). ROC-AUC on those {q:,} sampled "
                f"points: exact k-th-neighbour distance (PyOD's score) vs ours for the same points; ours "
                f"on all {n:,} points: {a['roc_auc']:.4f}. PyOD peak RSS is the sampled run's.")
        else:
            pcell = cell(p, "seconds", ".1f")
            auc_cells = (cell(a, "roc_auc", ".4f"), cell(p, "roc_auc", ".4f"),
                         f"{a['roc_auc'] - p['roc_auc']:+.4f}" if ok else "-")
        out.append(f"| {n:,} | {cell(a, 'seconds', '.1f')} | {pcell} | {sp} | "
                   f"{auc_cells[0]} | {auc_cells[1]} | {auc_cells[2]} | "
                   f"{cell(a, 'peak_rss_mb', '.0f')} | {cell(p, 'peak_rss_mb', '.0f')} |")
    for n, r in sorted(sampled.items()):
        full = by.get(n, {}).get("pyod")
        if full is not None and full.get("method") == "pyod" and "seconds" in full:
            notes.append(f"Check of the extrapolation at n = {n:,}: full PyOD fit {full['seconds']:.1f} s, "
                         f"extrapolated from {r['sampled_queries']:,} sampled queries {r['seconds']:.1f} s.")
    return "\n".join([*out, "", *notes])


def run_backends(shapes: list[str], threads: int, out_json: Path) -> dict:
    """The detectors' fit search (every training row's k=5 nearest others, euclidean) with each
    nnstore method, on generated n x d data (``make_scale_data``): seconds and the ROC-AUC of
    the k-th distance. ``annoy`` is the detector's store (10 trees, built in the timing)."""
    from sklearn.metrics import roc_auc_score

    from nnstore import NeighborStore, kneighbors

    res = {"threads": threads, "rows": []}
    for shape in shapes:
        n, d = (int(v) for v in shape.lower().split("x"))
        X, y = make_scale_data(n, d)
        for method in ("kdtree", "exact", "annoy"):
            t0 = time.perf_counter()
            if method == "annoy":
                store = NeighborStore(d, metric="euclidean", n_trees=10, n_jobs=threads, random_state=0)
                store.add(np.arange(n), X)
                store.rebuild()
                _, dist = kneighbors(store, k=K_KNN, metric="euclidean", n_jobs=threads)
            else:
                _, dist = kneighbors(X, k=K_KNN, metric="euclidean", method=method, n_jobs=threads)
            row = {"n": n, "d": d, "method": method, "seconds": time.perf_counter() - t0,
                   "roc_auc": float(roc_auc_score(y, dist[:, -1]))}
            res["rows"].append(row)
            print(json.dumps(row), flush=True)
            out_json.write_text(json.dumps(res, indent=1))
    return res


def backends_markdown(res: dict) -> str:
    out = ["| n x d | method | seconds | ROC-AUC (k-th distance) |", "|---|---|---|---|"]
    for r in res["rows"]:
        out.append(f"| {r['n']:,} x {r['d']} | {r['method']} | {r['seconds']:.1f} | {r['roc_auc']:.4f} |")
    return "\n".join(out)


def change_markdown(res: dict) -> str:
    """KNNDetector before (``--baseline-src``) and now, side by side, per n."""
    rows = {}
    for r in res["rows"]:
        if r.get("method") in ("annoy", "annoy-before") and r.get("n_trees") is None:
            rows.setdefault(r["n"], {})[r["method"]] = r
    out = ["| n (x 32) | before s | now s | speed-up | ROC-AUC before | ROC-AUC now | peak RSS before MB "
           "| peak RSS now MB |", "|---" * 8 + "|"]
    for n in sorted(rows):
        b, a = rows[n].get("annoy-before"), rows[n].get("annoy")
        if not (b and a and "seconds" in b and "seconds" in a):
            continue
        speed = b["seconds"] / a["seconds"]
        out.append(f"| {n:,} | {b['seconds']:.1f} | {a['seconds']:.1f} | {speed:.2f}x | "
                   f"{b['roc_auc']:.4f} | {a['roc_auc']:.4f} | {b['peak_rss_mb']:.0f} | "
                   f"{a['peak_rss_mb']:.0f} |")
    return "\n".join(out) if len(out) > 2 else ""


# -- main ---------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--part", choices=["adbench", "scale", "backends", "all", "report"], default="all")
    ap.add_argument("--shapes", nargs="+", default=["20000x32", "10000x64", "10000x128"],
                    help="n x d shapes of the backends part")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50_000, 100_000, 200_000, 1_000_000])
    ap.add_argument("--pyod-sizes", type=int, nargs="*", default=[50_000, 100_000, 200_000])
    ap.add_argument("--pyod-timeout", type=float, default=1200)
    ap.add_argument("--n-trees", type=int, default=None)
    ap.add_argument("--sets", nargs="+", default=None, help="ADBench set names (default all)")
    ap.add_argument("--variants-max-rows", type=int, default=50_000,
                    help="run the scaler variants only on sets with at most this many rows")
    ap.add_argument("--threads", type=int, default=2, help="threads per tool in the scale part")
    ap.add_argument("--sampled-sizes", type=int, nargs="*", default=[1_000_000],
                    help="sizes at which PyOD's fit is extrapolated from sampled queries")
    ap.add_argument("--queries", type=int, default=20_000, help="sampled PyOD queries in all")
    ap.add_argument("--repeats", type=int, default=4, help="disjoint subsets the queries are split in")
    ap.add_argument("--peer-python", default=None,
                    help="interpreter with PyOD for the peer runs (default: this one)")
    ap.add_argument("--baseline-src", default=None,
                    help="source tree of an earlier version, also run and reported as 'before'")
    ap.add_argument("--worker", nargs=2, metavar=("METHOD", "N"))
    ap.add_argument("--scores-out", default=None)
    ap.add_argument("--ours-scores", default=None)
    args = ap.parse_args()
    if args.worker:
        if args.worker[0] == "pyod-sampled":
            worker_pyod_sampled(int(args.worker[1]), args.queries, args.repeats, args.threads,
                                args.ours_scores)
        else:
            worker(args.worker[0], int(args.worker[1]), args.n_trees, args.threads, args.scores_out)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    if args.part in ("adbench", "all"):
        run_adbench(args.data, args.seeds, args.sets, args.out / "anomaly_adbench.json",
                    args.variants_max_rows)
    if args.part in ("scale", "all"):
        run_scale(args.sizes, args.pyod_sizes, args.pyod_timeout, args.n_trees, threads=args.threads,
                  sampled_sizes=args.sampled_sizes, queries=args.queries, repeats=args.repeats,
                  out_json=args.out / "anomaly_scale.json", peer_python=args.peer_python,
                  baseline_src=args.baseline_src)
    if args.part == "backends":
        res = run_backends(args.shapes, args.threads, args.out / "anomaly_backends.json")
        print(backends_markdown(res))
        return
    # report from whatever JSON exists
    parts = [
        "## Anomaly detection: benchmarks/anomaly_bench.py",
        "",
        f"Date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        "shared with other jobs (timings are noisy; ratios are from the same run).",
        "Command: `" + " ".join(["python", "benchmarks/anomaly_bench.py", *sys.argv[1:]]) + "`",
    ]
    fa, fs = args.out / "anomaly_adbench.json", args.out / "anomaly_scale.json"
    if fa.exists():
        parts += ["", f"### ADBench (18 sets, 70/30 stratified, KNN k={K_KNN} largest, LOF k={K_LOF})",
                  adbench_markdown(json.loads(fa.read_text()))]
    if fs.exists():
        scale = json.loads(fs.read_text())
        parts += ["", "### Scale: n x 32 generated data, fit + scoring of every point, k=5 largest",
                  "", scale_markdown(scale)]
        change = change_markdown(scale)
        if change:
            parts += ["", "### KNNDetector before and now (same run)", "", change]
    md = "\n".join(parts) + "\n"
    (args.out / "anomaly.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
