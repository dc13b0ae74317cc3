"""A trained classifier over windows of a message: the triage layer that reads meaning, not phrases.

Lexicons miss phrasings nobody listed; the sentence embedding model EduBot
already loads places "my leg is all fat and sore and now i cant catch my
breath" near other emergencies whatever the words. Two logistic regressions
(urgent / not, personal advice / not) read every window of the message (one or
a few neighbouring sentences), so an emergency buried in a long post is scored
on its own; the message scores its highest window. A window's features are its
embedding and which lexicon concepts it states of now (fever, a fall, a
steroid... not negated, not past), whether or not a rule combined them: the
regression learns combinations the rules do not spell out.

Weights are trained by ``edubot triage-train`` on the dev split of the triage
bank (``eval/triage/dev.jsonl``) plus hard negatives, and stored in
``classifier.json`` beside this module with what they were trained on.
Inference is a dot product in NumPy: nothing from scikit-learn is imported to
answer a question.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .lexicon import FRAMING, WINDOW_CHARS, Lexicon, windows
from .text import fold, mark_facts, sentences

LABELS = ("urgent", "advice")
CLASSIFIER_FILE = "classifier.json"
Encode = Callable[[list[str]], np.ndarray]
CONCEPT_SCALE = 0.5  # concept flags beside unit-length embeddings


def concept_names(lexicon: Lexicon) -> tuple[str, ...]:
    """The concepts that describe content (framing concepts such as "past" are read by the rules only)."""
    return tuple(sorted(c for c in lexicon.concepts if c not in FRAMING))


def features(windows_: Sequence[str], encode: Encode, lexicon: Lexicon, concepts: Sequence[str]) -> np.ndarray:
    """Embedding of each window beside its concept flags."""
    vectors = encode(list(windows_))
    flags = CONCEPT_SCALE * np.asarray([lexicon.stated(mark_facts(fold(w)), concepts) for w in windows_],
                                       dtype=np.float32).reshape(len(windows_), len(concepts))
    return np.hstack([vectors, flags]) if len(windows_) else np.zeros((0, vectors.shape[1] + len(concepts)), np.float32)


def message_windows(text: str, max_chars: int = WINDOW_CHARS, limit: int = 64) -> list[str]:
    """The windows a message is read in: the whole message when short, else runs of neighbouring sentences."""
    sents = sentences(text) or [text]
    out = [" ".join(sents[a:b]) for a, b in windows([len(s) for s in sents], max_chars)]
    return out[:limit]


@dataclass(frozen=True)
class WindowClassifier:
    """Logistic regressions over window embeddings, one per label, with the thresholds chosen on dev."""

    weights: np.ndarray  # (labels, dim + concepts)
    bias: np.ndarray  # (labels,)
    thresholds: dict[str, float]
    concepts: tuple[str, ...] = ()  # the lexicon concepts whose flags follow the embedding, in order
    meta: dict = field(default_factory=dict)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """P(label) for each window: (windows, labels)."""
        z = vectors @ self.weights.T + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def scores(self, text: str, encode: Encode, lexicon: Lexicon) -> dict[str, float]:
        """Each label's highest window probability for the message."""
        vectors = features(message_windows(text), encode, lexicon, self.concepts)
        if len(vectors) == 0:
            return {label: 0.0 for label in LABELS}
        best = self.probabilities(vectors).max(axis=0)
        return {label: float(best[i]) for i, label in enumerate(LABELS)}

    def fires(self, scores: dict[str, float]) -> list[str]:
        return [label for label in LABELS if scores[label] >= self.thresholds[label]]

    def to_json(self) -> dict:
        return {"labels": list(LABELS), "weights": np.round(self.weights, 7).tolist(),
                "bias": np.round(self.bias, 7).tolist(), "thresholds": self.thresholds, "concepts": list(self.concepts),
                "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict) -> WindowClassifier:
        if data.get("labels") != list(LABELS):
            raise ValueError(f"classifier labels {data.get('labels')} are not {list(LABELS)}")
        return cls(np.asarray(data["weights"], dtype=np.float32), np.asarray(data["bias"], dtype=np.float32),
                   {k: float(v) for k, v in data["thresholds"].items()}, tuple(data.get("concepts", ())), data.get("meta", {}))


def load_classifier(path: Path | None = None, name: str = CLASSIFIER_FILE) -> WindowClassifier | None:
    """The stored classifier (``name`` beside this module, or ``path``), or None when none has been
    trained (the lexicon layers still run)."""
    try:
        if path is None:
            text = resources.files("edubot.safety").joinpath(name).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    return WindowClassifier.from_json(json.loads(text))


# ---------------------------------------------------------------- training

def bank_hash(texts: Sequence[str], labels: Sequence[Sequence[int]]) -> str:
    h = hashlib.sha256()
    for t, y in zip(texts, labels):
        h.update(t.encode("utf-8") + b"\x00" + bytes(list(y)) + b"\x01")
    return h.hexdigest()[:16]


def training_windows(texts: Sequence[str], labels: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Windows to train on, with labels and the message each came from.

    A short message is one window with its labels. A long message that is
    not urgent gives every window as a negative (no part of it is urgent); a
    long urgent one gives only its whole text, since which window holds the
    emergency is not labelled.
    """
    out: list[str] = []
    ys: list[np.ndarray] = []
    owner: list[int] = []
    for i, (text, y) in enumerate(zip(texts, labels)):
        parts = message_windows(text)
        if len(parts) == 1 or y.any():
            parts = [text]
        for p in parts:
            out.append(p)
            ys.append(y)
            owner.append(i)
    return out, np.asarray(ys), np.asarray(owner)


def fit(vectors: np.ndarray, labels: np.ndarray, c: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """One balanced logistic regression per label (scikit-learn, imported only here)."""
    from sklearn.linear_model import LogisticRegression

    weights, bias = [], []
    for j in range(labels.shape[1]):
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        model.fit(vectors, labels[:, j])
        weights.append(model.coef_[0])
        bias.append(model.intercept_[0])
    return np.asarray(weights, dtype=np.float32), np.asarray(bias, dtype=np.float32)


def cross_validated_scores(texts: Sequence[str], labels: np.ndarray, featurize: Callable[[list[str]], np.ndarray],
                           folds: int = 5, c: float = 1.0, seed: int = 0) -> np.ndarray:
    """Each message's highest-window probability from a model that did not see it: (messages, labels)."""
    wins, ys, owner = training_windows(texts, labels)
    vectors = featurize(wins)
    all_windows = [message_windows(t) for t in texts]
    flat = [w for ws in all_windows for w in ws]
    flat_owner = np.asarray([i for i, ws in enumerate(all_windows) for _ in ws])
    flat_vectors = featurize(flat)
    rng = np.random.default_rng(seed)
    fold_of = rng.integers(0, folds, size=len(texts))
    out = np.zeros((len(texts), labels.shape[1]))
    for f in range(folds):
        train = fold_of[owner] != f
        w, b = fit(vectors[train], ys[train], c)
        test_rows = np.where(fold_of[flat_owner] == f)[0]
        probs = 1.0 / (1.0 + np.exp(-(flat_vectors[test_rows] @ w.T + b)))
        for row, p in zip(test_rows, probs):
            out[flat_owner[row]] = np.maximum(out[flat_owner[row]], p)
    return out


def choose_threshold(scores: np.ndarray, caught: np.ndarray, negative_pool: np.ndarray,
                     max_false_alarms: float, floor: float = 0.5) -> float:
    """The lowest threshold at which the classifier adds at most ``max_false_alarms`` false alarms in
    ``negative_pool`` to those the rules already raise; lower thresholds catch more.

    ``caught`` marks messages the rule layers already flag. Only the classifier's own additions count
    against its budget: a bank rich in messages the rules flag by design (an exam question about suicide
    gets the crisis reply) must not switch the classifier off.
    """
    candidates = sorted(set(np.round(scores, 4).tolist()) | {0.5, 0.99})
    best = 0.99
    added_pool = negative_pool & ~caught
    for t in reversed(candidates):
        false_alarms = ((scores >= t) & added_pool).sum() / max(1, negative_pool.sum())
        if false_alarms > max_false_alarms:
            break
        best = t
    return float(max(best, floor))


def train_classifier(texts: Sequence[str], labels: np.ndarray, caught: np.ndarray, answerable: np.ndarray,
                     encode: Encode, lexicon: Lexicon, meta: dict, max_false_alarms: float = 0.02, c: float = 4.0,
                     folds: int = 5) -> tuple[WindowClassifier, np.ndarray]:
    """Fit on every message; thresholds from cross-validated scores so they reflect unseen messages.

    ``labels`` is (messages, 2) for urgent and advice, ``caught`` the same shape for what the rule layers
    flag, ``answerable`` marks general questions the corpus answers: the pool whose false alarms are
    bounded by ``max_false_alarms`` (a question that deserves an answer must get one).
    Returns the classifier and the cross-validated scores.
    """
    concepts = concept_names(lexicon)
    cache: dict[str, np.ndarray] = {}

    def featurize(windows_: list[str]) -> np.ndarray:
        todo = [w for w in dict.fromkeys(windows_) if w not in cache]
        if todo:
            cache.update(zip(todo, features(todo, encode, lexicon, concepts)))
        return np.vstack([cache[w] for w in windows_])

    cv = cross_validated_scores(texts, labels, featurize, folds=folds, c=c)
    thresholds = {}
    for j, label in enumerate(LABELS):
        pool = answerable & ~labels[:, j].astype(bool)
        thresholds[label] = round(choose_threshold(cv[:, j], caught[:, j].astype(bool),
                                                   pool, max_false_alarms), 4)
    wins, ys, _ = training_windows(texts, labels)
    weights, bias = fit(featurize(wins), ys, c)
    meta = {**meta, "messages": len(texts), "windows": len(wins), "bank": bank_hash(texts, labels.tolist()),
            "max_false_alarms": max_false_alarms, "C": c}
    return WindowClassifier(weights, bias, thresholds, concepts, meta), cv
