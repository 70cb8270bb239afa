"""Model selection for the supervised DeepMatcher runs, on train and valid only (test is never read).

For each set and each configuration: ``RecordMatcher(...).fit(A, B, labels=train)``, then the
threshold that maximises F1 on valid (``tune_threshold``), and the F1 on valid at that threshold.
The configuration with the best mean valid F1 over the four sets is the default that
``matching_bench.py --only dm`` then measures once on test (run of 2026-11-29: the
context features on, trees 500 x 15 leaves; the 300 x 31 setting was the default before).
(The valid F1 at the valid-chosen threshold is optimistic for every configuration alike; it
ranks them, it is not an estimate.)

Configurations compared (``--configs``, comma-separated names from ``CONFIGS``): the record-context
features on / off, and a few tree settings around the default.

Usage::

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/matching_dm_select.py \\
        --data /work/shared/data [--sets dblp_acm,amazon_google] \\
        [--configs trees_300_leaves31,trees_500_leaves15]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

# tree settings spelled out in full, so that a change of the defaults leaves every row as it was
_T300 = {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 31}
CONFIGS = {
    "trees_300_leaves31": {"tree_params": _T300},
    "trees_300_leaves31_no_context": {"tree_params": _T300, "context_features": False},
    "trees_200_lr0.1": {"tree_params": {**_T300, "max_iter": 200, "learning_rate": 0.1}},
    "trees_500_leaves15": {"tree_params": {**_T300, "max_iter": 500, "max_leaf_nodes": 15}},
    "trees_leaves63": {"tree_params": {**_T300, "max_leaf_nodes": 63}},
    "trees_l2_1": {"tree_params": {**_T300, "l2_regularization": 1.0}},
    "trees_1000_lr0.02": {"tree_params": {**_T300, "max_iter": 1000, "learning_rate": 0.02}},
}


def load_train_valid(data: Path, name: str):
    d = data / "entity_matching" / name
    a = pd.read_csv(d / "tableA.csv", index_col="id")
    b = pd.read_csv(d / "tableB.csv", index_col="id")
    sp = {s: pd.read_csv(d / f"{s}.csv").set_axis(["index_a", "index_b", "label"], axis=1)
          for s in ("train", "valid")}
    return a, b, sp


def valid_f1(a, b, sp, params: dict) -> dict:
    from tabemb import RecordMatcher

    t0 = time.perf_counter()
    m = RecordMatcher(random_state=0, **params).fit(a, b, labels=sp["train"])
    thr = m.tune_threshold(a, b, sp["valid"])
    s = m.score_pairs(a, b, sp["valid"])["score"].to_numpy()
    y = sp["valid"]["label"].to_numpy()
    p = s >= thr
    tp = int((p & (y == 1)).sum())
    return {"valid_f1": 2 * tp / max(1, int(p.sum()) + int((y == 1).sum())), "threshold": thr,
            "time_s": time.perf_counter() - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--sets", default="dblp_acm,amazon_google,abt_buy,walmart_amazon")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "matching_dm_select.json")
    args = ap.parse_args(argv)
    configs = args.configs.split(",")
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        raise SystemExit(f"--configs: unknown {unknown}; expected names among {list(CONFIGS)}")
    res: dict = {}
    for name in args.sets.split(","):
        a, b, sp = load_train_valid(args.data, name)
        for c in configs:
            r = valid_f1(a, b, sp, CONFIGS[c])
            res.setdefault(c, {})[name] = r
            print(name, c, json.dumps(r), flush=True)
    print("\n| configuration | " + " | ".join(args.sets.split(",")) + " | mean |")
    print("|---" * (len(args.sets.split(",")) + 2) + "|")
    for c, rows in res.items():
        f = [rows[n]["valid_f1"] for n in args.sets.split(",")]
        print(f"| {c} | " + " | ".join(f"{v:.4f}" for v in f) + f" | {np.mean(f):.4f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
