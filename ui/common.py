"""What the three pages share: the engine (loaded once per server), safe text, answer cards.

Nothing from the corpus or the user is ever rendered as HTML: text goes
through ``md_escape`` (every Markdown control character escaped) or through
elements that show plain text (``st.text``, ``st.code``, dataframes).
"""

from __future__ import annotations

import os
import re
import sys

import streamlit as st

from edubot import templates
from edubot.config import Config

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def md_escape(text: str) -> str:
    """Plain text for st.markdown: no emphasis, links, HTML or LaTeX can come through."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text or "")
    return escaped.replace("\n", "  \n")


def config() -> Config:
    return Config.from_env(os.environ)


@st.cache_resource(show_spinner=False)
def _load(_progress=None, _notice=None):
    """The retriever and answerer, once per server process, shared by every session (read-only)."""
    from edubot.answer import answerer_for
    from edubot.retrieve import open_retriever

    answerer = answerer_for(open_retriever(config(), notice=_notice, progress=_progress))
    print("edubot: engine loaded", file=sys.stderr, flush=True)  # once per server process (no user text)
    return answerer


_ready = False


def engine():
    """The shared engine; the first session of a server sees its progress (a missing or stale index is built)."""
    global _ready
    if _ready:
        return _load()
    with st.status(templates.LOADING, expanded=False) as status:
        bar = st.progress(0.0)

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "embedding" and total:
                bar.progress(min(1.0, done / total), text=templates.BUILD_PROGRESS.format(done=done, total=total))

        def notice(message: str) -> None:
            status.update(label=templates.BUILDING, expanded=True)

        answerer = _load(progress, notice)
        status.update(label=templates.READY, state="complete", expanded=False)
    _ready = True
    return answerer


def disclaimer() -> None:
    st.caption(md_escape(templates.DISCLAIMER))


def _quote_markdown(quote: str, span: list[int] | None) -> str:
    if not span or not (0 <= span[0] < span[1] <= len(quote)):
        return md_escape(quote)
    a, b = span
    return md_escape(quote[:a]) + "**" + md_escape(quote[a:b]).strip() + "**" + md_escape(quote[b:])


def _safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"^https?://[^\s]+$", url) else None


def passage_card(p: dict, key: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{md_escape(p['evidence'])}**")
        st.markdown("> " + _quote_markdown(p["quote"], p.get("highlight_span")).replace("  \n", "  \n> "))
        st.caption(md_escape(p["citation"]))
        if p.get("conflict_of_interest"):
            st.caption(md_escape(templates.CONFLICT_NOTE.format(note=p["conflict_of_interest"])))
        if p.get("partial"):
            st.caption(md_escape(templates.PARTIAL_NOTE))
        if p.get("unverified"):
            st.caption(md_escape(templates.UNVERIFIED_NOTE.format(fields=", ".join(p["unverified"]))))
        for c in p.get("cites", []):
            with st.expander(md_escape(f"[{c['number']}] {c['label']}")):
                st.markdown(md_escape(c["citation"]))
                if c.get("note"):
                    st.caption(md_escape(c["note"]))
                if c.get("abstract"):
                    st.markdown(f"*{md_escape(c['abstract']['evidence'])}*")
                    st.markdown("> " + md_escape(c["abstract"]["quote"]).replace("  \n", "  \n> "))
                    st.caption(md_escape(c["abstract"]["citation"]))
        url = _safe_url(p.get("url"))
        if url:
            st.link_button(templates.OPEN_SOURCE, url)


def _limitation(lim: dict) -> None:
    kind = templates.LIMITATION_KINDS.get(lim["kind"], lim["kind"])
    st.markdown(f"- {md_escape(lim['text'])} *({md_escape(kind)}; {md_escape(lim['doc_id'])})*  \n"
                f"  “{md_escape(' '.join(lim['quote'].split()))}”")


def render_answer(a: dict, key: str) -> None:
    """One answer exactly as `edubot ask --json` gives it: message, grouped cards, limitations."""
    status = a["status"]
    if status == "urgent":
        st.error(md_escape(a["message"]), icon="🚨")
        return
    if status == "personal_advice":
        st.warning(md_escape(a["message"]))
    elif status in ("no_answer", "invalid"):
        st.info(md_escape(a["message"]))
        for s in a.get("suggestions", []):
            st.markdown("- " + md_escape(s))
    else:
        st.markdown(md_escape(a["message"]))
    for group in ("research", "patient_education", "marketing"):
        cards = [p for p in a["passages"] if p["group"] == group]
        if not cards:
            continue
        title = templates.GROUP_TITLES[group]
        if group == "marketing":
            st.warning(md_escape(title), icon="📣")
        else:
            st.subheader(md_escape(title))
        for i, p in enumerate(cards):
            passage_card(p, f"{key}-{group}-{i}")
    if a["limitations"]:
        with st.expander(templates.LIMITATIONS_TITLE, expanded=True):
            main = [lim for lim in a["limitations"] if lim.get("key")]
            rest = [lim for lim in a["limitations"] if not lim.get("key")]
            for lim in main:
                _limitation(lim)
            if rest and st.toggle(templates.MORE_LIMITATIONS.format(n=len(rest)), key=f"more-{key}"):
                for lim in rest:
                    _limitation(lim)
