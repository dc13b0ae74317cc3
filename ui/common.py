"""What the pages share: the engine (loaded once per server process), safe text, the page style.

Nothing from the corpus or the user is ever rendered as live HTML or Markdown:
text goes through ``md_escape`` (every Markdown control character escaped),
through ``h`` (``html.escape``) inside the few HTML blocks used for styling,
or through elements that show plain text (``st.text``, ``st.code``, dataframes).
"""

from __future__ import annotations

import html
import os
import re
import sys
import threading

import streamlit as st

from edubot import templates
from edubot.config import Config

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def md_escape(text: str) -> str:
    """Plain text for st.markdown: no emphasis, links, HTML or LaTeX can come through."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text or "")
    return escaped.replace("\n", "  \n")


def h(text: object) -> str:
    """Text for an HTML block: every character that could open markup is escaped."""
    return html.escape("" if text is None else str(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """Only plain http(s) addresses ever become links."""
    return url if url and re.match(r"^https?://[^\s<>\"']+$", url) else None


def config() -> Config:
    return Config.from_env(os.environ)


# ---------------------------------------------------------------- the engine

_ENGINE = None
_ENGINE_LOCK = threading.Lock()


def load_engine(notice=None, progress=None):
    """The retriever and answerer, once per server process, shared read-only by every session.

    ``ui.serve`` calls this before the server starts, so the first visitor finds
    it loaded; a plain ``streamlit run app.py`` loads it on the first visit.
    """
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from edubot.answer import answerer_for
            from edubot.retrieve import open_retriever

            _ENGINE = answerer_for(open_retriever(config(), notice=notice, progress=progress))
            print("edubot: engine loaded", file=sys.stderr, flush=True)  # once per process (no user text)
        return _ENGINE


def engine():
    """The shared engine; a session that arrives before it is loaded sees the loading progress."""
    if _ENGINE is not None:
        return _ENGINE
    with st.status(templates.LOADING, expanded=False) as status:
        bar = st.progress(0.0)

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "embedding" and total:
                bar.progress(min(1.0, done / total), text=templates.BUILD_PROGRESS.format(done=done, total=total))

        def notice(message: str) -> None:
            status.update(label=templates.BUILDING, expanded=True)

        answerer = load_engine(notice, progress)
        status.update(label=templates.READY, state="complete", expanded=False)
    return answerer


# ---------------------------------------------------------------- style

# Colours chosen for WCAG AA (at least 4.5:1) on their backgrounds; the browser test measures them.
CSS = """
<style>
:root { --eb-text: #1f2330; --eb-muted: #454857; --eb-ad: #7a2e0b; --eb-ad-bg: #fff3e6; --eb-ad-line: #b45309; }
/* Streamlit draws captions, placeholders and some labels at 60% opacity (3.9:1): make them readable. */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p, .stCaption { color: var(--eb-muted) !important; opacity: 1 !important; }
[data-testid="stChatInputTextArea"]::placeholder, input::placeholder, textarea::placeholder { color: #5c5f6b !important; opacity: 1 !important; }
[data-testid="stWidgetLabel"] p, [data-testid="stMarkdownContainer"] small { color: var(--eb-text); opacity: 1; }
a { color: #0b57d0; }
[data-testid="stChatMessageAvatarUser"] { background-color: #a8321f !important; }
[data-testid="stChatMessageAvatarAssistant"] { background-color: #8f3a06 !important; }
/* A readable line length on wide screens. */
.stMainBlockContainer { max-width: 58rem; }
.eb-link { display: inline-flex; align-items: center; min-height: 44px; padding: 0 0.7rem; margin-left: 0.5rem;
  border: 1px solid #8a8fa3; border-radius: 0.5rem; color: #0b57d0; text-decoration: none; font-size: 0.92rem; }
.eb-link:hover { text-decoration: underline; }
/* Touch targets of at least 44 px. */
.stButton button, .stLinkButton a, .stDownloadButton button, [data-testid="stPopover"] button,
[data-testid="stExpander"] summary, [data-testid="stChatInputSubmitButton"] { min-height: 44px; min-width: 44px; }
[data-testid="stExpander"] summary { display: flex; align-items: center; }
[data-testid="stChatInputTextArea"] { min-height: 44px; }
.eb-sources { list-style: none; margin: 0; padding: 0; }
.eb-sources li { margin: 0 0 0.8rem 0; color: var(--eb-text); }
/* Each exchange lands below the header (and below the urgent banner, which the scroll script measures). */
div[class*="st-key-x-"] { scroll-margin-top: 4.5rem; }
/* The urgent banner stays pinned at the top until dismissed. */
div:has(> .st-key-urgent-banner) { position: sticky; top: 3.75rem; z-index: 999990; }
.st-key-urgent-banner { background: #ffffff; padding: 0.25rem 0; box-shadow: 0 4px 12px rgba(0,0,0,0.18); border-radius: 0.5rem; }
/* Quote cards. */
.eb-doc-head { margin: 0 0 0.35rem 0; color: var(--eb-text); }
.eb-num { display: inline-block; min-width: 1.8em; font-weight: 700; color: #ffffff; background: #2f4a8a; border-radius: 0.4rem;
  text-align: center; margin-right: 0.4rem; }
.eb-title { font-weight: 700; }
.eb-label { display: inline-block; margin-top: 0.2rem; padding: 0.1rem 0.5rem; border-radius: 0.4rem; background: #eef1f8; color: #1f2f5c; font-size: 0.92rem; }
.eb-cite { color: var(--eb-muted); font-size: 0.88rem; margin-top: 0.2rem; }
.eb-quote { border-left: 4px solid #2f4a8a; padding: 0.3rem 0 0.3rem 0.8rem; margin: 0.5rem 0; color: var(--eb-text); white-space: pre-wrap; }
.eb-quote strong { font-weight: 700; }
.eb-ad { background: var(--eb-ad-bg); border: 2px solid var(--eb-ad-line); border-radius: 0.5rem; padding: 0.35rem 0.6rem; color: var(--eb-ad); font-weight: 700; margin: 0.2rem 0 0.4rem 0; }
.eb-ad-quote { border-left-color: var(--eb-ad-line); background: var(--eb-ad-bg); }
.eb-coi { background: #fff3e6; border-left: 4px solid #b45309; color: var(--eb-ad); padding: 0.3rem 0.6rem; margin: 0.3rem 0; }
.eb-limits { margin: 0.2rem 0 0.2rem 0; color: var(--eb-text); }
.eb-limits ul { margin: 0.1rem 0 0.1rem 1.1rem; padding: 0; }
.eb-by { color: var(--eb-muted); }
.eb-docview { white-space: pre-wrap; color: var(--eb-text); background: #f7f7f9; padding: 0.6rem; border-radius: 0.4rem; max-height: 24rem; overflow-y: auto; }
.eb-docview mark { background: #ffe28a; color: #1a1a1a; padding: 0 0.1rem; }
.eb-readwith { color: var(--eb-muted); font-style: italic; }
.eb-thinking { display: flex; align-items: center; gap: 0.6rem; color: var(--eb-text); min-height: 44px; }
.eb-spin { width: 1.2rem; height: 1.2rem; border: 3px solid #c9cdd8; border-top-color: #2f4a8a; border-radius: 50%;
  animation: eb-spin 0.8s linear infinite; }
@keyframes eb-spin { to { transform: rotate(360deg); } }
.eb-footer { color: var(--eb-text); font-size: 0.9rem; line-height: 1.35; margin: 0; }
.eb-footer strong { color: #8a1010; }
/* On a phone the input and footer are pinned over a short screen, and an urgent banner is pinned at the top:
   Streamlit's desktop spacing below the input (3.5rem) would leave almost no room between them for the answer. */
@media (max-width: 640px) {
  [data-testid="stBottomBlockContainer"] { padding-top: 0.5rem; padding-bottom: 0.75rem; }
  [data-testid="stBottomBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.5rem; }
  .eb-footer { font-size: 0.85rem; line-height: 1.3; }
}
</style>
"""


def style() -> None:
    """The page style: one static block, with no text from the corpus or the user in it."""
    st.html(CSS)


def disclaimer() -> None:
    st.caption(md_escape(templates.DISCLAIMER))
