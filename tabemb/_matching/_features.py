"""Pair features: which comparators a matcher uses, and the feature matrix of candidate pairs.

Feature 0 is the embeddings' cosine similarity; then one feature per
``(column, comparator kind)`` entry of the plan (:func:`choose_comparators`);
then, with context features, the record-context features of
:mod:`tabemb._matching._context`. The unsupervised scorer reads the features
cut into comparison levels (:func:`levels`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._comparators import COMPARATORS, compare, prepare
from ._context import CONTEXT_FEATURES, char_tfidf, context_features
from ._inputs import row_text
from ._scorers import level_edges, to_levels

__all__ = ["EMB", "ROW", "PairFeatures", "choose_comparators"]

EMB = "embedding"
ROW = "<row>"  # pseudo-column: the whole record's text (supervised features)
_CHUNK = 1 << 18
_STATS_SAMPLE = 5000  # values per column used to choose Jaro-Winkler vs token overlap
_CONTEXT_WARN_PAIRS = 2e9  # record pairs above which the (quadratic) context features warn


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


def choose_comparators(both: pd.DataFrame, columns: list, schema, overrides: dict | None,
                       supervised: bool) -> list[tuple[str, str]]:
    """The ``(column, kind)`` comparator entries for the compared ``columns``.

    A column's kinds come from ``overrides`` (``comparators=``) when named there,
    else from its schema kind: equality for categorical and boolean columns,
    relative difference for numbers, days for dates; for text, Jaro-Winkler when
    values are short (at most 3 words and 40 characters on average, over up to
    5,000 evenly spaced values), token Jaccard otherwise, and in supervised mode
    six text comparators plus four over the whole record's text.

    Raises
    ------
    KeyError
        ``comparators`` names a column that is not compared.
    ValueError
        ``comparators`` names a kind outside :data:`COMPARATORS`.
    """
    comps = []
    overrides = dict(overrides or {})
    unknown = [c for c in overrides if c not in columns]
    if unknown:
        raise KeyError(f"comparators names columns {unknown} that are not compared ({columns})")
    for c in columns:
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
    return comps


@dataclass
class PairFeatures:
    """The feature plan of a fitted matcher and the computations it drives.

    Parameters
    ----------
    columns : list of str
        Compared columns (table A's names; B's are renamed to them).
    comparators : list of (column, kind)
    context : bool
        Whether the record-context features follow the comparator features.
    """

    columns: list
    comparators: list
    context: bool

    def names(self) -> list[str]:
        """Feature names: ``embedding``, ``<column>__<kind>``..., ``<row>__<context feature>``..."""
        ctx = [f"{ROW}__{n}" for n in CONTEXT_FEATURES] if self.context else []
        return [EMB] + [f"{c}__{k}" for c, k in self.comparators] + ctx

    def _prepared(self, df: pd.DataFrame, vocab: dict) -> list:
        out = []
        row = None
        for c, k in self.comparators:
            if c == ROW:
                if row is None:
                    row = row_text(df[self.columns])
                col = row
            else:
                col = df[c]
            out.append(prepare(col, k, token_vocab=vocab.setdefault(c, {})))
        return out

    def prepare(self, a: pd.DataFrame, b: pd.DataFrame | None) -> tuple[list, list]:
        """Prepared comparator inputs of both tables (token ids shared), then, with context
        features, each table's character 3-gram TF-IDF rows as the last entry. ``b=None``
        (deduplication) returns the same list twice."""
        vocab: dict = {}
        pa = self._prepared(a, vocab)
        pb = pa if b is None else self._prepared(b, vocab)
        if self.context:
            n_pairs = len(a) * (len(a) if b is None else len(b))
            if n_pairs > _CONTEXT_WARN_PAIRS:
                warnings.warn(
                    f"context_features=True compares every record with the whole other table: "
                    f"{n_pairs:.3g} record pairs here (the features cost one similarity matrix of "
                    f"the two tables, quadratic in their size); pass context_features=False to "
                    f"skip them on tables this large", UserWarning, stacklevel=4)
            text_b = None if b is None else row_text(b[self.columns])
            xa, xb = char_tfidf(row_text(a[self.columns]), text_b)
            pa.append(xa)
            if b is not None:
                pb.append(xb)
        return pa, pb

    def compute(self, ea: np.ndarray, eb: np.ndarray, pa: list, pb: list, ia: np.ndarray,
                ib: np.ndarray) -> np.ndarray:
        """Feature matrix of the pairs ``(ia[k], ib[k])``: float32 of shape (n_pairs, n_features).

        ``ea``, ``eb``: unit embeddings of the two tables; ``pa``, ``pb``: from :meth:`prepare`.
        """
        n = len(ia)
        n_ctx = len(CONTEXT_FEATURES) if self.context else 0
        X = np.empty((n, 1 + len(self.comparators) + n_ctx), dtype=np.float32)
        for s in range(0, n, _CHUNK):
            e = min(n, s + _CHUNK)
            X[s:e, 0] = np.einsum("ij,ij->i", ea[ia[s:e]], eb[ib[s:e]])
        for f, (_, kind) in enumerate(self.comparators):
            X[:, 1 + f] = compare(pa[f], pb[f], ia, ib, kind)
        if n_ctx:
            X[:, 1 + len(self.comparators):] = context_features(pa[-1], pb[-1], ia, ib, self_join=pb is pa)
        return X

    def levels(self, X: np.ndarray, embedding_edges: list | None) -> np.ndarray:
        """int8 comparison levels (n_pairs, n_level_features) of the features ``X``; the
        embedding similarity is cut at ``embedding_edges`` (left out when None)."""
        cols = []
        if embedding_edges is not None:
            cols.append(to_levels(X[:, 0], embedding_edges, True))
        for f, (_, kind) in enumerate(self.comparators):
            edges, asc = level_edges(kind)
            cols.append(to_levels(X[:, 1 + f], edges, asc))
        return np.stack(cols, axis=1) if cols else np.zeros((len(X), 0), dtype=np.int8)

    def n_levels(self, embedding_edges: list | None) -> list[int]:
        """Levels per level feature (as :meth:`levels` lays them out)."""
        out = [len(embedding_edges) + 1] if embedding_edges is not None else []
        return out + [len(level_edges(k)[0]) + 1 for _, k in self.comparators]
