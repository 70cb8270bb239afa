"""Issue 23's target table from several runs of ``nnstore_bench.py --curves`` (medians over runs).

Each run folder under ``--runs`` is named ``<pass>_<set><build threads>`` (for example
``q1_g200k2``: pass q1, the 200k set, builds on 2 threads) and holds the ``nnstore_search.json``
that ``nnstore_bench.py --curves --curve-methods hnswlib store-graph --single-threads 2 --out
<folder>`` writes. For each data set and pass, a query ratio is the store's best queries/s
among the knob values reaching the recall over hnswlib's best likewise, in the same run (every
run measures queries, so a pass gives two query samples per set); a build ratio is the store's
build seconds over hnswlib's in the same run. The table gives the median and the range over the
samples. ``--query-passes`` limits the query columns to passes whose name starts with that prefix
(for example the passes run on the current query code), builds use every pass.

Usage::

    python benchmarks/nnstore_search_summary.py --runs /tmp/runs --query-passes q \\
        --json benchmarks/results/nnstore_search_runs.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

SETS = [("cosine 200k x 64", "g200k", "cosine"), ("euclidean 200k x 64", "g200k", "euclidean"),
        ("cosine 1M x 64", "g1m", "cosine"), ("euclidean 1M x 64", "g1m", "euclidean"),
        ("BlogCatalog Node2Vec 9,312 x 128 (cosine)", "blog", "cosine"),
        ("Abt-Buy TableEncoder 1,673 x 4,232 (cosine)", "abt", "cosine")]
QUERY_COLS = [("qps_single", "recall", 0.95), ("qps_single", "recall", 0.99),
              ("qps_single_mt", "recall", 0.95), ("qps_single_mt", "recall", 0.99),
              ("qps_batch", "recall_batch", 0.95), ("qps_batch", "recall_batch", 0.99)]


def best_at(points: list, target: float, key: str, rkey: str) -> float:
    """The highest throughput among the knob values reaching ``target`` recall (nan if none)."""
    ok = [p[key] for p in points if p[rkey] >= target and key in p]
    return max(ok) if ok else float("nan")


def cell(values: list[float]) -> str:
    v = [x for x in values if not math.isnan(x)]
    if not v:
        return "-"
    med = statistics.median(v)
    return f"{med:.2f}x ({min(v):.2f}-{max(v):.2f})" if len(v) > 1 else f"{med:.2f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--query-passes", default="", help="prefix of the passes whose queries count")
    ap.add_argument("--json", type=Path, default=None, help="write every run's results into one file")
    args = ap.parse_args()
    runs = {}
    for d in sorted(args.runs.iterdir()):
        f = d / "nnstore_search.json"
        if f.exists() and "_" in d.name:
            runs[d.name] = json.loads(f.read_text())
    lines = ["| data | single @0.95 | single @0.99 | single, 2 threads @0.95 | @0.99 | batch, 2 threads "
             "@0.95 | @0.99 | build, 1 thread | build, 2 threads | build seconds, store vs hnswlib "
             "(medians), 1 / 2 threads | samples (queries, builds 1 / 2 threads) |", "|" + "---|" * 11]
    for name, tag, metric in SETS:
        q = [[] for _ in QUERY_COLS]
        b = {1: [], 2: []}
        secs = {1: ([], []), 2: ([], [])}
        for run, rows in runs.items():
            pas, rest = run.split("_", 1)
            if not rest.startswith(tag) or not rest[len(tag):].isdigit():
                continue
            threads = int(rest[len(tag):])
            h = next((r for r in rows if r["method"] == "hnswlib" and r["metric"] == metric), None)
            s = next((r for r in rows if r["method"] == "store-graph" and r["metric"] == metric), None)
            if h is None or s is None:
                continue
            if pas.startswith(args.query_passes):
                for i, (key, rkey, t) in enumerate(QUERY_COLS):
                    q[i].append(best_at(s["points"], t, key, rkey) / best_at(h["points"], t, key, rkey))
            b[threads].append(s["build_s"] / h["build_s"])
            secs[threads][0].append(s["build_s"])
            secs[threads][1].append(h["build_s"])
        if not any(q) and not b[1] and not b[2]:
            continue
        sec = " / ".join(f"{statistics.median(secs[t][0]):.1f} vs {statistics.median(secs[t][1]):.1f} s"
                         if secs[t][0] else "-" for t in (1, 2))
        lines.append(f"| {name} | " + " | ".join(cell(c) for c in q) + f" | {cell(b[1])} | {cell(b[2])} | "
                     f"{sec} | {len(q[0])}, {len(b[1])} / {len(b[2])} |")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
