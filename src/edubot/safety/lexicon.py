"""Concept lexicons and the co-occurrence rules that combine them (``lexicon.toml``).

Single phrases cannot tell an emergency from a worry: "fever" alone is not
one, "swollen knee" alone is not one, a fever with a hot swollen knee is. So
the lexicon names concepts (lists of phrasings) and rules say which concepts
must meet inside one window of the message (a few neighbouring sentences), so
an emergency buried in a long post is found where it is told.

A match does not count when it is negated ("no fever, no redness") or told as
past history ("had a heart attack in 2015"), and most rules do not fire inside
a question framed as general ("what are the signs of a stroke") or as fiction.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from .text import fold, sentences

NEGATORS = frozenset("no not never without nor denies deny denied zero none".split())  # noqa: SIM905
NEGATION_REACH = 3  # words before a match that a negator reaches
WINDOW_CHARS = 350  # neighbouring sentences read together, up to this length
_PUNCTUATION = re.compile(r"[^\w'\s,\u0300-\u036f\u0900-\u097f\u0610-\u061a\u064b-\u065f]+")  # marks stay
_LOOSE_APOSTROPHE = re.compile(r"(?<![\w])'|'(?![\w])")  # quote marks, not "can't"
# "was doing well after the op, but since yesterday my calf is swollen": a recovery told before a new turn
# of events does not say the events after it are over.
_NEW_TURN = re.compile(r"\s*,?\s+(?=but\s+(?:now|since|today|tonight|this|yesterday|last night|suddenly|then|over the)\b)")
# Scripts written without spaces between words (and two that attach particles): phrases match anywhere.
# Arabic and Devanagari are spaced, but attach particles ("ولا") and marks that word boundaries would split.
_UNSPACED = re.compile(r"[\u1100-\u11ff\u3130-\u318f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0600-\u06ff\u0900-\u097f]")
FRAMING = ("educational", "not_real", "past", "chronic", "present", "resolved", "owned", "asks")
_QUESTION_MARKS = ("?", "？", "¿", "؟")


class LexiconError(Exception):
    """A lexicon file that cannot be used; the message names the file and the entry."""


# Where a clause opens: the start of a sentence, after a comma, or after a conjunction or an opener
# ("honestly, is my hip going to collapse?", "so is my avn bad"). "is my" opens a question only there;
# inside a clause it is a statement ("that is my life now", "why is my doctor saying ...").
_CLAUSE_OPENERS = ("and", "but", "so", "or", "ok", "okay", "then", "also", "honestly", "seriously", "basically", "just")
_CLAUSE_START = "(?:" + "|".join([r"(?<=^)", r"(?<=^\s)", r"(?<=,\s)", r"(?<=,\s\s)"]
                                 + [rf"(?<=(?<![\w']){w}\s)" for w in _CLAUSE_OPENERS]) + ")"


# "..": up to three words, none of them a negator ("chest is not tight" does not say "chest .. tight").
_GAP = r"\s+(?:(?!(?:" + "|".join(sorted(NEGATORS)) + r")(?![\w']))\S+\s+){0,3}"


def _token_regex(token: str) -> str:
    if token == "_":
        return r"\S+"
    out = []
    for ch in token:
        out.append(r"[\w'-]*" if ch == "*" else r"\d" if ch == "_" else re.escape(ch))
    return "".join(out)


def phrase_regex(phrase: str, possessive: bool = False) -> str:
    """One phrase of the lexicon as a regular expression over folded, punctuation-free text.

    ``possessive``: the phrase may end before "'s" ("the rope's already up" says "the rope"). Only for signs of
    an emergency: a request for advice must not read "for my son's sake" as "for my son".
    """
    tokens = phrase.split()
    opens = tokens[:1] == ["^"]  # "^ is my": only where a clause opens
    tokens = tokens[opens:]
    parts: list[str] = [_CLAUSE_START] if opens else []
    gap = False
    for token in tokens:
        if token == "..":
            gap = True
            continue
        if len(parts) > opens:
            parts.append(_GAP if gap else r"\s+")
        parts.append(_token_regex(token))
        gap = False
    body = "".join(parts)
    if _UNSPACED.search(phrase):
        return body
    if possessive:
        return rf"(?<![\w'])(?:{body})(?!\w|'(?!s(?![\w'])))"
    return rf"(?<![\w'])(?:{body})(?![\w'])"


class Span(NamedTuple):
    start: int
    end: int


@dataclass(frozen=True)
class Rule:
    kind: str  # "urgent" or "advice"
    category: str
    when: tuple[str, ...]
    educational: bool = True  # False: fires even in a general or fictional framing
    lasting: bool = False  # True: a sign said to have gone on for months still counts (only "resolved" stops it)
    silent: bool = False  # True: feeling fine does not end it (an overdose); only being told as past does
    asked: bool = False  # True: counts only in a sentence that asks ("is it right for me?", not "partly for me")

    def __str__(self) -> str:
        return f"{self.category}: {' + '.join(self.when)}"


class Finding(NamedTuple):
    rule: Rule
    window: str


@dataclass(frozen=True)
class Lexicon:
    slang: Mapping[str, str]
    concepts: Mapping[str, re.Pattern]
    rules: tuple[Rule, ...]
    words: frozenset[str]  # every word the lexicon spells out: targets for spelling correction
    idioms: re.Pattern = re.compile(r"(?!x)x")  # figures of speech removed before matching

    # ------------------------------------------------------------ reading a message

    def _sentences(self, detect: str) -> tuple[list[str], list[dict[str, bool]]]:
        raw = sentences(detect) or [detect]
        sents = [self.idioms.sub(" ", _LOOSE_APOSTROPHE.sub(" ", _PUNCTUATION.sub(" ", s)).replace(",", " , "))
                 for s in raw]
        framing = [{f: bool(self.concepts[f].search(s)) for f in FRAMING} for s in sents]
        # A sentence asks when it carries a question mark or opens as a question or a request. A message with
        # no question mark at all is taken to ask in its last sentence ("is prp ok for my hip" typed plainly).
        marked = [any(q in r for q in _QUESTION_MARKS) for r in raw]
        for i, f in enumerate(framing):
            f["asks"] = marked[i] or f["asks"] or (not any(marked) and i == len(framing) - 1)
        for s, f in zip(sents, framing):
            if f["resolved"] and _NEW_TURN.search(s):
                f["resolved"] = bool(self.concepts["resolved"].search(_NEW_TURN.split(s)[-1]))
        # "I attempted suicide when I was 19. I'm 40 now, doing really well": the resolution may follow later.
        resolved = any(f["resolved"] for f in framing)
        # "hypothetically, if someone took a month of lithium … i already did it": a question framed as about no
        # one is about the writer once the writer says so, anywhere in the message.
        owned = any(f["owned"] for f in framing)
        for f in framing:
            f["resolved_here"] = resolved
            if owned:
                f["not_real"] = False
        return sents, framing

    def stated(self, detect: str, concepts: Iterable[str]) -> list[bool]:
        """Which ``concepts`` the folded text states of now (not negated, not past, not fiction): the
        classifier's features, read with the rules' own sense of negation and time."""
        sents, framing = self._sentences(detect)
        return [any(self._counts(c, s, f) and not f["not_real"] for s, f in zip(sents, framing)) for c in concepts]

    def _spans(self, concept: str, text: str) -> list[Span]:
        return [Span(m.start(), m.end()) for m in self.concepts[concept].finditer(text)]

    def _counts(self, concept: str, sentence: str, framing: Mapping[str, bool], literal: bool = False,
                lasting: bool = False, silent: bool = False) -> bool:
        """Whether ``concept`` is said of now, in this sentence: matched, not negated, not past history.

        ``literal``: matched at all (a request for advice is one whatever its tense). ``lasting``: a state
        that is serious however long it has lasted (suicidal thoughts "for months" are still now).
        ``silent``: a danger that can feel fine at first ("took 30 paracetamol an hour ago, feel fine
        now"): feeling fine does not end it; being past ("OD'd back in 2016, fine now") does.
        """
        for span in self._spans(concept, sentence):
            if literal:
                if self._declined(sentence, span):
                    continue
                return True
            before = sentence[: span.start].split(",")[-1].split()[-NEGATION_REACH:]  # a comma ends a negation
            if any(w in NEGATORS for w in before):
                continue
            if lasting:
                # Thoughts of suicide "for months" are still now; only a crisis told as over is not.
                if framing["past"] and framing["resolved_here"]:
                    continue
            elif (framing["resolved"] and (framing["past"] or not silent)) or (
                    (framing["past"] or framing["chronic"]) and not framing["present"]):
                continue
            return True
        return False

    def _declined(self, sentence: str, span: Span) -> bool:
        """A request the writer says they are not making: "I'm not asking you to read my scan", "not asking for
        me". The request must follow the disclaimer closely (four words at most, no comma between), so
        "not asking for advice, but should I stop my steroids?" still asks."""
        declined = self.concepts.get("declined")
        if declined is None:
            return False
        for m in declined.finditer(sentence, 0, span.end):
            if m.start() > span.start:
                continue
            between = sentence[m.end():span.start]
            if m.end() >= span.start or ("," not in between and len(between.split()) <= 4):
                return True
        return False

    def findings(self, detect: str, kind: str = "urgent") -> list[Finding]:
        """Every rule of ``kind`` that fires in some window of the folded message."""
        sents, framing = self._sentences(detect)
        rules = [r for r in self.rules if r.kind == kind]
        said: dict[tuple[str, int, bool, bool], bool] = {}

        def counts(concept: str, i: int, lasting: bool, silent: bool) -> bool:
            if (concept, i, lasting, silent) not in said:
                said[concept, i, lasting, silent] = self._counts(concept, sents[i], framing[i], kind != "urgent",
                                                                 lasting, silent)
            return said[concept, i, lasting, silent]

        found: list[Finding] = []
        for start, end in windows([len(s) for s in sents], WINDOW_CHARS):
            window = range(start, end)
            for rule in rules:
                if any(f.rule is rule for f in found):
                    continue
                ok = True
                for concept in rule.when:
                    where = [i for i in window if counts(concept, i, rule.lasting or not rule.educational, rule.silent)]
                    # Fiction, exams and statistics are about no one here and now; general questions are
                    # about no one unless the writer speaks of themselves.
                    where = [i for i in where if not framing[i]["not_real"]]
                    if rule.asked:
                        where = [i for i in where if framing[i]["asks"]]
                    if rule.educational and kind == "urgent":
                        # General questions and fiction about emergencies are not emergencies.
                        where = [i for i in where if not (framing[i]["educational"] and not _first_person(sents[i]))]
                    if not where:
                        ok = False
                        break
                if ok:
                    found.append(Finding(rule, " ".join(sents[i] for i in window)))
        return found


# "us" but not "the US" ("what's the number for poison control in the US?" is about no one).
_FIRST_PERSON = re.compile(r"(?<![\w'])(i|i am|me|my|mine|we|(?<!the )us|our|myself)(?![\w'])")


def _first_person(sentence: str) -> bool:
    return bool(_FIRST_PERSON.search(sentence))


def windows(lengths: list[int], max_chars: int) -> Iterable[tuple[int, int]]:
    """Runs of neighbouring sentences [start, end) of at most ``max_chars`` (always at least one sentence).

    Every sentence starts a window, so a pair of facts told in two neighbouring
    sentences is always read together when they fit.
    """
    n = len(lengths)
    if sum(lengths) <= max_chars:
        yield 0, n
        return
    for start in range(n):
        end, size = start + 1, lengths[start]
        while end < n and size + lengths[end] <= max_chars:
            size += lengths[end]
            end += 1
        yield start, end
        if end == n:
            return


# ---------------------------------------------------------------- loading

def _parse(data: dict, source: str) -> tuple[dict, dict, list[Rule]]:
    slang = data.get("slang", {})
    concepts = data.get("concepts", {})
    if not isinstance(slang, dict) or not isinstance(concepts, dict):
        raise LexiconError(f"{source}: [slang] and [concepts] must be tables")
    for name, phrases in concepts.items():
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise LexiconError(f"{source}: concept '{name}' must be a list of phrases")
    rules = []
    for kind in ("urgent", "advice"):
        for i, raw in enumerate(data.get(kind, [])):
            when = raw.get("when") if isinstance(raw, dict) else None
            if not when or not isinstance(when, list) or not isinstance(raw.get("category"), str):
                raise LexiconError(f"{source}: [[{kind}]] entry {i + 1} needs a category and a list 'when'")
            rules.append(Rule(kind, raw["category"], tuple(when), bool(raw.get("educational", True)),
                              bool(raw.get("lasting", False)), bool(raw.get("silent", False)),
                              bool(raw.get("asked", False))))
    return slang, concepts, rules


def build_lexicon(sources: Iterable[tuple[dict, str]]) -> Lexicon:
    """Merge lexicon tables (the bundled one first, a clinic's additions after) and compile them."""
    slang: dict[str, str] = {}
    phrases: dict[str, list[str]] = {}
    rules: list[Rule] = []
    idioms: list[str] = []
    for data, source in sources:
        s, c, r = _parse(data, source)
        idioms.extend(data.get("idioms", {}).get("phrases", []))
        slang.update({str(k).lower(): str(v) for k, v in s.items()})
        for name, items in c.items():
            phrases.setdefault(name, []).extend(items)
        rules.extend(r)
    for f in FRAMING:
        phrases.setdefault(f, [])
    missing = sorted({c for r in rules for c in r.when} - set(phrases))
    if missing:
        raise LexiconError(f"rules name concepts that are not defined: {', '.join(missing)}")
    compiled = {}
    signs = {c for r in rules if r.kind == "urgent" for c in r.when}
    for name, items in phrases.items():
        alternatives = sorted({phrase_regex(fold(p.strip()), name in signs) for p in items}, key=len, reverse=True)
        compiled[name] = re.compile("|".join(alternatives) if alternatives else r"(?!x)x")
    words = frozenset(w for items in phrases.values() for p in items for w in re.findall(r"[a-z]{4,}", p.lower()))
    words |= frozenset(w for v in slang.values() for w in re.findall(r"[a-z]{4,}", v.lower()))
    idiom_re = re.compile("|".join(sorted({phrase_regex(fold(p)) for p in idioms}, key=len, reverse=True)) or r"(?!x)x")
    return Lexicon(slang=slang, concepts=compiled, rules=tuple(rules), words=words, idioms=idiom_re)


def read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise LexiconError(f"{path}: cannot be read ({e.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise LexiconError(f"{path}: not a valid lexicon file ({e})") from None


@lru_cache(maxsize=8)
def load_lexicon(extra: str | None = None) -> Lexicon:
    """The bundled lexicon, with a clinic's own file merged in when one is named."""
    bundled = tomllib.loads(resources.files("edubot.safety").joinpath("lexicon.toml").read_text(encoding="utf-8"))
    sources = [(bundled, "lexicon.toml")]
    if extra:
        sources.append((read_toml(Path(extra)), str(extra)))
    return build_lexicon(sources)
