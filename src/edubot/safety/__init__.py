"""Triage before retrieval: emergencies, requests for personal advice, unusable input.

Three layers read every message, and any one of them finding an emergency
makes it ``urgent`` (a missed emergency is the worst failure EduBot can make):

1. ``text``: patient text normalised — text speak and contractions spelled
   out, misspellings of lexicon and corpus words corrected, temperatures and
   pill counts turned into facts;
2. ``lexicon``: concept lexicons per emergency category, combined by
   co-occurrence rules, negation- and history-aware (``lexicon.toml``);
3. ``classifier``: logistic regressions over sentence-window embeddings from
   the model EduBot already loads, trained on a labelled bank with hard
   negatives; for a message in another language, the same kind of classifier
   over a multilingual model's embeddings (``multilingual``), with a lower bar
   for an emergency (such a message is never answered with quotes anyway).

The emergency check reads the whole raw message before the length cap and the
language check, so a long post or a message in Spanish is never turned away
before it is read. Personal-advice requests are found the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

from .classifier import WindowClassifier, load_classifier
from .lexicon import Lexicon, LexiconError, load_lexicon
from .multilingual import encode as encode_multilingual
from .multilingual import load_multilingual
from .text import PatientText, Reader, Speller, looks_english, looks_like_mash, normalize

__all__ = ["LexiconError", "Status", "Triage", "Triager", "default_triager", "looks_english", "normalize", "triage"]

Status = Literal["answered", "no_answer", "urgent", "personal_advice", "invalid"]
Encode = Callable[[list[str]], np.ndarray]

# The emergency check reads at most this much of a message (far beyond any real one).
SCAN_LIMIT = 50_000


@dataclass(frozen=True)
class Triage:
    status: Status | None  # None: go on and search
    text: str  # the message as shown back (normalised)
    reason: str = ""
    english: bool = True
    search_text: str = ""  # what retrieval reads: text speak expanded, misspellings corrected
    category: str = ""  # the emergency category or "personal_advice" that fired
    layer: str = ""  # "lexicon", "classifier" or "multilingual"
    scores: dict = field(default_factory=dict, compare=False)  # the classifier's, when it ran


class Triager:
    """All triage layers, built once and shared read-only by every thread.

    ``vocabulary`` (the corpus's words) joins the lexicon's as targets for
    spelling correction, so "osteonecrossis" is read as the corpus spells it.
    Without ``encode`` (no model loaded yet) only the rule layers run.
    ``multilingual`` reads messages that are not English, and English ones the
    MiniLM classifier is unsure about, through ``encode_other``
    (multilingual-e5 by default).
    """

    def __init__(self, lexicon: Lexicon, classifier: WindowClassifier | None = None,
                 vocabulary: Iterable[str] = (), max_chars: int = 1000,
                 multilingual: WindowClassifier | None = None, encode_other: Encode = encode_multilingual):
        self.lexicon = lexicon
        self.classifier = classifier
        self.multilingual = multilingual
        self.encode_other = encode_other
        self.max_chars = max_chars
        self.reader = Reader(lexicon.slang, Speller(set(lexicon.words) | set(vocabulary)))

    def read(self, message: str) -> PatientText:
        return self.reader.read(message)

    def triage(self, raw: object, encode: Encode | None = None) -> Triage:
        if raw is None or not isinstance(raw, str):
            return Triage("invalid", "", "empty")
        reading = self.read(raw[:SCAN_LIMIT])
        shown = reading.shown
        # 1. Emergencies first, on the whole message, in any language.
        found = self.lexicon.findings(reading.detect, "urgent")
        if found:
            return Triage("urgent", shown, str(found[0].rule), search_text=reading.corrected,
                          category=found[0].rule.category, layer="lexicon")
        scores: dict[str, float] = {}
        if encode is not None and any(ch.isalpha() for ch in shown):
            # Nothing to read without a letter ("😩😩😩🙏" scored 0.62: the models' scores there are noise).
            # MiniLM reads English only (on other languages its scores are noise: "mi madre tiene la rodilla
            # hinchada desde hace años" scores 0.93); the multilingual model reads the rest, as written, since
            # the English spelling corrector would garble them.
            clf: WindowClassifier | None
            if self.multilingual is not None and not reading.english:
                clf, text, layer, encoder = self.multilingual, shown, "multilingual", self.encode_other
            else:
                clf, text, layer, encoder = self.classifier, reading.corrected, "classifier", encode
            if clf is not None:
                scores = clf.scores(text, encoder, self.lexicon)
                # A message in another language is never quoted to, so its bar for an emergency is lower
                # (``meta["other_languages_urgent"]``, set by ``edubot triage-train``).
                bar = clf.thresholds["urgent"]
                if layer == "multilingual":
                    bar = min(bar, clf.meta.get("other_languages_urgent", bar))
                if scores["urgent"] >= bar:
                    return Triage("urgent", shown, f"{layer} {scores['urgent']:.2f}", search_text=reading.corrected,
                                  category="classifier", layer=layer, scores=scores)
            # A cascade for English: when MiniLM is unsure, the stronger multilingual model reads the message
            # too (it costs 10-30 ms, so only messages scoring above what 95% of calm dev questions score pay).
            ml = self.multilingual
            unsure = ml.meta.get("english_from") if ml is not None else None
            if ml is not None and layer == "classifier" and unsure is not None and scores.get("urgent", 0.0) >= unsure:
                second = ml.scores(shown, self.encode_other, self.lexicon)
                scores = {**scores, "multilingual_urgent": second["urgent"]}
                if second["urgent"] >= ml.thresholds["urgent"]:
                    return Triage("urgent", shown, f"multilingual {second['urgent']:.2f}", search_text=reading.corrected,
                                  category="classifier", layer="multilingual", scores=scores)
        # 2. Unusable input.
        if not shown:
            return Triage("invalid", "", "empty")
        if len(shown) > self.max_chars:
            # Too long to search, but a request for advice still gets the advice reply rather than "too long".
            if self.lexicon.findings(reading.detect, "advice") and reading.english:
                return Triage("personal_advice", shown, f"too_long:{len(shown)}", search_text="",
                              category="personal_advice", layer="lexicon", scores=scores)
            return Triage("invalid", shown, f"too_long:{len(shown)}")
        if not any(ch.isalpha() for ch in shown) or looks_like_mash(shown):
            return Triage("invalid", shown, "unreadable")
        # 3. Language, then requests for personal advice.
        english = reading.english  # judged with text speak spelled out ("wat is" is English)
        if english:
            advice = self.lexicon.findings(reading.detect, "advice")
            if advice:
                return Triage("personal_advice", shown, str(advice[0].rule), search_text=reading.corrected,
                              category="personal_advice", layer="lexicon", scores=scores)
            if scores and self.classifier is not None and "advice" in self.classifier.fires(scores):
                return Triage("personal_advice", shown, f"classifier {scores['advice']:.2f}",
                              search_text=reading.corrected, category="personal_advice", layer="classifier", scores=scores)
        return Triage(None, shown, english=english, search_text=reading.corrected, scores=scores)


@lru_cache(maxsize=4)
def default_triager(max_chars: int = 1000, extra_lexicon: str | None = None) -> Triager:
    """The rule layers with the bundled lexicon (and a clinic's file): what answers before a model is loaded."""
    return Triager(load_lexicon(extra_lexicon), load_classifier(), max_chars=max_chars, multilingual=load_multilingual())


def triage(raw: object, max_chars: int = 1000, encode: Encode | None = None) -> Triage:
    """Triage with the bundled lexicon and classifier; the classifier runs only when ``encode`` is given."""
    return default_triager(max_chars).triage(raw, encode)
