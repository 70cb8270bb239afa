"""How ``Recommender()``'s iALS defaults were chosen: candidates on several validation carves of train.

MovieLens-100K (ratings >= 4), the train splits of ``recommend_bench.py`` (test is never read).
Validation carves of train:

- ``random``: four 80/20 per-user splits of train (seeds 1, 2, 5, 6; seed 1 is the benchmark's own);
- ``last``: three leave-last carves (each user's last train item; then, with it removed, the one
  before; then the one before that; the first is the benchmark's own), ``time_col`` given to fit.

Each candidate and the benchmark's tuned EASE / ALS (the settings ``recommend_bench.py`` chose on
the first carve) are fitted on every carve; the table gives mean NDCG@10 and recall@10. The rule:
the default maximises the smaller of the two protocols' ratios (mean NDCG@10 / best baseline's).

Usage::

    python benchmarks/recommend_default_carves.py --data /tmp/ml100k [--out page.md]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import recommend_bench as rb  # noqa: E402

from graphemb import evaluate_recommender  # noqa: E402

BASELINES = {"random": {"ease": {"l2": 300.0}, "als": {"dim": 32, "l2": 50.0, "alpha": 10.0, "epochs": 30}},
             "last": {"ease": {"l2": 100.0}, "als": {"dim": 64, "l2": 1.0, "alpha": 3.0, "epochs": 30}}}
CANDIDATES = [
    {"frequency_exponent": 1.0, "l2": 0.03},  # the previous default
    {"frequency_exponent": 0.5, "l2": 0.4},  # the new default
    {"frequency_exponent": 0.5, "l2": 0.375},
    {"frequency_exponent": 0.5, "l2": 0.425},
    {"frequency_exponent": 0.375, "l2": 0.8},
    {"frequency_exponent": 0.25, "l2": 1.5},
]


def carves(pos, protocol: str) -> list:
    train, _ = rb.split(pos, protocol, 0)
    if protocol == "random":
        return [rb.train_test_split_interactions(train, random_state=s) for s in (1, 2, 5, 6)]
    out, rest = [], train
    for _ in range(3):
        f, v = rb.split(rest, "last", 1)
        out.append((f, v))
        rest = f
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/ml100k"))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    pos = rb.load(args.data)
    pos = pos[pos["rating"] >= 4]
    res = {}
    for protocol in ("random", "last"):
        cs = carves(pos, protocol)
        tc = "timestamp" if protocol == "last" else None
        models = [(n, n, p) for n, p in BASELINES[protocol].items()]
        models += [(json.dumps(c), "default", c) for c in CANDIDATES]
        for label, name, params in models:
            s = [evaluate_recommender(rb.make(name, params, 0).fit(f, time_col=tc), v, k=10) for f, v in cs]
            res[(protocol, label)] = (np.mean([x["ndcg@10"] for x in s]),
                                      np.mean([x["recall@10"] for x in s]))
            print(protocol, label, [round(float(x["ndcg@10"]), 4) for x in s], flush=True)
    best = {p: max(res[(p, "ease")][0], res[(p, "als")][0]) for p in ("random", "last")}
    lines = ["| model | random NDCG@10 | random recall@10 | last NDCG@10 | last recall@10 | min ratio |",
             "|---|---|---|---|---|---|"]
    for label in ["ease", "als", *[json.dumps(c) for c in CANDIDATES]]:
        r, la = res[("random", label)], res[("last", label)]
        ratio = min(r[0] / best["random"], la[0] / best["last"])
        lines.append(f"| `{label}` | {r[0]:.4f} | {r[1]:.4f} | {la[0]:.4f} | {la[1]:.4f} | {ratio:.4f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
