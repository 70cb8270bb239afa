"""tabemb._schema: column kinds inferred from tiny frames, overrides, round trip."""

import numpy as np
import pandas as pd
import pytest

from tabemb import Schema, infer_schema


def test_schema_tricky_columns():
    n = 40
    df = pd.DataFrame({
        "id": np.arange(n),
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "age": np.linspace(20, 60, n),
        "price_str": [str(1.5 * i) for i in range(n)],
        "postcode": [f"{i:04d}" for i in range(n)],
        "flag": ["yes", "no"] * (n // 2),
        "flag01": [0, 1] * (n // 2),
        "color": ["red", "green", "blue", "red"] * (n // 4),
        "name": [f"person number {i} smith" for i in range(n)],
        "when": pd.date_range("2020-01-01", periods=n, freq="D").astype(str),
        "empty": [np.nan] * n,
        "mixed": [1, "a", 2.5, None] * (n // 4),
    })
    kinds = infer_schema(df).to_frame()["kind"].to_dict()
    assert kinds == {"id": "skip", "customer_id": "skip", "age": "numeric", "price_str": "numeric",
                     "postcode": "text", "flag": "boolean", "flag01": "boolean", "color": "categorical",
                     "name": "text", "when": "datetime", "empty": "skip", "mixed": "categorical"}
    frame = infer_schema(df, overrides={"color": "text"}).to_frame()
    assert frame.loc["color", "kind"] == "text" and frame.loc["color", "reason"] == "override"
    assert list(frame.columns) == ["kind", "dtype", "n_unique", "missing_share", "reason"]


def test_schema_bad_overrides():
    df = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(KeyError, match="nope"):
        infer_schema(df, overrides={"nope": "text"})
    with pytest.raises(ValueError, match="kinds must be one of"):
        infer_schema(df, overrides={"a": "banana"})


def test_schema_json_round_trip_and_lookup():
    df = pd.DataFrame({"name": [f"item {i}" for i in range(30)], "n": np.arange(30.0) * 1.5})
    schema = infer_schema(df)
    back = Schema.from_json(schema.to_json())
    assert back.to_frame().equals(schema.to_frame())
    assert back["n"].kind == "numeric" and back.columns("text") == ["name"]
    with pytest.raises(KeyError, match="'zz' is not in the schema"):
        back["zz"]
    with pytest.raises(TypeError, match="df must be a pandas DataFrame, got ndarray"):
        infer_schema(np.zeros((2, 2)))
