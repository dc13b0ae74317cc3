"""Staff lookup: ranked passages with filters, scores, ids and copy-ready citations."""

import csv
import io

import streamlit as st

from edubot import templates
from ui.common import disclaimer, engine, md_escape

st.title("Staff lookup")
disclaimer()
answerer = engine()
index = answerer.retriever.index

query = st.text_input("Search the corpus", placeholder="e.g. tantalum, Pak 2012, biopsy")
c1, c2, c3, c4 = st.columns([2, 3, 2, 1])
types = c1.multiselect("Source type", ["research", "abstract", "patient_education", "marketing"])
docs = c2.multiselect("Document", sorted(index.documents))
sections = c3.multiselect("Section", sorted({p.section for p in index.passages}))
k = c4.number_input("Top k", min_value=1, max_value=50, value=10)

if query.strip():
    if len(query) > answerer.cfg.max_query_chars:
        st.warning(md_escape(templates.INVALID_TOO_LONG.format(length=len(query), limit=answerer.cfg.max_query_chars)))
    else:
        hits = answerer.retriever.search(query.strip(), k=int(k), source_types=set(types) or None,
                                         doc_ids=set(docs) or None, sections=set(sections) or None)
        rows = []
        for rank, h in enumerate(hits, 1):
            p = h.passage
            meta = index.documents[p.doc_id]
            rows.append({"rank": rank, "score": round(h.score, 4),
                         "dense": None if h.dense is None else round(h.dense, 3),
                         "bm25": None if h.bm25 is None else round(h.bm25, 3),
                         "source type": p.source_type, "passage id": p.id, "section": p.section,
                         "citation": templates.citation_text(meta, p.section, p.page), "quote": p.text})
        if not rows:
            st.info("No passages match these filters.")
        else:
            st.dataframe([{k_: v for k_, v in r.items() if k_ not in ("citation", "quote")} for r in rows],
                         hide_index=True, use_container_width=True)
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
            st.download_button("Download results as CSV", buffer.getvalue(), file_name="edubot-search.csv", mime="text/csv")
            for r in rows:
                with st.expander(md_escape(f"{r['rank']}. {r['passage id']} · {r['source type']} · {r['section']}")):
                    st.text(r["quote"])
                    st.caption("Citation (copy with the button on the right):")
                    st.code(r["citation"], language=None)
