"""Record matching benchmark: tabemb.match against recordlinkage, Splink and a naive baseline.

Parts (``--only``, comma-separated):

- ``febrl``: FEBRL 4 linkage (5000 + 5000 records, 5000 true 1:1 links), unsupervised.
  Ours (RecordMatcher, Fellegi-Sunter EM), the naive baseline (TF-IDF over character
  2-4-grams of the row text, nearest neighbour in B for each A record, a cosine-distance
  threshold; three rows: two thresholds that read no truth (``null``: the 1% quantile of each
  A record's distance to its *second* neighbour in B, a non-match when each record has at most
  one match, i.e. a 1% false-match rate under that null; ``otsu``: Otsu's rule on the 1-NN
  distances) and the best of a grid *on the truth*, an upper bound for the method),
  recordlinkage 0.16 (blocking on given_name | surname | date_of_birth, ECM classifier on
  binary comparisons) and Splink (DuckDB; the same blocking rules; u by random sampling,
  m by EM, match probability >= 0.5). Peers run in ``benchmarks/.venv-matching``, or the venv
  named by ``MATCHING_PEER_VENV`` (created and filled with pip by this script if missing),
  each in its own process; wall time of each pipeline from the loaded DataFrames to the
  predicted pairs (imports excluded).
- ``dedup``: corruptor-generated person records (``generate_people`` +
  ``corrupt_records``: clusters of 1-5 records, Zipf), unsupervised; ours and the naive
  baseline (the same three thresholds; the null of a record is its distance to its 5th other
  neighbour, a non-match since no entity has more than 5 records; clusters = connected
  components).
- ``dm``: DeepMatcher sets, supervised on train, threshold tuned on valid, F1 on test (and the
  valid F1 at that threshold beside it). The settings were selected on train/valid only with
  ``matching_dm_select.py``; test is read once, here.
- ``dm_unsup``: the same DeepMatcher sets *without labels*: ``link(A, B)`` on the whole
  tables, pair precision / recall / F1 against every labelled match of train, valid and
  test (the DeepMatcher positives), the unsupervised scorer's diagnostics (``unsure_share``,
  ``weak``: :mod:`tabemb._matching._diagnostics`), and the F1 of its score (threshold 0.5)
  on the test pairs, to set beside the supervised test F1. FEBRL 4 (``febrl``) gives the
  same diagnostics for a set where the unsupervised scorer is strong.
- ``search``: the blocking search alone (``nnstore.kneighbors``: exact, IVF, Annoy) on the
  default encoder's embeddings of ``--dedup-entities`` generated people: recall@5 against
  exact search and CPU time.
- ``scale``: deduplication of N generated records in memory: time and peak RSS
  (``VmHWM``), one process per size (``--scale-entities 50000,150000``).

Usage::

    /work/benchslot 1 env OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python \\
        benchmarks/matching_bench.py --data /work/shared/data --only febrl,dedup
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _peak_rss import peak_rss_bytes

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv-matching"
FEBRL_COLS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
              "state", "date_of_birth", "soc_sec_id"]


# -- data ---------------------------------------------------------------------------------
def load_febrl(data: Path):
    a = pd.read_csv(data / "febrl/dataset4a.csv", skipinitialspace=True, dtype=str, index_col="rec_id")
    b = pd.read_csv(data / "febrl/dataset4b.csv", skipinitialspace=True, dtype=str, index_col="rec_id")
    na = a.index.str.extract(r"rec-(\d+)")[0].to_numpy()
    nb = b.index.str.extract(r"rec-(\d+)")[0].to_numpy()
    true = pd.DataFrame({"index_a": a.index, "n": na}).merge(
        pd.DataFrame({"index_b": b.index, "n": nb}), on="n")[["index_a", "index_b"]]
    return a, b, true


def pair_set(a, b) -> set:
    return set(zip(a, b, strict=True))


def prf(pred: set, true: set) -> dict:
    tp = len(pred & true)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(true) if true else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


# -- naive baseline ---------------------------------------------------------------------------
def row_text(df: pd.DataFrame) -> pd.Series:
    return df.fillna("").astype(str).agg(" ".join, axis=1).str.lower()


NULL_QUANTILE = 0.01


def otsu_threshold(d: np.ndarray, bins: int = 256) -> float:
    """Otsu's rule: the cut of the values ``d`` that maximises the between-class variance of a
    two-class split (matches = small distances, non-matches = large). Reads no truth."""
    d = np.asarray(d, dtype=np.float64).ravel()
    d = d[np.isfinite(d)]
    hist, edges = np.histogram(d, bins=bins)
    mids = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    s0 = np.cumsum(hist * mids)
    mu0 = s0 / np.maximum(w0, 1)
    mu1 = (s0[-1] - s0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[1:][int(np.argmax(between))])


def naive_link(a, b, true):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    t0 = time.perf_counter()
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit(pd.concat([row_text(a), row_text(b)]))
    xa, xb = vec.transform(row_text(a)), vec.transform(row_text(b))
    nn = NearestNeighbors(n_neighbors=2, metric="cosine").fit(xb)
    d, j = nn.kneighbors(xa)
    thr_null = float(np.quantile(d[:, 1], NULL_QUANTILE))
    thr_otsu = otsu_threshold(d[:, 0])
    preds = {}
    for rule, thr in (("null", thr_null), ("otsu", thr_otsu)):
        ok = d[:, 0] <= thr
        preds[rule] = (thr, pair_set(a.index[ok], b.index[j[ok, 0]]))
    elapsed = time.perf_counter() - t0
    ts = pair_set(true["index_a"], true["index_b"])
    unsup = {rule: {**prf(p, ts), "threshold": thr, "time_s": elapsed} for rule, (thr, p) in preds.items()}
    best = None
    for thr in np.linspace(0.05, 0.8, 31):
        ok = d[:, 0] <= thr
        m = prf(pair_set(a.index[ok], b.index[j[ok, 0]]), ts)
        if best is None or m["f1"] > best["f1"]:
            best = {**m, "threshold": float(thr)}
    return unsup, {**best, "time_s": elapsed}


def naive_dedup(df, true_pairs, k=5):
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    from tabemb import clusters_to_pairs, pair_metrics

    t0 = time.perf_counter()
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform(row_text(df))
    d, j = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(x).kneighbors(x)
    n = len(df)
    not_self = j != np.arange(n)[:, None]

    def clusters_at(thr):
        ok = (d <= thr) & not_self
        r, c = np.nonzero(ok)
        g = sp.coo_matrix((np.ones(len(r)), (r, j[r, c])), shape=(n, n))
        return connected_components(g, directed=False)[1]

    # the k-th other neighbour (k = 5 = the largest cluster size) is a non-match: the null
    kth_other = np.sort(np.where(not_self, d, np.inf), axis=1)[:, k - 1]
    rules = {"null": float(np.quantile(kth_other[np.isfinite(kth_other)], NULL_QUANTILE)),
             "otsu": otsu_threshold(d[not_self])}
    labs = {rule: clusters_at(thr) for rule, thr in rules.items()}
    elapsed = time.perf_counter() - t0
    unsup = {rule: {**pair_metrics(clusters_to_pairs(pd.Series(lab, index=df.index)), true_pairs,
                                   unordered=True), "threshold": rules[rule], "time_s": elapsed}
             for rule, lab in labs.items()}
    best = None
    for thr in np.linspace(0.05, 0.6, 23):
        lab = clusters_at(thr)
        m = pair_metrics(clusters_to_pairs(pd.Series(lab, index=df.index)), true_pairs, unordered=True)
        if best is None or m["f1"] > best["f1"]:
            best = {**m, "threshold": float(thr)}
    return unsup, {**best, "time_s": elapsed}


# -- peers (run inside the peer venv) -----------------------------------------------------------------
def peer_recordlinkage(data: Path) -> dict:
    import recordlinkage

    a, b, true = load_febrl(data)
    t0 = time.perf_counter()
    idx = recordlinkage.Index()
    idx.block("given_name")
    idx.block("surname")
    idx.block("date_of_birth")
    cand = idx.index(a, b)
    comp = recordlinkage.Compare()
    comp.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
    comp.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    comp.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    comp.exact("suburb", "suburb", label="suburb")
    comp.exact("state", "state", label="state")
    comp.string("address_1", "address_1", method="jarowinkler", threshold=0.85, label="address_1")
    comp.exact("postcode", "postcode", label="postcode")
    comp.exact("soc_sec_id", "soc_sec_id", label="soc_sec_id")
    feats = comp.compute(cand, a, b)
    pred = recordlinkage.ECMClassifier(binarize=None).fit_predict(feats)
    elapsed = time.perf_counter() - t0
    ts = pair_set(true["index_a"], true["index_b"])
    cs = pair_set(cand.get_level_values(0), cand.get_level_values(1))
    out = prf(pair_set(pred.get_level_values(0), pred.get_level_values(1)), ts)
    out.update(time_s=elapsed, pair_completeness=len(cs & ts) / len(ts),
               reduction_ratio=1 - len(cs) / (len(a) * len(b)), n_candidates=len(cs))
    return out


def peer_splink(data: Path) -> dict:
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    a, b, true = load_febrl(data)
    t0 = time.perf_counter()
    db = DuckDBAPI()
    sa = db.register(a.reset_index(), table_name="a")
    sb = db.register(b.reset_index(), table_name="b")
    rules = [block_on("given_name"), block_on("surname"), block_on("date_of_birth")]
    settings = SettingsCreator(
        link_type="link_only", unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=rules,
        comparisons=[cl.JaroWinklerAtThresholds(c) for c in
                     ["given_name", "surname", "address_1", "address_2", "suburb"]]
        + [cl.ExactMatch(c) for c in ["street_number", "postcode", "state"]]
        + [cl.JaroWinklerAtThresholds("date_of_birth"), cl.JaroWinklerAtThresholds("soc_sec_id")],
    )
    linker = Linker([sa, sb], settings, log_level=40)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    elapsed = time.perf_counter() - t0
    ts = pair_set(true["index_a"], true["index_b"])
    l_is_a = pred["source_dataset_l"] == "a"
    pa = np.where(l_is_a, pred["rec_id_l"], pred["rec_id_r"])
    pb = np.where(l_is_a, pred["rec_id_r"], pred["rec_id_l"])
    out = prf(pair_set(pa, pb), ts)
    out.update(time_s=elapsed)
    return out


def run_peer(name: str, data: Path) -> dict:
    py = Path(os.environ.get("MATCHING_PEER_VENV", PEER_VENV)) / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(py.parent.parent)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "recordlinkage==0.16", "splink",
                        "pandas", "pyarrow", "scikit-learn"], check=True)
    r = subprocess.run([str(py), __file__, "--peer", name, "--data", str(data)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"rc {r.returncode}"}
    return json.loads(r.stdout.strip().splitlines()[-1])


# -- ours -------------------------------------------------------------------------------------------
def ours_febrl(a, b, true, **kw):
    from tabemb import RecordMatcher, blocking_metrics, pair_metrics

    t0 = time.perf_counter()
    m = RecordMatcher(random_state=0, **kw)
    res = m.fit_predict(a, b)
    elapsed = time.perf_counter() - t0
    out = pair_metrics(res.pairs, true)
    out.update(blocking_metrics(res.candidates, true, len(a), len(b)))
    out["time_s"] = elapsed
    out["unsure_share"] = res.diagnostics["unsure_share"]
    return out


def part_febrl(data: Path, results: dict, repeats: int, peers: bool = True) -> None:
    a, b, true = load_febrl(data)
    rows = {}
    runs = [ours_febrl(a, b, true, n_neighbors=2) for _ in range(repeats)]
    rows["tabemb.match (k=2)"] = {**runs[-1], "time_s": float(np.median([r["time_s"] for r in runs])),
                                  "times": [r["time_s"] for r in runs]}
    runs = [ours_febrl(a, b, true, n_neighbors=2, one_to_one=True) for _ in range(1)]
    rows["tabemb.match (k=2, one_to_one)"] = runs[-1]
    unsup, rows["naive TF-IDF NN (threshold on truth)"] = naive_link(a, b, true)
    rows["naive TF-IDF NN (null threshold, no truth)"] = unsup["null"]
    rows["naive TF-IDF NN (Otsu threshold, no truth)"] = unsup["otsu"]
    for peer in ("recordlinkage", "splink") if peers else ():
        runs = [run_peer(peer, data) for _ in range(repeats)]
        ok = [r for r in runs if "error" not in r]
        rows[peer] = ({**ok[-1], "time_s": float(np.median([r["time_s"] for r in ok])),
                       "times": [r["time_s"] for r in ok]} if ok else runs[-1])
    results["febrl"] = rows
    print_table("FEBRL 4 linkage (unsupervised)", rows)


def part_dedup(n_entities: int, results: dict) -> None:
    from tabemb import (
        blocking_metrics,
        cluster_metrics,
        clusters_to_pairs,
        corrupt_records,
        dedupe,
        generate_people,
        pair_metrics,
    )

    df = generate_people(n_entities, random_state=0)
    rec, ent = corrupt_records(df, random_state=1)
    true = clusters_to_pairs(ent)
    t0 = time.perf_counter()
    res = dedupe(rec, n_neighbors=5, random_state=0)
    elapsed = time.perf_counter() - t0
    m = pair_metrics(clusters_to_pairs(res.clusters), true, unordered=True)
    m.update(blocking_metrics(res.candidates, true, len(rec)))
    m.update({k: v for k, v in cluster_metrics(res.clusters, ent).items() if k.startswith("bcubed")})
    m["time_s"] = elapsed
    m["unsure_share"] = res.diagnostics["unsure_share"]
    unsup, oracle = naive_dedup(rec, true)
    rows = {"tabemb.match dedupe (k=5)": m, "naive TF-IDF NN (null threshold, no truth)": unsup["null"],
            "naive TF-IDF NN (Otsu threshold, no truth)": unsup["otsu"],
            "naive TF-IDF NN (threshold on truth)": oracle}
    results["dedup"] = {"n_records": len(rec), "n_entities": n_entities, "n_true_pairs": len(true),
                        "rows": rows}
    print_table(f"Dedup: {len(rec)} records, {n_entities} entities, {len(true)} true pairs", rows)


def load_dm(data: Path, name: str):
    d = data / "entity_matching" / name
    a = pd.read_csv(d / "tableA.csv", index_col="id")
    b = pd.read_csv(d / "tableB.csv", index_col="id")
    sp = {s: pd.read_csv(d / f"{s}.csv").set_axis(["index_a", "index_b", "label"], axis=1)
          for s in ("train", "valid", "test")}
    return a, b, sp


def part_dm(data: Path, results: dict, names: list[str]) -> None:
    from tabemb import RecordMatcher

    rows = {}
    for name in names:
        a, b, sp = load_dm(data, name)
        t0 = time.perf_counter()
        m = RecordMatcher(random_state=0).fit(a, b, labels=sp["train"])
        thr = m.tune_threshold(a, b, sp["valid"])
        s = m.score_pairs(a, b, sp["test"])["score"].to_numpy()
        elapsed = time.perf_counter() - t0
        y = sp["test"]["label"].to_numpy()
        p = s >= thr
        tp = int((p & (y == 1)).sum())
        prec = tp / max(1, p.sum())
        rec = tp / max(1, (y == 1).sum())
        sv = m.score_pairs(a, b, sp["valid"])["score"].to_numpy() >= thr
        yv = sp["valid"]["label"].to_numpy()
        valid_f1 = 2 * int((sv & (yv == 1)).sum()) / max(1, int(sv.sum()) + int((yv == 1).sum()))
        rows[name] = {"precision": prec, "recall": rec, "f1": 2 * prec * rec / max(1e-12, prec + rec),
                      "valid_f1": valid_f1, "threshold": thr, "time_s": elapsed,
                      "n_features": len(m.feature_names_)}
        print(name, rows[name], flush=True)
    results["dm"] = rows
    print_table("DeepMatcher (supervised: train, threshold on valid, test F1)", rows)


def part_dm_unsup(data: Path, results: dict, names: list[str]) -> None:
    import warnings

    from tabemb import RecordMatcher, pair_metrics

    rows = {}
    for name in names:
        a, b, sp = load_dm(data, name)
        allp = pd.concat(sp.values())
        true = allp[allp["label"] == 1][["index_a", "index_b"]]
        t0 = time.perf_counter()
        m = RecordMatcher(random_state=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = m.fit_predict(a, b)
        elapsed = time.perf_counter() - t0
        row = pair_metrics(res.pairs, true)
        d = res.diagnostics
        row.update({"n_pairs": len(res.pairs), "n_candidates": len(res.candidates), "time_s": elapsed,
                    "unsure_share": d["unsure_share"], "weak": d["weak"],
                    "warned": any("unsupervised scorer" in str(w.message) for w in caught)})
        t = sp["test"]
        s = m.score_pairs(a, b, t)["score"].to_numpy() >= 0.5
        y = t["label"].to_numpy() == 1
        tp = int((s & y).sum())
        row["test_precision"] = tp / max(1, int(s.sum()))
        row["test_recall"] = tp / max(1, int(y.sum()))
        row["test_f1"] = 2 * tp / max(1, int(s.sum()) + int(y.sum()))
        rows[name] = row
        print(name, json.dumps(row, default=float), flush=True)
    results["dm_unsup"] = rows
    print_table("DeepMatcher without labels (link on the whole tables; truth: all labelled matches)",
                rows)


def part_search(n_entities: int, results: dict) -> None:
    """Blocking search alone: recall@5 against exact search and CPU time per method, on the
    default encoder's unit embeddings of generated, corrupted person records."""
    from nnstore import kneighbors
    from tabemb import TableEncoder, corrupt_records, generate_people

    rec, _ = corrupt_records(generate_people(n_entities, random_state=0), random_state=1)
    rec = rec.reset_index(drop=True)
    enc = TableEncoder(epochs=0, text_dim=16, row_text_dim=64, value_dim=0, random_state=0)
    x = enc.fit(rec).transform(rec)
    x = x.to_numpy(np.float32).copy()
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    c0 = time.process_time()
    exact = kneighbors(x, k=5, method="exact")[0]
    rows = {"exact": {"recall_at_5": 1.0, "cpu_s": time.process_time() - c0}}
    for name, kw in [("ivf n_probe=16 (default)", {"method": "ivf", "n_probe": 16}),
                     ("ivf n_probe=8", {"method": "ivf", "n_probe": 8}),
                     ("annoy 20 trees, search_k=960", {"method": "annoy", "n_trees": 20, "search_k": 960})]:
        c0 = time.process_time()
        nn = kneighbors(x, k=5, random_state=0, **kw)[0]
        cpu = time.process_time() - c0
        hit = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(nn.tolist(), exact.tolist(), strict=True)])
        rows[name] = {"recall_at_5": float(hit), "cpu_s": cpu}
        print(name, json.dumps(rows[name]), flush=True)
    results["search"] = {"n_records": len(x), "dim": x.shape[1], "rows": rows}
    print(json.dumps(results["search"], indent=1), flush=True)


def part_scale(n_entities: int, results: dict) -> None:
    """One size, in this process (peak RSS = this process's ``VmHWM``, :mod:`_peak_rss`; CPU time of
    ``dedupe`` beside its wall time, which other processes on the machine inflate)."""
    from tabemb import clusters_to_pairs, corrupt_records, dedupe, generate_people, pair_metrics

    t0 = time.perf_counter()
    df = generate_people(n_entities, random_state=0)
    rec, ent = corrupt_records(df, random_state=1)
    gen = time.perf_counter() - t0
    rss_data = peak_rss_bytes() / 1024 ** 3
    t0, c0 = time.perf_counter(), time.process_time()
    res = dedupe(rec, n_neighbors=5, random_state=0)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = peak_rss_bytes() / 1024 ** 3
    m = pair_metrics(clusters_to_pairs(res.clusters), clusters_to_pairs(ent), unordered=True)
    row = {"n_entities": n_entities, "n_records": len(rec), "generate_s": gen, "dedupe_s": elapsed,
           "dedupe_cpu_s": cpu,
           "peak_rss_gb": rss, "peak_rss_after_generate_gb": rss_data, **m,
           "n_candidates": len(res.candidates)}
    results.setdefault("scale", {})[str(len(rec))] = row
    print(json.dumps(row), flush=True)


def part_scale_sizes(sizes: list[int], out: Path) -> None:
    """Each size in its own process, so that each peak RSS is that size's alone."""
    for n in sizes:
        subprocess.run([sys.executable, __file__, "--data", "-", "--only", "scale",
                        "--scale-entities", str(n), "--out", str(out)], check=True)


def print_table(title: str, rows: dict) -> None:
    keys = ["precision", "recall", "f1", "valid_f1", "threshold", "pair_completeness", "reduction_ratio",
            "bcubed_f1", "unsure_share", "test_f1", "time_s"]
    print(f"\n### {title}\n")
    print("| method | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, r in rows.items():
        if "error" in r:
            print(f"| {name} | error: {r['error']} |")
            continue
        cells = [f"{r[k]:.4f}" if isinstance(r.get(k), float) else "" for k in keys]
        print(f"| {name} | " + " | ".join(cells) + " |")
    sys.stdout.flush()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path, help="data root (not read by --only scale)")
    ap.add_argument("--only", default="febrl,dedup")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dedup-entities", type=int, default=5000)
    ap.add_argument("--scale-entities", default="450000",
                    help="entities generated for the scale run (~2.2 records each); comma-separated: "
                         "one process per size")
    ap.add_argument("--dm", default="dblp_acm,amazon_google,abt_buy,walmart_amazon")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "matching.json")
    ap.add_argument("--no-peers", action="store_true",
                    help="FEBRL part without recordlinkage and Splink (no peer venv needed)")
    ap.add_argument("--peer", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.peer:
        fn = {"recordlinkage": peer_recordlinkage, "splink": peer_splink}[args.peer]
        print(json.dumps(fn(args.data)))
        return 0
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    parts = args.only.split(",")
    if "febrl" in parts:
        part_febrl(args.data, results, args.repeats, peers=not args.no_peers)
    if "dedup" in parts:
        part_dedup(args.dedup_entities, results)
    if "dm" in parts:
        part_dm(args.data, results, args.dm.split(","))
    if "search" in parts:
        part_search(args.dedup_entities, results)
    if "dm_unsup" in parts:
        part_dm_unsup(args.data, results, args.dm.split(","))
    sizes = [int(v) for v in str(args.scale_entities).split(",")]
    if "scale" in parts and len(sizes) == 1:
        part_scale(sizes[0], results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists():  # a child process may have written its part meanwhile
        for k, v in json.loads(args.out.read_text()).items():
            results.setdefault(k, v)
    args.out.write_text(json.dumps(results, indent=1, default=float))
    if "scale" in parts and len(sizes) > 1:
        part_scale_sizes(sizes, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
