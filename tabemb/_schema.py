"""Schema inference: which kind each column of a DataFrame is.

Kinds
-----
``numeric``      real numbers (also numbers stored as strings)
``categorical``  few distinct values (a label set)
``text``         free text, names, addresses, codes (character n-grams)
``datetime``     dates and times (datetime dtypes, or strings that parse as dates
                 and contain a separator ``-``, ``/`` or ``:``)
``boolean``      bool dtype, or two values such as true/false, yes/no, 0/1
``skip``         identifier-like columns (every value unique and the name says
                 ``id``/``key``/``uuid``, or integers that are a row number) and
                 all-missing columns; they carry no similarity

Rules for object / string columns, in order (``n`` non-missing values):

1. all missing -> ``skip``;
2. at most two distinct lower-cased values out of true/false/yes/no/t/f/y/n/0/1 -> ``boolean``;
3. identifier-like (above) -> ``skip``;
4. >= 95% parse as numbers: *codes* (integers with a leading zero, or integers of
   one fixed width with more than 50% distinct values: postcodes, phone numbers,
   dates written as ``19560719``) -> ``text``, other numbers -> ``numeric``;
5. >= 95% parse as dates and contain a date separator -> ``datetime``;
6. at most ``max_categories`` distinct values (default 50) that repeat (distinct
   share <= 50%), or distinct share
   <= 5% with short values (<= 3 words on average) -> ``categorical``;
7. otherwise -> ``text``.

Mixed-type object columns are read through ``str(value)``. Every rule can be
overridden: ``infer_schema(df, overrides={"zip": "categorical"})``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = ["KINDS", "ColumnSpec", "Schema", "infer_schema"]

KINDS = ("numeric", "categorical", "text", "datetime", "boolean", "skip")
_ID_NAME = re.compile(r"(^|[_\s.-])(id|key|uuid|guid)$|^(index|rowid|row_id)$", re.IGNORECASE)
_BOOL_WORDS = {"true", "false", "yes", "no", "t", "f", "y", "n", "0", "1", "0.0", "1.0"}
_DATE_SEP = re.compile(r"[-/:]")


@dataclass
class ColumnSpec:
    """One column's kind and why it was chosen."""

    name: str
    kind: str
    dtype: str
    n_unique: int
    missing_share: float
    reason: str


class Schema:
    """The inferred (or overridden) kind of every column, in input order.

    ``schema.to_frame()`` shows it as a DataFrame (one row per column);
    ``schema["col"]`` gives the :class:`ColumnSpec`; ``schema.columns(kind)``
    lists the columns of one kind. It round-trips through :meth:`to_json`.
    """

    def __init__(self, specs: list[ColumnSpec]) -> None:
        self.specs = list(specs)

    def __getitem__(self, name: str) -> ColumnSpec:
        for s in self.specs:
            if s.name == name:
                return s
        raise KeyError(f"column {name!r} is not in the schema; columns: {[s.name for s in self.specs]}")

    def __len__(self) -> int:
        return len(self.specs)

    def __repr__(self) -> str:
        return "Schema(" + ", ".join(f"{s.name}={s.kind}" for s in self.specs) + ")"

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def columns(self, kind: str | None = None) -> list[str]:
        """Column names of ``kind`` (all encoded columns, i.e. not ``skip``, when None)."""
        if kind is None:
            return [s.name for s in self.specs if s.kind != "skip"]
        return [s.name for s in self.specs if s.kind == kind]

    def to_frame(self) -> pd.DataFrame:
        """The schema as a DataFrame indexed by column name."""
        return pd.DataFrame([asdict(s) for s in self.specs]).set_index("name")

    def to_json(self) -> list[dict]:
        return [asdict(s) for s in self.specs]

    @classmethod
    def from_json(cls, data: list[dict]) -> Schema:
        return cls([ColumnSpec(**d) for d in data])

    def _repr_html_(self) -> str:  # shown in notebooks
        return self.to_frame()._repr_html_()


def _as_str(s: pd.Series) -> pd.Series:
    """Non-missing values of ``s`` as str (mixed object columns via ``str``)."""
    s = s.dropna()
    if s.dtype == object:
        s = s.map(str)
    return s.astype(str).str.strip()


def _is_integer_sequence(values: np.ndarray) -> bool:
    v = np.sort(values)
    return len(v) >= 2 and bool(np.all(np.diff(v) == 1))


def _infer_one(name: str, s: pd.Series, *, max_categories: int) -> tuple[str, str]:
    n = int(s.notna().sum())
    if n == 0:
        return "skip", "all values missing"
    dtype = s.dtype
    n_unique = int(s.nunique(dropna=True))
    all_unique = n_unique == n and n >= 20
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean", "bool dtype"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime", "datetime dtype"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", "category dtype"
    if pd.api.types.is_numeric_dtype(dtype):
        vals = s.dropna().to_numpy()
        if n_unique <= 2 and set(np.unique(vals).tolist()) <= {0, 1}:
            return "boolean", "numeric with values 0/1 only"
        is_int = bool(np.all(np.mod(vals, 1) == 0))
        if all_unique and is_int and (_ID_NAME.search(str(name)) or _is_integer_sequence(vals)):
            return "skip", "identifier-like: unique integers (row number or id name)"
        return "numeric", "numeric dtype"
    # object / string columns
    text = _as_str(s)
    text = text[text != ""]
    if len(text) == 0:
        return "skip", "all values missing or empty"
    lower = text.str.lower()
    uniq = set(lower.unique().tolist()) if n_unique <= 4 else None
    if uniq is not None and len(uniq) <= 2 and uniq <= _BOOL_WORDS:
        return "boolean", f"two-valued {sorted(uniq)}"
    if all_unique and _ID_NAME.search(str(name)):
        return "skip", "identifier-like: every value unique and an id-like name"
    num = pd.to_numeric(text, errors="coerce")
    ok = num.notna().to_numpy()
    if ok.mean() >= 0.95:
        good = text[ok]
        numv = num[ok].to_numpy(dtype=float)
        is_int = bool(np.all(np.mod(numv, 1) == 0)) and not good.str.contains(r"[.eE]", regex=True).any()
        if is_int:
            lead0 = good.str.match(r"^0\d").any()
            lens = good.str.len()
            fixed = float((lens == lens.mode().iloc[0]).mean()) >= 0.9
            if lead0 or (fixed and n_unique / n > 0.5 and lens.mode().iloc[0] >= 4):
                return "text", "code: digit strings (leading zero or fixed width, mostly distinct)"
        return "numeric", "numbers stored as strings"
    if text.str.contains(_DATE_SEP).mean() >= 0.95:
        dt = pd.to_datetime(text, errors="coerce", format="mixed")
        if dt.notna().mean() >= 0.95:
            return "datetime", "strings that parse as dates"
    if n_unique <= max_categories and n_unique <= 0.5 * n:
        return "categorical", f"{n_unique} distinct values <= max_categories={max_categories}"
    words = float(text.str.count(" ").mean()) + 1.0
    if n_unique / n <= 0.05 and words <= 3:
        return "categorical", f"distinct share {n_unique / n:.3f} <= 0.05 and short values"
    return "text", f"{n_unique} distinct values, {words:.1f} words on average"


def infer_schema(df: pd.DataFrame, *, overrides: dict[str, str] | None = None,
                 max_categories: int = 50) -> Schema:
    """Infer the kind of each column of ``df`` (see the module docstring for the rules).

    Parameters
    ----------
    df : DataFrame
    overrides : dict, optional
        ``{column: kind}`` with kind one of :data:`KINDS`; wins over inference.
    max_categories : int, default 50
        String columns with at most this many distinct values are categorical.

    Returns
    -------
    Schema
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    overrides = dict(overrides or {})
    unknown = [c for c in overrides if c not in df.columns]
    if unknown:
        raise KeyError(f"schema overrides name columns that are not in the frame: {unknown}")
    bad = {c: k for c, k in overrides.items() if k not in KINDS}
    if bad:
        raise ValueError(f"schema override kinds must be one of {KINDS}, got {bad}")
    specs = []
    for name in df.columns:
        s = df[name]
        if isinstance(s, pd.DataFrame):
            raise ValueError(f"column name {name!r} is repeated; column names must be unique")
        if name in overrides:
            kind, reason = overrides[name], "override"
        else:
            kind, reason = _infer_one(name, s, max_categories=max_categories)
        specs.append(ColumnSpec(name=str(name), kind=kind, dtype=str(s.dtype),
                                n_unique=int(s.nunique(dropna=True)),
                                missing_share=round(float(s.isna().mean()) if len(s) else 0.0, 4),
                                reason=reason))
    return Schema(specs)
