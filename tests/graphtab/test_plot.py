"""graphtab.plot: every helper renders a non-blank PNG with its title and axis labels."""

import doctest
import io

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")  # tests render off-screen; the notebooks use the inline backend

import matplotlib.pyplot as plt

from graphtab import plot
from nnstore import NeighborStore


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(fig) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    buf.seek(0)
    return plt.imread(buf, format="png")


def _assert_drawn(fig):
    img = _png(fig)[..., :3]
    assert img.shape[0] > 100 and img.shape[1] > 100
    # not blank: a real picture has many distinct colours and a real share of non-white pixels
    non_white = (img < 0.95).any(axis=-1).mean()
    assert non_white > 0.02, non_white
    assert len(np.unique(img.reshape(-1, 3).round(2), axis=0)) > 20


def _labels_of(ax):
    return ax.get_title(), ax.get_xlabel(), ax.get_ylabel()


@pytest.fixture
def two_blobs():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (60, 8)), rng.normal(5, 1, (60, 8))]
    y = np.r_[np.zeros(60, int), np.ones(60, int)]
    return pd.DataFrame(X, index=[f"n{i}" for i in range(120)],
                        columns=[f"emb_{i}" for i in range(8)]), y


def test_embedding_pca_colours_each_class_and_separates_blobs(two_blobs):
    emb, y = two_blobs
    ax = plot.embedding(emb, y)
    assert _labels_of(ax) == ("Embeddings (PCA)", "PC 1", "PC 2")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1"]
    # each class is one scatter collection; PCA puts the blobs apart on PC 1
    xs = [c.get_offsets()[:, 0] for c in ax.collections]
    assert len(xs) == 2 and abs(xs[0].mean() - xs[1].mean()) > 5
    _assert_drawn(ax.figure)


def test_embedding_aligns_series_labels_to_the_index(two_blobs):
    emb, y = two_blobs
    labels = pd.Series(y, index=emb.index, name="blob").iloc[::-1]  # reversed order
    ax = plot.embedding(emb, labels)
    assert ax.get_legend().get_title().get_text() == "blob"
    xs = [c.get_offsets()[:, 0] for c in ax.collections]
    assert abs(xs[0].mean() - xs[1].mean()) > 5  # still the right points per class
    with pytest.raises(ValueError, match="labels has no value for 1 rows"):
        plot.embedding(emb, labels.iloc[1:])


def test_embedding_tsne_and_continuous_labels(two_blobs):
    emb = two_blobs[0].iloc[::4]  # 30 rows: t-SNE's cost grows with the rows
    ax = plot.embedding(emb, np.linspace(0, 1, len(emb)), method="tsne", title="t")
    assert _labels_of(ax) == ("t", "t-SNE 1", "t-SNE 2")
    assert len(ax.figure.axes) == 2  # a colour bar for 30 distinct numeric values
    _assert_drawn(ax.figure)


def test_embedding_bad_input(two_blobs):
    emb, y = two_blobs
    with pytest.raises(ValueError, match="method must be 'pca', 'tsne' or 'umap'"):
        plot.embedding(emb, y, method="mds")
    with pytest.raises(ValueError, match="one value per row of emb \\(120\\)"):
        plot.embedding(emb, y[:10])
    with pytest.raises(ValueError, match="emb must be 2-D"):
        plot.embedding(np.zeros(5))
    bad = emb.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        plot.embedding(bad)


def test_embedding_umap_names_the_package_when_missing(two_blobs):
    # umap-learn is optional: either it draws or the error names the package
    emb, y = two_blobs
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="umap-learn"):
            plot.embedding(emb, y, method="umap")
    else:  # pragma: no cover - only where umap-learn is installed
        assert plot.embedding(emb, y, method="umap").get_xlabel() == "UMAP 1"


def test_embedding_draws_on_a_given_axes(two_blobs):
    emb, y = two_blobs
    _, (a, b) = plt.subplots(1, 2)
    assert plot.embedding(emb, y, ax=b) is b
    assert not a.collections and b.collections


@pytest.fixture
def scores():
    rng = np.random.default_rng(1)
    s = np.r_[rng.normal(0, 1, 400), rng.normal(3.5, 1, 40)]
    y = np.r_[np.zeros(400, int), np.ones(40, int)]
    return s, y


def test_score_distribution_threshold_and_classes(scores):
    s, y = scores
    ax = plot.score_distribution(s, threshold=2.0, labels=y)
    assert _labels_of(ax) == ("Score distribution", "score", "count")
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == "normal (400)" and texts[1] == "anomaly (40)"
    assert texts[2] == f"threshold 2 ({int((s > 2.0).sum())} above)"
    _assert_drawn(ax.figure)
    with pytest.raises(ValueError, match="one value per score"):
        plot.score_distribution(s, labels=y[:3])
    with pytest.raises(ValueError, match="NaN or infinite"):
        plot.score_distribution(np.r_[s, np.nan])


def test_roc_pr_curves_report_auc(scores):
    from sklearn.metrics import roc_auc_score

    s, y = scores
    fig = plot.roc_pr_curves(s, y)
    roc, pr = fig.axes
    assert roc.get_title() == f"ROC (AUC {roc_auc_score(y, s):.3f})"
    assert (roc.get_xlabel(), roc.get_ylabel()) == ("false positive rate", "true positive rate")
    assert (pr.get_xlabel(), pr.get_ylabel()) == ("recall", "precision")
    assert pr.get_title().startswith("Precision-recall (AP 0.")
    _assert_drawn(fig)
    with pytest.raises(ValueError, match="both classes"):
        plot.roc_pr_curves(s, np.zeros(len(s)))
    with pytest.raises(ValueError, match="must be 0/1"):
        plot.roc_pr_curves(s, np.full(len(s), 2))


def test_anomaly_report_one_or_three_panels(scores):
    from anomaly import KNNDetector

    s, y = scores
    X = np.c_[s, np.random.default_rng(2).normal(0, 0.1, len(s))]
    det = KNNDetector().fit(X)
    fig = plot.anomaly_report(det.decision_scores_, det.threshold_)
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "anomaly score"
    _assert_drawn(fig)
    fig = plot.anomaly_report(det.decision_scores_, det.threshold_, y, title="kNN")
    assert len(fig.axes) == 3 and fig.get_suptitle() == "kNN"
    assert fig.axes[1].get_title().startswith("ROC (AUC 0.9")  # the outliers really score higher
    _assert_drawn(fig)


def test_precision_recall_by_threshold_marks_best_f1(scores):
    s, y = scores
    ax = plot.precision_recall_by_threshold(s, y, threshold=2.0)
    assert _labels_of(ax) == ("Precision and recall by threshold", "threshold", "precision / recall / F1")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["precision", "recall", "F1"] and labels[3].startswith("best F1 0.")
    recall_line = ax.get_lines()[1]
    assert np.all(np.diff(recall_line.get_ydata()) <= 0)  # recall falls as the threshold rises
    _assert_drawn(ax.figure)


def test_match_report(scores):
    s, y = scores
    p = 1 / (1 + np.exp(-s))
    fig = plot.match_report(p, 0.8, y)
    dist, prt = fig.axes
    assert dist.get_xlabel() == "match score" and dist.get_yscale() == "log"
    assert [t.get_text() for t in dist.get_legend().get_texts()][:2] == ["non-match (400)", "match (40)"]
    assert prt.get_xlabel() == "threshold"
    _assert_drawn(fig)
    assert len(plot.match_report(p).axes) == 1


def test_metrics_at_k_bars_and_lines():
    table = pd.DataFrame({"precision@10": [0.2, 0.1], "recall@10": [0.3, 0.15], "fit_s": [1.0, 0.1]},
                         index=["graph", "popularity"])
    ax = plot.metrics_at_k(table)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["precision", "recall"]
    assert ax.get_xlabel() == "metric at k = 10" and ax.get_title() == "Metrics at k"
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert heights == [0.1, 0.15, 0.2, 0.3]
    _assert_drawn(ax.figure)

    several = pd.DataFrame({"recall@1": [0.1], "recall@5": [0.3], "recall@10": [0.4]}, index=["m"])
    ax = plot.metrics_at_k(several)
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [1, 5, 10] and list(line.get_ydata()) == [0.1, 0.3, 0.4]
    assert ax.get_xlabel() == "k"
    ax = plot.metrics_at_k(pd.Series({"ndcg@10": 0.5, "mrr@10": 0.4}), metrics=["ndcg"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ndcg"]
    with pytest.raises(ValueError, match="no '<metric>@<k>' column"):
        plot.metrics_at_k(pd.DataFrame({"fit_s": [1.0]}))
    with pytest.raises(ValueError, match=r"metrics \['map'\] not in results"):
        plot.metrics_at_k(table, metrics=["map"])


def test_measure_and_plot_recall_vs_qps():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 16)).astype(np.float32)
    store = NeighborStore(16, n_trees=5, random_state=0).add(np.arange(1500), X)
    table = plot.measure_recall_qps(store, X[:50] + 0.01, k=10, search_k=[10, 20000])
    assert list(table["search_k"]) == [10, 20000]
    assert table["recall"].iloc[0] < table["recall"].iloc[1] and table["recall"].iloc[1] > 0.95
    assert (table["qps"] > 0).all()
    ax = plot.recall_vs_qps(table, annotate="search_k")
    assert _labels_of(ax) == ("Recall vs speed", "recall (vs exact search)", "queries per second")
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.texts] == ["10", "20000"]
    _assert_drawn(ax.figure)
    both = pd.concat([table.assign(method="annoy"), table.assign(method="other", qps=table["qps"] * 2)])
    ax = plot.recall_vs_qps(both, by="method")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["annoy", "other"]
    with pytest.raises(ValueError, match=r"no column \['speed'\]"):
        plot.recall_vs_qps(table, qps="speed")
    with pytest.raises(ValueError, match="repeat must be an int >= 1"):
        plot.measure_recall_qps(store, X[:5], repeat=0)


def test_docstring_examples_run():
    result = doctest.testmod(plot, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 9 and result.failed == 0
