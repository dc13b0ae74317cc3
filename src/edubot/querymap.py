"""A corpus's query map: a linear map of question vectors learned from that corpus's judged questions.

MiniLM was trained on general web text; a benchmark whose questions are short
topics and whose documents are medical abstracts (NFCorpus: "vitamin d", "heart
health") asks it to bridge a gap it was not trained on. A square matrix ``W``
applied to each question vector (then normalised again), started at the
identity and kept close to it, learns that bridge from the corpus's own judged
questions without touching the indexed vectors: the index, BM25 and every other
score stay as they are, and the question is read once, as before.

It is learned with a listwise loss over the whole corpus (a document scores its
best window's cosine; the loss is the cross-entropy between the judged grades
and the softmax of those scores), so every document is a negative, not only
those the unmapped search found: with negatives from the search's own
candidates alone the map learned to move questions where nothing had been
judged (dev nDCG@10 fell from 0.31 to 0.03).

Two kinds of judged questions teach one: a benchmark's training split
(``scripts/tune_beir.py --query-map-from train``, saved beside its ranking
settings), and for the bundled corpus the dev banks' answerable messages, each
naming the file that answers it (``scripts/train_querymap.py``, shipped as
``querymap.npz`` beside this module). A map knows the documents it was learned
against and no others, so the product applies the shipped one only to the corpus
it was learned on (the same corpus hash); any other corpus is read unmapped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

QUERY_MAP_FILE = "querymap.npz"


@dataclass(frozen=True)
class QueryMap:
    """``apply(v) = W v / |W v|``."""

    matrix: np.ndarray  # float32 (dim, dim)
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix)
        if m.ndim != 2 or m.shape[0] != m.shape[1] or not np.isfinite(m).all():
            raise ValueError("query map: the matrix must be square and finite")

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[0])

    def apply(self, vector: np.ndarray) -> np.ndarray:
        """The mapped question vector, unit length, in the vector's own dtype."""
        v = np.asarray(vector)
        if v.shape != (self.dim,):
            raise ValueError(f"query map: a vector of {self.dim} numbers expected, got shape {v.shape}")
        mapped = self.matrix @ v.astype(np.float32)
        norm = float(np.linalg.norm(mapped))
        return (mapped / norm if norm > 0 else mapped).astype(v.dtype)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, matrix=self.matrix.astype(np.float32), meta=np.array(json.dumps(self.meta)))

    @classmethod
    def load(cls, path: Path) -> QueryMap:
        with np.load(path, allow_pickle=False) as data:
            return cls(np.asarray(data["matrix"], dtype=np.float32), json.loads(str(data["meta"])))


def train_query_map(question_vectors: np.ndarray, grades: Sequence[Mapping[int, float]], window_vectors: np.ndarray,
                    owner: np.ndarray, *, shrink: float = 0.003, temperature: float = 0.05, epochs: int = 6,
                    batch: int = 32, learning_rate: float = 1e-3, seed: int = 0, meta: dict | None = None) -> QueryMap:
    """Learn ``W`` from questions (unit vectors) and their judged documents (document row → grade > 0).

    ``window_vectors`` are the indexed windows and ``owner`` the document row of each. The loss, per
    question: ``-sum_d g_d / sum(g) * log softmax(best window cosine / temperature)_d`` over all documents,
    plus ``shrink * |W - I|^2`` (which keeps the map near the identity: the model's own reading is the
    starting point, not something to forget). Adam, ``epochs`` passes in a fixed random order (``seed``).
    """
    import torch

    q = np.asarray(question_vectors, dtype=np.float32)
    if len(q) != len(grades):
        raise ValueError("query map: one set of grades per question")
    keep = [i for i, g in enumerate(grades) if any(v > 0 for v in g.values())]
    if not keep:
        raise ValueError("query map: no question has a judged document")
    owner_t = torch.from_numpy(np.asarray(owner, dtype=np.int64))
    n_docs = int(owner_t.max()) + 1
    windows = torch.from_numpy(np.asarray(window_vectors, dtype=np.float32))
    dim = windows.shape[1]
    targets = []
    for i in keep:
        t = np.zeros(n_docs, dtype=np.float32)
        for doc, grade in grades[i].items():
            if grade > 0:
                t[doc] = grade
        targets.append(torch.from_numpy(t / t.sum()))
    questions = torch.from_numpy(q[keep])
    torch.manual_seed(seed)
    eye = torch.eye(dim)
    w = torch.nn.Parameter(eye.clone())
    optimiser = torch.optim.Adam([w], lr=learning_rate)
    order = np.random.default_rng(seed)
    for _ in range(epochs):
        perm = order.permutation(len(keep))
        for start in range(0, len(perm), batch):
            picked = perm[start : start + batch]
            optimiser.zero_grad()
            mapped = questions[picked] @ w.T
            mapped = mapped / mapped.norm(dim=1, keepdim=True)
            cosines = mapped @ windows.T  # (batch, windows)
            best = torch.full((len(picked), n_docs), -1e4).scatter_reduce(
                1, owner_t.expand(len(picked), -1), cosines, reduce="amax")
            target = torch.stack([targets[i] for i in picked])
            loss = -(target * torch.log_softmax(best / temperature, dim=1)).sum(dim=1).mean()
            loss = loss + shrink * ((w - eye) ** 2).sum()
            loss.backward()
            optimiser.step()
    info = {"questions": len(keep), "shrink": shrink, "temperature": temperature, "epochs": epochs,
            "learning_rate": learning_rate, "seed": seed, **(meta or {})}
    return QueryMap(w.detach().numpy().astype(np.float32), info)


def load_query_map(path: Path | None = None) -> QueryMap | None:
    """The shipped query map (or the one at ``path``); None when there is none."""
    try:
        if path is not None:
            return QueryMap.load(Path(path))
        with resources.as_file(resources.files("edubot").joinpath(QUERY_MAP_FILE)) as shipped:
            return QueryMap.load(shipped) if shipped.exists() else None
    except FileNotFoundError:
        return None


@lru_cache(maxsize=1)
def shipped_query_map() -> QueryMap | None:
    return load_query_map()


def query_map_for_corpus(corpus_hash: str | None) -> QueryMap | None:
    """The shipped map when it was learned on this corpus (same content hash), else None."""
    m = shipped_query_map()
    return m if m is not None and corpus_hash and m.meta.get("corpus_hash") == corpus_hash else None
