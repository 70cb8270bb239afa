"""Column encoders: learned statistics (fit) and the arrays each column feeds the network.

Each encoder turns one column into numpy arrays (its *features*) and says how
wide its embedding block is. The torch module in ``_table_encoder`` maps the
features to a block; every block is L2-normalised, so each column adds a
cosine-like similarity term to the row's embedding.

- :class:`TextEncoder`: each value's distinct character n-gram (and word)
  buckets with their counts, and the buckets' IDF learned in fit. The block is
  a signed hashed sketch (an ``EmbeddingBag`` whose rows are fixed signed unit
  vectors) of the value's sublinear TF x weight vector, the weights being one
  learned scalar per bucket that starts at the IDF: at initialisation the
  block is the value's TF-IDF vector hashed to ``dim`` dimensions, and
  training reweights n-grams the way IDF does, by how useful they are.
  Fit also records each bucket's *kind* (``kinds``: token kind x document-
  frequency bin, see ``tabemb._text.token_kinds``), for the weights that
  ``fine_tune_pairs(weights="kinds")`` shares among all buckets of a kind.
- :class:`CategoricalEncoder`: integer codes; 0 = missing (a zero vector),
  1 = the rare/unseen bucket (values seen fewer than ``min_frequency`` times in
  fit, and values never seen), 2.. = the vocabulary. Embedding size rule:
  ``min(max_dim, round(1.6 * n_levels ** 0.56))`` (fast.ai's rule of thumb),
  with ``n_levels = vocabulary + 2``.
- :class:`NumericEncoder`: robust scaling ``(x - median) / IQR`` (IQR 0 -> the
  standard deviation, then 1), clipped to [-5, 5]; features are the scaled value,
  a missing indicator and ``n_bins`` Gaussian soft bins over [-2, 2] so that
  near values get near blocks. Missing -> scaled 0, indicator 1, bins 0.
  Strings that are not numbers count as missing.
- :class:`DatetimeEncoder`: year (robust-scaled), sin/cos of month, day of
  month, day of week and time of day, and a missing indicator (10 features).
  Unparseable values count as missing.
- Boolean columns use :class:`CategoricalEncoder` with the vocabulary
  ``["false", "true"]`` (true/yes/t/y/1 -> true).
- :class:`ValueEncoder`: the exact values of all numeric columns of a row, one
  block (the pseudo-column ``VALUES``): each value's hashed signed one-hot
  (per column its own hash), summed over the row's columns. Two rows share a
  direction only where a column holds the same number (a year, a price), which
  the soft bins of :class:`NumericEncoder` cannot tell from a near number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._text import bucket_kinds, hash_parts, idf_weights, text_codes, token_kinds

__all__ = ["ROW", "VALUES", "CategoricalEncoder", "DatetimeEncoder", "NumericEncoder", "TextEncoder",
           "ValueEncoder", "encoder_from_state", "make_encoder"]

#: the name of the row-text block's encoder (the pseudo-column of the whole row's text)
ROW = "__row__"
#: the name of the exact-values block's encoder (the pseudo-column of the row's numeric values)
VALUES = "__values__"
#: the pseudo-columns: blocks that read several columns of the row
PSEUDO = (ROW, VALUES)

_TRUE = {"true", "yes", "t", "y", "1", "1.0"}
_FALSE = {"false", "no", "f", "n", "0", "0.0"}


def _strings(s: pd.Series) -> pd.Series:
    """Values as stripped str with missing kept as NA (mixed object columns via str())."""
    if s.dtype == object:
        s = s.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
    return s.astype("string").str.strip()


class TextEncoder:
    """Hashed character n-grams (and words) of one text column, with their IDF.

    Parameters
    ----------
    name : str
        The column (``ROW`` for the row-text block).
    salt : int
        Hash salt (0 for every block, so a value hashes once for its column and the row text).
    n_buckets : int
        Hash buckets.
    ngram_range : tuple of (int, int)
        Character n-gram sizes.
    max_chars : int
        Values are cut to this many characters.
    dim : int
        Size of the block's sketch.
    words : int, default=1
        0 = n-grams only, 1 = also words, 2 = also words and joined tokens.
    join : bool, default=True
        Several parts of a row are joined into one text (else hashed one by one and added up).
    char_wb : bool, default=False
        n-grams inside words only (scikit-learn's ``analyzer="char_wb"``).

    Attributes
    ----------
    idf : ndarray of shape (n_buckets,), float32
        Smoothed IDF of each bucket over the fitted values (set by ``fit``).
    kinds : ndarray of shape (n_buckets,), int8
        Token kind x document-frequency bin of each bucket (see ``tabemb._text.token_kinds``).
    """

    kind = "text"

    def __init__(self, name: str, *, salt: int, n_buckets: int, ngram_range: tuple[int, int],
                 max_chars: int, dim: int, words: int = 1, join: bool = True, char_wb: bool = False) -> None:
        self.name, self.salt, self.n_buckets = name, int(salt), int(n_buckets)
        self.ngram_range, self.max_chars, self.dim = tuple(ngram_range), int(max_chars), int(dim)
        # words: 0 = n-grams only, 1 = + words, 2 = + words and joined tokens (see tabemb._text)
        self.words, self.join = int(words), bool(join)
        # char_wb: n-grams inside words only (scikit-learn's analyzer="char_wb"), else across words too
        self.char_wb = bool(char_wb)
        self.idf: np.ndarray | None = None
        # kind of each bucket (token kind x document-frequency bin, see tabemb._text.token_kinds):
        # what fine_tune_pairs(weights="kinds") learns one weight for
        self.kinds: np.ndarray | None = None

    def hash_codes(self, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple:
        """``(ids, tf, indptr)`` of rows given as parts of a code-point buffer (see ``hash_parts``)."""
        return hash_parts(codes, starts, ends, n_buckets=self.n_buckets, salt=self.salt,
                          ngram_range=self.ngram_range, max_chars=self.max_chars, words=self.words,
                          join=self.join, char_wb=self.char_wb)

    def fit(self, s: pd.Series) -> TextEncoder:
        return self.fit_codes(*text_codes(s))

    def fit_codes(self, codes, starts, ends) -> TextEncoder:
        ids, _tf, indptr = self.hash_codes(codes, starts, ends)
        self.idf = idf_weights(ids, indptr, self.n_buckets)
        base = bucket_kinds(codes, starts, ends, n_buckets=self.n_buckets, salt=self.salt,
                            ngram_range=self.ngram_range, max_chars=self.max_chars, words=self.words,
                            join=self.join, char_wb=self.char_wb)
        self.kinds = token_kinds(ids, indptr, base)
        return self

    def features(self, s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ids, tf, indptr)``: each value's distinct n-gram buckets (CSR) and their counts."""
        return self.hash_codes(*text_codes(s))

    def state(self) -> dict:
        return {"kind": self.kind, "name": self.name, "salt": self.salt, "n_buckets": self.n_buckets,
                "ngram_range": list(self.ngram_range), "max_chars": self.max_chars, "dim": self.dim,
                "words": self.words, "join": self.join, "char_wb": self.char_wb}


class CategoricalEncoder:
    """Integer codes of one categorical (or boolean) column: 0 = missing, 1 = rare or unseen,
    2.. = the vocabulary of values seen at least ``min_frequency`` times in fit.

    Parameters
    ----------
    name : str
    min_frequency : int, default=2
    max_dim : int, default=32
        Cap of the embedding size rule ``round(1.6 * n_levels ** 0.56)``.
    boolean : bool, default=False
        Read true/yes/t/y/1 and false/no/f/n/0 as the two levels (block size 2).
    one_hot : bool, default=False
        When the codes 1.. (the rare bucket and the vocabulary) fit in ``max_dim``,
        the block has one dimension per code and starts as that code's one-hot
        (:attr:`one_hot_init`): different levels start orthogonal instead of at
        random angles. Otherwise the size rule above and a random start.
    """

    kind = "categorical"

    def __init__(self, name: str, *, min_frequency: int = 2, max_dim: int = 32,
                 boolean: bool = False, one_hot: bool = False) -> None:
        self.name, self.min_frequency, self.max_dim = name, int(min_frequency), int(max_dim)
        self.boolean, self.one_hot = bool(boolean), bool(one_hot)
        self.vocabulary: list[str] = []

    @property
    def one_hot_init(self) -> bool:
        """Whether the block is one dimension per code, started at the codes' one-hots."""
        return self.one_hot and not self.boolean and len(self.vocabulary) + 1 <= self.max_dim

    @property
    def dim(self) -> int:
        if self.boolean:
            return 2
        if self.one_hot_init:
            return len(self.vocabulary) + 1
        return int(min(self.max_dim, max(2, round(1.6 * (len(self.vocabulary) + 2) ** 0.56))))

    def _values(self, s: pd.Series) -> pd.Series:
        v = _strings(s)
        if self.boolean:
            low = v.str.lower()
            v = pd.Series(pd.NA, index=s.index, dtype="string")
            v[low.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = "true"
            v[low.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = "false"
        return v

    def fit(self, s: pd.Series) -> CategoricalEncoder:
        if self.boolean:
            self.vocabulary = ["false", "true"]
            return self
        counts = self._values(s).value_counts(dropna=True)
        keep = counts[counts >= self.min_frequency]
        self.vocabulary = sorted(str(v) for v in keep.index)
        return self

    def features(self, s: pd.Series) -> tuple[np.ndarray]:
        v = self._values(s)
        codes = pd.Index(self.vocabulary, dtype=object).get_indexer(v.astype(object)).astype(np.int64) + 2
        # codes: -1 (unseen, rare or missing) + 2 -> 1 = the rare/unseen bucket
        codes[v.isna().to_numpy()] = 0
        return (codes,)

    def state(self) -> dict:
        return {"kind": "boolean" if self.boolean else self.kind, "name": self.name,
                "min_frequency": self.min_frequency, "max_dim": self.max_dim,
                "vocabulary": self.vocabulary, "one_hot": self.one_hot}


def _to_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(_strings(s), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


class NumericEncoder:
    """Robust-scaled value, missing indicator and 9 Gaussian soft bins of one numeric column.

    Parameters
    ----------
    name : str
    dim : int, default=9
        Block size (the network's projection of the 11 features; with at least 9
        dimensions the projection starts as the selection of the 9 soft bins).
    """

    kind = "numeric"
    centers = np.linspace(-2.0, 2.0, 9)

    def __init__(self, name: str, *, dim: int = 9) -> None:
        self.name, self.dim = name, int(dim)
        self.median, self.scale = 0.0, 1.0

    def fit(self, s: pd.Series) -> NumericEncoder:
        x = _to_float(s)
        x = x[np.isfinite(x)]
        if len(x):
            q25, med, q75 = np.percentile(x, [25, 50, 75])
            scale = q75 - q25
            if not scale > 0:
                scale = float(np.std(x))
            self.median, self.scale = float(med), float(scale) if scale > 0 else 1.0
        return self

    def features(self, s: pd.Series) -> tuple[np.ndarray]:
        x = _to_float(s)
        miss = ~np.isfinite(x)
        z = np.clip((np.where(miss, self.median, x) - self.median) / self.scale, -5.0, 5.0)
        width = self.centers[1] - self.centers[0]
        bins = np.exp(-0.5 * ((z[:, None] - self.centers[None, :]) / width) ** 2)
        bins[miss] = 0.0
        feats = np.column_stack([z, miss.astype(np.float64), bins]).astype(np.float32)
        return (feats,)

    @property
    def n_features(self) -> int:
        return 2 + len(self.centers)

    @property
    def n_bins(self) -> int:
        """Number of soft bins (features ``2..``); a block of at least this size starts as them."""
        return len(self.centers)

    def state(self) -> dict:
        return {"kind": self.kind, "name": self.name, "dim": self.dim, "median": self.median,
                "scale": self.scale}


def _to_datetime(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
    else:
        out = pd.to_datetime(_strings(s), errors="coerce", format="mixed")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


class DatetimeEncoder:
    """Year (robust-scaled), cyclical month / day / weekday / time of day and a missing
    indicator (10 features) of one datetime column.

    Parameters
    ----------
    name : str
    dim : int, default=8
        Block size (the network's projection of the 10 features).
    """

    kind = "datetime"
    n_features = 10

    def __init__(self, name: str, *, dim: int = 8) -> None:
        self.name, self.dim = name, int(dim)
        self.year_median, self.year_scale = 2000.0, 10.0

    def fit(self, s: pd.Series) -> DatetimeEncoder:
        years = _to_datetime(s).dt.year.dropna().to_numpy(dtype=np.float64)
        if len(years):
            q25, med, q75 = np.percentile(years, [25, 50, 75])
            self.year_median = float(med)
            self.year_scale = float(q75 - q25) if q75 > q25 else 10.0
        return self

    def features(self, s: pd.Series) -> tuple[np.ndarray]:
        dt = _to_datetime(s)
        miss = dt.isna().to_numpy()

        def part(values, period):
            a = 2 * np.pi * np.nan_to_num(values.to_numpy(dtype=np.float64, na_value=np.nan)) / period
            return np.sin(a), np.cos(a)

        year = (dt.dt.year.to_numpy(dtype=np.float64, na_value=np.nan) - self.year_median) / self.year_scale
        year = np.clip(np.nan_to_num(year), -5, 5)
        cols = [year, *part(dt.dt.month - 1, 12), *part(dt.dt.day - 1, 31), *part(dt.dt.day_of_week, 7),
                *part(dt.dt.hour * 3600 + dt.dt.minute * 60 + dt.dt.second, 86400), miss.astype(np.float64)]
        feats = np.column_stack(cols)
        feats[miss, :-1] = 0.0
        return (feats.astype(np.float32),)

    def state(self) -> dict:
        return {"kind": self.kind, "name": self.name, "dim": self.dim,
                "year_median": self.year_median, "year_scale": self.year_scale}


_M32 = np.uint64(0xFFFFFFFF)


def _mix64(u: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (splitmix64's): every input bit moves every output bit."""
    with np.errstate(over="ignore"):
        u = (u ^ (u >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        u = (u ^ (u >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return u ^ (u >> np.uint64(31))


class ValueEncoder:
    """The exact values of the numeric columns of a row: one block, hashed signed one-hots.

    Each finite value of column ``j`` (parsed as for :class:`NumericEncoder`; ``-0.0`` is
    ``0.0``, ``1999`` and ``"1999.0"`` are the same value) goes to column
    ``h(j, value) mod dim`` of the block with sign ``+1`` or ``-1`` (fixed hashes); a row's
    block is the sum over its columns, so two rows' blocks have cosine 1 where every value
    is equal, 0 where none is (two different values share a column with probability
    ``1 / dim``). Missing and non-numeric values add nothing. Nothing is learned in fit.

    Parameters
    ----------
    columns : list of str
        The numeric columns, in the order that salts their hashes.
    dim : int
        Block size.
    """

    kind = "values"
    name = VALUES

    def __init__(self, columns: list, *, dim: int) -> None:
        self.columns, self.dim = [str(c) for c in columns], int(dim)

    def fit(self, df: pd.DataFrame) -> ValueEncoder:
        return self

    def features(self, df: pd.DataFrame) -> tuple[np.ndarray]:
        """``(block,)``: float32 of shape (n_rows, dim), before normalisation."""
        out = np.zeros((len(df), self.dim), dtype=np.float32)
        rows = np.arange(len(df))
        for j, c in enumerate(self.columns):
            x = _to_float(df[c])
            ok = np.isfinite(x)
            bits = (np.where(ok, x, 0.0) + 0.0).view(np.uint64)  # + 0.0: -0.0 -> 0.0
            h = _mix64(bits ^ _mix64(np.full(len(x), j + 1, dtype=np.uint64)))
            col = (((h & _M32) * np.uint64(self.dim)) >> np.uint64(32)).astype(np.int64)
            sign = np.where((h >> np.uint64(63)) == 1, -1.0, 1.0).astype(np.float32)
            np.add.at(out, (rows[ok], col[ok]), sign[ok])
        return (out,)

    def state(self) -> dict:
        return {"kind": self.kind, "name": self.name, "columns": self.columns, "dim": self.dim}


def _words_mode(params: dict) -> int:
    """0 = n-grams only, 1 = + words, 2 = + words and joined tokens (a model saved before
    ``joined_tokens`` existed has no such parameter: no joined tokens)."""
    if not params.get("words", True):
        return 0
    return 2 if params.get("joined_tokens", False) else 1


def make_encoder(kind: str, name: str, *, salt: int, params: dict):
    """A fresh encoder of ``kind`` for column ``name`` from the TableEncoder's parameters."""
    if kind == "text":
        return TextEncoder(name, salt=salt, n_buckets=params["n_buckets"],
                           ngram_range=tuple(params["ngram_range"]), max_chars=params["max_chars"],
                           dim=params["text_dim"], words=_words_mode(params),
                           char_wb=params.get("analyzer", "char") == "char_wb")
        # (the row-text block passes its own text_dim)
    if kind in ("categorical", "boolean"):
        return CategoricalEncoder(name, min_frequency=params["min_frequency"],
                                  max_dim=params["max_categorical_dim"], boolean=kind == "boolean",
                                  one_hot=True)
    if kind == "numeric":
        return NumericEncoder(name, dim=params["numeric_dim"])
    if kind == "datetime":
        return DatetimeEncoder(name, dim=params["numeric_dim"])
    raise ValueError(f"no encoder for kind {kind!r}")


def encoder_from_state(state: dict, params: dict):
    kind = state["kind"]
    if kind == "values":
        return ValueEncoder(state["columns"], dim=state["dim"])
    if kind == "text":
        params = {**params, "text_dim": state["dim"]}
    enc = make_encoder(kind, state["name"], salt=state.get("salt", 0), params=params)
    if kind == "text":
        enc.join = bool(state.get("join", True))
        enc.words = int(state.get("words", enc.words))  # saved as a bool before joined tokens
        enc.char_wb = bool(state.get("char_wb", False))  # saved before char_wb existed: "char"
    if kind in ("categorical", "boolean"):
        enc.vocabulary = list(state["vocabulary"])
        enc.one_hot = bool(state.get("one_hot", False))  # saved before one-hot starts: random
    elif kind == "numeric":
        enc.median, enc.scale = state["median"], state["scale"]
    elif kind == "datetime":
        enc.year_median, enc.year_scale = state["year_median"], state["year_scale"]
    return enc
