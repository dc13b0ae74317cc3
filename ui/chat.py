"""Patient chat: questions in, quoted and cited answers out, history kept per session."""

import uuid

import streamlit as st

from edubot import templates
from edubot.privacy import analytics_log
from ui.common import config, disclaimer, engine, md_escape, render_answer

st.title(templates.APP_TITLE)
disclaimer()

answerer = engine()
messages = st.session_state.setdefault("messages", [])


def sources_panel() -> None:
    with st.expander(templates.SOURCES_PANEL):
        rows = []
        for meta in sorted(answerer.retriever.index.documents.values(), key=lambda m: (m.source_type, m.title)):
            rows.append({
                "source": meta.title,
                "kind": templates.evidence_label(meta),
                "date shown": meta.date_shown or "not shown",
                "last checked": meta.date_checked or "",
                "link": meta.url or "",
            })
        st.dataframe(rows, hide_index=True, use_container_width=True,
                     column_config={"link": st.column_config.LinkColumn("link")})


sources_panel()

asked = None
if not messages:
    st.markdown(md_escape(templates.STARTERS_INTRO))
    cols = st.columns(len(templates.SUGGESTED_QUESTIONS))
    for col, question in zip(cols, templates.SUGGESTED_QUESTIONS):
        if col.button(question, key=f"starter-{question}"):
            asked = question

for m in messages:
    with st.chat_message(m["role"]):
        if m["role"] == "user":
            st.text(m["text"])
        else:
            render_answer(m["answer"], m["id"])
            feedback = st.feedback("thumbs", key=f"feedback-{m['id']}")
            if feedback is not None and feedback != m["feedback"]:
                m["feedback"] = feedback
                log = analytics_log(config().analytics_log)  # the session keeps it; a log only if staff asked
                if log is not None:
                    log.record(m["question"], m["answer"]["status"], [p["passage_id"] for p in m["answer"]["passages"]],
                               feedback="up" if feedback == 1 else "down")

typed = st.chat_input(templates.CHAT_PLACEHOLDER)
question = typed if typed is not None else asked
if question is not None:
    answer = answerer.answer(question).to_json()
    log = analytics_log(config().analytics_log)  # None unless staff turned it on
    if log is not None:
        log.record(question, answer["status"], [p["passage_id"] for p in answer["passages"]])
    messages.append({"role": "user", "text": answer["query"] or question[:200], "id": uuid.uuid4().hex})
    messages.append({"role": "assistant", "answer": answer, "id": uuid.uuid4().hex, "feedback": None, "question": question})
    st.rerun()
