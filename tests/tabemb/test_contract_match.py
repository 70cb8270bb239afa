"""The estimator contract (nnstore.testing.check_estimator_contract) on tabemb.RecordMatcher."""

import numpy as np
import pandas as pd
import pytest

from nnstore.testing import check_estimator_contract
from tabemb import RecordMatcher, TableEncoder

PEOPLE = pd.DataFrame({
    "name": ["john smith", "mary jones", "peter brown", "linda white", "james black", "susan green",
             "robert king", "nancy hall", "jon smith", "mary jnoes", "robert kingg", "linda whyte"],
    "city": ["leeds", "york", "bath", "hull", "ely", "wells", "derby", "ripon", "leeds", "york", "derby",
             "hull"],
    "income": [50.0, 61.0, 40.0, 75.0, 30.0, 45.0, 90.0, 20.0, 50.0, 61.0, 90.0, 75.0],
}, index=[f"p{i}" for i in range(12)])
LABELS = pd.DataFrame([("p0", "p8", 1), ("p1", "p9", 1), ("p6", "p10", 1), ("p3", "p11", 1),
                       ("p0", "p1", 0), ("p2", "p3", 0), ("p4", "p5", 0), ("p6", "p7", 0)],
                      columns=["index_a", "index_b", "label"])
BAD = {"n_neighbors": [0, 2.5], "threshold": [0.0, 1.5], "approximate": ["hnsw"], "n_probe": [0],
       "n_classes": [1], "max_iter": [0], "max_block_size": [0], "n_jobs": [0], "random_state": [-1],
       "columns": [3], "mapping": ["name"], "use_embedding_feature": ["yes"], "encoder": ["tfidf"]}


def _outputs(m):
    res = m.predict(PEOPLE)
    return res.candidates, res.clusters


@pytest.mark.parametrize("supervised", [False, True])
def test_record_matcher_contract(tmp_path, supervised):
    est = RecordMatcher(n_neighbors=3, random_state=0,
                        tree_params={"max_iter": 10, "min_samples_leaf": 1}, context_features=False)
    labels = LABELS if supervised else None
    check_estimator_contract(
        est, lambda e: e.fit(PEOPLE, labels=labels), outputs=_outputs,
        unfitted=[lambda e: e.predict(PEOPLE), lambda e: e.score_pairs(PEOPLE, None, [("p0", "p8")]),
                  lambda e: e.save(tmp_path / "never")],
        bad_params=BAD if not supervised else {}, tmp_path=tmp_path)


def test_repr_names_the_public_module_and_encoder_argument_is_untouched():
    assert repr(RecordMatcher(n_neighbors=3)) == "RecordMatcher(n_neighbors=3)"
    assert RecordMatcher.__module__ == "tabemb"
    enc = TableEncoder(epochs=0, text_dim=8, row_text_dim=16, random_state=0)
    m = RecordMatcher(encoder=enc, n_neighbors=3, random_state=0).fit(PEOPLE)
    assert m.encoder is enc and not hasattr(enc, "net_") and m.encoder_ is not enc


def test_random_state_decides_everything():
    a = RecordMatcher(n_neighbors=3, random_state=7).fit_predict(PEOPLE)
    b = RecordMatcher(n_neighbors=3, random_state=7).fit_predict(PEOPLE)
    pd.testing.assert_frame_equal(a.candidates, b.candidates)
    # a Generator is consumed like an int seed's generator
    c = RecordMatcher(n_neighbors=3, random_state=np.random.default_rng(7)).fit_predict(PEOPLE)
    pd.testing.assert_frame_equal(a.candidates, c.candidates)
