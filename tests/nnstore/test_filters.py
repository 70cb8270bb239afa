import numpy as np
import pandas as pd
import pytest

from nnstore import col
from nnstore._filters import evaluate_filter

META = pd.DataFrame({"genre": ["drama", "comedy", "drama", None],
                     "price": [1.0, 5.0, 12.0, np.nan],
                     "sku": ["a", "b", "c", "d"]})


def mask(f):
    return evaluate_filter(f, META).tolist()


def test_leaves():
    assert mask(col("genre") == "drama") == [True, False, True, False]
    assert mask(col("genre") != "drama") == [False, True, False, False]  # missing never passes
    assert mask(col("price") < 5) == [True, False, False, False]
    assert mask(col("price") >= 5) == [False, True, True, False]
    assert mask(col("price").between(1, 5)) == [True, True, False, False]
    assert mask(col("sku").isin(["b", "d"])) == [False, True, False, True]
    assert mask(col("genre").isna()) == [False, False, False, True]
    assert mask(col("genre").notna()) == [True, True, True, False]


def test_combinations():
    f = (col("genre") == "drama") & col("price").between(1, 10) & ~col("sku").isin(["c"])
    assert mask(f) == [True, False, False, False]
    assert mask((col("price") > 10) | (col("sku") == "b")) == [False, True, True, False]
    assert mask(~(col("price") > 10)) == [True, True, False, True]
    assert mask(lambda m: m["price"] > 4) == [False, True, True, False]
    assert evaluate_filter(None, META) is None


def test_errors():
    with pytest.raises(KeyError, match="filter column 'color' is not in the store's metadata"):
        evaluate_filter(col("color") == 1, META)
    with pytest.raises(TypeError, match="no truth value"):
        bool(col("price") > 1)
    with pytest.raises(TypeError, match="is a column, not a condition"):
        evaluate_filter(col("price"), META)
    with pytest.raises(ValueError, match="boolean Series"):
        evaluate_filter(lambda m: m["price"], META)
    with pytest.raises(TypeError, match="filter must be"):
        evaluate_filter("price > 1", META)
    with pytest.raises(TypeError, match="combine filter"):
        (col("price") > 1) & True
