"""Patient chat: a question is echoed at once, answered under a spinner, and the view lands on its start.

Each exchange (question + answer) is kept in the session with its own answer,
so a rerun or a later question never shows another question's sources. Nothing
the patient types is written anywhere unless staff turned the analytics log on
(and then only redacted, see ``edubot.privacy``).
"""

from __future__ import annotations

import uuid

import streamlit as st

from edubot import templates
from edubot.conversation import Turn, read_question
from edubot.privacy import analytics_log
from ui.answer_view import render_answer
from ui.common import config, engine, h, md_escape, style

STATE = st.session_state
exchanges: list[dict] = STATE.setdefault("exchanges", [])
STATE.setdefault("urgent", None)     # id of the urgent exchange whose banner is pinned, until dismissed
STATE.setdefault("scroll_to", None)  # id of the exchange the view must land on after this run


def footer() -> None:
    """Disclaimer and urgent-help line, pinned beside the input on every screen size."""
    with st.bottom:
        st.html(f"<p class='eb-footer' data-testid='ebFooter'><strong>{h(templates.URGENT_HELP_LINE)}</strong> "
                f"{h(templates.DISCLAIMER)}</p>")


def scroll_to(exchange_id: str) -> None:
    """Bring the start of an exchange to the top of the view (below the header and any urgent banner).

    Streamlit keeps a chat page stuck to its bottom while content grows; it lets
    go when the patient scrolls with the wheel, so the script sends it wheel
    events before scrolling, and repeats until the exchange's start has stayed
    in place for a second (at most eight seconds) while the page grows. It stops
    at once if the patient scrolls, taps or types.

    Streamlit's stick-to-bottom can also be left "animating" with nothing
    moving (a cancelled animation and a page-size change land in one React
    update); the view then looks settled, but the patient's next wheel turn
    pulls the page to its bottom, and every further turn again while that
    animation runs, so the patient cannot scroll up. A wheel event ends that
    state, so the script sends one on every tick of the first half second of
    the settled second: a view it would pull down moves and is set again, and
    the script finishes only after half a second with no event and no movement.
    """
    target = "st-key-x-" + "".join(c for c in exchange_id if c.isalnum())
    st.html("""<script>
(function () {
  const doc = document, sel = "." + %s;
  let stopped = false, tries = 0, steady = 0;
  const stop = (e) => { if (e.isTrusted) stopped = true; };
  ["wheel", "touchstart", "keydown", "mousedown"].forEach(e => doc.addEventListener(e, stop, {capture: true, passive: true}));
  function scroller(el) {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/(auto|scroll)/.test(s.overflowY) && p.scrollHeight > p.clientHeight) return p;
    }
    return doc.scrollingElement;
  }
  function topLine() {
    let top = 0;
    for (const q of ['[data-testid="stHeader"]', '.st-key-urgent-banner']) {
      const e = doc.querySelector(q);
      if (e) { const r = e.getBoundingClientRect(); if (r.height) top = Math.max(top, r.bottom); }
    }
    return top + 8;
  }
  function go() {
    if (stopped) return;
    const el = doc.querySelector(sel);
    if (el) {
      const delta = el.getBoundingClientRect().top - topLine();
      steady = Math.abs(delta) > 3 ? 0 : steady + 1;
      if (steady >= 10) return;  // in place for a second, the last half without a nudge: done
      const box = scroller(el);
      // Streamlit's stick-to-bottom lets go on a wheel event (as when the patient scrolls): send one first,
      // and keep sending while settling, so a stuck animation shows itself while this script still watches.
      if (steady < 5) for (let i = 0; i < 2; i++) box.dispatchEvent(new WheelEvent("wheel", {bubbles: true, deltaY: -1}));
      if (Math.abs(delta) > 3) box.scrollTop += delta;
    }
    if (++tries < 80) setTimeout(go, 100);
  }
  go();
})();
</script>""" % ('"' + target + '"'), unsafe_allow_javascript=True)


def urgent_banner() -> None:
    x = next((x for x in exchanges if x["id"] == STATE.urgent), None)
    if x is None:
        return
    with st.container(key="urgent-banner"):
        st.error(md_escape(x["answer"].get("message") or templates.URGENT), icon="🚨")
        if st.button(templates.URGENT_BANNER_DISMISS, key="urgent-dismiss", type="primary"):
            STATE.urgent = None
            st.rerun()


def sources_panel(answerer) -> None:
    """Every source EduBot can quote: title, kind in plain words, dates and a link."""
    from ui.answer_view import source_link

    with st.expander(md_escape(templates.SOURCES_PANEL)):
        items = []
        for meta in sorted(answerer.retriever.index.documents.values(), key=lambda m: (m.source_type, m.title)):
            link = source_link(meta)
            dates = templates.SOURCE_DATES.format(shown=meta.date_shown or templates.DATE_NOT_SHOWN,
                                                  checked=meta.date_checked or templates.DATE_NOT_SHOWN)
            anchor = (f" <a class='eb-link' href='{h(link[1])}' target='_blank' rel='noopener noreferrer'>{h(link[0])} ↗</a>"
                      if link else "")
            items.append(f"<li><span class='eb-title'>{h(meta.title)}</span><br><span class='eb-label'>"
                         f"{h(templates.plain_evidence_label(meta))}</span>{anchor}<br><span class='eb-by'>{h(dates)}</span></li>")
        st.html("<ul class='eb-sources'>" + "".join(items) + "</ul>")


def starters(key: str) -> str | None:
    clicked = None
    with st.container(horizontal=True, key=f"starters-{key}"):
        for i, q in enumerate(templates.SUGGESTED_QUESTIONS):
            if st.button(q, key=f"starter-{key}-{i}"):
                clicked = q
    return clicked


def log_feedback(x: dict) -> None:
    log = analytics_log(config().analytics_log)  # None unless staff turned it on
    if log is not None:
        log.record(x["question"], x["answer"].get("status", ""), [p["passage_id"] for p in x["answer"].get("passages", [])],
                   feedback=x["feedback"], reason=x.get("reason"))


def feedback(x: dict) -> None:
    key = x["id"]
    if x.get("feedback") is None:
        st.caption(md_escape(templates.FEEDBACK_PROMPT))
        with st.container(horizontal=True, key=f"fb-{key}"):
            up = st.button(f"👍 {templates.FEEDBACK_UP}", key=f"up-{key}")
            down = st.button(f"👎 {templates.FEEDBACK_DOWN}", key=f"down-{key}")
        if up or down:
            x["feedback"] = "up" if up else "down"
            log_feedback(x)
            st.rerun()
        return
    st.success(md_escape(templates.FEEDBACK_THANKS), icon="✅")
    if x["feedback"] == "down" and x.get("reason") is None:
        reason = st.pills(md_escape(templates.FEEDBACK_REASON), templates.FEEDBACK_REASONS, key=f"reason-{key}")
        if reason:
            x["reason"] = reason
            log_feedback(x)
            st.rerun()


def show_exchange(answerer, x: dict) -> tuple[str, bool] | None:
    """One question and its answer; returns a question to ask next (and whether on its own), or None."""
    asked = None
    with st.container(key=f"x-{x['id']}"):
        with st.chat_message("user"):
            st.text(x["question"])
        with st.chat_message("assistant"):
            if x.get("read_with"):
                st.html(f"<p class='eb-readwith'>{h(templates.READ_WITH_EARLIER.format(question=x['read_with']))}</p>")
                if st.button(templates.ASK_ON_ITS_OWN, key=f"alone-{x['id']}"):
                    asked = (x["question"], True)
            clicked = render_answer(answerer, x["answer"], x["id"])
            if clicked:
                asked = (clicked, False)
            feedback(x)
    return asked


def answer(answerer, question: str, alone: bool) -> dict:
    """Answer a question (read with the one before it when it is a short follow-up) and keep it."""
    history = [Turn(x["question"], x["query"], x["answer"].get("status", "")) for x in exchanges]
    reading = read_question(question, [] if alone else history, answerer.cfg.max_query_chars)
    result = answerer.answer(question).to_json()
    read_with = None
    if reading.earlier is not None and result["status"] not in ("urgent", "invalid"):
        # Triage always sees the patient's own words first; only then is a follow-up read with its subject.
        result = answerer.answer(reading.query).to_json()
        read_with = reading.earlier
    log = analytics_log(config().analytics_log)  # None unless staff turned it on
    if log is not None:
        log.record(question, result["status"], [p["passage_id"] for p in result["passages"]])
    return {"id": uuid.uuid4().hex, "question": question[:2000], "query": reading.query if read_with else question,
            "read_with": read_with, "answer": result, "feedback": None, "reason": None}


# ---------------------------------------------------------------- the page

style()
footer()
typed = st.chat_input(templates.CHAT_PLACEHOLDER, max_chars=None)

with st.container(horizontal=True, vertical_alignment="center", key="title-row"):
    st.title(templates.APP_TITLE, anchor=False)
    if exchanges and st.button(templates.NEW_CHAT, key="new-chat", icon="➕"):
        exchanges.clear()
        STATE.urgent = None
        STATE.scroll_to = None
        st.rerun()

answerer = engine()
urgent_banner()
sources_panel(answerer)

pending: tuple[str, bool] | None = None
if not exchanges:
    st.markdown(md_escape(templates.STARTERS_INTRO))
    chosen = starters("first")
    if chosen:
        pending = (chosen, False)

for x in exchanges:
    asked = show_exchange(answerer, x)
    if asked:
        pending = asked

if exchanges:
    with st.expander(md_escape(templates.STARTERS_LABEL)):
        chosen = starters("more")
        if chosen:
            pending = (chosen, False)

if typed is not None:
    pending = (typed, False)

if pending is not None:
    question, alone = pending
    new_id = uuid.uuid4().hex
    with st.container(key=f"x-{new_id}"):
        with st.chat_message("user"):
            st.text(question)  # echoed at once, before the answer is looked up
        with st.chat_message("assistant"):
            # Shown at once (st.spinner waits half a second before it appears), gone with the rerun below.
            st.html(f"<div class='eb-thinking' role='status' data-testid='ebThinking'><span class='eb-spin'></span>"
                    f"{h(templates.SPINNER)}</div>")
            x = answer(answerer, question, alone)
    x["id"] = new_id
    exchanges.append(x)
    STATE.scroll_to = new_id
    if x["answer"].get("status") == "urgent":
        STATE.urgent = new_id
    st.rerun()

if STATE.scroll_to:
    scroll_to(STATE.scroll_to)
    STATE.scroll_to = None
