"""Input checks of record matching: the tables, the compared columns and labelled pairs.

Every error names the argument (``df_a``, ``df_b``, ``columns``, ``mapping``,
``labels``), what was expected and what arrived.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["check_frame", "fitted_tables", "parse_labels", "resolve_columns", "row_text"]


def check_frame(df: Any, name: str) -> pd.DataFrame:
    """``df`` itself if it is a non-empty DataFrame with a unique index, else a clear error."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise ValueError(f"{name} is empty: expected at least one row")
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{name} index must be unique (records are keyed by it); repeated: {dup}")
    return df


def resolve_columns(df_a: pd.DataFrame, df_b: pd.DataFrame | None, columns: Any,
                    mapping: dict | None) -> tuple[list, list]:
    """The compared columns of A and their names in B (``mapping``), checked against both tables."""
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


def fitted_tables(a: pd.DataFrame, b: pd.DataFrame | None, columns: list, mapping: dict
                  ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The compared columns of both tables for a fitted matcher (B's renamed to A's names)."""
    cols_b = [mapping.get(c, c) for c in columns]
    miss = [c for c in columns if c not in a.columns]
    if miss:
        raise KeyError(f"columns {miss} (used in fit) are not in df_a")
    if b is not None:
        miss = [c for c in cols_b if c not in b.columns]
        if miss:
            raise KeyError(f"columns {miss} (used in fit) are not in df_b; pass the same mapping")
    a_sel = a[columns]
    b_sel = None if b is None else b[cols_b].set_axis(columns, axis=1)
    for nm, d in (("df_a", a_sel), ("df_b", b_sel)):
        if d is not None:
            null = [c for c in d.columns if d[c].isna().all()]
            if null:
                raise ValueError(f"{nm} columns {null} have only missing values")
    return a_sel, b_sel


def row_text(df: pd.DataFrame) -> pd.Series:
    """Every compared value of a record as one text (missing values left out)."""
    parts = [df[c].astype("string").fillna("") for c in df.columns]
    out = parts[0]
    for p in parts[1:]:
        out = out + " " + p
    return out.str.strip()


def parse_labels(labels: Any, df_a: pd.DataFrame, df_b: pd.DataFrame | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions ``(ia, ib)`` and 0/1 labels ``y`` of labelled pairs.

    ``labels``: a DataFrame with columns ``index_a, index_b, label`` (or its
    first three columns in that order); both labels must occur.
    """
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
