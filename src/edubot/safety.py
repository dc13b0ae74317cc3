"""Triage before retrieval: emergencies, requests for personal advice, unusable input.

Emergency detection favours recall: a missed emergency is far worse than an
extra warning, so the patterns are broad and are checked before anything else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Status = Literal["answered", "no_answer", "urgent", "personal_advice", "invalid"]

# Zero-width, bidirectional overrides and other format characters: invisible, and a way to hide text.
_FORMAT_CATEGORIES = {"Cf", "Cc", "Cs", "Co", "Cn"}

_URGENT = [re.compile(p, re.I) for p in (
    r"\bchest (pain|pains|tightness|pressure)\b", r"\bpain in (my|the) chest\b", r"\bheart attack\b",
    r"\b(can'?t|cannot|can not|unable to|trouble|difficulty|hard to|struggling to|hardly)\s+(breath|breathe|breathing)\b",
    r"\bshort(ness)? of breath\b", r"\bnot breathing\b", r"\bchoking\b",
    r"\bsuicid", r"\bkill(ing)? (my ?self|myself)\b", r"\bend(ing)? (my life|it all|things|my own life)\b",
    r"\btake my (own )?life\b", r"\bwant(ing)? to die\b", r"\b(don'?t|do not) want to (live|be alive|wake up)\b",
    r"\bbetter off dead\b", r"\b(hurt|harm|cut|burn)(ing|ting)?\s+(my ?self|myself)\b", r"\bself[- ]?harm",
    r"\bno reason to live\b",
    r"\boverdos", r"\btook (too many|too much|a lot of|all (my|the))\b", r"\bswallowed (too many|a bottle|all)\b",
    r"\bpoison", r"\bunconscious\b", r"\bpassed out\b", r"\bfainted\b", r"\bunresponsive\b",
    r"\bseizure", r"\bconvuls", r"\bstroke\b", r"\bface (is )?droop", r"\bslurred speech\b",
    r"\b(severe|heavy|uncontrolled|won'?t stop) bleeding\b", r"\bbleeding (heavily|a lot|won'?t stop)\b",
    r"\bvomiting blood\b", r"\bcoughing (up )?blood\b",
    r"\b(suddenly|sudden)\b.*\b(can'?t|cannot|unable to|not able to)\s+(move|walk|feel|stand)\b",
    r"\b(can'?t|cannot|unable to)\s+(move|feel)\s+my\s+(leg|legs|arm|arms|foot|feet|hip)\b",
    r"\b(fever|temperature)\b.*\b(can'?t|cannot|unable to)\s+(move|walk|stand)\b",
    r"\b(can'?t|cannot|unable to)\s+(move|walk|stand)\b.*\b(fever|temperature)\b",
    r"\b(throat|tongue|lips?) (is |are )?(swelling|swollen|closing)\b", r"\banaphyla",
    r"\bemergency\b", r"\b(call|calling) (911|999|112|an ambulance)\b", r"\bambulance\b",
    r"\bworst headache\b", r"\b(very|extremely) high fever\b", r"\bfever (of )?(10[4-9]|4[0-2])\b",
    r"\bbroke(n)? .*\bbone\b.*\b(sticking out|through the skin)\b",
)]

_ADVICE = [re.compile(p, re.I) for p in (
    r"\bshould (i|we|my (husband|wife|son|daughter|mother|father|mom|dad|child))\b",
    r"\bwhat (should|do|would you recommend|would you suggest) (i|we)\b",
    r"\b(which|what) (treatment|option|procedure|surgery|therapy|medicine|medication|drug|doctor|clinic)s? (should|is best|is right|would be best|do you recommend)\b",
    r"\b(is|would) (it|this|that|[a-z ]{1,30}) (right|best|good|safe|ok|okay) for (me|my)\b",
    r"\bhow (much|many|often) (\w+ )?(should|can|do) i (take|use|have)\b",
    r"\b(dose|dosage|dosing) (for|of) (me|my)\b", r"\bwhat dose\b",
    r"\bcan i (stop|quit|skip|change|switch|come off|reduce|increase|double)\b",
    r"\b(stop|quit|change|switch) (taking )?my (medicine|medication|meds|pills|steroids|prednisone|treatment)\b",
    r"\bdo i (need|have to get|have to have) (surgery|an operation|a hip replacement|treatment|a biopsy)\b",
    r"\bam i a (good )?candidate\b", r"\bwould you recommend\b", r"\brecommend (for|to) me\b",
    r"\bfor my (case|condition|hip|knee|pain|situation)\b.*\?",
    r"\b(i have|i was diagnosed with|my doctor (said|told me|wants)).*\b(what|should|which|do i)\b",
)]

_LATIN = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_OTHER_LANGUAGES = ("es", "fr", "de", "it", "pt", "nl", "pl", "tr", "id", "sv")


def normalize(text: str) -> str:
    """NFKC, with control, zero-width and direction-override characters removed and spaces collapsed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(" " if ch in "\t\n\r\v\f" else ch for ch in text if ch in "\t\n\r\v\f" or unicodedata.category(ch) not in _FORMAT_CATEGORIES)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=20_000)
def _zipf(word: str, lang: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang)


def looks_english(text: str) -> bool:
    """False for text mostly in another script or language: it gets an honest 'not in my sources'."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    if sum(1 for ch in letters if _LATIN.match(ch)) / len(letters) < 0.6:
        return False
    words = [w.lower() for w in _WORD.findall(text) if len(w) > 1]
    if len(words) < 3:
        return True  # too short to judge: a keyword search such as "tantalum"
    english = sum(_zipf(w, "en") for w in words)
    other = max(sum(_zipf(w, lang) for w in words) for lang in _OTHER_LANGUAGES)
    return english >= other * 0.85


@dataclass(frozen=True)
class Triage:
    status: Status | None  # None: go on and search
    text: str  # the normalised question
    reason: str = ""
    english: bool = True


def triage(raw: str, max_chars: int) -> Triage:
    if raw is None or not isinstance(raw, str):
        return Triage("invalid", "", "empty")
    if len(raw) > max_chars * 4:
        return Triage("invalid", "", f"too_long:{len(raw)}")
    text = normalize(raw)
    if not text:
        return Triage("invalid", "", "empty")
    if len(text) > max_chars:
        return Triage("invalid", text, f"too_long:{len(text)}")
    if not any(ch.isalpha() for ch in text):
        return Triage("invalid", text, "unreadable")
    for pattern in _URGENT:
        if pattern.search(text):
            return Triage("urgent", text, pattern.pattern)
    english = looks_english(text)
    if english:
        for pattern in _ADVICE:
            if pattern.search(text):
                return Triage("personal_advice", text, pattern.pattern)
    return Triage(None, text, english=english)
