"""TableEncoder's inputs: column features, network batches, and the compiled embedding pass.

Three stages between a DataFrame and the network of ``tabemb._network``:

- :func:`column_features`: per column encoder its numpy features (text: the CSR of
  distinct hashed n-gram buckets and their counts; categorical codes; numeric and
  datetime feature matrices);
- :func:`take_batch`: the torch inputs of some rows (optionally a SCARF-corrupted view);
- :func:`embed_rows`: the embeddings of every row of a table without autograd: text
  blocks in one compiled hash-and-sketch pass, the other blocks by torch in chunks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._encoders import ROW, VALUES, TextEncoder
from ._text import embed_blocks, sketch_columns, take_ragged, text_codes, unit_rows

__all__ = ["column_features", "embed_rows", "row_codes", "take_batch"]

_CHUNK = 8192


def row_codes(df: pd.DataFrame, columns: list, cache: dict | None = None) -> tuple:
    """The code buffers of ``columns`` joined, and each row's parts as ``(starts, ends)`` of
    shape (n_rows, n_columns) (see :func:`tabemb._text.text_codes`)."""
    cache = {} if cache is None else cache
    parts = []
    for c in columns:
        if c not in cache:
            cache[c] = text_codes(df[c])
        parts.append(cache[c])
    off, starts, ends = 0, [], []
    for codes, st, en in parts:
        starts.append(st + off)
        ends.append(en + off)
        off += len(codes)
    return np.concatenate([p[0] for p in parts]), np.stack(starts, 1), np.stack(ends, 1)


def column_features(encoders: list, row_columns: list, df: pd.DataFrame) -> list[tuple]:
    """Per encoder: text ``(ids, tf, indptr)``, categorical ``(codes,)``, numeric ``(features,)``,
    exact values ``(block,)``."""
    cache: dict = {}
    out = []
    for enc in encoders:
        if enc.name == ROW:
            out.append(enc.hash_codes(*row_codes(df, row_columns, cache)))
        elif isinstance(enc, TextEncoder):
            if enc.name not in cache:
                cache[enc.name] = text_codes(df[enc.name])
            out.append(enc.hash_codes(*cache[enc.name]))
        elif enc.name == VALUES:
            out.append(enc.features(df))
        else:
            out.append(enc.features(df[enc.name]))
    return out


def take_batch(encoders: list, feats: list[tuple], rows, *, sublinear_tf: bool,
               rng: np.random.Generator | None = None, corruption: float = 0.0,
               ngram_dropout: float = 0.0, text: bool = True) -> dict:
    """Network inputs for ``rows`` (a slice or an index array); ``text=False`` leaves the text
    blocks out (None).

    With ``rng``: a SCARF-corrupted view; each cell is replaced with probability
    ``corruption`` by the same column's value in another row of the batch (a draw from the
    column's empirical marginal), and each text n-gram is dropped with probability
    ``ngram_dropout``.
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
    for f, enc in zip(feats, encoders, strict=True):
        r = rows
        if perm is not None:
            mask = rng.random(n) < corruption
            r = rows.copy()
            r[mask] = rows[perm[mask]]
        if isinstance(enc, TextEncoder):
            if not text:
                cols.append(None)
                continue
            ids, tf, indptr = f
            pos, counts = take_ragged(indptr, r)
            ids, tf = ids[pos], tf[pos]
            val = 1.0 + np.log(tf) if sublinear_tf else tf.copy()
            if perm is not None and ngram_dropout > 0:
                val = val * (rng.random(len(val)) >= ngram_dropout)
            col_of, sign = sketch_columns(enc.n_buckets, enc.dim)
            val = (val * sign[ids]).astype(np.float32)
            flat = np.repeat(np.arange(n, dtype=np.int64), counts) * enc.dim + col_of[ids]
            cols.append((torch.from_numpy(flat), torch.from_numpy(val), torch.from_numpy(ids)))
        else:
            cols.append(torch.from_numpy(np.ascontiguousarray(f[0][r])))
    return {"cols": cols, "n": n}


def embed_rows(net, encoders: list, row_columns: list, df: pd.DataFrame, *, sublinear_tf: bool) -> np.ndarray:
    """Embeddings of all rows of ``df`` (already column-checked), float32 of shape
    (n_rows, net.dim): text blocks by one compiled hash-and-sketch pass, other blocks by torch
    in chunks, then the residual MLP (once fine-tuned) and unit length."""
    import torch

    net.eval()
    n = len(df)
    out = np.zeros((n, net.dim), dtype=np.float32)
    with torch.inference_mode():
        scales = net.scales().numpy().astype(np.float64)
        offsets = np.concatenate([[0], np.cumsum(net.dims)]).astype(np.int64)
        feats: list = []
        blocks: dict = {}
        t = 0
        for i, enc in enumerate(encoders):
            if isinstance(enc, TextEncoder):
                feats.append(None)
                blocks[enc.name] = (int(offsets[i]), enc.dim, float(scales[i]), net.bucket_weight(t).numpy())
                t += 1
            else:
                feats.append(enc.features(df if enc.name == VALUES else df[enc.name]))
        other = [i for i, f in enumerate(feats) if f is not None]
        for start in range(0, n, _CHUNK):
            rows = np.arange(start, min(n, start + _CHUNK))
            if other:
                blk = net.blocks(take_batch(encoders, feats, rows, sublinear_tf=sublinear_tf, text=False),
                                 skip_text=True, row_exact=True)
                for i in other:
                    out[rows[0]:rows[-1] + 1, offsets[i]:offsets[i + 1]] = (blk[i] * scales[i]).numpy()
        mlp = bool(net.mlp_active)
        has_text = bool(blocks)
        if has_text:  # text blocks last: the kernel then scales each whole row to unit length
            row = blocks.pop(ROW, None)
            parts = list(row_columns) if row is not None else list(blocks)
            enc0 = next(e for e in encoders if isinstance(e, TextEncoder))
            embed_blocks(out, *row_codes(df, parts), part_blocks=[blocks.get(c) for c in parts],
                         row_block=row, n_buckets=enc0.n_buckets, salt=enc0.salt,
                         ngram_range=enc0.ngram_range, max_chars=enc0.max_chars, words=enc0.words,
                         sublinear=sublinear_tf, unit=not mlp, char_wb=enc0.char_wb)
        if mlp:
            for start in range(0, n, _CHUNK):
                z = torch.from_numpy(out[start:start + _CHUNK])
                out[start:start + _CHUNK] = (z + net.mlp(z)).numpy()
        if mlp or not has_text:
            unit_rows(out)
    return out
