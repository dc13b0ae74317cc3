"""Repair text-extraction artifacts while remembering where every character came from.

PDF extraction wraps lines, splits words with line-end hyphens, scatters
ligatures and odd spaces. The cleaned text is what passages quote; the offset
map sends every cleaned character back to the raw document so any quote can be
verified against the original. Whether a line-end hyphen is a soft break or a
real hyphen is decided from evidence: how the word is written elsewhere in the
corpus, then an English word list (wordfreq), never a list of known words.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

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
LIST_ITEM_RE = re.compile(r"^(\d{1,2}\.\s|[•·▪◦\-*–]\s|\[\d{1,3}\]\s?[A-Z])")
NUMBERED_LINE_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+([A-Z][^.!?:;]{0,80})$")


def numbered_heading(line: str, strict: bool = False) -> tuple[str, str] | None:
    """("2.1", "Participants") for a numbered heading line; a list item or a reference is none.

    A heading is short and title-like: at most eight words, most long ones capitalised
    ("9. Labelling the Condition “Heart Failure”"), or three words at most ("3.2. Data analysis").
    """
    m = NUMBERED_LINE_RE.match(line.strip())
    if not m or int(m.group(1).split(".")[0]) > 30:
        return None
    if strict and not re.match(r"\d{1,2}(\.\d{1,2})*\.\s|\d{1,2}\.\d", line.strip()):
        return None  # "3 Months" in a table is no heading; "2. Methods" and "3.1 Design" are
    words = m.group(2).split()
    if len(words) > 8 or "," in m.group(2):  # an affiliation or a reference, not a heading
        return None
    long_words = [w for w in words if len(w.strip("“”\"'()")) >= 4]
    capitalised = sum(w.strip("“”\"'(")[:1].isupper() for w in long_words)
    if len(words) > 3 and capitalised * 2 < len(long_words):
        return None
    return m.group(1), m.group(2).strip()
# An inline label after a finished sentence starts a line ("... cited.\nObjectives. Patient ...").
LABEL_START_RE = re.compile(r"^([A-Z][A-Za-z ]{2,30})[.:]\s+[A-Z]")
# A caption starts a line after a finished sentence ("... in 2010.\nFigure 1 Patient flow").
CAPTION_START_RE = re.compile(r"^(Table|Fig\.?|Figs\.?|Figure)\s+\d+\b")
# "Table 1 Patient-provider relationship": a caption wherever it stands (a mention reads "Table 1 shows").
CAPTION_LINE_RE = re.compile(r"^(Table|Figure)\s+\d+\s+[A-Z][a-z]+[- ][A-Za-z]")


@lru_cache(maxsize=200_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def _in_word_list(word: str) -> bool:
    return _zipf(word) > 0


# How common an English word must be to count as a word on its own (Zipf scale, wordfreq):
# two- and three-letter fragments ("re", "th", "co", "pre") are common as word parts and
# rare as words; function words ("of", "be", "with") are far above this.
SHORT_WORD_ZIPF = 5.5
WORD_ZIPF = 3.0
FUNCTION_WORD_ZIPF = 6.0


def _is_word(word: str) -> bool:
    """A word on its own in English prose (not just a fragment the word list has seen)."""
    w = word.lower()
    if len(w) == 1:
        return word in ("a", "A", "I") or word.isupper()
    # Two- and three-letter fragments ("re", "th", "co") need more support than words.
    return _zipf(w) >= {2: SHORT_WORD_ZIPF, 3: 4.5}.get(len(w), WORD_ZIPF)


@dataclass(frozen=True)
class Vocabulary:
    """How words are written across the corpus: the evidence for hyphen decisions."""

    words: frozenset[str] = frozenset()
    hyphenated: frozenset[str] = frozenset()
    # How often each (lower-cased) word stands alone in the corpus.
    counts: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        counts: Counter[str] = Counter()
        hyphenated: set[str] = set()
        for text in texts:
            # Ligatures first: "anti-\ninﬂammatory" is judged by how "anti-inflammatory" is written.
            text = unicodedata.normalize("NFKC", text)
            after_hyphen = False
            for line in text.splitlines():
                # Fragments around a line-end hyphen ("tech-" / "nique") are no evidence of words.
                body = line.rstrip()
                if after_hyphen:
                    body = body.lstrip()
                    body = body[body.find(" ") + 1 :] if " " in body else ""
                after_hyphen = body.endswith("-")
                if after_hyphen:
                    body = body[: body.rfind(" ") + 1] if " " in body else ""
                counts.update(w.lower() for w in WORD_RE.findall(body))
                hyphenated.update(h.lower() for h in HYPHENATED_RE.findall(body))
        return cls(frozenset(counts), frozenset(hyphenated), dict(counts))

    def count(self, word: str) -> int:
        return self.counts.get(word.lower(), 0)

    def knows(self, word: str) -> bool:
        w = word.lower()
        return w in self.words or _in_word_list(w)

    def joins(self, left: str, right: str) -> bool:
        """True when ``left-`` + newline + ``right`` is one word broken by a soft hyphen."""
        if not left or not right or any(c.isdigit() for c in left) or right[0].isdigit():
            return False
        if right[0].isupper():
            return False  # "Hollingsworth-\nFridlund": a soft hyphen never comes before a capital
        if f"{left}-{right}".lower() in self.hyphenated:
            return False
        if self.knows(left + right):
            return True
        # One word, unless two real words are joined by a hyphen ("bone-like", "platelet-derived").
        return not (self.knows(left) and self.knows(right) and len(left) > 2)


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
    """NFKC per character (ligatures, full-width forms), one space kind, invisibles dropped,
    and the glyph repairs of ``GLYPH_REPAIRS`` (read from the raw text, so every line sees them)."""
    repairs: dict[int, tuple[int, str]] = {}
    for pattern, new in GLYPH_REPAIRS:
        for m in pattern.finditer(raw):
            repairs.setdefault(m.start(1), (m.end(1), new))
    out: list[tuple[str, int]] = []
    skip_to = 0
    for i, ch in enumerate(raw):
        if i < skip_to:
            continue
        if i in repairs:
            skip_to, new = repairs[i]
            out.extend((c, i) for c in new)
            continue
        if ord(ch) in INVISIBLE:
            continue
        if ch in "\f\v\u2028\u2029\x85":
            out.append(("\n", i))
            continue
        if SPACES.match(ch):
            out.append((" ", i))
            continue
        if unicodedata.category(ch) == "Cc" and ch != "\n":
            continue  # the number guard reads the raw text, so a lost sign is still seen there
        norm = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
        if norm != ch and any(c.isdigit() for c in norm) and unicodedata.category(ch) != "Nd":
            norm = ch  # "¼" → "1⁄4" or "10⁵" → "105" would change a number: keep the character
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


def _short_heading(line: str, after: str = "", width: int = 0) -> bool:
    """A short capitalised line with no sentence end: after a finished sentence, a heading.

    Short means under WRAPPED_LINE_CHARS, or, when the line after it starts a new
    sentence too, clearly shorter than the text's usual line (``width``).
    """
    words = line.split()
    if not (0 < len(words) <= 8 and line[0].isupper() and not line.endswith(TERMINAL)
            and not line[-1].isdigit() and not line.endswith(",")):
        return False
    if len(line) < WRAPPED_LINE_CHARS and len(words) <= 6:
        return True
    # Prose fills a line with nine or ten words; a heading is a few, often in a wider font.
    limit = width if len(words) <= 6 else 0.8 * width
    return bool(after) and after[0].isupper() and width > 0 and len(line) < limit


def _soft_break(prev: str, nxt: str, blank_between: bool, after: str = "", width: int = 0) -> bool:
    """Does a line break fall inside running text (rather than end a heading, row or paragraph)?

    A wrapped line is long; a heading or a table row is short or ends in a number.
    Across a blank line only an unfinished sentence continues ("30- to" / "50-year-old").
    """
    if not prev or not nxt or LIST_ITEM_RE.match(nxt) or nxt.lower().rstrip(":") in SECTION_NAMES:
        return False
    if numbered_heading(prev, strict=True):
        return False  # a numbered heading ends its line
    label = LABEL_START_RE.match(nxt)
    if label and label.group(1).lower() in SECTION_NAMES and prev.endswith(TERMINAL):
        return False
    if blank_between:
        unfinished = not prev.endswith(TERMINAL) and prev[-1].isalpha()
        return unfinished and (nxt[0].islower() or nxt[0].isdigit())
    if nxt[0].islower():
        return True
    if CAPTION_LINE_RE.match(nxt) or (prev.endswith(TERMINAL) and (
            CAPTION_START_RE.match(nxt) or _short_heading(nxt, after, width) or numbered_heading(nxt))):
        return False  # a caption or a heading is kept out of the sentence before it
    return len(prev) >= WRAPPED_LINE_CHARS and not prev[-1].isdigit()


def _page_break_joins(prev: str, nxt: str) -> bool:
    """A sentence that runs on across a page break (the page's furniture already set apart)."""
    if not prev or not nxt or LIST_ITEM_RE.match(nxt) or nxt.lower().rstrip(":") in SECTION_NAMES:
        return False
    if CAPTION_START_RE.match(nxt) or re.match(r"\d+(\.\d+)*\.?\s+[A-Z]", nxt):
        return False
    finished = prev.rstrip("\"”’)]").endswith((".", "!", "?", ":"))
    return not finished and len(prev) >= WRAPPED_LINE_CHARS and not prev[-1].isdigit()


def clean(raw: str, vocabulary: Vocabulary | None = None, page_starts: Iterable[int] = ()) -> CleanText:
    """Cleaned text: soft wraps joined, soft hyphens removed, real line and paragraph breaks kept.

    Paragraphs end with a blank line ("\\n\\n"); lines that stand on their own
    (headings, table rows, list items) end with "\\n". ``page_starts`` (raw offsets)
    tells a page break from a blank line: a sentence may run on across the first.
    """
    vocabulary = vocabulary or Vocabulary.from_texts([raw])
    breaks = {s for s in page_starts if s > 0}
    lines = _lines(_normalize_chars(raw))
    filled = [l for l in lines if l[0]]
    long_lines = sorted(len(l[0]) for l in filled if len(l[0]) >= 30)
    width = long_lines[len(long_lines) // 2] if long_lines else 0  # the usual line: a column's width
    following = {id(a[0]): _text(b[0]) for a, b in itertools.pairwise(filled)}
    out: list[tuple[str, int]] = []
    blank_run = False
    prev_line: list[tuple[str, int]] | None = None
    prev_heading = False  # the previous line stood alone as a heading: its text starts a new line
    in_caption = False
    table_caption = False  # the line is a table's caption: its header row starts a new line
    prev_trailing_space = False
    prev_newline_at = 0
    for content, trailing_space, newline_at in lines:
        if not content:
            blank_run = prev_line is not None
            continue
        if prev_line is not None:
            prev, nxt = _text(prev_line), _text(content)
            page_break = blank_run and any(prev_newline_at < b <= content[0][1] for b in breaks)
            m_left = re.search(r"([A-Za-z0-9]+)-$", prev)
            m_right = re.match(r"[A-Za-z0-9]+", nxt)
            if (m_left and m_right and not prev_trailing_space and len(prev) > 1  # a word broken by a hyphen
                    and (not blank_run or nxt[0].islower())):
                if vocabulary.joins(m_left.group(1), m_right.group(0)):
                    out.pop()  # the soft hyphen goes; the word is whole again
                # else: a real hyphen, kept with no space ("bone-like")
            elif (not (prev_heading and not nxt[0].islower()) and not (in_caption and prev.endswith(TERMINAL))
                  and not (table_caption and not nxt[0].islower())) and (
                    _soft_break(prev, nxt, blank_run, following.get(id(content), ""), width)
                    or (page_break and _page_break_joins(prev, nxt))):
                out.append((" ", prev_newline_at))
            else:
                sep = "\n\n" if blank_run else "\n"
                out.extend((c, prev_newline_at) for c in sep)
                prev_heading = prev.endswith(TERMINAL) and _short_heading(nxt, following.get(id(content), ""), width)
                in_caption = bool(CAPTION_START_RE.match(nxt))  # a caption ends with its first sentence
                table_caption = in_caption and nxt.startswith("Table")
                out.extend(content)
                prev_line, prev_trailing_space, prev_newline_at = content, trailing_space, newline_at
                blank_run = False
                continue
        prev_heading = table_caption = False
        if prev_line is None:
            in_caption = bool(CAPTION_START_RE.match(_text(content)))
            table_caption = _text(content).startswith("Table") and in_caption
        out.extend(content)
        prev_line, prev_trailing_space, prev_newline_at = content, trailing_space, newline_at
        blank_run = False
    out = _rejoin_split_words(out, vocabulary)
    out = _split_glued_words(out, vocabulary)
    text = "".join(c for c, _ in out)
    return CleanText(text=text, offsets=tuple(i for _, i in out))


# ---------------------------------------------------------------- word repairs
#
# Each repair works on (character, raw offset) pairs, so the map back to the raw text
# stays exact. Only spaces are added or removed, and glyphs that are no letter or digit
# replaced, so a repaired quote still matches its source letter for letter.

TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z’']*[A-Za-z]|[A-Za-z]")
# Glyphs of symbol fonts read as the Latin-1 character at the same code: "=" comes out as
# "¼" ("p¼0.49"; NFKC makes it "1⁄4"). Between a statistic and a number that reading is
# certain. The provenance check reads the raw text through the same table (``quote_matches_source``).
STATISTIC = r"(?:p|P|n|N|r|R|t|F|z|Z|U|OR|RR|HR|CI|df|SD|SE|I2|κ|ρ|β|χ2)"
GLYPH_REPAIRS = (
    (re.compile(rf"(?<![A-Za-z]){STATISTIC}\s?(¼|1⁄4)(?=\s?[-−–]?\.?\d)"), "="),
    # An unmapped glyph (its name, or a control character) opening a list line is its bullet.
    (re.compile(r"(?m)^[ \t]*(/C\d{1,3}|[\x80-\x9f])(?=[ \t]+[A-Za-z(‘“'\"])"), "•"),
)


def _replace(chars: list[tuple[str, int]], spans: list[tuple[int, int, str]]) -> list[tuple[str, int]]:
    """Replace text[start:end] by ``new`` (each new character keeps the first replaced offset)."""
    if not spans:
        return chars
    out: list[tuple[str, int]] = []
    pos = 0
    for start, end, new in sorted(spans):
        if start < pos:
            continue
        out.extend(chars[pos:start])
        anchor = chars[start][1] if start < len(chars) else (chars[-1][1] if chars else 0)
        out.extend((c, anchor) for c in new)
        pos = end
    out.extend(chars[pos:])
    return out


def _rejoin_split_words(chars: list[tuple[str, int]], vocabulary: Vocabulary) -> list[tuple[str, int]]:
    """"tech nique", "re generated" → one word, on evidence, as line-end hyphens are.

    Joined when the joined word is known (in the corpus or the word list) and at least
    one part is no word in this context: it is not common enough in English to stand
    alone and it does not stand alone anywhere else in the corpus.
    """
    text = "".join(c for c, _ in chars)
    spans = []
    for m in re.finditer(r"(?<![\w’'-])([A-Za-z]+) (?=([a-z]+)(?![\w’'.-]))", text):
        left, right = m.group(1), m.group(2)
        if len(left) < 2 or not (left.islower() or left.istitle()):
            continue  # a single letter is a word or an initial ("P et al."), never a fragment
        joined = (left + right).lower()
        if not (vocabulary.count(joined) > 0 or _zipf(joined) >= WORD_ZIPF):
            continue
        pair_count = len(re.findall(rf"\b{left} {right}\b", text))

        def stands_alone(part: str, pair_count: int = pair_count) -> bool:
            return _is_word(part) or vocabulary.count(part) > pair_count

        if not stands_alone(left) or not stands_alone(right):
            spans.append((m.start(1) + len(left), m.start(2), ""))
    return _replace(chars, spans)


def _piece_ok(piece: str, vocabulary: Vocabulary) -> bool:
    if not (piece.islower() or piece.istitle() or piece.isupper()):
        return False
    if vocabulary.count(piece) >= 2 and len(piece) > 1:
        return True
    if piece.isupper() and len(piece) > 1:
        return False  # an acronym counts only where the corpus uses it
    return _is_word(piece)


def segment(token: str, vocabulary: Vocabulary) -> list[str] | None:
    """Best split of a glued token into known words ("wereconductedwith"), or None."""
    n = len(token)
    best: list[tuple[float, int] | None] = [None] * (n + 1)
    best[0] = (0.0, 0)
    for end in range(1, n + 1):
        for start in range(max(0, end - 24), end):
            before = best[start]
            if before is None:
                continue
            piece = token[start:end]
            if not _piece_ok(piece, vocabulary):
                continue
            # Unigram log-probability plus a cost per piece: "income", not "in come".
            score = before[0] + max(_zipf(piece.lower()), 2.5) - 9.0
            here = best[end]
            if here is None or score > here[0]:
                best[end] = (score, start)
    pieces: list[str] = []
    end = n
    while end > 0:
        step = best[end]
        if step is None:
            return None
        pieces.append(token[step[1]:end])
        end = step[1]
    return pieces[::-1]


GLUE_SPACES = (
    re.compile(r"(?<=[A-Za-z)\]][,;])(?=[A-Za-z(\[])"),          # "were,during" "R7,Centre"
    re.compile(r"(?<=[a-z\])]\.)(?=[A-Z][a-z]|\()"),              # "[1].However", "fitter.(Centre"
    re.compile(r"(?<=\b[A-Z]\.)(?=[A-Z][a-z]{2}|[A-Z]\.[A-Z][a-z])"),  # initials "S.A.Murray"
    re.compile(r"(?<=[)\]])(?=[A-Za-z]{2})|(?<=\])(?=[A-Z]\.)"),    # "[8]were", "[3]S. A. Murray"
    re.compile(r"(?<=[a-z]{3})(?=[(\[][A-Z0-9])"),               # "countries(LMIC)"
)


def _split_glued_words(chars: list[tuple[str, int]], vocabulary: Vocabulary) -> list[tuple[str, int]]:
    """Spaces the extractor lost: "[8]wereconductedwith" → "[8] were conducted with".

    A token is split only when it is no word itself (not in the word list, not used
    twice in the corpus) and splits into three or more known words, or into two of
    which one is a function word or the first an inflected word ("evaluationsrevealed"):
    so "postrehabilitation" or "multilineage" stay whole.
    """
    text = "".join(c for c, _ in chars)
    spans = [(m.start(), m.start(), " ") for p in GLUE_SPACES for m in p.finditer(text)]
    for m in TOKEN_RE.finditer(text):
        token = m.group(0)
        # wordfreq reads "it’sdefeatist" as two tokens and finds them: a long token with an
        # apostrophe is known only when short enough to be one word ("patient’s").
        known = _zipf(token.lower()) > 0 and not (re.search(r"[’']", token) and len(token) > 10)
        if len(token) < 7 or known or vocabulary.count(token) >= 2:
            continue
        pieces = segment(token, vocabulary)
        if not pieces or len(pieces) < 2:
            continue
        if (len(token) < 20 and len(token) / len(pieces) < 3.0) or (len(token) < 12 and min(len(p) for p in pieces) < 2):
            continue  # mostly tiny pieces: a rare word cut up ("impactation"), not glued words
        if len(pieces) == 2 and not (any(_zipf(p.lower()) >= FUNCTION_WORD_ZIPF for p in pieces)
                                     or re.search(r"(s|ed|ly|ing)$", pieces[0]) and len(pieces[1]) >= 5):
            continue  # "postrehabilitation", "multilineage": a prefix, not two words
        pos = m.start()
        for piece in pieces[:-1]:
            pos += len(piece)
            spans.append((pos, pos, " "))
    return _replace(chars, spans)


def locate_quote(raw: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` occurs in ``raw`` ignoring whitespace and ligatures, or None.

    A limitation copied from a PDF viewer has a space where the extracted text breaks
    a line, and "fi" where it has "ﬁ".
    """
    def fold(text: str, soft_hyphens: bool = False) -> tuple[str, list[int]]:
        chars: list[str] = []
        where: list[int] = []
        for i, ch in enumerate(text):
            if ch.isspace() or ord(ch) in INVISIBLE:
                continue
            if soft_hyphens and ch == "-" and text[i + 1 : i + 2] == "\n":
                continue  # "appro-\npriately" as a viewer copies it, "appropriately"
            for c in unicodedata.normalize("NFKC", ch):
                chars.append(c)
                where.append(i)
        return "".join(chars), where

    needle, _ = fold(quote)
    if not needle:
        return None
    for soft in (False, True):
        hay, where = fold(raw, soft)
        at = hay.find(needle)
        if at >= 0:
            return where[at], where[at + len(needle) - 1] + 1
    return None


def comparable(text: str) -> str:
    """Letters and digits only, NFKC-folded: what must match between a quote and its source."""
    return _folded(text, repair=False)


def _apply_repairs(text: str) -> str:
    for pattern, new in GLYPH_REPAIRS:
        parts: list[str] = []
        pos = 0
        for m in pattern.finditer(text):
            parts.append(text[pos : m.start(1)] + new)
            pos = m.end(1)
        text = "".join(parts) + text[pos:]
    return text


def _folded(text: str, repair: bool) -> str:
    text = unicodedata.normalize("NFKC", text).translate(INVISIBLE)
    if repair:
        text = _apply_repairs(text)
    return "".join(ch.lower() for ch in text if ch.isalnum())


def quote_matches_source(raw: str, span: tuple[int, int], quote: str) -> bool:
    """Independent provenance check: the quote says exactly what the raw span says.

    Only hyphens, spaces and line breaks may differ (the cleaner's repairs); a
    changed, added or dropped letter or digit fails.
    """
    start, end = span
    if not (0 <= start < end <= len(raw)):
        return False
    # The source is read through GLYPH_REPAIRS, the quote as it is: "p1⁄40.49" never passes for "p=0.49".
    return _folded(raw[start:end], repair=True) == _folded(quote, repair=False)


# ---------------------------------------------------------------- page furniture

_FURNITURE_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\(\d{3}\)\s*\d{3}[-.\s]\d{4}",                      # phone numbers
        r"\b\d{3}[-.]\d{3}[-.]\d{4}\b",
        r"\b(phone|fax|tel|e-?mail)\b\s*[:.]?\s*$",
        r"^\d+\s+[\w.' ]+\b(st|street|ave|avenue|rd|road|ct|court|blvd|boulevard|dr|drive|lane|ln|way|suite)\b\.?",
        r"\b[A-Z]{2}\s+\d{5}(-\d{4})?\b",                     # state + ZIP
        r"©|\(c\)\s*\d{4}|\ball rights reserved\b|\bcopyright\b",
        r"\b(contact us|call (us|now|today)|book (an|your)|schedule (an|your)|make an appointment|request an appointment)\b",
        r"\b(get a (2nd|second) opinion|become a new patient|current patients|sign up|subscribe|click here|learn more|read more)\b",
        r"\b(are you a candidate|i am interested in|i am looking for|are you looking for|how did you hear about us|leave this field empty)\b",
        r"\b(meet our|check out our|share this|follow us|privacy policy|terms of use|skip to (main )?content)\b",
        r"[★☆]",
        r"^[A-Z][\w.'\- ]{1,60},\s*(MD|DO|PhD|RN|NP|DC|ND|PA-C|MBBS)\.?$",   # byline
        r"^contact information\b",
        r"^(home|menu|search|back to top|next|previous)$",
        r"\*\s*:?\s*$",                                        # required form field "First Name*:"
        r"\bsubmit your (next )?manuscript\b|\bopen access\b.*\barticle distributed\b",  # journal chrome
        r"^(received|accepted|published)\b.{0,40}\b(19|20)\d\d\b",
        r"^(key ?words|abbreviations)\s*[:.]",
        r"^(https?://|www\.)\S+$|\bcite this article\b|\bonline submission\b",
    )
]


def _rough_sentences(line: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“(])", line.strip()) if s]


GAP_LINES = 8


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
    # A paragraph's furniture goes sentence by sentence (``furniture_sentence``): a line is
    # furniture only when every sentence of it is, but for unfinished scraps ("Ask our specialists:").
    def chrome(line: str) -> bool:
        sentences = _rough_sentences(line)
        furniture = [looks_like_furniture(s) for s in sentences]
        scraps = [len(s.split()) <= 4 and not s.endswith((".", "!", "?")) for s in sentences]
        return any(furniture) and all(f or sc for f, sc in zip(furniture, scraps))

    mask = [chrome(l) for l in lines]
    short = [len(l.split()) <= 12 and not l.rstrip().endswith(".") or len(l.split()) <= 4 for l in lines]
    # A run of up to GAP_LINES short lines with furniture on both sides (or the end) is furniture.
    i = 0
    while i < len(lines):
        if mask[i] or not short[i] or i == 0 or not mask[i - 1]:
            i += 1
            continue
        j = i
        while j < len(lines) and not mask[j] and short[j] and j - i < GAP_LINES:
            j += 1
        if j == len(lines) or mask[j]:
            for k in range(i, j):
                mask[k] = True
        i = j + 1
    return mask


def furniture_sentence(sentence: str) -> bool:
    """A sentence of page chrome inside a real paragraph ("Learn more.", "Call 555-123-4567.").

    Furniture is removed sentence by sentence: one phrase never takes its paragraph with it.
    """
    return looks_like_furniture(sentence)


# ---------------------------------------------------------------- PDF page furniture

EDGE_LINES = 6  # running heads and footers sit among the first or last lines of a page
PAGE_NUMBER_RE = re.compile(r"^(page\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE)
# The first page's footnote block: correspondence, affiliations, licence, "Full list of authors".
FOOTNOTE_START_RE = re.compile(r"^(\*\s*)?(correspondence\b|©|copyright\b)", re.IGNORECASE)


def _masked(line: str) -> str:
    """A line with its digits and spacing masked: "Page 9 of 11" and "Page 10 of 11" agree."""
    text = unicodedata.normalize("NFKC", line).lower()
    return re.sub(r"[\d\s]+", " ", text).strip()


def split_page_margins(pages: list[str], names: Iterable[str] = ()) -> tuple[list[str], tuple[tuple[int, str], ...]]:
    """Page bodies with their furniture set apart, and that furniture as (page, line).

    Furniture: lines among the first or last ``EDGE_LINES`` of a page that recur, digits
    masked, at the edges of at least a third of the pages (two at least); page numbers;
    the first page's footnote block (from "* Correspondence" or "©" to the page end).
    ``names`` (the authors' surnames, the journal's name) also mark a short first or last
    line of a page as a running head: an alternating head may occur only once in a short paper.
    """
    name_re = None
    wanted = sorted({n for n in names if len(n) >= 3}, key=len, reverse=True)
    if wanted:
        name_re = re.compile(r"\b(" + "|".join(re.escape(n) for n in wanted) + r")\b")
    split = [p.split("\n") for p in pages]
    edges: list[set[int]] = []
    for lines in split:
        filled = [i for i, l in enumerate(lines) if l.strip()]
        edges.append(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))
    def candidate(line: str) -> bool:
        # A running head has letters and is no sentence: a line of prose may repeat, a head may not.
        return sum(c.isalpha() for c in line) >= 3 and not (
            line.rstrip().endswith((".", "!", "?")) and len(line.split()) >= 6)

    seen: Counter[str] = Counter()
    for lines, edge in zip(split, edges):
        seen.update({_masked(lines[i]) for i in edge if candidate(lines[i])})
    need = max(2, -(-len(pages) // 3))
    repeated = {k for k, n in seen.items() if n >= need and len(pages) >= 2}
    bodies: list[str] = []
    margins: list[tuple[int, str]] = []
    for number, (lines, edge) in enumerate(zip(split, edges), start=1):
        drop = {i for i in edge if _masked(lines[i]) in repeated or PAGE_NUMBER_RE.match(lines[i].strip())}
        if name_re and number > 1:
            filled = [i for i, l in enumerate(lines) if l.strip()]
            for i in filled[:2] + filled[-2:]:
                line = lines[i].strip()
                if len(line.split()) <= 8 and not re.search(r"[.!?,;:]\s|[.!?]$", line) and name_re.search(line):
                    drop.add(i)
        if number == 1:
            filled = [i for i, l in enumerate(lines) if l.strip()]
            tail = filled[-3 * EDGE_LINES:]
            start = next((i for i in tail if FOOTNOTE_START_RE.match(lines[i].strip())), None)
            if start is not None and len(filled) > 3 * EDGE_LINES:
                drop.update(i for i in filled if i >= start)
        margins.extend((number, lines[i]) for i in sorted(drop))
        bodies.append("\n".join(l for i, l in enumerate(lines) if i not in drop))
    return bodies, tuple(margins)


# ---------------------------------------------------------------- number guard

GLYPH_NAME_RE = re.compile(r"(/C\d{1,3}(?!\d)|\(cid:\d+\))(?=\s?[-+.,]?\d)|(?<=\d)\s?(/C\d{1,3}|\(cid:\d+\))")
LOST_SIGN_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff](?=\s?[.,]?\d)|(?<=\d)[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")
FRACTION_GLUE_RE = re.compile(r"(?<=[\w.])\s?(¼|1⁄4|½|1⁄2|¾|3⁄4)\s?(?=[-−–]?\.?\d)")
LETTER_RANGE_RE = re.compile(r"(?<![\w.])\d+(\.\d+)?e\d+(\.\d+)?(?![\w.])")


def number_problem(raw_span_text: str, quote: str) -> str | None:
    """Why a passage's numbers cannot be trusted, or None.

    Symbol fonts lose minus and equals signs: "/C0" (a glyph name), a control or
    private-use character where "−" was (a cleaner would silently drop it, turning
    −0.40 into 0.40), "¼" for "=" where no repair is certain, "2e76" for "2–76".
    Such a passage is held back, never quoted.
    """
    m = GLYPH_NAME_RE.search(raw_span_text) or GLYPH_NAME_RE.search(quote)
    if m:
        return f"unknown glyph {m.group(0).strip()!r} beside a number"
    m = LOST_SIGN_RE.search(raw_span_text)
    if m:
        return f"control character U+{ord(m.group(0)):04X} beside a number (a lost sign?)"
    m = FRACTION_GLUE_RE.search(quote)
    if m:
        return f"{m.group(1)!r} beside a number (a symbol font's '=' or sign?)"
    m = LETTER_RANGE_RE.search(quote)
    if m:
        return f"{m.group(0)!r} reads like a range whose dash was lost"
    return None
