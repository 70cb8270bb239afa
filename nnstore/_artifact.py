"""The on-disk artifact format every graphtab model and store saves with.

An artifact is a directory::

    my_model/
        manifest.json        kind, format_version, graphtab_version, created,
                             params, info (dim, metric, counts, ...), files
        vectors.npy          numpy arrays     (loaded with allow_pickle=False)
        keys.parquet         pandas frames    (pyarrow)
        encoder.pt           torch state dicts (loaded with weights_only=True)
        schema.json          plain JSON
        index.ann            any other file a writer registers (an Annoy index)

``manifest.json`` lists every file with its size and sha256. Nothing loaded can
run code: there is no pickling of whole objects.

Writing is crash-safe: files go to a temporary sibling directory
(``.<name>.tmp-<random>``); only when every file and the manifest are written
is the old directory moved aside and the new one renamed into place, then the
old one removed. An exception (or a crash) before that point leaves the
previous artifact exactly as it was. The one non-atomic moment is between the
two renames (POSIX cannot swap two directories atomically); a crash there
leaves the previous artifact intact under ``.<name>.old-<random>``.

Loading checks the manifest first and refuses, with :class:`ArtifactError`
and its ``reason``:

- ``not_found``: the directory or its ``manifest.json`` does not exist;
- ``malformed_manifest``: not JSON, or a required field missing or mistyped;
- ``wrong_kind``: the artifact is of another kind than the caller expects;
- ``newer_format``: written by a newer format than this graphtab reads;
- ``missing_file``: a file listed in the manifest is absent;
- ``checksum_mismatch``: a file's sha256 differs from the manifest's.

Example
-------
>>> import numpy as np, tempfile, os
>>> d = os.path.join(tempfile.mkdtemp(), "demo")
>>> with ArtifactWriter(d, kind="demo", params={"alpha": 1.0}, dim=3) as w:
...     w.save_array("vectors", np.ones((2, 3), dtype=np.float32))
>>> art = read_artifact(d, kind="demo")
>>> art.info["dim"], art.load_array("vectors").shape
(3, (2, 3))
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import ArtifactError
from ._version import __version__

__all__ = ["FORMAT_VERSION", "Artifact", "ArtifactWriter", "read_artifact", "to_jsonable"]

logger = logging.getLogger(__name__)

#: The artifact format this graphtab writes; load refuses anything newer.
FORMAT_VERSION = 1

MANIFEST = "manifest.json"
_RESERVED = {"kind", "format_version", "graphtab_version", "created", "params", "info", "files"}
_CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(_CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, sets and paths to plain JSON types.

    Raises ``TypeError`` naming the offending value when it cannot be stored
    as JSON (the manifest holds parameters, never objects).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(to_jsonable(v) for v in value)
    raise TypeError(
        f"cannot store {type(value).__name__} value {value!r} in an artifact manifest; "
        "parameters must be JSON types (numbers, strings, lists, dicts, None)"
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"artifact file name must be a plain file name, got {name!r}")
    if name == MANIFEST:
        raise ValueError(f"{MANIFEST!r} is reserved for the manifest")
    return name


class ArtifactWriter:
    """Write an artifact directory atomically; use as a context manager.

    Parameters
    ----------
    path : str or Path
        The artifact directory to create or replace.
    kind : str
        What the artifact is (``"neighbor_store"``, ``"node2vec"``, ...);
        :func:`read_artifact` refuses another kind.
    params : dict, optional
        The estimator's constructor parameters (JSON types).
    **info
        Further top-level manifest facts (``dim``, ``metric``, ``counts``...).

    Files added with the ``save_*`` methods (or written by the caller to
    :meth:`file_path` and registered with :meth:`add_file`) land in a
    temporary sibling directory; leaving the ``with`` block without an
    exception writes the manifest and renames the directory into place.
    """

    def __init__(self, path: str | os.PathLike, *, kind: str, params: Mapping | None = None,
                 **info: Any) -> None:
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"kind must be a non-empty string, got {kind!r}")
        clash = _RESERVED.intersection(info)
        if clash:
            raise ValueError(f"manifest keys {sorted(clash)} are reserved")
        self.path = Path(path)
        self.kind = kind
        self.params = to_jsonable(dict(params or {}))
        self.info = to_jsonable(dict(info))
        self._files: list[str] = []
        self._tmp: Path | None = None

    # -- context management -------------------------------------------------
    def __enter__(self) -> ArtifactWriter:
        parent = self.path.parent
        if parent and not parent.exists():
            parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"cannot save an artifact to {str(self.path)!r}: it is a file")
        self._tmp = parent / f".{self.path.name}.tmp-{uuid.uuid4().hex[:12]}"
        self._tmp.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._tmp is not None
        if exc_type is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            return
        try:
            self._finish()
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        finally:
            self._tmp = None

    def _finish(self) -> None:
        assert self._tmp is not None
        files = {}
        for name in self._files:
            p = self._tmp / name
            if not p.is_file():
                raise FileNotFoundError(f"artifact file {name!r} was registered but not written")
            files[name] = {"sha256": _sha256(p), "bytes": p.stat().st_size}
        manifest = {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "graphtab_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "params": self.params,
            "info": self.info,
            "files": files,
        }
        with open(self._tmp / MANIFEST, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        old = None
        if self.path.exists():
            old = self.path.parent / f".{self.path.name}.old-{uuid.uuid4().hex[:12]}"
            os.rename(self.path, old)
        os.rename(self._tmp, self.path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        logger.debug("saved %s artifact to %s (%d files)", self.kind, self.path, len(files))

    # -- adding files ---------------------------------------------------------
    def file_path(self, name: str) -> Path:
        """Where to write file ``name`` yourself; register it with :meth:`add_file`."""
        if self._tmp is None:
            raise RuntimeError("use ArtifactWriter as a context manager")
        return self._tmp / _check_name(name)

    def add_file(self, name: str) -> None:
        """Register a file written by the caller to :meth:`file_path`."""
        _check_name(name)
        if name in self._files:
            raise ValueError(f"artifact file {name!r} added twice")
        self._files.append(name)

    def save_array(self, name: str, array: np.ndarray) -> None:
        """Save a numpy array as ``<name>.npy`` (no object dtypes)."""
        array = np.asarray(array)
        if array.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; artifacts store numeric arrays only")
        fname = f"{name}.npy"
        np.save(self.file_path(fname), array, allow_pickle=False)
        self.add_file(fname)

    def save_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Save a DataFrame as ``<name>.parquet`` (index kept)."""
        fname = f"{name}.parquet"
        frame.to_parquet(self.file_path(fname), index=True)
        self.add_file(fname)

    def save_json(self, name: str, obj: Any) -> None:
        """Save JSON-able data as ``<name>.json``."""
        fname = f"{name}.json"
        with open(self.file_path(fname), "w", encoding="utf-8") as f:
            json.dump(to_jsonable(obj), f, indent=1, sort_keys=True)
        self.add_file(fname)

    def save_state_dict(self, name: str, state_dict: Mapping) -> None:
        """Save a torch ``state_dict`` (tensors only) as ``<name>.pt``."""
        import torch

        fname = f"{name}.pt"
        torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, self.file_path(fname))
        self.add_file(fname)


class Artifact:
    """A verified artifact directory, returned by :func:`read_artifact`.

    Attributes
    ----------
    path : Path
    manifest : dict
        The whole manifest.
    kind, format_version, params, info
        Its fields.
    """

    def __init__(self, path: Path, manifest: dict) -> None:
        self.path = path
        self.manifest = manifest
        self.kind: str = manifest["kind"]
        self.format_version: int = manifest["format_version"]
        self.params: dict = manifest["params"]
        self.info: dict = manifest["info"]

    def __repr__(self) -> str:
        return f"Artifact(kind={self.kind!r}, path={str(self.path)!r})"

    @property
    def files(self) -> list[str]:
        return sorted(self.manifest["files"])

    def file_path(self, name: str) -> Path:
        """Path of a file listed in the manifest."""
        if name not in self.manifest["files"]:
            raise KeyError(f"artifact {str(self.path)!r} has no file {name!r}; it has {self.files}")
        return self.path / name

    def load_array(self, name: str, *, mmap: bool = False) -> np.ndarray:
        """Load ``<name>.npy`` (memory-mapped read-only when ``mmap``)."""
        return np.load(self.file_path(f"{name}.npy"), allow_pickle=False,
                       mmap_mode="r" if mmap else None)

    def load_frame(self, name: str) -> pd.DataFrame:
        """Load ``<name>.parquet``."""
        return pd.read_parquet(self.file_path(f"{name}.parquet"))

    def load_json(self, name: str) -> Any:
        """Load ``<name>.json``."""
        with open(self.file_path(f"{name}.json"), encoding="utf-8") as f:
            return json.load(f)

    def load_state_dict(self, name: str, *, map_location: Any = "cpu") -> dict:
        """Load ``<name>.pt`` with ``weights_only=True`` (data, never code)."""
        import torch

        return torch.load(self.file_path(f"{name}.pt"), map_location=map_location,
                          weights_only=True)


def _refuse(reason: str, path: Path | str, message: str) -> ArtifactError:
    return ArtifactError(message, reason=reason, path=str(path))


def read_artifact(path: str | os.PathLike, *, kind: str | None = None,
                  verify: bool = True) -> Artifact:
    """Open an artifact directory after checking its manifest.

    Parameters
    ----------
    path : str or Path
        The artifact directory.
    kind : str, optional
        The expected kind; another kind is refused.
    verify : bool, default True
        Check every file's sha256 against the manifest. Set False only to skip
        hashing a large file you trust (sizes and presence are still checked).

    Raises
    ------
    ArtifactError
        With ``reason`` one of ``not_found``, ``malformed_manifest``,
        ``wrong_kind``, ``newer_format``, ``missing_file``,
        ``checksum_mismatch``; the message says which file and where.
    """
    path = Path(path)
    mpath = path / MANIFEST
    if not path.is_dir():
        raise _refuse("not_found", path, f"no artifact directory at {str(path)!r}")
    if not mpath.is_file():
        raise _refuse("not_found", mpath,
                      f"{str(path)!r} is not a graphtab artifact: it has no {MANIFEST}")
    try:
        with open(mpath, encoding="utf-8") as f:
            manifest = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _refuse("malformed_manifest", mpath, f"{str(mpath)!r} is not valid JSON: {e}") from e
    _check_manifest(manifest, mpath)
    if manifest["format_version"] > FORMAT_VERSION:
        raise _refuse(
            "newer_format", mpath,
            f"{str(path)!r} uses artifact format_version {manifest['format_version']}, written by "
            f"graphtab {manifest['graphtab_version']}; this graphtab ({__version__}) reads "
            f"format_version <= {FORMAT_VERSION}: upgrade graphtab to load it",
        )
    if kind is not None and manifest["kind"] != kind:
        raise _refuse("wrong_kind", mpath,
                      f"{str(path)!r} holds a {manifest['kind']!r} artifact, expected {kind!r}")
    for name, entry in manifest["files"].items():
        fpath = path / name
        if not fpath.is_file():
            raise _refuse("missing_file", fpath,
                          f"artifact {str(path)!r} lists {name!r} but the file is missing")
        size = fpath.stat().st_size
        if size != entry["bytes"]:
            raise _refuse("checksum_mismatch", fpath,
                          f"artifact file {str(fpath)!r} has {size} bytes, "
                          f"the manifest says {entry['bytes']}: it was modified or truncated")
        if verify and _sha256(fpath) != entry["sha256"]:
            raise _refuse("checksum_mismatch", fpath,
                          f"artifact file {str(fpath)!r} does not match its sha256 in the "
                          "manifest: it was modified or corrupted")
    return Artifact(path, manifest)


def _check_manifest(m: Any, mpath: Path) -> None:
    def bad(msg: str) -> ArtifactError:
        return _refuse("malformed_manifest", mpath, f"malformed manifest {str(mpath)!r}: {msg}")

    if not isinstance(m, dict):
        raise bad(f"expected a JSON object, got {type(m).__name__}")
    expected = {"kind": str, "format_version": int, "graphtab_version": str,
                "params": dict, "info": dict, "files": dict}
    for key, typ in expected.items():
        if key not in m:
            raise bad(f"missing field {key!r}")
        if not isinstance(m[key], typ) or (typ is int and isinstance(m[key], bool)):
            raise bad(f"field {key!r} must be {typ.__name__}, got {type(m[key]).__name__}")
    for name, entry in m["files"].items():
        if ("/" in name or "\\" in name or name.startswith(".") or name == MANIFEST):
            raise bad(f"file name {name!r} is not a plain file name")
        if (not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str)
                or not isinstance(entry.get("bytes"), int)):
            raise bad(f"file entry {name!r} must hold 'sha256' (str) and 'bytes' (int)")
