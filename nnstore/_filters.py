"""Filter expressions over a neighbour store's metadata columns.

Build them with :func:`col` and combine with ``&`` (and), ``|`` (or) and
``~`` (not)::

    from nnstore import col
    f = (col("genre") == "drama") & col("price").between(1, 10) & ~col("sku").isin(["a", "b"])

An expression evaluates to a boolean numpy mask over the rows of a metadata
DataFrame, vectorised (one pandas operation per leaf). Missing values (None,
NaN, NaT, ``pd.NA`` of the nullable ``Int64``/``string``/``boolean`` dtypes)
never pass a leaf: ``==``, ``!=``, ``<``, ..., ``isin`` and ``between`` are
all False where the value is missing (``col("x") != 3`` too); use
``col("x").isna()`` to select them. ``~`` negates the mask as it is, so
``~(col("x") > 3)`` holds where ``x`` is missing. A column that does not
exist raises a ``KeyError`` naming it and the columns that do.

A plain callable ``lambda meta: meta["x"] > 3`` (DataFrame -> boolean Series
or array of the same length; a nullable boolean result counts NA as False)
is accepted wherever an expression is.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Expr", "col", "evaluate_filter"]


class Expr:
    """A boolean expression over metadata columns; evaluate with :meth:`mask`."""

    __hash__ = None  # type: ignore[assignment]

    def mask(self, meta: pd.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def columns(self) -> set[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __and__(self, other: Expr) -> Expr:
        return _BoolOp("&", _as_expr(self), _as_expr(other))

    def __or__(self, other: Expr) -> Expr:
        return _BoolOp("|", _as_expr(self), _as_expr(other))

    def __invert__(self) -> Expr:
        return _Not(self)

    def __bool__(self) -> bool:
        raise TypeError("a filter expression has no truth value; combine with &, |, ~ "
                        "(not `and`, `or`, `not`)")


def _as_expr(x: Any) -> Expr:
    if not isinstance(x, Expr):
        raise TypeError(f"can only combine filter expressions, got {type(x).__name__}: {x!r}")
    return x


def _column(meta: pd.DataFrame, name: str) -> pd.Series:
    if name not in meta.columns:
        raise KeyError(f"filter column {name!r} is not in the store's metadata; "
                       f"columns: {list(meta.columns)[:20]}")
    return meta[name]


def _as_mask(result: Any, present: np.ndarray) -> np.ndarray:
    """A pandas/numpy comparison result as a plain bool mask: NA and missing rows are False."""
    if isinstance(result, (pd.Series, pd.Index)):
        arr = result.to_numpy(dtype=bool, na_value=False)
    else:
        arr = np.asarray(result, dtype=bool)
    return arr & present


_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


class _Compare(Expr):
    def __init__(self, name: str, op: str, value: Any) -> None:
        self.name, self.op, self.value = name, op, value

    def mask(self, meta):
        s = _column(meta, self.name)
        present = s.notna().to_numpy(dtype=bool)
        out = np.zeros(len(s), dtype=bool)
        if not present.any():
            return out
        try:
            # only the present values are compared: None in an object column cannot be
            # ordered against a number, and missing never passes anyway
            part = s if present.all() else s[present]
            out[present] = _as_mask(_OPS[self.op](part, self.value), np.ones(len(part), dtype=bool))
        except TypeError as e:
            raise TypeError(f"filter {self!r}: cannot compare column {self.name!r} "
                            f"(dtype {s.dtype}) with {self.value!r}: {e}") from e
        return out

    def columns(self):
        return {self.name}

    def __repr__(self):
        return f"col({self.name!r}) {self.op} {self.value!r}"


class _IsIn(Expr):
    def __init__(self, name: str, values: Iterable) -> None:
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"isin expects a collection of values, got {values!r}")
        self.name, self.values = name, list(values)

    def mask(self, meta):
        s = _column(meta, self.name)
        return _as_mask(s.isin(self.values), s.notna().to_numpy(dtype=bool))

    def columns(self):
        return {self.name}

    def __repr__(self):
        return f"col({self.name!r}).isin({self.values[:5]!r}{'...' if len(self.values) > 5 else ''})"


class _Between(Expr):
    def __init__(self, name: str, low: Any, high: Any, inclusive: str) -> None:
        if inclusive not in ("both", "neither", "left", "right"):
            raise ValueError(f"inclusive must be 'both', 'neither', 'left' or 'right', got {inclusive!r}")
        self.name, self.low, self.high, self.inclusive = name, low, high, inclusive

    def mask(self, meta):
        s = _column(meta, self.name)
        present = s.notna().to_numpy(dtype=bool)
        out = np.zeros(len(s), dtype=bool)
        if not present.any():
            return out
        part = s if present.all() else s[present]
        try:
            res = part.between(self.low, self.high, inclusive=self.inclusive)
        except TypeError as e:
            raise TypeError(f"filter {self!r}: cannot compare column {self.name!r} "
                            f"(dtype {s.dtype}) with {self.low!r} and {self.high!r}: {e}") from e
        out[present] = _as_mask(res, np.ones(len(part), dtype=bool))
        return out

    def columns(self):
        return {self.name}

    def __repr__(self):
        return f"col({self.name!r}).between({self.low!r}, {self.high!r})"


class _IsNa(Expr):
    def __init__(self, name: str, negate: bool) -> None:
        self.name, self.negate = name, negate

    def mask(self, meta):
        s = _column(meta, self.name)
        return (s.notna() if self.negate else s.isna()).to_numpy(dtype=bool)

    def columns(self):
        return {self.name}

    def __repr__(self):
        return f"col({self.name!r}).{'notna' if self.negate else 'isna'}()"


class _BoolOp(Expr):
    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op, self.left, self.right = op, left, right

    def mask(self, meta):
        a, b = self.left.mask(meta), self.right.mask(meta)
        return (a & b) if self.op == "&" else (a | b)

    def columns(self):
        return self.left.columns() | self.right.columns()

    def __repr__(self):
        return f"({self.left!r}) {self.op} ({self.right!r})"


class _Not(Expr):
    def __init__(self, inner: Expr) -> None:
        self.inner = inner

    def mask(self, meta):
        return ~self.inner.mask(meta)

    def columns(self):
        return self.inner.columns()

    def __repr__(self):
        return f"~({self.inner!r})"


class Col:
    """A metadata column reference; comparisons build :class:`Expr` leaves."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"column name must be a string, got {type(name).__name__}: {name!r}")
        self.name = name

    def __eq__(self, value):  # type: ignore[override]
        return _Compare(self.name, "==", value)

    def __ne__(self, value):  # type: ignore[override]
        return _Compare(self.name, "!=", value)

    def __lt__(self, value):
        return _Compare(self.name, "<", value)

    def __le__(self, value):
        return _Compare(self.name, "<=", value)

    def __gt__(self, value):
        return _Compare(self.name, ">", value)

    def __ge__(self, value):
        return _Compare(self.name, ">=", value)

    def isin(self, values: Iterable) -> Expr:
        """Value is one of ``values``."""
        return _IsIn(self.name, values)

    def between(self, low: Any, high: Any, inclusive: str = "both") -> Expr:
        """``low <= value <= high`` (``inclusive`` as in ``pandas.Series.between``)."""
        return _Between(self.name, low, high, inclusive)

    def isna(self) -> Expr:
        """Value is missing."""
        return _IsNa(self.name, negate=False)

    def notna(self) -> Expr:
        """Value is present."""
        return _IsNa(self.name, negate=True)

    def __repr__(self):
        return f"col({self.name!r})"


def col(name: str) -> Col:
    """Refer to metadata column ``name`` in a filter expression."""
    return Col(name)


def evaluate_filter(filter: Expr | Callable | None, meta: pd.DataFrame) -> np.ndarray | None:
    """Evaluate ``filter`` over ``meta``'s rows; a boolean mask, or None for no filter.

    Raises ``KeyError`` for a missing column, ``TypeError`` for something that is
    not a filter, ``ValueError`` when a callable returns the wrong length or type.
    """
    if filter is None:
        return None
    if isinstance(filter, Col):
        raise TypeError(f"filter {filter!r} is a column, not a condition; "
                        f"write e.g. {filter!r} == value")
    if isinstance(filter, Expr):
        return filter.mask(meta)
    if callable(filter):
        out = filter(meta)
        if isinstance(out, (pd.Series, pd.Index)) and pd.api.types.is_bool_dtype(out.dtype):
            out = out.to_numpy(dtype=bool, na_value=False)  # nullable boolean: NA never passes
        arr = np.asarray(out)
        if arr.shape != (len(meta),) or arr.dtype != bool:
            raise ValueError(
                "a callable filter must return a boolean Series/array with one entry per "
                f"metadata row ({len(meta)}), got dtype {arr.dtype} and shape {arr.shape}"
            )
        return arr
    raise TypeError(f"filter must be an expression built with col(...), a callable or None, "
                    f"got {type(filter).__name__}")
