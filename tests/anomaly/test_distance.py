"""What the distance detectors share (anomaly/_distance.py): save/load, keys, pickling,
damaged artifacts."""

import hashlib
import json
import pickle
import shutil

import numpy as np
import pandas as pd
import pytest

from anomaly import EnsembleDetector, KNNDetector, LOFDetector, load_detector
from nnstore import ArtifactError, read_artifact


def _frame(n=150, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"],
                        index=pd.Index([f"k{i}" for i in range(n)], name="key"))


MAKERS = [
    lambda: KNNDetector(4, method="mean", backend="exact", scaler="robust"),
    lambda: LOFDetector(8, backend="exact"),
    lambda: KNNDetector(4, backend="annoy", random_state=0),
    lambda: LOFDetector(8, backend="annoy", random_state=0),
    lambda: EnsembleDetector([KNNDetector(4, backend="exact"),
                              LOFDetector(8, backend="annoy", random_state=1)]),
]


@pytest.mark.parametrize("make", MAKERS)
def test_save_load_round_trip(tmp_path, make):
    df, q = _frame(), _frame(30, seed=1)
    det = make().fit(df)
    det.set_threshold(quantile=0.8)
    path = det.save(tmp_path / "m")
    assert path == tmp_path / "m"
    back = type(det).load(path)
    assert type(back) is type(det) and back.get_params().keys() == det.get_params().keys()
    np.testing.assert_array_equal(back.decision_function(q), det.decision_function(q))
    np.testing.assert_array_equal(back.decision_scores_, det.decision_scores_)
    np.testing.assert_array_equal(back.labels_, det.labels_)
    assert back.threshold_ == det.threshold_
    assert list(back.keys_) == list(det.keys_)
    pd.testing.assert_frame_equal(back.explain("k3"), det.explain("k3"))
    assert read_artifact(path).kind == "anomaly_detector"
    assert type(load_detector(path)) is type(det)


@pytest.mark.parametrize("make", MAKERS)
def test_pickle_round_trip(make):
    df, q = _frame(), _frame(30, seed=1)
    det = make().fit(df)
    back = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(back.decision_function(q), det.decision_function(q))


def test_load_refuses_other_kinds(tmp_path):
    KNNDetector(3, backend="exact").fit(_frame()).save(tmp_path / "m")
    with pytest.raises(TypeError, match="holds a anomaly.KNNDetector, not a anomaly.LOFDetector"):
        LOFDetector.load(tmp_path / "m")
    with pytest.raises(ArtifactError, match="no artifact directory"):
        load_detector(tmp_path / "missing")


def test_saving_over_keeps_the_old_artifact_when_the_new_save_fails(tmp_path):
    det = KNNDetector(3, backend="exact").fit(_frame())
    det.save(tmp_path / "m")
    bad = KNNDetector(3, backend="exact").fit(_frame())
    bad.feature_std_ = object()  # cannot be saved as an array
    with pytest.raises((TypeError, ValueError)):
        bad.save(tmp_path / "m")
    np.testing.assert_array_equal(load_detector(tmp_path / "m").decision_scores_, det.decision_scores_)


@pytest.mark.parametrize("cls", [KNNDetector, LOFDetector])
def test_mixed_and_tuple_keys_round_trip(tmp_path, cls):
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)),
                     index=pd.Index([1, "a", ("t", 2), *range(100, 127)], tupleize_cols=False))
    cls(n_neighbors=3).fit(X).save(tmp_path / "m")
    back = load_detector(tmp_path / "m")
    assert list(back.keys_) == list(X.index)
    assert [type(k) for k in back.keys_[:4]] == [int, str, tuple, int]


@pytest.mark.parametrize("bad, what", [(np.nan, "NaN"), (None, "None"), (b"k", "bytes")])
def test_unstorable_keys_refused_before_fitting(bad, what):
    X = pd.DataFrame(np.ones((5, 2)), index=pd.Index([bad, 1, 2, 3, 4], dtype=object))
    with pytest.raises(TypeError, match=f"X index cannot be stored: .*{what}"):
        KNNDetector(n_neighbors=2).fit(X)


def _reseal(art):
    """Recompute an artifact's file checksums and its manifest's own (a crafted artifact)."""
    from nnstore._artifact import manifest_digest  # a test of crafted files

    m = json.loads((art / "manifest.json").read_text())
    for name in m["files"]:
        data = (art / name).read_bytes()
        m["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    m["manifest_sha256"] = manifest_digest(m)
    (art / "manifest.json").write_text(json.dumps(m))


def test_damaged_vectors_file_is_refused(tmp_path):
    KNNDetector(3, backend="exact").fit(_frame()).save(tmp_path / "m")
    with open(tmp_path / "m" / "vectors.npy", "r+b") as f:
        f.seek(-8, 2)
        f.write(b"\x00" * 8)
    with pytest.raises(ArtifactError, match="vectors") as info:
        load_detector(tmp_path / "m")
    assert info.value.reason == "checksum_mismatch"


def test_missing_member_file_is_refused(tmp_path):
    EnsembleDetector([KNNDetector(3), LOFDetector(5)]).fit(_frame()).save(tmp_path / "m")
    (tmp_path / "m" / "member_1" / "lrd_.npy").unlink()
    with pytest.raises(ArtifactError, match="lrd_"):
        load_detector(tmp_path / "m")


def test_missing_store_is_refused_not_rebuilt(tmp_path):
    KNNDetector(4, backend="annoy", random_state=0).fit(_frame()).save(tmp_path / "m")
    shutil.rmtree(tmp_path / "m" / "store")
    with pytest.raises(ArtifactError, match="store") as info:
        load_detector(tmp_path / "m")
    assert info.value.reason == "missing_file"


@pytest.mark.parametrize("reseal", [True, False], ids=["crafted", "damaged"])
def test_damaged_store_index_is_a_named_error(tmp_path, reseal):
    """A detector whose Annoy index has out-of-range child ids is refused at load with a named
    error, never a crash in the compiled search: with checksums recomputed (crafted) or not."""
    KNNDetector(4, backend="annoy", random_state=0).fit(_frame(400)).save(tmp_path / "m")
    ann = tmp_path / "m" / "store" / "index.ann"
    nodes = np.fromfile(ann, dtype=np.int32).reshape(-1, 3 + 4)  # euclidean, 3 features
    nodes[-1, 2:4] = 10**9  # the last root's children point past the file
    nodes.tofile(ann)
    if reseal:
        _reseal(tmp_path / "m" / "store")
    with pytest.raises(ArtifactError, match="index.ann") as info:
        load_detector(tmp_path / "m")
    assert info.value.reason == ("invalid_content" if reseal else "checksum_mismatch")
