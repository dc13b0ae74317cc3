"""Hybrid search: BM25 and dense candidates, fused into one ranking.

The same ``rank`` function serves the product index and the BEIR benchmarks,
so the figures in the README measure the code patients use.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .abbreviations import expand
from .chunk import Passage
from .config import Config
from .corpus import Corpus, load_corpus
from .index import CorpusIndex, IndexError_, SearchCore, bm25_tokens, build_index, load_index, read_manifest, stale_reasons


@dataclass(frozen=True)
class Scored:
    row: int
    score: float
    dense: float | None
    bm25: float | None
    dense_rank: int | None
    bm25_rank: int | None


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    dense: float | None
    bm25: float | None
    dense_rank: int | None
    bm25_rank: int | None

    def to_json(self) -> dict:
        return {
            **self.passage.to_json(),
            "score": round(self.score, 6),
            "scores": {"dense": _r(self.dense), "bm25": _r(self.bm25), "dense_rank": self.dense_rank, "bm25_rank": self.bm25_rank},
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def _minmax(scores: np.ndarray) -> np.ndarray:
    if len(scores) == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    return np.ones_like(scores) if hi - lo < 1e-9 else (scores - lo) / (hi - lo)


def fuse(dense: tuple[np.ndarray, np.ndarray], sparse: tuple[np.ndarray, np.ndarray], cfg: Config) -> list[Scored]:
    """Reciprocal rank fusion, or a weighted sum of min-max normalised scores."""
    d_ids, d_scores = dense
    s_ids, s_scores = sparse
    d_rank = {int(r): i + 1 for i, r in enumerate(d_ids)}
    s_rank = {int(r): i + 1 for i, r in enumerate(s_ids)}
    d_val = {int(r): float(v) for r, v in zip(d_ids, d_scores)}
    s_val = {int(r): float(v) for r, v in zip(s_ids, s_scores)}
    rows = list(dict.fromkeys([*d_rank, *s_rank]))
    fused: dict[int, float] = {}
    if cfg.fusion == "linear":
        d_norm = dict(zip(map(int, d_ids), _minmax(np.asarray(d_scores, dtype=np.float64))))
        s_norm = dict(zip(map(int, s_ids), _minmax(np.asarray(s_scores, dtype=np.float64))))
        for r in rows:
            fused[r] = cfg.dense_weight * d_norm.get(r, 0.0) + cfg.bm25_weight * s_norm.get(r, 0.0)
    else:
        for r in rows:
            score = 0.0
            if r in d_rank:
                score += cfg.dense_weight / (cfg.rrf_k + d_rank[r])
            if r in s_rank:
                score += cfg.bm25_weight / (cfg.rrf_k + s_rank[r])
            fused[r] = score
    out = [Scored(r, fused[r], d_val.get(r), s_val.get(r), d_rank.get(r), s_rank.get(r)) for r in rows]
    out.sort(key=lambda s: (-s.score, s.row))
    return out


_NUMBER = r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?)"


def expected_answer(query: str) -> re.Pattern | None:
    """What an answer to a 'how many / how long / how old / how common / how much' question looks like.

    Classic answer-type matching: "how many patients" expects a number near
    "patients", "how long" a duration, "what age" an age. Other questions: None.
    """
    q = query.lower()
    m = re.search(r"\bhow many\s+([a-z]+)", q)
    if m:
        return re.compile(rf"\b{_NUMBER}\s+(?:[\w-]+\s+){{0,3}}{re.escape(m.group(1)[:5])}", re.I)
    if re.search(r"\bhow long\b", q):
        return re.compile(rf"\b{_NUMBER}(?:\s*(?:-|to|–)\s*{_NUMBER})?\s+(?:years?|months?|weeks?|days?|hours?)\b", re.I)
    if re.search(r"\bhow old\b|\bwhat age\b|\bat what age\b", q):
        return re.compile(r"\b\d+(?:-|\s+to\s+)?\d*-?\s*year-old|\b(?:twenties|thirties|forties|fifties|sixties|\d0s)\b|\baged?\s+\d+", re.I)
    if re.search(r"\bhow (?:common|often|frequent)\b|\bwhat (?:percent|percentage|proportion)\b", q):
        return re.compile(rf"\d+(?:\.\d+)?\s*%|\b{_NUMBER}\s+(?:new\s+)?(?:cases|people|patients)\b|\b(?:per|each|every|a)\s+year\b|\bannually\b", re.I)
    if re.search(r"\bhow much\b", q):
        return re.compile(rf"\b{_NUMBER}\s*(?:mg|ml|g|grams?|kg|%|percent|units?|cells)\b", re.I)
    return None


def prefer_expected_answers(scored: list[Scored], query: str, text_of, bonus: float) -> list[Scored]:
    """Move results that hold the expected kind of answer up by ``bonus`` (stable otherwise)."""
    pattern = expected_answer(query) if bonus > 0 else None
    if pattern is None:
        return scored
    out = [Scored(s.row, s.score + (bonus if pattern.search(text_of(s.row)) else 0.0), s.dense, s.bm25,
                  s.dense_rank, s.bm25_rank) for s in scored]
    out.sort(key=lambda s: (-s.score, s.row))
    return out


def rank(core: SearchCore, qvec: np.ndarray | None, tokens: list[str], cfg: Config, system: str = "hybrid",
         k: int | None = None, allowed: np.ndarray | None = None) -> list[Scored]:
    """Rows of ``core`` ranked for one query by ``system`` ("bm25", "dense" or "hybrid").

    ``allowed`` is a boolean mask of rows a filter lets through; filtered
    searches look at every row so that a filter never hides a match.
    """
    n = cfg.candidates if allowed is None else core.size
    dense = core.dense(qvec, n) if system in ("dense", "hybrid") and qvec is not None else (np.zeros(0, np.int64), np.zeros(0, np.float32))
    sparse = core.sparse(tokens, n) if system in ("bm25", "hybrid") else (np.zeros(0, np.int64), np.zeros(0, np.float32))
    if allowed is not None:
        dense = tuple(a[allowed[dense[0]]] for a in dense)
        sparse = tuple(a[allowed[sparse[0]]] for a in sparse)
    if system == "dense":
        sparse = (np.zeros(0, np.int64), np.zeros(0, np.float32))
    elif system == "bm25":
        dense = (np.zeros(0, np.int64), np.zeros(0, np.float32))
    scored = fuse(dense, sparse, cfg)
    if system == "hybrid" and qvec is not None and cfg.prf_docs > 0 and cfg.prf_weight > 0 and scored:
        feedback = np.vstack([core.vector(s.row) for s in scored[: cfg.prf_docs]])
        moved = qvec + cfg.prf_weight * feedback.mean(axis=0)
        moved /= np.linalg.norm(moved) or 1.0
        dense = core.dense(moved, n)
        if allowed is not None:
            dense = tuple(a[allowed[dense[0]]] for a in dense)
        scored = fuse(dense, sparse, cfg)
    return scored[:k] if k else scored


def first_author_surnames(authors: tuple[str, ...]) -> tuple[str, ...]:
    """"Olsen M" → (Olsen,); "Baghaban Eslaminejad M" → both words; "Jaewoo Pak" (no initials) → (Pak,)."""
    if not authors:
        return ()
    words = re.findall(r"[^\W\d_][\w'’-]*", authors[0])
    names = [w for w in words if not (w.isupper() and len(w) <= 3)]
    if not names:
        return ()
    return tuple(names) if len(names) < len(words) else (names[-1],)


def author_index(documents: dict) -> dict[str, set[str]]:
    """First-author surname (lower case, 3 letters or more) → the documents it names."""
    out: dict[str, set[str]] = {}
    for doc_id, meta in documents.items():
        for name in first_author_surnames(tuple(meta.authors)):
            if len(name) >= 3:
                out.setdefault(name.lower(), set()).add(doc_id)
    return out


def named_documents(query: str, authors: dict[str, set[str]]) -> set[str]:
    """Documents whose first author the query names ("Olsen 2016", "what did Hernigou find")."""
    words = {w.lower() for w in re.findall(r"[^\W\d_][\w'’-]*", query)}
    return set().union(*(authors[w] for w in words if w in authors))


class Retriever:
    """A loaded index and model, shared read-only by every thread of the process."""

    def __init__(self, index: CorpusIndex, embedder, cfg: Config, corpus: Corpus | None = None):
        self.index = index
        self.embedder = embedder
        self.cfg = cfg
        self.corpus = corpus  # the source texts quotes are verified against
        self.authors = author_index(index.documents)  # built once: every answer asks it

    def named_documents(self, query: str) -> set[str]:
        return named_documents(query, self.authors)

    def search(self, query: str, k: int | None = None, source_types: set[str] | None = None,
               doc_ids: set[str] | None = None, sections: set[str] | None = None, system: str = "hybrid",
               qvec: np.ndarray | None = None) -> list[Hit]:
        k = k or self.cfg.top_k
        allowed = None
        if source_types or doc_ids or sections:
            allowed = np.array([
                (not source_types or p.source_type in source_types)
                and (not doc_ids or p.doc_id in doc_ids)
                and (not sections or p.section in sections)
                for p in self.index.passages
            ], dtype=bool)
        if qvec is None and system != "bm25":
            qvec = self.encode_query(query)
        tokens = self.query_tokens(query)
        scored = rank(self.index.core, qvec, tokens, self.cfg, system, None, allowed)
        if system == "hybrid":
            scored = prefer_expected_answers(scored, query, lambda row: self.index.passages[row].text, self.cfg.answer_type_bonus)
        scored = scored[:k]
        return [
            Hit(self.index.passages[s.row], s.score, s.dense, s.bm25, s.dense_rank, s.bm25_rank)
            for s in scored
        ]

    def read_query(self, query: str) -> str:
        """The question with its abbreviations spelled out as the corpus defines them, like the passages."""
        return expand(query, self.index.abbreviations)

    def encode_query(self, query: str) -> np.ndarray:
        """The dense model reads the question with abbreviations spelled out ("PRP" reaches "platelet-rich plasma").

        BM25 reads it as typed (``query_tokens``): on NFCorpus dev the dense
        reading gains 0.002 nDCG@10, while giving BM25 the added words loses 0.0006.
        """
        return self.embedder.encode_query(self.read_query(query))

    def query_tokens(self, query: str) -> list[str]:
        return bm25_tokens(query, self.index.core.stem)

    def dense_scores(self, query: str) -> np.ndarray:
        """Cosine similarity of the query to every passage (for thresholds)."""
        qvec = self.encode_query(query)
        ids, scores = self.index.core.dense(qvec, self.index.core.size)
        out = np.zeros(self.index.core.size, dtype=np.float32)
        out[ids] = scores
        return out


Notice = Callable[[str], None]

_RETRIEVERS: dict[tuple, Retriever] = {}
_LOCK = threading.Lock()


def open_retriever(cfg: Config, corpus: Corpus | None = None, auto_build: bool = True,
                   notice: Notice | None = None, progress=None) -> Retriever:
    """The process-wide retriever for ``cfg``: loaded once, rebuilt first when missing or stale.

    A stale index could quote text that is no longer in the corpus, so it is
    never used as it is: it is rebuilt (or, with ``auto_build=False``, refused).
    """
    from .embed import get_embedder

    key = (str(Path(cfg.index_dir).resolve()), str(Path(cfg.corpus_dir).resolve()), cfg.model,
           cfg.passage_max_chars, cfg.passage_overlap_sentences, cfg.stem, cfg.bm25_k1, cfg.bm25_b)
    with _LOCK:
        cached = _RETRIEVERS.get(key)
        if cached is not None:
            return cached
        say = notice or (lambda msg: None)
        embedder = get_embedder(cfg.model)
        corpus = corpus or load_corpus(cfg.corpus_dir)
        reason = None
        try:
            manifest = read_manifest(cfg.index_dir)
            reasons = stale_reasons(manifest, cfg, corpus, embedder.info.version)
            if reasons:
                reason = "the index is stale: " + "; ".join(reasons)
        except IndexError_ as e:
            reason = str(e)
        if reason:
            if not auto_build:
                raise IndexError_(reason + "; run `edubot build`")
            say(reason.split("; run `edubot build`")[0] + "; building it now")
            build_index(cfg, corpus, progress=progress, embedder=embedder)
        try:
            index = load_index(cfg.index_dir)
        except IndexError_ as e:
            if not auto_build:
                raise
            say(str(e).split("; run `edubot build`")[0] + "; rebuilding it now")
            build_index(cfg, corpus, progress=progress, embedder=embedder)
            index = load_index(cfg.index_dir)
        retriever = Retriever(index, embedder, cfg, corpus)
        _RETRIEVERS[key] = retriever
        return retriever


def forget_retrievers() -> None:
    """Drop cached retrievers (after a rebuild in the same process)."""
    with _LOCK:
        _RETRIEVERS.clear()
