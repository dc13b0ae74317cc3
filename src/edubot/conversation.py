"""Reading a short follow-up with the question before it, deterministically.

"And what about the second patient?" means nothing on its own; after "Was a
biopsy done in the stem cell case report?" it does. EduBot writes no text, so
it does not rephrase: a follow-up is searched as the earlier question's search
text followed by the follow-up's own words, and the answer says which earlier
question it was read with (a fixed template and the patient's own words).

A question counts as a follow-up when the turn just before it was answered
(with quotes), and it either opens with a continuation ("and", "what about",
"also", ...; at most four words of its own subject) or leans on an earlier
subject through a pronoun or "the other / the second ..." (at most two words of
its own subject). Anything longer or more specific stands on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Statuses whose question has a subject the corpus knows (an answer with quotes).
ANSWERED = ("answered", "personal_advice")

_CUES = ("and", "but", "also", "so", "then", "or", "plus", "what about", "how about", "what of", "and what about",
         "same for", "same question for", "is that", "and is", "and does", "and did", "and how", "and what", "and why")
_ANAPHORS = frozenset("""
it its it's itself they them their theirs themselves this that these those he him his she her hers
""".split())  # noqa: SIM905
_BACKREFS = ("the other", "the second", "the first", "the third", "the same", "the latter", "the former", "that one",
             "this one", "the one")
_STOP = frozenset("""
a an the and or but so also then plus of in on at to for from by with about as into than too very just
is are was were be been being am do does did done doing have has had having can could will would shall should
may might must what which who whom whose when where why how whether if there here not no yes any some
i me my we our you your it its it's they them their this that these those he him his she her
what's how's who's there's same other second first third one latter former
""".split())  # noqa: SIM905
_WORD = re.compile(r"[a-z0-9][a-z0-9'’-]*")


@dataclass(frozen=True)
class Turn:
    """One earlier question: the patient's own words, what was searched, and how it was answered."""

    question: str
    query: str
    status: str


@dataclass(frozen=True)
class Reading:
    """What to search for a question, and the earlier question it was read with (None: on its own)."""

    query: str
    earlier: str | None = None


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def subject_words(text: str) -> list[str]:
    """The words of a question that name its subject (question words, pronouns and fillers removed)."""
    return [w for w in _words(text) if w not in _STOP and len(w) > 1]


def is_follow_up(text: str) -> bool:
    """Whether a question leans on the one before it (see the module docstring for the rule)."""
    words = _words(text)
    if not words or len(words) > 12:
        return False
    joined = " ".join(words)
    own = len(subject_words(text))
    if any(joined == cue or joined.startswith(cue + " ") for cue in _CUES):
        return own <= 4
    leans = any(w in _ANAPHORS for w in words) or any(f" {b} " in f" {joined} " for b in _BACKREFS)
    return leans and own <= 2


def read_question(text: str, history: Sequence[Turn], max_chars: int = 1000) -> Reading:
    """The search text for ``text`` given the conversation so far (most recent turn last)."""
    if not history or history[-1].status not in ANSWERED or not is_follow_up(text):
        return Reading(text)
    earlier = history[-1]
    query = f"{earlier.query.strip()} {text.strip()}"
    if len(query) > max_chars:  # a long chain of follow-ups: keep the earlier question's own words
        query = f"{earlier.question.strip()} {text.strip()}"[:max_chars]
    return Reading(query, earlier.question)
