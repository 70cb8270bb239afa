"""The old array top-k entry points, as adapters over :func:`nnstore.kneighbors`.

Kept only until ``tabemb/_hubness.py`` calls :func:`nnstore.kneighbors` itself;
tabemb has no search code of its own. Rows are unit vectors (cosine = dot order).
"""

from __future__ import annotations

import numpy as np

from nnstore import cross_kneighbors, kneighbors

__all__ = ["exact_topk", "ivf_topk"]


def exact_topk(a: np.ndarray, b: np.ndarray | None, k_a: int, k_b: int = 0, *,
               block_bytes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(nn_a, nn_b)``: row numbers of each row's most similar rows (exact, cosine).

    ``b=None``: ``a`` against itself, a row never returning itself; ``nn_b`` is then
    empty. Widths are capped at the rows available, as before.
    """
    a = np.asarray(a, dtype=np.float32)
    if int(k_a) < 0 or int(k_b) < 0:
        raise ValueError(f"k_a and k_b must be >= 0, got {k_a} and {k_b}")
    if b is None:
        ka = min(int(k_a), len(a) - 1)
        nn = kneighbors(a, k=ka, method="exact", block_bytes=block_bytes)[0] if ka > 0 else \
            np.zeros((len(a), 0), np.int64)
        return nn, np.zeros((0, 0), np.int64)
    b = np.asarray(b, dtype=np.float32)
    ka, kb = min(int(k_a), len(b)), min(int(k_b), len(a))
    ia, _, ib, _ = cross_kneighbors(a, b, k=max(ka, 1), k_b=max(kb, 1), method="exact",
                                    block_bytes=block_bytes)
    return ia[:, :ka], ib[:, :kb]


def ivf_topk(queries: np.ndarray, base: np.ndarray | None, k: int, *, n_probe: int = 4,
             n_cells: int | None = None, random_state: int = 0) -> np.ndarray:
    """Approximate top-k (inverted lists over k-means cells); ``base=None``: queries against
    themselves, never a row itself. ``(n_queries, k)`` row numbers, -1 where fewer were found."""
    if base is None:
        return kneighbors(queries, k=k, method="ivf", n_probe=n_probe, n_cells=n_cells,
                          random_state=random_state)[0]
    return kneighbors(base, queries, k=k, method="ivf", n_probe=n_probe, n_cells=n_cells,
                      random_state=random_state)[0]
