"""``graphtab match link | dedupe``."""

import pandas as pd

from graphtab.cli import main
from tabemb import RecordMatcher

PEOPLE = pd.DataFrame({
    "name": ["john smith", "mary jones", "peter brown", "linda white", "james black", "susan green",
             "robert king", "nancy hall", "jon smith", "mary jnoes", "robert kingg", "linda whyte"],
    "city": ["leeds", "york", "bath", "hull", "ely", "wells", "derby", "ripon", "leeds", "york", "derby",
             "hull"],
    "born": ["1970-01-02", "1981-05-06", "1990-07-08", "1965-03-04", "1977-11-12", "1988-09-10",
             "1959-12-01", "1992-02-14", "1970-01-02", "1981-05-06", "1959-12-01", "1965-04-03"],
    "income": [50.0, 61.0, 40.0, 75.0, 30.0, 45.0, 90.0, 20.0, 50.0, 61.0, 90.0, 75.0],
}, index=[f"p{i}" for i in range(12)])
DUPS = {("p0", "p8"), ("p1", "p9"), ("p6", "p10"), ("p3", "p11")}


def test_link_and_dedupe(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.parquet"
    PEOPLE.iloc[:8].rename_axis("id").to_csv(a)
    PEOPLE.iloc[8:].rename_axis("id").to_parquet(b)
    assert main(["match", "link", str(a), str(b), "--key", "id", "--out", str(tmp_path / "l"),
                 "--n-neighbors", "3", "--one-to-one", "--seed", "0"]) == 0
    pairs = pd.read_parquet(tmp_path / "l" / "pairs.parquet")
    assert set(pairs[["index_a", "index_b"]].itertuples(index=False, name=None)) == DUPS
    assert len(pd.read_parquet(tmp_path / "l" / "clusters.parquet")) == 12
    full = tmp_path / "all.csv"
    PEOPLE.rename_axis("id").to_csv(full)
    assert main(["match", "dedupe", str(full), "--key", "id", "--out", str(tmp_path / "d"),
                 "--n-neighbors", "3", "--save-model", str(tmp_path / "model"), "--seed", "0"]) == 0
    cl = pd.read_parquet(tmp_path / "d" / "clusters.parquet")
    assert cl["cluster"].nunique() == 8
    assert RecordMatcher.load(tmp_path / "model").mode_ == "fellegi_sunter"


def test_errors_before_work(tmp_path, capsys):
    PEOPLE.rename_axis("id").to_csv(tmp_path / "all.csv")
    assert main(["match", "dedupe", str(tmp_path / "all.csv"), "--out", str(tmp_path / "d.csv")]) == 2
    assert "expected a directory" in capsys.readouterr().err
    assert main(["match", "link", str(tmp_path / "all.csv"), str(tmp_path / "all.csv"), "--key", "a",
                 "b", "c", "--out", str(tmp_path / "l")]) == 2
    assert "--key takes one column" in capsys.readouterr().err


def test_link_warns_when_the_unsupervised_scorer_is_weak(tmp_path, capsys, monkeypatch):
    from tabemb._matching import _diagnostics

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    PEOPLE.iloc[:8].rename_axis("id").to_csv(a)
    PEOPLE.iloc[8:].rename_axis("id").to_csv(b)
    args = ["match", "link", str(a), str(b), "--key", "id", "--n-neighbors", "3", "--seed", "0"]
    assert main([*args, "--out", str(tmp_path / "strong")]) == 0
    assert "weak" not in capsys.readouterr().err
    monkeypatch.setattr(_diagnostics, "WEAK_SHARE", -1.0)  # every score distribution counts as weak
    assert main([*args, "--out", str(tmp_path / "weak")]) == 0
    err = capsys.readouterr().err
    assert "unsupervised scorer is weak" in err and "--labels FILE" in err
    assert err.count("weak") == 1  # printed once, not also as a Python warning
