import pandas as pd
import pytest

from graphtab import iter_table_chunks, read_table, write_table
from graphtab._io import TableReadError


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
    with pytest.raises(ValueError, match="expected .csv, .tsv or .parquet"):
        read_table(tmp_path / "t.json")
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv", index=False)
    with pytest.raises(KeyError, match="key column 'id' not in"):
        read_table(tmp_path / "t.csv", index_col="id")
    with pytest.raises(ValueError, match="must end in .parquet or .csv"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xlsx")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.csv", b"", "is empty \\(0 bytes\\)"),
    ("bin.csv", b"a,b\n\x00\x01\x02", "binary data"),
    ("latin.csv", "name\ncaf\xe9\n".encode("latin-1"), "not UTF-8 text"),
    ("bad.csv", b'a,b\n1,2\n3,4,5,6\n', "not a well-formed CSV table"),
    ("fake.parquet", b"a,b\n1,2\n", "not a Parquet file"),
])
def test_unreadable_files_name_the_file_and_the_problem(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TableReadError, match=message) as e:
        read_table(path)
    assert name in str(e.value)
    with pytest.raises(TableReadError, match=message):
        list(iter_table_chunks(path))


def test_parquet_named_csv(tmp_path):
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "t.csv")
    with pytest.raises(TableReadError, match="holds Parquet data but is named like a CSV"):
        read_table(tmp_path / "t.csv")


def test_str_columns_keep_leading_zeros(tmp_path):
    pd.DataFrame({"id": ["007", "10"], "x": [1, 2]}).to_csv(tmp_path / "t.csv", index=False)
    assert read_table(tmp_path / "t.csv")["id"].tolist() == [7, 10]
    assert read_table(tmp_path / "t.csv", str_columns=["id"])["id"].tolist() == ["007", "10"]
    pd.DataFrame({"id": [7, 10], "x": [1, 2]}).to_parquet(tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.parquet", str_columns=["id"])["id"].tolist() == ["7", "10"]
