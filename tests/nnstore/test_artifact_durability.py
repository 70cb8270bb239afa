"""Artifacts survive a crash at any point of a save, check their own manifest, and keep key types.

Crash points: a save runs in a forked child whose file-system steps (sha256 +
fsync of each file, fsync of a directory, each rename, each removal) are
wrapped so that the child dies (``os._exit``, no cleanup, like a kill) just
before the N-th step; N runs over every step of the save. After each death
the artifact must load and be either the old or the new one, and the next
save must leave no leftovers. Exceptions at each step (in process) must leave
the old artifact in place.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

import nnstore._artifact as art_mod
from nnstore import ArtifactError, ArtifactWriter, NeighborStore, keys_from_frame, keys_to_frame
from nnstore import read_artifact as read
from nnstore._artifact import manifest_digest

STEPS = ("_sha256_and_fsync", "_fsync_dir", "_rename", "_rmtree")


def _write(path, value, n_files=3):
    with ArtifactWriter(path, kind="thing", params={"value": value}, required=["a0.npy"]) as w:
        for i in range(n_files):
            w.save_array(f"a{i}", np.full((4, 2), value, dtype=np.float32))
        w.save_json("meta", {"value": value})


def _value(path):
    a = read(path, kind="thing", required=["a0.npy"])
    v = a.params["value"]
    for i in range(3):
        assert (a.load_array(f"a{i}") == v).all()  # never a mix of old and new files
    assert a.load_json("meta") == {"value": v}
    return v


def _die_at(step, fn):
    """Run ``fn`` in a forked child that dies just before its ``step``-th file-system step.

    Returns the child's exit code: 77 when it died there, 0 when ``fn`` finished first.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        try:
            count = [0]

            def wrap(orig):
                def step_then(*a, **k):
                    count[0] += 1
                    if count[0] == step:
                        os._exit(77)
                    return orig(*a, **k)
                return step_then

            for name in STEPS:
                setattr(art_mod, name, wrap(getattr(art_mod, name)))
            fn()
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _siblings(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir())


def test_kill_at_every_step_leaves_a_loadable_artifact(tmp_path):
    path = tmp_path / "art"
    _write(path, 1.0)
    outcomes = []
    step = 1
    while True:
        code = _die_at(step, lambda: _write(path, 2.0))
        assert code in (0, 77), code
        got = _value(path)  # loads: possibly recovered from a sibling
        assert got in (1.0, 2.0)
        outcomes.append(got)
        _write(path, 1.0)  # the next save cleans whatever the dead one left
        assert _siblings(tmp_path) == ["art"], step
        if code == 0:
            break
        step += 1
    # every step was a crash point: 3 arrays + json hashed, 2 directory fsyncs, 2 renames,
    # 2 parent fsyncs, the old directory's removal
    assert step >= 10
    assert outcomes[0] == 1.0 and outcomes[-1] == 2.0 and 2.0 in outcomes[:-1]


def test_kill_between_the_renames_is_recovered_at_load(tmp_path):
    path = tmp_path / "art"
    _write(path, 1.0)
    # steps: 4 file hashes, fsync tmp dir, rename old aside, fsync parent -> die before the 2nd rename
    assert _die_at(8, lambda: _write(path, 2.0)) == 77
    names = _siblings(tmp_path)
    assert "art" not in names
    assert any(".art.old-" in n for n in names) and any(".art.tmp-" in n for n in names)
    assert _value(path) == 2.0  # the newest complete copy, renamed into place
    assert _siblings(tmp_path) == ["art"]


def test_recovery_prefers_newest_complete_and_skips_incomplete(tmp_path):
    path = tmp_path / "art"
    _write(path, 1.0)
    _write(tmp_path / "newer", 3.0)
    os.rename(path, tmp_path / ".art.old-aaaa")
    os.rename(tmp_path / "newer", tmp_path / ".art.tmp-bbbb")
    incomplete = tmp_path / ".art.tmp-cccc"  # a dead save that never wrote its manifest
    incomplete.mkdir()
    (incomplete / "a0.npy").write_bytes(b"partial")
    torn = tmp_path / ".art.tmp-dddd"  # ... or tore it
    torn.mkdir()
    (torn / "manifest.json").write_text('{"kind": "thi')
    os.utime(torn / "manifest.json", ns=(2**62, 2**62))
    assert _value(path) == 3.0
    assert _siblings(tmp_path) == ["art"]


def test_live_save_temporaries_are_not_cleaned(tmp_path):
    path = tmp_path / "art"
    _write(path, 1.0)
    with ArtifactWriter(path, kind="thing", params={"value": 5.0}) as slow:
        slow.save_array("a0", np.zeros((1, 1), np.float32))
        _write(path, 2.0)  # another save finishes meanwhile and cleans up: not the live one
        assert slow._tmp.exists()
        assert _value(path) == 2.0
    assert read(path).params == {"value": 5.0}
    assert _siblings(tmp_path) == ["art"]


def test_missing_artifact_without_copies_is_not_found(tmp_path):
    (tmp_path / ".art.tmp-zzzz").mkdir()
    with pytest.raises(ArtifactError, match="no artifact directory") as e:
        read(tmp_path / "art")
    assert e.value.reason == "not_found"


@pytest.mark.parametrize("step, nth, after", [
    ("_sha256_and_fsync", 1, 1.0), ("_sha256_and_fsync", 4, 1.0),
    ("_fsync_dir", 1, 1.0),  # the temporary directory
    ("_rename", 1, 1.0),  # the old artifact aside
    ("_fsync_dir", 2, 1.0),  # the parent, between the renames: the old one is put back
    ("_rename", 2, 1.0),  # the new one into place: the old one is put back
    ("_fsync_dir", 3, 2.0),  # the parent, after the swap
    ("_rmtree", 1, 2.0),  # removing the old one
])
def test_exception_at_each_step_keeps_old_or_new(tmp_path, monkeypatch, step, nth, after):
    path = tmp_path / "art"
    _write(path, 1.0)
    orig = getattr(art_mod, step)
    calls = 0

    def failing(*a, **k):
        nonlocal calls
        calls += 1
        if calls == nth:
            raise OSError(5, f"injected failure in {step}")
        return orig(*a, **k)

    monkeypatch.setattr(art_mod, step, failing)
    with pytest.raises(OSError, match="injected failure"):
        _write(path, 2.0)
    monkeypatch.undo()
    assert _value(path) == after
    _write(path, 1.0)
    assert _siblings(tmp_path) == ["art"]


# -- the manifest's own checksum and required files ------------------------------------------
def _edit(path, fn, reseal=False):
    m = json.loads((path / "manifest.json").read_text())
    fn(m)
    if reseal:
        m["manifest_sha256"] = manifest_digest(m)
    (path / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("edit", [
    lambda m: m["params"].update(value=9.0),
    lambda m: m.update(info={"metric": "dot"}),
    lambda m: m["files"].pop("a2.npy"),
    lambda m: m.update(required=[]),
], ids=["params", "info", "file entry removed", "required list emptied"])
def test_edited_manifest_is_refused(tmp_path, edit):
    path = tmp_path / "art"
    _write(path, 1.0)
    _edit(path, edit)
    with pytest.raises(ArtifactError, match="does not match its own checksum") as e:
        read(path)
    assert e.value.reason == "checksum_mismatch"


def test_required_files_are_checked_at_write_and_read(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=r"required files \['keys.parquet'\] of kind 'thing' were not written"):
        with ArtifactWriter(tmp_path / "a", kind="thing", required=["keys.parquet"]) as w:
            w.save_array("vectors", np.zeros(2))
    assert not (tmp_path / "a").exists() and _siblings(tmp_path) == []
    _write(tmp_path / "b", 1.0)
    # a forger who drops a required entry and reseals the manifest is still refused
    _edit(tmp_path / "b", lambda m: m["files"].pop("a0.npy"), reseal=True)
    with pytest.raises(ArtifactError, match="has no 'a0.npy', which this kind requires") as e:
        read(tmp_path / "b")
    assert e.value.reason == "missing_file"
    _write(tmp_path / "c", 1.0)
    with pytest.raises(ArtifactError, match="has no 'other.npy'"):
        read(tmp_path / "c", required=["other.npy"])


def test_version_1_artifacts_without_a_manifest_checksum_still_load(tmp_path):
    path = tmp_path / "art"
    _write(path, 1.0)
    _edit(path, lambda m: (m.pop("manifest_sha256"), m.pop("required"), m.update(format_version=1)))
    assert _value(path) == 1.0
    _edit(path, lambda m: m.update(format_version=2))
    with pytest.raises(ArtifactError, match="missing field 'manifest_sha256'"):
        read(path)


def test_store_manifest_edits_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    store = NeighborStore(4, metric="euclidean", n_trees=2, random_state=0)
    store.add(np.arange(50), rng.normal(size=(50, 4))).rebuild()
    path = store.save(tmp_path / "s")
    for edit in (lambda m: m["params"].update(metric="cosine"),
                 lambda m: m["params"].update(rebuild_threshold=0.9),
                 lambda m: m["params"].update(exact=True),
                 lambda m: m["files"].pop("index.ann")):
        store.save(path)
        _edit(path, edit)
        with pytest.raises(ArtifactError, match="does not match its own checksum"):
            NeighborStore.load(path)
    store.save(path)
    _edit(path, lambda m: m["params"].update(exact=True), reseal=True)  # a consistent forgery
    with pytest.raises(ArtifactError, match="exact .* has no Annoy index") as e:
        NeighborStore.load(path)
    assert e.value.reason == "invalid_content"


# -- kills during a store's save ------------------------------------------------------------
def test_store_save_killed_at_every_step_loads_old_or_new(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    old = NeighborStore(4, metric="euclidean", n_trees=3, random_state=0).add(np.arange(100), X[:100])
    new = NeighborStore(4, metric="euclidean", n_trees=3, random_state=0).add(np.arange(120), X)
    old.rebuild()
    new.rebuild()
    path = tmp_path / "s"
    old.save(path)
    Q = X[:5] + 0.01
    seen = set()
    step = 1
    while True:
        code = _die_at(step, lambda: new.save(path))
        assert code in (0, 77), code
        loaded = NeighborStore.load(path)
        assert len(loaded) in (100, 120)
        ref = old if len(loaded) == 100 else new
        pd.testing.assert_frame_equal(loaded.query(Q, k=3), ref.query(Q, k=3))
        seen.add(len(loaded))
        old.save(path)
        assert _siblings(tmp_path) == ["s"], step
        if code == 0:
            break
        step += 1
    assert seen == {100, 120} and step >= 10


# -- the one key serialiser -------------------------------------------------------------------
KEY_CASES = {
    "str": ["a", "b", "c"],
    "int": [3, -1, 2**62],
    "mixed int/str": [1, "1", 2],
    "int and float": [1, 2.5, 3],
    "float": [0.5, -2.0, 1e300],
    "tuples": [("a", 1), ("b", (2, "c")), ()],
    "ints beyond int64": [2**70, -(2**70), 5],
    "numpy scalars": [np.int64(4), "x", np.float64(0.25)],
}


@pytest.mark.parametrize("name", list(KEY_CASES))
def test_keys_round_trip_with_their_types(tmp_path, name):
    keys = KEY_CASES[name]
    with ArtifactWriter(tmp_path / "a", kind="k") as w:
        w.save_keys("keys", keys)
        w.save_frame("frame", pd.DataFrame({"v": np.arange(len(keys))},
                                           index=pd.Index(keys, tupleize_cols=False, dtype=object,
                                                          name="node")))
        w.save_frame("column", pd.DataFrame({"entity": pd.Series(keys, dtype=object)}))
    a = read(tmp_path / "a")
    want = [k.item() if isinstance(k, np.generic) else k for k in keys]
    for got in (list(a.load_keys("keys")), list(a.load_frame("frame").index),
                a.load_frame("column")["entity"].tolist(),
                keys_from_frame(keys_to_frame(keys)).tolist()):
        assert got == want and [type(g) for g in got] == [type(k) for k in want]
    assert a.load_frame("frame").index.name == "node"


@pytest.mark.parametrize("bad, what", [
    ([1, None], "which is None"),
    (["a", float("nan")], "NaN or infinite float"),
    ([True, 2], "is a bool"),
    ([b"x"], "builtins.bytes"),
    ([("a", object())], "a tuple whose element"),
    ([frozenset({1})], "frozenset"),
])
def test_unstorable_keys_are_refused_naming_the_type(tmp_path, bad, what):
    with pytest.raises(TypeError, match=what):
        keys_to_frame(bad)
    with pytest.raises(TypeError, match=f"frame 'f' index cannot be stored: .*{what}"):
        with ArtifactWriter(tmp_path / "a", kind="k") as w:
            w.save_frame("f", pd.DataFrame({"v": range(len(bad))},
                                           index=pd.Index(bad, tupleize_cols=False, dtype=object)))
    assert not (tmp_path / "a").exists()


def test_earlier_key_layout_still_reads():
    legacy = pd.DataFrame({"key": ["7", "a"], "key_is_int": [True, False]})
    assert keys_from_frame(legacy).tolist() == [7, "a"]
    with pytest.raises(ValueError, match="not a keys frame"):
        keys_from_frame(pd.DataFrame({"x": [1]}))
