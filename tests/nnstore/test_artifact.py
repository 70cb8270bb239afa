import json

import numpy as np
import pandas as pd
import pytest
import torch

from nnstore import FORMAT_VERSION, ArtifactError, ArtifactWriter, read_artifact
from nnstore._artifact import manifest_digest


def _write(path, value=1.0, kind="thing"):
    with ArtifactWriter(path, kind=kind, params={"alpha": value, "names": ("a", "b")},
                        dim=3, counts={"n": 2}) as w:
        w.save_array("vectors", np.full((2, 3), value, dtype=np.float32))
        w.save_frame("keys", pd.DataFrame({"key": ["x", "y"]}, index=pd.Index([10, 20])))
        w.save_json("schema", {"columns": ["a", np.int64(3)]})
        w.save_state_dict("model", {"weight": torch.full((2, 2), value)})
        with open(w.file_path("raw.bin"), "wb") as f:
            f.write(b"\x00\x01")
        w.add_file("raw.bin")


def test_round_trip(tmp_path):
    path = tmp_path / "art"
    _write(path, 2.5)
    art = read_artifact(path, kind="thing")
    assert art.kind == "thing"
    assert art.format_version == FORMAT_VERSION
    assert art.params == {"alpha": 2.5, "names": ["a", "b"]}
    assert art.info == {"dim": 3, "counts": {"n": 2}}
    np.testing.assert_array_equal(art.load_array("vectors"), np.full((2, 3), 2.5, np.float32))
    assert art.load_array("vectors", mmap=True).dtype == np.float32
    pd.testing.assert_frame_equal(art.load_frame("keys"),
                                  pd.DataFrame({"key": ["x", "y"]}, index=pd.Index([10, 20])))
    assert art.load_json("schema") == {"columns": ["a", 3]}
    assert torch.equal(art.load_state_dict("model")["weight"], torch.full((2, 2), 2.5))
    assert art.file_path("raw.bin").read_bytes() == b"\x00\x01"
    assert art.files == sorted(["vectors.npy", "keys.parquet", "schema.json", "model.pt", "raw.bin"])
    m = json.loads((path / "manifest.json").read_text())
    assert set(m) >= {"kind", "format_version", "graphtab_version", "created", "params", "files"}
    assert len(m["files"]["vectors.npy"]["sha256"]) == 64


def test_overwrite_replaces_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "art"
    _write(path, 1.0)
    _write(path, 2.0)
    assert read_artifact(path).load_array("vectors")[0, 0] == 2.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_exception_midway_keeps_previous_artifact(tmp_path):
    path = tmp_path / "art"
    _write(path, 1.0)
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    with pytest.raises(RuntimeError, match="boom"):
        with ArtifactWriter(path, kind="thing") as w:
            w.save_array("vectors", np.zeros((5, 3), np.float32))
            raise RuntimeError("boom")
    after = {p.name: p.read_bytes() for p in path.iterdir()}
    assert after == before
    assert read_artifact(path, kind="thing").load_array("vectors")[0, 0] == 1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_failure_while_finishing_keeps_previous_artifact(tmp_path):
    path = tmp_path / "art"
    _write(path, 1.0)
    with pytest.raises(FileNotFoundError, match="registered but not written"):
        with ArtifactWriter(path, kind="thing") as w:
            w.add_file("never_written.bin")
    assert read_artifact(path, kind="thing").load_array("vectors")[0, 0] == 1.0


def test_refuses_missing_directory(tmp_path):
    with pytest.raises(ArtifactError, match="no artifact directory") as e:
        read_artifact(tmp_path / "nope")
    assert e.value.reason == "not_found"


def test_refuses_directory_without_manifest(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(ArtifactError, match="has no manifest.json") as e:
        read_artifact(tmp_path / "d")
    assert e.value.reason == "not_found"


def test_refuses_wrong_kind(tmp_path):
    _write(tmp_path / "art")
    with pytest.raises(ArtifactError, match="holds a 'thing' artifact, expected 'other'") as e:
        read_artifact(tmp_path / "art", kind="other")
    assert e.value.reason == "wrong_kind"


def _edit_manifest(path, fn):
    m = json.loads((path / "manifest.json").read_text())
    fn(m)
    (path / "manifest.json").write_text(json.dumps(m))


def test_refuses_newer_format(tmp_path):
    path = tmp_path / "art"
    _write(path)
    _edit_manifest(path, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ArtifactError, match="upgrade graphtab") as e:
        read_artifact(path)
    assert e.value.reason == "newer_format"


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda m: m.pop("kind"), "missing field 'kind'"),
        (lambda m: m.update(format_version="1"), "'format_version' must be int"),
        (lambda m: m.update(files=[]), "'files' must be dict"),
        (lambda m: m["files"].update({"../evil": {"sha256": "0", "bytes": 1}}), "plain file name"),
        (lambda m: m["files"]["raw.bin"].pop("sha256"), "must hold 'sha256'"),
    ],
)
def test_refuses_malformed_manifest(tmp_path, edit, match):
    path = tmp_path / "art"
    _write(path)
    _edit_manifest(path, edit)
    with pytest.raises(ArtifactError, match=match) as e:
        read_artifact(path)
    assert e.value.reason == "malformed_manifest"


def test_refuses_manifest_that_is_not_json(tmp_path):
    path = tmp_path / "art"
    _write(path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON") as e:
        read_artifact(path)
    assert e.value.reason == "malformed_manifest"


def test_refuses_missing_file(tmp_path):
    path = tmp_path / "art"
    _write(path)
    (path / "model.pt").unlink()
    with pytest.raises(ArtifactError, match="lists 'model.pt' but the file is missing") as e:
        read_artifact(path)
    assert e.value.reason == "missing_file"
    assert e.value.path.endswith("model.pt")


def test_refuses_checksum_mismatch(tmp_path):
    path = tmp_path / "art"
    _write(path)
    data = bytearray((path / "raw.bin").read_bytes())
    data[0] ^= 0xFF
    (path / "raw.bin").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256") as e:
        read_artifact(path)
    assert e.value.reason == "checksum_mismatch"
    # verify=False skips hashing but still notices a size change
    read_artifact(path, verify=False)
    (path / "raw.bin").write_bytes(b"\x00")
    with pytest.raises(ArtifactError, match="has 1 bytes") as e:
        read_artifact(path, verify=False)
    assert e.value.reason == "checksum_mismatch"


def test_writer_rejects_non_json_params_and_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="cannot store object"):
        ArtifactWriter(tmp_path / "a", kind="k", params={"x": object()})
    with pytest.raises(ValueError, match="reserved"):
        ArtifactWriter(tmp_path / "a", kind="k", files=1)
    with pytest.raises(TypeError, match="dtype object"):
        with ArtifactWriter(tmp_path / "a", kind="k") as w:
            w.save_array("bad", np.array([{"a": 1}], dtype=object))
    assert not (tmp_path / "a").exists()


def test_state_dict_loading_is_weights_only(tmp_path):
    """A state dict that would run code when unpickled is refused, never executed."""
    import hashlib

    path = tmp_path / "art"
    _write(path)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"weight": Evil()}, path / "model.pt")

    def fix(m):  # a forger can rewrite the manifest too: checksums are not a signature
        data = (path / "model.pt").read_bytes()
        m["files"]["model.pt"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        m["manifest_sha256"] = manifest_digest(m)

    _edit_manifest(path, fix)
    art = read_artifact(path)
    with pytest.raises(Exception, match="(?i)weights.only|unsupported"):
        art.load_state_dict("model")
