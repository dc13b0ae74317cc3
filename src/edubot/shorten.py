"""Making an answer shorter to read without changing a word of it.

Three small, pure helpers for what a patient sees first: the reading grade of a
quote (textstat's Flesch-Kincaid grade), near-duplicate limitations of one
document merged into one line, and the plainer of two equally good quotes first.
Nothing here writes text: they only choose and order corpus text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

_WORD = re.compile(r"[a-z][a-z'-]+")
# Words too common in limitations to say two of them are about the same thing.
_COMMON = frozenset("""
about after again against also although among another because before being between both cannot could
describes during either every found further given might other others over patient patients
report reported reports result results should shown since small some study studies their there these
those though through under until using where whether which while without would
claim evidence support supported supports treatment treatments works worked
""".split())  # noqa: SIM905


def reading_grade(text: str) -> float:
    """US school grade needed to read ``text`` (Flesch-Kincaid); lower is plainer."""
    import textstat  # imported on first use: only the staff page and plain-first ordering need it

    return float(textstat.flesch_kincaid_grade(text or ""))


def _words(text: str, ignore: frozenset[str]) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if len(w) >= 5 and w not in _COMMON} - ignore


def merge_near_duplicates(texts: Sequence[str], vectors: np.ndarray, title: str = "",
                          min_cosine: float = 0.5, same_cosine: float = 0.8) -> list[list[int]]:
    """Groups of near-duplicate limitations of ONE document, as lists of indices, in input order.

    Two limitations are merged when their texts' cosine similarity reaches
    ``same_cosine``, or reaches ``min_cosine`` and they share a specific word
    (five letters or more, not in the document's title) that no other
    limitation of the document uses: "No biopsy was done…" and "Patients
    declined biopsy…" share "biopsy"; two MRI limitations that only share
    "MRI" with two more do not. Each group's first index is its
    representative (callers pass key limitations first).
    """
    n = len(texts)
    if n < 2:
        return [[i] for i in range(n)]
    ignore = frozenset(w.rstrip("s") for w in _WORD.findall(title.lower()))
    words = [_words(t, ignore) for t in texts]
    users: dict[str, int] = {}
    for ws in words:
        for w in ws:
            users[w] = users.get(w, 0) + 1
    sims = vectors @ vectors.T
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            sim = float(sims[i, j])
            specific = any(users[w] == 2 for w in words[i] & words[j])
            if sim >= same_cosine or (sim >= min_cosine and specific):
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def plainer_first(items: Sequence[T], score: Callable[[T], float], grade: Callable[[T], float],
                  tie: float = 0.01) -> list[T]:
    """Items in their order, except that among items answering equally well the plainer comes first.

    "Equally well" means a run of consecutive items whose scores lie within
    ``tie`` (a share of the best score) of the run's first item; inside a run
    the lower reading grade goes first. Items keep their order otherwise.
    """
    items = list(items)
    if not items:
        return items
    best = max(abs(score(x)) for x in items) or 1.0
    out: list[T] = []
    run: list[T] = []
    for x in items:
        if run and abs(score(run[0]) - score(x)) > tie * best:
            out += sorted(run, key=grade)
            run = []
        run.append(x)
    return out + sorted(run, key=grade)
