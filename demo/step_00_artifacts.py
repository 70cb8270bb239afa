"""Artifacts: every model and store saves as a checked directory"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import nnstore
from nnstore import ArtifactError, ArtifactWriter, read_artifact


def run(workdir: Path) -> None:
    print(f"graphtab {nnstore.__version__}")
    rng = nnstore.check_random_state(0)
    vectors = rng.standard_normal((1000, 16)).astype(np.float32)
    frame = nnstore.embeddings_frame(vectors, [f"item-{i}" for i in range(1000)])
    path = workdir / "example"
    with ArtifactWriter(path, kind="demo", params={"seed": 0}, dim=16) as w:
        w.save_frame("embeddings", frame)
    art = read_artifact(path, kind="demo")
    manifest = json.loads((path / "manifest.json").read_text())
    print(f"saved {art.kind!r} artifact with files {art.files}, "
          f"sha256 {manifest['files']['embeddings.parquet']['sha256'][:16]}...")
    back = art.load_frame("embeddings")
    print(f"round trip identical: {back.equals(frame)}")
    with open(path / "embeddings.parquet", "r+b") as f:  # tamper with one byte
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0xFF]))
    try:
        read_artifact(path, kind="demo")
    except ArtifactError as e:
        print(f"tampered artifact refused ({e.reason}): {e}")
