"""One answer as a patient reads it: short, one header per source, the rest a click away.

The input is exactly the ``edubot ask --json`` object (``Answer.to_json()``);
what the JSON does not carry (a document's bibliographic fields, its raw text
for "show in document") comes from the engine's read-only corpus and index.

Layout: the answer's message; the top ``OPEN_QUOTES`` quotes open under their
source's header (plain-words evidence label, conflict-of-interest warning, at
most ``KEY_LIMITS`` key limitations with near-duplicates merged); every other
source as a numbered row that expands in place. Marketing sources come last and
every one of them is marked as advertising on the card itself.

How much opens is measured in lines of text (``OPEN_LINES``), counting all a
quote brings into view: its own lines and, for the first quote of a source, that
source's header and key limitations. A second source's card is a second header
and limitation list to read, not only a second quote.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import streamlit as st

from edubot import templates
from edubot.shorten import merge_near_duplicates, plainer_first, reading_grade
from ui.common import h, md_escape, safe_url

OPEN_QUOTES = 2          # quotes shown open at most; the rest wait behind their source's row
# ...and a second quote opens only if the open part of the answer then fits about one desktop screen of reading:
# two quotes of 8 lines (the 16 lines this budget counted when it counted quote text only) under two headers.
OPEN_LINES = 24
HEAD_LINES = 4           # a source's header: title, evidence label with its link, citation (the link row is taller)
KEY_LIMITS = 3           # key limitations shown under a source's header; the rest one click away
AD_ICON = "📣"


@dataclass
class Source:
    """One quoted document and what the answer shows of it."""

    doc_id: str
    number: int
    passages: list[dict]
    marketing: bool
    limitations: list[dict] = field(default_factory=list)


def sources_of(answer: dict) -> list[Source]:
    """Quoted documents in the order the answer first quotes them, marketing always last.

    Inside each group (runs of one ``group``) passages that answer equally
    well are shown plainer first (``edubot.shorten.plainer_first``).
    """
    passages: list[dict] = []
    run: list[dict] = []
    for p in answer.get("passages", []):
        if run and run[-1].get("group") != p.get("group"):
            passages += plainer_first(run, lambda x: x.get("score") or 0.0, lambda x: _grade(x["quote"]))
            run = []
        run.append(p)
    passages += plainer_first(run, lambda x: x.get("score") or 0.0, lambda x: _grade(x["quote"])) if run else []
    by_doc: dict[str, Source] = {}
    for p in passages:
        src = by_doc.get(p["doc_id"])
        if src is None:
            src = by_doc[p["doc_id"]] = Source(p["doc_id"], 0, [], p.get("group") == "marketing")
        src.passages.append(p)
    ordered = [s for s in by_doc.values() if not s.marketing] + [s for s in by_doc.values() if s.marketing]
    for i, s in enumerate(ordered, 1):
        s.number = i
        s.limitations = [lim for lim in answer.get("limitations", []) if lim.get("doc_id") == s.doc_id]
    return ordered


@lru_cache(maxsize=4096)
def _grade(text: str) -> float:
    return reading_grade(text)


def warm_up(engine, answer: dict) -> None:
    """Do before the server starts what the first answers drawn would otherwise pay for (``ui.serve``).

    Ordering an answer's quotes grades their reading level, and textstat loads
    its pronunciation dictionary on the first grade: about a second on this
    machine, on the first patient's first answer. Merging near-duplicate
    limitations needs their vectors: the bundled corpus's 49 take 0.4 s to
    encode together, and up to 0.2 s per answer that quotes new documents.
    So ``answer`` (the warm-up question's) is laid out as the page would, and
    every limitation in the corpus is encoded.
    """
    texts = [lim.text for meta in engine.retriever.index.documents.values() for lim in meta.limitations]
    if texts:
        limitation_vectors(engine, texts)
    for src in sources_of(answer):
        card_lines(engine, src)


# ---------------------------------------------------------------- limitations

_VEC_LOCK = threading.Lock()
_VECTORS: dict[str, np.ndarray] = {}  # limitation text -> vector: limitations come from the corpus only, a fixed set


def limitation_vectors(engine, texts: list[str]) -> np.ndarray:
    """Vectors of limitation texts, each encoded once per server process (``warm_up`` encodes them all)."""
    with _VEC_LOCK:
        missing = [t for t in dict.fromkeys(texts) if t not in _VECTORS]
    if missing:
        fresh = engine.retriever.embedder.encode(missing)
        with _VEC_LOCK:
            _VECTORS.update(zip(missing, fresh, strict=True))
    with _VEC_LOCK:
        return np.vstack([_VECTORS[t] for t in texts])


def limitation_groups(engine, doc_id: str, limitations: list[dict]) -> list[list[dict]]:
    """A document's limitations with near-duplicates merged, key ones first (the JSON's order)."""
    if len(limitations) < 2:
        return [[lim] for lim in limitations]
    texts = [lim["text"] for lim in limitations]
    meta = engine.retriever.index.documents.get(doc_id)
    groups = merge_near_duplicates(texts, limitation_vectors(engine, texts), meta.title if meta else "")
    return [[limitations[i] for i in g] for g in groups]


def _limit_item(group: list[dict], with_quote: bool) -> str:
    """One limitation; in the full list also its merged near-duplicates and the source's own words."""
    first = group[0]
    by = templates.LIMIT_BY.get(first.get("kind"), "")
    parts = [f"<li>{h(first['text'])}" + (f" <span class='eb-by'>({h(by)})</span>" if by else "")]
    for other in group[1:] if with_quote else ():
        parts.append(f"<br><span class='eb-by'>{h(templates.ALSO_NOTED.format(text=other['text']))}</span>")
    if with_quote and first.get("quote"):
        parts.append(f"<br><span class='eb-by'>“{h(' '.join(first['quote'].split()))}”</span>")
    return "".join(parts) + "</li>"


def key_limitations(groups: list[list[dict]]) -> list[list[dict]]:
    """The limitation groups shown under a source's header: at most KEY_LIMITS with a key limitation."""
    return [g for g in groups if any(lim.get("key") for lim in g)][:KEY_LIMITS]


def _limit_line(lim: dict) -> str:
    by = templates.LIMIT_BY.get(lim.get("kind"), "")
    return f"{lim['text']} ({by})" if by else lim["text"]


def card_lines(engine, src: Source) -> int:
    """Lines a source's card shows besides its quotes: header, advert and conflict notes, key limitations."""
    meta = engine.retriever.index.documents.get(src.doc_id)
    coi = (meta.conflict_of_interest if meta else None) or src.passages[0].get("conflict_of_interest")
    lines = HEAD_LINES + (1 if src.marketing else 0)
    lines += display_lines(templates.CONFLICT_WARNING.format(note=coi)) if coi else 0
    shown = key_limitations(limitation_groups(engine, src.doc_id, src.limitations))
    return lines + (1 + sum(display_lines(_limit_line(g[0])) for g in shown) if shown else 0)


def _limitations(engine, src: Source, key: str) -> None:
    """At most KEY_LIMITS key limitations in view; every limitation, in full, one click away."""
    groups = limitation_groups(engine, src.doc_id, src.limitations)
    shown = key_limitations(groups)
    if shown:
        items = "".join(_limit_item(g, False) for g in shown)
        st.html(f"<div class='eb-limits'><strong>{h(templates.KEY_LIMITS)}</strong><ul>{items}</ul></div>")
    if len(src.limitations) > sum(len(g) for g in shown) or any(len(g) > 1 for g in shown):
        with st.expander(md_escape(templates.ALL_LIMITS.format(n=len(src.limitations))), key=f"lim-{key}"):
            st.html("<div class='eb-limits'><ul>" + "".join(_limit_item(g, True) for g in groups) + "</ul></div>")


# ---------------------------------------------------------------- one source

def source_link(meta) -> tuple[str, str] | None:
    """The best public address of a document: PubMed, then DOI, then its own page."""
    if meta is None:
        return None
    if meta.pmid and str(meta.pmid).isdigit():
        return templates.SOURCE_LINKS["pubmed"], f"https://pubmed.ncbi.nlm.nih.gov/{meta.pmid}/"
    if meta.doi and " " not in meta.doi:
        return templates.SOURCE_LINKS["doi"], f"https://doi.org/{meta.doi}"
    url = safe_url(meta.url)
    return (templates.SOURCE_LINKS["url"], url) if url else None


def paragraph_around(raw: str, span: tuple[int, int], reach: int = 900) -> tuple[str, str, str]:
    """The text before the quote back to its paragraph start, the quote, and on to the paragraph end.

    Paragraphs end at a blank line; where none is within ``reach`` characters
    the context stops at the nearest whitespace so no word is cut.
    """
    a, b = max(0, span[0]), min(len(raw), span[1])
    start = raw.rfind("\n\n", max(0, a - reach), a)
    if start < 0:
        start = max(0, a - reach)
        if start > 0:
            cut = raw.find(" ", start, a)
            start = cut + 1 if cut >= 0 else start
    else:
        start += 2
    end = raw.find("\n\n", b, min(len(raw), b + reach))
    if end < 0:
        end = min(len(raw), b + reach)
        if end < len(raw):
            cut = raw.rfind(" ", b, end)
            end = cut if cut >= 0 else end
    return raw[start:a], raw[a:b], raw[b:end]


def document_view(engine, p: dict) -> str:
    """HTML of the quote highlighted in its paragraph (every piece of text escaped)."""
    doc = engine.corpus.get(p["doc_id"])
    span = p.get("span") or [0, 0]
    if doc is None or not (0 <= span[0] < span[1] <= len(doc.raw)):
        return ""
    before, quote, after = paragraph_around(doc.raw, (span[0], span[1]))
    return (f"<div class='eb-docview' data-testid='ebDocView'>{h(before)}<mark>{h(quote)}</mark>{h(after)}</div>")


def display_lines(text: str, width: int = 80) -> int:
    """About how many lines a quote takes on a desktop screen (blank lines are not shown)."""
    return sum(max(1, -(-len(line) // width)) for line in text.split("\n") if line.strip())


def _shown(text: str) -> str:
    """A piece of a quote for display: escaped, blank lines between list items dropped (no word changes)."""
    return h(re.sub(r"\n\s*\n+", "\n", text))


def _quote(engine, p: dict, key: str, marketing: bool) -> None:
    quote = p["quote"]
    a, b = (p.get("highlight_span") or [0, 0])[:2]
    if 0 <= a < b <= len(quote):
        body = f"{_shown(quote[:a])}<strong>{_shown(quote[a:b])}</strong>{_shown(quote[b:])}"
    else:
        body = _shown(quote)
    where = templates.quote_location(p.get("section"), p.get("page"))
    st.html(f"<div class='eb-quote{' eb-ad-quote' if marketing else ''}'>{body}</div>"
            + (f"<div class='eb-cite'>{h(where)}</div>" if where else ""))
    view = document_view(engine, p)
    if view:
        with st.expander(md_escape(templates.SHOW_IN_DOCUMENT), key=f"doc-{key}"):
            st.caption(md_escape(templates.IN_DOCUMENT_CAPTION))
            st.html(view)
    cites = p.get("cites") or []
    if cites:
        with st.expander(md_escape(templates.CITED_REFERENCES.format(n=len(cites))), key=f"cites-{key}"):
            for c in cites:
                st.markdown("**" + md_escape(templates.CITED_REFERENCE.format(number=c.get("number"), label=c.get("label", ""))) + "**")
                st.caption(md_escape(c.get("citation", "")))
                if c.get("note"):
                    st.caption(md_escape(c["note"]))
                if c.get("abstract"):
                    st.html(f"<div class='eb-quote'>{h(c['abstract'].get('quote', ''))}</div>"
                            f"<div class='eb-cite'>{h(c['abstract'].get('citation', ''))}</div>")


def _header(engine, src: Source) -> None:
    meta = engine.retriever.index.documents.get(src.doc_id)
    first = src.passages[0]
    title = meta.title if meta else first.get("title", "")
    label = templates.plain_evidence_label(meta) if meta else first.get("evidence", "")
    citation = templates.citation_text(meta) if meta else first.get("citation", "")
    coi = (meta.conflict_of_interest if meta else None) or first.get("conflict_of_interest")
    parts = []
    if src.marketing:
        parts.append(f"<div class='eb-ad' role='note'>{AD_ICON} {h(templates.MARKETING_CARD)}</div>")
    link = source_link(meta)
    anchor = (f" <a class='eb-link' href='{h(link[1])}' target='_blank' rel='noopener noreferrer'>{h(link[0])} ↗</a>"
              if link else "")
    parts.append(f"<div class='eb-doc-head'><span class='eb-num'>{src.number}</span><span class='eb-title'>{h(title)}</span>"
                 f"<div><span class='eb-label'>{h(label)}</span>{anchor}</div><div class='eb-cite'>{h(citation)}</div></div>")
    if coi:
        parts.append(f"<div class='eb-coi' role='note'>⚠️ {h(templates.CONFLICT_WARNING.format(note=coi))}</div>")
    st.html("".join(parts))


def _source_body(engine, src: Source, key: str, open_quotes: int) -> None:
    """A source's header, quotes (the first ``open_quotes`` open), limitations and link."""
    _header(engine, src)
    for i, p in enumerate(src.passages[:max(open_quotes, 1)]):
        _quote(engine, p, f"{key}-{i}", src.marketing)
    more = src.passages[max(open_quotes, 1):]
    if more:
        with st.expander(md_escape(templates.MORE_FROM_SOURCE.format(n=len(more))), key=f"more-{key}"):
            for i, p in enumerate(more, max(open_quotes, 1)):
                _quote(engine, p, f"{key}-{i}", src.marketing)
    _limitations(engine, src, key)


def chip_label(engine, src: Source) -> str:
    meta = engine.retriever.index.documents.get(src.doc_id)
    title = meta.title if meta else src.passages[0].get("title", "")
    label = templates.plain_evidence_label(meta) if meta else src.passages[0].get("evidence", "")
    short = title if len(title) <= 70 else title[:67].rsplit(" ", 1)[0] + "…"
    ad = f"{templates.MARKETING_CHIP} · " if src.marketing else ""
    return md_escape(f"[{src.number}] {ad}{short} — {label}")


# ---------------------------------------------------------------- the answer

def render_answer(engine, a: dict, key: str) -> str | None:
    """Draws one answer; returns a question the patient clicked (a suggestion), or None."""
    status = a.get("status")
    message = a.get("message", "")
    clicked = None
    if status == "urgent":
        st.error(md_escape(message), icon="🚨")
        return None
    if status == "answered":
        st.markdown(md_escape(message))
    elif status == "personal_advice":
        st.warning(md_escape(message))
    else:  # no_answer, invalid and any status this version does not know: the message as plain text
        st.info(md_escape(message))
    suggestions = a.get("suggestions") or []
    if suggestions:
        st.markdown(md_escape(templates.SUGGESTIONS_INTRO))
        with st.container(horizontal=True, key=f"sugg-{key}"):
            for i, s in enumerate(suggestions):
                if st.button(s, key=f"sug-{key}-{i}"):
                    clicked = s
    sources = sources_of(a)
    budget, lines = OPEN_QUOTES, 0
    closed: list[Source] = []
    for src in sources:
        n_open = 0
        if budget and not (src.marketing and budget < OPEN_QUOTES):  # an advert opens only when alone
            size = card_lines(engine, src)  # the source's first quote also brings its header into view
            for p in src.passages[:budget]:
                size += display_lines(p["quote"])
                if (budget < OPEN_QUOTES or n_open) and lines + size > OPEN_LINES:
                    break  # the first quote always opens; more only while they fit
                n_open += 1
                lines += size
                size = 0
        if n_open:
            with st.container(border=True, key=f"{'ad-' if src.marketing else ''}card-{key}-{src.number}"):
                _source_body(engine, src, f"{key}-{src.number}", n_open)
            budget = budget - n_open if n_open == len(src.passages[:budget]) else 0
        else:
            budget = 0  # in order: once one source waits behind its row, so do all after it
            closed.append(src)
    if closed:
        st.caption(md_escape(templates.MORE_SOURCES.format(n=len(closed))))
        for src in closed:
            with st.container(key=f"{'ad-' if src.marketing else ''}chipbox-{key}-{src.number}"), \
                    st.expander(chip_label(engine, src), icon=AD_ICON if src.marketing else None, key=f"chip-{key}-{src.number}"):
                _source_body(engine, src, f"{key}-{src.number}", OPEN_QUOTES)
    return clicked
