"""Citable passages: sections, sentences, and in-text citation markers.

A passage is a few whole sentences from one section, quoted exactly as the
cleaned text has them, with the span of the raw document it came from. Its id
hashes the document id and text, so a rebuild gives the same ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .clean import (
    SECTION_NAMES,
    CleanText,
    Vocabulary,
    clean,
    furniture_mask,
    furniture_sentence,
    looks_like_furniture,
    number_problem,
    numbered_heading,
)
from .corpus import Corpus, Document, Reference

CAPTION_RE = re.compile(r"^(Table|Fig\.?|Figs\.?|Figure)\s+(\d+)\b", re.IGNORECASE)
LIST_ITEM_RE = re.compile(r"^(\d{1,2}\.|[•·▪◦*–-])\s")
# Words whose trailing period does not end a sentence.
ABBREVIATIONS = frozenset(
    "al fig figs e.g i.e vs dr mr mrs ms no st approx ca etc u.s inc ltd jr sr dept univ vol pp "  # noqa: SIM905
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
    pos = 0
    for block, para in enumerate(ct.text.split("\n\n")):
        for raw_line in para.split("\n"):
            if raw_line.strip():
                lines.append(_Line(pos, pos + len(raw_line), raw_line, block))
            pos += len(raw_line) + 1
        pos += 1  # the second newline of the paragraph break
    return lines


def _heading_words_ok(text: str) -> bool:
    words = text.split()
    if not words or len(words) > 12 or len(text) > 90 or text.endswith((".", ",", ";", ":")):
        return False  # a list lead-in ("Risk factors include:") is content
    if re.search(r"[.!?]\s+[A-Z]", text):
        return False  # holds a sentence end: running text, not a heading
    return text[0].isalpha() and sum(c.isdigit() for c in text) <= 3


def _numbered_heading(text: str) -> tuple[str, str] | None:
    found = numbered_heading(text)
    return found if found and _heading_words_ok(found[1]) else None


def _is_heading(line: str) -> bool:
    text = line.strip().lstrip("#").strip()
    if not text or CAPTION_RE.match(text):
        return False
    if text.lower().rstrip(":.") in SECTION_NAMES:
        return True
    if LIST_ITEM_RE.match(text):
        return False
    return _heading_words_ok(text)


def _heading_name(line: str) -> str:
    text = line.strip().lstrip("#").strip().rstrip(":.")
    numbered = _numbered_heading(text)
    if numbered:
        text = numbered[1]
    if text.isupper() and sum(c.isalpha() for c in text) > 3:
        text = text.lower()  # "MATERIALS AND METHODS" → "Materials and methods"
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _known_heading(text: str) -> bool:
    return text.lower().rstrip(":.") in SECTION_NAMES


def _followed_by_text(lines: list[_Line], i: int, depth: int = 1) -> bool:
    """A heading is followed by its text (or by a subheading that is): not a list, not another label."""
    if i + 1 >= len(lines):
        return False
    nxt = lines[i + 1].text.strip()
    if LIST_ITEM_RE.match(nxt) or re.match(r"^\d{1,2}\.\s", nxt) or CAPTION_RE.match(nxt):
        return False
    words = nxt.split()
    if nxt.endswith((".", "!", "?")) or (len(words) >= 6 and 4 * sum(w[:1].islower() for w in words) >= len(words)):
        return True  # running text; figure labels ("HOME OTHERS Referrals WARDS") are mostly capitals
    return depth > 0 and _is_heading(nxt) and _followed_by_text(lines, i + 1, depth - 1)


def _stray_label(lines: list[_Line], i: int) -> bool:
    """A short line that is neither heading nor sentence nor list item: text inside a figure."""
    text = lines[i].text.strip()
    if len(text.split()) > 8 or text.endswith((".", "!", "?", ":", ";", ",")) or LIST_ITEM_RE.match(text):
        return False
    nxt = lines[i + 1].text.strip() if i + 1 < len(lines) else ""
    return not (LIST_ITEM_RE.match(nxt) or re.match(r"^\d{1,2}\.\s", nxt))


def _prose_like(text: str) -> bool:
    """Running text rather than a table row, figure label or heading."""
    words = text.split()
    numbers = len(re.findall(r"\d+(?:\.\d+)?", text))
    return len(words) >= 8 and text.rstrip("\"”’)]").endswith((".", "!", "?")) and numbers <= len(words) // 4


def _ends_table(text: str, following: list[_Line]) -> bool:
    """Inside a table, short lines are column headers; only a real heading ends it."""
    if text.lower().rstrip(":.") in SECTION_NAMES:
        return True
    if re.search(r"\d", text):
        return False  # a row with numbers is the table's last row, not a heading after it
    nxt = following[0].text if following else ""
    return _prose_like(nxt)


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
    # A parenthesis standing alone after a sentence ("... of it. (Centre A, R4).") belongs to it.
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and re.fullmatch(r"\([^()]{1,40}\)[.!?]?", text[s:e]):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


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
    digest = hashlib.sha1(f"{doc_id}\x00{text}\x00{occurrence}".encode()).hexdigest()[:12]
    return f"{doc_id}#{digest}"


@dataclass
class _Unit:
    """A run of pieces (sentences, table rows or reference entries) in one section: passages never cross its edges."""

    section: str
    kind: str
    pieces: list[tuple[int, int]]
    closed: bool = False  # a heading, caption or furniture ended it


LABEL_RE = re.compile(r"^([A-Z][A-Za-z ]{2,30})(?::\s+\S|\.(?:\s+[A-Z]|$))")
ENTRY_START_RE = re.compile(r"^(\[\d{1,3}\]|\d{1,3}\.\s|[•·▪◦*–-]\s)")
REFERENCE_HEADING_RE = re.compile(r"^(references?\b|bibliography|literature cited|works cited|sources)", re.IGNORECASE)


def _label(text: str) -> str | None:
    """The section an inline label names: "Results: ..." or, in an abstract, "Methods. Focus groups ..."."""
    m = LABEL_RE.match(text)
    if m and m.group(1).lower() in SECTION_NAMES:
        return m.group(1).strip().title()
    return None


def _front_matter_end(doc: Document, ct: CleanText, lines: list[_Line]) -> int:
    """Index of a PDF's first content line: title, authors, affiliations, journal lines go before it.

    The content starts at the first section heading, numbered heading or labelled
    paragraph on the first page; with none there, nothing is taken for front matter.
    """
    first_page_end = doc.page_starts[1] if len(doc.page_starts) > 1 else len(doc.raw)
    for i, line in enumerate(lines):
        if ct.offsets[line.start] >= first_page_end:
            break
        text = line.text.strip()
        if text.lower().rstrip(":.") in SECTION_NAMES or _label(text):
            return i
        numbered = _numbered_heading(text)
        if numbered and numbered[0] == "1":
            return i
    return 0


@dataclass(frozen=True)
class HeldBack:
    """A passage never quoted because its numbers cannot be trusted; the build lists each one."""

    doc_id: str
    section: str
    page: int | None
    span: tuple[int, int]
    text: str
    reason: str

    def __str__(self) -> str:
        where = f"p.{self.page} " if self.page else ""
        return f"{self.doc_id} · {self.section} · {where}chars {self.span[0]}-{self.span[1]}: {self.reason}"

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "section": self.section, "page": self.page, "span": list(self.span),
                "text": self.text, "reason": self.reason}


FURNITURE_WARN_SHARE = 1 / 3


@dataclass(frozen=True)
class DocReport:
    """What chunking made of one document: for `passages`, `build`, `doctor` and the staff page."""

    doc_id: str
    passages: int
    text_chars: int  # letters and digits of the document, furniture included
    furniture_chars: int  # of those, how many were page furniture kept out of passages
    held_back: tuple[HeldBack, ...] = ()

    @property
    def furniture_share(self) -> float:
        return self.furniture_chars / self.text_chars if self.text_chars else 0.0

    @property
    def warnings(self) -> tuple[str, ...]:
        out = []
        if self.passages == 0:
            out.append(f"gives no passages: nothing in it can be quoted ({self.furniture_share:.0%} of its text "
                       "is page furniture)")
        elif self.furniture_share > FURNITURE_WARN_SHARE:
            out.append(f"{self.furniture_share:.0%} of its text is page furniture (contact details, menus, "
                       "running heads) and is kept out of passages")
        if self.held_back:
            out.append(f"{len(self.held_back)} passage(s) held back: numbers damaged by the PDF's fonts")
        return tuple(out)

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "passages": self.passages, "held_back": [h.to_json() for h in self.held_back],
                "furniture_share": round(self.furniture_share, 3), "warnings": list(self.warnings)}


@dataclass(frozen=True)
class ChunkResult:
    passages: tuple[Passage, ...]
    reports: tuple[DocReport, ...]

    @property
    def held_back(self) -> tuple[HeldBack, ...]:
        return tuple(h for r in self.reports for h in r.held_back)

    def report(self, doc_id: str) -> DocReport | None:
        return next((r for r in self.reports if r.doc_id == doc_id), None)

    def warnings(self) -> list[str]:
        """One line per document warning, "<doc id>: <what>"."""
        return [f"{r.doc_id}: {w}" for r in self.reports for w in r.warnings]


def _letters(text: str) -> int:
    return sum(c.isalnum() for c in text)


def _units(doc: Document, ct: CleanText) -> tuple[list[_Unit], int]:
    """Units of the document, and how many letters and digits were furniture."""
    lines = _lines(ct)
    furniture = furniture_mask([l.text for l in lines])
    front_end = _front_matter_end(doc, ct, lines) if doc.paged else 0
    default = _default_section(doc)
    heading = default
    table: str | None = None
    table_page: int | None = None
    in_references = False
    numbered_entries = False
    seen_content = False
    last_number = 0  # the last numbered heading's top-level number: "2. Methods" follows "1. Introduction"
    units: list[_Unit] = []
    dropped = 0

    def close() -> None:
        if units:
            units[-1].closed = True

    def add(section: str, kind: str, piece: tuple[int, int]) -> None:
        last = units[-1] if units else None
        if last and not last.closed and last.section == section and last.kind == kind:
            last.pieces.append(piece)
        else:
            units.append(_Unit(section, kind, [piece]))

    title = re.sub(r"\W+", " ", doc.meta.title).strip().lower()
    for i, line in enumerate(lines):
        text = line.text.strip()
        if i < front_end or furniture[i]:
            dropped += _letters(text)
            close()
            continue
        after_break = i > 0 and lines[i - 1].block != line.block
        if in_references and after_break and not ENTRY_START_RE.match(text) and _is_heading(text):
            in_references = False  # a heading after a paragraph break: the list has ended
        if in_references:  # otherwise the reference list runs to its end, whatever its lines look like
            if looks_like_furniture(text):
                dropped += _letters(text)
                continue
            last = units[-1] if units else None
            if last and last.kind == "references" and numbered_entries and not ENTRY_START_RE.match(text):
                last.pieces[-1] = (last.pieces[-1][0], line.end)  # an entry wrapped after a number
            else:
                numbered_entries = numbered_entries or bool(ENTRY_START_RE.match(text))
                add(heading, "references", (line.start, line.end))
            continue
        if not seen_content and title and len(text) <= 2 * len(title) + 20 and title in re.sub(r"\W+", " ", text).lower():
            continue  # the page's own title line
        page = doc.page_at(ct.offsets[line.start])
        caption = CAPTION_RE.match(text)
        if caption:
            word = caption.group(1).lower()
            table = f"Table {caption.group(2)}" if word.startswith("table") else "Figures"
            table_page = page
            close()
            add(table, "table" if table.startswith("Table") else "prose", (line.start, line.end))
            if not table.startswith("Table"):
                close()  # a figure caption is a passage of its own, never part of a sentence
            continue
        in_table = bool(table and table.startswith("Table"))
        if in_table and page != table_page:
            table, in_table = None, False  # a table ends with its page ("Table 2 (Continued)" opens it again)
            close()
        numbered = None if in_table else _numbered_heading(text)
        if numbered:
            top, _, sub = numbered[0].partition(".")
            nxt = _numbered_heading(lines[i + 1].text.strip()) if i + 1 < len(lines) else None
            a_list = nxt is not None and nxt[0] == str(int(top) + 1) and not sub
            in_sequence = int(top) == last_number + 1 if not sub else int(top) == last_number
            if in_sequence and not a_list:
                last_number = int(top)
                heading = _heading_name(text)
                in_references = bool(REFERENCE_HEADING_RE.search(heading))
                table = None
                close()
                continue
        if (_is_heading(text) and (not in_table or _ends_table(text, lines[i + 1 :]))
                and (not doc.paged or _known_heading(text) or _followed_by_text(lines, i))):
            # Lines before the first content are the page's title block, not sections.
            if seen_content or doc.paged:
                heading = _heading_name(text)
                in_references = bool(REFERENCE_HEADING_RE.search(heading))
            table = None
            close()
            continue
        if in_table and _prose_like(text):
            table, in_table = None, False  # prose after a table is the section's again
            close()
        seen_content = True
        if in_table:
            add(table or heading, "table", (line.start, line.end))
            continue
        if doc.paged and _stray_label(lines, i):
            dropped += _letters(text)  # words inside a figure, a stray cell: no sentence to quote
            close()
            continue
        section = heading
        labelled = False
        for s, e in split_sentences(line.text):
            sentence = line.text[s:e]
            if furniture_sentence(sentence):
                dropped += _letters(sentence)
                close()
                continue
            # A label mid-paragraph starts a new section only in a PDF abstract ("... examined. Methods. Focus ..."):
            # text files keep their labelled paragraphs whole, as before.
            label = _label(sentence) if (s == 0 or doc.paged) else None
            if label:
                # An inline label ("Results: ...") names its own paragraph only.
                section, labelled = label, True
                close()
            add(section, "prose", (line.start + s, line.start + e))
        if labelled:
            close()
    return units, dropped


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


def chunk_document_report(doc: Document, vocabulary: Vocabulary, max_chars: int = 600,
                          overlap: int = 1) -> tuple[list[Passage], DocReport]:
    """The passages of one document, and its report (furniture share, held-back passages)."""
    ct = clean(doc.raw, vocabulary, doc.page_starts)
    superscript = bool(doc.meta.references)
    cites_numbers = bool(doc.meta.references)
    passages: list[Passage] = []
    held: list[HeldBack] = []
    occurrences: dict[str, int] = {}

    def emit(section: str, kind: str, start: int, end: int, sentences: list[tuple[int, int]]) -> None:
        text = ct.text[start:end]
        if len(re.findall(r"\w+", text)) < MIN_PASSAGE_WORDS:
            return
        raw_start, raw_end = ct.raw_span(start, end)
        problem = number_problem(doc.raw[raw_start:raw_end], text)
        if problem:
            held.append(HeldBack(doc.id, section, doc.page_at(raw_start), (raw_start, raw_end), text, problem))
            return
        occurrence = occurrences.get(text, 0)
        occurrences[text] = occurrence + 1
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

    units, dropped = _units(doc, ct)
    for unit in units:
        pieces = unit.pieces
        if unit.kind == "references":
            for s, e in pieces:  # one reference entry, one passage
                emit(unit.section, "references", s, e, [(s, e)])
            continue
        if unit.kind == "table":
            # A table stays whole (one row per line) unless it is very long.
            for i, j in _pack(pieces, max_chars * 3, 0):
                emit(unit.section, "table", pieces[i][0], pieces[j - 1][1], pieces[i:j])
            continue
        for i, j in _pack(pieces, max_chars, overlap):
            emit(unit.section, unit.kind, pieces[i][0], pieces[j - 1][1], pieces[i:j])
    margins = sum(_letters(line) for _, line in doc.margins)
    report = DocReport(doc.id, len(passages), _letters(doc.raw) + margins, dropped + margins, tuple(held))
    return passages, report


def chunk_corpus_report(corpus: Corpus, max_chars: int = 600, overlap: int = 1) -> ChunkResult:
    """Every passage of the corpus, with a report per document (what `passages`, `build` and `doctor` warn about)."""
    vocabulary = Vocabulary.from_texts(d.raw for d in corpus.documents)
    passages: list[Passage] = []
    reports: list[DocReport] = []
    for doc in corpus.documents:
        ps, report = chunk_document_report(doc, vocabulary, max_chars, overlap)
        passages.extend(ps)
        reports.append(report)
    return ChunkResult(tuple(passages), tuple(reports))


def chunk_corpus(corpus: Corpus, max_chars: int = 600, overlap: int = 1) -> list[Passage]:
    """The quotable passages (held-back ones left out); ``chunk_corpus_report`` says why and what."""
    return list(chunk_corpus_report(corpus, max_chars, overlap).passages)


def recover_text(doc: Document, span: tuple[int, int], vocabulary: Vocabulary) -> str:
    """The cleaned text of a raw span: how a quote is traced back to its source."""
    return clean(doc.raw, vocabulary, doc.page_starts).text_for_raw_span(*span)
