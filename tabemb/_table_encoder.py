"""TableEncoder: embed the rows of any DataFrame; pre-train without labels, fine-tune with them."""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from nnstore import (
    ArtifactWriter,
    NotFittedError,
    check_random_state,
    embeddings_frame,
    read_artifact,
    seed_from,
)

from ._encoders import CategoricalEncoder, TextEncoder, encoder_from_state, make_encoder
from ._schema import Schema, infer_schema
from ._text import N_KINDS, embed_blocks, sketch_columns, take_ragged, text_codes, unit_rows

__all__ = ["TableEncoder"]

logger = logging.getLogger(__name__)

KIND = "table_encoder"
ROW = "__row__"  # the pseudo-column of the whole row's text (see ``row_text``)
_CHUNK = 8192


def _build_net(encoders: list, params: dict):
    import torch
    from torch import nn
    from torch.nn import functional as F

    class TableNet(nn.Module):
        """Column blocks -> weighted concatenation -> residual MLP -> unit-length embedding.

        Shapes: text: per block a flat batch of (row * dim + column, signed sublinear tf,
        bucket id) triples; categorical codes (B,); numeric and datetime features (B, f_c)
        -> output (B, D) with D the sum of block sizes. A text block is the signed hashed
        sketch of the value's n-gram bag weighted by one learned scalar per bucket
        (``idf_t * exp(text_logit[t])``, the IDF at the start). The residual MLP's last layer starts at zero
        and is used only after ``fine_tune``, so until then the embedding is the weighted
        concatenation of the column blocks.
        """

        def __init__(self) -> None:
            super().__init__()
            self.kinds = ["row" if e.name == ROW else e.kind for e in encoders]
            text = [e for e in encoders if isinstance(e, TextEncoder)]
            # bucket weight = idf * exp(text_logit): IDF learned in fit, reweighted by training
            self.text_logit = nn.ParameterList([nn.Parameter(torch.zeros(e.n_buckets)) for e in text])
            # one more log-weight per block and bucket kind (token kind x document-frequency bin,
            # tabemb._text.token_kinds), shared by all buckets of the kind: trained only by
            # fine_tune_pairs(weights="kinds"); the kind of each bucket is a fixed buffer, saved
            # with the encoders (not in the state dict)
            self.kind_logit = nn.ParameterList([nn.Parameter(torch.zeros(N_KINDS)) for _ in text])
            for t, e in enumerate(text):
                self.register_buffer(f"idf_{t}", torch.ones(e.n_buckets))
                self.register_buffer(f"kind_{t}", torch.zeros(e.n_buckets, dtype=torch.long),
                                     persistent=False)
            self.cols = nn.ModuleList()
            for e in encoders:
                if isinstance(e, TextEncoder):
                    self.cols.append(nn.Identity())
                elif isinstance(e, CategoricalEncoder):
                    self.cols.append(nn.Embedding(len(e.vocabulary) + 2, e.dim, padding_idx=0))
                else:
                    self.cols.append(nn.Linear(e.n_features, e.dim, bias=False))
            self.dims = [e.dim for e in encoders]
            self.dim = int(sum(self.dims))
            self.log_weight = nn.Parameter(torch.tensor(
                [math.log(params["row_text_weight"]) if e.name == ROW else 0.0 for e in encoders]))
            # numeric / datetime: a missing value's block is missing_vec (0 at start: a missing
            # value adds nothing to similarity until training learns otherwise)
            self.missing_vec = nn.ParameterList(
                [nn.Parameter(torch.zeros(e.dim)) for e in encoders
                 if not isinstance(e, (TextEncoder, CategoricalEncoder))])
            # the residual MLP is used (and trained) only once fine_tune has run
            self.register_buffer("mlp_active", torch.zeros((), dtype=torch.bool))
            self.mlp = nn.Sequential(nn.Linear(self.dim, params["hidden_dim"]), nn.GELU(),
                                     nn.Linear(params["hidden_dim"], self.dim))

        def blocks(self, inputs: dict, *, skip_text: bool = False) -> list:
            """``inputs``: ``{"n": B, "cols": [per column: (flat, signed_tf, ids) for text,
            else a tensor]}``. With ``skip_text`` text blocks are None (filled elsewhere)."""
            b = inputs["n"]
            out, t, m = [], 0, 0
            for kind, mod, dim, x in zip(self.kinds, self.cols, self.dims, inputs["cols"], strict=True):
                if kind in ("text", "row"):
                    blk = None
                    if not skip_text:
                        flat, val, ids = x
                        v = val * self.bucket_weight(t)[ids]
                        blk = torch.zeros(b * dim, dtype=v.dtype).index_add(0, flat, v).view(b, dim)
                        blk = F.normalize(blk, dim=1, eps=1e-6)
                    t += 1
                elif isinstance(mod, nn.Embedding):
                    blk = F.normalize(mod(x), dim=1, eps=1e-6)
                else:  # numeric / datetime: the missing indicator is the feature at -1 resp. 1
                    miss = x[:, -1:] if kind == "datetime" else x[:, 1:2]
                    blk = F.normalize(mod(x), dim=1, eps=1e-6) * (1 - miss) + miss * self.missing_vec[m]
                    m += 1
                out.append(blk)
            return out

        def bucket_weight(self, t: int):
            logit = self.text_logit[t] + self.kind_logit[t][getattr(self, f"kind_{t}")]
            return getattr(self, f"idf_{t}") * torch.exp(logit)

        def set_kinds(self, encoders: list) -> None:
            """Copy each text encoder's bucket kinds into the net (all 0 when it has none)."""
            text = [e for e in encoders if isinstance(e, TextEncoder)]
            with torch.no_grad():
                for t, e in enumerate(text):
                    buf = getattr(self, f"kind_{t}")
                    buf.zero_()
                    if getattr(e, "kinds", None) is not None:
                        buf.copy_(torch.from_numpy(e.kinds.astype(np.int64)))

        def scales(self):
            return torch.exp(self.log_weight) / math.sqrt(len(self.dims))

        def combine(self, blocks: list):
            w = self.scales()
            z = torch.cat([b * w[i] for i, b in enumerate(blocks)], dim=1)
            if bool(self.mlp_active):
                z = z + self.mlp(z)
            return F.normalize(z, dim=1, eps=1e-6)

        def forward(self, inputs: dict):
            return self.combine(self.blocks(inputs))

    return TableNet()


def _init_net(net, rng: np.random.Generator, encoders: list) -> None:
    import torch

    g = torch.Generator()
    g.manual_seed(seed_from(rng))
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name == "log_weight":
                continue
            if name.startswith(("text_logit", "kind_logit")):
                p.zero_()
                continue
            if name.startswith("missing_vec"):
                p.zero_()
                continue
            if name.endswith("mlp.2.weight") or name.endswith("mlp.2.bias"):
                p.zero_()
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0.0, 1.0 / math.sqrt(max(p.shape[-1], 1)), generator=g)
        text = [e for e in encoders if isinstance(e, TextEncoder)]
        for t, e in enumerate(text):
            getattr(net, f"idf_{t}").copy_(torch.from_numpy(e.idf))
        for mod in net.cols:
            if isinstance(mod, torch.nn.Embedding):
                mod.weight[0].zero_()
    net.set_kinds(encoders)


def _nearest_other(emb: np.ndarray, rng: np.random.Generator, chunk: int = 2048,
                   groups: np.ndarray | None = None) -> np.ndarray:
    """Position of each row's nearest other row by dot product (rows are unit length); with
    ``groups`` (an integer code per row) its nearest row of another group (-1 if there is
    none). Above 5,000 rows the search runs on a 128-dim random projection and the 8 best
    candidates are re-ranked exactly."""
    n, d = emb.shape
    x, k = emb, 1
    if n > 5000 and d > 128:
        proj = rng.standard_normal((d, 128)).astype(np.float32) / np.float32(math.sqrt(128))
        x, k = emb @ proj, 8
    out = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        s = x[start:stop] @ x.T
        s[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        if groups is not None:
            s[groups[start:stop, None] == groups[None, :]] = -np.inf
        if k == 1:
            out[start:stop] = s.argmax(axis=1)
            if groups is not None:
                out[start:stop][np.isneginf(s.max(axis=1))] = -1
            continue
        cand = np.argpartition(-s, k, axis=1)[:, :k]
        exact = np.einsum("id,ikd->ik", emb[start:stop], emb[cand])
        bad = cand == np.arange(start, stop)[:, None]
        if groups is not None:
            bad |= groups[cand] == groups[start:stop, None]
        exact[bad] = -np.inf
        best = exact.argmax(axis=1)
        out[start:stop] = cand[np.arange(stop - start), best]
        out[start:stop][np.isneginf(exact.max(axis=1))] = -1
    return out


def _step(opts: list, loss) -> float:
    """One optimisation step over every optimiser (dense + sparse); returns the loss value."""
    for o in opts:
        o.zero_grad()
    loss.backward()
    for o in opts:
        o.step()
    return float(loss.detach())

class TableEncoder(TransformerMixin, BaseEstimator):
    """Embed the rows of a DataFrame; self-supervised pre-training, supervised fine-tuning.

    Every encoded column becomes an L2-normalised block (see ``tabemb._encoders``):
    text -> character n-grams and words hashed into buckets, each with a learned
    weight that starts at its IDF, and the value's sublinear-TF x weight bag
    sketched into the block by fixed signed hashing (an ``EmbeddingBag`` with fixed
    signed unit rows); categorical -> an entity embedding; numeric -> robust
    scaling, missing indicator and soft bins; datetime -> parts and cyclical
    encodings. The blocks are weighted (learned column weights), concatenated,
    passed through a residual MLP whose output layer starts at zero (used only
    after :meth:`fine_tune`), and normalised to unit length, so cosine similarity
    = dot product. At initialisation a text block is the value's TF-IDF vector
    hashed to the block's size, a good retrieval embedding before any training.
    ``transform`` computes all text blocks in one compiled pass (numba, threads
    over rows).

    Parameters
    ----------
    schema : dict or Schema, optional
        ``{column: kind}`` overrides of the inferred schema (see
        :func:`tabemb.infer_schema`), or a whole :class:`Schema`.
    objective : {"contrastive", "masked"}, default "contrastive"
        Pre-training objective. ``"contrastive"``: SCARF-style InfoNCE between
        two corrupted views of each row (cells replaced by values drawn from
        the column's empirical marginal, i.e. from another row of the batch,
        and text n-grams dropped). ``"masked"``: masked-column reconstruction
        (predict each masked column's block from the rest). The default was
        chosen by measurement with the earlier dense text encoder: on
        Amazon-Google (all label-1 pairs, 2 epochs, same seed) top-1 / top-10
        retrieval was 0.845 / 0.996 after contrastive pre-training, 0.770 /
        0.940 after masked reconstruction, 0.827 / 0.990 before any training.
    epochs : int, default 3
        Pre-training epochs (0 = no pre-training: the initial embedding).
    batch_size : int, default 256
    learning_rate : float, default 1e-3
    corruption : float, default 0.3
        Share of cells replaced (contrastive) or masked (masked) per view.
    ngram_dropout : float, default 0.2
        Share of a text value's n-grams dropped in a contrastive view (typo-like noise).
    temperature : float, default 0.1
    text_dim : int, default 64
        Block size of each text column.
    numeric_dim : int, default 8
        Block size of each numeric and datetime column.
    max_categorical_dim : int, default 32
        Cap of the categorical size rule ``round(1.6 * n_levels ** 0.56)``.
    min_frequency : int, default 2
        Categories seen fewer times in fit go to the rare bucket (with unseen ones).
    max_categories : int, default 50
        Schema inference: string columns with at most this many values are categorical.
    n_buckets : int, default 2**18
        Hash buckets of the n-grams (one hash for all text blocks; every block has its
        own weight per bucket). At least ``2 * max(text_dim, row_text_dim)``.
    ngram_range : tuple, default (2, 4)
    max_chars : int, default 256
        Text values are cut to this many characters.
    words : bool, default True
        Hash every word (run of letters and digits) too, besides the character n-grams.
    joined_tokens : bool, default True
        With ``words``: also hash every white-space token that punctuation splits into
        several words with its letters and digits joined, into the bucket of that
        one word (``kx-ts208w`` -> ``kxts208w``, ``010-10613-00`` -> ``0101061300``), so
        that model numbers and codes written with and without hyphens, dots or
        slashes share a bucket (joined tokens shorter than 4 characters are skipped).
        Measured on the DeepMatcher validation splits (see benchmarks/results/tabemb.md).
    sublinear_tf : bool, default True
        A bucket seen ``tf`` times in a value counts ``1 + log(tf)`` (else ``tf``).
    self_training : int, default 0
        Rounds of self-training after pre-training (no labels): the pairs of mutual
        nearest neighbours among the rows of ``df`` (each is the other's nearest
        row) are trained on as matches, 2 epochs per round, as in
        :meth:`fine_tune_pairs`. Meant for record matching, where ``df`` holds both
        tables and a record's nearest other row is often its duplicate; on other
        tables it pulls near-identical rows together.
    hidden_dim : int, default 128
        Width of the residual MLP (used and trained only by :meth:`fine_tune`).
    row_text : bool, default True
        Add one more text block: the sum of the n-gram bags of all text and
        categorical values of the row (catches values that moved between columns).
    row_text_dim : int, default 1024
        Block size of the row-text block.
    row_text_weight : float, default 3.0
        Initial weight of the row-text block (every column block starts at 1).
    idf_anchor : float, default 0.5
        After pre-training (SCARF epochs and self-training rounds), every n-gram weight is
        set to ``idf_anchor * idf + (1 - idf_anchor) * w``, the fixed blend of its IDF (the
        untrained weight) and its pre-trained weight ``w``, so that the pre-trained
        encoder keeps the untrained TF-IDF sketch as an anchor. 0 = the pre-trained
        weights as learned, 1 = pre-training keeps none of its n-gram reweighting (block
        weights, categorical and numeric blocks are kept either way). 0.5 (equal weights)
        was fixed a priori. On the DeepMatcher sets (all label-1 pairs, see
        benchmarks/results/tabemb.md) it took Walmart-Amazon from 3 queries below the
        TF-IDF baseline to a tie, at a cost of about 0.005 top-1 on Abt-Buy and
        Amazon-Google (both still above the baseline).
    random_state : int, Generator or None
    verbose : bool, default False
        Progress bar over epochs.

    Attributes
    ----------
    schema_ : Schema
    feature_names_in_ : ndarray of str
        The encoded columns (in fit order).
    dim_ : int
        Embedding size.
    net_ : torch.nn.Module
    history_ : list of dict
        Loss per epoch of every training call.

    Shapes
    ------
    ``transform(df)``: (n_rows, dim_) float32 DataFrame, index = ``df.index``.
    """

    def __init__(self, *, schema: Any = None, objective: str = "contrastive", epochs: int = 3,
                 batch_size: int = 256, learning_rate: float = 1e-3, corruption: float = 0.3,
                 ngram_dropout: float = 0.2, temperature: float = 0.1, text_dim: int = 64,
                 numeric_dim: int = 8, max_categorical_dim: int = 32, min_frequency: int = 2,
                 max_categories: int = 50, n_buckets: int = 2**18, ngram_range: tuple = (2, 4),
                 max_chars: int = 256, analyzer: str = "char", words: bool = True, joined_tokens: bool = True,
                 sublinear_tf: bool = True,
                 self_training: int = 0, hidden_dim: int = 128, row_text: bool = True,
                 row_text_dim: int = 1024,
                 row_text_weight: float = 3.0, idf_anchor: float = 0.5, random_state: Any = None,
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
        self.idf_anchor = idf_anchor
        self.random_state = random_state
        self.verbose = verbose

    # -- helpers ------------------------------------------------------------------
    def _params(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()
                if k not in ("schema", "random_state", "verbose")}

    def _check_params(self) -> None:
        if self.objective not in ("contrastive", "masked"):
            raise ValueError(f"objective must be 'contrastive' or 'masked', got {self.objective!r}")
        for name in ("epochs", "self_training"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be a non-negative int, got {v!r}")
        for name in ("batch_size", "text_dim", "numeric_dim", "n_buckets", "hidden_dim", "max_chars",
                     "row_text_dim"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        for name in ("text_dim", "row_text_dim"):
            if 2 * getattr(self, name) > self.n_buckets:
                raise ValueError(f"n_buckets must be at least 2 * {name}, got {self.n_buckets} "
                                 f"and {getattr(self, name)}")
        if not 0 <= self.corruption < 1:
            raise ValueError(f"corruption must be in [0, 1), got {self.corruption}")
        if not isinstance(self.idf_anchor, (int, float, np.number)) or not 0 <= self.idf_anchor <= 1:
            raise ValueError(f"idf_anchor must be a number in [0, 1], got {self.idf_anchor!r}")
        if not 0 <= self.ngram_dropout < 1:
            raise ValueError(f"ngram_dropout must be in [0, 1), got {self.ngram_dropout}")

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise NotFittedError("this TableEncoder is not fitted yet; call fit(df) first")

    @staticmethod
    def _frame(df: Any, name: str = "df") -> pd.DataFrame:
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
        if len(df) == 0:
            raise ValueError(f"{name} is empty: expected at least one row")
        if not all(isinstance(c, str) for c in df.columns):
            df = df.rename(columns=str)
        if df.columns.duplicated().any():
            dup = df.columns[df.columns.duplicated()].tolist()
            raise ValueError(f"{name} has repeated column names: {dup}")
        return df

    def _select(self, df: pd.DataFrame, name: str = "df") -> pd.DataFrame:
        df = self._frame(df, name)
        cols = list(self.feature_names_in_)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise KeyError(f"{name} lacks column(s) {missing} that the encoder was fitted on; "
                           f"it has {list(df.columns)}")
        extra = [c for c in df.columns if c not in cols and c not in self.schema_.names]
        if extra:
            warnings.warn(f"{name} has column(s) {extra} that the encoder was not fitted on; "
                          "they are ignored", UserWarning, stacklevel=3)
        return df[cols]

    def _row_codes(self, df: pd.DataFrame, cache: dict | None = None, columns: list | None = None) -> tuple:
        """The code buffers of ``columns`` (default: the row-text columns) joined, and each row's
        parts as ``(starts, ends)`` of shape (n_rows, n_columns)."""
        cache = {} if cache is None else cache
        parts = []
        for c in self.row_columns_ if columns is None else columns:
            if c not in cache:
                cache[c] = text_codes(df[c])
            parts.append(cache[c])
        off, starts, ends = 0, [], []
        for codes, st, en in parts:
            starts.append(st + off)
            ends.append(en + off)
            off += len(codes)
        return np.concatenate([p[0] for p in parts]), np.stack(starts, 1), np.stack(ends, 1)

    def _features(self, df: pd.DataFrame) -> list[tuple]:
        """Per encoder: text ``(ids, tf, indptr)``, categorical ``(codes,)``, numeric ``(features,)``."""
        cache: dict = {}
        out = []
        for enc in self.encoders_:
            if enc.name == ROW:
                out.append(enc.hash_codes(*self._row_codes(df, cache)))
            elif isinstance(enc, TextEncoder):
                if enc.name not in cache:
                    cache[enc.name] = text_codes(df[enc.name])
                out.append(enc.hash_codes(*cache[enc.name]))
            else:
                out.append(enc.features(df[enc.name]))
        return out

    def _take(self, feats: list[tuple], rows, rng: np.random.Generator | None = None, *,
              text: bool = True) -> dict:
        """Network inputs for ``rows`` (a slice or an index array); ``text=False`` leaves the
        text blocks out (None).

        With ``rng``: a SCARF-corrupted view; each cell is replaced with
        probability ``corruption`` by the same column's value in another row
        of the batch (a draw from the column's empirical marginal), and each
        text n-gram is dropped with probability ``ngram_dropout``.
        """
        import torch

        if isinstance(rows, slice):
            first = feats[0]
            n_all = len(first[2]) - 1 if len(first) == 3 else len(first[0])
            rows = np.arange(*rows.indices(n_all))
        rows = np.asarray(rows, dtype=np.int64)
        n = len(rows)
        perm = rng.permutation(n) if rng is not None and n > 1 else None
        cols = []
        for f, enc in zip(feats, self.encoders_, strict=True):
            r = rows
            if perm is not None:
                mask = rng.random(n) < self.corruption
                r = rows.copy()
                r[mask] = rows[perm[mask]]
            if isinstance(enc, TextEncoder):
                if not text:
                    cols.append(None)
                    continue
                ids, tf, indptr = f
                pos, counts = take_ragged(indptr, r)
                ids, tf = ids[pos], tf[pos]
                val = 1.0 + np.log(tf) if self.sublinear_tf else tf.copy()
                if perm is not None and self.ngram_dropout > 0:
                    val = val * (rng.random(len(val)) >= self.ngram_dropout)
                col_of, sign = sketch_columns(enc.n_buckets, enc.dim)
                val = (val * sign[ids]).astype(np.float32)
                flat = np.repeat(np.arange(n, dtype=np.int64), counts) * enc.dim + col_of[ids]
                cols.append((torch.from_numpy(flat), torch.from_numpy(val), torch.from_numpy(ids)))
            else:
                cols.append(torch.from_numpy(np.ascontiguousarray(f[0][r])))
        return {"cols": cols, "n": n}

    def _embed(self, df: pd.DataFrame) -> np.ndarray:
        """Embeddings of all rows of ``df`` (already column-checked): text blocks by one compiled
        hash-and-sketch pass each, other blocks by torch in chunks, then the residual MLP (once
        fine-tuned) and unit length."""
        import torch

        net = self.net_
        net.eval()
        n = len(df)
        out = np.zeros((n, self.dim_), dtype=np.float32)
        with torch.inference_mode():
            scales = net.scales().numpy().astype(np.float64)
            offsets = np.concatenate([[0], np.cumsum(net.dims)]).astype(np.int64)
            feats: list = []
            blocks: dict = {}
            t = 0
            for i, enc in enumerate(self.encoders_):
                if isinstance(enc, TextEncoder):
                    feats.append(None)
                    blocks[enc.name] = (int(offsets[i]), enc.dim, float(scales[i]),
                                        net.bucket_weight(t).numpy())
                    t += 1
                else:
                    feats.append(enc.features(df[enc.name]))
            other = [i for i, f in enumerate(feats) if f is not None]
            for start in range(0, n, _CHUNK):
                rows = np.arange(start, min(n, start + _CHUNK))
                if other:
                    blk = net.blocks(self._take(feats, rows, text=False), skip_text=True)
                    for i in other:
                        out[rows[0]:rows[-1] + 1, offsets[i]:offsets[i + 1]] = (blk[i] * scales[i]).numpy()
            mlp = bool(net.mlp_active)
            has_text = bool(blocks)
            if has_text:  # text blocks last: the kernel then scales each whole row to unit length
                row = blocks.pop(ROW, None)
                parts = list(self.row_columns_) if row is not None else list(blocks)
                enc0 = next(e for e in self.encoders_ if isinstance(e, TextEncoder))
                embed_blocks(out, *self._row_codes(df, columns=parts),
                             part_blocks=[blocks.get(c) for c in parts], row_block=row,
                             n_buckets=enc0.n_buckets, salt=enc0.salt,
                             ngram_range=enc0.ngram_range, max_chars=enc0.max_chars, words=enc0.words,
                             sublinear=self.sublinear_tf, unit=not mlp, char_wb=enc0.char_wb)
            if mlp:
                for start in range(0, n, _CHUNK):
                    z = torch.from_numpy(out[start:start + _CHUNK])
                    out[start:start + _CHUNK] = (z + net.mlp(z)).numpy()
            if mlp or not has_text:
                unit_rows(out)
        return out
        unit_rows(out)
        return out

    def _rng(self) -> np.random.Generator:
        if not hasattr(self, "_rng_"):
            self._rng_ = check_random_state(self.random_state)
        return self._rng_

    # -- fit ------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, y: Any = None, *, groups: Any = None) -> TableEncoder:
        """Infer the schema, fit the column encoders and pre-train without labels.

        Parameters
        ----------
        df : DataFrame of shape (n_rows, n_columns)
        y : ignored
        groups : array-like of shape (n_rows,), optional
            Which table each row comes from (any hashable labels), when ``df`` is several
            tables stacked for record matching. Self-training then pairs only mutual
            nearest neighbours from different groups (a record of A with its nearest
            record of B and vice versa), not near-duplicates within one table (product
            variants, which it would pull together). No effect without ``self_training``.

        Returns
        -------
        self
        """
        self._check_params()
        df = self._frame(df)
        group_codes = None
        if groups is not None:
            g = pd.Series(np.asarray(groups, dtype=object))
            if len(g) != len(df):
                raise ValueError(f"groups has {len(g)} values but df has {len(df)} rows")
            if g.isna().any():
                raise ValueError("groups has missing values: expected one table label per row")
            group_codes = pd.factorize(g)[0].astype(np.int64)
        self._rng_ = check_random_state(self.random_state)
        if isinstance(self.schema, Schema):
            schema = self.schema
            missing = [c for c in schema.columns() if c not in df.columns]
            if missing:
                raise KeyError(f"df lacks column(s) {missing} named by the given schema")
        else:
            schema = infer_schema(df, overrides=self.schema, max_categories=self.max_categories)
        self.schema_ = schema
        params = self._params()
        encoders = []
        for name in schema.columns():
            # one hash for every text block: a value's n-grams get the same buckets in its column's
            # block and in the row-text block, so transform hashes each value once
            enc = make_encoder(schema[name].kind, name, salt=0, params=params)
            encoders.append(enc.fit(df[name]))
        self.row_columns_ = [c for c in schema.columns() if schema[c].kind in ("text", "categorical")]
        if self.row_text and len(self.row_columns_) >= 2:
            enc = make_encoder("text", ROW, salt=0, params={**params, "text_dim": self.row_text_dim})
            enc.join = False  # the row's bag = the sum of its columns' bags
            encoders.append(enc.fit_codes(*self._row_codes(df)))
        else:
            self.row_columns_ = []
        if not encoders:
            raise ValueError("df has no column to encode: every column was inferred as 'skip' "
                             f"({schema.to_frame()['reason'].to_dict()}); override the schema")
        self.encoders_ = encoders
        self.feature_names_in_ = np.array([e.name for e in encoders if e.name != ROW], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.net_ = _build_net(encoders, params)
        _init_net(self.net_, self._rng_, encoders)
        self.dim_ = self.net_.dim
        self.history_ = []
        if self.epochs > 0 and len(df) > 1:
            self._pretrain(self._features(df), len(df))
        for r in range(self.self_training if len(df) > 2 else 0):
            self._self_train(df, r, group_codes)
        if self.history_ and self.idf_anchor > 0:
            self._anchor_to_idf(float(self.idf_anchor))
        return self

    def _anchor_to_idf(self, alpha: float) -> None:
        """Blend every n-gram weight with its IDF: ``w <- alpha * idf + (1 - alpha) * w``
        (in log space: ``logit <- log(alpha + (1 - alpha) * exp(logit))``)."""
        import torch

        with torch.no_grad():
            for p in self.net_.text_logit:
                p.copy_(torch.log(alpha + (1.0 - alpha) * torch.exp(p)))

    def _self_train(self, df: pd.DataFrame, round_: int, groups: np.ndarray | None = None) -> None:
        """One round of self-training: every pair of mutual nearest neighbours (each row's
        nearest other row, cosine) is taken as a match and trained on for 2 epochs as in
        :meth:`fine_tune_pairs` (no labels are used). With ``groups`` (a code per row) a
        row's nearest row is sought among the other groups only."""
        emb = self._embed(df)
        nn = _nearest_other(emb, self._rng(), groups=groups)
        i = np.arange(len(emb))
        keep = i[(nn >= 0) & (nn[nn] == i) & (i < nn)]
        logger.info("self-training round %d: %d mutual nearest-neighbour pairs", round_, len(keep))
        if len(keep) == 0:
            return
        pos = df.reset_index(drop=True)
        n_hist = len(self.history_)
        self.fine_tune_pairs(pos, pos, list(zip(keep.tolist(), nn[keep].tolist(), strict=True)),
                             np.ones(len(keep), dtype=int), epochs=2, learning_rate=0.05, weights="buckets")
        for h in self.history_[n_hist:]:
            h["stage"] = "self_training"
            h["round"] = round_
        for attr in ("pair_valid_top1_", "pair_valid_top10_", "pair_best_epoch_"):
            self.__dict__.pop(attr, None)

    def _optimizers(self, extra_params=(), lr: float | None = None, weights: str = "buckets") -> list:
        """Adam over the network's parameters and ``extra_params``. ``weights="buckets"``: every
        parameter but the kind weights; ``"kinds"``: only the kind weights and the block weights."""
        import torch

        if weights == "kinds":
            params = [*self.net_.kind_logit.parameters(), self.net_.log_weight]
        elif weights == "both":
            params = list(self.net_.parameters())
        else:
            params = [p for n, p in self.net_.named_parameters() if not n.startswith("kind_logit")]
        return [torch.optim.Adam(params + list(extra_params), lr=lr or self.learning_rate)]

    def _pretrain(self, feats: list[tuple], n: int) -> None:
        import torch
        from torch.nn import functional as F
        from tqdm.auto import tqdm

        gen = torch.Generator()
        gen.manual_seed(seed_from(self._rng_))
        net = self.net_
        heads = []
        if self.objective == "masked":
            self._mask_head = torch.nn.Sequential(torch.nn.Linear(net.dim, self.hidden_dim), torch.nn.GELU(),
                                                  torch.nn.Linear(self.hidden_dim, net.dim))
            heads = list(self._mask_head.parameters())
        opts = self._optimizers(heads)
        bs = min(self.batch_size, n)
        net.train()
        for epoch in tqdm(range(self.epochs), disable=not self.verbose, desc="pre-train"):
            order = torch.randperm(n, generator=gen).numpy()
            total, steps = 0.0, 0
            for start in range(0, n - 1, bs):
                rows = order[start:start + bs]
                if len(rows) < 2:
                    continue
                if self.objective == "contrastive":
                    za = net(self._take(feats, rows, self._rng_))
                    zb = net(self._take(feats, rows, self._rng_))
                    logits = za @ zb.T / self.temperature
                    target = torch.arange(len(rows))
                    loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
                else:
                    blocks = net.blocks(self._take(feats, rows))
                    masks = [(torch.rand(len(rows), generator=gen) < self.corruption).float()
                             for _ in blocks]
                    masked = [blk * (1 - m)[:, None] for blk, m in zip(blocks, masks, strict=True)]
                    pred = self._mask_head(net.combine(masked))
                    loss = 0.0
                    off = 0
                    for blk, m, d in zip(blocks, masks, net.dims, strict=True):
                        cos = F.cosine_similarity(pred[:, off:off + d], blk.detach(), dim=1)
                        loss = loss + ((1 - cos) * m).sum() / m.sum().clamp(min=1)
                        off += d
                    loss = loss / len(blocks)
                total += _step(opts, loss)
                steps += 1
            self.history_.append({"stage": "pretrain", "epoch": epoch, "loss": total / max(steps, 1)})
            logger.info("pre-train epoch %d loss %.4f", epoch, total / max(steps, 1))
        net.eval()

    # -- transform --------------------------------------------------------------------
    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Embed every row of ``df``.

        Columns are matched by name (any order); a column the encoder was fitted
        on but ``df`` lacks raises ``KeyError`` naming it; extra columns are
        ignored with a ``UserWarning``.

        Returns
        -------
        DataFrame of shape (n_rows, dim_), float32, columns ``emb_*``, index = ``df.index``.
        """
        self._check_fitted()
        df = self._select(df)
        emb = self._embed(df)
        return embeddings_frame(emb, df.index)

    def fit_transform(self, df: pd.DataFrame, y: Any = None, **fit_params) -> pd.DataFrame:
        return self.fit(df, y, **fit_params).transform(df)

    def link_embeddings(self, df_a: pd.DataFrame, df_b: pd.DataFrame, *,
                        hub_k: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Embed two tables for linking, hubness-corrected: dot products rank pairs by CSLS.

        ``transform`` of each table, then :func:`tabemb.hub_corrected`: two more columns per
        row, so that ``a' . b' = cos(a, b) - (r_B(a) + r_A(b)) / 2`` with ``r_B(a)`` the mean
        cosine of ``a`` to its ``hub_k`` most similar rows of ``df_b`` (and likewise). A generic
        record close to many records of the other table (a hub) stops being everyone's nearest
        neighbour. Search the result by dot product (``NeighborStore(metric="dot")``), in
        either direction. The penalties depend on both tables: embed them together.

        Returns
        -------
        (emb_a, emb_b) : DataFrames of shape (n_a, dim_ + 2) and (n_b, dim_ + 2), columns
        ``emb_*``, indexes of ``df_a`` and ``df_b``.
        """
        from ._hubness import hub_corrected

        return hub_corrected(self.transform(df_a), self.transform(df_b), hub_k)

    # -- fine-tuning --------------------------------------------------------------------
    def fine_tune(self, df: pd.DataFrame, y: Any, *, task: str | None = None, epochs: int = 10,
                  learning_rate: float | None = None, batch_size: int | None = None) -> TableEncoder:
        """Fine-tune the encoder on a target (classification or regression).

        A linear head on the embedding is trained jointly with the encoder
        (cross-entropy, or mean squared error on the standardised target).

        Parameters
        ----------
        df : DataFrame of shape (n_rows, n_columns)
        y : array-like or Series of shape (n_rows,), or the name of a column of ``df``
            (that column is then not used as input).
        task : {"classification", "regression"}, optional
            Default: regression for float targets with more than 20 distinct values.
        epochs, learning_rate, batch_size
            Defaults: 10, the encoder's learning rate and batch size.
        """
        import torch
        from torch.nn import functional as F
        from tqdm.auto import tqdm

        self._check_fitted()
        if isinstance(y, str) and isinstance(df, pd.DataFrame) and y in df.columns:
            y = df[y]
        df = self._select(df)
        y = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y.to_numpy())
        if len(y) != len(df):
            raise ValueError(f"y has {len(y)} values but df has {len(df)} rows")
        if y.isna().any():
            raise ValueError(f"y has {int(y.isna().sum())} missing values; drop those rows first")
        if task is None:
            task = ("regression" if pd.api.types.is_float_dtype(y.dtype) and y.nunique() > 20
                    else "classification")
        if task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
        if task == "classification":
            classes, codes = np.unique(y.astype(str).to_numpy(), return_inverse=True)
            target = torch.from_numpy(codes.astype(np.int64))
            head = torch.nn.Linear(self.dim_, len(classes))
        else:
            v = y.to_numpy(dtype=np.float64)
            mu, sd = v.mean(), v.std() or 1.0
            target = torch.from_numpy(((v - mu) / sd).astype(np.float32))
            head = torch.nn.Linear(self.dim_, 1)
        feats = self._features(df)
        gen = torch.Generator()
        gen.manual_seed(seed_from(self._rng()))
        lr = learning_rate or self.learning_rate
        opts = self._optimizers(list(head.parameters()))
        for o in opts:
            for g in o.param_groups:
                g["lr"] = lr
        n = len(df)
        bs = min(batch_size or self.batch_size, n)
        scale = 10.0  # unit-length embeddings: let the head see a usable range
        self.net_.mlp_active.fill_(True)
        self.net_.train()
        for epoch in tqdm(range(epochs), disable=not self.verbose, desc="fine-tune"):
            order = torch.randperm(n, generator=gen).numpy()
            total = 0.0
            for start in range(0, n, bs):
                rows = order[start:start + bs]
                out = head(self.net_(self._take(feats, rows)) * scale)
                if task == "classification":
                    loss = F.cross_entropy(out, target[rows])
                else:
                    loss = F.mse_loss(out[:, 0], target[rows])
                total += _step(opts, loss)
            self.history_.append({"stage": "fine_tune", "epoch": epoch, "loss": total})
        self.net_.eval()
        self.task_ = task
        return self

    @staticmethod
    def _pair_positions(a: pd.DataFrame, b: pd.DataFrame, pairs: Any, labels: Any,
                        name: str = "pairs") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row positions in ``a`` / ``b`` of each pair, and the labels as int."""
        if isinstance(pairs, pd.DataFrame):
            ka, kb = pairs.iloc[:, 0].to_numpy(), pairs.iloc[:, 1].to_numpy()
        elif isinstance(pairs, pd.MultiIndex):
            ka, kb = pairs.get_level_values(0).to_numpy(), pairs.get_level_values(1).to_numpy()
        else:
            arr = list(pairs)
            ka = np.array([p[0] for p in arr], dtype=object)
            kb = np.array([p[1] for p in arr], dtype=object)
        labels = np.asarray(labels).astype(int)
        if len(labels) != len(ka):
            raise ValueError(f"labels has {len(labels)} values but {name} has {len(ka)}")
        ia, ib = a.index.get_indexer(ka), b.index.get_indexer(kb)
        if (ia < 0).any() or (ib < 0).any():
            bad = [k for k, i in zip(ka, ia, strict=True) if i < 0][:3] + \
                  [k for k, i in zip(kb, ib, strict=True) if i < 0][:3]
            raise KeyError(f"{name} name keys that are not in df_a / df_b: {bad}")
        return ia, ib, labels

    def _pair_hits(self, a: pd.DataFrame, b: pd.DataFrame, ia: np.ndarray,
                   ib: np.ndarray) -> tuple[float, float]:
        """Shares of the B records of the matched pairs ``(ia, ib)`` whose nearest A record
        (cosine, exact, over all of ``a``) is one of their matches (top-1), and that have a match
        among their 10 nearest (top-10)."""
        qb = np.unique(ib)
        match = set(zip(ib.tolist(), ia.tolist(), strict=True))
        ea = self._embed(a)
        eb = self._embed(b.iloc[qb])
        k = min(10, len(a))
        hits1 = hits10 = 0
        for start in range(0, len(qb), 1024):
            sim = eb[start:start + 1024] @ ea.T
            top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            best = sim.argmax(axis=1)
            for q, t1, tk in zip(qb[start:start + 1024], best, top, strict=True):
                hits1 += (int(q), int(t1)) in match
                hits10 += any((int(q), int(t)) in match for t in tk)
        return hits1 / len(qb), hits10 / len(qb)

    def fine_tune_pairs(self, df_a: pd.DataFrame, df_b: pd.DataFrame, pairs: Any, labels: Any, *,
                        valid_pairs: Any = None, valid_labels: Any = None, epochs: int = 15,
                        learning_rate: float | None = None, batch_size: int = 128,
                        temperature: float = 0.05, patience: int = 4,
                        weights: str = "kinds") -> TableEncoder:
        """Fine-tune on match / no-match pairs of records of two tables.

        Loss: InfoNCE over the matched pairs of a batch (each B record must be
        closer to its A match than to the batch's other A records and to the A
        records of its labelled non-matches; and symmetrically), so that the
        embedding's nearest neighbour is the match (what blocking needs). What
        it trains (``weights``): by default ("kinds") one log-weight per text
        block and bucket *kind* (token kind x document-frequency bin, 88 per
        block, see :func:`tabemb._text.token_kinds`: character n-grams by size
        and by letters / digits / other characters, words and joined tokens by
        letters / digits / both and by length, each in 4 bins of how many rows
        hold the bucket) plus the block weights: a few hundred numbers shared by
        all products, which transfer to records the training pairs never named.
        ``"buckets"``: one log-weight per hash bucket per text block, the block
        weights, categorical embeddings and numeric projections (what fits the
        training products themselves: on the DeepMatcher sets it memorised them,
        see benchmarks/results/tabemb.md); ``"both"``: all of these.

        With ``valid_pairs``/``valid_labels``, after every epoch the top-1 and
        top-10 of the validation matches (each matched B record's nearest records
        of all of ``df_a``) are measured; the score is their sum (so a state that
        gains top-1 by losing blocking recall is not preferred); training stops
        after ``patience`` epochs without improvement and the best-scoring state is
        kept, the state before fine-tuning included: the result is never worse on
        the validation pairs than the pre-trained encoder.

        Parameters
        ----------
        df_a, df_b : DataFrame
            The two tables (same columns as fit; extra columns ignored).
        pairs : DataFrame with two columns, MultiIndex, or sequence of (key_a, key_b)
            Keys are index labels of ``df_a`` / ``df_b`` (their indexes must be unique).
        labels : array-like of shape (n_pairs,)
            1 = match, 0 = non-match.
        valid_pairs, valid_labels : optional
            Held-out pairs in the same form, for early stopping and model selection.
        epochs : int, default 15
        learning_rate : float, optional
            Adam's step size; default 0.2 with ``weights="kinds"`` (chosen on the Abt-Buy and
            Amazon-Google validation splits: 0.05, 0.1, 0.2 tried), else 0.05 (the weights
            live in log space: a step of 0.05 rescales a weight by about 5%; chosen on Abt-Buy's
            validation split, 0.01, 0.05, 0.1 tried).
        batch_size : int, default 128
        temperature : float, default 0.05
        patience : int, default 4
        weights : {"kinds", "buckets", "both"}, default "kinds"
            What is trained (see above).

        Attributes set
        --------------
        pair_valid_top1_, pair_valid_top10_ : list of float
            Validation top-1 / top-10 before fine-tuning and after each epoch (with validation
            pairs).
        pair_best_epoch_ : int
            The kept epoch (0 = the state before fine-tuning).
        """
        import torch
        from torch.nn import functional as F
        from tqdm.auto import tqdm

        self._check_fitted()
        if weights not in ("buckets", "kinds", "both"):
            raise ValueError(f"weights must be 'kinds', 'buckets' or 'both', got {weights!r}")
        if learning_rate is None:
            learning_rate = 0.2 if weights == "kinds" else 0.05
        a = self._select(df_a, "df_a")
        b = self._select(df_b, "df_b")
        for nm, d in (("df_a", a), ("df_b", b)):
            if not d.index.is_unique:
                raise ValueError(f"{nm} index must be unique for fine_tune_pairs")
        ia, ib, labels = self._pair_positions(a, b, pairs, labels)
        pos = np.flatnonzero(labels == 1)
        if len(pos) == 0:
            raise ValueError("labels has no match (label 1); fine_tune_pairs needs matches")
        valid = None
        if valid_pairs is not None:
            if valid_labels is None:
                raise ValueError("valid_pairs needs valid_labels")
            va, vb, vl = self._pair_positions(a, b, valid_pairs, valid_labels, "valid_pairs")
            if (vl == 1).any():
                valid = (va[vl == 1], vb[vl == 1])
        neg_of: dict[int, list[int]] = {}
        for i in np.flatnonzero(labels == 0):
            neg_of.setdefault(int(ib[i]), []).append(int(ia[i]))
        fa, fb = self._features(a), self._features(b)
        gen = torch.Generator()
        gen.manual_seed(seed_from(self._rng()))
        opts = self._optimizers(lr=learning_rate, weights=weights)
        scores: list[tuple[float, float]] = []
        best = (-1.0, 0, None)
        if valid is not None:
            scores.append(self._pair_hits(a, b, *valid))
            best = (sum(scores[0]), 0, {k: v.clone() for k, v in self.net_.state_dict().items()})
        since = 0
        for epoch in tqdm(range(epochs), disable=not self.verbose, desc="fine-tune pairs"):
            self.net_.train()
            order = pos[torch.randperm(len(pos), generator=gen).numpy()]
            total = 0.0
            for start in range(0, len(order), batch_size):
                sel = order[start:start + batch_size]
                ra, rb = ia[sel], ib[sel]
                hard = sorted({j for r in rb for j in neg_of.get(int(r), [])} - set(ra.tolist()))
                rows_a = np.concatenate([ra, np.array(hard, dtype=np.int64)])
                za = self.net_(self._take(fa, rows_a))
                zb = self.net_(self._take(fb, rb))
                logits = zb @ za.T / temperature
                # a B record may match several A records of the batch: only its own pair is the target,
                # the others are masked out of its negatives
                same = torch.from_numpy((rb[:, None] == rb[None, :]) & ~np.eye(len(sel), dtype=bool))
                logits[:, :len(sel)] = logits[:, :len(sel)].masked_fill(same, -1e4)
                target = torch.arange(len(sel))
                loss = F.cross_entropy(logits, target) + F.cross_entropy(logits[:, :len(sel)].T, target)
                total += _step(opts, loss)
            self.net_.eval()
            entry = {"stage": "fine_tune_pairs", "epoch": epoch, "loss": total}
            if valid is not None:
                hits = self._pair_hits(a, b, *valid)
                scores.append(hits)
                entry["valid_top1"], entry["valid_top10"] = hits
                score = sum(hits)
                if score > best[0]:
                    best = (score, epoch + 1, {k: v.clone() for k, v in self.net_.state_dict().items()})
                    since = 0
                else:
                    since += 1
            self.history_.append(entry)
            logger.info("fine_tune_pairs epoch %d loss %.4f%s", epoch, total,
                        f" valid top-1 / top-10 {scores[-1][0]:.4f} / {scores[-1][1]:.4f}"
                        if valid is not None else "")
            if valid is not None and since >= patience:
                break
        if best[2] is not None:
            self.net_.load_state_dict(best[2])
        self.net_.eval()
        self.pair_valid_top1_ = [h[0] for h in scores]
        self.pair_valid_top10_ = [h[1] for h in scores]
        self.pair_best_epoch_ = best[1] if valid is not None else epochs
        return self

    # -- persistence ----------------------------------------------------------------------
    def save(self, path) -> None:
        """Save as an artifact directory (kind ``"table_encoder"``): schema and vocabularies
        as JSON, IDF weights as .npy, the network as a torch state dict."""
        self._check_fitted()
        params = self._params()
        with ArtifactWriter(path, kind=KIND, params=params, dim=self.dim_,
                            columns=list(self.feature_names_in_), row_columns=self.row_columns_) as w:
            w.save_json("schema", self.schema_.to_json())
            w.save_json("encoders", [e.state() for e in self.encoders_])
            text = [e for e in self.encoders_ if isinstance(e, TextEncoder)]
            if text:
                w.save_array("idf", np.stack([e.idf for e in text]))
                w.save_array("kinds", np.stack([e.kinds if e.kinds is not None
                                                else np.zeros(e.n_buckets, dtype=np.int8) for e in text]))
            w.save_json("history", self.history_)
            w.save_state_dict("net", self.net_.state_dict())

    @classmethod
    def load(cls, path) -> TableEncoder:
        """Load a saved encoder (checks the artifact's kind and checksums)."""
        art = read_artifact(path, kind=KIND)
        params = dict(art.params)
        params["ngram_range"] = tuple(params["ngram_range"])
        params.setdefault("joined_tokens", False)  # saved before the parameter existed
        params.setdefault("analyzer", "char")
        params.setdefault("idf_anchor", 0.0)  # (only used in fit)
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
        self.feature_names_in_ = np.array([e.name for e in self.encoders_ if e.name != ROW], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.row_columns_ = list(art.info.get("row_columns", []))
        self.net_ = _build_net(self.encoders_, params)
        missing, unexpected = self.net_.load_state_dict(art.load_state_dict("net"), strict=False)
        if unexpected or any(not k.startswith("kind_logit") for k in missing):
            raise ValueError(f"{path}: the saved network does not fit this version of TableEncoder "
                             f"(missing {missing}, unexpected {unexpected})")
        self.net_.set_kinds(self.encoders_)  # kind_logit missing = saved before kinds: zeros
        self.net_.eval()
        self.dim_ = self.net_.dim
        self.history_ = art.load_json("history")
        return self
