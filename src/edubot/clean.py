"""Repair text-extraction artifacts while remembering where every character came from.

PDF extraction wraps lines, splits words with line-end hyphens, scatters
ligatures and odd spaces. The cleaned text is what passages quote; the offset
map sends every cleaned character back to the raw document so any quote can be
verified against the original. Whether a line-end hyphen is a soft break or a
real hyphen is decided from evidence: how the word is written elsewhere in the
corpus, then an English word list (wordfreq), never a list of known words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

WORD_RE = re.compile(r"[A-Za-z]+")
HYPHENATED_RE = re.compile(r"(?<![A-Za-z0-9-])([A-Za-z]+(?:-[A-Za-z]+)+)(?![A-Za-z0-9-])")
# Characters that carry no meaning but break matching: zero-width and direction controls.
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]")
TERMINAL = tuple(".!?:;\"”’)]")
WRAPPED_LINE_CHARS = 40
# Standard section names of a scientific article; journals print some in lower case.
SECTION_NAMES = frozenset({
    "abstract", "background", "introduction", "objective", "objectives", "aims", "purpose",
    "methods", "materials and methods", "patients and methods", "results", "findings",
    "discussion", "conclusion", "conclusions", "interpretation", "limitations",
    "references", "acknowledgments", "acknowledgements", "case report", "case presentation",
})
LIST_ITEM_RE = re.compile(r"^(\d{1,2}\.\s|[•·▪◦\-*–]\s)")


@lru_cache(maxsize=50_000)
def _in_word_list(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") > 0


@dataclass(frozen=True)
class Vocabulary:
    """How words are written across the corpus: the evidence for hyphen decisions."""

    words: frozenset[str] = frozenset()
    hyphenated: frozenset[str] = frozenset()

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Vocabulary":
        words: set[str] = set()
        hyphenated: set[str] = set()
        for text in texts:
            for line in text.splitlines():
                # A fragment before a line-end hyphen is not evidence of a word.
                body = line.rstrip()
                if body.endswith("-"):
                    body = body[: body.rfind(" ") + 1] if " " in body else ""
                words.update(w.lower() for w in WORD_RE.findall(body))
                hyphenated.update(h.lower() for h in HYPHENATED_RE.findall(body))
        return cls(frozenset(words), frozenset(hyphenated))

    def knows(self, word: str) -> bool:
        w = word.lower()
        return w in self.words or _in_word_list(w)

    def joins(self, left: str, right: str) -> bool:
        """True when ``left-`` + newline + ``right`` is one word broken by a soft hyphen."""
        if not left or not right or any(c.isdigit() for c in left) or right[0].isdigit():
            return False
        if f"{left}-{right}".lower() in self.hyphenated:
            return False
        if self.knows(left + right):
            return True
        # Two real words joined by a hyphen ("bone-like", "platelet-derived").
        if self.knows(left) and self.knows(right) and len(left) > 2:
            return False
        return True


@dataclass(frozen=True)
class CleanText:
    """Cleaned text plus, for each character, its offset in the raw document."""

    text: str
    offsets: tuple[int, ...] = field(repr=False)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw-document span that cleaned text[start:end] came from."""
        if end <= start:
            raise ValueError("empty span")
        return self.offsets[start], self.offsets[end - 1] + 1

    def clean_range(self, raw_start: int, raw_end: int) -> tuple[int, int]:
        """Cleaned-text range of every character that came from raw[raw_start:raw_end]."""
        import bisect

        lo = bisect.bisect_left(self.offsets, raw_start)
        hi = bisect.bisect_left(self.offsets, raw_end)
        return lo, hi

    def text_for_raw_span(self, raw_start: int, raw_end: int) -> str:
        lo, hi = self.clean_range(raw_start, raw_end)
        return self.text[lo:hi]


def _normalize_chars(raw: str) -> list[tuple[str, int]]:
    """NFKC per character (ligatures, full-width forms), one space kind, invisibles dropped."""
    out: list[tuple[str, int]] = []
    for i, ch in enumerate(raw):
        if ord(ch) in INVISIBLE:
            continue
        if ch in "\f\v\u2028\u2029\x85":
            out.append(("\n", i))
            continue
        if SPACES.match(ch):
            out.append((" ", i))
            continue
        if unicodedata.category(ch) == "Cc" and ch != "\n":
            continue
        norm = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
        for c in norm:
            out.append((c, i))
    return out


def _lines(chars: list[tuple[str, int]]) -> list[tuple[list[tuple[str, int]], bool, int]]:
    """Split into lines: (content without edge spaces or inner space runs, ended with space?, newline offset)."""
    lines = []
    current: list[tuple[str, int]] = []
    for c, i in chars + [("\n", chars[-1][1] + 1 if chars else 0)]:
        if c == "\n":
            trailing_space = bool(current) and current[-1][0] == " "
            while current and current[-1][0] == " ":
                current.pop()
            start = 0
            while start < len(current) and current[start][0] == " ":
                start += 1
            squeezed: list[tuple[str, int]] = []
            for item in current[start:]:
                if item[0] == " " and squeezed and squeezed[-1][0] == " ":
                    continue
                squeezed.append(item)
            lines.append((squeezed, trailing_space, i))
            current = []
        else:
            current.append((c, i))
    return lines


def _text(line: list[tuple[str, int]]) -> str:
    return "".join(c for c, _ in line)


def _soft_break(prev: str, nxt: str, blank_between: bool) -> bool:
    """Does a line break fall inside running text (rather than end a heading, row or paragraph)?

    A wrapped line is long; a heading or a table row is short or ends in a number.
    Across a blank line only an unfinished sentence continues ("30- to" / "50-year-old").
    """
    if not prev or not nxt or LIST_ITEM_RE.match(nxt) or nxt.lower().rstrip(":") in SECTION_NAMES:
        return False
    if blank_between:
        unfinished = not prev.endswith(TERMINAL) and prev[-1].isalpha()
        return unfinished and (nxt[0].islower() or nxt[0].isdigit())
    if nxt[0].islower():
        return True
    return len(prev) >= WRAPPED_LINE_CHARS and not prev[-1].isdigit()


def clean(raw: str, vocabulary: Vocabulary | None = None) -> CleanText:
    """Cleaned text: soft wraps joined, soft hyphens removed, real line and paragraph breaks kept.

    Paragraphs end with a blank line ("\\n\\n"); lines that stand on their own
    (headings, table rows, list items) end with "\\n".
    """
    vocabulary = vocabulary or Vocabulary.from_texts([raw])
    lines = _lines(_normalize_chars(raw))
    out: list[tuple[str, int]] = []
    blank_run = False
    prev_line: list[tuple[str, int]] | None = None
    prev_trailing_space = False
    prev_newline_at = 0
    for content, trailing_space, newline_at in lines:
        if not content:
            blank_run = prev_line is not None
            continue
        if prev_line is not None:
            prev, nxt = _text(prev_line), _text(content)
            m_left = re.search(r"([A-Za-z0-9]+)-$", prev)
            m_right = re.match(r"[A-Za-z0-9]+", nxt)
            hyphen_break = m_left and m_right and not prev_trailing_space and len(prev) > 1
            if hyphen_break and (not blank_run or nxt[0].islower()):
                if vocabulary.joins(m_left.group(1), m_right.group(0)):
                    out.pop()  # the soft hyphen goes; the word is whole again
                # else: a real hyphen, kept with no space ("bone-like")
            elif _soft_break(prev, nxt, blank_run):
                out.append((" ", prev_newline_at))
            else:
                sep = "\n\n" if blank_run else "\n"
                out.extend((c, prev_newline_at) for c in sep)
        out.extend(content)
        prev_line, prev_trailing_space, prev_newline_at = content, trailing_space, newline_at
        blank_run = False
    text = "".join(c for c, _ in out)
    return CleanText(text=text, offsets=tuple(i for _, i in out))


def comparable(text: str) -> str:
    """Letters and digits only, NFKC-folded: what must match between a quote and its source."""
    text = unicodedata.normalize("NFKC", text).translate(INVISIBLE)
    return "".join(ch.lower() for ch in text if ch.isalnum())


def quote_matches_source(raw: str, span: tuple[int, int], quote: str) -> bool:
    """Independent provenance check: the quote says exactly what the raw span says.

    Only hyphens, spaces and line breaks may differ (the cleaner's repairs); a
    changed, added or dropped letter or digit fails.
    """
    start, end = span
    if not (0 <= start < end <= len(raw)):
        return False
    return comparable(raw[start:end]) == comparable(quote)


# ---------------------------------------------------------------- page furniture

_FURNITURE_PATTERNS = [
    re.compile(p, re.I)
    for p in (
        r"\(\d{3}\)\s*\d{3}[-.\s]\d{4}",                      # phone numbers
        r"\b\d{3}[-.]\d{3}[-.]\d{4}\b",
        r"\b(phone|fax|tel|e-?mail)\b\s*[:.]?\s*$",
        r"^\d+\s+[\w.' ]+\b(st|street|ave|avenue|rd|road|ct|court|blvd|boulevard|dr|drive|lane|ln|way|suite)\b\.?",
        r"\b[A-Z]{2}\s+\d{5}(-\d{4})?\b",                     # state + ZIP
        r"©|\(c\)\s*\d{4}|\ball rights reserved\b|\bcopyright\b",
        r"\b(contact us|call (us|now|today)|book (an|your)|schedule (an|your)|make an appointment|request an appointment)\b",
        r"\b(get a (2nd|second) opinion|become a new patient|current patients|sign up|subscribe|click here|learn more|read more)\b",
        r"\b(are you a candidate|i am interested in|i am looking for|how did you hear about us|leave this field empty)\b",
        r"\b(meet our|check out our|share this|follow us|privacy policy|terms of use|skip to (main )?content)\b",
        r"[★☆]",
        r"^[A-Z][\w.'\- ]{1,60},\s*(MD|DO|PhD|RN|NP|DC|ND|PA-C|MBBS)\.?$",   # byline
        r"^contact information\b",
        r"^(home|menu|search|back to top|next|previous)$",
        r"\*\s*:?\s*$",                                        # required form field "First Name*:"
    )
]


def looks_like_furniture(line: str) -> bool:
    """A line that belongs to the page's chrome (forms, contacts, calls to action), not its content."""
    line = line.strip()
    if not line:
        return False
    return any(p.search(line) for p in _FURNITURE_PATTERNS)


def furniture_mask(lines: list[str]) -> list[bool]:
    """Mark furniture lines; short lines wedged among furniture are furniture too.

    A contact form is mostly short labels and options that no single pattern
    catches; what gives them away is their neighbours.
    """
    mask = [looks_like_furniture(l) for l in lines]
    short = [len(l.split()) <= 12 and not l.rstrip().endswith(".") or len(l.split()) <= 4 for l in lines]
    changed = True
    while changed:
        changed = False
        for i in range(len(lines)):
            if mask[i] or not short[i]:
                continue
            before = i > 0 and mask[i - 1]
            after = i + 1 < len(lines) and mask[i + 1]
            at_end = i + 1 == len(lines)
            if (before and (after or at_end)) or (before and i + 2 < len(lines) and mask[i + 2]):
                mask[i] = True
                changed = True
    return mask
