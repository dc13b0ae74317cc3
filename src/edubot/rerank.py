"""A learned second look at the first rows of a ranking (``Searcher.order``'s last step).

The fused score and its intent bonuses put a relevant passage in the first
five for most questions but often not first: a page's neighbouring passage, or
a study's methods before its results. The reranker reads what the ranking
already knows about each of the first ``depth`` rows (its fused score and rank,
cosine and BM25 against the question's best, its document's title scores, the
intent readings, how much of the question's wording it holds, where it sits in
its document, its source type, and how its document ranks) and orders them by
a logistic model's probability that the row is one a reader would quote first.

The model is learned on the question set's **dev** split only
(``scripts/train_reranker.py``: every passage holding a labelled answer is a
positive), cross-validated there before it ships; test is never read. It
applies to the corpus it was learned on (``reranker_for_corpus``). It is a
linear model on purpose: two hundred questions do not support more, and a few
dozen weights can be read (``edubot`` ships them as JSON, no pickle).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .index import bm25_tokens

RERANKER_FILE = Path(__file__).with_name("reranker.json")
SOURCE_TYPES = ("research", "abstract", "patient_education", "marketing")
FEATURES = (
    "score", "score_gap", "log_rank", "dense", "dense_gap", "bm25_share", "log_dense_rank", "log_bm25_rank",
    "answer", "definition", "kind", "title_dense", "title_bm25",
    *(f"source_{t}" for t in SOURCE_TYPES),
    "log_position", "first_of_document", "log_length", "coverage", "weighted_coverage",
    "document_rank", "rows_of_document_above", "document_gap", "question_words", "expects_answer", "asks_definition",
    "best_dense",
)
UNRANKED = 300  # the rank given to a row a system did not return


class Rows(NamedTuple):
    """The first rows of a ranking, best first, with what the ranking read of each (arrays of equal length)."""

    rows: np.ndarray
    scores: np.ndarray
    dense: np.ndarray
    bm25: np.ndarray
    dense_rank: np.ndarray
    bm25_rank: np.ndarray
    answer: np.ndarray
    definition: np.ndarray
    kind: np.ndarray
    title_dense: np.ndarray
    title_bm25: np.ndarray


class Question(NamedTuple):
    """What the reranker reads of the question itself."""

    tokens: Sequence[str]
    expects_answer: bool
    asks_definition: bool
    best_dense: float
    best_bm25: float


@dataclass
class RowFacts:
    """Per-row facts of a corpus the reranker reads: word sets, inverse document frequencies, each row's
    place in its document and its document's source type. Built once per searcher."""

    text_of: Callable[[int], str]
    owner: np.ndarray
    source_type_of: Callable[[int], str]  # a document number → its source type ("" when the corpus has none)
    stem: bool = True
    position: np.ndarray = field(init=False)
    idf: dict[str, float] = field(init=False)
    words: Callable[[int], frozenset[str]] = field(init=False)  # a row's BM25 words, read once

    def __post_init__(self) -> None:
        seen: Counter[int] = Counter()
        position = np.zeros(len(self.owner), dtype=np.int64)
        for row, doc in enumerate(self.owner.tolist()):
            position[row] = seen[doc]
            seen[doc] += 1
        self.position = position
        self.words = lru_cache(maxsize=None)(self._words)
        df: Counter[str] = Counter()
        for row in range(len(self.owner)):
            df.update(self.words(row))
        n = len(self.owner)
        self.idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}

    def _words(self, row: int) -> frozenset[str]:
        return frozenset(bm25_tokens(self.text_of(row), self.stem))


def features(r: Rows, q: Question, facts: RowFacts) -> np.ndarray:
    """One row of ``FEATURES`` per ranked row."""
    asked = set(q.tokens)
    asked_weight = sum(facts.idf.get(w, 0.0) for w in asked) or 1.0
    top = float(r.scores[0]) if len(r.scores) else 1.0
    documents: dict[int, tuple[int, float, int]] = {}  # document → (its rank, its best score, its rows so far)
    out = []
    for i, row in enumerate(r.rows.tolist()):
        doc = int(facts.owner[row])
        score = float(r.scores[i])
        rank, best, above = documents.setdefault(doc, (len(documents), score, 0))
        documents[doc] = (rank, best, above + 1)
        words = facts.words(row)
        shared = asked & words
        dense = float(np.nan_to_num(r.dense[i]))
        source = facts.source_type_of(doc)
        position = int(facts.position[row])
        out.append([
            score, score - top, math.log1p(i), dense, dense - q.best_dense, float(r.bm25[i]) / (q.best_bm25 or 1.0),
            math.log1p(int(r.dense_rank[i]) or UNRANKED), math.log1p(int(r.bm25_rank[i]) or UNRANKED),
            float(r.answer[i]), float(r.definition[i]), float(r.kind[i]),
            float(np.nan_to_num(r.title_dense[i])), float(r.title_bm25[i]),
            *(float(source == t) for t in SOURCE_TYPES),
            math.log1p(position), float(position == 0), math.log1p(len(facts.text_of(row))),
            len(shared) / (len(asked) or 1), sum(facts.idf.get(w, 0.0) for w in shared) / asked_weight,
            rank, above, best - score, len(asked), float(q.expects_answer), float(q.asks_definition), q.best_dense,
        ])
    return np.asarray(out, dtype=np.float64).reshape(len(out), len(FEATURES))


@dataclass(frozen=True)
class Reranker:
    """A standardised logistic model over ``FEATURES``, applied to a ranking's first ``depth`` rows."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    depth: int = 20
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale) @ np.asarray(self.weights) + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def order(self, scores: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The new order of all rows (indices into ``scores``, which are best first) and their scores.

        The first ``len(x)`` rows go by probability; the rows below keep their order. Each row keeps its own
        fused score, capped at the score of the row above it, so scores still fall down the list: the quote
        floor and the order of groups read them, and a row the model lifts brings no score it did not earn.
        (Scaling the probabilities instead dropped about one quote per answer under the floor on dev, and
        marketing filled the freed places.)
        """
        k = len(x)
        if k == 0:
            return np.arange(len(scores)), scores
        first = np.argsort(-self.probabilities(x), kind="stable")
        head = np.minimum.accumulate(scores[:k][first])
        tail = np.minimum(scores[k:], head[-1])
        return np.concatenate([first, np.arange(k, len(scores))]), np.concatenate([head, tail])

    def to_json(self) -> dict:
        return {"features": list(FEATURES), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias, "depth": self.depth, "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict) -> Reranker:
        """A reranker from JSON; one written for other features is an error, not a silent misreading."""
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError("the reranker was learned on other features; relearn it (scripts/train_reranker.py)")
        n = len(FEATURES)
        mean, scale, weights = (tuple(float(v) for v in data[k]) for k in ("mean", "scale", "weights"))
        if not len(mean) == len(scale) == len(weights) == n:
            raise ValueError(f"the reranker needs {n} means, scales and weights")
        return cls(mean, scale, weights, float(data["bias"]), int(data.get("depth", 20)), dict(data.get("meta", {})))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> Reranker:
        return cls.from_json(json.loads(path.read_text()))


def fit(blocks: Sequence[np.ndarray], labels: Sequence[np.ndarray], depth: int, c: float = 0.3,
        meta: dict | None = None) -> Reranker:
    """Learn a reranker from questions' feature blocks and 0/1 labels (questions with no positive row teach
    nothing about order and are left out). Classes are balanced: a question has few quotable rows."""
    from sklearn.linear_model import LogisticRegression

    keep = [i for i, y in enumerate(labels) if np.asarray(y).any()]
    if not keep:
        raise ValueError("no question has a labelled row among its first rows")
    x = np.vstack([blocks[i] for i in keep])
    y = np.concatenate([np.asarray(labels[i]) for i in keep])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit((x - mean) / scale, y)
    return Reranker(tuple(mean.tolist()), tuple(scale.tolist()), tuple(model.coef_[0].tolist()),
                    float(model.intercept_[0]), depth, dict(meta or {}))


_SHIPPED: list[Reranker | None] = []


def shipped_reranker() -> Reranker | None:
    """The bundled reranker (``reranker.json``), None when there is none."""
    if not _SHIPPED:
        _SHIPPED.append(Reranker.load(RERANKER_FILE) if RERANKER_FILE.exists() else None)
    return _SHIPPED[0]


def reranker_for_corpus(corpus_hash: str | None) -> Reranker | None:
    """The shipped reranker when it was learned on this corpus (same content hash), else None.

    Its features would read any corpus, but its weights were learned on one: on another corpus nobody has
    measured it, so that corpus keeps the fused order (as it keeps the unmapped question, ``querymap``).
    """
    r = shipped_reranker()
    return r if r is not None and corpus_hash and r.meta.get("corpus_hash") == corpus_hash else None
