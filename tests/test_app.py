"""The Streamlit app through Streamlit's AppTest: every page and every answer status."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from edubot import templates
from edubot.config import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


@pytest.fixture()
def app(built):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [t.value for t in at.text]
    return "\n".join(parts)


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def plain(md: str) -> str:
    """Undo md_escape for comparisons."""
    return md.replace("\\", "").replace("  \n", "\n")


def test_first_visit_shows_disclaimer_starters_and_sources(app):
    assert templates.DISCLAIMER in plain(texts(app))
    labels = [b.label for b in app.button]
    for q in templates.SUGGESTED_QUESTIONS:
        assert q in labels
    assert app.dataframe  # every source, with its kind and date


def test_starter_question_is_answered(app):
    next(b for b in app.button if b.label == templates.SUGGESTED_QUESTIONS[0]).click().run()
    assert not app.exception
    assert len(app.chat_message) == 2


def test_answer_cards_citations_and_limitations(app):
    ask(app, "was a biopsy done on the regenerated bone?")
    body = plain(texts(app))
    assert "Peer-reviewed case report · 2 patients · level 4" in body
    assert "Limitations: A biopsy of the regenerated tissue was not conducted in either patient" in body
    assert "Jaewoo Pak (2012)" in body
    assert any(e.label == "Limitations of these sources" for e in app.expander)
    assert templates.DISCLAIMER in body


def test_marketing_is_labelled_and_last(app):
    ask(app, "stem cell therapy for avascular necrosis of the hip")
    warnings = [plain(w.value) for w in app.warning]
    assert templates.GROUP_TITLES["marketing"] in warnings
    body = plain(texts(app))
    assert body.index("Research") < body.index(templates.GROUP_TITLES["marketing"])


def test_urgent_comes_first_and_alone(app):
    ask(app, "I have crushing chest pain")
    assert plain(app.error[0].value) == templates.URGENT
    assert not any(e.label == "Limitations of these sources" for e in app.expander)


def test_no_answer_personal_advice_and_invalid(app):
    ask(app, "recipe for banana bread")
    assert plain(app.info[-1].value) == templates.NO_ANSWER
    ask(app, "Should I get core decompression for my hip?")
    assert templates.PERSONAL_ADVICE in plain(app.warning[0].value)
    ask(app, "???")
    assert plain(app.info[-1].value) == templates.INVALID_UNREADABLE


def test_each_message_keeps_its_own_sources(app):
    ask(app, "tantalum rod")
    first = [m for m in app.session_state["messages"] if m["role"] == "assistant"][0]["answer"]
    ask(app, "are stem cell treatments approved by the FDA")
    msgs = [m for m in app.session_state["messages"] if m["role"] == "assistant"]
    assert msgs[0]["answer"] == first
    assert {p["passage_id"] for p in msgs[0]["answer"]["passages"]} != {p["passage_id"] for p in msgs[1]["answer"]["passages"]}
    assert len(app.chat_message) == 4


def test_feedback_kept_in_session(app):
    ask(app, "what is osteonecrosis")
    assert len(app.get("feedback")) == 1


def test_html_and_markdown_are_never_rendered(app):
    ask(app, "<script>alert(1)</script> [click](javascript:alert(1)) **bold**")
    for m in app.markdown:
        assert "<script>" not in m.value and "](javascript:" not in m.value
    assert "<script>" in "\n".join(t.value for t in app.text)  # the user's words, as plain text


def test_staff_page(app):
    app.switch_page("ui/staff.py").run()
    assert not app.exception
    app.text_input[0].set_value("tantalum").run()
    assert not app.exception
    assert app.dataframe and app.get("download_button")
    codes = [c.value for c in app.code]
    assert codes and all("(" in c and ")" in c for c in codes)  # copy-ready citations


def test_staff_filters(app):
    app.switch_page("ui/staff.py").run()
    app.multiselect[0].set_value(["marketing"]).run()
    app.text_input[0].set_value("stem cells").run()
    rows = app.dataframe[0].value
    assert set(rows["source type"]) == {"marketing"}


def test_evaluation_page(app, cfg_index):
    reports = cfg_index.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "beir-tiny-test.json").write_text(json.dumps({
        "dataset": "tiny", "split": "test", "default": "hybrid", "queries": 3, "documents": 6, "build_s": 0.1,
        "systems": {"bm25": {"ndcg@10": 0.5, "recall@100": 1, "mrr@10": 0.5, "p50_ms": 1, "p95_ms": 1}}}))
    app.switch_page("ui/evaluation.py").run()
    assert not app.exception
    assert any("BEIR" in plain(s.value) for s in app.subheader)
