"""Pictures every use case needs, drawn with matplotlib.

Each function draws one picture and returns what it drew on (the
:class:`~matplotlib.axes.Axes`, or the :class:`~matplotlib.figure.Figure` for
pictures with several panels) so you can style it further; none calls
``plt.show()`` (Jupyter's inline backend shows the returned figure by itself;
in a script call ``fig.savefig(path)``). matplotlib is imported on first use,
so ``import graphtab.plot`` costs nothing; install it with
``pip install graphtab[notebook]``.

=======================================  =============================================================
:func:`embedding`                        2-D projection of embeddings coloured by a label
:func:`score_distribution`               histogram of scores, split by label, with the threshold
:func:`roc_pr_curves`                    ROC and precision-recall curves of scores against labels
:func:`anomaly_report`                   an anomaly detector's scores: distribution (+ ROC, PR)
:func:`precision_recall_by_threshold`    precision, recall and F1 as the threshold moves
:func:`match_report`                     record-matching scores: distribution (+ precision/recall)
:func:`metrics_at_k`                     retrieval / recommendation metrics at k, per model
:func:`recall_vs_qps`                    a store's recall against queries per second
:func:`measure_recall_qps`               measure that trade-off on a store, one row per setting
=======================================  =============================================================
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "anomaly_report",
    "embedding",
    "match_report",
    "measure_recall_qps",
    "metrics_at_k",
    "precision_recall_by_threshold",
    "recall_vs_qps",
    "roc_pr_curves",
    "score_distribution",
]


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is in the notebook/dev extras
        raise ImportError("graphtab.plot needs matplotlib: pip install 'graphtab[notebook]'") from exc
    return plt


def _axes(ax, figsize=(6.0, 4.0)):
    if ax is not None:
        return ax
    _, ax = _plt().subplots(figsize=figsize, layout="constrained")
    return ax


def _vector(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one value per row), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has {int((~np.isfinite(arr)).sum())} values that are NaN or infinite")
    return arr


def _labels01(labels: Any, n: int, name: str = "labels") -> np.ndarray:
    y = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels)
    if y.shape != (n,):
        raise ValueError(f"{name} must have one value per score ({n}), got shape {y.shape}")
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        raise ValueError(f"{name} must be 0/1 (or bool), got values {sorted(values, key=str)[:5]}")
    if len(values) < 2:
        raise ValueError(f"{name} must contain both classes (0 and 1) to draw curves")
    return y.astype(np.int64)


# -- embeddings -----------------------------------------------------------------------------------
def _project(X: np.ndarray, method: str, random_state: Any) -> tuple[np.ndarray, str]:
    if X.shape[1] <= 2:
        return np.pad(X, ((0, 0), (0, 2 - X.shape[1]))), "dim"
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=random_state).fit_transform(X), "PC"
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (len(X) - 1) / 3.0)))
        return TSNE(n_components=2, perplexity=perplexity, init="pca",
                    random_state=random_state).fit_transform(X), "t-SNE"
    if method == "umap":
        try:
            import umap
        except ImportError as exc:
            raise ImportError("method='umap' needs the umap-learn package: pip install umap-learn") from exc
        return umap.UMAP(n_components=2, random_state=random_state).fit_transform(X), "UMAP"
    raise ValueError(f"method must be 'pca', 'tsne' or 'umap', got {method!r}")


def embedding(emb: Any, labels: Any = None, *, method: str = "pca", ax: Any = None,
              random_state: Any = 0, title: str | None = None, point_size: float | None = None,
              legend: bool = True) -> Any:
    """Scatter a 2-D projection of embeddings, one point per row, coloured by a label.

    Parameters
    ----------
    emb : DataFrame or array-like of shape (n_rows, dim)
        The embeddings (an embeddings DataFrame as every graphtab embedder
        returns, or an array).
    labels : array-like or Series of length n_rows, optional
        A class per row. A Series is aligned to ``emb``'s index when ``emb`` is
        a DataFrame. Up to 20 distinct values get a legend; numeric labels with
        more values are drawn on a colour bar.
    method : {"pca", "tsne", "umap"}, default "pca"
        The projection. PCA is fast and deterministic; t-SNE (scikit-learn)
        shows local neighbourhoods better and takes seconds on thousands of
        rows; UMAP needs ``umap-learn`` installed.
    ax : matplotlib Axes, optional
        Draw on this Axes; default a new figure.
    random_state : int, Generator or None, default 0
        Seed of the projection (t-SNE and UMAP are random).
    title : str, optional
        Default ``"Embeddings (<method>)"``.
    point_size : float, optional
        Marker area; default by the number of rows (40 up to 100 rows, 16 up
        to 1,000, 6 above).
    legend : bool, default True

    Returns
    -------
    ax : matplotlib Axes

    Raises
    ------
    ValueError
        ``emb`` is not 2-D, holds NaN, or ``labels`` has the wrong length; an
        unknown ``method``.
    ImportError
        ``method="umap"`` without umap-learn.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from graphtab import plot
    >>> digits = load_digits()
    >>> ax = plot.embedding(digits.data, digits.target, title="Digits, raw pixels")
    >>> ax.get_title()
    'Digits, raw pixels'
    """
    if isinstance(emb, pd.DataFrame):
        X = emb.to_numpy(dtype=np.float64)
        if isinstance(labels, pd.Series):
            if not labels.index.equals(emb.index):
                missing = emb.index.difference(labels.index)
                if len(missing):
                    raise ValueError(f"labels has no value for {len(missing)} rows of emb, "
                                     f"e.g. {list(missing[:3])}")
                labels = labels.reindex(emb.index)
    else:
        X = np.asarray(emb, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"emb must be 2-D with at least one row, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("emb has NaN or infinite values")
    xy, axis_name = _project(X, method, random_state)
    if point_size is None:
        point_size = 40.0 if len(X) <= 100 else 16.0 if len(X) <= 1000 else 6.0
    ax = _axes(ax, figsize=(6.0, 5.0))
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=point_size, alpha=0.8)
    else:
        lab = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels)
        if lab.shape != (len(X),):
            raise ValueError(f"labels must have one value per row of emb ({len(X)}), got shape {lab.shape}")
        classes = pd.unique(lab)
        if len(classes) <= 20 or not np.issubdtype(lab.dtype, np.number):
            cmap = _plt().get_cmap("tab10" if len(classes) <= 10 else "tab20")
            for i, c in enumerate(sorted(classes, key=str)):
                m = lab == c
                ax.scatter(xy[m, 0], xy[m, 1], s=point_size, alpha=0.8, color=cmap(i % cmap.N), label=str(c))
            if legend and len(classes) <= 20:
                ax.legend(title=getattr(labels, "name", None) or "label", fontsize="small",
                          markerscale=1.5, loc="best", ncols=1 if len(classes) <= 10 else 2)
        else:
            sc = ax.scatter(xy[:, 0], xy[:, 1], s=point_size, c=lab, cmap="viridis", alpha=0.8)
            ax.figure.colorbar(sc, ax=ax, label=getattr(labels, "name", None) or "label")
    ax.set_xlabel(f"{axis_name} 1")
    ax.set_ylabel(f"{axis_name} 2")
    default = f"Embeddings ({'PCA' if method == 'pca' else method})"
    ax.set_title(title if title is not None else default)
    return ax


# -- scores ---------------------------------------------------------------------------------------
def score_distribution(scores: Any, threshold: float | None = None, labels: Any = None, *,
                       ax: Any = None, bins: int = 50, log: bool = False, title: str | None = None,
                       xlabel: str = "score", class_names: Sequence[str] = ("normal", "anomaly")) -> Any:
    """Histogram of scores with the decision threshold, split by the true class when known.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Scores where higher means "more of the positive class" (an anomaly
        detector's ``decision_function``, a matcher's match probability).
    threshold : float, optional
        Drawn as a vertical line; points above it are flagged.
    labels : array-like of shape (n,) of 0/1, optional
        The true class; draws one histogram per class.
    ax : matplotlib Axes, optional
    bins : int, default 50
    log : bool, default False
        Log-scale counts (useful when the positive class is rare).
    title : str, optional
    xlabel : str, default "score"
    class_names : (str, str), default ("normal", "anomaly")
        Legend names of label 0 and label 1.

    Returns
    -------
    ax : matplotlib Axes

    Raises
    ------
    ValueError
        ``scores`` empty, not 1-D or not finite; ``labels`` of another length
        or not 0/1.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtab import plot
    >>> rng = np.random.default_rng(0)
    >>> scores = np.r_[rng.normal(0, 1, 500), rng.normal(4, 1, 20)]
    >>> ax = plot.score_distribution(scores, threshold=2.5, labels=np.r_[np.zeros(500), np.ones(20)])
    """
    s = _vector(scores, "scores")
    ax = _axes(ax)
    edges = np.histogram_bin_edges(s, bins=bins)
    if labels is None:
        ax.hist(s, bins=edges, color="C0", alpha=0.8, label="all")
    else:
        y = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels)
        if y.shape != s.shape:
            raise ValueError(f"labels must have one value per score ({len(s)}), got shape {y.shape}")
        if not set(np.unique(y).tolist()) <= {0, 1}:
            raise ValueError("labels must be 0/1 (or bool)")
        y = y.astype(np.int64)
        for cls, color in ((0, "C0"), (1, "C3")):
            if (y == cls).any():
                ax.hist(s[y == cls], bins=edges, color=color, alpha=0.6,
                        label=f"{class_names[cls]} ({int((y == cls).sum())})")
    if threshold is not None:
        flagged = int((s > threshold).sum())
        ax.axvline(float(threshold), color="k", linestyle="--",
                   label=f"threshold {threshold:.3g} ({flagged} above)")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.set_title(title if title is not None else "Score distribution")
    ax.legend(fontsize="small")
    return ax


def roc_pr_curves(scores: Any, labels: Any, *, fig: Any = None, title: str | None = None) -> Any:
    """ROC curve and precision-recall curve of scores against true 0/1 labels, side by side.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Higher = more likely positive.
    labels : array-like of shape (n,) of 0/1
        Both classes must occur.
    fig : matplotlib Figure, optional
        Draw into this (empty) figure; default a new one.
    title : str, optional
        Figure title.

    Returns
    -------
    fig : matplotlib Figure
        Two axes: ROC (with its AUC) and precision-recall (with average
        precision and the positive rate as the chance level).

    Raises
    ------
    ValueError
        Lengths differ, labels not 0/1 or one class only.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtab import plot
    >>> y = np.r_[np.zeros(90), np.ones(10)]
    >>> fig = plot.roc_pr_curves(y + np.random.default_rng(0).normal(0, 0.7, 100), y)
    >>> [a.get_title() for a in fig.axes]  # doctest: +ELLIPSIS
    ['ROC (AUC ...)', 'Precision-recall (AP ...)']
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    s = _vector(scores, "scores")
    y = _labels01(labels, len(s))
    if fig is None:
        fig = _plt().figure(figsize=(10.0, 4.0), layout="constrained")
    ax_roc, ax_pr = fig.subplots(1, 2)
    fpr, tpr, _ = roc_curve(y, s)
    ax_roc.plot(fpr, tpr, color="C0")
    ax_roc.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax_roc.set_xlabel("false positive rate")
    ax_roc.set_ylabel("true positive rate")
    ax_roc.set_title(f"ROC (AUC {roc_auc_score(y, s):.3f})")
    precision, recall, _ = precision_recall_curve(y, s)
    ax_pr.plot(recall, precision, color="C3", drawstyle="steps-post")
    ax_pr.axhline(y.mean(), color="grey", linestyle=":", label="chance")
    ax_pr.set_xlabel("recall")
    ax_pr.set_ylabel("precision")
    ax_pr.set_ylim(0, 1.02)
    ax_pr.set_title(f"Precision-recall (AP {average_precision_score(y, s):.3f})")
    for a in (ax_roc, ax_pr):
        a.legend(fontsize="small", loc="lower right" if a is ax_roc else "upper right")
    if title:
        fig.suptitle(title)
    return fig


def anomaly_report(scores: Any, threshold: float | None = None, labels: Any = None, *,
                   title: str | None = None, log: bool = False) -> Any:
    """An anomaly detector's scores in one figure: distribution with threshold (+ ROC and PR given labels).

    Parameters
    ----------
    scores : array-like of shape (n,)
        Anomaly scores, higher = more anomalous (a detector's ``decision_scores_``
        or ``decision_function(X)``).
    threshold : float, optional
        The detector's ``threshold_``.
    labels : array-like of shape (n,) of 0/1, optional
        1 = a known anomaly. With labels the figure gains ROC and PR panels.
    title : str, optional
        Figure title.
    log : bool, default False
        Log-scale counts.

    Returns
    -------
    fig : matplotlib Figure
        One axes without labels, three with.

    Examples
    --------
    >>> import numpy as np
    >>> from anomaly import KNNDetector
    >>> from graphtab import plot
    >>> X = np.random.default_rng(0).normal(size=(300, 4))
    >>> det = KNNDetector().fit(X)
    >>> fig = plot.anomaly_report(det.decision_scores_, det.threshold_)
    >>> len(fig.axes)
    1
    """
    plt = _plt()
    if labels is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
        score_distribution(scores, threshold, ax=ax, log=log, xlabel="anomaly score")
    else:
        fig = plt.figure(figsize=(15.0, 4.0), layout="constrained")
        left, right = fig.subfigures(1, 2, width_ratios=[1, 2])
        score_distribution(scores, threshold, labels, ax=left.subplots(), log=log, xlabel="anomaly score")
        roc_pr_curves(scores, labels, fig=right)
    if title:
        fig.suptitle(title)
    return fig


def precision_recall_by_threshold(scores: Any, labels: Any, threshold: float | None = None, *,
                                  ax: Any = None, title: str | None = None) -> Any:
    """Precision, recall and F1 of "score > t" as the threshold t moves.

    Parameters
    ----------
    scores : array-like of shape (n,)
        E.g. the ``score`` column of a matcher's candidate pairs.
    labels : array-like of shape (n,) of 0/1
        Whether each scored item truly is positive (a true match).
    threshold : float, optional
        The threshold in use, drawn as a vertical line.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Recall here is over the scored items: positives that never became a
    candidate are not counted, so it is an upper bound of the end-to-end recall.

    Examples
    --------
    >>> import numpy as np
    >>> from graphtab import plot
    >>> y = np.r_[np.zeros(80), np.ones(20)]
    >>> ax = plot.precision_recall_by_threshold(np.clip(y * 0.6 + np.random.default_rng(0).random(100) * 0.5,
    ...                                                 0, 1), y, threshold=0.5)
    """
    from sklearn.metrics import precision_recall_curve

    s = _vector(scores, "scores")
    y = _labels01(labels, len(s))
    precision, recall, thresholds = precision_recall_curve(y, s)
    precision, recall = precision[:-1], recall[:-1]
    f1 = np.divide(2 * precision * recall, precision + recall,
                   out=np.zeros_like(precision), where=(precision + recall) > 0)
    ax = _axes(ax)
    ax.plot(thresholds, precision, label="precision", color="C0")
    ax.plot(thresholds, recall, label="recall", color="C3")
    ax.plot(thresholds, f1, label="F1", color="C2", linestyle="--")
    best = int(np.argmax(f1))
    ax.plot([thresholds[best]], [f1[best]], "o", color="C2",
            label=f"best F1 {f1[best]:.3f} at {thresholds[best]:.3g}")
    if threshold is not None:
        ax.axvline(float(threshold), color="k", linestyle=":", label=f"threshold {threshold:.3g}")
    ax.set_xlabel("threshold")
    ax.set_ylabel("precision / recall / F1")
    ax.set_ylim(0, 1.02)
    ax.set_title(title if title is not None else "Precision and recall by threshold")
    ax.legend(fontsize="small", loc="lower left")
    return ax


def match_report(scores: Any, threshold: float | None = None, labels: Any = None, *,
                 title: str | None = None) -> Any:
    """Record-matching scores in one figure: distribution with the threshold (+ precision/recall by it).

    Parameters
    ----------
    scores : array-like of shape (n_pairs,)
        Match probabilities of the candidate pairs (``MatchResult.candidates["score"]``).
    threshold : float, optional
        The matcher's threshold (pairs scoring above it are matches).
    labels : array-like of shape (n_pairs,) of 0/1, optional
        Whether each candidate pair is a true match; adds the
        precision/recall-by-threshold panel.
    title : str, optional

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import numpy as np
    >>> from graphtab import plot
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(400) < 0.2
    >>> fig = plot.match_report(np.clip(y * 0.7 + rng.random(400) * 0.4, 0, 1), 0.5, y)
    >>> len(fig.axes)
    2
    """
    plt = _plt()
    names = ("non-match", "match")
    if labels is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
        score_distribution(scores, threshold, ax=ax, log=True, xlabel="match score", class_names=names,
                           title="Candidate pair scores")
    else:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11.0, 4.0), layout="constrained")
        score_distribution(scores, threshold, labels, ax=a1, log=True, xlabel="match score",
                           class_names=names, title="Candidate pair scores")
        precision_recall_by_threshold(scores, labels, threshold, ax=a2)
    if title:
        fig.suptitle(title)
    return fig


# -- retrieval ------------------------------------------------------------------------------------
_AT_K = re.compile(r"^(?P<metric>.+)@(?P<k>\d+)$")


def metrics_at_k(results: Any, *, metrics: Iterable[str] | None = None, ax: Any = None,
                 title: str | None = None) -> Any:
    """Retrieval or recommendation metrics at k, compared across models.

    Parameters
    ----------
    results : Series or DataFrame
        Columns (or a Series' index) named ``<metric>@<k>`` such as
        ``recall@10``, as :func:`nnstore.metrics.evaluate`,
        :func:`graphemb.evaluate_recommender` and
        :func:`graphemb.compare_recommenders` return; a DataFrame has one row
        per model (its index names the model). Other columns (``fit_s``) are
        ignored.
    metrics : iterable of str, optional
        Metric names to draw (``["recall", "ndcg"]``); default all found.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes
        Grouped bars (metric on x, one bar per model) when every metric has one
        k; lines over k (one per model and metric) when the columns hold
        several k.

    Raises
    ------
    ValueError
        No ``<metric>@<k>`` column, or a requested metric is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from graphtab import plot
    >>> table = pd.DataFrame({"recall@10": [0.31, 0.22], "ndcg@10": [0.35, 0.27]},
    ...                      index=["graph", "popularity"])
    >>> ax = plot.metrics_at_k(table)
    """
    frame = results.to_frame().T if isinstance(results, pd.Series) else pd.DataFrame(results)
    if isinstance(results, pd.Series) and results.name is None:
        frame.index = ["model"]
    parsed = {c: _AT_K.match(str(c)) for c in frame.columns}
    cols = {c: (m["metric"], int(m["k"])) for c, m in parsed.items() if m}
    if not cols:
        raise ValueError(f"results has no '<metric>@<k>' column; columns are {list(frame.columns)}")
    wanted = list(dict.fromkeys(m for m, _ in cols.values()))
    if metrics is not None:
        metrics = list(metrics)
        unknown = [m for m in metrics if m not in wanted]
        if unknown:
            raise ValueError(f"metrics {unknown} not in results; found {wanted}")
        wanted = metrics
    ks = sorted({k for m, k in cols.values() if m in wanted})
    ax = _axes(ax, figsize=(7.0, 4.0))
    models = [str(i) for i in frame.index]
    if len(ks) == 1:
        x = np.arange(len(wanted))
        width = 0.8 / max(1, len(models))
        for i, (label, row) in enumerate(zip(models, frame.itertuples(index=False), strict=True)):
            values = dict(zip(frame.columns, row, strict=True))
            heights = [float(values[f"{m}@{ks[0]}"]) for m in wanted]
            ax.bar(x + (i - (len(models) - 1) / 2) * width, heights, width, label=label)
        ax.set_xticks(x, wanted)
        ax.set_xlabel(f"metric at k = {ks[0]}")
    else:
        for (label, (_, row)), color in zip(zip(models, frame.iterrows(), strict=True),
                                             [f"C{i % 10}" for i in range(len(models))], strict=True):
            for j, m in enumerate(wanted):
                pts = sorted((k, float(row[c])) for c, (mm, k) in cols.items() if mm == m)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=color,
                        linestyle=["-", "--", ":", "-."][j % 4], label=f"{label}: {m}")
        ax.set_xticks(ks)
        ax.set_xlabel("k")
    ax.set_ylabel("score")
    ax.set_title(title if title is not None else "Metrics at k")
    ax.legend(fontsize="small")
    return ax


def recall_vs_qps(tradeoff: Any, *, recall: str = "recall", qps: str = "qps", by: str | None = None,
                  annotate: str | None = None, ax: Any = None, title: str | None = None) -> Any:
    """A neighbour search's recall against its speed: the curve you pick a setting from.

    Parameters
    ----------
    tradeoff : DataFrame
        One row per setting with a recall column and a queries-per-second
        column (as :func:`measure_recall_qps` returns, or a benchmark's table).
    recall, qps : str, default "recall", "qps"
        Column names.
    by : str, optional
        A column naming the method or library; one line per value.
    annotate : str, optional
        A column whose value is written next to each point (e.g. ``"search_k"``).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes
        Recall on x, queries per second on a log-scaled y; up and to the right is better.

    Raises
    ------
    ValueError
        A named column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from graphtab import plot
    >>> t = pd.DataFrame({"search_k": [100, 1000, 10000], "recall": [0.6, 0.9, 0.99],
    ...                   "qps": [20000.0, 5000.0, 800.0]})
    >>> ax = plot.recall_vs_qps(t, annotate="search_k")
    """
    frame = pd.DataFrame(tradeoff)
    needed = [c for c in (recall, qps, by, annotate) if c is not None]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"tradeoff has no column {missing}; columns are {list(frame.columns)}")
    ax = _axes(ax)
    groups = frame.groupby(by, sort=False) if by is not None else [("store", frame)]
    for name, g in groups:
        g = g.sort_values(recall)
        ax.plot(g[recall], g[qps], marker="o", label=str(name))
        if annotate is not None:
            for text, x, y in zip(g[annotate], g[recall], g[qps], strict=True):
                ax.annotate(str(text), (x, y), textcoords="offset points", xytext=(4, 4), fontsize="x-small")
    ax.set_yscale("log")
    ax.set_xlabel(f"{recall} (vs exact search)")
    ax.set_ylabel("queries per second")
    ax.set_title(title if title is not None else "Recall vs speed")
    if by is not None:
        ax.legend(fontsize="small")
    return ax


def measure_recall_qps(store: Any, queries: Any, *, k: int = 10,
                       search_k: Iterable[int | None] = (None,), repeat: int = 1) -> pd.DataFrame:
    """Measure a :class:`nnstore.NeighborStore`'s recall@k and queries per second per ``search_k``.

    Parameters
    ----------
    store : NeighborStore
    queries : array-like of shape (n_queries, dim) or DataFrame
        Query vectors (not necessarily stored).
    k : int, default 10
    search_k : iterable of int or None, default (None,)
        The settings to try (``None`` = the store's default).
    repeat : int, default 1
        Time each setting this many times and keep the fastest.

    Returns
    -------
    DataFrame
        Columns ``search_k``, ``recall`` (mean recall@k against exact search
        over the same store, :meth:`nnstore.NeighborStore.recall_at_k`),
        ``qps`` (queries per second of ``query_arrays``).

    Examples
    --------
    >>> import numpy as np
    >>> from nnstore import NeighborStore
    >>> from graphtab import plot
    >>> X = np.random.default_rng(0).normal(size=(2000, 16)).astype("float32")
    >>> store = NeighborStore(16).add(np.arange(2000), X)
    >>> table = plot.measure_recall_qps(store, X[:100], search_k=[50, 500])
    >>> list(table.columns)
    ['search_k', 'recall', 'qps']
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int | np.integer) or repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    rows = []
    n = len(queries)
    for sk in search_k:
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            store.query_arrays(queries, k, search_k=sk)
            best = min(best, time.perf_counter() - t0)
        rows.append({"search_k": sk, "recall": store.recall_at_k(queries, k, search_k=sk),
                     "qps": n / best if best > 0 else np.inf})
    return pd.DataFrame(rows, columns=["search_k", "recall", "qps"])
