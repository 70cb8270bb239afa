"""Record linkage and deduplication: :class:`RecordMatcher`, :func:`link`, :func:`dedupe`.

The pipeline, one module per stage:

1. **Embed** the compared columns of both tables with one
   :class:`~tabemb.TableEncoder` fitted on both (default: no pre-training,
   ``epochs=0``: its initial embedding is a random projection of each
   value's character n-gram TF-IDF vector, which already puts typos next
   to the original; small blocks ``text_dim=16``, ``row_text_dim=64``).
2. **Candidates** (blocking, :mod:`._candidates`): each record's
   ``n_neighbors`` nearest neighbours by cosine over the other table (both
   directions for linkage; the table itself for deduplication), exact on
   small tables, approximate on large ones, plus every pair that agrees
   exactly on a ``blocking_keys`` column.
3. **Features** per candidate pair (:mod:`._features`): the embeddings'
   cosine similarity plus one comparator per compared column
   (:mod:`._comparators`), chosen from :func:`tabemb.infer_schema`'s kinds
   (``comparators=`` overrides per column). In supervised mode a text column
   gets six comparators, the whole record's text four more, and by default
   (``context_features=True``) the record-context features of
   :mod:`._context` (how a pair ranks among each record's partners in the
   whole other table).
4. **Scoring** (:mod:`._fit`, :mod:`._scorers`): without labels,
   Fellegi-Sunter over discretised comparison levels fitted by EM on the
   candidate pairs (the embedding similarity is cut at the 50/80/90/95/98th
   percentiles of the candidates' similarities); with labelled pairs
   (``fit(..., labels=...)``), gradient-boosted trees on the raw features.
   The score is a match probability. Without labels the score distribution is
   checked (:mod:`._diagnostics`): when the model cannot separate the pairs,
   a warning points to ``labels=``.
5. **Threshold and clusters** (:mod:`._assemble`, :mod:`._clusters`):
   ``score >= threshold``; deduplication clusters resist chaining
   (components, then average linkage inside any component that is not a
   clique); linkage clusters are the connected components of the kept
   pairs, ``one_to_one=True`` first keeps only mutual best pairs.

Outputs are DataFrames keyed by the input indexes (:class:`~tabemb.MatchResult`).
"""

from __future__ import annotations

import logging
import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from tqdm.auto import tqdm

from nnstore import (
    N_JOBS,
    RANDOM_STATE,
    VERBOSE,
    HasMethods,
    Interval,
    StrOptions,
    check_is_fitted,
    check_random_state,
    seed_from,
    validate_params,
)

from .._schema import infer_schema
from .._table_encoder import TableEncoder
from ._assemble import assemble
from ._candidates import candidate_pairs
from ._diagnostics import score_diagnostics
from ._features import PairFeatures, choose_comparators
from ._fit import fit_fellegi_sunter, fit_trees, random_pairs, tree_matrix
from ._inputs import check_frame, fitted_tables, parse_labels, resolve_columns
from ._persist import load_matcher, save_matcher
from ._result import MatchResult

__all__ = ["RecordMatcher", "dedupe", "link"]

logger = logging.getLogger(__name__)

_DEFAULT_ENCODER = {"epochs": 0, "text_dim": 16, "row_text_dim": 64, "value_dim": 0}
_SEED_MAX = 2**31 - 1
_POSITIVE = Interval(numbers.Integral, 1, None, closed="left")


class RecordMatcher(BaseEstimator):
    """Link two tables or deduplicate one: embedding blocking, comparators, Fellegi-Sunter / trees.

    See :mod:`tabemb._matching._matcher` for the pipeline.

    Parameters
    ----------
    columns : str or list of str, optional
        Columns of table A to compare (default: every column of A that B has,
        directly or through ``mapping``; for deduplication every column).
    mapping : dict, optional
        ``{column_of_a: column_of_b}`` when the schemas differ.
    comparators : dict, optional
        ``{column_of_a: kind or [kinds]}`` with kinds ``"jaro_winkler", "token",
        "tfidf", "contain", "code", "number", "numeric", "date", "exact"``; ``None`` or
        ``[]`` leaves a column out of the comparison (it still feeds the embedding).
    blocking_keys : str or list of str, optional
        Columns (of A) whose exact agreement adds candidate pairs, next to the
        nearest neighbours.
    n_neighbors : int, default 10
        Neighbours per record taken as candidates (each direction for linkage).
    max_block_size : int, default 100
        Blocking-key blocks with more records than this (per table) are skipped.
    encoder : TableEncoder, optional
        An encoder to use. A fitted one is used as it is; an unfitted one is
        cloned and the clone fitted on both tables (the argument itself is
        left untouched). Default: ``TableEncoder(epochs=0, text_dim=16, row_text_dim=64, value_dim=0)``.
    encoder_params : dict, optional
        Extra parameters of the default encoder.
    use_embedding_feature : bool, default True
        Use the embedding similarity as a scoring feature (it is always used
        for blocking).
    threshold : float, default 0.5
        Pairs with a match probability ``>= threshold`` are matches; in (0, 1).
    one_to_one : bool, default False
        Linkage only: keep mutual best pairs so that each record matches at
        most one record of the other table.
    approximate : {"ivf", "annoy"}, default "ivf"
        Neighbour search when ``n_queries * n_records`` exceeds 1e8 (below that
        it is exact): ``"ivf"``, inverted lists over spherical k-means cells
        (about ``sqrt(n)`` cells, each query compared exactly with the rows of
        its ``n_probe`` nearest cells), or ``"annoy"``, Annoy trees; both through
        :func:`nnstore.kneighbors`.
    n_probe : int, default 16
        Cells searched per query with ``approximate="ivf"``: more cells find
        more true neighbours (pair completeness) at a cost linear in
        ``n_probe`` (measured trade-off: ``benchmarks/results/matching.md``).
    n_trees : int, default 20
        Annoy trees of the neighbour store (``approximate="annoy"``).
    search_k : int, optional
        Annoy nodes inspected per query; default ``8 * n_trees * n_neighbors``
        (eight times Annoy's own default, which loses true neighbours).
    n_classes : int, default 3
        Latent classes of the Fellegi-Sunter model (2 = the classic
        match / non-match; 3 lets related non-matches such as members of one
        household form their own class).
    max_iter : int, default 100
        EM iterations (Fellegi-Sunter).
    tree_params : dict, optional
        Parameters of the supervised HistGradientBoostingClassifier (default
        ``max_iter=500, learning_rate=0.05, max_leaf_nodes=15``, chosen on the
        DeepMatcher valid splits: ``benchmarks/matching_dm_select.py``).
    context_features : bool, default True
        Supervised mode only: add the record-context features (whole-record
        character 3-gram TF-IDF cosine, the pair's rank among each record's
        partners in the whole other table, and its gap to each record's best
        partner). They cost one similarity matrix of the two tables (sparse
        products by blocks of rows), so they suit tables up to tens of
        thousands of rows.
    n_jobs : int, optional
        Threads of the approximate neighbour search (:func:`nnstore.kneighbors`):
        None means 1, -1 all cores (scikit-learn's meaning).
    random_state : int, Generator or None
        Seeds every random step: the default encoder, the approximate search,
        the random pairs and EM's subsample, the trees.
    verbose : bool or int, default False
        A ``tqdm.auto`` progress bar over the stages (embed, candidates,
        features) and the default encoder's own bars.

    Attributes
    ----------
    encoder_ : TableEncoder
    columns_ : list of str
        Compared columns (A's names); B's are ``mapping_[c]``.
    mapping_ : dict
    comparators_ : list of (column, kind)
        One pair feature per entry, after the embedding similarity.
    context_ : bool
        Whether the record-context features are used.
    feature_names_ : list of str
    mode_ : {"fellegi_sunter", "supervised"}
    fs_ : FellegiSunter
        The unsupervised scorer (``mode_ == "fellegi_sunter"``).
    embedding_edges_ : list of float
        Level edges of the embedding similarity (Fellegi-Sunter).
    trees_ : TreeEnsemble
        The supervised scorer (``mode_ == "supervised"``).
    threshold_ : float
        The match threshold (``threshold``, or what :meth:`tune_threshold` set).
    search_seed_ : int
        Seed of the approximate neighbour search, the same in fit and every predict.
    diagnostics_ : dict
        The unsupervised scorer's check on the fit tables (see
        :class:`~tabemb.MatchResult`): ``weak`` is True when its match
        probabilities are not bimodal (most pairs it does not reject score
        between 0.05 and 0.95); fit then warns and points to ``labels=``.
        ``{"mode": "supervised"}`` for the supervised scorer.
    blocking_ : dict
        Number of candidate pairs of the last fit / predict.

    Shapes
    ------
    ``predict(df_a, df_b)``: pairs (n_matches, 3 + n_features), clusters
    (n_a + n_b, 1) for linkage or (n, 1) for deduplication.

    Examples
    --------
    >>> m = RecordMatcher(n_neighbors=5, random_state=0).fit(customers, accounts)  # doctest: +SKIP
    >>> m.predict(customers, accounts).pairs.head()                                # doctest: +SKIP
    """

    _parameter_constraints: ClassVar[dict] = {
        "columns": [None, str, list, tuple, pd.Index],
        "mapping": [None, dict],
        "comparators": [None, dict],
        "blocking_keys": [None, str, list, tuple],
        "n_neighbors": [_POSITIVE],
        "max_block_size": [_POSITIVE],
        "encoder": [None, HasMethods(["fit", "transform"])],
        "encoder_params": [None, dict],
        "use_embedding_feature": ["boolean"],
        "threshold": [Interval(numbers.Real, 0, 1, closed="neither")],
        "one_to_one": ["boolean"],
        "approximate": [StrOptions({"ivf", "annoy"})],
        "n_probe": [_POSITIVE],
        "n_trees": [_POSITIVE],
        "search_k": [None, _POSITIVE],
        "n_classes": [Interval(numbers.Integral, 2, None, closed="left")],
        "max_iter": [_POSITIVE],
        "tree_params": [None, dict],
        "context_features": ["boolean"],
        "n_jobs": N_JOBS,
        "random_state": RANDOM_STATE,
        "verbose": VERBOSE,
    }

    def __init__(self, *, columns: Any = None, mapping: dict | None = None,
                 comparators: dict | None = None, blocking_keys: Any = None, n_neighbors: int = 10,
                 max_block_size: int = 100, encoder: TableEncoder | None = None,
                 encoder_params: dict | None = None, use_embedding_feature: bool = True,
                 threshold: float = 0.5, one_to_one: bool = False, approximate: str = "ivf",
                 n_probe: int = 16, n_trees: int = 20,
                 search_k: int | None = None, n_classes: int = 3, max_iter: int = 100,
                 tree_params: dict | None = None, context_features: bool = True,
                 n_jobs: int | None = None, random_state: Any = None, verbose: bool = False) -> None:
        self.columns = columns
        self.mapping = mapping
        self.comparators = comparators
        self.blocking_keys = blocking_keys
        self.n_neighbors = n_neighbors
        self.max_block_size = max_block_size
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.use_embedding_feature = use_embedding_feature
        self.threshold = threshold
        self.one_to_one = one_to_one
        self.approximate = approximate
        self.n_probe = n_probe
        self.n_trees = n_trees
        self.search_k = search_k
        self.n_classes = n_classes
        self.max_iter = max_iter
        self.tree_params = tree_params
        self.context_features = context_features
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # -- state -----------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "encoder_") and hasattr(self, "mode_")

    def _finish_fitted(self) -> None:
        """The feature plan of the fitted state (after fit or load)."""
        self._plan_ = PairFeatures(self.columns_, self.comparators_, self.context_)
        self.feature_names_ = self._plan_.names()

    def _tables(self, df_a: Any, df_b: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        a = check_frame(df_a, "df_a")
        b = None if df_b is None else check_frame(df_b, "df_b")
        if hasattr(self, "columns_"):
            return fitted_tables(a, b, self.columns_, self.mapping_)
        cols_a, cols_b = resolve_columns(a, b, self.columns, self.mapping)
        return a[cols_a], None if b is None else b[cols_b].set_axis(cols_a, axis=1)

    def _embed(self, df: pd.DataFrame) -> np.ndarray:
        emb = self.encoder_.transform(df.reset_index(drop=True))
        x = emb.to_numpy(dtype=np.float32)
        nrm = np.linalg.norm(x, axis=1, keepdims=True)
        return x / np.maximum(nrm, 1e-12)

    def _embed_prepare(self, a, b):
        ea = self._embed(a)
        eb = ea if b is None else self._embed(b)
        pa, pb = self._plan_.prepare(a, b)
        return ea, eb, pa, pb

    def _work(self, a, b, seed: int):
        """Embed, block, compare: the arrays shared by fit and predict (a progress bar over
        the three stages with ``verbose``)."""
        with tqdm(total=3, disable=not self.verbose, desc="match") as bar:
            bar.set_postfix_str("embed")
            ea, eb, pa, pb = self._embed_prepare(a, b)
            bar.update()
            bar.set_postfix_str("candidates")
            ia, ib = candidate_pairs(a, b, ea, eb, n_neighbors=self.n_neighbors,
                                     blocking_keys=self.blocking_keys, max_block_size=self.max_block_size,
                                     approximate=self.approximate, n_probe=self.n_probe,
                                     n_trees=self.n_trees, search_k=self.search_k, n_jobs=self.n_jobs,
                                     seed=seed)
            bar.update()
            bar.set_postfix_str(f"features of {len(ia)} pairs")
            X = self._plan_.compute(ea, eb, pa, pb, ia, ib)
            bar.update()
        logger.info("%d candidate pairs, %d features", len(ia), X.shape[1])
        self.blocking_ = {"n_candidates": len(ia)}
        return ea, eb, pa, pb, ia, ib, X

    def _embedding_edges(self) -> list | None:
        return self.embedding_edges_ if self.use_embedding_feature else None

    # -- fit ------------------------------------------------------------------------
    def _setup(self, a: pd.DataFrame, b: pd.DataFrame | None, supervised: bool,
               rng: np.random.Generator) -> None:
        """Fit (or take) the encoder and choose the comparators."""
        self.columns_ = list(a.columns)
        self.mapping_ = dict(self.mapping or {})
        both = a if b is None else pd.concat([a, b], ignore_index=True)
        both = both.reset_index(drop=True)
        if self.encoder is None:
            params = {**_DEFAULT_ENCODER, **(self.encoder_params or {})}
            params.setdefault("random_state", seed_from(rng))
            params.setdefault("verbose", bool(self.verbose))
            enc = TableEncoder(**params).fit(both)
        elif hasattr(self.encoder, "net_"):
            enc = self.encoder
        else:
            enc = clone(self.encoder).fit(both)
        self.encoder_ = enc
        schema = enc.schema_ if all(c in enc.schema_.names for c in both.columns) else infer_schema(both)
        self.comparators_ = choose_comparators(both, self.columns_, schema, self.comparators, supervised)
        self.context_ = bool(supervised and self.context_features)
        self._finish_fitted()

    def fit(self, df_a: pd.DataFrame, df_b: pd.DataFrame | None = None, *, labels: Any = None
            ) -> RecordMatcher:
        """Fit the encoder (if needed) and the scorer.

        Parameters
        ----------
        df_a : DataFrame
            Table A (or the one table to deduplicate); unique index.
        df_b : DataFrame, optional
            Table B for linkage.
        labels : DataFrame, optional
            Labelled pairs: columns ``index_a``, ``index_b``, ``label`` (or the
            first three columns in that order; label 1 = match). Given: the
            supervised scorer is trained on exactly these pairs. Not given:
            Fellegi-Sunter is fitted by EM on the candidate pairs, and a
            ``UserWarning`` says so when it cannot separate them (``diagnostics_``).

        Returns
        -------
        self : RecordMatcher

        Raises
        ------
        ValueError
            A bad parameter (named), an empty table, a non-unique index, bad labels.
        KeyError
            A column, mapping, comparator or blocking key that is not in the tables.
        TypeError
            A table that is not a DataFrame.
        """
        self._fit(df_a, df_b, labels)
        return self

    def _fit(self, df_a, df_b, labels):
        """Fit; return the unsupervised work and scores (reused by fit_predict), or None."""
        validate_params(self)
        for attr in ("columns_", "mode_", "fs_", "trees_", "embedding_edges_"):
            if hasattr(self, attr):
                delattr(self, attr)
        rng = check_random_state(self.random_state)
        a, b = self._tables(df_a, df_b)
        self._setup(a, b, labels is not None, rng)
        self.threshold_ = float(self.threshold)
        if labels is not None:
            ka, kb, y = parse_labels(labels, df_a, df_b)
            ea, eb, pa, pb = self._embed_prepare(a, b)
            X = tree_matrix(self._plan_.compute(ea, eb, pa, pb, ka, kb), self.use_embedding_feature)
            self.trees_ = fit_trees(X, y, int(rng.integers(0, _SEED_MAX)), self.tree_params)
            self.search_seed_ = int(rng.integers(0, _SEED_MAX))
            self.mode_ = "supervised"
            self.diagnostics_ = {"mode": "supervised"}
            return None
        self.search_seed_ = int(rng.integers(0, _SEED_MAX))
        work = self._work(a, b, self.search_seed_)
        ea, eb, pa, pb, _, _, X = work
        if len(X) == 0:
            raise ValueError("no candidate pairs: the tables need at least two records in all")
        ri, rj = random_pairs(len(a), len(a) if b is None else len(b), b is None, rng)
        X_random = self._plan_.compute(ea, eb, pa, pb, ri, rj)
        self.fs_, self.embedding_edges_ = fit_fellegi_sunter(
            self._plan_, X, X_random, rng, use_embedding_feature=self.use_embedding_feature,
            n_classes=self.n_classes, max_iter=self.max_iter)
        self.mode_ = "fellegi_sunter"
        score = self._score(X)
        self.diagnostics_ = score_diagnostics(score)
        if self.diagnostics_["weak"]:
            warnings.warn(self.diagnostics_["message"], UserWarning, stacklevel=3)
        return work, score

    # -- predict ---------------------------------------------------------------------
    def _score(self, X: np.ndarray) -> np.ndarray:
        if self.mode_ == "supervised":
            return self.trees_.predict_proba(tree_matrix(X, self.use_embedding_feature))
        return self.fs_.predict_proba(self._plan_.levels(X, self._embedding_edges()))

    def _seed(self) -> int:
        if self.search_seed_ is None:  # an artifact saved before the seed was kept
            return int(check_random_state(self.random_state).integers(0, _SEED_MAX))
        return self.search_seed_

    def predict(self, df_a: pd.DataFrame, df_b: pd.DataFrame | None = None) -> MatchResult:
        """Match ``df_a`` with ``df_b`` (or deduplicate ``df_a``): pairs, clusters, candidates.

        Returns
        -------
        MatchResult
            ``diagnostics`` holds the unsupervised scorer's check on these tables.
        """
        check_is_fitted(self)
        a, b = self._tables(df_a, df_b)
        work = self._work(a, b, self._seed())
        return self._predict(df_a, df_b, a, b, work, self._score(work[-1]))

    def fit_predict(self, df_a: pd.DataFrame, df_b: pd.DataFrame | None = None, *,
                    labels: Any = None) -> MatchResult:
        """``fit`` then ``predict`` on the same tables (embeds and blocks once when unsupervised)."""
        fitted = self._fit(df_a, df_b, labels)
        a, b = self._tables(df_a, df_b)
        if fitted is None:
            work = self._work(a, b, self._seed())
            score = self._score(work[-1])
        else:
            work, score = fitted
        return self._predict(df_a, df_b, a, b, work, score)

    def _predict(self, df_a, df_b, a, b, work, score) -> MatchResult:
        ea, _, pa, _, ia, ib, X = work
        score_missing = None
        if b is None:
            def score_missing(i, j):
                return self._score(self._plan_.compute(ea, ea, pa, pa, i, j))

        diag = score_diagnostics(score) if self.mode_ == "fellegi_sunter" else {"mode": self.mode_}
        return assemble(df_a.index, None if df_b is None else df_b.index, ia, ib, X, score, self.threshold_,
                        self.feature_names_, one_to_one=self.one_to_one, score_missing=score_missing,
                        diagnostics=diag)

    def score_pairs(self, df_a: pd.DataFrame, df_b: pd.DataFrame | None, pairs: Any) -> pd.DataFrame:
        """Score given pairs (no blocking).

        Parameters
        ----------
        df_a, df_b : DataFrame
            The tables (``df_b=None``: pairs within ``df_a``).
        pairs : DataFrame or sequence of (key_a, key_b)
            A DataFrame's first two columns are the keys.

        Returns
        -------
        DataFrame
            ``index_a``, ``index_b``, ``score``, then the features.
        """
        check_is_fitted(self)
        a, b = self._tables(df_a, df_b)
        if isinstance(pairs, pd.DataFrame):
            pf = pairs.iloc[:, :2].set_axis(["index_a", "index_b"], axis=1)
        else:
            pf = pd.DataFrame(list(pairs), columns=["index_a", "index_b"])
        ka, kb, _ = parse_labels(pf.assign(label=np.arange(len(pf)) % 2), df_a, df_b) if len(pf) > 1 else \
            parse_labels(pd.concat([pf, pf]).assign(label=[0, 1]), df_a, df_b)
        ka, kb = ka[:len(pf)], kb[:len(pf)]
        ea, eb, pa, pb = self._embed_prepare(a, b)
        X = self._plan_.compute(ea, eb, pa, pb, ka, kb)
        out = pf.reset_index(drop=True).copy()
        out["score"] = self._score(X)
        return pd.concat([out, pd.DataFrame(X, columns=self.feature_names_)], axis=1)

    def tune_threshold(self, df_a: pd.DataFrame, df_b: pd.DataFrame | None, labels: Any) -> float:
        """Set ``threshold_`` to the score cut that maximises F1 on labelled pairs; return it."""
        lab = labels if isinstance(labels, pd.DataFrame) else pd.DataFrame(labels)
        s = self.score_pairs(df_a, df_b, lab.iloc[:, :2])["score"].to_numpy()
        y = lab.iloc[:, 2].to_numpy().astype(int)
        best, best_t = -1.0, self.threshold_
        for t in np.unique(np.round(s, 4)):
            if not 0 < t < 1:
                continue
            p = s >= t
            tp = int((p & (y == 1)).sum())
            f1 = 2 * tp / max(1, int(p.sum()) + int((y == 1).sum()))
            if f1 > best:
                best, best_t = f1, float(t)
        self.threshold_ = best_t
        return best_t

    # -- persistence -------------------------------------------------------------------
    def save(self, path) -> Any:
        """Save as an artifact directory (kind ``record_matcher``); see :mod:`._persist`.

        Returns
        -------
        pathlib.Path
            The artifact directory.
        """
        check_is_fitted(self)
        return save_matcher(self, path)

    @classmethod
    def load(cls, path) -> RecordMatcher:
        """Load a saved matcher (checks kind and checksums; the encoder too)."""
        return load_matcher(cls, path, TableEncoder)


def link(df_a: pd.DataFrame, df_b: pd.DataFrame, *, columns: Any = None, mapping: dict | None = None,
         labels: Any = None, **params) -> MatchResult:
    """Link the records of two tables (fit a :class:`RecordMatcher` and predict).

    Parameters
    ----------
    df_a, df_b : DataFrame
        The two tables (unique indexes: the record keys).
    columns, mapping : optional
        As :class:`RecordMatcher`.
    labels : DataFrame, optional
        Labelled pairs (``index_a, index_b, label``): the supervised scorer.
        Without them a ``UserWarning`` says when the unsupervised scorer is weak
        on these tables (also ``result.diagnostics["weak"]``).
    **params
        Further :class:`RecordMatcher` parameters.

    Returns
    -------
    MatchResult

    Examples
    --------
    >>> res = link(customers, accounts, mapping={"name": "holder"})   # doctest: +SKIP
    >>> res.pairs[["index_a", "index_b", "score"]]                      # doctest: +SKIP
    """
    m = RecordMatcher(columns=columns, mapping=mapping, **params)
    return m.fit_predict(df_a, df_b, labels=labels)


def dedupe(df: pd.DataFrame, *, columns: Any = None, labels: Any = None, **params) -> MatchResult:
    """Find the records of one table that describe the same entity; ``clusters`` has one id each.

    Parameters
    ----------
    df : DataFrame
        The table (unique index: the record keys).
    columns : optional
        As :class:`RecordMatcher`.
    labels : DataFrame, optional
        Labelled pairs (``index_a, index_b, label``, keys of ``df``).
    **params
        Further :class:`RecordMatcher` parameters.

    Returns
    -------
    MatchResult
    """
    m = RecordMatcher(columns=columns, **params)
    return m.fit_predict(df, None, labels=labels)
