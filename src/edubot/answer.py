"""From a question to an Answer built only from corpus quotes and fixed templates.

Order of work: triage (urgent, advice, invalid) → retrieve → abstain below the
threshold → verify every quote against its source → group by source type →
highlight → collect the limitations of every quoted document.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from . import templates
from .chunk import Passage
from .clean import quote_matches_source
from .corpus import Corpus, DocMeta
from .retrieve import Hit, Retriever
from .safety import Status, Triage, triage

GROUP_ORDER = ("research", "patient_education", "marketing")


@dataclass(frozen=True)
class CitedReference:
    number: int
    citation: str
    label: str
    study_type: str | None
    subjects: tuple[str, ...]
    n: int | None
    note: str | None
    doc_id: str | None
    abstract: dict | None  # {"passage_id", "quote", "citation", "evidence"} where the corpus has it

    def to_json(self) -> dict:
        return {"number": self.number, "citation": self.citation, "label": self.label, "study_type": self.study_type,
                "subjects": list(self.subjects), "n": self.n, "note": self.note, "doc_id": self.doc_id,
                "abstract": self.abstract}


@dataclass(frozen=True)
class QuotedPassage:
    passage: Passage
    group: str
    evidence: str
    citation: str
    highlight: tuple[int, int]  # offsets of the best-matching sentence inside the quote
    score: float
    cites: tuple[CitedReference, ...] = ()
    title: str = ""
    url: str | None = None
    conflict_of_interest: str | None = None
    partial: str | None = None
    unverified: tuple[str, ...] = ()

    @property
    def quote(self) -> str:
        return self.passage.text

    @property
    def highlight_text(self) -> str:
        return self.passage.text[self.highlight[0] : self.highlight[1]]

    def to_json(self) -> dict:
        p = self.passage
        return {
            "passage_id": p.id, "doc_id": p.doc_id, "source_type": p.source_type, "group": self.group,
            "evidence": self.evidence, "quote": p.text, "highlight": self.highlight_text,
            "highlight_span": list(self.highlight), "citation": self.citation, "title": self.title,
            "section": p.section, "page": p.page, "span": list(p.span), "score": round(self.score, 6),
            "url": self.url, "conflict_of_interest": self.conflict_of_interest, "partial": self.partial,
            "unverified": list(self.unverified), "cites": [c.to_json() for c in self.cites],
        }


@dataclass(frozen=True)
class LimitationShown:
    doc_id: str
    text: str
    quote: str
    kind: str
    key: bool

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "text": self.text, "quote": self.quote, "kind": self.kind,
                "kind_label": templates.LIMITATION_KINDS[self.kind], "key": self.key}


@dataclass(frozen=True)
class Answer:
    query: str
    status: Status
    message: str
    passages: tuple[QuotedPassage, ...] = ()
    limitations: tuple[LimitationShown, ...] = ()
    disclaimer: str = templates.DISCLAIMER
    suggestions: tuple[str, ...] = ()
    best_score: float | None = None  # the question's best cosine to a candidate passage
    best_bm25: float | None = None

    def groups(self) -> list[tuple[str, list[QuotedPassage]]]:
        """Passages by group, research and patient education first, marketing last."""
        return [(g, [p for p in self.passages if p.group == g]) for g in GROUP_ORDER if any(p.group == g for p in self.passages)]

    def to_json(self) -> dict:
        return {
            "query": self.query, "status": self.status, "message": self.message,
            "passages": [p.to_json() for p in self.passages],
            "limitations": [l.to_json() for l in self.limitations],
            "disclaimer": self.disclaimer, "suggestions": list(self.suggestions),
        }


def fixed_answer(t: Triage, max_chars: int) -> Answer | None:
    """The answer when triage alone decides it (invalid, urgent, not English); None to go on and search."""
    if t.status == "invalid":
        if t.reason.startswith("too_long"):
            message = templates.INVALID_TOO_LONG.format(length=t.reason.split(":")[1], limit=max_chars)
        elif t.reason == "unreadable":
            message = templates.INVALID_UNREADABLE
        else:
            message = templates.INVALID_EMPTY
        return Answer(query=t.text[:200], status="invalid", message=message)
    if t.status == "urgent":
        return Answer(query=t.text, status="urgent", message=templates.URGENT)
    if not t.english:
        return Answer(query=t.text, status="no_answer", message=templates.NOT_ENGLISH, suggestions=templates.SUGGESTED_QUESTIONS)
    return None


class _SentenceVectors:
    """Sentence embeddings for highlighting, computed on first use of a passage and kept."""

    def __init__(self, embedder, capacity: int = 4096):
        self.embedder = embedder
        self.capacity = capacity
        self.cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, passage: Passage) -> np.ndarray:
        with self.lock:
            hit = self.cache.get(passage.id)
            if hit is not None:
                self.cache.move_to_end(passage.id)
                return hit
        spans = passage.sentences or ((0, len(passage.text)),)
        vectors = self.embedder.encode([passage.text[s:e] for s, e in spans])
        with self.lock:
            self.cache[passage.id] = vectors
            while len(self.cache) > self.capacity:
                self.cache.popitem(last=False)
        return vectors


@dataclass
class Answerer:
    """Composes answers; holds the shared retriever and the corpus quotes are checked against."""

    retriever: Retriever
    corpus: Corpus
    sentences: _SentenceVectors = field(init=False)

    def __post_init__(self) -> None:
        self.sentences = _SentenceVectors(self.retriever.embedder)
        self.cfg = self.retriever.cfg
        self.first_passage: dict[str, Passage] = {}
        for p in self.retriever.index.passages:
            self.first_passage.setdefault(p.doc_id, p)

    # ------------------------------------------------------------ pieces

    def _highlight(self, passage: Passage, qvec: np.ndarray) -> tuple[int, int]:
        spans = passage.sentences or ((0, len(passage.text)),)
        if len(spans) == 1:
            return tuple(spans[0])
        scores = self.sentences.get(passage) @ qvec
        return tuple(spans[int(np.argmax(scores))])

    def _verified(self, passage: Passage) -> bool:
        doc = self.corpus.get(passage.doc_id)
        return doc is not None and quote_matches_source(doc.raw, passage.span, passage.text)

    def _meta(self, doc_id: str) -> DocMeta:
        return self.retriever.index.documents[doc_id]

    def _cites(self, passage: Passage) -> tuple[CitedReference, ...]:
        out = []
        for c in passage.citations:
            ref = c.reference
            if ref is None:
                continue
            abstract = None
            if ref.doc_id and ref.doc_id in self.first_passage:
                ap = self.first_passage[ref.doc_id]
                am = self._meta(ref.doc_id)
                if self._verified(ap):
                    abstract = {"passage_id": ap.id, "quote": ap.text, "citation": templates.citation_text(am, ap.section, ap.page),
                                "evidence": templates.evidence_label(am)}
            out.append(CitedReference(c.number, ref.citation, templates.cites_label(ref), ref.study_type, ref.subjects,
                                      ref.n, ref.note, ref.doc_id, abstract))
        return tuple(out)

    def _quoted(self, hit: Hit, qvec: np.ndarray) -> QuotedPassage:
        p = hit.passage
        meta = self._meta(p.doc_id)
        return QuotedPassage(
            passage=p, group=templates.group_of(p.source_type), evidence=templates.evidence_label(meta),
            citation=templates.citation_text(meta, p.section, p.page), highlight=self._highlight(p, qvec),
            score=hit.score, cites=self._cites(p), title=meta.title, url=meta.url,
            conflict_of_interest=meta.conflict_of_interest, partial=meta.partial, unverified=meta.unverified,
        )

    def _limitations(self, passages: tuple[QuotedPassage, ...]) -> tuple[LimitationShown, ...]:
        doc_ids: list[str] = []
        for qp in passages:
            for d in [qp.passage.doc_id] + [c.doc_id for c in qp.cites if c.abstract and c.doc_id]:
                if d not in doc_ids:
                    doc_ids.append(d)
        out = []
        for d in doc_ids:
            lims = self._meta(d).limitations
            for lim in sorted(lims, key=lambda l: not l.key):  # key limitations first
                out.append(LimitationShown(d, lim.text, lim.quote, lim.kind, lim.key))
        return tuple(out)

    # ------------------------------------------------------------ the answer

    def _evidence(self, text: str, qvec: np.ndarray, named: set[str]) -> tuple[bool, float, float]:
        """Whether the corpus can answer at all, judged on the question's strongest evidence in the whole index.

        That evidence is the best cosine of the question itself (the ranking's
        feedback step moves the query and would flatter it) and the best BM25
        score, against the two thresholds calibrated by ``edubot eval``. A question
        naming a document by its first author ("Olsen 2016") is a lookup of that
        document and is always answerable.
        """
        index = self.retriever.index
        (_, d_scores) = index.core.dense(qvec, 1)
        (_, s_scores) = index.core.sparse(self.retriever.query_tokens(text), 1)
        best = float(d_scores[0]) if len(d_scores) else 0.0
        best_bm25 = float(s_scores[0]) if len(s_scores) else 0.0
        answerable = best >= self.cfg.answer_threshold or best_bm25 >= self.cfg.lexical_threshold or bool(named)
        return answerable, best, best_bm25

    def _lookup_first(self, hits: list[Hit], named: set[str]) -> list[Hit]:
        """A question naming a paper gets that paper first: its opening, then its best-ranked passages."""
        order = {d: i for i, d in enumerate(dict.fromkeys(h.passage.doc_id for h in hits if h.passage.doc_id in named))}
        docs = sorted(named, key=lambda d: (order.get(d, len(order)), d))
        top = hits[0].score if hits else 1.0
        openings = [Hit(self.first_passage[d], top, None, None, None, None) for d in docs if d in self.first_passage]
        listed = {h.passage.id for h in openings}
        own = [h for h in hits if h.passage.doc_id in named and h.passage.id not in listed]
        return openings + own + [h for h in hits if h.passage.doc_id not in named]

    def _select(self, hits: list[Hit], named: set[str] = frozenset()) -> list[Hit]:
        """Verified quotes in rank order: at most top_k, a few per document, no two overlapping.

        A quote must score at least ``quote_floor`` of the best one (a paper the
        question names is exempt). The floor is relative because fused scores
        are: a vague question matches everything a little, a precise one a few
        passages a lot, and only the gap to the best tells the two apart.
        """
        chosen: list[Hit] = []
        floor = self.cfg.quote_floor * max((h.score for h in hits), default=0.0)
        for h in hits:
            if len(chosen) == self.cfg.top_k:
                break
            if h.score < floor and h.passage.doc_id not in named:
                continue
            same_doc = [c for c in chosen if c.passage.doc_id == h.passage.doc_id]
            if len(same_doc) >= self.cfg.max_passages_per_doc or any(
                    c.passage.span[0] < h.passage.span[1] and h.passage.span[0] < c.passage.span[1] for c in same_doc):
                continue  # neighbouring passages share a sentence; one quote of a stretch of text is enough
            if self._verified(h.passage):
                chosen.append(h)
        return chosen

    def answer(self, question: str) -> Answer:
        t = triage(question, self.cfg.max_query_chars)
        fixed = fixed_answer(t, self.cfg.max_query_chars)
        if fixed is not None:
            return fixed
        qvec = self.retriever.encode_query(t.text)
        named = self.retriever.named_documents(t.text)
        answerable, best, best_bm25 = self._evidence(t.text, qvec, named)
        hits = []
        if answerable:
            # Deep enough that the per-document limit still leaves top_k quotes from other documents.
            hits = [h for h in self.retriever.search(t.text, k=self.cfg.top_k * 6, qvec=qvec) if h.passage.kind != "references"]
            if named:
                hits = self._lookup_first(hits, named)
        shown = tuple(self._quoted(h, qvec) for h in self._select(hits, named))
        shown = tuple(sorted(shown, key=lambda q: GROUP_ORDER.index(q.group)))  # stable: rank order inside groups
        evidence = {"best_score": best, "best_bm25": best_bm25}
        if t.status == "personal_advice":
            message = templates.PERSONAL_ADVICE_WITH_PASSAGES if shown else templates.PERSONAL_ADVICE
            return Answer(query=t.text, status="personal_advice", message=message, passages=shown,
                          limitations=self._limitations(shown), **evidence)
        if not shown:
            return Answer(query=t.text, status="no_answer", message=templates.NO_ANSWER,
                          suggestions=templates.SUGGESTED_QUESTIONS, **evidence)
        return Answer(query=t.text, status="answered", message=templates.ANSWERED, passages=shown,
                      limitations=self._limitations(shown), **evidence)


_ANSWERERS: dict[int, Answerer] = {}
_ANSWERERS_LOCK = threading.Lock()


def answerer_for(retriever: Retriever) -> Answerer:
    """One Answerer per shared retriever (so its sentence-vector cache is shared too)."""
    with _ANSWERERS_LOCK:
        found = _ANSWERERS.get(id(retriever))
        if found is None or found.retriever is not retriever:
            corpus = retriever.corpus
            if corpus is None:
                from .corpus import load_corpus

                corpus = load_corpus(retriever.cfg.corpus_dir)
            found = _ANSWERERS[id(retriever)] = Answerer(retriever, corpus)
        return found
