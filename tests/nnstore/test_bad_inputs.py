"""Every public nnstore entry point against a catalogue of bad values.

Each case asserts a named error: the documented exception type, a message
matching the expected text, and the argument's name in that message. Calls
on a store must leave it unchanged. The damaged-artifact cases (the ones that
could crash a compiled kernel) run in one subprocess, so that a segfault
fails those cases instead of killing pytest; ``test_catalogue_counts`` checks
the totals (cases, clear errors, crashes).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nnstore import (
    ArtifactError,
    ArtifactWriter,
    NeighborStore,
    check_keys,
    check_storable_keys,
    check_vectors,
    col,
    embeddings_frame,
    evaluate_filter,
    keys_from_frame,
    keys_to_frame,
    read_artifact,
)
from nnstore._artifact import manifest_digest

DIM = 4
N = 60
NAN, INF = float("nan"), float("inf")


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, DIM)).astype(np.float32)
    meta = pd.DataFrame({"flag": np.arange(N) % 2 == 0, "price": np.arange(N, dtype=np.int64),
                         "name": [f"n{i}" for i in range(N)]})
    return X, meta


def _store():
    X, meta = _data()
    return NeighborStore(DIM, metric="euclidean", n_trees=3, random_state=0).add(
        list(range(N)), X, metadata=meta).rebuild()


# -- the catalogue: (argument, call(store, X, tmp), exception types, message regex) ----------
CASES: list = []


def case(arg, exc, match, *, id):
    def register(fn):
        CASES.append(pytest.param(arg, fn, exc, match, id=id))
        return fn
    return register


def _add_cases():
    # constructor
    for v in (0, -1, 2.5, "8", True, None, np.float64(8)):
        case("dim", ValueError, "dim must be a positive int", id=f"NeighborStore-dim={v!r}")(
            lambda s, X, t, v=v: NeighborStore(v))
    for v in ("hamming", None, 3, ["cosine"], "COSINE"):
        case("metric", ValueError, "metric must be one of", id=f"NeighborStore-metric={v!r}")(
            lambda s, X, t, v=v: NeighborStore(DIM, metric=v))
    for v in (0, -1, True, 2.5, "50", None):
        case("n_trees", ValueError, "n_trees must be a positive int", id=f"NeighborStore-n_trees={v!r}")(
            lambda s, X, t, v=v: NeighborStore(DIM, n_trees=v))
    for v in (0, -1, True, 1.5, "10"):
        case("search_k", ValueError, "search_k must be None or a positive int",
             id=f"NeighborStore-search_k={v!r}")(lambda s, X, t, v=v: NeighborStore(DIM, search_k=v))
    for v in ("no", 1, None, "True"):
        case("exact", TypeError, "exact must be a bool", id=f"NeighborStore-exact={v!r}")(
            lambda s, X, t, v=v: NeighborStore(DIM, exact=v))
    for v in (-0.1, NAN, "0.2", True, None):
        case("rebuild_threshold", ValueError, "rebuild_threshold must be a float >= 0",
             id=f"NeighborStore-rebuild_threshold={v!r}")(
            lambda s, X, t, v=v: NeighborStore(DIM, rebuild_threshold=v))
    for v in (0, True, 1.5, "2"):
        case("n_jobs", ValueError, "n_jobs must be None, -1 or a positive int",
             id=f"NeighborStore-n_jobs={v!r}")(lambda s, X, t, v=v: NeighborStore(DIM, n_jobs=v))
    for v, e in ((-1, ValueError), ("x", TypeError), (1.5, TypeError), (True, TypeError)):
        case("random_state", e, "random_state must be", id=f"NeighborStore-random_state={v!r}")(
            lambda s, X, t, v=v: NeighborStore(DIM, random_state=v))

    # add: keys
    for v, what in (([None], "None"), ([NAN], "NaN"), ([INF], "NaN or infinite"), ([True], "bool"),
                    ([b"x"], "bytes"), ([frozenset()], "frozenset"), ([("a", None)], "tuple"),
                    ([pd.Timestamp(0)], "Timestamp"), ([object()], "object")):
        case("keys", TypeError, f"keys cannot be stored: .*{what}", id=f"add-keys={v!r}")(
            lambda s, X, t, v=v: s.add(v, X[:1]))
    case("keys", TypeError, "keys must be hashable", id="add-keys-unhashable")(
        lambda s, X, t: s.add([[1]], X[:1]))
    case("keys", ValueError, r"keys must be unique; repeated: \['a'\]", id="add-keys-repeated")(
        lambda s, X, t: s.add(["a", "a"], X[:2]))
    case("keys", ValueError, "keys has 1 entries but there are 2 vectors", id="add-keys-length")(
        lambda s, X, t: s.add(["a"], X[:2]))
    case("keys", TypeError, "keys is a DataFrame", id="add-keys-frame-with-vectors")(
        lambda s, X, t: s.add(pd.DataFrame(X[:1]), X[:1]))
    case("vectors", TypeError, "vectors missing", id="add-vectors-missing")(
        lambda s, X, t: s.add(["a"]))
    # add and query: vectors
    bad_vectors = {
        "wrong-dim": (ValueError, "vectors must have dimension 4, got 3", lambda X: X[:1, :3]),
        "nan": (ValueError, "vectors contains NaN or infinite", lambda X: np.full((1, DIM), NAN)),
        "inf": (ValueError, "vectors contains NaN or infinite", lambda X: np.full((1, DIM), -INF)),
        "complex": (TypeError, "vectors must hold real numbers", lambda X: X[:1] + 1j),
        "strings": (ValueError, "vectors must be numeric", lambda X: np.array([["a"] * DIM])),
        "3-D": (ValueError, "vectors must be 2-D", lambda X: X[:2].reshape(1, 2, DIM)),
        "ragged": (ValueError, "vectors must be a numeric array", lambda X: [[1.0, 2.0], [1.0]]),
        "objects": (ValueError, "vectors must be numeric", lambda X: np.array([[object()] * DIM])),
        "f64-beyond-f32": (ValueError, "vectors has finite values that exceed the float32 range",
                           lambda X: X[:1].astype(np.float64) * 1e39),
        "norm-overflow": (ValueError, r"vectors: 1 (query )?row\(s\) have a norm above",
                          lambda X: X[:1] * np.float32(1e20)),
        "frame-non-numeric": (ValueError, "vectors DataFrame must have numeric columns only",
                              lambda X: pd.DataFrame({"a": ["x"], "b": [1.0], "c": [1.0], "d": [1.0]})),
        "frame-complex": (TypeError, "vectors DataFrame must hold real numbers",
                          lambda X: pd.DataFrame(X[:1] + 1j)),
        "frame-NA": (ValueError, "vectors contains missing values",
                     lambda X: pd.DataFrame({c: pd.array([1, None], dtype="Int64") for c in "abcd"})),
    }
    for name, (e, m, make) in bad_vectors.items():
        case("vectors", e, m, id=f"add-vectors-{name}")(
            lambda s, X, t, make=make: _add_vectors(s, make(X)))
        for method in ("query", "query_arrays", "recall_at_k"):
            case("vectors", e, m, id=f"{method}-vectors-{name}")(
                lambda s, X, t, make=make, method=method: getattr(s, method)(make(X), k=2))
    # add: metadata
    case("metadata", TypeError, "metadata must be a pandas DataFrame, got dict", id="add-metadata-dict")(
        lambda s, X, t: s.add(["a"], X[:1], metadata={"flag": [True]}))
    case("metadata", ValueError, "metadata has 2 rows but 1 keys", id="add-metadata-rows")(
        lambda s, X, t: s.add(["a"], X[:1], metadata=pd.DataFrame({"flag": [True, False]})))
    case("metadata", TypeError, r"metadata column names must be strings, got \[0\]",
         id="add-metadata-int-column")(lambda s, X, t: s.add(["a"], X[:1], metadata=pd.DataFrame([[1]])))
    case("metadata", ValueError, "metadata column names must be unique", id="add-metadata-dup-columns")(
        lambda s, X, t: s.add(["a"], X[:1], metadata=pd.DataFrame([[1, 2]], columns=["x", "x"])))
    case("metadata", ValueError, "metadata must be indexed by the added keys", id="add-metadata-index")(
        lambda s, X, t: s.add(["a"], X[:1], metadata=pd.DataFrame({"x": [1]}, index=["zzz"])))

    # delete
    case("keys", KeyError, r"keys: 1 key\(s\) not in the store, first: \['nope'\]", id="delete-unknown")(
        lambda s, X, t: s.delete([0, "nope"]))
    case("keys", TypeError, "keys must be hashable", id="delete-unhashable")(
        lambda s, X, t: s.delete([[0]]))

    # query parameters
    for method in ("query", "query_arrays", "query_keys", "query_keys_arrays", "recall_at_k"):
        first = (lambda X: [0, 1]) if "keys" in method else (lambda X: X[:2])
        for v in (0, -1, True, 2.5, "3", None):
            case("k", ValueError, "k must be a positive int", id=f"{method}-k={v!r}")(
                lambda s, X, t, m=method, v=v, first=first: getattr(s, m)(first(X), k=v))
        for v in (0, -3, True, 1.5, "10"):
            case("search_k", ValueError, "search_k must be None or a positive int",
                 id=f"{method}-search_k={v!r}")(
                lambda s, X, t, m=method, v=v, first=first: getattr(s, m)(first(X), k=2, search_k=v))
        if method != "recall_at_k":
            for v in (0, True, 2.5):
                case("n_jobs", ValueError, "n_jobs must be None, -1 or a positive int",
                     id=f"{method}-n_jobs={v!r}")(
                    lambda s, X, t, m=method, v=v, first=first: getattr(s, m)(first(X), k=2, n_jobs=v))
            bad_filters = [
                ("string", "price > 1", TypeError, "filter must be an expression"),
                ("unknown-column", col("colour") == 1, KeyError, "filter column 'colour' is not in"),
                ("column-not-condition", col("flag"), TypeError, "filter col.*is a column, not a condition"),
                ("callable-wrong-length", lambda m: np.ones(3, bool), ValueError,
                 "a callable filter must return a boolean"),
                ("callable-not-bool", lambda m: m["price"], ValueError, "a callable filter must return"),
                ("incomparable", col("name") < 3, TypeError, "filter col.*cannot compare column 'name'"),
            ]
            for fname, f, e, mt in bad_filters:
                case("filter", e, mt, id=f"{method}-filter-{fname}")(
                    lambda s, X, t, m=method, f=f, first=first: getattr(s, m)(first(X), k=2, filter=f))
            case("exclude", TypeError, "exclude must be a collection of keys", id=f"{method}-exclude=5")(
                lambda s, X, t, m=method, first=first: getattr(s, m)(first(X), k=2, exclude=5))
            case("exclude", ValueError, "exclude holds 1 collections of keys but there are 2 queries",
                 id=f"{method}-exclude-per-query-length")(
                lambda s, X, t, m=method, first=first: getattr(s, m)(first(X), k=2, exclude=[[1]]))
            case("exclude", TypeError, "exclude: keys must be hashable", id=f"{method}-exclude-unhashable")(
                lambda s, X, t, m=method, first=first: getattr(s, m)(first(X), k=2, exclude=[{"a": 1}]))
    for method in ("query_keys", "query_keys_arrays"):
        for v in ("yes", 1, None):
            case("exclude_self", TypeError, "exclude_self must be a bool",
                 id=f"{method}-exclude_self={v!r}")(
                lambda s, X, t, m=method, v=v: getattr(s, m)([0], k=2, exclude_self=v))
        case("keys", KeyError, r"keys: 1 key\(s\) not in the store", id=f"{method}-keys-unknown")(
            lambda s, X, t, m=method: getattr(s, m)(["nope"], k=2))
        case("keys", TypeError, "keys must be hashable", id=f"{method}-keys-unhashable")(
            lambda s, X, t, m=method: getattr(s, m)([[0]], k=2))
    case("k", ValueError, "k=1000000000 is larger than the store", id="query_arrays-k-huge")(
        lambda s, X, t: s.query_arrays(X[:2], k=10**9))
    case("vectors", ValueError, "vectors must have dimension 4, got 3", id="query_arrays-1d-wrong-dim")(
        lambda s, X, t: s.query_arrays(X[0, :3], k=2))
    case("vectors", ValueError, "vectors contains NaN", id="query_arrays-1d-nan")(
        lambda s, X, t: s.query_arrays(np.full(DIM, NAN, np.float32), k=2))
    case("vectors", ValueError, "query row.*would overflow float32", id="query_arrays-1d-norm-overflow")(
        lambda s, X, t: s.query_arrays(X[0] * np.float32(1e25), k=2))
    case("keys", KeyError, "keys: 1 key", id="get_vectors-unknown")(lambda s, X, t: s.get_vectors(["nope"]))
    case("keys", KeyError, "keys: 1 key", id="get_metadata-unknown")(lambda s, X, t: s.get_metadata(["x"]))
    case("artifact", ValueError, "cannot save an artifact to .*: it is a file", id="save-path-is-file")(
        lambda s, X, t: s.save(_a_file(t)))

    # load parameters
    case("artifact", ArtifactError, "no artifact directory at", id="load-path-missing")(
        lambda s, X, t: NeighborStore.load(t / "nothing"))
    case("artifact", ArtifactError, "is not a graphtab artifact: it has no manifest.json",
         id="load-path-no-manifest")(lambda s, X, t: NeighborStore.load(_a_dir(t)))
    case("kind", ArtifactError, "holds a 'thing' artifact, expected 'neighbor_store' .manifest kind",
         id="load-path-wrong-kind")(lambda s, X, t: NeighborStore.load(_other_kind(t)))
    for v in ("yes", 1, None):
        case("mmap", TypeError, "mmap must be a bool", id=f"load-mmap={v!r}")(
            lambda s, X, t, v=v: NeighborStore.load(s.save(t / "s"), mmap=v))
        case("verify", TypeError, "verify must be a bool", id=f"load-verify={v!r}")(
            lambda s, X, t, v=v: NeighborStore.load(s.save(t / "s"), verify=v))
    for v in (0, "8", 2.5):
        case("dim", ValueError, "dim must be None or a positive int", id=f"load-dim={v!r}")(
            lambda s, X, t, v=v: NeighborStore.load(s.save(t / "s"), dim=v))
    case("dim", ValueError, "has dim 4, but dim=8 was asked for", id="load-dim-mismatch")(
        lambda s, X, t: NeighborStore.load(s.save(t / "s"), dim=8))
    case("metric", ValueError, "metric must be None or one of", id="load-metric=hamming")(
        lambda s, X, t: NeighborStore.load(s.save(t / "s"), metric="hamming"))
    case("metric", ValueError, "has metric 'euclidean', but metric='cosine'", id="load-metric-mismatch")(
        lambda s, X, t: NeighborStore.load(s.save(t / "s"), metric="cosine"))

    # artifacts
    case("kind", TypeError, "kind must be a str or None", id="read_artifact-kind=3")(
        lambda s, X, t: read_artifact(s.save(t / "s"), kind=3))
    case("verify", TypeError, "verify must be a bool", id="read_artifact-verify='no'")(
        lambda s, X, t: read_artifact(s.save(t / "s"), verify="no"))
    case("required", TypeError, "required must be a list of file names", id="read_artifact-required-str")(
        lambda s, X, t: read_artifact(s.save(t / "s"), required="vectors.npy"))
    case("kind", ValueError, "kind must be a non-empty string", id="ArtifactWriter-kind=''")(
        lambda s, X, t: ArtifactWriter(t / "a", kind=""))
    case("parameters", TypeError, "cannot store object value", id="ArtifactWriter-params-object")(
        lambda s, X, t: ArtifactWriter(t / "a", kind="k", params={"x": object()}))
    case("required", TypeError, "required must be a list of file names", id="ArtifactWriter-required-str")(
        lambda s, X, t: ArtifactWriter(t / "a", kind="k", required="a.npy"))
    case("required", ValueError, "each required file name must be a plain file name",
         id="ArtifactWriter-required-path")(
        lambda s, X, t: ArtifactWriter(t / "a", kind="k", required=["../a"]))
    case("files", ValueError, r"manifest keys \['files'\] are reserved", id="ArtifactWriter-info-reserved")(
        lambda s, X, t: ArtifactWriter(t / "a", kind="k", files=1))
    case("required", FileNotFoundError, r"required files \['a.npy'\] of kind 'k' were not written",
         id="ArtifactWriter-required-missing")(lambda s, X, t: _write(t, lambda w: None, required=["a.npy"]))
    case("array", TypeError, "array 'bad' has dtype object", id="save_array-object")(
        lambda s, X, t: _write(t, lambda w: w.save_array("bad", np.array([{}], dtype=object))))
    case("frame", TypeError, r"save_frame\('f'\) takes a DataFrame, got dict", id="save_frame-dict")(
        lambda s, X, t: _write(t, lambda w: w.save_frame("f", {"a": [1]})))
    case("frame", TypeError, "frame 'f': column names must be strings", id="save_frame-int-columns")(
        lambda s, X, t: _write(t, lambda w: w.save_frame("f", pd.DataFrame([[1]]))))
    case("frame", TypeError, "frame 'f' index cannot be stored: .*None", id="save_frame-index-None")(
        lambda s, X, t: _write(t, lambda w: w.save_frame(
            "f", pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", None], dtype=object)))))
    case("keys", TypeError, "keys cannot be stored: .*NaN", id="save_keys-nan")(
        lambda s, X, t: _write(t, lambda w: w.save_keys("keys", [1.0, NAN])))
    case("name", ValueError, "artifact file name must be a plain file name", id="add_file-path")(
        lambda s, X, t: _write(t, lambda w: w.file_path("../evil")))
    case("ArtifactWriter", RuntimeError, "use ArtifactWriter as a context manager", id="file_path-outside")(
        lambda s, X, t: ArtifactWriter(t / "a", kind="k").file_path("x.bin"))

    # helpers
    case("keys", TypeError, "keys must be hashable", id="check_keys-unhashable")(
        lambda s, X, t: check_keys([["a"]]))
    case("keys", ValueError, "keys must be unique", id="check_keys-repeated")(
        lambda s, X, t: check_keys(["a", "a"]))
    case("keys", TypeError, "keys cannot be stored: .*None", id="check_storable_keys-None")(
        lambda s, X, t: check_storable_keys(["a", None]))
    case("node ids", TypeError, "node ids cannot be stored: .*bool", id="check_storable_keys-named")(
        lambda s, X, t: check_storable_keys([True], name="node ids"))
    case("keys", TypeError, "keys cannot be stored: .*frozenset", id="keys_to_frame-object")(
        lambda s, X, t: keys_to_frame([frozenset()]))
    case("frame", ValueError, "not a keys frame", id="keys_from_frame-columns")(
        lambda s, X, t: keys_from_frame(pd.DataFrame({"x": [1]})))
    case("queries", ValueError, "queries must have dimension 4, got 3", id="check_vectors-named")(
        lambda s, X, t: check_vectors(X[:, :3], dim=4, name="queries"))
    case("vectors", ValueError, "vectors must be 2-D", id="embeddings_frame-1d")(
        lambda s, X, t: embeddings_frame(np.ones(3), ["a", "b", "c"]))
    case("index", ValueError, "index has 1 entries but vectors has 2 rows", id="embeddings_frame-index")(
        lambda s, X, t: embeddings_frame(np.ones((2, 3)), ["a"]))
    case("column", TypeError, "column name must be a string", id="col-int")(lambda s, X, t: col(3))
    case("isin", TypeError, "isin expects a collection of values", id="col-isin-scalar")(
        lambda s, X, t: col("x").isin(5))
    case("inclusive", ValueError, "inclusive must be", id="col-between-inclusive")(
        lambda s, X, t: col("x").between(1, 2, inclusive="x"))
    case("filter", TypeError, "filter must be an expression", id="evaluate_filter-string")(
        lambda s, X, t: evaluate_filter("x > 1", pd.DataFrame({"x": [1]})))
    case("filter", TypeError, "can only combine filter expressions", id="filter-and-bool")(
        lambda s, X, t: (col("x") > 1) & True)


def _add_vectors(s, v):
    if isinstance(v, pd.DataFrame):
        return s.add(v.set_axis([f"k{i}" for i in range(len(v))]))
    return s.add([f"k{i}" for i in range(len(v))], v)


def _a_file(t: Path) -> Path:
    p = t / "afile"
    p.write_text("x")
    return p


def _a_dir(t: Path) -> Path:
    p = t / "adir"
    p.mkdir(exist_ok=True)
    return p


def _other_kind(t: Path) -> Path:
    with ArtifactWriter(t / "other", kind="thing") as w:
        w.save_json("x", {})
    return t / "other"


def _write(t: Path, fill, **kw) -> None:
    with ArtifactWriter(t / "w", kind="k", **kw) as w:
        fill(w)


_add_cases()


def _snapshot(s):
    return list(s.keys), s.get_vectors(list(s.keys)).copy(), s.get_metadata().copy(), repr(s)


@pytest.mark.parametrize("arg, call, exc, match", CASES)
def test_bad_input_is_a_named_error(tmp_path, arg, call, exc, match):
    store = _store()
    X, _ = _data()
    before = _snapshot(store)
    with pytest.raises(exc, match=match) as e:
        call(store, X, tmp_path)
    assert arg.lower() in str(e.value).lower(), f"the message does not name {arg!r}: {e.value}"
    after = _snapshot(store)
    assert after[0] == before[0] and after[3] == before[3]
    np.testing.assert_array_equal(after[1], before[1])
    pd.testing.assert_frame_equal(after[2], before[2])


# -- damaged artifacts, in a subprocess ----------------------------------------------------
def _reseal(path: Path) -> None:
    m = json.loads((path / "manifest.json").read_text())
    for name in m["files"]:
        data = (path / name).read_bytes()
        m["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    m["manifest_sha256"] = manifest_digest(m)
    (path / "manifest.json").write_text(json.dumps(m))


def _edit_json(path: Path, name: str, fn) -> None:
    d = json.loads((path / name).read_text())
    fn(d)
    (path / name).write_text(json.dumps(d))


def _nodes(path: Path):
    return np.fromfile(path / "index.ann", dtype=np.int32).reshape(-1, DIM + 4)


def _bad_child(path: Path) -> None:
    nodes = _nodes(path)
    nodes[-1, 2] = len(nodes) + 5
    nodes.tofile(path / "index.ann")


def _keys_frame(path: Path, fn) -> None:
    kf = pd.read_parquet(path / "keys.parquet")
    fn(kf).to_parquet(path / "keys.parquet")


# name -> (edit(path), reseal?, verify, expected message regex, file it names)
DAMAGE = {
    "index child out of range": (_bad_child, True, True, "split node .* outside", "index.ann"),
    "index child out of range, verify off": (_bad_child, False, False, "split node .* outside",
                                             "index.ann"),
    "index truncated": (lambda p: (p / "index.ann").write_bytes((p / "index.ann").read_bytes()[:-4]),
                        True, True, "not a whole number", "index.ann"),
    "index random bytes, verify off": (
        lambda p: (p / "index.ann").write_bytes(np.random.default_rng(0).integers(
            -2**31, 2**31 - 1, (p / "index.ann").stat().st_size // 4, dtype=np.int32).tobytes()),
        False, False, "index.ann", "index.ann"),
    "index deleted": (lambda p: (p / "index.ann").unlink(), False, True, "index.ann", "index.ann"),
    "vectors float64": (lambda p: np.save(p / "vectors.npy", np.load(p / "vectors.npy").astype(np.float64)),
                        True, True, "vectors.npy: dtype float64", "vectors.npy"),
    "vectors fewer rows": (lambda p: np.save(p / "vectors.npy", np.load(p / "vectors.npy")[:-1]),
                           True, True, "59 keys for 59 vectors|60 keys for 59 vectors", "keys.parquet"),
    "vectors NaN": (lambda p: np.save(p / "vectors.npy", np.full((N, DIM), NAN, np.float32)),
                    True, True, "vectors.npy: holds NaN", "vectors.npy"),
    "vectors huge": (lambda p: np.save(p / "vectors.npy", np.full((N, DIM), 1e30, np.float32)),
                     True, True, "vectors.npy: .*norm above", "vectors.npy"),
    "vectors not npy": (lambda p: (p / "vectors.npy").write_bytes(b"\x93NUMPY garbage"), True, True,
                        "vectors.npy.* cannot be read", "vectors.npy"),
    "keys repeated": (lambda p: _keys_frame(p, lambda kf: kf.assign(key=0)), True, True,
                      "key 0 is alive in more than one slot", "keys.parquet"),
    "keys without alive": (lambda p: _keys_frame(p, lambda kf: kf.drop(columns="alive")), True, True,
                           "needs a bool column 'alive'", "keys.parquet"),
    "keys not parquet": (lambda p: (p / "keys.parquet").write_bytes(b"PAR1 garbage"), True, True,
                         "keys.parquet.* cannot be read", "keys.parquet"),
    "state n_indexed too big": (lambda p: _edit_json(p, "state.json", lambda d: d.update(n_indexed=10**6)),
                                True, True, "n_indexed must be an int in", "state.json"),
    "state dot_max NaN": (lambda p: (p / "state.json").write_text(
        '{"n_indexed": 60, "dot_max": NaN, "annoy_dim": 4}'), True, True, "dot_max must be", "state.json"),
    "state annoy_dim": (lambda p: _edit_json(p, "state.json", lambda d: d.update(annoy_dim=9)),
                        True, True, "annoy_dim 9 does not fit", "state.json"),
    "state not JSON": (lambda p: (p / "state.json").write_text("{"), True, True,
                       "state.json.* cannot be read", "state.json"),
    "metadata rows": (lambda p: pd.read_parquet(p / "metadata.parquet").iloc[:3].to_parquet(
        p / "metadata.parquet"), True, True, "metadata.parquet: 3 rows for 60 slots", "metadata.parquet"),
    "manifest params edited": (lambda p: _edit_json(p, "manifest.json",
                                                    lambda m: m["params"].update(metric="cosine")),
                               False, True, "does not match its own checksum", "manifest.json"),
    "manifest metric forged": (lambda p: _edit_json(p, "manifest.json",
                                                    lambda m: m["params"].update(metric="cosine")),
                               True, True, "index.ann", "index.ann"),
    "manifest params invalid": (lambda p: _edit_json(p, "manifest.json",
                                                     lambda m: m["params"].update(n_trees=-1)),
                                True, True, "params .* are not a NeighborStore's: n_trees", "manifest.json"),
    "manifest counts forged": (lambda p: _edit_json(p, "manifest.json",
                                                    lambda m: m["info"]["counts"].update(n=7)),
                               True, True, "counts .* do not match the files", "manifest.json"),
    "manifest required entry removed": (lambda p: _edit_json(p, "manifest.json",
                                                             lambda m: m["files"].pop("state.json")),
                                        True, True, "has no 'state.json', which this kind requires",
                                        "state.json"),
    "manifest newer format": (lambda p: _edit_json(p, "manifest.json",
                                                   lambda m: m.update(format_version=99)),
                              False, True, "upgrade graphtab", "manifest.json"),
    "manifest not JSON": (lambda p: (p / "manifest.json").write_text("{nope"), False, True,
                          "is not valid JSON", "manifest.json"),
}


def _run_damage(root: str) -> dict:
    """Save a store, damage a copy per case, load it; {case: [exception type, message]}."""
    import shutil

    root = Path(root)
    good = _store().save(root / "good")
    out = {}
    for name, (edit, reseal, verify, _, _) in DAMAGE.items():
        p = root / name.replace(" ", "_").replace(",", "")
        shutil.copytree(good, p)
        edit(p)
        if reseal:
            _reseal(p)
        try:
            s = NeighborStore.load(p, verify=verify)
            s.query_arrays(np.ones(DIM, np.float32), k=3)
            out[name] = ["loaded", ""]
        except Exception as e:
            out[name] = [type(e).__name__, str(e), getattr(e, "path", "")]
    return out


@pytest.fixture(scope="module")
def damage_results(tmp_path_factory):
    code = ("import importlib.util, json, sys\n"
            "spec = importlib.util.spec_from_file_location('bad_inputs', sys.argv[1])\n"
            "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
            "print(json.dumps(mod._run_damage(sys.argv[2])))\n")
    r = subprocess.run([sys.executable, "-c", code, __file__, str(tmp_path_factory.mktemp("damage"))],
                       capture_output=True, text=True, timeout=300)
    return r


@pytest.mark.parametrize("name", list(DAMAGE))
def test_damaged_artifact_is_a_named_error(damage_results, name):
    r = damage_results
    assert r.returncode == 0, f"the loading subprocess crashed (exit {r.returncode}): {r.stderr[-2000:]}"
    got = json.loads(r.stdout.strip().splitlines()[-1])[name]
    _, _, _, match, fname = DAMAGE[name]
    assert got[0] == "ArtifactError", got
    assert re.search(match, got[1]), got[1]
    assert fname in got[1] or got[2].endswith(fname), got


def test_catalogue_counts(damage_results):
    """The totals the closing note reports: cases, clear errors (every case), crashes (none)."""
    assert damage_results.returncode == 0, "the damaged-artifact subprocess crashed"
    results = json.loads(damage_results.stdout.strip().splitlines()[-1])
    assert sorted(results) == sorted(DAMAGE)
    assert all(r[0] == "ArtifactError" for r in results.values())
    assert len(CASES) + len(DAMAGE) >= 300
