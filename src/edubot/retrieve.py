"""The one ranking path: a question → a ``Ranking`` of passages.

``Searcher`` owns every step from a question to an order: reading the question,
the candidates of one dense search and one BM25 scoring, the document fields
(each title counts once per document), the fusion chosen for the corpus
(``fusion.Fusion``), dense feedback re-scored from stored vectors, and the
question's intent (a "what is X" question prefers passages that define X; a
"how many / how long" question prefers passages holding that kind of answer
about what it names; with a corpus's ``kind_bonus``, passages giving the kind
of answer asked for, such as symptoms, treatment or outlook, read by ``kinds``).
Answers, ``edubot search``, the staff page, ``edubot eval-beir``
(``evaluate.BeirEngine``) and ``scripts/tune_beir.py`` all rank through it.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .abbreviations import expand
from .chunk import Passage, split_sentences
from .config import Config
from .corpus import Corpus, load_corpus
from .fusion import Fusion
from .index import (
    CorpusIndex,
    IndexError_,
    SearchCore,
    bm25_tokens,
    build_index,
    document_text,
    load_index,
    passage_abbreviations,
    read_manifest,
    stale_reasons,
    trusted_sidecars,
)
from .kinds import KindModel, shipped_kinds
from .querymap import QueryMap, query_map_for_corpus

# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class RankingSettings:
    """How one corpus is ranked; chosen once per corpus (``Config`` for the product, a JSON file per benchmark)."""

    fusion: Fusion = Fusion.MINMAX
    # One weight per score column: the passage's cosine and BM25, its document's title cosine and fields' BM25.
    dense_weight: float = 1.0
    bm25_weight: float = 0.3
    title_dense_weight: float = 0.0
    title_bm25_weight: float = 0.1
    rrf_k: float = 60.0
    # Rows each system contributes to the candidates (the union is scored by every system).
    candidates: int = 100
    # Dense pseudo-relevance feedback: the question's vector moves towards the mean of the top prf_docs.
    prf_docs: int = 0
    prf_weight: float = 0.0
    # Added (as a share of the best fused score) to passages answering the question's kind of question.
    answer_type_bonus: float = 0.5
    definition_bonus: float = 0.5
    # Added (times the probability that passage and question are of the same kind, ``kinds``) to every candidate.
    kind_bonus: float = 0.0

    @property
    def weights(self) -> tuple[float, float, float, float]:
        return (self.dense_weight, self.bm25_weight, self.title_dense_weight, self.title_bm25_weight)

    @classmethod
    def from_config(cls, cfg: Config) -> RankingSettings:
        return cls.from_json({f.name: getattr(cfg, f.name) for f in dataclasses.fields(cls)})

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "fusion": self.fusion.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RankingSettings:
        """Settings from JSON; unknown keys are an error (a typo must not pass silently)."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(data) - set(names)
        if unknown:
            raise ValueError(f"unknown ranking settings: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "fusion":
                try:
                    values[key] = Fusion(value)
                except ValueError:
                    raise ValueError(f"fusion {value!r} is not one of {', '.join(f.value for f in Fusion)}") from None
            elif key in ("candidates", "prf_docs"):
                values[key] = int(value)
            else:
                values[key] = float(value)
        return cls(**values)

    def replace(self, **changes: Any) -> RankingSettings:
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------- the question's intent

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
# Numbers as abstracts spell them out at a sentence's start: "Thirteen patients", "Twenty four Beagle dogs".
_NUMBER = (rf"(?:\d+(?:[.,]\d+)*|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-]+(?:{_UNITS}))?"
           rf"|{_UNITS}|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
           r"|dozens?|hundreds?|thousands?)")
# "How many people" is answered by a count of patients, participants or subjects ("how many patients" by patients).
_ANYONE = ("people", "persons", "individuals", "folks")
_PERSONS = ("people", "persons", "patients", "participants", "subjects", "individuals", "volunteers", "men", "women")
_DURATION = rf"\b{_NUMBER}(?:\s*(?:-|to|–)\s*{_NUMBER})?\s+(?:years?|months?|weeks?|days?|hours?)\b"


# "How much does X cost" expects a sum of money, not a dose.
_COST_QUESTION = re.compile(r"\bhow much\b.*\b(?:cost|costs|charge|charges|price|pay|paid|spend|set\s+\w+\s+back)\b"
                            r"|\bhow (?:expensive|pricey)\b|\bwhat (?:is|are|'s) the (?:cost|price|fee)s?\b", re.IGNORECASE)
_MONEY = re.compile(r"[$£€¥]\s?\d|\b\d[\d,.]*\s*(?:k\b|dollars|pounds|euros|usd|gbp|eur)\b", re.IGNORECASE)


# A study's follow-up time is how long the patients were watched, not how long a treatment lasts or takes.
_FOLLOW_UP = re.compile(rf"(?:\bfollow(?:ed|ing)?[\s-]*up\b[^.;]{{0,40}}?|\bfollowed\s+for\b[^.;]{{0,30}}?){_DURATION}"
                        r"(?:\s*\([^)]{0,40}\))?", re.IGNORECASE)


_AGE = r"\b\d+(?:-|\s+to\s+)?\d*-?\s*year-old|\b(?:twenties|thirties|forties|fifties|sixties|\d0s)\b|\baged?\s+\d+"
# "Who gets X" asks for the people it strikes: an age, or a group said to be most at risk.
_WHO_QUESTION = re.compile(r"\bwho\s+(?:\w+\s+){0,2}(?:gets?|develops?|is\s+(?:affected|at\s+risk)|are\s+(?:affected|at\s+risk)"
                           r"|is\s+(?:most\s+)?likely|catch(?:es)?)\b")
_GROUP = (r"\b(?:most|more|less|equally)\s+(?:\w+\s+){0,2}(?:common|likely|often)\s+(?:in|among|for)\b"
          r"|\b(?:people|patients|men|women|children|adults)\s+of\s+(?:any|all)\s+ages?\b")


# "What did Pak conclude": a study's conclusion, as abstracts and papers state one.
_CONCLUSION_QUESTION = re.compile(r"\bconclu\w*|\bbottom line\b|\btake-?aways?\b|\bmain (?:finding|result|message)s?\b")
_CONCLUSION = re.compile(
    r"\b(?:conclusions?|concluded?|in summary|to summari[sz]e|taken together"
    r"|(?:these|our|the|their) (?:results|findings|data|cases|observations) (?:suggest|indicate|show|demonstrate|support)"
    r"|(?:this|the present|our) (?:study|report|review|analysis|paper|series|case report) (?:suggests|shows|demonstrates|indicates|found))\b",
    re.IGNORECASE)


def expected_answer(query: str) -> re.Pattern | None:
    """What an answer to a 'how many / how long / how old / how common / how much / who gets / what did they conclude'
    question looks like.

    Classic answer-type matching: "how many patients" expects a number near
    "patients", "how long" a duration, "what age" an age, "how much does it
    cost" a sum of money, "who gets X" an age or a group X is most common in, "what did Pak conclude" a
    sentence stating a conclusion. Other questions: None.
    """
    q = query.lower()
    m = re.search(r"\bhow many\s+([a-z]+)", q)
    if m:
        counted = "|".join(w[:5] for w in _PERSONS) if m.group(1) in _ANYONE else re.escape(m.group(1)[:5])
        return re.compile(rf"\b{_NUMBER}\s+(?:[\w-]+\s+){{0,3}}(?:{counted})", re.IGNORECASE)
    if re.search(r"\bhow long\b", q):
        return re.compile(_DURATION, re.IGNORECASE)
    if re.search(r"\bhow old\b|\bwhat age\b|\bat what age\b", q):
        return re.compile(_AGE, re.IGNORECASE)
    if _WHO_QUESTION.search(q):
        return re.compile(rf"{_AGE}|{_GROUP}", re.IGNORECASE)
    if re.search(r"\bhow (?:common|often|frequent)\b|\bwhat (?:percent|percentage|proportion)\b", q):
        return re.compile(rf"\d+(?:\.\d+)?\s*%|\b{_NUMBER}\s+(?:new\s+)?(?:cases|people|patients)\b|\b(?:per|each|every|a)\s+year\b|\bannually\b", re.IGNORECASE)
    if _COST_QUESTION.search(q):
        return _MONEY
    if _CONCLUSION_QUESTION.search(q):
        return _CONCLUSION
    if re.search(r"\bhow much\b", q):
        return re.compile(rf"\b{_NUMBER}\s*(?:mg|ml|g|grams?|kg|%|percent|units?|cells)\b", re.IGNORECASE)
    return None


# Words that ask for the kind of answer rather than name what it is about ("how long does X last").
_CUE_WORDS = ("long last take stay remain old age common often frequent percent percentage proportion affected affect much many"
              " who usually typically mostly tend tends get gets develop develops risk likely"
              " conclude concluded conclusion conclusions bottom line takeaway takeaways main finding findings result results message")
# Class nouns a "what is X surgery" question may add to the name of X.
_GENERIC_WORDS = "surgery procedure operation treatment therapy condition disease disorder"
_DEFINITION_QUESTION = re.compile(
    r"^\s*(?:what|wat)\s*(?:is|are|'s|’s|was|were)\s+(?:an?\s+|the\s+)?(?P<a>.+?)\s*[?.!]*\s*$"
    r"|^\s*what\s+(?:does|do)\s+(?:an?\s+|the\s+)?(?P<b>.+?)\s+mean\s*[?.!]*\s*$"
    r"|^\s*(?:define|definition\s+of|meaning\s+of)\s+(?:an?\s+|the\s+)?(?P<c>.+?)\s*[?.!]*\s*$"
    r"|^\s*(?P<d>.+?)\s+(?:meaning|definition)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
# "X is a ...", "X involves ...", "X (also called Y) refers to ...": the verbs that define.
_DEFINING = (r"(?:is|are)\s+(?:an?|the|one|also|defined|when|any|caused|characteri[sz]ed|called|known)\b"
             r"|(?:refers?|refer)\s+to\b|means\b|involves?\b|consists?\s+of\b|contains?\b|(?:is|are)\s+(?:made|composed)\s+(?:up\s+)?of\b"
             r"|describes?\b|occurs?\s+when\b|happens?\s+when\b")
_SUBJECT_DEFINED = re.compile(rf"^\W*(?:in\s+)?(?P<subject>[^.;:!?]{{1,90}}?)\s*,?\s+(?:{_DEFINING})", re.IGNORECASE)
_IN_X = re.compile(r"^\W*in\s+(?P<subject>[^,.;:]{1,60}),", re.IGNORECASE)
_ANAPHOR = re.compile(rf"^\W*(?:this|these|that|it|the)\b(?:\s+[\w-]+){{0,3}}\s+(?:{_DEFINING})", re.IGNORECASE)
_SYNONYM = re.compile(r"(?:also\s+)?(?:known\s+as|called|termed)\s+(?P<subject>[^.;:]{1,80})", re.IGNORECASE)


# ---------------------------------------------------------------- a story told before the question

_MESSAGE_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")
_ASKS = re.compile(r"^\W*(?:what|whats|what's|how|why|when|where|which|who|whose|is|are|was|were|does|do|did|can|could|"
                   r"should|would|will|has|have|any|anyone|anybody)\b", re.IGNORECASE)
_FUNCTION_WORDS = frozenset(
    "the a an of to in on for and or but is are was were be it this that there their they i me my we you your he she his "  # noqa: SIM905
    "her do does did can could should would will what how why when where which who with about at as by from into than "
    "then so if not no yes just really actually any some true right".split())


def question_first(text: str) -> str:
    """A message that tells a story before it asks is searched with its question read twice, first.

    Patients tell their history, their medicines and their feelings, then ask something general ("...six
    years sober now, my hip aches. Is heavy drinking a risk factor for AVN?"). Searched as one text, the
    story outweighs the question; searched alone, the question loses the context it leans on ("is that
    right?"). On the dev banks' 587 answerable messages that hold both, the document that answers comes
    first for 0.680 of them read this way (in the first five: 0.959), against 0.652 (0.947) as written; the
    question alone did no better than the message as written. The abstention model, refitted on each
    reading, answers more and withholds as well (dev, cross-validated: precision 0.948 against 0.937,
    recall 0.901 against 0.900, answerable answered 0.949 against 0.937). The question
    sentences end in "?" or open like one; a question of fewer than four content words takes the sentence
    before it along. A message of one sentence, or with no question or nothing but questions, is unchanged.
    """
    sentences = [s for s in _MESSAGE_SENTENCE_END.split(text.strip()) if s]
    if len(sentences) < 2:
        return text
    asks = [i for i, s in enumerate(sentences) if s.rstrip().endswith("?") or _ASKS.match(s)]
    if not asks or len(asks) == len(sentences):
        return text
    content = [w for i in asks for w in re.findall(r"[a-z']+", sentences[i].lower()) if w not in _FUNCTION_WORDS]
    keep = set(asks)
    if len(content) < 4 and asks[0] > 0:
        keep.add(asks[0] - 1)
    return " ".join(sentences[i] for i in sorted(keep)) + " " + text


@dataclass(frozen=True)
class Intent:
    """What kind of answer a question asks for, read once per question."""

    answer: re.Pattern | None = None  # the expected answer of a count, duration, age, rate or quantity question
    focus: frozenset[str] = frozenset()  # stemmed words naming what that answer is about
    defines: frozenset[str] = frozenset()  # stemmed words of the term a "what is X" question asks to define
    ignored: re.Pattern | None = None  # spans that look like the answer but are not one (a study's follow-up time)


def read_intent(query: str, stem: bool = True) -> Intent:
    answer = expected_answer(query)
    focus: frozenset[str] = frozenset()
    if answer is not None:
        cue = set(bm25_tokens(_CUE_WORDS, stem))
        m = re.search(r"\bhow many\s+([a-z]+)", query.lower())
        counted = set(bm25_tokens(m.group(1), stem)) if m else set()
        focus = frozenset(t for t in bm25_tokens(query, stem) if t not in cue and t not in counted)
    defines: frozenset[str] = frozenset()
    m = _DEFINITION_QUESTION.match(query)
    if m and answer is None:
        term = next(g for g in m.groups() if g)
        words = [t for t in bm25_tokens(term, stem) if not t.isdigit()]
        generic = set(bm25_tokens(_GENERIC_WORDS, stem))
        core = [t for t in words if t not in generic]
        if 0 < len(core or words) <= 5:
            defines = frozenset(core or words)
    # "How long does a hip replacement last" is not answered by "patients were followed up for 5 years";
    # "how long was the follow-up" is.
    ignored = _FOLLOW_UP if re.search(r"\bhow long\b", query, re.IGNORECASE) and not re.search(
        r"\bfollow", query, re.IGNORECASE) else None
    return Intent(answer, focus, defines, ignored)


def _covers(words: frozenset[str], text: str, stem: bool) -> bool:
    return bool(words) and words <= set(bm25_tokens(text, stem))


def defines_term(text: str, term: frozenset[str], document: str, stem: bool = True) -> bool:
    """Whether a sentence of ``text`` defines the term: "X is a ...", "In X, ...", "... known as X",
    or "This procedure involves ..." right after a sentence (or under a document title) naming X."""
    sentences = [text[s:e] for s, e in split_sentences(text)] or [text]
    for i, sentence in enumerate(sentences):
        for pattern in (_SUBJECT_DEFINED, _IN_X, _SYNONYM):
            m = pattern.search(sentence) if pattern is _SYNONYM else pattern.match(sentence)
            if m and _covers(term, m.group("subject"), stem):
                return True
        if _ANAPHOR.match(sentence):
            before = sentences[i - 1] if i else document
            if _covers(term, before, stem):
                return True
    return False


def answer_strength(text: str, intent: Intent, document: str, stem: bool = True) -> float:
    """How well ``text`` answers a count, duration, age, rate or quantity question, from 0 to 1.

    0 when no sentence holds an answer of the expected kind. Otherwise the best
    share, over the sentences that hold one, of the question's focus words found
    in that sentence, the one before it or the document's fields (1 when the
    question has no focus words): "how long does a hip replacement last" prefers
    the duration said of hip replacements over a follow-up time, and "how many
    patients were in the case report" the count in the case report.
    """
    if intent.answer is not None and intent.ignored is not None:
        text = intent.ignored.sub(" ", text)
    if intent.answer is None or not intent.answer.search(text):
        return 0.0
    if not intent.focus:
        return 1.0
    fields = set(bm25_tokens(document, stem))
    sentences = [text[s:e] for s, e in split_sentences(text)] or [text]
    best = 0.0
    for i, sentence in enumerate(sentences):
        if intent.answer.search(sentence):
            words = fields | set(bm25_tokens(sentence if i == 0 else f"{sentences[i - 1]} {sentence}", stem))
            best = max(best, len(intent.focus & words) / len(intent.focus))
    return best


# ---------------------------------------------------------------- the ranking


class Query(NamedTuple):
    """A question as each system reads it."""

    text: str
    vector: np.ndarray | None  # the dense model's reading (abbreviations spelled out); None: BM25 only
    tokens: list[str]  # BM25's reading (as typed)
    intent: Intent
    # The model's own reading before a query map (None: no map, ``vector`` is it). Models fitted on the
    # model's vectors (the kinds) read this one: a map learned for ranking moves questions they never saw.
    unmapped: np.ndarray | None = None


# Documents whose fields score best for the question add their passages to the candidates.
NAMED_DOCUMENTS = 3


class Candidates(NamedTuple):
    """One question's candidate rows with every score the fusion may read (computed once, whatever the settings)."""

    rows: np.ndarray
    dense: np.ndarray  # cosine of the question to the row (nan without a question vector)
    bm25: np.ndarray
    title_dense: np.ndarray  # cosine of the question to the row's document title
    title_bm25: np.ndarray  # BM25 of the row's document fields
    dense_rank: np.ndarray  # rank in the dense search (0: not among its candidates)
    bm25_rank: np.ndarray  # rank among every row's BM25 score (0: no term in common)
    stored: np.ndarray | None  # the rows' indexed vectors (for feedback); None without a question vector
    vector: np.ndarray | None  # the question's vector
    answer: np.ndarray  # answer_strength of each row (0 when the question expects no particular kind of answer)
    definition: np.ndarray  # 1 where the row defines what a "what is X" question names
    kind: np.ndarray  # probability that the row gives the kind of answer the question asks for (0: not read)
    best_dense: float  # the question's own best cosine in the whole index (before any feedback)
    best_bm25: float  # its best BM25 score in the whole index
    expects_answer: bool = False  # the question asks for a kind of answer and the rows were read for it


class Scored(NamedTuple):
    """The searcher's order for one question: rows best first, with every system's score for each."""

    rows: np.ndarray
    scores: np.ndarray  # fused, scaled so the best candidate is 1, plus intent bonuses
    dense: np.ndarray
    bm25: np.ndarray
    dense_rank: np.ndarray
    bm25_rank: np.ndarray
    best_dense: float
    best_bm25: float
    answer: np.ndarray  # each row's answer strength (all 0 when the question expects no kind of answer)
    expects_answer: bool  # whether the question asks for a count, duration, age, rate or sum


class Searcher:
    """The one ranking component: rows of a ``SearchCore`` ordered for a question.

    ``text_of(row)`` is the row's indexed text and ``document_of(doc)`` its
    document's fields, as ``SearchCore`` indexes them (read by the intent checks).
    ``kinds`` reads the kind of question and passage (``kinds.KindModel``;
    None: no kinds are read, whatever the settings' ``kind_bonus``).
    ``query_map`` maps each question vector before it is searched (``querymap.QueryMap``,
    learned for a benchmark from its judged questions; None: read as the model reads it).
    """

    def __init__(self, core: SearchCore, settings: RankingSettings, text_of: Callable[[int], str],
                 document_of: Callable[[int], str], kinds: KindModel | None = None,
                 query_map: QueryMap | None = None):
        self.core = core
        self.settings = settings
        self.text_of = text_of
        self.document_of = document_of
        self.kinds = kinds
        self.query_map = query_map

    def query(self, text: str, vector: np.ndarray | None, tokens: list[str] | None = None) -> Query:
        tokens = bm25_tokens(text, self.core.stem) if tokens is None else tokens
        if vector is not None and self.query_map is not None:
            return Query(text, self.query_map.apply(vector), tokens, read_intent(text, self.core.stem), vector)
        return Query(text, vector, tokens, read_intent(text, self.core.stem))

    def rank(self, q: Query, allowed: np.ndarray | None = None, settings: RankingSettings | None = None) -> Scored:
        """``q``'s candidates in order (``candidates`` then ``order``)."""
        s = settings or self.settings
        return self.order(self.candidates(q, s.candidates, allowed, answers=s.answer_type_bonus > 0,
                                          definitions=s.definition_bonus > 0, kinds=s.kind_bonus > 0), s)

    def candidates(self, q: Query, n: int, allowed: np.ndarray | None = None, answers: bool = True,
                   definitions: bool = True, kinds: bool = True) -> Candidates:
        """The union of the ``n`` best rows of one dense search and of one BM25 scoring, each scored by every system.

        Scores of rows one system did not return come from the stored vectors
        and the BM25 scores already computed: nothing is searched twice.
        ``allowed`` is a boolean mask of rows a filter lets through; a filtered
        search looks at every row, so that a filter never hides a match.
        ``answers`` / ``definitions``: whether to read the rows for the question's
        intent (the slowest step, skipped when the corpus's settings give it no weight;
        tuning asks for everything once). ``kinds``: whether to read the kind of
        question and rows (from the stored vectors; cheap, skipped likewise).
        """
        core = self.core
        found = core.dense(q.vector, n if allowed is None else core.size) if q.vector is not None else None
        all_bm25 = core.bm25_scores(q.tokens)
        best_dense = float(found.scores[0]) if found is not None and len(found.rows) else 0.0
        best_bm25 = float(all_bm25.max()) if len(all_bm25) else 0.0
        dense_rows = found.rows if found is not None else np.zeros(0, dtype=np.int64)
        lexical = np.flatnonzero(all_bm25 > 0)
        if allowed is not None:
            dense_rows = dense_rows[allowed[dense_rows]]
            lexical = lexical[allowed[lexical]]
        if len(lexical) > n:
            lexical = lexical[np.argpartition(-all_bm25[lexical], n - 1)[:n]]
        # The document fields are a third system: passages of documents whose own fields match ("Olsen 2016")
        # join the candidates even when no passage repeats those words.
        doc_dense, doc_bm25 = core.document_scores(q.vector, q.tokens)
        named = np.flatnonzero(doc_bm25 > 0)
        named = named[np.argsort(-doc_bm25[named], kind="stable")[:NAMED_DOCUMENTS]]
        of_named = np.flatnonzero(np.isin(core.owner, named)) if len(named) else np.zeros(0, dtype=np.int64)
        if allowed is not None:
            of_named = of_named[allowed[of_named]]
        rows = np.asarray(list(dict.fromkeys([*dense_rows[:n].tolist(), *lexical.tolist(), *of_named[:n].tolist()])),
                          dtype=np.int64)
        stored = core.stored_vectors(rows) if q.vector is not None else None
        dense = stored @ q.vector if stored is not None else np.full(len(rows), np.nan)
        docs = core.owner[rows]
        title_dense = doc_dense[docs].astype(np.float64) if q.vector is not None else np.full(len(rows), np.nan)
        position = {int(r): i + 1 for i, r in enumerate(found.rows)} if found is not None else {}
        dense_rank = np.asarray([position.get(int(r), 0) for r in rows], dtype=np.int64)
        bm25 = all_bm25[rows].astype(np.float64)
        ascending = np.sort(all_bm25)
        bm25_rank = np.where(bm25 > 0, len(ascending) - np.searchsorted(ascending, bm25, side="right") + 1, 0).astype(np.int64)
        answer, definition = self.intent(q.intent, rows, answers, definitions)
        kind = (self.kinds.agreement(q.vector if q.unmapped is None else q.unmapped, stored) if kinds and self.kinds is not None and stored is not None
                and q.vector is not None else np.zeros(len(rows)))
        return Candidates(rows, np.asarray(dense, dtype=np.float64), bm25, title_dense, doc_bm25[docs].astype(np.float64),
                          dense_rank, bm25_rank, stored, q.vector, answer, definition, kind, best_dense, best_bm25,
                          answers and q.intent.answer is not None)

    def intent(self, intent: Intent, rows: np.ndarray, answers: bool = True,
               definitions: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """How well each row answers the kind of question asked, and whether it defines the term asked about."""
        answer = np.zeros(len(rows))
        definition = np.zeros(len(rows))
        intent = dataclasses.replace(intent, answer=intent.answer if answers else None,
                                     defines=intent.defines if definitions else frozenset())
        if intent.answer is None and not intent.defines:
            return answer, definition
        stem = self.core.stem
        for i, row in enumerate(rows.tolist()):
            text = self.text_of(row)
            document = self.document_of(int(self.core.owner[row]))
            if intent.answer is not None:
                answer[i] = answer_strength(text, intent, document, stem)
            if intent.defines and defines_term(text, intent.defines, document, stem):
                definition[i] = 1.0
        return answer, definition

    def order(self, c: Candidates, s: RankingSettings) -> Scored:
        """Fuse the candidates' scores as ``s`` says, apply feedback and the intent bonuses, and sort."""
        if len(c.rows) == 0:
            return Scored(c.rows, c.dense, c.dense, c.bm25, c.dense_rank, c.bm25_rank, c.best_dense, c.best_bm25,
                          c.answer, c.expects_answer)
        # RRF reads each system's own list: a row the dense search did not return has no dense rank.
        dense = np.where(c.dense_rank > 0, c.dense, np.nan) if s.fusion is Fusion.RRF else c.dense
        columns = [dense, np.where(c.bm25 > 0, c.bm25, np.nan), c.title_dense, c.title_bm25]
        fused = s.fusion.fuse(columns, s.weights, s.rrf_k)
        if c.stored is not None and c.vector is not None and s.prf_docs > 0 and s.prf_weight > 0:
            # Rocchio feedback, re-scored over the same candidates from their stored vectors (no second search).
            top = np.argsort(-fused, kind="stable")[: s.prf_docs]
            moved = c.vector + s.prf_weight * c.stored[top].mean(axis=0)
            columns[0] = c.stored @ (moved / (np.linalg.norm(moved) or 1.0))
            fused = s.fusion.fuse(columns, s.weights, s.rrf_k)
        scores = (_scaled(fused) + s.answer_type_bonus * c.answer + s.definition_bonus * c.definition
                  + s.kind_bonus * c.kind)
        order = np.lexsort((c.rows, -scores))
        return Scored(c.rows[order], scores[order], c.dense[order], c.bm25[order], c.dense_rank[order], c.bm25_rank[order],
                      c.best_dense, c.best_bm25, c.answer[order], c.expects_answer)


def _scaled(fused: np.ndarray) -> np.ndarray:
    """Fused scores scaled to [0, 1] over the candidates (the best is 1), whatever the fusion's own scale."""
    if len(fused) == 0:
        return fused
    lo, hi = float(fused.min()), float(fused.max())
    return np.ones_like(fused) if hi - lo < 1e-12 else (fused - lo) / (hi - lo)


# ---------------------------------------------------------------- the product: passages of the corpus index


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


@dataclass(frozen=True)
class Ranking:
    """One question's passages in order, and its strongest raw evidence in the whole index (what abstention reads)."""

    query: str
    hits: tuple[Hit, ...]
    best_dense: float  # the question's own best cosine to any passage, before feedback moves its vector
    best_bm25: float  # its best BM25 score against any passage
    # For a count, duration, age, rate or cost question, how well the best-ranked passages hold that kind of
    # answer (``answer_strength``, best of the first ``ANSWER_DEPTH``); None for other questions.
    answer_found: float | None = None


# How deep in a ranking abstention looks for the kind of answer a question asks for (about what is quoted).
ANSWER_DEPTH = 5


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


def named_documents(query: str, authors: dict[str, set[str]], years: Mapping[str, int | None] | None = None) -> set[str]:
    """Documents whose first author the query names ("Olsen 2016", "what did Hernigou find").

    An author with several papers is narrowed by a year the query gives ("Pak 2011" is the case series,
    not Pak's 2012 report); a year that none of them carries narrows nothing.
    """
    words = {re.sub(r"['’]s?$", "", w.lower()) for w in re.findall(r"[^\W\d_][\w'’-]*", query)}  # "Gangji's" names Gangji
    given = {int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", query)}
    out: set[str] = set()
    for w in words & authors.keys():
        docs = authors[w]
        dated = {d for d in docs if years is not None and years.get(d) in given}
        out |= dated or docs
    return out


class Retriever:
    """A loaded index and model with the corpus's ``Searcher``, shared read-only by every thread of the process."""

    def __init__(self, index: CorpusIndex, embedder, cfg: Config, corpus: Corpus | None = None):
        self.index = index
        self.embedder = embedder
        self.cfg = cfg
        self.corpus = corpus  # the source texts quotes are verified against
        self.authors = author_index(index.documents)  # built once: every answer asks it
        self.years = {d: m.year for d, m in index.documents.items()}
        definitions, _ = passage_abbreviations(index.passages)
        passages = index.passages

        @lru_cache(maxsize=4096)
        def text_of(row: int) -> str:
            p = passages[row]
            return expand(p.text, definitions.get(p.doc_id, {}))

        fields = [document_text(m) for m in index.documents.values()]
        query_map = query_map_for_corpus(index.manifest.get("corpus_hash")) if cfg.query_map else None
        self.searcher = Searcher(index.core, RankingSettings.from_config(cfg), text_of, fields.__getitem__, shipped_kinds(),
                                 query_map)

    def named_documents(self, query: str) -> set[str]:
        return named_documents(query, self.authors, self.years)

    def read_query(self, query: str) -> str:
        """The question as searched (``question_first``), its abbreviations spelled out as the corpus defines
        them, like the passages."""
        return expand(question_first(query), self.index.abbreviations)

    def encode_query(self, query: str) -> np.ndarray:
        """The dense model reads the question with abbreviations spelled out ("PRP" reaches "platelet-rich plasma").

        BM25 reads it as typed (``query_tokens``): on NFCorpus dev the dense
        reading gains 0.002 nDCG@10, while giving BM25 the added words loses 0.0006.
        """
        return self.embedder.encode_query(self.read_query(query))

    def query_tokens(self, query: str) -> list[str]:
        return bm25_tokens(query, self.index.core.stem)

    def rank(self, query: str, k: int | None = None, qvec: np.ndarray | None = None, source_types: set[str] | None = None,
             doc_ids: set[str] | None = None, sections: set[str] | None = None) -> Ranking:
        """The question's passages, best first (at most ``k``), with its raw best cosine and BM25 score.

        ``qvec`` is the question's vector when the caller has it (``encode_query``): the model then does not run again.
        """
        allowed = None
        if source_types or doc_ids or sections:
            allowed = np.array([
                (not source_types or p.source_type in source_types)
                and (not doc_ids or p.doc_id in doc_ids)
                and (not sections or p.section in sections)
                for p in self.index.passages
            ], dtype=bool)
        if qvec is None:
            qvec = self.encode_query(query)
        searched = question_first(query)
        scored = self.searcher.rank(self.searcher.query(searched, qvec, self.query_tokens(searched)), allowed)
        k = len(scored.rows) if k is None else k
        hits = tuple(
            Hit(self.index.passages[int(row)], float(score), float(d), float(b) if b > 0 else None,
                int(dr) or None, int(br) or None)
            for row, score, d, b, dr, br in zip(scored.rows[:k], scored.scores, scored.dense, scored.bm25,
                                                scored.dense_rank, scored.bm25_rank)
        )
        found = float(scored.answer[:ANSWER_DEPTH].max(initial=0.0)) if scored.expects_answer else None
        return Ranking(query, hits, scored.best_dense, scored.best_bm25, found)

    def search(self, query: str, k: int | None = None, source_types: set[str] | None = None,
               doc_ids: set[str] | None = None, sections: set[str] | None = None,
               qvec: np.ndarray | None = None) -> list[Hit]:
        """Staff search: the ``k`` best passages (default ``top_k``), optionally filtered."""
        return list(self.rank(query, k or self.cfg.top_k, qvec, source_types, doc_ids, sections).hits)


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
           cfg.passage_max_chars, cfg.passage_overlap_sentences, cfg.stem, cfg.bm25_k1, cfg.bm25_b,
           RankingSettings.from_config(cfg), cfg.query_map)
    with _LOCK:
        cached = _RETRIEVERS.get(key)
        if cached is not None:
            return cached
        say = notice or (lambda msg: None)
        embedder = get_embedder(cfg.model)
        corpus = corpus or load_corpus(cfg.corpus_dir, trusted_sidecars(cfg.index_dir))
        reason = None
        try:
            manifest = read_manifest(cfg.index_dir)
            reasons = stale_reasons(manifest, cfg, corpus, embedder.info)
            if reasons:
                reason = "the index is stale: " + "; ".join(reasons)
        except IndexError_ as e:
            reason = e.problem
        if reason:
            if not auto_build:
                raise IndexError_(reason, "run `edubot build`")
            say(reason + "; building it now")
            build_index(cfg, corpus, progress=progress, embedder=embedder)
        try:
            index = load_index(cfg.index_dir)
        except IndexError_ as e:
            if not auto_build:
                raise
            say(e.problem + "; rebuilding it now")
            build_index(cfg, corpus, progress=progress, embedder=embedder)
            index = load_index(cfg.index_dir)
        retriever = Retriever(index, embedder, cfg, corpus)
        _RETRIEVERS[key] = retriever
        return retriever


def forget_retrievers() -> None:
    """Drop cached retrievers (after a rebuild in the same process)."""
    with _LOCK:
        _RETRIEVERS.clear()
