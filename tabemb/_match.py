"""Record linkage and deduplication: embeddings for blocking, comparators and Fellegi-Sunter for scoring.

Pipeline (:class:`RecordMatcher`, :func:`link`, :func:`dedupe`)
--------------------------------------------------------------
1. **Embed** the compared columns of both tables with one
   :class:`~tabemb.TableEncoder` fitted on both (default: no pre-training,
   ``epochs=0``: its initial embedding is a random projection of each
   value's character n-gram TF-IDF vector, which already puts typos next
   to the original; small blocks ``text_dim=16``, ``row_text_dim=64``).
2. **Candidates** (blocking): each record's ``n_neighbors`` nearest
   neighbours (cosine) over the other table: exact (one pass over blocks of
   the similarity matrix gives both directions, :mod:`tabemb._match_knn`)
   while the two tables' sizes multiply to at most 1e8, else approximate
   (inverted lists over k-means cells, :func:`tabemb._match_knn.ivf_topk`, or
   Annoy in a :class:`nnstore.NeighborStore`) over the other
   table (both directions for linkage; the table itself for
   deduplication), plus, optionally, every pair that agrees exactly on a
   ``blocking_keys`` column (blocks larger than ``max_block_size`` are skipped).
3. **Features** per candidate pair: the embeddings' cosine similarity plus
   one comparator per compared column (see :mod:`tabemb._match_comparators`):
   Jaro-Winkler for short text (names, codes), token Jaccard for longer text,
   relative difference for numbers, days for dates, equality for
   categorical and boolean columns (chosen from :func:`tabemb.infer_schema`'s
   kinds; ``comparators=`` overrides per column). In supervised mode a text
   column gets Jaro-Winkler, token Jaccard, IDF-weighted token cosine and
   containment, code overlap (tokens holding digits: model and part
   numbers) and number overlap, and the whole record's text (all compared
   columns joined) gets the last four as well, since the two tables may
   keep a model number in different columns; plus, by default
   (``context_features=True``), the record-context features of
   :mod:`tabemb._match_context`: the whole record's character 3-gram
   TF-IDF cosine, the pair's rank among each record's partners in the whole
   other table and its gap to each record's best partner (selected on the
   DeepMatcher *valid* splits: mean valid F1 0.85 -> 0.89).
4. **Scoring**: without labels, Fellegi-Sunter over discretised comparison
   levels fitted by EM on the candidate pairs (see
   :mod:`tabemb._match_scorers`); the embedding similarity is cut at the
   50/80/90/95/98th percentiles of the candidates' similarities. With
   labelled pairs (``fit(..., labels=...)``): gradient-boosted trees on the
   raw features. The score is a match probability.
5. **Threshold**: ``score >= threshold`` (default 0.5: the posterior says a
   match is more likely than not).
6. **Clusters**: deduplication clusters resist chaining (components, then
   average linkage inside any component that is not a clique; see
   :mod:`tabemb._match_clusters`). Linkage clusters are the connected
   components of the kept pairs over the records of both tables;
   ``one_to_one=True`` first keeps only mutual best pairs.

Outputs are DataFrames keyed by the input indexes (:class:`MatchResult`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from nnstore import (
    ArtifactWriter,
    NeighborStore,
    NotFittedError,
    check_random_state,
    read_artifact,
    seed_from,
)

from ._match_clusters import average_linkage_clusters, components, mutual_best
from ._match_comparators import COMPARATORS, compare, prepare
from ._match_context import CONTEXT_FEATURES, char_tfidf, context_features
from ._match_knn import exact_topk, ivf_topk
from ._match_scorers import FellegiSunter, TreeEnsemble, level_edges, to_levels
from ._schema import infer_schema
from ._table_encoder import TableEncoder

__all__ = ["MatchResult", "RecordMatcher", "dedupe", "link"]

logger = logging.getLogger(__name__)

KIND = "record_matcher"
EMB = "embedding"
ROW = "<row>"  # pseudo-column: the whole record's text (supervised features)
_EMB_QUANTILES = [0.5, 0.8, 0.9, 0.95, 0.98]
_DEFAULT_ENCODER = {"epochs": 0, "text_dim": 16, "row_text_dim": 64}
_N_RANDOM_PAIRS = 20_000
_MAX_EM_PAIRS = 1_000_000
_CHUNK = 1 << 18
_STATS_SAMPLE = 5000  # values per column used to choose Jaro-Winkler vs token overlap
_EXACT_MAX = 100_000_000  # query x base sizes up to which blocking uses exact search
_CONTEXT_WARN_PAIRS = 2e9  # record pairs above which the (quadratic) context features warn


@dataclass
class MatchResult:
    """What :meth:`RecordMatcher.predict`, :func:`link` and :func:`dedupe` return.

    Attributes
    ----------
    pairs : DataFrame
        The matched pairs: ``index_a``, ``index_b`` (keys of table A and B; for
        deduplication both from the one table, ``index_a`` the earlier row),
        ``score`` (match probability), then one column per pair feature.
    clusters : DataFrame
        Column ``cluster`` (int) per record. Deduplication: index = the
        table's index. Linkage: a MultiIndex (``table`` in {"a", "b"}, ``key``).
    candidates : DataFrame
        Every scored candidate pair (same columns as ``pairs`` plus ``match``).
    """

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    candidates: pd.DataFrame


def _check_frame(df: Any, name: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise ValueError(f"{name} is empty: expected at least one row")
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{name} index must be unique (records are keyed by it); repeated: {dup}")
    return df


def _resolve_columns(df_a: pd.DataFrame, df_b: pd.DataFrame | None, columns: Any,
                     mapping: dict | None) -> tuple[list, list]:
    mapping = dict(mapping or {})
    if df_b is not None and mapping:
        bad_a = [c for c in mapping if c not in df_a.columns]
        bad_b = [c for c in mapping.values() if c not in df_b.columns]
        if bad_a:
            raise KeyError(f"mapping names columns {bad_a} that are not in df_a ({list(df_a.columns)})")
        if bad_b:
            raise KeyError(f"mapping names columns {bad_b} that are not in df_b ({list(df_b.columns)})")
    if columns is not None:
        cols_a = [columns] if isinstance(columns, str) else list(columns)
        missing = [c for c in cols_a if c not in df_a.columns]
        if missing:
            raise KeyError(f"columns {missing} are not in df_a (its columns: {list(df_a.columns)})")
    elif df_b is None:
        cols_a = list(df_a.columns)
    else:
        cols_a = [c for c in df_a.columns if mapping.get(c, c) in df_b.columns]
        if not cols_a:
            raise ValueError(
                f"df_a and df_b share no columns (df_a: {list(df_a.columns)[:10]}, df_b: "
                f"{list(df_b.columns)[:10]}); pass mapping={{column_of_a: column_of_b, ...}}")
    if not cols_a:
        raise ValueError("columns is empty: expected at least one column to compare")
    cols_b = [mapping.get(c, c) for c in cols_a]
    if df_b is not None:
        missing = [b for b in cols_b if b not in df_b.columns]
        if missing:
            raise KeyError(f"columns {missing} are not in df_b (its columns: {list(df_b.columns)}); "
                           "map them with mapping={column_of_a: column_of_b}")
    for nm, df, cols in (("df_a", df_a, cols_a), ("df_b", df_b, cols_b)):
        if df is None:
            continue
        null = [c for c in cols if df[c].isna().all()]
        if null:
            raise ValueError(f"{nm} columns {null} have only missing values; drop them from columns")
    return cols_a, cols_b


def _row_text(df: pd.DataFrame) -> pd.Series:
    """Every compared value of a record as one text (missing values left out)."""
    parts = [df[c].astype("string").fillna("") for c in df.columns]
    out = parts[0]
    for p in parts[1:]:
        out = out + " " + p
    return out.str.strip()


def _kind_to_comparators(kind: str, avg_words: float, avg_len: float, supervised: bool) -> list[str]:
    if kind == "skip":
        return []
    if kind in ("categorical", "boolean"):
        return ["exact"]
    if kind == "numeric":
        return ["numeric"]
    if kind == "datetime":
        return ["date"]
    if supervised:
        return ["jaro_winkler", "token", "tfidf", "contain", "code", "number"]
    return ["jaro_winkler"] if avg_words <= 3 and avg_len <= 40 else ["token"]


class RecordMatcher(BaseEstimator):
    """Link two tables or deduplicate one: embedding blocking, comparators, Fellegi-Sunter / trees.

    See :mod:`tabemb._match` for the pipeline.

    Parameters
    ----------
    columns : list of str, optional
        Columns of table A to compare (default: every column of A that B has,
        directly or through ``mapping``; for deduplication every column).
    mapping : dict, optional
        ``{column_of_a: column_of_b}`` when the schemas differ.
    comparators : dict, optional
        ``{column_of_a: kind or [kinds]}`` with kinds from
        ``tabemb._match_comparators.COMPARATORS`` (``"jaro_winkler", "token",
        "tfidf", "contain", "code", "number", "numeric", "date", "exact"``); ``None`` or
        ``[]`` leaves a column out of the comparison (it still feeds the embedding).
    blocking_keys : list, optional
        Columns (of A) whose exact agreement adds candidate pairs, next to the
        nearest neighbours.
    n_neighbors : int, default 10
        Neighbours per record taken as candidates (each direction for linkage).
    max_block_size : int, default 100
        Blocking-key blocks with more records than this (per table) are skipped.
    encoder : TableEncoder, optional
        An encoder to use (fitted or not; an unfitted one is fitted on both
        tables). Default: ``TableEncoder(epochs=0, text_dim=16, row_text_dim=64)``.
    encoder_params : dict, optional
        Extra parameters of the default encoder.
    use_embedding_feature : bool, default True
        Use the embedding similarity as a scoring feature (it is always used
        for blocking).
    threshold : float, default 0.5
        Pairs with a match probability ``>= threshold`` are matches.
    one_to_one : bool, default False
        Linkage only: keep mutual best pairs so that each record matches at
        most one record of the other table.
    approximate : {"ivf", "annoy"}, default "ivf"
        Neighbour search when ``n_queries * n_records`` exceeds 1e8 (below that
        it is exact): ``"ivf"``, inverted lists over spherical k-means cells
        (:func:`tabemb._match_knn.ivf_topk`; about ``sqrt(n)`` cells, each query
        compared exactly with the rows of its ``n_probe`` nearest cells), or
        ``"annoy"``, a :class:`nnstore.NeighborStore`.
    n_probe : int, default 16
        Cells searched per query with ``approximate="ivf"`` (measured on 43,762
        generated records, 209 cells: pair completeness of the 5-NN graph 0.967 at
        4, 0.987 at 8, 0.995 at 16; exact 0.9998).
    n_trees : int, default 20
        Annoy trees of the neighbour store (``approximate="annoy"``).
    search_k : int, optional
        Annoy nodes inspected per query; default ``8 * n_trees * n_neighbors``
        (Annoy's own default, ``n_trees * k``, loses true neighbours: measured
        pair completeness 0.937 on FEBRL 4 at k=3 with it).
    n_classes : int, default 3
        Latent classes of the Fellegi-Sunter model (2 = the classic
        match / non-match; 3 lets related non-matches such as members of one
        household form their own class; see :class:`tabemb._match_scorers.FellegiSunter`).
    max_iter : int, default 100
        EM iterations (Fellegi-Sunter).
    tree_params : dict, optional
        Parameters of the supervised HistGradientBoostingClassifier
        (default ``max_iter=500, learning_rate=0.05, max_leaf_nodes=15``: the best
        mean F1 on the four DeepMatcher *valid* splits among seven settings,
        ``benchmarks/matching_dm_select.py``; within 0.004 of the others).
    context_features : bool, default True
        Supervised mode only: add the record-context features of
        :mod:`tabemb._match_context` (whole-record character 3-gram TF-IDF
        cosine, the pair's rank among each record's partners in the whole other
        table, and its gap to each record's best partner). They cost one
        similarity matrix of the two tables (sparse products by blocks of rows),
        so they suit tables up to tens of thousands of rows.
    n_jobs : int, optional
        Threads for the neighbour queries.
    random_state : int, Generator or None
    verbose : bool, default False

    Attributes
    ----------
    encoder_ : TableEncoder
    columns_ : list of str
        Compared columns (A's names); B's are ``mapping_[c]``.
    comparators_ : list of (column, kind)
        One pair feature per entry, after the embedding similarity.
    feature_names_ : list of str
    mode_ : {"fellegi_sunter", "supervised"}
    fs_ : FellegiSunter (unsupervised) ; trees_ : TreeEnsemble (supervised)
    embedding_edges_ : list of float
        Level edges of the embedding similarity (Fellegi-Sunter).
    threshold_ : float
    blocking_ : dict
        Number of candidate pairs of the last fit / predict.

    Shapes
    ------
    ``predict(df_a, df_b)``: pairs (n_matches, 3 + n_features), clusters
    (n_a + n_b, 1) for linkage or (n, 1) for deduplication.
    """

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

    # -- checks ---------------------------------------------------------------------
    def _check_params(self) -> None:
        if not isinstance(self.n_neighbors, (int, np.integer)) or self.n_neighbors < 1:
            raise ValueError(f"n_neighbors must be a positive int, got {self.n_neighbors!r}")
        if not 0.0 < float(self.threshold) < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold!r}")
        if self.approximate not in ("ivf", "annoy"):
            raise ValueError(f"approximate must be 'ivf' or 'annoy', got {self.approximate!r}")
        if not isinstance(self.n_probe, (int, np.integer)) or self.n_probe < 1:
            raise ValueError(f"n_probe must be a positive int, got {self.n_probe!r}")

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError("this RecordMatcher is not fitted yet; call fit(df_a[, df_b]) first")

    def _rng(self) -> np.random.Generator:
        if not hasattr(self, "_rng_"):
            self._rng_ = check_random_state(self.random_state)
        return self._rng_

    def _tables(self, df_a: Any, df_b: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        a = _check_frame(df_a, "df_a")
        b = None if df_b is None else _check_frame(df_b, "df_b")
        if hasattr(self, "columns_"):
            cols_b = [self.mapping_.get(c, c) for c in self.columns_]
            miss = [c for c in self.columns_ if c not in a.columns]
            if miss:
                raise KeyError(f"columns {miss} (used in fit) are not in df_a")
            if b is not None:
                miss = [c for c in cols_b if c not in b.columns]
                if miss:
                    raise KeyError(f"columns {miss} (used in fit) are not in df_b; pass the same mapping")
            a_sel = a[self.columns_]
            b_sel = None if b is None else b[cols_b].set_axis(self.columns_, axis=1)
            for nm, d in (("df_a", a_sel), ("df_b", b_sel)):
                if d is not None:
                    null = [c for c in d.columns if d[c].isna().all()]
                    if null:
                        raise ValueError(f"{nm} columns {null} have only missing values")
            return a_sel, b_sel
        cols_a, cols_b = _resolve_columns(a, b, self.columns, self.mapping)
        return a[cols_a], None if b is None else b[cols_b].set_axis(cols_a, axis=1)

    # -- fit ------------------------------------------------------------------------
    def _setup(self, a: pd.DataFrame, b: pd.DataFrame | None, supervised: bool) -> None:
        self.columns_ = list(a.columns)
        self.mapping_ = dict(self.mapping or {})
        both = a if b is None else pd.concat([a, b], ignore_index=True)
        both = both.reset_index(drop=True)
        enc = self.encoder
        if enc is None:
            params = {**_DEFAULT_ENCODER, **(self.encoder_params or {})}
            params.setdefault("random_state", seed_from(self._rng()))
            enc = TableEncoder(**params)
        if not hasattr(enc, "net_"):
            enc.fit(both)
        self.encoder_ = enc
        schema = enc.schema_ if all(c in enc.schema_.names for c in both.columns) else infer_schema(both)
        comps = []
        overrides = dict(self.comparators or {})
        unknown = [c for c in overrides if c not in self.columns_]
        if unknown:
            raise KeyError(f"comparators names columns {unknown} that are not compared ({self.columns_})")
        for c in self.columns_:
            if c in overrides:
                ks = overrides[c]
                ks = [] if ks is None else ([ks] if isinstance(ks, str) else list(ks))
                bad = [k for k in ks if k not in COMPARATORS]
                if bad:
                    raise ValueError(f"comparators[{c!r}] must be among {COMPARATORS}, got {bad}")
            else:
                words = length = 0.0
                if schema[c].kind == "text" and not supervised:
                    s = both[c].dropna()
                    if len(s) > _STATS_SAMPLE:  # evenly spaced rows: deterministic, enough for a mean
                        s = s.iloc[np.linspace(0, len(s) - 1, _STATS_SAMPLE).astype(np.int64)]
                    s = s.astype(str)
                    words = float(s.str.split().str.len().mean()) if len(s) else 0.0
                    length = float(s.str.len().mean()) if len(s) else 0.0
                ks = _kind_to_comparators(schema[c].kind, words, length, supervised)
            comps.extend((c, k) for k in ks)
        if supervised:  # the whole record: words and codes may sit in different columns per table
            comps.extend([(ROW, "tfidf"), (ROW, "contain"), (ROW, "code"), (ROW, "number")])
        self.comparators_ = comps
        self.context_ = bool(supervised and self.context_features)
        self.feature_names_ = self._feature_names()

    def _feature_names(self) -> list[str]:
        ctx = [f"{ROW}__{n}" for n in CONTEXT_FEATURES] if self.context_ else []
        return [EMB] + [f"{c}__{k}" for c, k in self.comparators_] + ctx

    def _embed(self, df: pd.DataFrame) -> np.ndarray:
        emb = self.encoder_.transform(df.reset_index(drop=True))
        x = emb.to_numpy(dtype=np.float32)
        nrm = np.linalg.norm(x, axis=1, keepdims=True)
        return x / np.maximum(nrm, 1e-12)

    def _candidates(self, a: pd.DataFrame, b: pd.DataFrame | None, ea: np.ndarray,
                    eb: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        seed = int(self._rng().integers(0, 2**31 - 1))
        dedup = b is None
        k = int(self.n_neighbors)
        parts = []

        def knn(base: np.ndarray, queries: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
            exact = len(base) * len(queries) <= _EXACT_MAX
            store = NeighborStore(base.shape[1], metric="cosine", n_trees=self.n_trees,
                                  exact=exact, n_jobs=self.n_jobs, random_state=seed)
            store.add(np.arange(len(base)), base)
            kk = min(kk, len(base))
            sk = None if exact else (self.search_k or self.n_trees * kk * 8)
            _, _, pos = store.query_arrays(queries, k=kk, search_k=sk, n_jobs=self.n_jobs)
            q = np.repeat(np.arange(len(queries), dtype=np.int64), kk)
            r = pos.ravel()
            ok = r >= 0
            return q[ok], r[ok]

        def pairs_of(nn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            q = np.repeat(np.arange(len(nn), dtype=np.int64), nn.shape[1])
            r = nn.ravel()
            ok = r >= 0
            return q[ok], r[ok]

        if dedup:
            if len(a) > 1:
                if len(a) * len(a) <= _EXACT_MAX:
                    parts.append(pairs_of(exact_topk(ea, None, k)[0]))
                elif self.approximate == "ivf":
                    parts.append(pairs_of(ivf_topk(ea, None, k, n_probe=self.n_probe, random_state=seed)))
                else:
                    q, r = knn(ea, ea, k + 1)
                    parts.append((q, r))
        elif len(a) * len(b) <= _EXACT_MAX:
            nn_a, nn_b = exact_topk(ea, eb, k, k)
            parts.append(pairs_of(nn_a))
            qb, ra = pairs_of(nn_b)
            parts.append((ra, qb))
        elif self.approximate == "ivf":
            parts.append(pairs_of(ivf_topk(ea, eb, k, n_probe=self.n_probe, random_state=seed)))
            qb, ra = pairs_of(ivf_topk(eb, ea, k, n_probe=self.n_probe, random_state=seed))
            parts.append((ra, qb))
        else:
            qb, ra = knn(ea, eb, k)
            parts.append((ra, qb))
            qa, rb = knn(eb, ea, k)
            parts.append((qa, rb))
        for key in ([self.blocking_keys] if isinstance(self.blocking_keys, str)
                    else list(self.blocking_keys or [])):
            if key not in a.columns:
                raise KeyError(f"blocking key {key!r} is not a compared column ({list(a.columns)})")
            parts.append(self._block_pairs(a[key], None if dedup else b[key]))
        ia = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        ib = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        if dedup:
            keep = ia != ib
            ia, ib = np.minimum(ia[keep], ib[keep]), np.maximum(ia[keep], ib[keep])
        nb = len(a) if dedup else len(b)
        code = np.unique(ia.astype(np.int64) * nb + ib)
        return code // nb, code % nb

    def _block_pairs(self, va: pd.Series, vb: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
        sa = va.astype("string").str.strip().str.lower().reset_index(drop=True)
        fa = pd.DataFrame({"key": sa, "i": np.arange(len(sa))}).dropna()
        if vb is None:
            fb = fa
        else:
            sb = vb.astype("string").str.strip().str.lower().reset_index(drop=True)
            fb = pd.DataFrame({"key": sb, "i": np.arange(len(sb))}).dropna()
        ca, cb = fa["key"].value_counts(), fb["key"].value_counts()
        ok = set(ca.index[ca <= self.max_block_size]) & set(cb.index[cb <= self.max_block_size])
        fa, fb = fa[fa["key"].isin(ok)], fb[fb["key"].isin(ok)]
        m = fa.merge(fb, on="key", suffixes=("_a", "_b"))
        return m["i_a"].to_numpy(np.int64), m["i_b"].to_numpy(np.int64)

    def _prepared(self, df: pd.DataFrame, vocab: dict) -> list:
        out = []
        row = None
        for c, k in self.comparators_:
            if c == ROW:
                if row is None:
                    row = _row_text(df[self.columns_])
                col = row
            else:
                col = df[c]
            out.append(prepare(col, k, token_vocab=vocab.setdefault(c, {})))
        return out

    def _prepare_both(self, a: pd.DataFrame, b: pd.DataFrame | None) -> tuple[list, list]:
        """Prepared comparator inputs of both tables (token ids shared), then, with context
        features, each table's character 3-gram TF-IDF rows as the last entry."""
        vocab: dict = {}
        pa = self._prepared(a, vocab)
        pb = pa if b is None else self._prepared(b, vocab)
        if getattr(self, "context_", False):
            n_pairs = len(a) * (len(a) if b is None else len(b))
            if n_pairs > _CONTEXT_WARN_PAIRS:
                warnings.warn(
                    f"context_features=True compares every record with the whole other table: "
                    f"{n_pairs:.3g} record pairs here (the features cost one similarity matrix of "
                    f"the two tables, quadratic in their size); pass context_features=False to "
                    f"skip them on tables this large", UserWarning, stacklevel=3)
            text_b = None if b is None else _row_text(b[self.columns_])
            xa, xb = char_tfidf(_row_text(a[self.columns_]), text_b)
            pa.append(xa)
            if b is not None:
                pb.append(xb)
        return pa, pb

    def _features(self, ea, eb, pa, pb, ia, ib) -> np.ndarray:
        n = len(ia)
        n_ctx = len(CONTEXT_FEATURES) if getattr(self, "context_", False) else 0
        X = np.empty((n, 1 + len(self.comparators_) + n_ctx), dtype=np.float32)
        for s in range(0, n, _CHUNK):
            e = min(n, s + _CHUNK)
            X[s:e, 0] = np.einsum("ij,ij->i", ea[ia[s:e]], eb[ib[s:e]])
        for f, (_, kind) in enumerate(self.comparators_):
            X[:, 1 + f] = compare(pa[f], pb[f], ia, ib, kind)
        if n_ctx:
            X[:, 1 + len(self.comparators_):] = context_features(pa[-1], pb[-1], ia, ib, self_join=pb is pa)
        return X

    def _levels(self, X: np.ndarray) -> np.ndarray:
        cols = []
        if self.use_embedding_feature:
            cols.append(to_levels(X[:, 0], self.embedding_edges_, True))
        for f, (_, kind) in enumerate(self.comparators_):
            edges, asc = level_edges(kind)
            cols.append(to_levels(X[:, 1 + f], edges, asc))
        return np.stack(cols, axis=1) if cols else np.zeros((len(X), 0), dtype=np.int8)

    def _n_levels(self) -> list[int]:
        out = [len(self.embedding_edges_) + 1] if self.use_embedding_feature else []
        return out + [len(level_edges(k)[0]) + 1 for _, k in self.comparators_]

    def _work(self, a, b):
        """Embed, block, compare: the arrays shared by fit and predict."""
        ea = self._embed(a)
        eb = ea if b is None else self._embed(b)
        pa, pb = self._prepare_both(a, b)
        ia, ib = self._candidates(a, b, ea, eb)
        X = self._features(ea, eb, pa, pb, ia, ib)
        self.blocking_ = {"n_candidates": len(ia)}
        return ea, eb, pa, pb, ia, ib, X

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
            Fellegi-Sunter is fitted by EM on the candidate pairs.
        """
        self._fit(df_a, df_b, labels)
        return self

    def _fit(self, df_a, df_b, labels):
        self._check_params()
        for attr in ("columns_", "_rng_"):
            if hasattr(self, attr):
                delattr(self, attr)
        a, b = self._tables(df_a, df_b)
        self._setup(a, b, supervised=labels is not None)
        self.threshold_ = float(self.threshold)
        if labels is not None:
            ka, kb, y = self._labels(labels, df_a, df_b)
            ea = self._embed(a)
            eb = ea if b is None else self._embed(b)
            pa, pb = self._prepare_both(a, b)
            X = self._features(ea, eb, pa, pb, ka, kb)
            if not self.use_embedding_feature:
                X = X[:, 1:]
            X[:, np.isnan(X).all(axis=0)] = 0.0  # no value anywhere (e.g. no codes): constant, never split on
            params = {"max_iter": 500, "learning_rate": 0.05, "max_leaf_nodes": 15}  # chosen on valid
            params.update(self.tree_params or {})
            self.trees_ = TreeEnsemble.fit(X, y, random_state=int(self._rng().integers(0, 2**31 - 1)),
                                           **params)
            self.mode_ = "supervised"
            return None
        work = self._work(a, b)
        X = work[-1]
        if len(X) == 0:
            raise ValueError("no candidate pairs: the tables need at least two records in all")
        sim = X[:, 0]
        self.embedding_edges_ = [float(v) for v in np.quantile(sim, _EMB_QUANTILES)]
        rng = self._rng()
        n_a = len(a)
        n_b = n_a if b is None else len(b)
        r = min(_N_RANDOM_PAIRS, n_a * n_b)
        ri = rng.integers(0, n_a, r)
        rj = rng.integers(0, n_b, r)
        if b is None:
            keep = ri != rj
            ri, rj = ri[keep], rj[keep]
        ea, eb, pa, pb = work[:4]
        Xr = self._features(ea, eb, pa, pb, ri, rj)
        lev = self._levels(X)
        if len(lev) > _MAX_EM_PAIRS:
            lev_em = lev[rng.choice(len(lev), _MAX_EM_PAIRS, replace=False)]
        else:
            lev_em = lev
        self.fs_ = FellegiSunter(self._n_levels(), n_classes=self.n_classes, max_iter=self.max_iter)
        self.fs_.fit(lev_em, self._levels(Xr))
        self.mode_ = "fellegi_sunter"
        return work

    @staticmethod
    def _labels(labels: Any, df_a: pd.DataFrame, df_b: pd.DataFrame | None):
        if not isinstance(labels, pd.DataFrame) or labels.shape[1] < 3:
            raise ValueError("labels must be a DataFrame with columns index_a, index_b, label")
        cols = ["index_a", "index_b", "label"]
        lab = labels[cols] if all(c in labels.columns for c in cols) else labels.iloc[:, :3]
        ka = df_a.index.get_indexer(pd.Index(lab.iloc[:, 0], tupleize_cols=False))
        other = df_a if df_b is None else df_b
        kb = other.index.get_indexer(pd.Index(lab.iloc[:, 1], tupleize_cols=False))
        if (ka < 0).any() or (kb < 0).any():
            bad = lab.iloc[:, 0][ka < 0].tolist()[:3] + lab.iloc[:, 1][kb < 0].tolist()[:3]
            raise KeyError(f"labels name keys that are not in the tables: {bad}")
        y = lab.iloc[:, 2].to_numpy().astype(int)
        if set(np.unique(y)) - {0, 1} or len(np.unique(y)) < 2:
            raise ValueError("labels must hold both 0 (non-match) and 1 (match) and nothing else")
        return ka.astype(np.int64), kb.astype(np.int64), y

    # -- predict ---------------------------------------------------------------------
    def _score(self, X: np.ndarray) -> np.ndarray:
        if self.mode_ == "supervised":
            return self.trees_.predict_proba(X if self.use_embedding_feature else X[:, 1:])
        return self.fs_.predict_proba(self._levels(X))

    def predict(self, df_a: pd.DataFrame, df_b: pd.DataFrame | None = None) -> MatchResult:
        """Match ``df_a`` with ``df_b`` (or deduplicate ``df_a``): pairs, clusters, candidates."""
        self._check_fitted()
        a, b = self._tables(df_a, df_b)
        return self._predict(df_a, df_b, a, b, self._work(a, b))

    def fit_predict(self, df_a: pd.DataFrame, df_b: pd.DataFrame | None = None, *,
                    labels: Any = None) -> MatchResult:
        """``fit`` then ``predict`` on the same tables (embeds and blocks once when unsupervised)."""
        work = self._fit(df_a, df_b, labels)
        a, b = self._tables(df_a, df_b)
        if work is None:
            work = self._work(a, b)
        return self._predict(df_a, df_b, a, b, work)

    def _predict(self, df_a, df_b, a, b, work) -> MatchResult:
        ea, _, pa, _, ia, ib, X = work
        score = self._score(X)
        thr = self.threshold_
        match = score >= thr
        keys_a = df_a.index
        keys_b = keys_a if df_b is None else df_b.index
        if b is None:
            def score_missing(i, j):
                return self._score(self._features(ea, ea, pa, pa, i, j))

            lab = average_linkage_clusters(len(a), ia, ib, score, thr, score_missing=score_missing)
            match &= lab[ia] == lab[ib]
            clusters = pd.DataFrame({"cluster": lab}, index=keys_a)
        else:
            if self.one_to_one:
                sel = np.flatnonzero(match)
                keep = mutual_best(ia[sel], ib[sel], score[sel], len(a), len(b))
                match[:] = False
                match[sel[keep]] = True
            na = len(a)
            lab = components(na + len(b), ia[match], na + ib[match])
            _, lab = np.unique(lab, return_inverse=True)
            idx = pd.MultiIndex.from_arrays(
                [np.r_[np.full(na, "a", dtype=object), np.full(len(b), "b", dtype=object)],
                 pd.Index(keys_a.tolist() + keys_b.tolist(), tupleize_cols=False)], names=["table", "key"])
            clusters = pd.DataFrame({"cluster": lab.astype(np.int64)}, index=idx)
        cand = pd.DataFrame({"index_a": keys_a.take(ia), "index_b": keys_b.take(ib),
                             "score": score.astype(np.float64)})
        feats = pd.DataFrame(X, columns=self.feature_names_)
        cand = pd.concat([cand, feats], axis=1)
        cand["match"] = match
        pairs = cand[match].drop(columns="match").sort_values("score", ascending=False, kind="stable")
        return MatchResult(pairs=pairs.reset_index(drop=True), clusters=clusters, candidates=cand)

    def score_pairs(self, df_a: pd.DataFrame, df_b: pd.DataFrame | None, pairs: Any) -> pd.DataFrame:
        """Score given pairs (no blocking): DataFrame index_a, index_b, score, features."""
        self._check_fitted()
        a, b = self._tables(df_a, df_b)
        if isinstance(pairs, pd.DataFrame):
            pf = pairs.iloc[:, :2].set_axis(["index_a", "index_b"], axis=1)
        else:
            pf = pd.DataFrame(list(pairs), columns=["index_a", "index_b"])
        ka, kb, _ = self._labels(pf.assign(label=np.arange(len(pf)) % 2), df_a, df_b) if len(pf) > 1 else \
            self._labels(pd.concat([pf, pf]).assign(label=[0, 1]), df_a, df_b)
        ka, kb = ka[:len(pf)], kb[:len(pf)]
        ea = self._embed(a)
        eb = ea if b is None else self._embed(b)
        pa, pb = self._prepare_both(a, b)
        X = self._features(ea, eb, pa, pb, ka, kb)
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
    def save(self, path) -> None:
        """Save as an artifact directory (kind ``record_matcher``): parameters, comparators and
        scorer as JSON (+ tree arrays as .npy), the encoder in the sub-directory ``encoder``."""
        self._check_fitted()
        params = {k: v for k, v in self.get_params().items()
                  if k not in ("encoder", "random_state")}
        info = {"mode": self.mode_, "columns": self.columns_, "mapping": self.mapping_,
                "comparators": [list(c) for c in self.comparators_], "context": self.context_,
                "threshold_": self.threshold_}
        with ArtifactWriter(path, kind=KIND, params=params, **info) as w:
            if self.mode_ == "fellegi_sunter":
                w.save_json("fellegi_sunter", {**self.fs_.state(), "embedding_edges": self.embedding_edges_})
            else:
                w.save_json("trees", {"baseline": self.trees_.baseline})
                for name, arr in self.trees_.arrays.items():
                    w.save_array(f"tree_{name}", arr)
            # a nested artifact with its own manifest and checksums (checked by its load)
            self.encoder_.save(w.file_path("encoder"))

    @classmethod
    def load(cls, path) -> RecordMatcher:
        """Load a saved matcher (checks kind and checksums; the encoder too)."""
        art = read_artifact(path, kind=KIND)
        self = cls(**art.params)
        info = art.info
        self.mode_ = info["mode"]
        self.columns_ = list(info["columns"])
        self.mapping_ = dict(info["mapping"])
        self.comparators_ = [tuple(c) for c in info["comparators"]]
        self.context_ = bool(info.get("context", False))
        self.feature_names_ = self._feature_names()
        self.threshold_ = float(info["threshold_"])
        if self.mode_ == "fellegi_sunter":
            s = art.load_json("fellegi_sunter")
            self.fs_ = FellegiSunter.from_state(s)
            self.embedding_edges_ = list(s["embedding_edges"])
        else:
            t = art.load_json("trees")
            names = ("feature", "threshold", "missing_left", "left", "right", "is_leaf", "value", "roots")
            self.trees_ = TreeEnsemble({n: art.load_array(f"tree_{n}") for n in names}, t["baseline"])
        self.encoder_ = TableEncoder.load(art.path / "encoder")
        return self


def link(df_a: pd.DataFrame, df_b: pd.DataFrame, *, columns: Any = None, mapping: dict | None = None,
         labels: Any = None, **params) -> MatchResult:
    """Link the records of two tables (fit a :class:`RecordMatcher` and predict).

    Examples
    --------
    >>> res = link(customers, accounts, mapping={"name": "holder"})   # doctest: +SKIP
    >>> res.pairs[["index_a", "index_b", "score"]]                      # doctest: +SKIP
    """
    m = RecordMatcher(columns=columns, mapping=mapping, **params)
    return m.fit_predict(df_a, df_b, labels=labels)


def dedupe(df: pd.DataFrame, *, columns: Any = None, labels: Any = None, **params) -> MatchResult:
    """Find the records of one table that describe the same entity; ``clusters`` has one id each."""
    m = RecordMatcher(columns=columns, **params)
    return m.fit_predict(df, None, labels=labels)
