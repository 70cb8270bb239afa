"""Knowledge-graph embeddings: TransE, DistMult, ComplEx and RotatE.

One embedding per entity and per relation, learned from (head, relation, tail)
triples with arbitrary string (or any hashable) ids.

Training
--------
Every model is trained the same way, with **1-N scoring** ("1vsAll", Lacroix
et al. 2018; Ruffinelli et al. 2020): a batch of (head, relation) queries is
scored against *all* entities at once, and a cross-entropy loss pushes the true
tail up. Each triple is also used backwards through a **reciprocal relation**
(``r⁻¹``), so tail and head prediction are both "predict the tail" and one
matrix product per batch keeps both CPU cores busy. This is why the distance
models are written in their squared-expansion form:

=========  =======================================  ==============================
model      score(h, r, t)                           1-N form (q = query vector)
=========  =======================================  ==============================
TransE     -‖h + r − t‖₂                            ‖q‖² − 2 q·t + ‖t‖²,  q = h + r
DistMult   ⟨h, r, t⟩                                q·t,                  q = h ∘ r
ComplEx    Re⟨h, r, t̄⟩                              [q_re, q_im]·[t_re, t_im], q = h ∘ r
RotatE     -‖h ∘ r − t‖₂  (|r_i| = 1)               as TransE,            q = h ∘ e^{iθ_r}
=========  =======================================  ==============================

(The RotatE paper sums the moduli of the complex differences, an L1-type norm;
ours is the L2 norm over the complex vector, which keeps 1-N scoring a matrix
product. TransE likewise uses L2.)

Because every score is a dot product or a Euclidean distance between a query
vector and an entity vector, :meth:`KGEmbedder.predict_tail` can answer from the
neighbour store (``metric="dot"`` for DistMult/ComplEx, ``"euclidean"`` for
TransE/RotatE); ``exact=True`` scores every entity instead.

Evaluation
----------
:func:`filtered_ranks` / :meth:`KGEmbedder.evaluate` compute the standard
filtered ranks (Bordes et al. 2013): for each test triple, every *other* known
true answer (from the triples passed as ``known``) is removed before ranking the
true entity; ties count half (the mean of the optimistic and pessimistic rank).
MRR and Hits@1/3/10 average tail and head prediction.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import numbers
import time
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from torch import nn

from nnstore import (
    DEPRECATED,
    DEVICE,
    RANDOM_STATE,
    VERBOSE,
    ArtifactWriter,
    Interval,
    StrOptions,
    check_device,
    check_is_fitted,
    check_random_state,
    check_storable_keys,
    embeddings_frame,
    read_artifact,
    renamed_param,
    seed_from,
    validate_params,
)

from ._output import FrameOutputMixin

__all__ = ["KGEmbedder", "filtered_ranks", "rank_metrics", "read_triples"]

logger = logging.getLogger(__name__)

MODELS = ("transe", "distmult", "complex", "rotate")
_COMPLEX_MODELS = ("complex", "rotate")
_DISTANCE_MODELS = ("transe", "rotate")
TRIPLE_COLUMNS = ("head", "relation", "tail")


# -- reading and checking triples ----------------------------------------------------
def read_triples(path: str | Path) -> pd.DataFrame:
    """Read a tab-separated ``head<TAB>relation<TAB>tail`` file (no header) as strings.

    Every column is read as ``str`` (WordNet offsets keep their leading zeros)
    and nothing is parsed as NaN or quoted. Blank lines are skipped.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame with str columns head, relation, tail

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file holds no triple, or a line does not have exactly three
        non-empty tab-separated fields (the message names the file, the line
        number and what it holds).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"triples file {str(path)!r} does not exist")
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise ValueError(f"triples file {str(path)!r} holds no triple; expected lines "
                         "head<TAB>relation<TAB>tail")
    for lineno, line in numbered:
        fields = line.split("\t")
        if len(fields) != 3 or any(f == "" for f in fields):
            what = (f"{len(fields)} tab-separated field(s)" if len(fields) != 3
                    else "an empty field")
            raise ValueError(f"triples file {str(path)!r}, line {lineno}: expected 3 non-empty "
                             f"tab-separated fields (head, relation, tail), got {what}: {line[:200]!r}")
    body = "\n".join(line for _, line in numbered)
    df = pd.read_csv(io.StringIO(body), sep="\t", header=None, names=list(TRIPLE_COLUMNS), dtype=str,
                     quoting=csv.QUOTE_NONE, keep_default_na=False, engine="c")
    return df


def _check_triples(triples: Any, name: str = "triples") -> pd.DataFrame:
    if isinstance(triples, pd.DataFrame):
        df = triples
    elif isinstance(triples, (list, tuple, np.ndarray)):
        arr = list(triples)
        if arr and any(not isinstance(t, (list, tuple, np.ndarray)) or len(t) != 3 for t in arr):
            raise ValueError(f"{name} must be (head, relation, tail) triples")
        df = pd.DataFrame(arr, columns=list(TRIPLE_COLUMNS))
    else:
        raise TypeError(f"{name} must be a DataFrame with columns head, relation, tail, "
                        f"got {type(triples).__name__}")
    missing = [c for c in TRIPLE_COLUMNS if c not in df.columns]
    if missing:
        if df.shape[1] == 3 and not set(df.columns) & set(TRIPLE_COLUMNS):
            df = df.set_axis(list(TRIPLE_COLUMNS), axis=1)
        else:
            raise KeyError(f"{name} is missing column(s) {missing}; expected head, relation, tail, "
                           f"got {list(df.columns)}")
    df = df[list(TRIPLE_COLUMNS)]
    if df.isna().any().any():
        col = df.columns[df.isna().any()].tolist()
        raise ValueError(f"{name} has missing values in column(s) {col}")
    return df


# -- the torch module ----------------------------------------------------------------
class _KGEModule(nn.Module):
    """Entity and (reciprocal) relation embeddings with 1-N scoring.

    Shapes
    ------
    - entities: ``(|E|, dim)`` real (TransE, DistMult) or ``(|E|, 2 * dim)``
      as [real | imaginary] (ComplEx, RotatE)
    - relations: ``(2|R|, ·)``: row ``r`` and its reciprocal ``r + |R|``
    - ``query(h, r)``: ``(B,)``, ``(B,)`` -> ``(B, D)``
    - ``score_all(q)``: ``(B, D)`` -> ``(B, |E|)``
    """

    def __init__(self, model: str, n_entities: int, n_relations: int, dim: int,
                 generator: torch.Generator) -> None:
        super().__init__()
        self.model = model
        self.dim = dim
        width = 2 * dim if model in _COMPLEX_MODELS else dim
        self.entity = nn.Parameter(torch.empty(n_entities, width))
        rel_width = dim if model == "rotate" else width
        self.relation = nn.Parameter(torch.empty(2 * n_relations, rel_width))
        with torch.no_grad():
            if model in _DISTANCE_MODELS:
                bound = 6.0 / math.sqrt(dim)
                self.entity.uniform_(-bound, bound, generator=generator)
                self.relation.uniform_(-bound, bound, generator=generator)
                if model == "rotate":  # phases in (-pi, pi]
                    self.relation.uniform_(-math.pi, math.pi, generator=generator)
            else:
                self.entity.normal_(0.0, 1e-3 * 100 / math.sqrt(width), generator=generator)
                self.relation.normal_(0.0, 1e-3 * 100 / math.sqrt(width), generator=generator)

    def query(self, h: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        eh, er = self.entity[h], self.relation[r]
        if self.model == "transe":
            return eh + er
        if self.model == "distmult":
            return eh * er
        d = self.dim
        hr, hi = eh[:, :d], eh[:, d:]
        if self.model == "complex":
            rr, ri = er[:, :d], er[:, d:]
        else:  # rotate: unit-modulus rotation by phase
            rr, ri = torch.cos(er), torch.sin(er)
        return torch.cat([hr * rr - hi * ri, hr * ri + hi * rr], dim=1)

    def score_all(self, q: torch.Tensor, entities: torch.Tensor | None = None) -> torch.Tensor:
        E = self.entity if entities is None else entities
        dots = q @ E.T
        if self.model in _DISTANCE_MODELS:
            sq = (q * q).sum(1, keepdim=True) - 2.0 * dots + (E * E).sum(1)[None, :]
            return -torch.sqrt(sq.clamp_min(1e-12))
        return dots

    def score_triples(self, h: torch.Tensor, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        q = self.query(h, r)
        et = self.entity[t]
        if self.model in _DISTANCE_MODELS:
            return -torch.linalg.vector_norm(q - et, dim=1)
        return (q * et).sum(1)


# -- ranks and metrics ---------------------------------------------------------------
def rank_metrics(ranks: np.ndarray) -> dict[str, float]:
    """MRR, mean rank and Hits@1/3/10 from an array of (1-based) ranks.

    Parameters
    ----------
    ranks : array-like of shape (n,)

    Returns
    -------
    dict with ``mrr``, ``mean_rank``, ``hits@1``, ``hits@3``, ``hits@10``

    Raises
    ------
    ValueError
        For no ranks at all.
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.size == 0:
        raise ValueError("no ranks to summarise")
    return {
        "mrr": float(np.mean(1.0 / ranks)),
        "mean_rank": float(np.mean(ranks)),
        "hits@1": float(np.mean(ranks <= 1)),
        "hits@3": float(np.mean(ranks <= 3)),
        "hits@10": float(np.mean(ranks <= 10)),
    }


def filtered_ranks(scores: np.ndarray, targets: np.ndarray,
                   known: Sequence[Iterable[int]]) -> np.ndarray:
    """Filtered rank of each target among its row of scores (higher = better).

    Parameters
    ----------
    scores : ndarray of shape (n_queries, n_entities)
    targets : ndarray of shape (n_queries,)
        Column of the true answer in each row.
    known : sequence of iterables of int
        For each query, every entity known to be a true answer (from train,
        valid and test); all of them but the target are filtered out.

    Returns
    -------
    ndarray of shape (n_queries,), float
        1-based ranks; ties with the target count half.
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    n = len(targets)
    rows = np.arange(n)
    target_scores = scores[rows, targets]
    for i, k in enumerate(known):
        idx = np.fromiter(k, dtype=np.int64)
        scores[i, idx] = -np.inf
    scores[rows, targets] = -np.inf  # the target itself is counted separately
    greater = (scores > target_scores[:, None]).sum(1)
    ties = (scores == target_scores[:, None]).sum(1)
    return 1.0 + greater + ties / 2.0


# -- the estimator ---------------------------------------------------------------------
class KGEmbedder(FrameOutputMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Knowledge-graph embeddings (TransE, DistMult, ComplEx, RotatE) with 1-N training.

    Parameters
    ----------
    model : {"complex", "distmult", "rotate", "transe"}, default "complex"
        The scoring function (see the module notes).
    dim : int, default 200
        Embedding size (complex models store ``2 * dim`` real numbers per entity).
    epochs : int, default 100
        Passes over the training triples.
    batch_size : int, default 512
        Queries per step (each triple gives a tail query and a reciprocal one).
    learning_rate : float, default 1e-3
        Adam's step size.
    label_smoothing : float, default 0.1
        In [0, 1).
    n3 : float, default 0.0
        Weight of the N3 penalty (Lacroix et al. 2018: the sum of the cubed
        moduli of the head, relation and tail embeddings in the batch); helps
        ComplEx/DistMult on large graphs. It is not an L2 penalty, hence its
        own name.
    dropout : float, default 0.0
        Dropout on the query vectors, in [0, 1).
    time_budget : float, optional
        Stop training after this many seconds (the epoch in progress ends first).
    device : str, default "cpu"
        ``"cuda"`` / ``"cuda:<i>"`` trains on a GPU.
    random_state : int, Generator or None
        Seeds the initial embeddings, the shuffling, dropout and the neighbour
        store :meth:`predict_tail` searches.
    verbose : bool, default False
        A progress bar over epochs.
    regularization : float
        Deprecated old name of ``n3``; works with a ``FutureWarning``.

    Attributes
    ----------
    entity_embeddings_ : DataFrame, index = entity id
        For complex models the columns are ``dim`` real parts then ``dim``
        imaginary parts.
    relation_embeddings_ : DataFrame, index = relation id
    entities_, relations_ : pandas.Index
        The ids, in row order.
    module_ : torch.nn.Module
        The trained embeddings.
    n_epochs_ : int
        Epochs trained (fewer than ``epochs`` when ``time_budget`` stopped it).
    history_ : list of dict
        Per epoch: loss, seconds, and validation MRR when ``valid`` was given.

    Shapes
    ------
    triples: ``(|T|, 3)``; entity embeddings ``(|E|, dim)`` (``(|E|, 2 * dim)``
    for ComplEx and RotatE); relation embeddings ``(|R|, ·)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from graphemb import KGEmbedder
    >>> triples = pd.DataFrame([("a", "likes", "b"), ("b", "likes", "c")],
    ...                        columns=["head", "relation", "tail"])
    >>> kge = KGEmbedder(model="distmult", dim=8, epochs=5, random_state=0).fit(triples)
    >>> kge.transform(["a"]).shape
    (1, 8)
    """

    _parameter_constraints: ClassVar[dict] = {
        "model": [StrOptions(set(MODELS))],
        "dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "label_smoothing": [Interval(numbers.Real, 0, 1, closed="left")],
        "n3": [Interval(numbers.Real, 0, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "time_budget": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "device": DEVICE,
        "random_state": RANDOM_STATE,
        "verbose": VERBOSE,
        "regularization": [*DEPRECATED, Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, *, model: str = "complex", dim: int = 200, epochs: int = 100,
                 batch_size: int = 512, learning_rate: float = 1e-3,
                 label_smoothing: float = 0.1, n3: float = 0.0,
                 dropout: float = 0.0, time_budget: float | None = None,
                 device: str = "cpu", random_state: Any = None,
                 verbose: bool = False, regularization: Any = "deprecated") -> None:
        self.model = model
        self.dim = dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.label_smoothing = label_smoothing
        self.n3 = n3
        self.dropout = dropout
        self.time_budget = time_budget
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.regularization = regularization

    def _validate_params(self) -> float:
        """Check the parameters; returns the N3 weight (from the old name if it was set)."""
        validate_params(self)
        check_device(self.device, torch_needed=self.device != "cpu")
        return float(renamed_param(self, "regularization", "n3"))

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    # -- id mapping -----------------------------------------------------------------
    def _encode(self, df: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = self.entities_.get_indexer(df["head"])
        r = self.relations_.get_indexer(df["relation"])
        t = self.entities_.get_indexer(df["tail"])
        for col, codes, vocab in (("head", h, "entities"), ("relation", r, "relations"),
                                  ("tail", t, "entities")):
            if (codes < 0).any():
                bad = df[col].to_numpy()[codes < 0][:5].tolist()
                raise KeyError(f"{name}: {int((codes < 0).sum())} {col} value(s) unknown to the "
                               f"model's {vocab}, e.g. {bad}")
        return h.astype(np.int64), r.astype(np.int64), t.astype(np.int64)

    # -- fitting ----------------------------------------------------------------------
    def fit(self, triples: pd.DataFrame, *, entities: Iterable[Hashable] | None = None,
            valid: pd.DataFrame | None = None, known: Sequence[pd.DataFrame] = ()) -> KGEmbedder:
        """Learn entity and relation embeddings from ``triples``.

        Parameters
        ----------
        triples : DataFrame with columns head, relation, tail
        entities : iterable, optional
            Further entity ids to embed (e.g. ones seen only in test triples);
            they keep their random initial embedding.
        valid : DataFrame, optional
            Triples for a filtered MRR after each epoch (in ``history_``).
        known : sequence of DataFrame
            Extra true triples to filter when evaluating ``valid``.

        Returns
        -------
        self : KGEmbedder

        Raises
        ------
        ValueError
            For a bad parameter (named), empty triples or missing values.
        KeyError
            For ``triples`` without the columns head, relation, tail, or
            ``valid`` triples with unknown ids.
        TypeError
            For ids the artifact format cannot store (refused before training).
        """
        n3 = self._validate_params()
        df = _check_triples(triples)
        if len(df) == 0:
            raise ValueError("triples is empty: expected at least one (head, relation, tail)")
        ents = pd.unique(np.concatenate([df["head"].to_numpy(), df["tail"].to_numpy()]))
        check_storable_keys(ents, name="entity ids (head, tail)")  # refused before training
        check_storable_keys(pd.unique(df["relation"].to_numpy()), name="relation ids")
        if entities is not None:
            entities = list(check_storable_keys(list(entities), name="entities"))
        self.entities_ = pd.Index(ents, name="entity")
        if entities is not None:
            extra = pd.Index(list(entities)).difference(self.entities_, sort=False)
            self.entities_ = self.entities_.append(pd.Index(extra)).rename("entity")
        self.relations_ = pd.Index(pd.unique(df["relation"].to_numpy()), name="relation")
        h, r, t = self._encode(df, "triples")
        n_rel = len(self.relations_)
        rng = check_random_state(self.random_state)
        device = torch.device(self.device)
        gen = torch.Generator().manual_seed(seed_from(rng))
        self.module_ = _KGEModule(self.model, len(self.entities_), n_rel, self.dim, gen).to(device)
        valid_df = _check_triples(valid, "valid") if valid is not None else None
        if valid_df is not None:
            self._encode(valid_df, "valid")
        # queries: (h, r) -> t and (t, r + R) -> h
        qh = np.concatenate([h, t])
        qr = np.concatenate([r, r + n_rel])
        qt = np.concatenate([t, h])
        queries = torch.as_tensor(np.stack([qh, qr, qt], 1), device=device)
        opt = torch.optim.Adam(self.module_.parameters(), lr=self.learning_rate)
        self.history_: list[dict] = []
        t_start = time.perf_counter()
        epochs = range(self.epochs)
        if self.verbose:
            from tqdm.auto import tqdm

            epochs = tqdm(epochs, desc=f"{self.model} epochs", unit="epoch")
        shuffle_gen = torch.Generator(device="cpu").manual_seed(seed_from(rng))
        with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
            torch.manual_seed(seed_from(rng))  # dropout draws from the (forked) global RNG
            for epoch in epochs:
                t0 = time.perf_counter()
                self.module_.train()
                perm = torch.randperm(len(queries), generator=shuffle_gen).to(device)
                total = 0.0
                for start in range(0, len(perm), self.batch_size):
                    b = queries[perm[start:start + self.batch_size]]
                    q = self.module_.query(b[:, 0], b[:, 1])
                    if self.dropout:
                        q = torch.nn.functional.dropout(q, self.dropout, training=True)
                    logits = self.module_.score_all(q)
                    loss = torch.nn.functional.cross_entropy(
                        logits, b[:, 2], label_smoothing=self.label_smoothing)
                    if n3:
                        loss = loss + n3 * self._n3(b) / len(b)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(b)
                record = {"epoch": epoch + 1, "loss": total / len(queries),
                          "seconds": time.perf_counter() - t0}
                if valid_df is not None:
                    record["valid_mrr"] = self.evaluate(valid_df, known=[df, *known])["mrr"]
                self.history_.append(record)
                logger.info("epoch %d: %s", epoch + 1, record)
                if self.time_budget is not None and time.perf_counter() - t_start > self.time_budget:
                    logger.info("time budget of %.0f s reached after %d epochs",
                                self.time_budget, epoch + 1)
                    break
        self.module_.eval()
        self.n_epochs_ = len(self.history_)
        self._store_seed = seed_from(rng) % (2**31)  # the neighbour store's trees
        self._store = None
        return self

    def _n3(self, b: torch.Tensor) -> torch.Tensor:
        m = self.module_
        e_h, e_t, e_r = m.entity[b[:, 0]], m.entity[b[:, 2]], m.relation[b[:, 1]]
        return sum((x.abs() ** 3).sum() for x in (e_h, e_t, e_r))

    # -- embeddings ----------------------------------------------------------------------
    @property
    def entity_embeddings_(self) -> pd.DataFrame:
        check_is_fitted(self)
        return embeddings_frame(self.module_.entity.detach().cpu().numpy(), self.entities_)

    @property
    def relation_embeddings_(self) -> pd.DataFrame:
        check_is_fitted(self)
        n = len(self.relations_)
        return embeddings_frame(self.module_.relation.detach().cpu().numpy()[:n], self.relations_)

    # -- scoring ---------------------------------------------------------------------------
    def score(self, triples: pd.DataFrame) -> np.ndarray:
        """Plausibility of each triple (higher = more plausible).

        Parameters
        ----------
        triples : DataFrame with columns head, relation, tail

        Returns
        -------
        ndarray of shape (n_triples,), float32

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        KeyError
            Naming unknown entities or relations.
        """
        check_is_fitted(self)
        df = _check_triples(triples)
        h, r, t = self._encode(df, "triples")
        dev = self.module_.entity.device
        with torch.no_grad():
            s = self.module_.score_triples(torch.as_tensor(h, device=dev),
                                           torch.as_tensor(r, device=dev),
                                           torch.as_tensor(t, device=dev))
        return s.cpu().numpy().astype(np.float32)

    def _query_vectors(self, heads: np.ndarray, rels: np.ndarray) -> torch.Tensor:
        dev = self.module_.entity.device
        with torch.no_grad():
            return self.module_.query(torch.as_tensor(heads, device=dev),
                                      torch.as_tensor(rels, device=dev))

    def _predict(self, anchor: Hashable, relation: Hashable, k: int, *, reciprocal: bool,
                 exact: bool, exclude_known: pd.DataFrame | None) -> pd.DataFrame:
        check_is_fitted(self)
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        a = self.entities_.get_indexer([anchor])[0]
        if a < 0:
            raise KeyError(f"entity {anchor!r} is unknown to the model")
        r = self.relations_.get_indexer([relation])[0]
        if r < 0:
            raise KeyError(f"relation {relation!r} is unknown to the model")
        r = r + (len(self.relations_) if reciprocal else 0)
        q = self._query_vectors(np.array([a]), np.array([r]))
        skip: set[int] = set()
        if exclude_known is not None:
            kd = _check_triples(exclude_known, "exclude_known")
            side, other = ("tail", "head") if not reciprocal else ("head", "tail")
            rows = kd[(kd[other] == anchor) & (kd["relation"] == relation)]
            skip = set(self.entities_.get_indexer(rows[side]).tolist()) - {-1}
        kk = min(k + len(skip), len(self.entities_))
        if exact:
            with torch.no_grad():
                scores = self.module_.score_all(q)[0].cpu().numpy()
            order = np.argsort(-scores, kind="stable")
            order = [i for i in order if i not in skip][:k]
            ents, sc = self.entities_[order], scores[order]
        else:
            store = self._neighbor_store()
            qv = q.cpu().numpy().astype(np.float32)
            keys, dist, _ = store.query_arrays(qv, k=kk)
            keep = [(key, d) for key, d in zip(keys[0], dist[0], strict=True)
                    if key is not None and self.entities_.get_loc(key) not in skip][:k]
            ents = pd.Index([key for key, _ in keep])
            # store distances -> model scores: dot metric returns -dot, euclidean the distance
            sc = np.array([-d for _, d in keep], dtype=np.float32)
        return pd.DataFrame({"rank": np.arange(len(ents)), "entity": list(ents),
                             "score": np.asarray(sc, dtype=np.float32)})

    def _neighbor_store(self):
        if getattr(self, "_store", None) is None:
            from nnstore import NeighborStore

            metric = "euclidean" if self.model in _DISTANCE_MODELS else "dot"
            E = self.module_.entity.detach().cpu().numpy().astype(np.float32)
            store = NeighborStore(E.shape[1], metric=metric,
                                  random_state=getattr(self, "_store_seed", 0))
            store.add(list(self.entities_), E)
            self._store = store
        return self._store

    def predict_tail(self, head: Hashable, relation: Hashable, k: int = 10, *,
                     exact: bool = False, exclude_known: pd.DataFrame | None = None) -> pd.DataFrame:
        """The ``k`` most plausible tails of ``(head, relation, ?)``.

        Parameters
        ----------
        head, relation : hashable
            A known entity and relation.
        k : int, default 10
        exact : bool, default False
            ``False``: search a neighbour store over the entity embeddings
            (approximate, fast; built on first use, seeded from
            ``random_state``). ``True``: score every entity.
        exclude_known : DataFrame, optional
            Triples whose tails for ``(head, relation)`` are left out (e.g. the
            training set).

        Returns
        -------
        DataFrame with columns rank, entity, score
            ``k`` rows (fewer if the model knows fewer entities), best first;
            higher scores are more plausible.

        Raises
        ------
        KeyError
            For an unknown entity or relation.
        ValueError
            For ``k`` that is not a positive int.
        """
        return self._predict(head, relation, k, reciprocal=False, exact=exact,
                             exclude_known=exclude_known)

    def predict_head(self, tail: Hashable, relation: Hashable, k: int = 10, *,
                     exact: bool = False, exclude_known: pd.DataFrame | None = None) -> pd.DataFrame:
        """The ``k`` most plausible heads of ``(?, relation, tail)`` (via the reciprocal relation).

        Parameters and return value as :meth:`predict_tail`, with ``tail`` the
        known entity and ``exclude_known`` leaving out known heads.
        """
        return self._predict(tail, relation, k, reciprocal=True, exact=exact,
                             exclude_known=exclude_known)

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, triples: pd.DataFrame, *, known: Sequence[pd.DataFrame] = (),
                 batch_size: int = 256) -> dict[str, float]:
        """Filtered MRR, mean rank and Hits@1/3/10 over tail and head prediction.

        Parameters
        ----------
        triples : DataFrame with columns head, relation, tail
            The triples to rank (every id must be known to the model).
        known : sequence of DataFrame
            The other true triples to filter (train, valid); the evaluated
            triples are filtered too.
        batch_size : int, default 256
            Queries scored at once.

        Returns
        -------
        dict
            ``mrr``, ``mean_rank``, ``hits@1``, ``hits@3``, ``hits@10``
            (tail and head prediction together), ``tail_mrr``, ``head_mrr``.
        """
        check_is_fitted(self)
        df = _check_triples(triples)
        h, r, t = self._encode(df, "triples")
        n_rel = len(self.relations_)
        # true answers for each (anchor, relation') from every known triple
        answers: dict[tuple[int, int], set[int]] = {}
        for kdf in [df, *known]:
            kdf = _check_triples(kdf, "known")
            kh = self.entities_.get_indexer(kdf["head"])
            kr = self.relations_.get_indexer(kdf["relation"])
            kt = self.entities_.get_indexer(kdf["tail"])
            ok = (kh >= 0) & (kr >= 0) & (kt >= 0)
            for a, b, c in zip(kh[ok], kr[ok], kt[ok], strict=True):
                answers.setdefault((a, b), set()).add(c)
                answers.setdefault((c, b + n_rel), set()).add(a)
        qa = np.concatenate([h, t])
        qr = np.concatenate([r, r + n_rel])
        qt = np.concatenate([t, h])
        ranks = np.empty(len(qa))
        for s in range(0, len(qa), batch_size):
            sl = slice(s, s + batch_size)
            q = self._query_vectors(qa[sl], qr[sl])
            with torch.no_grad():
                scores = self.module_.score_all(q).cpu().numpy()
            known_sets = [answers.get((a, b), ()) for a, b in zip(qa[sl], qr[sl], strict=True)]
            ranks[sl] = filtered_ranks(scores, qt[sl], known_sets)
        out = rank_metrics(ranks)
        n = len(h)
        out["tail_mrr"] = float(np.mean(1.0 / ranks[:n]))
        out["head_mrr"] = float(np.mean(1.0 / ranks[n:]))
        return out

    # -- the transformer surface ---------------------------------------------------------
    def transform(self, entities: Iterable[Hashable] | Hashable | None = None) -> pd.DataFrame:
        """Entity embeddings of ``entities`` (default: all), as an embeddings DataFrame.

        Parameters
        ----------
        entities : iterable of entity ids, a single id, or None

        Returns
        -------
        DataFrame of shape (n, dim) or (n, 2 * dim)
            float32 columns ``emb_*`` (real parts, then imaginary parts for
            ComplEx and RotatE), index = the entity ids asked for.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        KeyError
            Naming entity ids the model does not know.
        """
        check_is_fitted(self)
        emb = self.entity_embeddings_
        if entities is None:
            return emb
        if isinstance(entities, (str, bytes)) or not isinstance(entities, Iterable) or \
                (isinstance(entities, tuple) and entities in self.entities_):  # one id (tuples can be ids)
            entities = [entities]
        index = pd.Index(list(entities), tupleize_cols=False, name=emb.index.name)
        rows = self.entities_.get_indexer(index)
        if (rows < 0).any():
            missing = list(index[rows < 0][:5])
            raise KeyError(f"entities: {int((rows < 0).sum())} id(s) unknown to the model, e.g. {missing}")
        return embeddings_frame(emb.to_numpy()[rows], index)

    def fit_transform(self, triples: pd.DataFrame, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """``fit(triples, **fit_params)``, then the embeddings of every entity."""
        return self.fit(triples, **fit_params).transform()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names of :meth:`transform` (object array)."""
        check_is_fitted(self)
        width = self.module_.entity.shape[1]
        return np.asarray([f"emb_{i}" for i in range(width)], dtype=object)

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save as an artifact directory (kind ``"kg_embedder"``).

        Returns
        -------
        pathlib.Path
            The artifact directory.
        """
        check_is_fitted(self)
        params = self.get_params(deep=False)
        rs = params["random_state"]
        params["random_state"] = int(rs) if isinstance(rs, (int, np.integer)) else None
        with ArtifactWriter(path, kind="kg_embedder", params=params, dim=self.dim,
                            counts={"entities": len(self.entities_),
                                    "relations": len(self.relations_)}) as w:
            w.save_state_dict("module", self.module_.state_dict())
            w.save_frame("entities", self.entities_.to_frame(index=False, name="entity"))
            w.save_frame("relations", self.relations_.to_frame(index=False, name="relation"))
            w.save_json("history", self.history_)
            w.save_json("fitted", {"store_seed": int(getattr(self, "_store_seed", 0))})
        return Path(path)

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> KGEmbedder:
        """Load a saved :class:`KGEmbedder` (state dict with ``weights_only=True``).

        Parameters
        ----------
        path : str or Path
        device : str, optional
            Load onto this device instead of the saved one.

        Raises
        ------
        nnstore.ArtifactError
            For a missing, damaged or other kind of artifact.
        """
        art = read_artifact(path, kind="kg_embedder")
        params = dict(art.params)
        old = params.pop("regularization", "deprecated")
        if not (isinstance(old, str) and old == "deprecated"):  # saved before the rename
            params["n3"] = old
        if device is not None:
            params["device"] = device
        known = set(cls().get_params(deep=False))
        self = cls(**{k: v for k, v in params.items() if k in known})
        self.entities_ = pd.Index(art.load_frame("entities")["entity"], name="entity")
        self.relations_ = pd.Index(art.load_frame("relations")["relation"], name="relation")
        gen = torch.Generator().manual_seed(0)
        module = _KGEModule(self.model, len(self.entities_), len(self.relations_), self.dim, gen)
        module.load_state_dict(art.load_state_dict("module"))
        self.module_ = module.to(torch.device(self.device)).eval()
        self.history_ = art.load_json("history")
        self.n_epochs_ = len(self.history_)
        try:
            self._store_seed = int(art.load_json("fitted")["store_seed"])
        except KeyError:  # saved before the store seed was kept
            self._store_seed = 0
        self._store = None
        return self
