import pandas as pd
import pytest

from graphtab import iter_table_chunks, read_table, write_table


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_read_round_trip_and_chunks(tmp_path, suffix):
    df = pd.DataFrame({"key": list("abcde"), "x": range(5)})
    path = write_table(df, tmp_path / f"t{suffix}", index=False)
    back = read_table(path, index_col="key")
    assert list(back.index) == list("abcde") and list(back["x"]) == list(range(5))
    chunks = list(iter_table_chunks(path, chunksize=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [p.name for p in tmp_path.iterdir()] == [f"t{suffix}"]


def test_read_table_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "t.json").write_text("{}")
    with pytest.raises(ValueError, match="expected a .csv"):
        read_table(tmp_path / "t.json")
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv", index=False)
    with pytest.raises(KeyError, match="key column 'id' not in"):
        read_table(tmp_path / "t.csv", index_col="id")
    with pytest.raises(ValueError, match="must end in .parquet or .csv"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xlsx")
