"""TableEncoder: embed the rows of any table; pre-train without labels, fine-tune with them.

The estimator is a sequence of named stages, each in its own module:

- schema inference (``tabemb._schema``) and column encoders (``tabemb._encoders``);
- the network (``tabemb._network``), its inputs and the compiled embedding pass
  (``tabemb._features``);
- self-supervised pre-training and target fine-tuning (``tabemb._training``);
- fine-tuning on record pairs and self-training (``tabemb._pair_tuning``).
"""

from __future__ import annotations

import numbers
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from nnstore import (
    RANDOM_STATE,
    VERBOSE,
    ArtifactWriter,
    Interval,
    StrOptions,
    check_is_fitted,
    check_random_state,
    embeddings_frame,
    public_name,
    read_artifact,
    validate_params,
)

from ._encoders import PSEUDO, ROW, TextEncoder, ValueEncoder, encoder_from_state, make_encoder
from ._schema import Schema, infer_schema

__all__ = ["TableEncoder"]

KIND = "table_encoder"

_POS_INT = [Interval(numbers.Integral, 1, None, closed="left")]
_NONNEG_INT = [Interval(numbers.Integral, 0, None, closed="left")]
_POS_REAL = [Interval(numbers.Real, 0, None, closed="neither")]
_SHARE = [Interval(numbers.Real, 0, 1, closed="left")]


def _as_frame(X: Any, name: str = "X") -> pd.DataFrame:
    """``X`` as a DataFrame with string column names: a DataFrame as it is (non-string column
    names written with ``str``), a 2-D array or list of rows with columns ``x0, x1, ...``.

    Raises
    ------
    TypeError
        A sparse matrix (records are rows of values: densify it, or embed it another way).
    ValueError
        A 1-D or 3-D input, complex values, no rows, repeated column names.
    """
    if isinstance(X, pd.Series):
        raise ValueError(f"{name} must be 2-D (a DataFrame of records); got a Series of {len(X)} values: "
                         f"use {name}.to_frame() for one column")
    if not isinstance(X, pd.DataFrame):
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            raise TypeError(f"{name} is a scipy sparse matrix; TableEncoder reads records (a DataFrame "
                            f"or a dense 2-D array): pass {name}.toarray() if it is small")
        arr = np.asarray(X, dtype=None if isinstance(X, np.ndarray) else object)
        if arr.ndim != 2:
            raise ValueError(f"{name} must be 2-D (a DataFrame, or an array of shape (n_rows, n_columns)); "
                             f"got {arr.ndim}-D input of shape {arr.shape}. Reshape your data"
                             + (f": {name}.reshape(-1, 1) for one column, {name}.reshape(1, -1) for one row"
                                if arr.ndim == 1 else ""))
        if np.iscomplexobj(arr):
            raise ValueError(f"Complex data not supported: {name} has dtype {arr.dtype}")
        X = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    else:
        cplx = [c for c in X.columns if pd.api.types.is_complex_dtype(X[c].dtype)]
        if cplx:
            raise ValueError(f"Complex data not supported: {name} column(s) {cplx} are complex")
    if len(X) == 0:
        raise ValueError(f"{name} is empty: expected at least one row")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required: "
                         "expected at least one column")
    if not all(isinstance(c, str) for c in X.columns):
        X = X.rename(columns=str)
    if X.columns.duplicated().any():
        dup = X.columns[X.columns.duplicated()].tolist()
        raise ValueError(f"{name} has repeated column names: {dup}")
    return X


class TableEncoder(TransformerMixin, BaseEstimator):
    """Embed the rows of a table; self-supervised pre-training, supervised fine-tuning.

    Every encoded column becomes an L2-normalised block: text -> character n-grams
    (and words) hashed into buckets, each bucket weighted by a learned scalar that
    starts at its IDF, and the value's sublinear-TF x weight bag sketched into the
    block by fixed signed hashing; categorical -> an entity embedding; numeric ->
    robust scaling, missing indicator and soft bins; datetime -> parts and cyclical
    encodings. One more text block, the row text, sketches the n-grams of all text
    and categorical values of the row together; one more block holds the exact
    values of the numeric columns (hashed signed one-hots: rows holding the same
    year or price share it, rows holding near numbers do not). The blocks are
    weighted (learned block weights), concatenated, passed through a residual MLP
    whose output layer starts at zero (used only after :meth:`fine_tune`), and
    scaled to unit length, so cosine similarity is the dot product. Untrained, a
    text block is the value's TF-IDF vector hashed to the block's size, a strong
    retrieval embedding on its own; pre-training, self-training and fine-tuning
    reweight it.

    The defaults are the settings measured best for record retrieval without labels
    (benchmarks/results/tabemb.md).

    Parameters
    ----------
    schema : dict or Schema, optional
        ``{column: kind}`` overrides of the inferred schema (see
        :func:`tabemb.infer_schema`), or a whole :class:`tabemb.Schema`.
    objective : {"contrastive", "masked"}, default="contrastive"
        Pre-training objective. ``"contrastive"``: SCARF-style InfoNCE between two
        corrupted views of each row (cells replaced by values drawn from the column's
        empirical marginal, i.e. from another row of the batch, and text n-grams
        dropped). ``"masked"``: masked-column reconstruction (each masked column's
        block predicted from the rest).
    epochs : int, default=0
        Pre-training epochs. 0: no pre-training; the embedding is then the IDF-weighted
        sketch of the n-grams (the measurements behind this default are in
        benchmarks/results/tabemb.md).
    batch_size : int, default=256
    learning_rate : float, default=1e-3
        Adam's step size in pre-training (and the default of :meth:`fine_tune`).
    corruption : float, default=0.3
        Share of cells replaced (contrastive) or masked (masked) per view.
    ngram_dropout : float, default=0.2
        Share of a text value's n-grams dropped in a contrastive view (typo-like noise).
    temperature : float, default=0.1
        Softmax temperature of the contrastive loss.
    text_dim : int, default=64
        Block size of each text column.
    numeric_dim : int, default=9
        Block size of each numeric and datetime column. A numeric block of at least 9
        dimensions starts as the value's 9 soft bins (the same at every seed; near
        values near, far values orthogonal); a smaller one, and every datetime block,
        starts as a random projection of the features.
    max_categorical_dim : int, default=32
        A categorical column whose codes (its kept values plus the rare bucket) number
        at most this gets one dimension per code, started at the codes' one-hots
        (different values start orthogonal); a larger one gets an embedding of size
        ``min(max_categorical_dim, round(1.6 * n_levels ** 0.56))`` with a random start.
    min_frequency : int, default=2
        Categories seen fewer times in fit go to the rare bucket (with unseen ones).
    max_categories : int, default=50
        Schema inference: string columns with at most this many values are categorical.
    n_buckets : int, default=2**18
        Hash buckets of the n-grams (one hash for all text blocks; every block has its
        own weight per bucket). At least ``2 * max(text_dim, row_text_dim)``.
    ngram_range : tuple of (int, int), default=(2, 4)
        Sizes of the character n-grams.
    max_chars : int, default=256
        Text values are cut to this many characters.
    analyzer : {"char_wb", "char"}, default="char_wb"
        ``"char_wb"``: character n-grams inside words only (each word padded with a
        space on either side), as scikit-learn's ``analyzer="char_wb"``; ``"char"``:
        n-grams across word boundaries too.
    words : bool, default=True
        Hash every word (run of letters and digits) too, besides the character n-grams.
    joined_tokens : bool, default=True
        With ``words``: also hash every white-space token that punctuation splits into
        several words with its letters and digits joined, into the bucket of that one
        word (``kx-ts208w`` -> ``kxts208w``), so that model numbers and codes written
        with and without hyphens, dots or slashes share a bucket (joined tokens shorter
        than 4 characters are skipped).
    sublinear_tf : bool, default=True
        A bucket seen ``tf`` times in a value counts ``1 + log(tf)`` (else ``tf``).
    self_training : int, default=0
        Rounds of self-training after pre-training (no labels): the pairs of mutual
        nearest neighbours among the rows (each is the other's nearest row; with
        ``fit(groups=...)`` only across groups) are trained on as matches, 2 epochs
        per round, as in :meth:`fine_tune_pairs`. Meant for record matching, where
        the rows are both tables and a record's nearest other row is often its
        duplicate.
    hidden_dim : int, default=128
        Width of the residual MLP (used and trained only by :meth:`fine_tune`).
    row_text : bool, default=True
        Add the row-text block: the sum of the n-gram bags of all text and
        categorical values of the row (catches values that moved between columns).
    row_text_dim : int, default=4096
        Block size of the row-text block.
    row_text_weight : float, default=3.0
        Initial weight of the row-text block (every column block starts at 1).
    value_dim : int, default=0
        Size of the exact-values block: one more block (weight 1) for all numeric
        columns together, each value a hashed signed one-hot (per column its own hash),
        so that rows holding the same number (a year, a price) are closer than rows
        holding near numbers. 0: no such block. For finding the same record in two
        tables by nearest neighbour, 512 helps; for features of a classifier it hurts
        (a near-unique value acts as a row id).
    idf_anchor : float, default=0.5
        After pre-training or self-training, every n-gram weight is set to
        ``idf_anchor * idf + (1 - idf_anchor) * w``, the blend of its IDF (the
        untrained weight) and its trained weight ``w``: 0 keeps the trained weights,
        1 keeps none of the n-gram reweighting (block weights, categorical and
        numeric blocks are kept either way). No effect without training.
    random_state : int, numpy Generator or None, default=None
        Seeds every random step (initialisation, batches, corruption, projections).
    verbose : bool or int, default=False
        Progress bars over epochs.

    Attributes
    ----------
    schema_ : Schema
        The kind of every column of the fitted table.
    n_features_in_ : int
        Number of columns of the fitted table.
    feature_names_in_ : ndarray of str
        The fitted table's column names; set only when it was a DataFrame with string
        column names (scikit-learn's convention).
    encoded_columns_ : list of str
        The columns the embedding reads (those not inferred as ``skip``), in fit order.
    row_columns_ : list of str
        The columns of the row-text block.
    dim_ : int
        Embedding size.
    net_ : torch.nn.Module
        The network (``tabemb._network.TableNet``).
    history_ : list of dict
        Loss per epoch of every training call.

    See Also
    --------
    tabemb.RecordMatcher : record matching on top of these embeddings.
    tabemb.hub_corrected : hubness-corrected embeddings for linking two tables.

    Notes
    -----
    Shapes: ``transform(X)`` gives an (n_rows, dim_) float32 DataFrame with columns
    ``emb_0 .. emb_{dim_-1}`` and the index of ``X`` (a ``RangeIndex`` for an array).
    Columns of a DataFrame are matched by name, in any order; an array is read by
    position.

    Examples
    --------
    >>> import pandas as pd
    >>> from tabemb import TableEncoder
    >>> df = pd.DataFrame({"name": ["acme corp", "acme corporation", "globex"],
    ...                    "city": ["paris", "paris", "rome"]})
    >>> emb = TableEncoder(random_state=0).fit_transform(df)
    >>> emb.shape[0], emb.index.equals(df.index)
    (3, True)
    """

    _parameter_constraints: ClassVar[dict] = {
        "schema": [dict, Schema, None],
        "objective": [StrOptions({"contrastive", "masked"})],
        "epochs": _NONNEG_INT,
        "batch_size": _POS_INT,
        "learning_rate": _POS_REAL,
        "corruption": _SHARE,
        "ngram_dropout": _SHARE,
        "temperature": _POS_REAL,
        "text_dim": _POS_INT,
        "numeric_dim": _POS_INT,
        "max_categorical_dim": _POS_INT,
        "min_frequency": _POS_INT,
        "max_categories": _NONNEG_INT,
        "n_buckets": [Interval(numbers.Integral, 2, None, closed="left")],
        "ngram_range": [tuple],
        "max_chars": _POS_INT,
        "analyzer": [StrOptions({"char_wb", "char"})],
        "words": ["boolean"],
        "joined_tokens": ["boolean"],
        "sublinear_tf": ["boolean"],
        "self_training": _NONNEG_INT,
        "hidden_dim": _POS_INT,
        "row_text": ["boolean"],
        "row_text_dim": _POS_INT,
        "row_text_weight": _POS_REAL,
        "value_dim": _NONNEG_INT,
        "idf_anchor": [Interval(numbers.Real, 0, 1, closed="both")],
        "random_state": RANDOM_STATE,
        "verbose": VERBOSE,
    }

    def __init__(self, *, schema: Any = None, objective: str = "contrastive", epochs: int = 0,
                 batch_size: int = 256, learning_rate: float = 1e-3, corruption: float = 0.3,
                 ngram_dropout: float = 0.2, temperature: float = 0.1, text_dim: int = 64,
                 numeric_dim: int = 9, max_categorical_dim: int = 32, min_frequency: int = 2,
                 max_categories: int = 50, n_buckets: int = 2**18, ngram_range: tuple = (2, 4),
                 max_chars: int = 256, analyzer: str = "char_wb", words: bool = True,
                 joined_tokens: bool = True, sublinear_tf: bool = True, self_training: int = 0,
                 hidden_dim: int = 128, row_text: bool = True, row_text_dim: int = 4096,
                 row_text_weight: float = 3.0, value_dim: int = 0, idf_anchor: float = 0.5,
                 random_state: Any = None,
                 verbose: bool = False) -> None:
        self.schema = schema
        self.objective = objective
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.corruption = corruption
        self.ngram_dropout = ngram_dropout
        self.temperature = temperature
        self.text_dim = text_dim
        self.numeric_dim = numeric_dim
        self.max_categorical_dim = max_categorical_dim
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.n_buckets = n_buckets
        self.ngram_range = ngram_range
        self.max_chars = max_chars
        self.analyzer = analyzer
        self.words = words
        self.joined_tokens = joined_tokens
        self.sublinear_tf = sublinear_tf
        self.self_training = self_training
        self.hidden_dim = hidden_dim
        self.row_text = row_text
        self.row_text_dim = row_text_dim
        self.row_text_weight = row_text_weight
        self.value_dim = value_dim
        self.idf_anchor = idf_anchor
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing value is a value of its own kind (see the encoders)
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.transformer_tags.preserves_dtype = []  # the embedding is float32 whatever dtype comes in
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "net_")

    # -- parameters and inputs -----------------------------------------------------------
    def _params(self) -> dict:
        """The parameters saved with the model (JSON-able)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()
                if k not in ("schema", "random_state", "verbose")}

    def _check_params(self) -> None:
        validate_params(self)
        lo_hi = self.ngram_range
        if len(lo_hi) != 2 or not all(isinstance(v, numbers.Integral) for v in lo_hi) or \
                not 1 <= lo_hi[0] <= lo_hi[1]:
            raise ValueError(f"The 'ngram_range' parameter of {public_name(self)} must be (min_n, max_n) "
                             f"with 1 <= min_n <= max_n. Got {lo_hi!r} instead.")
        for name in ("text_dim", "row_text_dim"):
            if 2 * getattr(self, name) > self.n_buckets:
                raise ValueError(f"The 'n_buckets' parameter of {public_name(self)} must be at least "
                                 f"2 * {name} = {2 * getattr(self, name)}. Got {self.n_buckets} instead.")

    def _select(self, X: Any, name: str = "X") -> pd.DataFrame:
        """The fitted columns of ``X``: by name from a DataFrame when fitted on one with string
        column names (any order; a missing column is a ``KeyError``, an unknown one a
        ``UserWarning``), else by position."""
        check_is_fitted(self)
        by_name = isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_")
        df = _as_frame(X, name)
        if not by_name:  # fitted on an array (or unnamed columns): read by position
            if df.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {df.shape[1]} features, but {type(self).__name__} is expecting "
                                 f"{self.n_features_in_} features as input.")
            df.columns = self._input_columns_
        cols = list(self.encoded_columns_)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise KeyError(f"{name} lacks column(s) {missing} that the encoder was fitted on; "
                           f"it has {list(df.columns)}")
        extra = [c for c in df.columns if c not in cols and c not in self.schema_.names]
        if extra:
            warnings.warn(f"{name} has column(s) {extra} that the encoder was not fitted on; "
                          "they are ignored", UserWarning, stacklevel=3)
        return df[cols]

    def _rng(self) -> np.random.Generator:
        if not hasattr(self, "_rng_"):
            self._rng_ = check_random_state(self.random_state)
        return self._rng_

    # -- fit --------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, groups: Any = None) -> TableEncoder:
        """Infer the schema, fit the column encoders and (with ``epochs``) pre-train without labels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            The records. An array's columns are named ``x0, x1, ...``.
        y : None
            Ignored (no labels: see :meth:`fine_tune` and :meth:`fine_tune_pairs`).
        groups : array-like of shape (n_rows,), optional
            Which table each row comes from (any hashable labels), when ``X`` is several
            tables stacked for record matching. Self-training then pairs only mutual
            nearest neighbours from different groups (a record of A with its nearest
            record of B and vice versa), not near-duplicates within one table. No
            effect without ``self_training``.

        Returns
        -------
        self : TableEncoder

        Raises
        ------
        ValueError
            A bad parameter (named), an input that is not 2-D, empty, complex, or has no
            column to encode.
        TypeError
            A sparse matrix.
        """
        self._check_params()
        is_frame = isinstance(X, pd.DataFrame)
        df = _as_frame(X)
        group_codes = self._group_codes(groups, len(df))
        self._rng_ = check_random_state(self.random_state)
        self.schema_ = self._fit_schema(df)
        self._fit_encoders(df)
        self.n_features_in_ = df.shape[1]
        self._input_columns_ = list(df.columns)
        if is_frame and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(df.columns, dtype=object)
        else:
            self.__dict__.pop("feature_names_in_", None)
        self._build_network()
        self._train_without_labels(df, group_codes)
        return self

    @staticmethod
    def _group_codes(groups: Any, n: int) -> np.ndarray | None:
        if groups is None:
            return None
        g = pd.Series(np.asarray(groups, dtype=object))
        if len(g) != n:
            raise ValueError(f"groups has {len(g)} values but X has {n} rows")
        if g.isna().any():
            raise ValueError("groups has missing values: expected one table label per row")
        return pd.factorize(g)[0].astype(np.int64)

    def _fit_schema(self, df: pd.DataFrame) -> Schema:
        """Stage 1: the kind of every column (the given Schema, or inferred with the overrides)."""
        if isinstance(self.schema, Schema):
            missing = [c for c in self.schema.columns() if c not in df.columns]
            if missing:
                raise KeyError(f"X lacks column(s) {missing} named by the given schema")
            return self.schema
        return infer_schema(df, overrides=self.schema, max_categories=self.max_categories)

    def _fit_encoders(self, df: pd.DataFrame) -> None:
        """Stage 2: one fitted encoder per encoded column, plus the row-text encoder."""
        from ._features import row_codes

        schema, params = self.schema_, self._params()
        encoders = []
        for name in schema.columns():
            # one hash for every text block: a value's n-grams get the same buckets in its column's
            # block and in the row-text block, so transform hashes each value once
            enc = make_encoder(schema[name].kind, name, salt=0, params=params)
            encoders.append(enc.fit(df[name]))
        row_columns = [c for c in schema.columns() if schema[c].kind in ("text", "categorical")]
        if self.row_text and len(row_columns) >= 2:
            enc = make_encoder("text", ROW, salt=0, params={**params, "text_dim": self.row_text_dim})
            enc.join = False  # the row's bag = the sum of its columns' bags
            encoders.append(enc.fit_codes(*row_codes(df, row_columns)))
        else:
            row_columns = []
        value_columns = [c for c in schema.columns() if schema[c].kind == "numeric"]
        if self.value_dim > 0 and value_columns:
            encoders.append(ValueEncoder(value_columns, dim=self.value_dim).fit(df))
        if not encoders:
            raise ValueError("X has no column to encode: every column was inferred as 'skip' "
                             f"({schema.to_frame()['reason'].to_dict()}); override the schema")
        self.encoders_ = encoders
        self.row_columns_ = row_columns
        self.encoded_columns_ = [e.name for e in encoders if e.name not in PSEUDO]

    def _build_network(self) -> None:
        """Stage 3: the network, initialised from the encoders (bucket weights at the IDF)."""
        from ._network import TableNet, init_net

        self.net_ = TableNet(self.encoders_, hidden_dim=self.hidden_dim,
                             row_text_weight=float(self.row_text_weight))
        init_net(self.net_, self._rng_, self.encoders_)
        self.dim_ = self.net_.dim
        self.history_ = []

    def _train_without_labels(self, df: pd.DataFrame, group_codes: np.ndarray | None) -> None:
        """Stage 4: pre-training, self-training rounds, then the IDF anchor."""
        if self.epochs == 0 and self.self_training == 0:
            return
        from ._pair_tuning import self_train
        from ._training import anchor_to_idf, pretrain

        if self.epochs > 0 and len(df) > 1:
            pretrain(self, df[self.encoded_columns_], self._rng_)
        for r in range(self.self_training if len(df) > 2 else 0):
            self_train(self, df[self.encoded_columns_], r, self._rng_, group_codes)
        if self.history_ and self.idf_anchor > 0:
            anchor_to_idf(self.net_, float(self.idf_anchor))

    # -- transform ----------------------------------------------------------------------
    def transform(self, X: Any) -> pd.DataFrame:
        """Embed every row of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_columns)
            Columns of a DataFrame are matched by name (any order) when the encoder was fitted
            on a DataFrame with string column names; otherwise columns are read by position
            and there must be ``n_features_in_`` of them.

        Returns
        -------
        DataFrame of shape (n_rows, dim_)
            float32, columns ``emb_0 .. emb_{dim_-1}``, the index of ``X``; rows of unit
            length. ``set_output(transform="pandas")`` gives the same.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        KeyError
            A fitted column is missing from a DataFrame (named).
        ValueError
            An input that is not 2-D, empty or complex, an array of the wrong width.
        """
        from ._features import embed_rows

        df = self._select(X)
        emb = embed_rows(self.net_, self.encoders_, self.row_columns_, df, sublinear_tf=self.sublinear_tf)
        return embeddings_frame(emb, df.index)

    def fit_transform(self, X: Any, y: Any = None, **fit_params) -> pd.DataFrame:
        """``fit(X, y, **fit_params).transform(X)``."""
        return self.fit(X, y, **fit_params).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output column names, ``emb_0 .. emb_{dim_-1}``.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against the fitted input (scikit-learn's convention); not used.

        Returns
        -------
        ndarray of str of shape (dim_,)
        """
        check_is_fitted(self)
        if input_features is not None:
            names = np.asarray(input_features, dtype=object)
            if hasattr(self, "feature_names_in_"):
                if not np.array_equal(names, self.feature_names_in_):
                    raise ValueError("input_features is not equal to feature_names_in_")
            elif len(names) != self.n_features_in_:
                raise ValueError(f"input_features should have length equal to number of features "
                                 f"({self.n_features_in_}), got {len(names)}")
        return np.asarray([f"emb_{i}" for i in range(self.dim_)], dtype=object)

    def link_embeddings(self, df_a: pd.DataFrame, df_b: pd.DataFrame, *,
                        hub_k: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Embed two tables for linking, hubness-corrected: dot products rank pairs by CSLS.

        ``transform`` of each table, then :func:`tabemb.hub_corrected`: two more columns per
        row, so that ``a' . b' = cos(a, b) - (r_B(a) + r_A(b)) / 2`` with ``r_B(a)`` the mean
        cosine of ``a`` to its ``hub_k`` most similar rows of ``df_b`` (and likewise). A generic
        record close to many records of the other table (a hub) stops being everyone's nearest
        neighbour. The penalties depend on both tables: embed them together.

        Parameters
        ----------
        df_a, df_b : DataFrame
            The two tables (the fitted columns).
        hub_k : int, default=3
            Neighbourhood size of the penalties.

        Returns
        -------
        (emb_a, emb_b) : DataFrames of shape (n_a, dim_ + 2) and (n_b, dim_ + 2)
            Columns ``emb_*``, the indexes of ``df_a`` and ``df_b``. Search them by dot
            product (``NeighborStore(metric="dot")``), in either direction.
        """
        from ._hubness import hub_corrected

        return hub_corrected(self.transform(df_a), self.transform(df_b), hub_k)

    # -- fine-tuning ----------------------------------------------------------------------
    def fine_tune(self, df: pd.DataFrame, y: Any, *, task: str | None = None, epochs: int = 10,
                  learning_rate: float | None = None, batch_size: int | None = None) -> TableEncoder:
        """Fine-tune the encoder on a target (classification or regression).

        A linear head on the embedding is trained jointly with the encoder (cross-entropy,
        or mean squared error on the standardised target); the residual MLP is switched on.

        Parameters
        ----------
        df : DataFrame of shape (n_rows, n_columns)
        y : array-like or Series of shape (n_rows,), or the name of a column of ``df``
            (that column is then not used as input).
        task : {"classification", "regression"}, optional
            Default: regression for float targets with more than 20 distinct values.
        epochs : int, default=10
        learning_rate : float, optional
            Default: the encoder's ``learning_rate``.
        batch_size : int, optional
            Default: the encoder's ``batch_size``.

        Returns
        -------
        self : TableEncoder
        """
        from ._training import fine_tune_target

        check_is_fitted(self)
        if isinstance(y, str) and isinstance(df, pd.DataFrame) and y in df.columns:
            y = df[y]
        df = self._select(df, "df")
        self.task_ = fine_tune_target(self, df, y, task=task, epochs=epochs, learning_rate=learning_rate,
                                      batch_size=batch_size, rng=self._rng())
        return self

    def fine_tune_pairs(self, df_a: pd.DataFrame, df_b: pd.DataFrame, pairs: Any, labels: Any, *,
                        valid_pairs: Any = None, valid_labels: Any = None, epochs: int = 15,
                        learning_rate: float | None = None, batch_size: int = 128,
                        temperature: float = 0.05, patience: int = 4,
                        weights: str = "kinds") -> TableEncoder:
        """Fine-tune on match / no-match pairs of records of two tables.

        Loss: InfoNCE over the matched pairs of a batch (each B record must be closer to
        its A match than to the batch's other A records and to the A records of its
        labelled non-matches; and symmetrically), so that the embedding's nearest
        neighbour is the match (what blocking needs). What it trains (``weights``): by
        default (``"kinds"``) one log-weight per text block and bucket *kind* (token kind
        x document-frequency bin, 88 per block, see :func:`tabemb._text.token_kinds`)
        plus the block weights: a few hundred numbers shared by all records, which
        transfer to records the training pairs never named. ``"buckets"``: one log-weight
        per hash bucket per text block, the block weights, categorical embeddings and
        numeric projections (what fits the training records themselves); ``"both"``: all.

        With ``valid_pairs``/``valid_labels``, after every epoch the top-1 and top-10 of
        the validation matches (each matched B record's nearest records of all of
        ``df_a``) are measured; the score is their sum; training stops after ``patience``
        epochs without improvement and the best-scoring state is kept, the state before
        fine-tuning included: the result is never worse on the validation pairs than the
        encoder it started from.

        Parameters
        ----------
        df_a, df_b : DataFrame
            The two tables (the fitted columns; extra columns ignored with a warning).
        pairs : DataFrame with two columns, MultiIndex, or sequence of (key_a, key_b)
            Keys are index labels of ``df_a`` / ``df_b`` (their indexes must be unique).
        labels : array-like of shape (n_pairs,)
            1 = match, 0 = non-match.
        valid_pairs, valid_labels : optional
            Held-out pairs in the same form, for early stopping and model selection.
        epochs : int, default=15
        learning_rate : float, optional
            Adam's step size; default 0.2 with ``weights="kinds"``, else 0.05 (the weights
            live in log space: a step of 0.05 rescales a weight by about 5%).
        batch_size : int, default=128
        temperature : float, default=0.05
        patience : int, default=4
        weights : {"kinds", "buckets", "both"}, default="kinds"
            What is trained (see above).

        Returns
        -------
        self : TableEncoder
            With ``pair_valid_top1_``, ``pair_valid_top10_`` (validation top-1 / top-10 before
            fine-tuning and after each epoch) and ``pair_best_epoch_`` (the kept epoch, 0 =
            the state before fine-tuning).

        Raises
        ------
        KeyError
            A pair names a key that is not in ``df_a`` / ``df_b``.
        ValueError
            No label 1, labels and pairs of different lengths, a non-unique index, a bad
            ``weights``.
        """
        from ._pair_tuning import fine_tune_pairs

        check_is_fitted(self)
        if weights not in ("buckets", "kinds", "both"):
            raise ValueError(f"weights must be 'kinds', 'buckets' or 'both', got {weights!r}")
        if learning_rate is None:
            learning_rate = 0.2 if weights == "kinds" else 0.05
        a = self._select(df_a, "df_a")
        b = self._select(df_b, "df_b")
        for nm, d in (("df_a", a), ("df_b", b)):
            if not d.index.is_unique:
                raise ValueError(f"{nm} index must be unique for fine_tune_pairs")
        fine_tune_pairs(self, a, b, pairs, labels, valid_pairs=valid_pairs, valid_labels=valid_labels,
                        epochs=epochs, learning_rate=learning_rate, batch_size=batch_size,
                        temperature=temperature, patience=patience, weights=weights, rng=self._rng())
        return self

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save as an artifact directory (kind ``"table_encoder"``).

        Schema and encoder states as JSON, IDF weights and bucket kinds as .npy, the
        network as a torch state dict. A save never loses the previous artifact at ``path``.

        Parameters
        ----------
        path : str or Path
            The directory to write.

        Returns
        -------
        Path
            The artifact directory.
        """
        check_is_fitted(self)
        with ArtifactWriter(path, kind=KIND, params=self._params(), dim=self.dim_,
                            columns=list(self.encoded_columns_), row_columns=self.row_columns_,
                            input_columns=list(self._input_columns_),
                            feature_names=hasattr(self, "feature_names_in_")) as w:
            w.save_json("schema", self.schema_.to_json())
            w.save_json("encoders", [e.state() for e in self.encoders_])
            text = [e for e in self.encoders_ if isinstance(e, TextEncoder)]
            if text:
                w.save_array("idf", np.stack([e.idf for e in text]))
                w.save_array("kinds", np.stack([e.kinds if e.kinds is not None
                                                else np.zeros(e.n_buckets, dtype=np.int8) for e in text]))
            w.save_json("history", self.history_)
            w.save_state_dict("net", self.net_.state_dict())
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> TableEncoder:
        """Load a saved encoder (checks the artifact's kind and checksums).

        Parameters
        ----------
        path : str or Path
            A directory written by :meth:`save`.

        Returns
        -------
        TableEncoder
            Fitted; ``transform`` gives what the saved encoder gave.

        Raises
        ------
        nnstore.ArtifactError
            Not a table encoder artifact, or a damaged one.
        """
        from ._network import TableNet

        art = read_artifact(path, kind=KIND)
        params = dict(art.params)
        params["ngram_range"] = tuple(params["ngram_range"])
        params.setdefault("joined_tokens", False)  # saved before the parameter existed
        params.setdefault("analyzer", "char")  # saved before the parameter existed
        params.setdefault("idf_anchor", 0.0)  # (only used in fit)
        params.setdefault("value_dim", 0)  # saved before the exact-values block existed
        self = cls(**params)
        self.schema_ = Schema.from_json(art.load_json("schema"))
        self.encoders_ = [encoder_from_state(s, params) for s in art.load_json("encoders")]
        text = [e for e in self.encoders_ if isinstance(e, TextEncoder)]
        if text:
            idf = art.load_array("idf")
            for e, row in zip(text, idf, strict=True):
                e.idf = row
            if "kinds.npy" in art.files:  # saved before bucket kinds existed: all kind 0
                for e, row in zip(text, art.load_array("kinds"), strict=True):
                    e.kinds = row
        self.encoded_columns_ = [e.name for e in self.encoders_ if e.name not in PSEUDO]
        self._input_columns_ = list(art.info.get("input_columns", self.encoded_columns_))
        self.n_features_in_ = len(self._input_columns_)
        if art.info.get("feature_names", True):
            self.feature_names_in_ = np.asarray(self._input_columns_, dtype=object)
        self.row_columns_ = list(art.info.get("row_columns", []))
        self.net_ = TableNet(self.encoders_, hidden_dim=params["hidden_dim"],
                             row_text_weight=float(params["row_text_weight"]))
        missing, unexpected = self.net_.load_state_dict(art.load_state_dict("net"), strict=False)
        if unexpected or any(not k.startswith("kind_logit") for k in missing):
            raise ValueError(f"{path}: the saved network does not fit this version of TableEncoder "
                             f"(missing {missing}, unexpected {unexpected})")
        self.net_.set_kinds(self.encoders_)  # kind_logit missing = saved before kinds: zeros
        self.net_.eval()
        self.dim_ = self.net_.dim
        self.history_ = art.load_json("history")
        return self
