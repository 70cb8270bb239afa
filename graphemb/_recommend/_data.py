"""Interaction tables for :mod:`graphemb._recommend`: validation, de-duplication, splits.

An interactions DataFrame has one row per (user, item) event: a user column,
an item column, optionally a weight (or rating) column and a timestamp column.
Users and items are any hashables (str or int ...), mapped to dense rows here,
once, at the edge of the system.

Documented handling of awkward input (the same in ``Recommender.fit``, the
baselines and the splits):

- an empty frame -> ``ValueError``; a missing column -> ``KeyError`` naming it;
- a missing user or item id -> ``ValueError`` naming the column and the row;
- a negative, NaN or infinite weight -> ``ValueError`` naming the weight column
  and the first offending row; rows with weight exactly 0 are dropped (they
  are not interactions);
- **duplicate (user, item) rows are merged into one interaction whose weight is
  the sum of theirs** (the number of repeats when there is no weight column),
  keeping the latest timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nnstore import check_random_state

__all__ = ["Interactions", "prepare_interactions", "recency_factors", "train_test_split_interactions"]


@dataclass(frozen=True, eq=False)
class Interactions:
    """De-duplicated interactions as integer rows plus the user and item id indexes.

    Attributes
    ----------
    users, items : pandas.Index
        Ids in row order (order of first appearance).
    user_rows, item_rows : ndarray of shape (n_interactions,), int64
    weights : ndarray of shape (n_interactions,), float32
    weighted : bool
        False when every weight is 1 (no weight column and no duplicates).
    """

    users: pd.Index
    items: pd.Index
    user_rows: np.ndarray
    item_rows: np.ndarray
    weights: np.ndarray
    weighted: bool

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def matrix(self) -> sp.csr_matrix:
        """The (n_users, n_items) float32 CSR matrix of weights (rows sorted)."""
        m = sp.csr_matrix((self.weights, (self.user_rows, self.item_rows)),
                          shape=(self.n_users, self.n_items), dtype=np.float32)
        m.sort_indices()
        return m


def _check_frame(df: Any, cols: dict[str, str | None], name: str = "interactions") -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise ValueError(f"{name} is empty: expected at least one (user, item) row")
    for role, c in cols.items():
        if c is not None and c not in df.columns:
            raise KeyError(f"{name} has no {role} column {c!r}; columns: {list(df.columns)[:20]}")
    return df


def _check_weights(w: np.ndarray, df: pd.DataFrame, weight_col: str) -> None:
    bad = ~np.isfinite(w)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"weight column {weight_col!r} must be finite numbers; row {df.index[i]!r} "
                         f"holds {df[weight_col].iloc[i]!r}")
    neg = w < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise ValueError(f"weight column {weight_col!r} must be >= 0; {int(neg.sum())} negative "
                         f"value(s), first in row {df.index[i]!r}: {w[i]!r}")


def recency_factors(users: np.ndarray, times: np.ndarray, *, half_life: float, boost: float) -> np.ndarray:
    """Per-row weight factors ``1 + boost * 0.5 ** (n_later / half_life)``.

    ``n_later`` is the number of the same user's rows that come after the row
    (by ``times``; ties broken by row order, the later row counting as later),
    so each user's latest interaction gets ``1 + boost`` and older ones decay
    towards 1 whatever the time scale of the clock.

    Parameters
    ----------
    users : ndarray of shape (n,)
        User codes (any sortable values).
    times : ndarray of shape (n,)
        Timestamps (numbers or datetimes).
    half_life : float
        Later interactions after which the boost halves.
    boost : float
        Extra weight of a user's latest interaction.

    Returns
    -------
    ndarray of shape (n,), float64
    """
    n = len(users)
    codes, _ = pd.factorize(users, sort=False)
    order = np.lexsort((np.arange(n), times, codes))
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n) - np.repeat(starts, counts)
    later = counts[codes] - 1 - pos
    return 1.0 + boost * 0.5 ** (later / half_life)


def prepare_interactions(df: pd.DataFrame, *, user_col: str = "user", item_col: str = "item",
                         weight_col: str | None = None, time_col: str | None = None,
                         recency_half_life: float | None = None,
                         recency_boost: float = 0.0) -> Interactions:
    """Validate and de-duplicate an interactions frame (see the module docstring).

    With ``time_col``, ``recency_half_life`` and ``recency_boost > 0``, each row's
    weight is first multiplied by :func:`recency_factors` (recent interactions of
    a user count more). Missing timestamps raise ``ValueError`` then.
    """
    df = _check_frame(df, {"user": user_col, "item": item_col, "weight": weight_col, "time": time_col})
    for c in (user_col, item_col):
        na = df[c].isna().to_numpy()
        if na.any():
            i = int(np.flatnonzero(na)[0])
            raise ValueError(f"interactions column {c!r} has a missing id in row {df.index[i]!r}")
    if weight_col is not None:
        w = pd.to_numeric(df[weight_col], errors="coerce").to_numpy(dtype=np.float64)
        _check_weights(w, df, weight_col)
    else:
        w = np.ones(len(df), dtype=np.float64)
    if time_col is not None and recency_half_life is not None and recency_boost > 0:
        t = df[time_col]
        if t.isna().any():
            i = int(np.flatnonzero(t.isna().to_numpy())[0])
            raise ValueError(f"time column {time_col!r} has a missing timestamp in row {df.index[i]!r}")
        w = w * recency_factors(df[user_col].to_numpy(), t.to_numpy(), half_life=float(recency_half_life),
                                boost=float(recency_boost))
    keep = w > 0
    if not keep.any():
        raise ValueError(f"every weight in column {weight_col!r} is 0: no interactions left")
    u_codes, users = pd.factorize(df[user_col].to_numpy()[keep], sort=False)
    i_codes, items = pd.factorize(df[item_col].to_numpy()[keep], sort=False)
    w = w[keep]
    key = u_codes.astype(np.int64) * len(items) + i_codes
    uniq, inv = np.unique(key, return_inverse=True)
    if len(uniq) < len(key):
        wsum = np.bincount(inv, weights=w, minlength=len(uniq))
    else:
        order = np.argsort(key, kind="stable")
        wsum = np.empty(len(uniq))
        wsum[:] = w[order]
    ur, ir = uniq // len(items), uniq % len(items)
    weighted = not np.all(wsum == 1.0)
    return Interactions(users=pd.Index(users, tupleize_cols=False),
                        items=pd.Index(items, tupleize_cols=False),
                        user_rows=ur.astype(np.int64), item_rows=ir.astype(np.int64),
                        weights=wsum.astype(np.float32), weighted=bool(weighted))


def train_test_split_interactions(df: pd.DataFrame, *, user_col: str = "user", item_col: str = "item",
                                  time_col: str | None = None, method: str = "random",
                                  test_size: float = 0.2, random_state: Any = 0
                                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split interactions per user into train and test frames (rows kept as they are).

    Parameters
    ----------
    df : DataFrame of interactions
    user_col, item_col : str
    time_col : str, optional
        Required by ``method="leave_last"``.
    method : {"random", "leave_last"}
        ``"random"``: each user's rows are shuffled and ``round(test_size * n_u)``
        of them go to test, but never all of them (a user keeps at least one
        train row; a user with one row stays in train). ``"leave_last"``: each
        user's latest row by ``time_col`` goes to test (ties broken by row
        order, the later row counting as later); users with one row stay in
        train; ``test_size`` is not used.
    test_size : float in (0, 1)
    random_state : int, Generator or None

    Returns
    -------
    train, test : DataFrame
        Subsets of ``df`` (same columns and index), each in ``df``'s row order.
    """
    _check_frame(df, {"user": user_col, "item": item_col, "time": time_col})
    if method not in ("random", "leave_last"):
        raise ValueError(f"method must be 'random' or 'leave_last', got {method!r}")
    codes, _ = pd.factorize(df[user_col].to_numpy(), sort=False)
    n = len(df)
    counts = np.bincount(codes)
    if method == "random":
        if not (isinstance(test_size, (float, int)) and 0 < test_size < 1):
            raise ValueError(f"test_size must be a float in (0, 1), got {test_size!r}")
        rng = check_random_state(random_state)
        order = np.lexsort((rng.random(n), codes))
    else:
        if time_col is None:
            raise ValueError("method='leave_last' needs time_col (the timestamp column)")
        t = df[time_col].to_numpy()
        order = np.lexsort((np.arange(n), t, codes))
    # position of each row within its user's (shuffled / time-ordered) list
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n) - np.repeat(starts, counts)
    if method == "random":
        n_test = np.minimum(np.floor(test_size * counts + 0.5).astype(np.int64), counts - 1)
        is_test = pos < n_test[codes]
    else:
        is_test = (pos == counts[codes] - 1) & (counts[codes] > 1)
    return df[~is_test], df[is_test]
