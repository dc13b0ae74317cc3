"""Staff lookup: ranked passages with filters, readable rows, matches highlighted, and a CSV to keep.

Staff-only details live here, not in the patient chat: passage ids, scores,
unverified fields, partial copies, reading grades.
"""

from datetime import date

import streamlit as st

from edubot import templates
from edubot.shorten import reading_grade
from ui.access import require_staff
from ui.common import engine, md_escape, style
from ui.staff_tools import csv_name, first_words, highlighted, results_csv

st.set_page_config(page_title="EduBot · Staff lookup", layout="wide")
require_staff()
style()
st.title("Staff lookup", anchor=False)
answerer = engine()
index = answerer.retriever.index
docs_meta = index.documents


@st.cache_data(show_spinner=False)
def corpus_notes(corpus_hash: str) -> list[str]:
    """Files skipped, documents giving no passages or mostly furniture (as `edubot passages`, `build` and
    `doctor` report them), computed once per version of the corpus."""
    from edubot.chunk import chunk_corpus_report

    corpus = answerer.corpus
    lines = [f"{p.label} {p}" for p in corpus.problems]
    report = chunk_corpus_report(corpus, answerer.cfg.passage_max_chars, answerer.cfg.passage_overlap_sentences)
    return lines + report.warnings()


notes = list(answerer.notes) + corpus_notes(str(index.manifest.get("corpus_hash")))
if notes:
    with st.expander(f"Notes about this corpus ({len(notes)})", expanded=bool(answerer.notes)):
        for note in notes:
            st.warning(md_escape(note))

query = st.text_input("Search the corpus", placeholder="e.g. tantalum, Pak 2012, biopsy")
c1, c2, c3, c4 = st.columns([2, 4, 2, 1])
types = c1.multiselect("Source type", ["research", "abstract", "patient_education", "marketing"])
docs = c2.multiselect("Document", sorted(docs_meta, key=lambda d: docs_meta[d].title.lower()),
                      format_func=lambda d: docs_meta[d].title)
sections = c3.multiselect("Section", sorted({p.section for p in index.passages}))
k = c4.number_input("Top k", min_value=1, max_value=50, value=10)

if query.strip():
    if len(query) > answerer.cfg.max_query_chars:
        st.warning(md_escape(templates.INVALID_TOO_LONG.format(length=len(query), limit=answerer.cfg.max_query_chars)))
    else:
        hits = answerer.retriever.search(query.strip(), k=int(k), source_types=set(types) or None,
                                         doc_ids=set(docs) or None, sections=set(sections) or None)
        filters = "; ".join(f"{name}: {', '.join(vals)}" for name, vals in
                            (("source type", types), ("document", docs), ("section", sections)) if vals) or "none"
        rows = []
        for rank, hit in enumerate(hits, 1):
            p = hit.passage
            meta = docs_meta[p.doc_id]
            rows.append({"rank": rank, "title": meta.title, "section": p.section, "first words": first_words(p.text),
                         "score": round(hit.score, 4),
                         "dense": None if hit.dense is None else round(hit.dense, 3),
                         "bm25": None if hit.bm25 is None else round(hit.bm25, 3),
                         "reading grade": round(reading_grade(p.text), 1),
                         "source type": p.source_type, "passage id": p.id,
                         "citation": templates.citation_text(meta, p.section, p.page), "quote": p.text})
        if not rows:
            st.info("No passages match these filters.")
        else:
            table = ("rank", "title", "section", "first words", "score", "reading grade", "source type")
            st.dataframe([{c: r[c] for c in table} for r in rows], hide_index=True, width="stretch")
            st.download_button("Download results as CSV", results_csv(rows, query.strip(), filters),
                               file_name=csv_name(date.today()), mime="text/csv")
            for r, hit in zip(rows, hits):
                meta = docs_meta[hit.passage.doc_id]
                with st.expander(md_escape(f"{r['rank']}. {r['title']} · {r['section']} · score {r['score']}")):
                    st.html(highlighted(r["quote"], query))
                    st.caption(md_escape(f"{templates.plain_evidence_label(meta)} · {templates.evidence_label(meta)} · "
                                         f"reading grade {r['reading grade']} · dense {r['dense']} · BM25 {r['bm25']} · "
                                         f"passage id {r['passage id']}"))
                    if meta.conflict_of_interest:
                        st.warning(md_escape(templates.CONFLICT_WARNING.format(note=meta.conflict_of_interest)), icon="⚠️")
                    if meta.partial:
                        st.caption(md_escape(f"{templates.PARTIAL_NOTE}: {meta.partial}"))
                    if meta.unverified:
                        st.caption(md_escape(templates.UNVERIFIED_NOTE.format(fields=", ".join(meta.unverified))))
                    st.caption("Citation (copy with the button on the right):")
                    st.code(r["citation"], language=None)
