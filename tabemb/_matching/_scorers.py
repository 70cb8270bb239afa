"""Pair scorers for record matching: Fellegi-Sunter with EM (unsupervised) and boosted trees.

Fellegi-Sunter (Fellegi & Sunter 1969; EM as in Winkler 1988 and Splink)
-------------------------------------------------------------------------
Each pair feature is cut into a few *comparison levels* (e.g. Jaro-Winkler
``< 0.7``, ``[0.7, 0.88)``, ``[0.88, 0.95)``, ``[0.95, 1)``, ``= 1``). A
latent class (match / non-match) explains the pairs; given the class, the
features are independent, each a categorical over its levels with
probabilities ``m_f`` (matches) and ``u_f`` (non-matches). A missing value
gives no evidence (its factor is 1). The match probability of a pair is::

    logit P(match | levels) = logit(lambda) + sum_f log(m_f[level_f] / u_f[level_f])

``lambda`` (the share of matches among the candidate pairs), ``m`` and
``u`` are fitted by EM on the candidate pairs (identical level patterns are
collapsed to one row with a count, so EM costs O(distinct patterns)).
Initialisation: ``u`` from pairs of *random* records (almost all
non-matches: Splink's estimate), ``m`` puts most of its mass on the top
levels. EM then refines both; a small Dirichlet pseudo-count keeps every
probability positive.

Boosted trees (supervised)
--------------------------
scikit-learn's HistGradientBoostingClassifier (missing values handled
natively) is trained on the labelled pairs' features. To save it without
pickle, its trees are exported as flat node arrays (feature, threshold,
missing direction, children, leaf value), and prediction walks those arrays
in vectorised numpy, so a loaded model needs no scikit-learn object.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["FellegiSunter", "TreeEnsemble", "level_edges", "to_levels"]

logger = logging.getLogger(__name__)

#: default comparison levels: (edges, "ascending" means a larger value is a better agreement)
DEFAULT_LEVELS = {
    "jaro_winkler": ([0.7, 0.88, 0.95, 0.99999], True),
    "token": ([0.3, 0.6, 0.99999], True),
    "tfidf": ([0.3, 0.6, 0.8, 0.95], True),
    "contain": ([0.3, 0.6, 0.8, 0.95], True),
    "code": ([0.5, 0.99999], True),
    "number": ([0.5, 0.99999], True),
    "numeric": ([1e-9, 0.01, 0.1], False),
    "date": ([0.5, 1.5, 31.0, 365.0], False),
    "exact": ([0.5], True),
}


def level_edges(kind: str) -> tuple[list[float], bool]:
    """Default level edges of a comparator kind."""
    return DEFAULT_LEVELS[kind]


def to_levels(values: np.ndarray, edges, ascending: bool) -> np.ndarray:
    """int8 levels: 0 = worst agreement .. len(edges) = best; -1 = missing."""
    v = np.asarray(values, dtype=np.float64)
    lev = np.searchsorted(np.asarray(edges, dtype=np.float64), v, side="right").astype(np.int8)
    if not ascending:
        lev = (len(edges) - lev).astype(np.int8)
    lev[np.isnan(v)] = -1
    return lev


class FellegiSunter:
    """Fellegi-Sunter latent-class model over discrete comparison levels, fitted by EM.

    ``n_classes=2`` is the classic model (match / non-match). With more
    classes (default 3) the non-matches may split into several latent
    classes, e.g. *same household* (agree on surname and every address
    field, disagree on given name, birth date and number) next to
    *unrelated neighbours*: with only two classes, conditional independence
    lets the many correlated address agreements outvote the few identifying
    disagreements and EM can converge to "same address" as the match class.
    The match class is the class with the highest mean probability of the
    best level over the features; ``m`` is its level distribution, ``u`` the
    others' mixture.

    Parameters
    ----------
    n_levels : list of int
        Levels of each feature.
    n_classes : int, default 3
        Latent classes (>= 2).
    max_iter : int, default 100
        EM iterations at most.
    tol : float, default 1e-6
        Stop when the log-likelihood changes by less than ``tol`` (relative).
    pseudo_count : float, default 0.5
        Dirichlet pseudo-count added to every level count.

    Attributes
    ----------
    pi_ : ndarray of shape (n_classes,)
        Class shares.
    theta_ : list of list of ndarray
        ``theta_[c][f]``: level distribution of feature ``f`` in class ``c``.
    match_class_ : int
    m_, u_ : list of ndarray
        Level distributions of the match class and of the others' mixture.
    lambda_ : float
        Share of the match class.
    n_iter_ : int

    Shapes
    ------
    ``levels``: int8 (n_pairs, n_features), -1 = missing.
    """

    def __init__(self, n_levels: list[int], *, n_classes: int = 3, max_iter: int = 100,
                 tol: float = 1e-6, pseudo_count: float = 0.5) -> None:
        self.n_levels = [int(n) for n in n_levels]
        self.n_classes = int(n_classes)
        self.max_iter = max_iter
        self.tol = tol
        self.pseudo_count = pseudo_count

    @staticmethod
    def _compress(levels: np.ndarray):
        pat, counts = np.unique(levels, axis=0, return_counts=True)
        return pat, counts.astype(np.float64)

    def _probs(self, pat: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
        out = []
        for f, nl in enumerate(self.n_levels):
            lev = pat[:, f]
            ok = lev >= 0
            c = np.bincount(lev[ok], weights=w[ok], minlength=nl) + self.pseudo_count
            out.append(c / c.sum())
        return out

    def _init_m(self) -> list[np.ndarray]:
        out = []
        for nl in self.n_levels:
            p = np.full(nl, 0.1 / max(nl - 1, 1))
            p[-1] = 0.9
            out.append(p / p.sum())
        return out

    def _flat_index(self, pat: np.ndarray) -> np.ndarray:
        """(n_patterns, n_features) positions into the features' levels laid end to end; a
        missing level points at one extra slot past the end (log-probability 0: no evidence)."""
        off = np.concatenate([[0], np.cumsum(self.n_levels)[:-1]]).astype(np.int64)
        idx = pat.astype(np.int64) + off[None, :]
        idx[pat < 0] = int(sum(self.n_levels))
        return idx

    def _flat_log_theta(self) -> np.ndarray:
        """(n_classes, total levels + 1) log-probabilities, the last column 0 (missing)."""
        out = np.zeros((self.n_classes, sum(self.n_levels) + 1))
        for c in range(self.n_classes):
            out[c, :-1] = np.log(np.concatenate(self.theta_[c]))
        return out

    def _class_loglik(self, pat: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """(n_patterns, n_classes) log P(levels | class) + log prior."""
        if idx is None:
            idx = self._flat_index(pat)
        lt = self._flat_log_theta()
        return lt[:, idx].sum(axis=2).T + np.log(self.pi_)[None, :]

    def _m_step(self, idx: np.ndarray, wg: np.ndarray) -> list[list[np.ndarray]]:
        """Level distributions of every class from the pattern weights ``wg`` (n_patterns, n_classes)."""
        nf = idx.shape[1]
        total = sum(self.n_levels)
        flat = idx.ravel()
        bounds = np.cumsum([0, *self.n_levels])
        out = []
        for c in range(wg.shape[1]):
            cnt = np.bincount(flat, weights=np.repeat(wg[:, c], nf), minlength=total + 1)[:total]
            cnt = cnt + self.pseudo_count
            out.append([cnt[bounds[f]:bounds[f + 1]] / cnt[bounds[f]:bounds[f + 1]].sum()
                        for f in range(nf)])
        return out

    def fit(self, levels: np.ndarray, random_levels: np.ndarray | None = None,
            lambda_init: float = 0.1) -> FellegiSunter:
        """Fit by EM.

        Parameters
        ----------
        levels : int8 ndarray of shape (n_pairs, n_features)
            Levels of the candidate pairs.
        random_levels : int8 ndarray of shape (n_random, n_features), optional
            Levels of random pairs: the u distributions' start (uniform without them).
        lambda_init : float, default 0.1
            Starting share of the match class.

        Returns
        -------
        self : FellegiSunter
        """
        pat, cnt = self._compress(levels)
        if random_levels is not None and len(random_levels):
            rp, rc = self._compress(random_levels)
            u0 = self._probs(rp, rc)
        else:
            u0 = [np.full(nl, 1.0 / nl) for nl in self.n_levels]
        m0 = self._init_m()
        k = self.n_classes
        self.theta_ = []
        for c in range(k):
            t = 1.0 - c / (k - 1)  # class 0 = match-like, the last = random pairs
            self.theta_.append([t * m + (1 - t) * u for m, u in zip(m0, u0, strict=True)])
        rest = (1.0 - lambda_init) / (k - 1)
        self.pi_ = np.array([lambda_init] + [rest] * (k - 1))
        idx = self._flat_index(pat)
        prev = -np.inf
        self.n_iter_ = 0
        for it in range(self.max_iter):
            ll = self._class_loglik(pat, idx)
            mx = ll.max(axis=1)
            e = np.exp(ll - mx[:, None])
            se = e.sum(axis=1)
            tot = mx + np.log(se)
            g = e / se[:, None]
            wg = cnt[:, None] * g
            self.theta_ = self._m_step(idx, wg)
            self.pi_ = np.clip(wg.sum(0) / cnt.sum(), 1e-9, None)
            self.pi_ /= self.pi_.sum()
            cur = float((cnt * tot).sum())
            self.n_iter_ = it + 1
            if abs(cur - prev) <= self.tol * max(1.0, abs(cur)):
                break
            prev = cur
        self.log_likelihood_ = prev
        self._finish()
        return self

    def _finish(self) -> None:
        top = [np.mean([p[-1] for p in th]) for th in self.theta_]
        self.match_class_ = int(np.argmax(top))
        self.m_ = self.theta_[self.match_class_]
        others = [c for c in range(self.n_classes) if c != self.match_class_]
        w = self.pi_[others] / self.pi_[others].sum()
        self.u_ = [sum(w[i] * self.theta_[c][f] for i, c in enumerate(others))
                   for f in range(len(self.n_levels))]
        self.lambda_ = float(self.pi_[self.match_class_])

    def log_odds(self, levels: np.ndarray) -> np.ndarray:
        """log P(match class | levels) - log P(other classes | levels)."""
        if len(levels) == 0:
            return np.zeros(0)
        pat, inv = np.unique(levels, axis=0, return_inverse=True)
        ll = self._class_loglik(pat)
        mc = self.match_class_
        other = np.logaddexp.reduce(np.delete(ll, mc, axis=1), axis=1)
        return (ll[:, mc] - other)[inv.ravel()]

    def predict_proba(self, levels: np.ndarray) -> np.ndarray:
        """Match probability (float64, shape (n_pairs,)) of each row of ``levels``."""
        lo = self.log_odds(levels)
        return 1.0 / (1.0 + np.exp(-np.clip(lo, -50, 50)))

    def state(self) -> dict:
        """The fitted parameters as JSON types (:meth:`from_state` reads them back)."""
        return {"n_levels": self.n_levels, "n_classes": self.n_classes, "pi": self.pi_.tolist(),
                "theta": [[p.tolist() for p in th] for th in self.theta_], "n_iter": self.n_iter_}

    @classmethod
    def from_state(cls, s: dict) -> FellegiSunter:
        """A fitted model from :meth:`state`'s dict."""
        self = cls(s["n_levels"], n_classes=s["n_classes"])
        self.pi_ = np.asarray(s["pi"])
        self.theta_ = [[np.asarray(p) for p in th] for th in s["theta"]]
        self.n_iter_ = int(s["n_iter"])
        self._finish()
        return self


class TreeEnsemble:
    """Boosted trees as flat arrays (exported from HistGradientBoostingClassifier).

    Arrays (one row per node over all trees): ``feature`` int64, ``threshold``
    float64, ``missing_left`` bool, ``left``/``right`` int64 (global node
    ids), ``is_leaf`` bool, ``value`` float64; ``roots`` int64 (one per tree);
    ``baseline`` float.
    """

    def __init__(self, arrays: dict, baseline: float) -> None:
        self.arrays = arrays
        self.baseline = float(baseline)

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, random_state: int, **params) -> TreeEnsemble:
        """Train a HistGradientBoostingClassifier and export its trees.

        Parameters
        ----------
        X : ndarray of shape (n_pairs, n_features)
            NaN = missing (handled by the trees).
        y : ndarray of shape (n_pairs,)
            0/1 labels.
        random_state : int
        **params
            HistGradientBoostingClassifier parameters.

        Returns
        -------
        TreeEnsemble
            With ``sklearn_model_``, the trained classifier (not saved).

        Raises
        ------
        RuntimeError
            When the classifier made a categorical split (never with numeric features).
        """
        from sklearn.ensemble import HistGradientBoostingClassifier

        hgb = HistGradientBoostingClassifier(random_state=random_state, **params).fit(X, y)
        feats, thr, ml, left, right, leaf, val, roots = [], [], [], [], [], [], [], []
        off = 0
        for it in hgb._predictors:  # one predictor per iteration (binary problem)
            nodes = it[0].nodes
            if nodes["is_categorical"].any():
                raise RuntimeError("categorical splits are not supported")
            roots.append(off)
            feats.append(nodes["feature_idx"].astype(np.int64))
            thr.append(nodes["num_threshold"].astype(np.float64))
            ml.append(nodes["missing_go_to_left"].astype(bool))
            left.append(nodes["left"].astype(np.int64) + off)
            right.append(nodes["right"].astype(np.int64) + off)
            leaf.append(nodes["is_leaf"].astype(bool))
            val.append(nodes["value"].astype(np.float64))
            off += len(nodes)
        arrays = {"feature": np.concatenate(feats), "threshold": np.concatenate(thr),
                  "missing_left": np.concatenate(ml), "left": np.concatenate(left),
                  "right": np.concatenate(right), "is_leaf": np.concatenate(leaf),
                  "value": np.concatenate(val), "roots": np.array(roots, dtype=np.int64)}
        base = float(np.ravel(hgb._baseline_prediction)[0])
        self = cls(arrays, base)
        self.sklearn_model_ = hgb
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds, float64 of shape (n_pairs,)): the trees walked in numpy."""
        a = self.arrays
        X = np.asarray(X, dtype=np.float64)
        raw = np.full(len(X), self.baseline)
        rows = np.arange(len(X))
        for root in a["roots"]:
            node = np.full(len(X), root, dtype=np.int64)
            while True:
                active = ~a["is_leaf"][node]
                if not active.any():
                    break
                nd = node[active]
                x = X[rows[active], a["feature"][nd]]
                go_left = np.where(np.isnan(x), a["missing_left"][nd], x <= a["threshold"][nd])
                node[active] = np.where(go_left, a["left"][nd], a["right"][nd])
            raw += a["value"][node]
        return raw

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Match probability (float64, shape (n_pairs,))."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(X)))
