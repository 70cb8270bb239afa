"""The on-disk artifact format every graphtab model and store saves with.

An artifact is a directory::

    my_model/
        manifest.json        kind, format_version, graphtab_version, created,
                             params, info (dim, metric, counts, ...), files,
                             required, manifest_sha256
        vectors.npy          numpy arrays     (loaded with allow_pickle=False)
        keys.parquet         pandas frames    (pyarrow)
        encoder.pt           torch state dicts (loaded with weights_only=True)
        schema.json          plain JSON
        index.ann            any other file a writer registers (an Annoy index)

``manifest.json`` lists every file with its size and sha256, the files the
kind cannot do without (``required``), and a sha256 of itself
(``manifest_sha256``: of its canonical JSON without that field), so an edited
``params``, ``metric`` or a removed file entry is refused rather than loading a
different model. Nothing loaded can run code: there is no pickling of whole
objects.

Keys
----
One serialiser for every artifact: :meth:`ArtifactWriter.save_keys` /
:meth:`Artifact.load_keys`, the index of every frame saved with
:meth:`ArtifactWriter.save_frame`, and :func:`keys_to_frame` /
:func:`keys_from_frame`. str, int, finite float, mixed and tuple keys come
back with their types (homogeneous int, float or str keys as a native
column; anything else as one JSON text per key, tuples as lists);
anything else is refused with a ``TypeError`` (see
:func:`nnstore.check_storable_keys`, which estimators call before training).

Writing is crash-safe and durable: files go to a temporary sibling directory
(``.<name>.tmp-<random>``, locked while its save runs), and every file, the
manifest and the directory are fsynced. Only then, holding a lock on the
parent directory, is the old directory renamed aside
(``.<name>.old-<random>``), the new one renamed into place and the parent
fsynced; the old one is removed, and so are the leftovers of dead saves of
the same artifact (an unlocked ``.tmp-*``, any ``.old-*``). An exception
before the second rename puts the old directory back. A crash (or power
loss) at any point leaves a loadable artifact: the old one, the new one, or,
between the two renames, none at the path but complete copies beside it;
:func:`read_artifact` then recovers the newest complete copy into place.

Loading checks the manifest first and refuses, with :class:`ArtifactError`
and its ``reason``:

- ``not_found``: the directory or its ``manifest.json`` does not exist (and no
  complete copy from an interrupted save sits beside it);
- ``malformed_manifest``: not JSON, or a required field missing or mistyped;
- ``wrong_kind``: the artifact is of another kind than the caller expects;
- ``newer_format``: written by a newer format than this graphtab reads;
- ``missing_file``: a file listed in the manifest, or one the kind requires,
  is absent;
- ``checksum_mismatch``: a file's sha256 differs from the manifest's, or the
  manifest's own;
- ``invalid_content`` (raised by the loaders): intact files whose content is
  inconsistent.

Example
-------
>>> import numpy as np, tempfile, os
>>> d = os.path.join(tempfile.mkdtemp(), "demo")
>>> with ArtifactWriter(d, kind="demo", params={"alpha": 1.0}, dim=3,
...                     required=["vectors.npy"]) as w:
...     w.save_array("vectors", np.ones((2, 3), dtype=np.float32))
>>> art = read_artifact(d, kind="demo", required=["vectors.npy"])
>>> art.info["dim"], art.load_array("vectors").shape
(3, (2, 3))
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import ArtifactError
from ._keys import META_KEY, decode_frame, encode_frame
from ._validation import check_storable_keys
from ._version import __version__

try:  # advisory locks (POSIX); without them saves still work, unserialised across processes
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FORMAT_VERSION",
    "Artifact",
    "ArtifactWriter",
    "manifest_digest",
    "read_artifact",
    "to_jsonable",
]

logger = logging.getLogger(__name__)

#: The artifact format this graphtab writes; load refuses anything newer. Version 2 added
#: ``manifest_sha256`` and ``required``; version 1 artifacts (without them) still load.
FORMAT_VERSION = 2

MANIFEST = "manifest.json"
_RESERVED = {"kind", "format_version", "graphtab_version", "created", "params", "info", "files",
             "required", "manifest_sha256"}
_CHUNK = 1 << 20


# -- file system steps (one function each: a crash can be simulated at any of them) ------------
def _rename(src: Path, dst: Path) -> None:
    os.rename(src, dst)


def _fsync_dir(path: Path) -> None:
    """fsync a directory, so that the names created or renamed in it are durable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. a platform that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that refuse fsync on a directory
        pass
    finally:
        os.close(fd)


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _sha256_and_fsync(path: Path) -> str:
    """sha256 of the file, which is fsynced on the way (written data reaches the disk)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(_CHUNK)
            if not block:
                break
            h.update(block)
        os.fsync(f.fileno())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(_CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


#: (device, inode) of the temporary directories this process's live saves hold locked: an
#: artifact saved inside another one's temporary directory (a detector saving its store as a
#: subdirectory) must not wait for the lock its own outer save holds
_HELD: set[tuple[int, int]] = set()
_HELD_LOCK = threading.Lock()


def _inode(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


@contextlib.contextmanager
def _locked_dir(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive advisory lock on directory ``path``; yields whether it is held.

    Non-blocking: yields False when someone else holds it (a live save's
    temporary directory, in this process or another). Without ``fcntl`` (or a
    directory that cannot be opened) it yields True without a lock. Blocking on
    a temporary directory a live save of this process holds (an artifact saved
    inside another one's) yields True at once: that save owns the directory.
    """
    if fcntl is None:  # pragma: no cover - Windows
        yield True
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - unreadable directory: go on unlocked
        yield True
        return
    try:
        with _HELD_LOCK:
            ours = _inode(fd) in _HELD
        if ours:
            yield blocking
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _siblings(path: Path, tag: str) -> list[Path]:
    """``.<name>.<tag>-*`` directories beside ``path``."""
    prefix = f".{path.name}.{tag}-"
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return [path.parent / n for n in names if n.startswith(prefix)]


def _clean_leftovers(path: Path) -> None:
    """Remove what dead saves of ``path`` left: unlocked ``.tmp-*`` and every ``.old-*``.

    Called with the parent directory locked: a live save holds its own
    ``.tmp-*`` locked, and ``.old-*`` directories only exist, outside a
    crash, inside the locked swap of the save that made them.
    """
    for d in _siblings(path, "tmp"):
        with _locked_dir(d, blocking=False) as free:
            if free:
                logger.info("removing %s, left by an interrupted save", d)
                _rmtree(d)
    for d in _siblings(path, "old"):
        logger.info("removing %s, left by an interrupted save", d)
        _rmtree(d)


# -- JSON ---------------------------------------------------------------------------------
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


def manifest_digest(manifest: Mapping) -> str:
    """sha256 of a manifest's canonical JSON (sorted keys, no spaces), without ``manifest_sha256``."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _check_name(name: str, what: str = "artifact file name") -> str:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"{what} must be a plain file name, got {name!r}")
    if name == MANIFEST:
        raise ValueError(f"{MANIFEST!r} is reserved for the manifest")
    return name


# -- writing --------------------------------------------------------------------------------
class ArtifactWriter:
    """Write an artifact directory atomically and durably; use as a context manager.

    Parameters
    ----------
    path : str or Path
        The artifact directory to create or replace.
    kind : str
        What the artifact is (``"neighbor_store"``, ``"node2vec"``, ...);
        :func:`read_artifact` refuses another kind.
    params : dict, optional
        The estimator's constructor parameters (JSON types).
    required : iterable of str, optional
        File names this kind cannot be loaded without (``"vectors.npy"``,
        ``"keys.parquet"``, ...). Leaving the ``with`` block without having
        written one raises ``FileNotFoundError`` (nothing is replaced); the
        list goes into the manifest, and :func:`read_artifact` refuses an
        artifact that lacks one (pass the same list there as ``required``).
    **info
        Further top-level manifest facts (``dim``, ``metric``, ``counts``...).

    Files added with the ``save_*`` methods (or written by the caller to
    :meth:`file_path` and registered with :meth:`add_file`) land in a
    temporary sibling directory; leaving the ``with`` block without an
    exception fsyncs them, writes the manifest and swaps the directory into
    place (see the module docstring for the crash guarantees).
    """

    def __init__(self, path: str | os.PathLike, *, kind: str, params: Mapping | None = None,
                 required: Iterable[str] = (), **info: Any) -> None:
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"kind must be a non-empty string, got {kind!r}")
        clash = _RESERVED.intersection(info)
        if clash:
            raise ValueError(f"manifest keys {sorted(clash)} are reserved")
        if isinstance(required, str):
            raise TypeError(f"required must be a list of file names, got the string {required!r}")
        self.path = Path(path)
        self.kind = kind
        self.params = to_jsonable(dict(params or {}))
        self.info = to_jsonable(dict(info))
        self.required = sorted({_check_name(r, "each required file name") for r in required})
        self._files: list[str] = []
        self._tmp: Path | None = None
        self._tmp_fd: int | None = None

    # -- context management -------------------------------------------------
    def __enter__(self) -> ArtifactWriter:
        parent = self.path.parent
        if parent and not parent.exists():
            parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"cannot save an artifact to {str(self.path)!r}: it is a file")
        # created and locked under the parent's lock: a cleaner never sees it unlocked
        with _locked_dir(parent):
            tmp = parent / f".{self.path.name}.tmp-{uuid.uuid4().hex[:12]}"
            tmp.mkdir()
            self._tmp = tmp
            if fcntl is not None:
                self._tmp_fd = os.open(tmp, os.O_RDONLY)
                fcntl.flock(self._tmp_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                with _HELD_LOCK:
                    _HELD.add(_inode(self._tmp_fd))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._tmp is None:  # pragma: no cover - __enter__ failed
            return
        try:
            if exc_type is not None:
                _rmtree(self._tmp)
                return
            try:
                self._finish()
            except BaseException:
                _rmtree(self._tmp)
                raise
        finally:
            self._tmp = None
            if self._tmp_fd is not None:
                with _HELD_LOCK:
                    _HELD.discard(_inode(self._tmp_fd))
                os.close(self._tmp_fd)
                self._tmp_fd = None

    def _finish(self) -> None:
        assert self._tmp is not None
        missing = [r for r in self.required if r not in self._files]
        if missing:
            raise FileNotFoundError(f"required files {missing} of kind {self.kind!r} were not "
                                    "written")
        files = {}
        for name in self._files:
            p = self._tmp / name
            if not p.is_file():
                raise FileNotFoundError(f"artifact file {name!r} was registered but not written")
            files[name] = {"sha256": _sha256_and_fsync(p), "bytes": p.stat().st_size}
        manifest = {
            "kind": self.kind,
            "format_version": FORMAT_VERSION,
            "graphtab_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "params": self.params,
            "info": self.info,
            "files": files,
            "required": self.required,
        }
        manifest["manifest_sha256"] = manifest_digest(manifest)
        with open(self._tmp / MANIFEST, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(self._tmp)
        parent = self.path.parent
        with _locked_dir(parent):
            old = None
            try:
                if self.path.exists():
                    old = parent / f".{self.path.name}.old-{uuid.uuid4().hex[:12]}"
                    _rename(self.path, old)
                    _fsync_dir(parent)
                _rename(self._tmp, self.path)
            except BaseException:
                if old is not None and old.exists() and not self.path.exists():
                    with contextlib.suppress(OSError):  # put the previous artifact back
                        _rename(old, self.path)
                        _fsync_dir(parent)
                raise
            _fsync_dir(parent)
            if old is not None:
                _rmtree(old)
            _clean_leftovers(self.path)
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
        """Save a DataFrame as ``<name>.parquet``, its index kept.

        The index goes through the key serialiser: str, int, float, mixed
        and tuple labels come back with their types from
        :meth:`Artifact.load_frame`; ``None``, NaN and other objects as labels
        are refused with ``TypeError``. Object columns holding tuples or mixed
        types are stored one JSON text per cell and come back the same way.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"save_frame({name!r}) takes a DataFrame, got {type(frame).__name__}")
        fname = f"{name}.parquet"
        enc, info = encode_frame(frame, name)
        try:
            table = pa.Table.from_pandas(enc, preserve_index=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
            raise TypeError(f"frame {name!r} cannot be saved as parquet: {e}") from e
        if info:
            meta = dict(table.schema.metadata or {})
            meta[META_KEY] = json.dumps(info).encode()
            table = table.replace_schema_metadata(meta)
        pq.write_table(table, self.file_path(fname))
        self.add_file(fname)

    def save_keys(self, name: str, keys: Any) -> None:
        """Save keys as ``<name>.parquet``; :meth:`Artifact.load_keys` gives them back, types kept."""
        self.save_frame(name, pd.DataFrame(index=check_storable_keys(keys, name=name)))

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


# -- reading --------------------------------------------------------------------------------
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

    def _refuse_content(self, name: str, e: Exception) -> ArtifactError:
        return ArtifactError(f"artifact file {str(self.path / name)!r} cannot be read: "
                             f"{type(e).__name__}: {e}", reason="invalid_content",
                             path=str(self.path / name))

    def load_array(self, name: str, *, mmap: bool = False) -> np.ndarray:
        """Load ``<name>.npy`` (memory-mapped read-only when ``mmap``)."""
        fname = f"{name}.npy"
        path = self.file_path(fname)
        try:
            return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
        except ValueError as e:
            raise self._refuse_content(fname, e) from e

    def load_frame(self, name: str) -> pd.DataFrame:
        """Load ``<name>.parquet`` (index and JSON-encoded columns decoded, types kept)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        fname = f"{name}.parquet"
        path = self.file_path(fname)
        try:
            table = pq.read_table(path)
            info = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
            return decode_frame(table.to_pandas(), info)
        except (pa.ArrowException, ValueError, TypeError) as e:
            raise self._refuse_content(fname, e) from e

    def load_keys(self, name: str) -> pd.Index:
        """Load keys saved with :meth:`ArtifactWriter.save_keys` (types kept; tuples as elements)."""
        return self.load_frame(name).index

    def load_json(self, name: str) -> Any:
        """Load ``<name>.json``."""
        fname = f"{name}.json"
        try:
            with open(self.file_path(fname), encoding="utf-8") as f:
                return json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise self._refuse_content(fname, e) from e

    def load_state_dict(self, name: str, *, map_location: Any = "cpu") -> dict:
        """Load ``<name>.pt`` with ``weights_only=True`` (data, never code)."""
        import torch

        return torch.load(self.file_path(f"{name}.pt"), map_location=map_location,
                          weights_only=True)


def _refuse(reason: str, path: Path | str, message: str) -> ArtifactError:
    return ArtifactError(message, reason=reason, path=str(path))


def read_artifact(path: str | os.PathLike, *, kind: str | None = None, verify: bool = True,
                  required: Iterable[str] = ()) -> Artifact:
    """Open an artifact directory after checking its manifest.

    When no artifact is at ``path`` but a save was interrupted between its two
    renames, the newest complete copy beside it (``.<name>.tmp-*`` of a dead
    save, or ``.<name>.old-*``) is checked like any artifact and renamed into
    place (or, without write permission, read where it is).

    Parameters
    ----------
    path : str or Path
        The artifact directory.
    kind : str, optional
        The expected kind; another kind is refused.
    verify : bool, default True
        Check every file's sha256 against the manifest. Set False only to skip
        hashing a large file you trust (sizes, presence and the manifest's own
        checksum are still checked).
    required : iterable of str, optional
        File names the caller cannot do without; an artifact lacking one is
        refused (``missing_file``), even if its manifest does not list it.

    Raises
    ------
    ArtifactError
        With ``reason`` one of ``not_found``, ``malformed_manifest``,
        ``wrong_kind``, ``newer_format``, ``missing_file``,
        ``checksum_mismatch``; the message says which file and where.
    """
    if not isinstance(verify, (bool, np.bool_)):
        raise TypeError(f"verify must be a bool, got {type(verify).__name__}: {verify!r}")
    if kind is not None and not isinstance(kind, str):
        raise TypeError(f"kind must be a str or None, got {type(kind).__name__}: {kind!r}")
    if isinstance(required, str):
        raise TypeError(f"required must be a list of file names, got the string {required!r}")
    required = list(required)
    path = Path(path)
    if not path.is_dir() and not path.exists():
        recovered = _recover(path, verify)
        if recovered is not None:
            path = recovered
    manifest = _open_manifest(path, verify)
    if kind is not None and manifest["kind"] != kind:
        raise _refuse("wrong_kind", path / MANIFEST,
                      f"{str(path)!r} holds a {manifest['kind']!r} artifact, expected {kind!r} "
                      "(manifest kind)")
    for name in sorted(set(required) | set(manifest.get("required", []))):
        if name not in manifest["files"]:
            raise _refuse("missing_file", path / name,
                          f"artifact {str(path)!r} ({manifest['kind']!r}) has no {name!r}, which "
                          "this kind requires")
    return Artifact(path, manifest)


def _open_manifest(path: Path, verify: bool) -> dict:
    """The checked manifest of the artifact at ``path`` (files present, sizes and hashes right)."""
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
    if manifest["format_version"] >= 2:
        want = manifest.get("manifest_sha256")
        if not isinstance(want, str):
            raise _refuse("malformed_manifest", mpath,
                          f"malformed manifest {str(mpath)!r}: missing field 'manifest_sha256'")
        if manifest_digest(manifest) != want:
            raise _refuse("checksum_mismatch", mpath,
                          f"{str(mpath)!r} does not match its own checksum (manifest_sha256): the "
                          "manifest was edited or corrupted (params, metric, counts or file "
                          "entries changed)")
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
    return manifest


def _recover(path: Path, verify: bool) -> Path | None:
    """Put the newest complete copy left by an interrupted save at ``path``; where it now is.

    Candidates are the ``.old-*`` siblings and the ``.tmp-*`` siblings no live
    save holds, whose manifest and files check out. None when there is none.
    """
    parent = path.parent
    if not parent.is_dir():
        return None
    with _locked_dir(parent):
        if path.exists():  # recovered (or saved) meanwhile by someone else
            return path
        found = []
        for d in _siblings(path, "old") + _siblings(path, "tmp"):
            with _locked_dir(d, blocking=False) as free:
                if not free:
                    continue
                try:
                    _open_manifest(d, verify)
                except ArtifactError:
                    continue
                found.append((os.stat(d / MANIFEST).st_mtime_ns, d.name, d))
        if not found:
            return None
        found.sort()
        best = found[-1][2]
        try:
            _rename(best, path)
            _fsync_dir(parent)
        except OSError as e:
            logger.warning("artifact %s was interrupted mid-save; reading its complete copy %s in "
                           "place (cannot move it back: %s)", path, best, e)
            return best
        logger.warning("artifact %s was interrupted mid-save; recovered the complete copy %s",
                       path, best.name)
        _clean_leftovers(path)
        return path


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
                or not isinstance(entry.get("bytes"), int) or isinstance(entry.get("bytes"), bool)):
            raise bad(f"file entry {name!r} must hold 'sha256' (str) and 'bytes' (int)")
    req = m.get("required", [])
    if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
        raise bad("field 'required' must be a list of file names")
