"""The one key serialiser every artifact uses (str, int, float, mixed and tuple keys keep their types).

Keys are written as one column: native ``int64``, ``float64`` or str when all
keys share that type, otherwise one JSON text per key (tuples as lists, read
back as tuples). A frame's index goes through the same encoding, and so do
object columns holding tuples or mixed types; how a frame was encoded is kept
in its parquet schema metadata (key ``graphtab``), so a plain parquet file
(written before) reads as it is. Keys an artifact cannot store (None, NaN,
bools, other objects) are refused with a ``TypeError``
(:func:`nnstore.check_storable_keys`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_storable_keys, key_index

__all__ = ["META_KEY", "decode_frame", "encode_frame", "keys_from_frame", "keys_to_frame"]

#: parquet schema metadata key recording how a frame's index and columns were encoded
META_KEY = b"graphtab"


def _json_key(k: Any) -> Any:
    if isinstance(k, tuple):
        return [_json_key(x) for x in k]
    if isinstance(k, np.generic):
        return k.item()
    return k


def _key_from_json(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_key_from_json(x) for x in v)
    return v


def _encode_keys(index: pd.Index) -> tuple[np.ndarray | pd.Index, bool]:
    """(column values, is_json) for validated keys: native int64/float64/str, else JSON texts."""
    kind = index.dtype.kind
    if kind in "iu" and not isinstance(index.dtype, pd.CategoricalDtype):
        return index, False
    if kind == "f" and not isinstance(index.dtype, pd.CategoricalDtype):
        return index, False
    values = list(index)
    types = set(map(type, values))
    if types <= {str}:
        return pd.Index(values, dtype=object), False
    if types <= {int} and values and -(2**63) <= min(values) and max(values) < 2**63:
        return pd.Index(values, dtype=np.int64), False
    dumps = json.dumps
    return pd.Index([dumps(_json_key(k), ensure_ascii=False) for k in values], dtype=object), True


def _decode_json_keys(texts: Iterable) -> list:
    loads = json.loads
    return [_key_from_json(loads(t)) for t in texts]


def keys_to_frame(keys: Any, *, name: str = "keys") -> pd.DataFrame:
    """Keys as a parquet-able frame, read back by :func:`keys_from_frame`.

    One column: ``key`` (int64, float64 or str, when all keys share that
    type) or ``key_json`` (one JSON text per key; tuples as lists). Refuses
    unstorable keys with ``TypeError`` (:func:`nnstore.check_storable_keys`).
    """
    index = check_storable_keys(keys if not isinstance(keys, np.ndarray) else list(keys), name=name)
    values, is_json = _encode_keys(index)
    return pd.DataFrame({"key_json" if is_json else "key": np.asarray(values)})


def keys_from_frame(frame: pd.DataFrame) -> np.ndarray:
    """The keys of a :func:`keys_to_frame` frame, a 1-D object array (tuples stay elements).

    Also reads the earlier layout (a str ``key`` column plus ``key_is_int``).
    """
    if "key_json" in frame.columns:
        items = _decode_json_keys(frame["key_json"].tolist())
    elif "key" in frame.columns:
        items = frame["key"].tolist()
        if "key_is_int" in frame.columns:
            items = [int(k) if i else k for k, i in zip(items, frame["key_is_int"].tolist(), strict=True)]
    else:
        raise ValueError(f"not a keys frame: it has columns {list(frame.columns)[:5]}, expected "
                         "'key' or 'key_json'")
    return np.fromiter(items, dtype=object, count=len(items))


def _jsonable_cell(v: Any) -> bool:
    """A cell the JSON column encoding keeps with its type (None/NaN become null)."""
    if v is None or isinstance(v, (str, bool, int, np.integer, np.bool_)):
        return True
    if isinstance(v, (float, np.floating)):
        return bool(np.isfinite(v)) or v != v
    if isinstance(v, tuple):
        return all(_jsonable_cell(x) and x is not None for x in v)
    return False


def encode_frame(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, dict]:
    """The frame with its index and object columns made parquet-safe, plus how (for decoding).

    An object index goes through the key serialiser (refused if unstorable);
    an object column holding tuples or a mix of types that parquet would
    coerce (int and str, int and float, ints with missing values) becomes
    JSON text per cell, so every cell keeps its type.
    """
    info: dict = {}
    bad_cols = [c for c in frame.columns if not isinstance(c, str)]
    if bad_cols:
        raise TypeError(f"frame {name!r}: column names must be strings to be saved, got {bad_cols[:5]}")
    out = frame
    index = frame.index
    if not isinstance(index, (pd.MultiIndex, pd.RangeIndex)) and (
            index.dtype == object or index.dtype.kind == "f"):
        keys = check_storable_keys(index, name=f"frame {name!r} index")
        values, is_json = _encode_keys(keys)
        if is_json:
            out = frame.copy(deep=False)
            out.index = pd.Index(values, name=index.name)
            info["index"] = "json"
    json_cols = []
    for c in frame.columns:
        s = frame[c]
        if s.dtype != object:
            continue
        vals = s.tolist()
        types = {type(v) for v in vals if not (v is None or (isinstance(v, float) and v != v))}
        if types <= {str} or types <= {bytes} or types <= {bool}:
            continue
        if types <= {float}:
            continue
        if not all(_jsonable_cell(v) for v in vals):
            continue  # parquet decides (and says which column if it cannot)
        if out is frame:
            out = frame.copy(deep=False)
        dumps = json.dumps
        out[c] = pd.Series([None if (v is None or (isinstance(v, float) and v != v))
                            else dumps(_json_key(v), ensure_ascii=False) for v in vals],
                           index=out.index, dtype=object)
        json_cols.append(c)
    if json_cols:
        info["json_columns"] = json_cols
    return out, info


def decode_frame(frame: pd.DataFrame, info: dict) -> pd.DataFrame:
    if info.get("index") == "json":
        frame.index = key_index(_decode_json_keys(frame.index.tolist())).rename(frame.index.name)
    for c in info.get("json_columns", []):
        loads = json.loads
        frame[c] = pd.Series([None if v is None or (isinstance(v, float) and v != v)
                              else _key_from_json(loads(v)) for v in frame[c].tolist()],
                             index=frame.index, dtype=object)
    return frame
