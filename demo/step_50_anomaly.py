"""Anomaly detection: kNN and LOF scores on data with planted outliers, explained"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from anomaly import EnsembleDetector, KNNDetector, LOFDetector, load_detector


def _data(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """3 clusters of 'transactions' (amount, duration_min, items, distance_km) + 30 planted outliers,
    each pushed far out on one or two features."""
    rng = np.random.default_rng(seed)
    centres = np.array([[50.0, 12.0, 3.0, 5.0], [300.0, 20.0, 8.0, 20.0], [20.0, 8.0, 1.0, 2.0]])
    spread = np.array([10.0, 2.0, 1.0, 2.0])
    c = rng.integers(0, 3, size=2000)
    X = centres[c] + rng.normal(size=(2000, 4)) * spread
    out = centres[rng.integers(0, 3, size=30)] + rng.normal(size=(30, 4)) * spread
    for i in range(30):
        feats = rng.choice(4, size=rng.integers(1, 3), replace=False)
        out[i, feats] += rng.choice([-1, 1], size=len(feats)) * rng.uniform(6, 10, len(feats)) * spread[feats]
    X = np.vstack([X, out])
    y = np.r_[np.zeros(2000, int), np.ones(30, int)]
    perm = rng.permutation(len(X))
    keys = [f"tx-{i:05d}" for i in range(len(X))]
    df = pd.DataFrame(X[perm], columns=["amount", "duration_min", "items", "distance_km"],
                      index=pd.Index(keys, name="tx_id"))
    return df, y[perm]


def run(workdir: Path) -> None:
    df, y = _data()
    print(f"{len(df)} rows x {df.shape[1]} features, {y.sum()} planted outliers")
    dets = {
        "KNNDetector(k=5, largest)": KNNDetector(5, contamination=0.015),
        "LOFDetector(k=20)": LOFDetector(20, contamination=0.015),
        "EnsembleDetector(KNN + LOF)": EnsembleDetector([KNNDetector(5), LOFDetector(20)],
                                                        contamination=0.015),
    }
    for name, det in dets.items():
        det.fit(df)
        flagged = det.labels_.astype(bool)
        print(f"{name:30s} ROC-AUC {roc_auc_score(y, det.decision_scores_):.3f}   "
              f"flagged {flagged.sum()}, of which planted {y[flagged].sum()}")
    knn = dets["KNNDetector(k=5, largest)"]
    knn.save(workdir / "knn_model")
    back = load_detector(workdir / "knn_model")
    same = np.array_equal(back.decision_function(df), knn.decision_function(df))
    print(f"saved to {workdir / 'knn_model'}; reloaded scores identical: {same}")
    top = knn.score_frame(df).sort_values("score", ascending=False).head(3)
    print("\ntop 3 anomalies:\n" + top.to_string(float_format=lambda v: f"{v:.3f}"))
    for key in top.index:
        ex = knn.explain(key)
        f = ex.index[0]
        print(f"\n{key} (planted: {bool(y[df.index.get_loc(key)])}): most deviating feature {f!r} "
              f"= {ex.loc[f, 'value']:.1f} vs {ex.loc[f, 'neighbor_mean']:.1f} +- "
              f"{ex.loc[f, 'neighbor_std']:.1f} among normal neighbours {ex.attrs['neighbors'][:3]}...")
        print(ex.round(2).to_string())
