"""Fusing several systems' scores for one query's candidates into one score.

One function per method, as in ranx (``rrf``, ``minmax``, ``zscore``), chosen once
per corpus from an Enum, as Haystack's ``JoinMode``. Every function takes the
candidates' scores as aligned columns, one per system (``nan`` where a system
has no score for a candidate), and a weight per column, and returns one fused
score per candidate. Callers rank by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

import numpy as np


class Candidates(NamedTuple):
    """One system's results for one query, best first (as bm25s's ``Results``)."""

    rows: np.ndarray  # int64 row numbers of the index
    scores: np.ndarray  # float32, same length


def no_candidates() -> Candidates:
    return Candidates(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


class Fusion(str, Enum):
    """How the systems' scores are joined (chosen once per corpus; see README "Retrieval")."""

    RRF = "rrf"  # reciprocal rank fusion (Cormack, Clarke & Büttcher 2009): ranks only
    MINMAX = "minmax"  # weighted sum of min-max normalised scores (CombSUM)
    ZSCORE = "zscore"  # weighted sum of z-scores

    def fuse(self, columns: Sequence[np.ndarray], weights: Sequence[float], rrf_k: float = 60.0) -> np.ndarray:
        if self is Fusion.RRF:
            return rrf(columns, weights, rrf_k)
        if self is Fusion.MINMAX:
            return minmax(columns, weights)
        return zscore(columns, weights)


def _columns(columns: Sequence[np.ndarray], weights: Sequence[float]) -> list[tuple[np.ndarray, float]]:
    if len(columns) != len(weights):
        raise ValueError(f"{len(columns)} score columns but {len(weights)} weights")
    return [(np.asarray(c, dtype=np.float64), float(w)) for c, w in zip(columns, weights) if w != 0.0]


def _size(columns: Sequence[np.ndarray]) -> int:
    return len(columns[0]) if len(columns) else 0


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each candidate by descending score, ties in the order given; ``nan`` ranks nowhere (``inf``)."""
    scores = np.asarray(scores, dtype=np.float64)
    out = np.full(len(scores), np.inf)
    present = np.flatnonzero(~np.isnan(scores))
    order = present[np.argsort(-scores[present], kind="stable")]
    out[order] = np.arange(1, len(order) + 1)
    return out


def rrf(columns: Sequence[np.ndarray], weights: Sequence[float], k: float = 60.0) -> np.ndarray:
    """Σ w / (k + rank): a candidate a system did not score adds nothing for that system."""
    out = np.zeros(_size(columns))
    for col, w in _columns(columns, weights):
        out += w / (k + ranks(col))
    return out


def minmax(columns: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Σ w · (s − min) / (max − min) over the candidates; a missing score counts as the minimum.

    A column whose scores are all equal tells the candidates nothing apart and adds nothing.
    """
    out = np.zeros(_size(columns))
    for col, w in _columns(columns, weights):
        present = ~np.isnan(col)
        if not present.any():
            continue
        lo, hi = col[present].min(), col[present].max()
        if hi - lo < 1e-12:
            continue
        out += w * np.where(present, (col - lo) / (hi - lo), 0.0)
    return out


def zscore(columns: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Σ w · (s − mean) / std over the candidates; a missing score counts as the lowest one present."""
    out = np.zeros(_size(columns))
    for col, w in _columns(columns, weights):
        present = ~np.isnan(col)
        if not present.any():
            continue
        filled = np.where(present, col, col[present].min())
        std = filled.std()
        if std < 1e-12:
            continue
        out += w * (filled - filled.mean()) / std
    return out
