"""How clean and how well sectioned the passages of real journal PDFs are.

Counts are made against hand-written data, not against the pipeline's own rules:
``tests/data/pdfs/<id>.gold.json`` holds, for each article, the true section of
every stretch of text (a section name and a short verbatim anchor where that
section's text starts, read off the PDF by a person), the article's running heads
and footers, and its number of reference entries. The artifact checks below are
independent of the cleaner: they flag what a reader would see as broken.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from edubot.clean import comparable, locate_quote
from edubot.config import PROJECT_ROOT

SHARED_PDFS = PROJECT_ROOT.parent / "shared" / "pdfs"
DATA = Path(__file__).resolve().parent / "data" / "pdfs"
ARTICLES = ("tully-2010-heart-failure-programmes", "datta-2010-dvt-prophylaxis-trauma", "agyeman-duah-2014-qi-malawi")


def real_pdf_corpus(folder: Path, ids: tuple[str, ...] = ARTICLES) -> Path:
    """A corpus folder with the shared articles and their committed sidecars."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id in ids:
        shutil.copy(SHARED_PDFS / f"{doc_id}.pdf", folder / f"{doc_id}.pdf")
        shutil.copy(DATA / f"{doc_id}.meta.json", folder / f"{doc_id}.meta.json")
    return folder


def gold(doc_id: str) -> dict:
    return json.loads((DATA / f"{doc_id}.gold.json").read_text(encoding="utf-8"))


def section_starts(raw: str, sections: list[list[str]]) -> tuple[list[tuple[int, str]], list[str]]:
    """(raw offset, true section) for each gold anchor found in order, and the anchors not found.

    An extractor that scrambles the reading order loses anchors; the text after a lost
    anchor counts under the section before it, so scrambling shows as wrong sections.
    """
    starts: list[tuple[int, str]] = []
    missing: list[str] = []
    pos = 0
    for name, anchor in sections:
        found = locate_quote(raw[pos:], anchor)
        if found is None:
            missing.append(anchor)
            continue
        starts.append((pos + found[0], name))
        pos += found[0] + 1
    return starts, missing


def true_section(starts: list[tuple[int, str]], offset: int) -> str | None:
    name = None
    for start, section in starts:
        if start <= offset:
            name = section
    return name


def same_section(a: str, b: str) -> bool:
    return comparable(a) == comparable(b)


_WORDS: dict[str, float] = {}


def _zipf(word: str) -> float:
    if word not in _WORDS:
        from wordfreq import zipf_frequency

        _WORDS[word] = zipf_frequency(word, "en")
    return _WORDS[word]


def _common_words(token: str) -> bool:
    """Can ``token`` be read as two or more common English words run together?"""
    ok = [True] + [False] * len(token)
    count = [0] * (len(token) + 1)
    for end in range(1, len(token) + 1):
        for start in range(max(0, end - 15), end):
            if ok[start] and end - start >= 2 and _zipf(token[start:end]) >= 4.0:
                ok[end], count[end] = True, count[start] + 1
                break
    return ok[-1] and count[-1] >= 2


GLYPHS_RE = re.compile(r"/C\d|\(cid:\d|[¼½¾\ufffd\x00-\x08\x0b-\x1f\x7f-\x9f\ue000-\uf8ff]|\d⁄\d")
PUNCT_GLUE_RE = re.compile(r"[a-z]{3}[,;][A-Za-z]{2}|[a-z]{3}\.[A-Z][a-z]{2}|[a-z]{3}[(\[][A-Z0-9]|[)\]][a-z]{2}")
CAPTION_IN_PROSE_RE = re.compile(r"(?<![(\w] )(?<!\()\b(Table|Figure|Fig\.) \d+ [A-Z][a-z]+ [a-z]")
BROKEN_HYPHEN_RE = re.compile(r"\b([a-z]{2,})- ([a-z]{2,})\b")


def artifacts(text: str, kind: str, furniture: list[str], doc_words: dict[str, int]) -> list[str]:
    """What a reader would see as broken in a passage (an empty list: none)."""
    found: list[str] = []
    for head in furniture:
        if comparable(head) in comparable(text):
            found.append(f"running head or footer {head!r}")
    if re.search(r"\bPage \d+ of \d+\b", text):
        found.append("page footer")
    if GLYPHS_RE.search(text):
        found.append(f"glyph {GLYPHS_RE.search(text).group(0)!r}")
    for token in re.findall(r"[A-Za-z]{13,}", text):
        if token[0].isupper() and not re.search(r"[a-z][A-Z]", token):
            continue  # a name or a capitalised term, not words run together
        if _zipf(token.lower()) == 0 and doc_words.get(token.lower(), 0) < 2 and _common_words(token.lower()):
            found.append(f"glued words {token!r}")
            break
    if kind != "references":
        m = PUNCT_GLUE_RE.search(text)
        if m and not re.search(r"https?://|www\.|@|e\.g|i\.e", text[max(0, m.start() - 30) : m.end() + 5]):
            found.append(f"punctuation glued {m.group(0)!r}")
        tokens = re.findall(r"[A-Za-z]+", text)
        for a, b in itertools.pairwise(tokens):
            if (a.islower() and b.islower() and len(a) >= 2 and len(b) >= 2 and _zipf(a + b) >= 3.0
                    and min(_zipf(a), _zipf(b)) < 2.0 and f"{a} {b}" in text):
                found.append(f"split word {a + ' ' + b!r}")
                break
        m = BROKEN_HYPHEN_RE.search(text)
        if m and m.group(2) not in ("and", "or", "to") and _zipf(m.group(1) + m.group(2)) > 0 and _zipf(m.group(2)) < 2:
            found.append(f"broken hyphenation {m.group(0)!r}")
    if kind == "prose":
        if text[:1].islower():
            found.append("starts mid-sentence")
        m = CAPTION_IN_PROSE_RE.search(text)
        if m and m.start() > 0:
            found.append(f"caption inside prose {m.group(0)!r}")
        if re.search(r"^\s*(\[\d{1,3}\]|\d{1,3}\.)\s*[A-Z][A-Za-z'’-]+,? [A-Z]{1,3}[,.:]", text, re.MULTILINE):
            found.append("reference entry indexed as prose")
    return found


@dataclass
class DocFigures:
    doc_id: str
    passages: int = 0
    with_artifact: int = 0
    sectioned: int = 0  # passages whose true section is known
    wrong_section: int = 0
    references: int = 0
    reference_entries_as_prose: int = 0
    missing_anchors: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    @property
    def artifact_share(self) -> float:
        return self.with_artifact / self.passages if self.passages else 0.0

    @property
    def section_accuracy(self) -> float:
        return 1 - self.wrong_section / self.sectioned if self.sectioned else 0.0


def measure(doc, passages, truth: dict | None = None) -> DocFigures:
    """Artifacts and section accuracy of one document's passages, against its gold data."""
    g = truth or gold(doc.id)
    starts, missing = section_starts(doc.raw, g["sections"])
    words: dict[str, int] = {}
    for w in re.findall(r"[a-z]+", doc.raw.lower()):
        words[w] = words.get(w, 0) + 1
    fig = DocFigures(doc.id, missing_anchors=missing)
    for p in passages:
        fig.passages += 1
        found = artifacts(p.text, p.kind, g["furniture"], words)
        if found:
            fig.with_artifact += 1
            fig.examples.append(f"{p.id} [{p.section}]: {'; '.join(found)}")
        if p.kind == "references":
            fig.references += 1
        elif any("reference entry" in f for f in found):
            fig.reference_entries_as_prose += 1
        truth = true_section(starts, p.span[0] + 1)
        if truth is None or truth == "?":
            continue
        fig.sectioned += 1
        if not same_section(truth, p.section):
            fig.wrong_section += 1
            fig.examples.append(f"{p.id}: section {p.section!r}, truly {truth!r}: {p.text[:70]!r}")
    return fig
