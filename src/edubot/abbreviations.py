"""Abbreviations a document defines, so a search for the long form finds the short one.

Papers define an abbreviation once ("total hip replacement (THR)") and then use
only the short form; a patient asks "how long does a hip replacement last".
Definitions are found with the Schwartz & Hearst (2003) algorithm and written
into the text the index sees, never into the quote a reader sees.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

Doc = TypeVar("Doc", bound=Hashable)  # whatever names a document: its id, or its row in a BEIR corpus

# "(THR)", "(ADSCs)", "(BM-MSC)": 2-10 characters, at least one capital.
SHORT_FORM_RE = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9-]{1,9}?)s?\s*\)")
WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


def long_form(short: str, before: str) -> str | None:
    """The words before ``(short)`` that spell it: its letters in order, the first one starting a word."""
    words = WORD_RE.findall(before)
    candidate = " ".join(words[-min(len(short) + 5, 2 * len(short)):])
    s, text = short.lower(), candidate.lower()
    si, ti = len(s) - 1, len(text) - 1
    while si >= 0:
        ch = s[si]
        if not ch.isalnum():
            si -= 1
            continue
        while ti >= 0 and (text[ti] != ch or (si == 0 and ti > 0 and text[ti - 1].isalnum())):
            ti -= 1
        if ti < 0:
            return None
        ti -= 1
        si -= 1
    found = candidate[text.rfind(" ", 0, ti + 1) + 1:].strip()
    if len(found) <= len(short) or len(found.split()) > len(short) + 3:
        return None
    return found


def find_abbreviations(text: str) -> dict[str, str]:
    """Short form → long form for every "long form (SHORT)" in ``text``; the first definition wins."""
    out: dict[str, str] = {}
    for m in SHORT_FORM_RE.finditer(text):
        short = m.group(1)
        if short in out or not any(c.isupper() for c in short):
            continue
        # Look back no further than the start of the sentence or paragraph.
        start = max(text.rfind("\n\n", 0, m.start()), text.rfind(". ", 0, m.start()))
        found = long_form(short, text[start + 1 if start >= 0 else 0 : m.start()])
        if found:
            out[short] = found
    return out


def _same(long: str) -> str:
    return long.lower().replace("-", " ").rstrip("s")


def agreed_abbreviations(own: Mapping[Doc, Mapping[str, str]]) -> dict[str, str]:
    """Short forms the whole corpus defines one way; one defined two different ways is left out, not guessed."""
    shared: dict[str, str | None] = {}
    for defs in own.values():
        for short, long in defs.items():
            seen = shared.get(short)
            if seen is not None and _same(seen) != _same(long):
                shared[short] = None
            else:
                shared.setdefault(short, long)
    return {s: l for s, l in shared.items() if l is not None}


def corpus_abbreviations(texts_by_doc: Mapping[Doc, Iterable[str]]) -> tuple[dict[Doc, Mapping[str, str]], dict[str, str]]:
    """Per document: its own definitions, then the corpus's agreed ones for short forms it leaves undefined.

    Also returns the agreed definitions alone, which a question is read with.
    """
    own = {doc: find_abbreviations("\n\n".join(texts)) for doc, texts in texts_by_doc.items()}
    agreed = agreed_abbreviations(own)
    return {doc: ChainMap(defs, agreed) for doc, defs in own.items()}, agreed


USE_RE = re.compile(r"(?<![\w-])([A-Za-z][A-Za-z0-9-]{1,9}?)s?(?![\w-])")


def expand(text: str, definitions: Mapping[str, str]) -> str:
    """``text`` with each defined short form's first use followed by its long form in parentheses.

    Long forms the text already spells out are not repeated.
    """
    if not definitions:
        return text
    lowered = text.lower()
    inserts: list[tuple[int, str]] = []
    seen: set[str] = set()
    for m in USE_RE.finditer(text):
        short = m.group(1)
        long = definitions.get(short)
        if long is None or short in seen:
            continue
        seen.add(short)
        if long.lower() not in lowered:
            inserts.append((m.end(), f" ({long})"))
    for at, words in reversed(inserts):
        text = text[:at] + words + text[at:]
    return text
