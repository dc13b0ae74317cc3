"""Question kinds: what kind of answer a question asks for, and what kind of answer a passage gives.

Patient pages answer one topic in sections (what it is, its symptoms, causes,
treatment, outlook, how common it is, whether it is inherited...), and every
section of a page is about the same condition. A question names the condition
and the kind of answer it wants; the dense model and BM25 find the condition
but rank its sections by little more than chance: on MedQuAD's dev split
(NIH patient pages), 196 of the 227 questions whose first document was wrong
had a section of the right page first, just not the one asked for.

Two logistic regressions over the MiniLM vectors the search already holds read
the kind of a question and of each candidate passage; their agreement (the
probability that both are of the same kind) is a score the ``Searcher`` adds
with the corpus's ``kind_bonus`` weight. They are learned from a labelled
benchmark whose questions carry their kind (MedQuAD's ``qtype``: the kind of
each dev question, and the same kind for the passages that answer it) by
``scripts/train_kinds.py``, and shipped as ``kinds.json`` beside this module.
No question or passage text is stored in it, only the two models' weights.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

KINDS_FILE = "kinds.json"


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class KindModel:
    """Multinomial logistic regressions: question vector → kind, passage vector → kind (same labels, same order)."""

    labels: tuple[str, ...]
    question_weights: np.ndarray  # (kinds, dim)
    question_bias: np.ndarray  # (kinds,)
    passage_weights: np.ndarray  # (kinds, dim)
    passage_bias: np.ndarray  # (kinds,)
    meta: dict = field(default_factory=dict)

    def question(self, vector: np.ndarray) -> np.ndarray:
        """P(kind) of one question vector: (kinds,)."""
        return _softmax(np.asarray(vector, dtype=np.float32) @ self.question_weights.T + self.question_bias)

    def passages(self, vectors: np.ndarray) -> np.ndarray:
        """P(kind) of each passage vector: (passages, kinds)."""
        return _softmax(np.asarray(vectors, dtype=np.float32) @ self.passage_weights.T + self.passage_bias)

    def agreement(self, question: np.ndarray, passages: np.ndarray) -> np.ndarray:
        """For each passage, the probability that it and the question are of the same kind (0 to 1)."""
        if len(passages) == 0:
            return np.zeros(0)
        return (self.passages(passages) @ self.question(question)).astype(np.float64)

    def to_json(self) -> dict:
        return {"labels": list(self.labels),
                "question_weights": np.round(self.question_weights, 6).tolist(),
                "question_bias": np.round(self.question_bias, 6).tolist(),
                "passage_weights": np.round(self.passage_weights, 6).tolist(),
                "passage_bias": np.round(self.passage_bias, 6).tolist(),
                "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict) -> KindModel:
        labels = tuple(str(x) for x in data["labels"])
        arrays = [np.asarray(data[k], dtype=np.float32)
                  for k in ("question_weights", "question_bias", "passage_weights", "passage_bias")]
        qw, qb, pw, pb = arrays
        if qw.shape != pw.shape or qw.shape[0] != len(labels) or qb.shape != (len(labels),) or pb.shape != qb.shape:
            raise ValueError("kind model: weight shapes do not match its labels")
        return cls(labels, qw, qb, pw, pb, dict(data.get("meta", {})))


def train_kinds(question_vectors: np.ndarray, question_kinds: Sequence[str], passage_vectors: np.ndarray,
                passage_kinds: Sequence[str], c: float = 4.0, meta: dict | None = None) -> KindModel:
    """Fit both regressions. Every kind must occur among the questions and among the passages."""
    from sklearn.linear_model import LogisticRegression

    labels = tuple(sorted(set(question_kinds)))
    if set(passage_kinds) != set(labels):
        raise ValueError("kind model: the questions and the passages must carry the same kinds")
    if len(labels) < 2:
        raise ValueError("kind model: at least two kinds are needed")
    index = {k: i for i, k in enumerate(labels)}

    def fit(x: np.ndarray, kinds: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        model = LogisticRegression(C=c, max_iter=3000).fit(x, [index[k] for k in kinds])
        coef, intercept = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
        if len(labels) == 2:  # one row for two classes: the second's log-odds; softmax of (0, z) is the same
            return np.vstack([np.zeros_like(coef), coef]), np.concatenate([np.zeros(1, np.float32), intercept])
        return coef, intercept

    qw, qb = fit(np.asarray(question_vectors), question_kinds)
    pw, pb = fit(np.asarray(passage_vectors), passage_kinds)
    return KindModel(labels, qw, qb, pw, pb, dict(meta or {}))


def load_kinds(path: Path | None = None) -> KindModel | None:
    """The shipped kind model (or the one at ``path``); None when there is none (the ranking then reads no kinds)."""
    try:
        text = (resources.files("edubot").joinpath(KINDS_FILE).read_text(encoding="utf-8") if path is None
                else Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError):
        return None
    return KindModel.from_json(json.loads(text))


@lru_cache(maxsize=1)
def shipped_kinds() -> KindModel | None:
    return load_kinds()
