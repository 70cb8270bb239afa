"""A damaged or crafted Annoy index file is refused with a named error, never walked.

Each corruption below would send the compiled kernel (which does no bounds
checks) out of the file or into a cycle; AnnoyFile refuses it, and so does
NeighborStore.load, with checksums recomputed (a crafted artifact) or with
verify=False (a damaged one). A fuzz run in a subprocess shows that random
damage is refused or searched without a crash (a segfault fails the test).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from annoy import AnnoyIndex

from nnstore import ArtifactError, NeighborStore
from nnstore._annoy_search import AnnoyFile
from nnstore._artifact import manifest_digest

F = 5  # euclidean: a node is n_descendants, a, children[2], v[5] = 9 words; K = 7
WORDS = F + 4
K = WORDS - 2


def _index_file(tmp_path, n=200, trees=3):
    rng = np.random.default_rng(0)
    a = AnnoyIndex(F, "euclidean")
    a.set_seed(1)
    for i, row in enumerate(rng.normal(size=(n, F)).tolist()):
        a.add_item(i, row)
    a.build(trees, n_jobs=1)
    path = tmp_path / "x.ann"
    a.save(str(path))
    a.unload()
    return path


def _nodes(path):
    return np.fromfile(path, dtype=np.int32).reshape(-1, WORDS)


def _walk(nodes, m):
    """(a reachable split node, a reachable leaf) below the first root."""
    i = len(nodes) - 1
    split = i
    while True:
        for c in nodes[i, 2:4]:
            if c >= m and nodes[c, 0] > K:
                split, i = c, c
                break
        else:
            break
    leaf = next(c for c in nodes[split, 2:4] if c >= m and nodes[c, 0] <= K)
    return split, leaf


def _shared_subtree(nodes, m):
    """Point a split at a subtree another split already owns (same size, so the counts add up)."""
    splits = [i for i in range(m, len(nodes) - 3) if nodes[i, 0] > K]
    for a in splits:
        for b in splits:
            if b > a and nodes[a, 2] >= m and nodes[b, 2] != nodes[a, 2] and \
                    nodes[nodes[b, 2], 0] == nodes[nodes[a, 2], 0] and nodes[a, 2] < b:
                nodes[b, 2] = nodes[a, 2]
                return
    raise AssertionError("no pair of splits found")


def _set_float(nodes, i, j, value):
    nodes.view(np.float32)[i, j] = value


CORRUPTIONS = {
    "split child past the file": (lambda n, m, s, lf: n.__setitem__((s, 2), len(n) + 10),
                                  r"split node \d+ has child \d+, outside \[0, \d+\)"),
    "split child negative": (lambda n, m, s, lf: n.__setitem__((s, 3), -7),
                             r"split node \d+ has child -7, outside"),
    "split child is itself (cycle)": (lambda n, m, s, lf: n.__setitem__((s, 2), s),
                                      r"split node \d+ has child \d+, outside \[0, \d+\)"),
    "leaf lists an id past the items": (lambda n, m, s, lf: n.__setitem__((lf, 2), m + 3),
                                        r"leaf node \d+ lists item \d+, outside \[0, 200\)"),
    "leaf lists a negative id": (lambda n, m, s, lf: n.__setitem__((lf, 2), -1),
                                 r"leaf node \d+ lists item -1"),
    "leaf with no items": (lambda n, m, s, lf: n.__setitem__((lf, 0), 0),
                           r"(leaf node \d+ has n_descendants 0|children hold)"),
    "item with many descendants": (lambda n, m, s, lf: n.__setitem__((17, 0), 5),
                                   r"node 17 is an item .* n_descendants 5, expected 1"),
    "split count does not add up": (lambda n, m, s, lf: n.__setitem__((s, 0), n[s, 0] + 1),
                                    r"split node \d+ has n_descendants \d+, but its children hold"),
    "shared subtree": (lambda n, m, s, lf: _shared_subtree(n, m),
                       r"node \d+ is reached twice from the roots"),
    "NaN item coordinate": (lambda n, m, s, lf: _set_float(n, 42, 5, np.nan),
                            r"item 42 has a NaN or infinite coordinate"),
    "infinite split plane": (lambda n, m, s, lf: _set_float(n, s, 4, np.inf),
                             r"split node \d+ has a NaN or infinite plane"),
    "roots claim no items": (lambda n, m, s, lf: n.__setitem__((slice(-3, None), 0), 0),
                             r"the roots hold 0 items"),
    "roots claim more items than nodes": (lambda n, m, s, lf: n.__setitem__((slice(-3, None), 0),
                                                                            10**8),
                                          r"the roots hold 100000000 items"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_crafted_index_file_is_refused(tmp_path, name):
    path = _index_file(tmp_path)
    AnnoyFile(path, F, "euclidean")  # the intact file passes
    nodes = _nodes(path)
    split, leaf = _walk(nodes, 200)
    edit, match = CORRUPTIONS[name]
    edit(nodes, 200, split, leaf)
    nodes.tofile(path)
    with pytest.raises(ValueError, match=match):
        AnnoyFile(path, F, "euclidean")


def test_truncated_and_empty_files(tmp_path):
    path = _index_file(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-8])
    with pytest.raises(ValueError, match="not a whole number of 36-byte nodes"):
        AnnoyFile(path, F, "euclidean")
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="0 bytes is not a whole number"):
        AnnoyFile(path, F, "euclidean")


def test_search_arguments_are_checked(tmp_path):
    af = AnnoyFile(_index_file(tmp_path), F, "euclidean")
    ids, dist = np.empty(3, np.int64), np.empty(3, np.float32)
    q = np.ones(F, np.float32)
    assert af.search(q, 3, 30, ids, dist) == 3
    with pytest.raises(ValueError, match="1-D float32 array of length 5"):
        af.search(np.ones(F + 2, np.float32), 3, 30, ids, dist)
    with pytest.raises(ValueError, match="n and search_k must be >= 1"):
        af.search(q, 0, 30, ids, dist)
    with pytest.raises(ValueError, match="at least n=4 entries"):
        af.search(q, 4, 30, ids, dist)
    # a query above the caller's magnitude bound is refused, every slot cleared
    assert af.search(q, 3, 30, ids, dist, max_qq=1.0) == -1
    assert (ids == -1).all() and np.isinf(dist).all()


def _saved_store(tmp_path, metric="euclidean"):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, F)).astype(np.float32)
    store = NeighborStore(F, metric=metric, n_trees=3, random_state=0).add(np.arange(300), X).rebuild()
    return store.save(tmp_path / "store"), X


def _reseal(art):
    """Recompute every checksum, as a forger would."""
    m = json.loads((art / "manifest.json").read_text())
    for name in m["files"]:
        data = (art / name).read_bytes()
        m["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    m["manifest_sha256"] = manifest_digest(m)
    (art / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("reseal", [True, False], ids=["crafted", "damaged-verify-off"])
@pytest.mark.parametrize("name", ["split child past the file", "leaf lists an id past the items",
                                  "shared subtree", "item with many descendants"])
def test_store_load_refuses_a_bad_index(tmp_path, name, reseal):
    art, _ = _saved_store(tmp_path)
    nodes = _nodes(art / "index.ann")
    m = 300
    split, leaf = _walk(nodes, m)
    edit, match = CORRUPTIONS[name]
    edit(nodes, m, split, leaf)
    nodes.tofile(art / "index.ann")
    if reseal:
        _reseal(art)
    with pytest.raises(ArtifactError, match=match.replace("200", "300")) as e:
        NeighborStore.load(art, verify=reseal)
    assert e.value.reason == "invalid_content" and e.value.path.endswith("index.ann")


def test_store_load_refuses_index_of_other_vectors_and_disagreeing_kernel(tmp_path, monkeypatch):
    art, X = _saved_store(tmp_path)
    vec = np.load(art / "vectors.npy")
    vec[0] += 1.0
    np.save(art / "vectors.npy", vec)
    _reseal(art)
    with pytest.raises(ArtifactError, match="item 0 differs from row 0 of vectors.npy"):
        NeighborStore.load(art)
    np.save(art / "vectors.npy", X)
    _reseal(art)
    NeighborStore.load(art)
    import nnstore._store_persist as sp

    kernel = sp.search_one

    def off_by_one(nodes, roots, kind, n_items, q, n, sk, ids, dist, *rest):
        found = kernel(nodes, roots, kind, n_items, q, n, sk, ids, dist, *rest)
        ids[:found] = (ids[:found] + 1) % n_items  # a kernel that misreads the layout
        return found

    monkeypatch.setattr(sp, "search_one", off_by_one)
    with pytest.raises(ArtifactError, match="self-check query differently") as e:
        NeighborStore.load(art)
    assert e.value.reason == "invalid_content"


_FUZZ = textwrap.dedent("""
    import sys
    import numpy as np
    from annoy import AnnoyIndex
    from nnstore._annoy_search import AnnoyFile

    def damaged_copies(path, metric, rng, f=4, n=150, count=80):
        a = AnnoyIndex(f, metric)
        for i, row in enumerate(rng.normal(size=(n, f)).tolist()):
            a.add_item(i, row)
        a.build(3, n_jobs=1)
        a.save(path)
        a.unload()
        words = f + (3 if metric == "angular" else 4)
        clean = np.fromfile(path, dtype=np.int32).reshape(-1, words)
        for _ in range(count):
            m = clean.copy()
            for _ in range(int(rng.integers(1, 4))):
                i, w = int(rng.integers(0, len(m))), int(rng.integers(0, min(words, 5)))
                m[i, w] = [int(rng.integers(-5, len(m) + 5)), -1, 2**31 - 1, int(rng.integers(0, 3)),
                           int(m[rng.integers(0, len(m)), w])][int(rng.integers(0, 5))]
            m.tofile(path)
            yield f

    path, rng = sys.argv[1], np.random.default_rng(int(sys.argv[2]))
    refused = searched = 0
    for metric in ("angular", "euclidean", "manhattan"):
        for f in damaged_copies(path, metric, rng):
            try:
                af = AnnoyFile(path, f, metric)
            except ValueError:
                refused += 1
                continue
            searched += 1
            ids, d = np.empty(10, np.int64), np.empty(10, np.float32)
            for q in rng.normal(size=(3, f)).astype(np.float32):
                for sk in (10, 10**6):
                    found = af.search(q, 10, sk, ids, d)
                    assert 0 <= found <= 10 and (ids[:found] < af.n_items).all()
    print(refused, searched)
""")



def test_random_damage_never_crashes(tmp_path):
    """Random words of the index overwritten: refused, or searched within bounds; run in a
    subprocess so that a segfault fails this test instead of killing pytest."""
    r = subprocess.run([sys.executable, "-c", _FUZZ, str(tmp_path / "f.ann"), "7"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}"
    refused, searched = map(int, r.stdout.split())
    assert refused + searched == 240 and refused > 60
