"""tabemb._matching._diagnostics: the weak-scorer check, and how link / dedupe report it."""

import warnings

import numpy as np
import pandas as pd
import pytest

from tabemb import RecordMatcher, dedupe, link
from tabemb._matching import _diagnostics
from tabemb._matching._diagnostics import score_diagnostics

PEOPLE = pd.DataFrame({
    "name": ["john smith", "mary jones", "peter brown", "linda white", "james black", "susan green",
             "robert king", "nancy hall", "jon smith", "mary jnoes", "robert kingg", "linda whyte"],
    "city": ["leeds", "york", "bath", "hull", "ely", "wells", "derby", "ripon", "leeds", "york", "derby",
             "hull"],
    "born": ["1970-01-02", "1981-05-06", "1990-07-08", "1965-03-04", "1977-11-12", "1988-09-10",
             "1959-12-01", "1992-02-14", "1970-01-02", "1981-05-06", "1959-12-01", "1965-04-03"],
}, index=[f"p{i}" for i in range(12)])


def test_bimodal_scores_are_not_weak_and_a_middle_mass_is():
    bimodal = np.r_[np.full(900, 0.001), np.full(95, 0.999), np.full(5, 0.5)]
    d = score_diagnostics(bimodal)
    assert (d["n_candidates"], d["n_sure"], d["n_unsure"]) == (1000, 95, 5)
    assert d["unsure_share"] == pytest.approx(0.05) and not d["weak"] and d["message"] == ""
    middle = np.r_[np.full(900, 0.001), np.full(40, 0.999), np.linspace(0.1, 0.9, 60)]
    d = score_diagnostics(middle)
    assert d["unsure_share"] == pytest.approx(0.6) and d["weak"]
    assert "labels=" in d["message"] and "60 undecided" in d["message"]
    # the edges: 0.05 is a rejection, 0.95 a confident match
    d = score_diagnostics(np.array([0.05, 0.95, 0.0501]))
    assert (d["n_sure"], d["n_unsure"]) == (1, 1)
    # no pair above the rejection level: nothing undecided, not weak
    assert not score_diagnostics(np.zeros(10))["weak"]
    assert score_diagnostics(np.zeros(0))["unsure_share"] == 0.0


def test_clear_duplicates_give_no_warning_and_a_strong_diagnosis():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = dedupe(PEOPLE, n_neighbors=3, random_state=0)
    assert not res.weak and res.diagnostics["n_sure"] == 4 and res.diagnostics["unsure_share"] < 0.4


def test_weak_scorer_warns_names_labels_and_shows_in_the_result(monkeypatch, tmp_path):
    monkeypatch.setattr(_diagnostics, "WEAK_SHARE", -1.0)  # every distribution counts as weak
    with pytest.warns(UserWarning, match="pass labels="):
        res = link(PEOPLE.iloc[:8], PEOPLE.iloc[8:], n_neighbors=3, random_state=0)
    assert res.weak and res.diagnostics["weak"] and res.diagnostics["mode"] == "fellegi_sunter"
    with pytest.warns(UserWarning, match="cannot separate"):
        m = RecordMatcher(n_neighbors=3, random_state=0).fit(PEOPLE)
    assert m.diagnostics_["weak"]
    m2 = RecordMatcher.load(m.save(tmp_path / "m"))
    assert m2.diagnostics_ == m.diagnostics_
    # with labels there is no unsupervised scorer to judge: no warning
    labels = pd.DataFrame([("p0", "p8", 1), ("p1", "p9", 1), ("p6", "p10", 1), ("p0", "p1", 0),
                           ("p2", "p3", 0), ("p4", "p5", 0)], columns=["index_a", "index_b", "label"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = dedupe(PEOPLE, labels=labels, n_neighbors=3, random_state=0,
                     tree_params={"max_iter": 5, "min_samples_leaf": 1}, context_features=False)
    assert not res.weak and res.diagnostics == {"mode": "supervised"}
