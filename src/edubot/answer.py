"""From a question to an Answer built only from corpus quotes and fixed templates.

Order of work: triage (urgent, advice, invalid) → retrieve → abstain when the
corpus does not cover the question → verify every quote against its source →
group by source type → highlight → collect the limitations of every quoted document.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

from . import templates
from .abstain import Coverage, Signals, for_corpus, load_model
from .chunk import Passage
from .clean import quote_matches_source
from .corpus import Corpus, DocMeta
from .index import QUESTION_WORDS, bm25_tokens
from .retrieve import Hit, Ranking, Retriever
from .safety import Status, Triage, Triager
from .safety.classifier import load_classifier
from .safety.lexicon import load_lexicon
from .safety.multilingual import load_multilingual

GROUP_ORDER = ("research", "patient_education", "marketing")
MARKETING = "marketing"
# Words of a question that only names a paper ("the Olsen 2016 paper", "what did Hernigou et al. find").
LOOKUP_WORDS = frozenset("the a an of in on by and et al paper papers study studies trial article abstract report review "  # noqa: SIM905
                         "find found findings say says said show showed results result "
                         "summary summarise summarize please".split())


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
    signals: Signals | None = None  # what the answerable decision read (evaluation and staff only)
    triage: Triage | None = None

    def groups(self) -> list[tuple[str, list[QuotedPassage]]]:
        """Passages by group, in the order the answer gives them (``order_groups``: best group first, marketing
        last unless the question is about the clinic's own claims)."""
        order = list(dict.fromkeys(p.group for p in self.passages))
        return [(g, [p for p in self.passages if p.group == g]) for g in order]

    def to_json(self) -> dict:
        return {
            "query": self.query, "status": self.status, "message": self.message,
            "passages": [p.to_json() for p in self.passages],
            "limitations": [l.to_json() for l in self.limitations],
            "disclaimer": self.disclaimer, "suggestions": list(self.suggestions),
        }


def fixed_answer(t: Triage, max_chars: int) -> Answer | None:
    """The answer when triage alone decides it (invalid, urgent, not English, advice on a message too long
    to search); None to go on and search. Every reply but an emergency ends with where to get urgent help."""
    if t.status == "invalid":
        if t.reason.startswith("too_long"):
            message = templates.INVALID_TOO_LONG.format(length=t.reason.split(":")[1], limit=max_chars)
        elif t.reason == "unreadable":
            message = templates.INVALID_UNREADABLE
        else:
            message = templates.INVALID_EMPTY
        return Answer(query=t.text[:200], status="invalid", message=templates.with_help(message), triage=t)
    if t.status == "urgent":
        return Answer(query=t.text[:1000], status="urgent", message=templates.URGENT, triage=t)
    if t.status == "personal_advice" and t.reason.startswith("too_long"):
        return Answer(query=t.text[:200], status="personal_advice", message=templates.with_help(templates.PERSONAL_ADVICE),
                      triage=t)
    if not t.english:
        return Answer(query=t.text, status="no_answer", message=templates.with_help(templates.NOT_ENGLISH, other_languages=True),
                      suggestions=templates.SUGGESTED_QUESTIONS, triage=t)
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


class _TextVectors:
    """Embeddings of recent texts (questions and their windows), kept for reuse within and across answers."""

    def __init__(self, embedder, capacity: int = 2048):
        self.embedder = embedder
        self.capacity = capacity
        self.cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            fresh = self.embedder.encode(missing)
            with self.lock:
                for t, v in zip(missing, fresh):
                    self.cache[t] = v
                while len(self.cache) > self.capacity:
                    self.cache.popitem(last=False)
        with self.lock:
            out = []
            for t in texts:
                v = self.cache.get(t)
                if v is None:  # evicted by another thread meanwhile
                    v = self.embedder.encode([t])[0]
                out.append(v)
        return np.vstack(out) if out else np.zeros((0, self.embedder.info.dim), dtype=np.float32)


@dataclass
class Answerer:
    """Composes answers; holds the shared retriever and the corpus quotes are checked against."""

    retriever: Retriever
    corpus: Corpus
    sentences: _SentenceVectors = field(init=False)

    def __post_init__(self) -> None:
        self.sentences = _SentenceVectors(self.retriever.embedder)
        self.vectors = _TextVectors(self.retriever.embedder)
        self.cfg = self.retriever.cfg
        index = self.retriever.index
        self.first_passage: dict[str, Passage] = {}
        by_doc: dict[str, list[Passage]] = {}
        for p in index.passages:
            self.first_passage.setdefault(p.doc_id, p)
            by_doc.setdefault(p.doc_id, []).append(p)
        stem = index.core.stem

        def tokenize(text: str) -> list[str]:
            return bm25_tokens(text, stem)

        def document_words(doc_id: str) -> frozenset[str]:
            meta = index.documents[doc_id]
            return frozenset(t for p in by_doc.get(doc_id, ()) for t in tokenize(f"{meta.title} {p.section} {p.text}"))

        self.coverage = Coverage(tokenize, frozenset(index.core.bm25.vocab_dict) | frozenset(index.core.doc_bm25.vocab_dict),
                                 document_words)
        # Staff-facing notes about this corpus (calibration missing or out of date): shown by ask, doctor, staff page.
        self.abstention, self.notes = for_corpus(load_model(), index.manifest, self.cfg.abstention_threshold)
        self.triager = Triager(load_lexicon(self.cfg.triage_lexicon), load_classifier(),
                               vocabulary=corpus_words(p.text for p in index.passages), max_chars=self.cfg.max_query_chars,
                               multilingual=load_multilingual())

    # ------------------------------------------------------------ pieces

    def _highlight(self, passage: Passage, qvec: np.ndarray) -> tuple[int, int]:
        spans = passage.sentences or ((0, len(passage.text)),)
        if len(spans) == 1:
            start, end = spans[0]
        else:
            start, end = spans[int(np.argmax(self.sentences.get(passage) @ qvec))]
        return start, end

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

    def _evidence(self, text: str, ranking: Ranking, qvec: np.ndarray) -> Signals:
        """What the corpus offers this question: its best raw cosine and BM25 score in the whole index (from
        the ranking's one search, before feedback moves the query), how much of it the corpus, and the
        best-ranked document, cover, and where its vector lies (``abstain``)."""
        top = next((h.passage.doc_id for h in ranking.hits if h.passage.kind != "references"), None)
        signals = self.coverage.signals(text, ranking.best_dense, ranking.best_bm25, top, ranking.answer_found)
        return self.abstention.read(signals, qvec)

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings through a small shared cache: the triage classifier and the search read the same
        text for most questions, and the model then runs once."""
        return self.vectors.encode(texts)

    def _query_vector(self, text: str) -> np.ndarray:
        return self._encode([self.retriever.read_query(text)])[0]

    def triage(self, question: object) -> Triage:
        """All triage layers, the classifier included (it reads the question with the loaded model)."""
        return self.triager.triage(question, self._encode)

    def _lookup_first(self, hits: list[Hit], named: set[str], text: str) -> list[Hit]:
        """A question naming a paper gets that paper first.

        A bare lookup ("Olsen 2016", "what did Hernigou find") opens with the paper's opening, then its
        best-ranked passages. A question that asks something of the paper ("how many patients did Wang 2010
        have") opens with the paper's best-ranked passage, the one that answers it, and the opening follows:
        an abstract's opening is its background, rarely what such a question asks.
        """
        order = {d: i for i, d in enumerate(dict.fromkeys(h.passage.doc_id for h in hits if h.passage.doc_id in named))}
        docs = sorted(named, key=lambda d: (order.get(d, len(order)), d))
        top = hits[0].score if hits else 1.0
        openings = [Hit(self.first_passage[d], top, None, None, None, None) for d in docs if d in self.first_passage]
        listed = {h.passage.id for h in openings}
        own = [h for h in hits if h.passage.doc_id in named and h.passage.id not in listed]
        rest = [h for h in hits if h.passage.doc_id not in named]
        if own and not self._bare_lookup(text):
            return [dataclasses.replace(own[0], score=top)] + openings + own[1:] + rest
        return openings + own + rest

    def _bare_lookup(self, text: str) -> bool:
        """Whether a question only names a paper: no word but its authors, years and words for a paper."""
        words = re.findall(r"[^\W\d_][\w'’-]*", text.lower())
        return all(w in self.retriever.authors or w in LOOKUP_WORDS or w in QUESTION_WORDS for w in words)

    def _select(self, hits: list[Hit], named: AbstractSet[str] = frozenset(), marketing: int = 1,
                about_clinic: bool = False) -> list[Hit]:
        """Verified quotes in rank order: at most top_k, a few per document, no two overlapping.

        A quote must score at least ``quote_floor`` of the best one (a paper the
        question names is exempt). The floor is relative because fused scores
        are: a vague question matches everything a little, a precise one a few
        passages a lot, and only the gap to the best tells the two apart.
        Marketing gets at most ``marketing`` quotes and, unless the question is
        about the clinic's own claims (``about_clinic``), only the places research
        and patient information leave free: it never displaces a passage from them.
        """
        chosen: list[Hit] = []
        ads: list[Hit] = []
        floor = self.cfg.quote_floor * max((h.score for h in hits), default=0.0)
        for h in hits:
            if len(chosen) + (len(ads) if about_clinic else 0) == self.cfg.top_k:
                break
            if h.score < floor and h.passage.doc_id not in named:
                continue
            is_ad = templates.group_of(h.passage.source_type) == MARKETING
            if is_ad and len(ads) >= marketing:
                continue
            same_doc = [c for c in chosen + ads if c.passage.doc_id == h.passage.doc_id]
            if len(same_doc) >= self.cfg.max_passages_per_doc or any(
                    c.passage.span[0] < h.passage.span[1] and h.passage.span[0] < c.passage.span[1] for c in same_doc):
                continue  # neighbouring passages share a sentence; one quote of a stretch of text is enough
            if self._verified(h.passage):
                (ads if is_ad else chosen).append(h)
        return chosen + ads[: self.cfg.top_k - len(chosen)]

    def _about_marketing(self, text: str, named: set[str]) -> bool:
        """Whether the question asks about the clinic's own claims: it names a marketing document's
        publisher or author, or asks what a clinic or its website says, claims or offers."""
        if any(self._meta(d).source_type == MARKETING for d in named):
            return True
        lowered = text.lower()
        # "the clinic page mentions", "what does the clinic think": the clinic's words, not the writer's own clinic.
        if re.search(r"(?<!\bmy )(?<!\bour )\b(?:clinic|clinic's|clinics|website|web site|advert\w*|ads?)\b", lowered) and re.search(
                r"\b(?:say|says|said|claim\w*|offer\w*|promis\w*|sell\w*|advertis\w*|ads?|market\w*|mention\w*|thinks?"
                r"|suggest\w*|describ\w*|tell|tells|told|write|writes|wrote|written)\b", lowered):
            return True
        return any(m.publisher and m.publisher.lower() in lowered
                   for m in self.retriever.index.documents.values() if m.source_type == MARKETING)

    def _rank(self, text: str, k: int) -> tuple[np.ndarray, Ranking]:
        """The one call into the ranking, with the question's vector read once (abbreviations spelled out,
        the query map applied)."""
        qvec = self._query_vector(text)
        return qvec, self.retriever.rank(text, k=k, qvec=qvec)

    def ranking(self, question: str, k: int) -> Ranking:
        """The ranking an answer to ``question`` reads, from the same text (text speak spelled out,
        misspellings of corpus words corrected) and the same vector: what evaluation reports under the
        answer, so a ranking figure never measures an input the patient's answer did not get."""
        return self._rank(self.triager.read(question).corrected, k)[1]

    def signals(self, question: str) -> tuple[Signals, np.ndarray]:
        """What the answerable decision reads for ``question``, whatever its triage, and the question's
        vector (for calibration, which may fit a new scope model on the vectors)."""
        text = self.triager.read(question).corrected
        qvec, ranking = self._rank(text, self.cfg.top_k)
        return self._evidence(text, ranking, qvec), qvec

    def answer(self, question: object) -> Answer:
        t = self.triage(question)
        fixed = fixed_answer(t, self.cfg.max_query_chars)
        if fixed is not None:
            return fixed
        text = t.search_text or t.text  # text speak spelled out, misspellings of corpus words corrected
        named = self.retriever.named_documents(text)
        # Deep enough that the per-document limit still leaves top_k quotes from other documents; the
        # ranking also carries the raw best scores abstention reads.
        qvec, ranking = self._rank(text, self.cfg.top_k * 6)
        signals = self._evidence(text, ranking, qvec)
        hits = []
        # A question naming a paper by its first author ("Olsen 2016") is a lookup: always answerable.
        if named or self.abstention.answerable(signals):
            hits = [h for h in ranking.hits if h.passage.kind != "references"]
            if named:
                hits = self._lookup_first(hits, named, text)
        about_clinic = self._about_marketing(text, named)
        marketing = self.cfg.max_passages_per_doc if about_clinic else 1
        if t.status == "personal_advice":
            # After an advice refusal, general information only: research and government pages, never marketing.
            hits = [h for h in hits if templates.group_of(h.passage.source_type) != MARKETING]
        shown = order_groups(tuple(self._quoted(h, qvec) for h in self._select(hits, named, marketing, about_clinic)),
                             marketing_last=not about_clinic)
        if t.status == "personal_advice":
            message = templates.PERSONAL_ADVICE_WITH_PASSAGES if shown else templates.with_help(templates.PERSONAL_ADVICE)
            return Answer(query=t.text, status="personal_advice", message=message, passages=shown,
                          limitations=self._limitations(shown), signals=signals, triage=t)
        if not shown:
            return Answer(query=t.text, status="no_answer", message=templates.with_help(templates.NO_ANSWER),
                          suggestions=templates.SUGGESTED_QUESTIONS, signals=signals, triage=t)
        return Answer(query=t.text, status="answered", message=templates.ANSWERED, passages=shown,
                      limitations=self._limitations(shown), signals=signals, triage=t)


def corpus_words(texts, limit: int = 100_000) -> list[str]:
    """The corpus's words (four letters or more), most frequent first: targets for spelling correction."""
    from collections import Counter

    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", t))
    return [w for w, _ in counts.most_common(limit)]


def order_groups(quotes: tuple[QuotedPassage, ...], marketing_last: bool = True) -> tuple[QuotedPassage, ...]:
    """Quotes grouped by source type, groups kept apart: research and patient information in the order of
    their best quote's score, marketing last; rank order inside each group.

    ``marketing_last=False`` (a question about the clinic's own claims) orders marketing by its best score
    too: asked what the clinic says, the clinic's own words are the answer, not an afterthought.
    """
    best: dict[str, float] = {}
    for q in quotes:
        best[q.group] = max(best.get(q.group, float("-inf")), q.score)
    rank = {g: (marketing_last and g == MARKETING, -score, GROUP_ORDER.index(g) if g in GROUP_ORDER else len(GROUP_ORDER))
            for g, score in best.items()}
    return tuple(sorted(quotes, key=lambda q: rank[q.group]))  # stable: rank order inside groups


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
