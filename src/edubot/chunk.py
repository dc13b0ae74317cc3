"""Citable passages: sections, sentences, and in-text citation markers.

A passage is a few whole sentences from one section, quoted exactly as the
cleaned text has them, with the span of the raw document it came from. Its id
hashes the document id and text, so a rebuild gives the same ids.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .clean import SECTION_NAMES, CleanText, Vocabulary, clean, furniture_mask
from .corpus import Corpus, Document, Reference

CAPTION_RE = re.compile(r"^(Table|Fig\.?|Figs\.?|Figure)\s+(\d+)\b", re.I)
INLINE_LABEL_RE = re.compile(r"^([A-Z][A-Za-z ]{2,30}):\s+\S")
LIST_ITEM_RE = re.compile(r"^(\d{1,2}\.|[•·▪◦*–-])\s")
# Words whose trailing period does not end a sentence.
ABBREVIATIONS = frozenset(
    "al fig figs e.g i.e vs dr mr mrs ms no st approx ca etc u.s inc ltd jr sr dept univ vol pp "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft".split()
)
SENTENCE_END_RE = re.compile(r"[.!?]+[\"”’)\]]*(\d{1,2}(?=\s))?\s+(?=[\"“‘(\[]?[A-Z0-9])")
PAREN_CITATION_RE = re.compile(r"\((\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\)")
SUPERSCRIPT_CITATION_RE = re.compile(r"(?<=[A-Za-z)][.!?])[\"”’]?(\d{1,2})(?=\s|$)|(?<=[a-z][\"”’])(\d{1,2})(?=\s|$)")
MIN_PASSAGE_WORDS = 3


@dataclass(frozen=True)
class Citation:
    """An in-text marker resolved against the citing document's reference list."""

    number: int
    reference: Reference | None = None

    def to_json(self) -> dict:
        ref = self.reference
        return {
            "number": self.number,
            "resolved": ref is not None,
            "citation": ref.citation if ref else None,
            "doc_id": ref.doc_id if ref else None,
            "study_type": ref.study_type if ref else None,
            "subjects": list(ref.subjects) if ref else [],
            "n": ref.n if ref else None,
        }


@dataclass(frozen=True)
class Passage:
    id: str
    doc_id: str
    source_type: str
    section: str
    page: int | None
    span: tuple[int, int]
    text: str
    citations: tuple[Citation, ...] = ()
    # Sentence boundaries inside ``text``, for highlighting the best sentence.
    sentences: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    kind: str = "prose"  # "prose", "table", "references"

    def to_json(self) -> dict:
        return {
            "passage_id": self.id,
            "doc_id": self.doc_id,
            "source_type": self.source_type,
            "section": self.section,
            "page": self.page,
            "span": list(self.span),
            "text": self.text,
            "kind": self.kind,
            "citations": [c.to_json() for c in self.citations],
        }


@dataclass(frozen=True)
class _Line:
    start: int  # offsets in the cleaned text
    end: int
    text: str
    block: int  # paragraph number (blank-line separated)


def _lines(ct: CleanText) -> list[_Line]:
    lines: list[_Line] = []
    block = 0
    pos = 0
    for para in ct.text.split("\n\n"):
        for raw_line in para.split("\n"):
            if raw_line.strip():
                lines.append(_Line(pos, pos + len(raw_line), raw_line, block))
            pos += len(raw_line) + 1
        pos += 1  # the second newline of the paragraph break
        block += 1
    return lines


def _is_heading(line: str) -> bool:
    text = line.strip().lstrip("#").strip()
    if not text or LIST_ITEM_RE.match(text) or CAPTION_RE.match(text):
        return False
    if text.lower().rstrip(":") in SECTION_NAMES:
        return True
    words = text.split()
    if len(words) > 12 or len(text) > 90 or text.endswith((".", ",", ";", ":")):
        return False  # a list lead-in ("Risk factors include:") is content
    if re.search(r"[.!?]\s+[A-Z]", text):
        return False  # holds a sentence end: running text, not a heading
    if not text[0].isalpha() or sum(c.isdigit() for c in text) > 3:
        return False
    return True


def _heading_name(line: str) -> str:
    text = line.strip().lstrip("#").strip().rstrip(":")
    return text[:1].upper() + text[1:] if text.islower() else text


def _ends_table(text: str, following: list[_Line]) -> bool:
    """Inside a table, short lines are column headers; only a real heading ends it."""
    if text.lower().rstrip(":") in SECTION_NAMES:
        return True
    nxt = following[0].text if following else ""
    return len(nxt.split()) >= 8 and nxt.rstrip().endswith((".", "!", "?"))


def _default_section(doc: Document) -> str:
    return {"abstract": "Abstract", "research": "Introduction"}.get(doc.meta.source_type, "Main text")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans in ``text``: a period after an abbreviation, an initial or a list number is no end."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in SENTENCE_END_RE.finditer(text):
        before = text[start : m.start() + 1]
        token = re.search(r"([A-Za-z.]+|\d+)\.?$", before.rstrip(".!?\"”’)]"))
        word = token.group(1).lower().rstrip(".") if token else ""
        if text[m.start()] == ".":
            if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            head = before.strip()
            if word.isdigit() and (re.fullmatch(r"\d{1,2}\.", head) or re.search(r"(Table|Figs?\.?|Figure)\s+\d+\.$", head)):
                continue
        end = m.end()
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
        start = m.end()
    tail_end = len(text.rstrip())
    if tail_end > start:
        spans.append((start, tail_end))
    return spans


def citation_numbers(text: str, superscript: bool) -> list[int]:
    """Reference numbers cited in ``text``: "(29)", "(17-27)", "(2,3)", and web-style "surgery.1"."""
    numbers: list[int] = []
    for m in PAREN_CITATION_RE.finditer(text):
        for part in re.split(r"\s*,\s*", m.group(1)):
            bounds = [int(x) for x in re.split(r"\s*[-–]\s*", part) if x]
            if len(bounds) == 2 and bounds[0] < bounds[1] <= bounds[0] + 50:
                numbers.extend(range(bounds[0], bounds[1] + 1))
            else:
                numbers.extend(bounds)
    if superscript:
        for m in SUPERSCRIPT_CITATION_RE.finditer(text):
            numbers.append(int(m.group(1) or m.group(2)))
    seen: list[int] = []
    for n in numbers:
        if 0 < n < 1000 and n not in seen:
            seen.append(n)
    return seen


def _resolve(doc: Document, numbers: Iterable[int]) -> tuple[Citation, ...]:
    return tuple(Citation(n, doc.meta.reference(n)) for n in numbers)


def _passage_id(doc_id: str, text: str, occurrence: int) -> str:
    digest = hashlib.sha1(f"{doc_id}\x00{text}\x00{occurrence}".encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}#{digest}"


@dataclass
class _Unit:
    """A run of content lines in one section: passages never cross its edges."""

    section: str
    kind: str
    lines: list[_Line]
    closed: bool = False  # a heading, caption or furniture line ended it


def _units(doc: Document, ct: CleanText) -> list[_Unit]:
    lines = _lines(ct)
    furniture = furniture_mask([l.text for l in lines])
    default = _default_section(doc)
    heading = default
    table: str | None = None
    seen_content = False
    units: list[_Unit] = []

    def close() -> None:
        if units:
            units[-1].closed = True

    def add(section: str, kind: str, line: _Line) -> None:
        last = units[-1] if units else None
        if last and not last.closed and last.section == section and last.kind == kind:
            last.lines.append(line)
        else:
            units.append(_Unit(section, kind, [line]))

    title = re.sub(r"\W+", " ", doc.meta.title).strip().lower()
    for i, line in enumerate(lines):
        text = line.text.strip()
        if furniture[i]:
            close()
            continue
        if not seen_content and title and len(text) <= 2 * len(title) + 20 and title in re.sub(r"\W+", " ", text).lower():
            continue  # the page's own title line
        caption = CAPTION_RE.match(text)
        if caption:
            word = caption.group(1).lower()
            table = f"Table {caption.group(2)}" if word.startswith("table") else "Figures"
            close()
            add(table, "table" if table.startswith("Table") else "prose", line)
            continue
        in_table = bool(table and table.startswith("Table"))
        if _is_heading(text) and (not in_table or _ends_table(text, lines[i + 1 :])):
            # Lines before the first content are the page's title block, not sections.
            if seen_content:
                heading = _heading_name(text)
            table = None
            close()
            continue
        label = INLINE_LABEL_RE.match(text)
        # An inline label ("Results: ...") names its own paragraph only.
        inline = label.group(1).strip().title() if label and label.group(1).lower() in SECTION_NAMES else None
        seen_content = True
        if in_table:
            add(table, "table", line)
        elif inline:
            close()
            add(inline, "prose", line)
            close()
        else:
            kind = "references" if "reference" in heading.lower() else "prose"
            add(heading, kind, line)
    return units


def _pack(sentences: list[tuple[int, int]], max_chars: int, overlap: int) -> Iterator[tuple[int, int]]:
    """Group sentence indices [i, j) into passages of at most max_chars, overlapping by whole sentences."""
    i = 0
    n = len(sentences)
    while i < n:
        j = i + 1
        while j < n and sentences[j][1] - sentences[i][0] <= max_chars:
            j += 1
        yield i, j
        if j >= n:
            break
        i = max(j - overlap, i + 1)


def chunk_document(doc: Document, vocabulary: Vocabulary, max_chars: int = 600, overlap: int = 1) -> list[Passage]:
    ct = clean(doc.raw, vocabulary)
    superscript = bool(doc.meta.references)
    cites_numbers = bool(doc.meta.references)
    passages: list[Passage] = []
    occurrences: dict[str, int] = {}

    def emit(section: str, kind: str, start: int, end: int, sentences: list[tuple[int, int]]) -> None:
        text = ct.text[start:end]
        if len(re.findall(r"\w+", text)) < MIN_PASSAGE_WORDS:
            return
        occurrence = occurrences.get(text, 0)
        occurrences[text] = occurrence + 1
        raw_start, raw_end = ct.raw_span(start, end)
        numbers = citation_numbers(text, superscript) if cites_numbers and kind != "references" else []
        passages.append(Passage(
            id=_passage_id(doc.id, text, occurrence),
            doc_id=doc.id,
            source_type=doc.meta.source_type,
            section=section,
            page=doc.page_at(raw_start),
            span=(raw_start, raw_end),
            text=text,
            citations=_resolve(doc, numbers),
            sentences=tuple((s - start, e - start) for s, e in sentences),
            kind=kind,
        ))

    for unit in _units(doc, ct):
        if unit.kind == "references":
            for line in unit.lines:  # one reference entry, one passage
                emit(unit.section, "references", line.start, line.end, [(line.start, line.end)])
            continue
        if unit.kind == "table":
            # A table stays whole (one row per line) unless it is very long.
            rows = [(l.start, l.end) for l in unit.lines]
            for i, j in _pack(rows, max_chars * 3, 0):
                emit(unit.section, "table", rows[i][0], rows[j - 1][1], rows[i:j])
            continue
        sentences: list[tuple[int, int]] = []
        for line in unit.lines:
            sentences.extend((line.start + s, line.start + e) for s, e in split_sentences(line.text))
        for i, j in _pack(sentences, max_chars, overlap):
            emit(unit.section, unit.kind, sentences[i][0], sentences[j - 1][1], sentences[i:j])
    return passages


def chunk_corpus(corpus: Corpus, max_chars: int = 600, overlap: int = 1) -> list[Passage]:
    vocabulary = Vocabulary.from_texts(d.raw for d in corpus.documents)
    out: list[Passage] = []
    for doc in corpus.documents:
        out.extend(chunk_document(doc, vocabulary, max_chars, overlap))
    return out


def recover_text(doc: Document, span: tuple[int, int], vocabulary: Vocabulary) -> str:
    """The cleaned text of a raw span: how a quote is traced back to its source."""
    return clean(doc.raw, vocabulary).text_for_raw_span(*span)
