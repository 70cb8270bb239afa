"""tabemb's public estimators keep graphtab's estimator contract and scikit-learn's.

``nnstore.testing.check_estimator_contract`` (clone, params round trip, NotFittedError,
fit returns self, save -> load, bad parameters named) and scikit-learn's own estimator
checks on TableEncoder, plus the set_output / feature-name checks scikit-learn keeps out
of ``parametrize_with_checks``.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

import tabemb
from nnstore.testing import check_estimator_contract
from tabemb import TableEncoder

SMALL = {"text_dim": 16, "row_text_dim": 32, "n_buckets": 1 << 12, "random_state": 0}

# what TableEncoder does differently from scikit-learn's conventions, on purpose
EXPECTED_FAILURES = {
    "check_dataframe_column_names_consistency":
        "columns of a DataFrame are matched by name in any order and unknown columns are ignored "
        "with a UserWarning: two tables of records rarely list their columns in the same order",
}


def table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    words = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell"]
    return pd.DataFrame({"name": [f"{rng.choice(words)} {rng.choice(words)} {i}" for i in range(n)],
                         "city": rng.choice(["paris", "rome", "oslo"], n),
                         "size": rng.normal(size=n)},
                        index=pd.Index([f"r{i}" for i in range(n)], name="key"))


def test_table_encoder_keeps_the_graphtab_contract(tmp_path):
    df = table()
    check_estimator_contract(
        TableEncoder(**SMALL, epochs=1), lambda e: e.fit(df), outputs=lambda e: e.transform(df),
        unfitted=[lambda e: e.transform(df), lambda e: e.save(tmp_path / "x"),
                  lambda e: e.get_feature_names_out(), lambda e: e.fine_tune(df, [0, 1] * 20)],
        bad_params={"epochs": [-1, 1.5], "text_dim": [0], "objective": ["nope"], "analyzer": ["word"],
                    "idf_anchor": [1.5], "ngram_range": [(3, 2), [2, 4]], "n_buckets": [8],
                    "random_state": [-3], "corruption": [1.0], "verbose": [-1]},
        tmp_path=tmp_path)


def test_public_module_and_repr():
    assert TableEncoder.__module__ == "tabemb"
    assert repr(TableEncoder(epochs=2)) == "TableEncoder(epochs=2)"
    for name in tabemb.__all__:
        obj = getattr(tabemb, name)
        if isinstance(obj, type) or callable(obj):
            assert not obj.__module__.startswith("tabemb._"), name


def test_set_output_pandas_keeps_the_index_and_names_the_columns():
    df = table()
    enc = TableEncoder(**SMALL).set_output(transform="pandas")
    out = enc.fit_transform(df)
    assert out.index.equals(df.index)
    assert list(out.columns) == list(enc.get_feature_names_out())
    assert out.columns[0] == "emb_0" and len(out.columns) == enc.dim_
    arr = TableEncoder(**SMALL).set_output(transform="default").fit(df.to_numpy()).transform(df.to_numpy())
    assert isinstance(arr, pd.DataFrame) and arr.index.equals(pd.RangeIndex(len(df)))


def test_arrays_and_frames_without_names_are_read_by_position():
    df = table()
    named = TableEncoder(**SMALL).fit(df)
    assert list(named.feature_names_in_) == ["name", "city", "size"] and named.n_features_in_ == 3
    plain = TableEncoder(**SMALL).fit(df.to_numpy(dtype=object))
    assert not hasattr(plain, "feature_names_in_") and plain.n_features_in_ == 3
    np.testing.assert_array_equal(plain.transform(df.to_numpy(dtype=object)).to_numpy(),
                                  plain.transform(df.set_axis(["a", "b", "c"], axis=1)).to_numpy())
    with pytest.raises(ValueError, match="X has 2 features, but TableEncoder is expecting 3"):
        plain.transform(df.to_numpy(dtype=object)[:, :2])


@pytest.mark.parametrize("bad, error, message", [
    (np.arange(5.0), ValueError, "must be 2-D .* got 1-D input of shape \\(5,\\). Reshape your data"),
    (pd.Series([1.0, 2.0]), ValueError, "got a Series of 2 values: use X.to_frame\\(\\)"),
    (np.zeros((3, 2, 2)), ValueError, "got 3-D input"),
    (np.array([[1 + 2j, 3.0]]), ValueError, "Complex data not supported"),
    (np.zeros((0, 3)), ValueError, "X is empty"),
    (np.zeros((4, 0)), ValueError, "0 feature\\(s\\)"),
])
def test_bad_inputs_are_refused_with_a_named_error(bad, error, message):
    with pytest.raises(error, match=message):
        TableEncoder(**SMALL).fit(bad)


def test_sparse_input_is_refused():
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="X is a scipy sparse matrix"):
        TableEncoder(**SMALL).fit(sp.csr_matrix(np.eye(3)))


@parametrize_with_checks([TableEncoder(**SMALL)], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_scikit_learn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


@pytest.mark.parametrize("name", ["check_set_output_transform", "check_set_output_transform_pandas",
                                  "check_global_output_transform_pandas",
                                  "check_transformer_get_feature_names_out",
                                  "check_transformer_get_feature_names_out_pandas",
                                  "check_dataframe_column_names_consistency"])
def test_scikit_learn_output_and_feature_name_checks(name):
    check = getattr(estimator_checks, name)
    if name in EXPECTED_FAILURES:
        with pytest.raises(AssertionError):
            check("TableEncoder", TableEncoder(**SMALL))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check("TableEncoder", TableEncoder(**SMALL))
