import numpy as np
import pandas as pd
import pytest
import torch

from nnstore import (
    check_keys,
    check_random_state,
    check_vectors,
    embedding_columns,
    embeddings_frame,
    torch_generator,
)


def test_random_state_is_local_and_reproducible():
    state = np.random.get_state()[1].copy()
    a = check_random_state(7).random(3)
    b = check_random_state(7).random(3)
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    assert check_random_state(g) is g
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    t1 = torch.rand(3, generator=torch_generator(5))
    t2 = torch.rand(3, generator=torch_generator(5))
    assert torch.equal(t1, t2)


@pytest.mark.parametrize("bad, err", [(-1, ValueError), ("x", TypeError), (1.5, TypeError),
                                      (True, TypeError)])
def test_random_state_rejects(bad, err):
    with pytest.raises(err, match="random_state"):
        check_random_state(bad)


def test_embeddings_frame_convention():
    df = embeddings_frame(np.arange(6).reshape(3, 2), ["a", "b", "c"], name="node")
    assert list(df.columns) == ["emb_0", "emb_1"] == embedding_columns(2)
    assert (df.dtypes == np.float32).all()
    assert list(df.index) == ["a", "b", "c"] and df.index.name == "node"
    arr, keys = check_vectors(df)
    assert arr.dtype == np.float32 and arr.flags.c_contiguous
    np.testing.assert_array_equal(arr, np.arange(6).reshape(3, 2))
    assert list(keys) == ["a", "b", "c"]


def test_check_vectors_accepts_arrays_lists_tensors_and_1d():
    assert check_vectors([[1, 2], [3, 4]])[0].shape == (2, 2)
    assert check_vectors(np.ones(4))[0].shape == (1, 4)
    arr, keys = check_vectors(torch.ones(2, 3), dim=3)
    assert arr.shape == (2, 3) and keys is None


@pytest.mark.parametrize(
    "x, kwargs, match",
    [
        (np.ones((2, 3)), {"dim": 4}, "queries must have dimension 4, got 3"),
        (np.array([[1.0, np.nan]]), {}, "NaN or infinite values in 1 row"),
        (np.array([[1.0, np.inf]]), {}, "NaN or infinite"),
        (np.ones((0, 3)), {}, "queries is empty"),
        (np.ones((2, 2, 2)), {}, "2-D"),
        (np.array([["a", "b"]]), {}, "must be numeric"),
        (pd.DataFrame({"a": [1.0], "b": ["x"]}), {}, r"non-numeric: \['b'\]"),
    ],
)
def test_check_vectors_errors_name_the_argument(x, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_vectors(x, name="queries", **kwargs)


def test_check_vectors_nan_message_names_keys():
    df = pd.DataFrame({"emb_0": [1.0, np.nan]}, index=["ok", "broken"])
    with pytest.raises(ValueError, match="broken"):
        check_vectors(df)


def test_check_keys():
    assert list(check_keys(["a", 1, ("t", 2)])) == ["a", 1, ("t", 2)]
    assert list(check_keys("solo")) == ["solo"]
    with pytest.raises(ValueError, match=r"repeated: \['a'\]"):
        check_keys(["a", "b", "a"])
    with pytest.raises(ValueError, match="has 2 entries but there are 3 vectors"):
        check_keys(["a", "b"], n=3)
    with pytest.raises(TypeError, match="hashable"):
        check_keys([["unhashable"]])
