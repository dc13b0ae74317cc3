"""The Streamlit app through Streamlit's AppTest: every page, every answer status, the staff switch."""

import csv
import html as htmllib
import io
import json
import re
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from edubot import templates
from edubot.config import PROJECT_ROOT
from edubot.corpus import DocMeta

APP = str(PROJECT_ROOT / "app.py")
PASSWORD = "correct horse battery staple"


@pytest.fixture()
def app(built, monkeypatch):
    monkeypatch.setenv("EDUBOT_STAFF_PASSWORD", PASSWORD)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def html_texts(at) -> list[str]:
    """The HTML blocks of the page, without the style sheet."""
    return [e.proto.body for e in at.get("html") if not e.proto.body.startswith("<style")]


def visible_text(at) -> str:
    """Everything a reader sees, with Markdown escapes and HTML tags undone."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [t.value for t in at.text]
    parts += [s.value for s in at.success] + [e.label for e in at.expander] + [b.label for b in at.button]
    md = "\n".join(parts).replace("\\", "").replace("  \n", "\n")
    tags = "\n".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)) for body in html_texts(at))
    return md + "\n" + re.sub(r"[ \t]+", " ", tags)


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def exchanges(at) -> list[dict]:
    return at.session_state["exchanges"]


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


# ---------------------------------------------------------------- the patient chat

def test_first_visit_shows_footer_starters_and_sources(app):
    footer = next(b for b in html_texts(app) if "ebFooter" in b)
    assert htmllib.escape(templates.DISCLAIMER) in footer and htmllib.escape(templates.URGENT_HELP_LINE) in footer
    labels = [b.label for b in app.button]
    for q in templates.SUGGESTED_QUESTIONS:
        assert q in labels
    assert any("eb-sources" in b and "Case report of 2 patients" in b for b in html_texts(app))  # every source


def test_starter_question_is_answered_and_starters_stay_available(app):
    button(app, templates.SUGGESTED_QUESTIONS[0]).click().run()
    assert not app.exception
    assert len(app.chat_message) == 2
    assert any(e.label == templates.STARTERS_LABEL for e in app.expander)
    more = [b for b in app.button if b.label == templates.SUGGESTED_QUESTIONS[1]]
    more[0].click().run()
    assert len(exchanges(app)) == 2


def test_answer_is_short_with_one_header_per_source(app):
    ask(app, "was a biopsy done on the regenerated bone?")
    body = visible_text(app)
    assert "Case report of 2 patients — weak evidence" in body  # plain words, not "level 4"
    assert "A biopsy of the regenerated tissue was not conducted in either patient" in body
    assert "Jaewoo Pak (2012)" in body
    assert templates.KEY_LIMITS in body
    # staff-only details are not in the patient's view
    for staff_only in ("Not verified", "level 4", "pak-2012-adsc-case-report", "Partial copy"):
        assert staff_only not in body
    assert not re.search(r"score:? \d|#[0-9a-f]{12}", body)  # no scores, no passage ids
    answer = exchanges(app)[0]["answer"]
    shown_quotes = [b for b in html_texts(app) if "eb-quote" in b and "eb-docview" not in b]
    n_docs = len({p["doc_id"] for p in answer["passages"]})
    heads = [b for b in html_texts(app) if "eb-doc-head" in b]
    assert len(heads) == n_docs  # one header per document, however many of its quotes are shown
    assert len(shown_quotes) >= len(answer["passages"])  # every quote is there, most behind a click


def test_key_limitations_at_most_three_per_source_and_near_duplicates_merged(app):
    ask(app, "was a biopsy done on the regenerated bone?")
    pak = next(b for b in html_texts(app) if templates.KEY_LIMITS in b)
    assert pak.count("<li>") <= 3
    full = next(b for b in html_texts(app) if "Also noted" in b)  # one click away, in full
    assert "Patients declined biopsy" in htmllib.unescape(full)
    # the merged duplicate is not a line of its own
    assert htmllib.unescape(full).count("<li>Patients declined biopsy") == 0


def test_marketing_is_marked_on_every_card_and_last(app):
    ask(app, "what does the clinic website say about prolotherapy for avascular necrosis")  # marketing is shown
    answer = exchanges(app)[0]["answer"]
    assert any(p["group"] == "marketing" for p in answer["passages"])
    ads = [e for e in app.expander if templates.MARKETING_CHIP in e.label]
    assert ads and all(e.proto.icon == "📣" for e in ads)
    labels = [e.label for e in app.expander if e.label.startswith("\\[")]
    assert labels and templates.MARKETING_CHIP in labels[-1]  # last source
    assert any(htmllib.escape(templates.MARKETING_CARD) in b for b in html_texts(app))  # on the card itself
    assert any("eb-coi" in b for b in html_texts(app))  # conflict of interest as a visible warning


def test_source_links_pubmed_doi_or_page(app):
    ask(app, "was a biopsy done on the regenerated bone?")
    links = " ".join(b for b in html_texts(app) if "eb-link" in b)
    assert "https://pubmed.ncbi.nlm.nih.gov/22270740/" in links  # the case report now has a link


def test_show_in_document_marks_the_quote_in_its_paragraph(app, corpus):
    ask(app, "was a biopsy done on the regenerated bone?")
    p = exchanges(app)[0]["answer"]["passages"][0]
    raw = corpus.get(p["doc_id"]).raw
    views = [b for b in html_texts(app) if "ebDocView" in b]
    marked = [htmllib.unescape(re.search(r"<mark>(.*?)</mark>", v, re.DOTALL).group(1)) for v in views]
    assert raw[p["span"][0]:p["span"][1]] in marked


def test_urgent_banner_pinned_until_dismissed(app):
    ask(app, "what is osteonecrosis")
    heads = sum("eb-doc-head" in b for b in html_texts(app))
    ask(app, "I have crushing chest pain and my left arm is numb")
    assert app.error and templates.URGENT.split(".")[0] in app.error[0].value.replace("\\", "")
    assert app.session_state["urgent"] == exchanges(app)[-1]["id"]
    assert sum("eb-doc-head" in b for b in html_texts(app)) == heads  # no sources under an urgent answer
    ask(app, "what is core decompression")
    assert app.session_state["urgent"] is not None  # still pinned after a later question
    button(app, templates.URGENT_BANNER_DISMISS).click().run()
    assert app.session_state["urgent"] is None


def test_no_answer_suggestions_are_clickable(app):
    ask(app, "recipe for banana bread")
    assert app.info[-1].value.replace("\\", "").startswith(templates.NO_ANSWER.split(".")[0])
    button(app, templates.SUGGESTED_QUESTIONS[2]).click().run()
    assert exchanges(app)[-1]["question"] == templates.SUGGESTED_QUESTIONS[2]
    assert exchanges(app)[-1]["answer"]["status"] == "answered"


def test_personal_advice_invalid_and_unknown_status(app):
    ask(app, "Should I get core decompression for my hip?")
    assert templates.PERSONAL_ADVICE.split(",")[0] in app.warning[0].value.replace("\\", "")
    ask(app, "???")
    assert exchanges(app)[-1]["answer"]["status"] == "invalid"
    exchanges(app)[-1]["answer"]["status"] = "some_future_status"  # a later version's status: shown as plain text
    exchanges(app)[-1]["answer"]["message"] = "<b>hello</b>"
    app.run()
    assert not app.exception
    assert any(i.value == "\\<b\\>hello\\</b\\>" for i in app.info)


def test_follow_up_is_read_with_the_earlier_question(app):
    ask(app, "Was a biopsy done in the stem cell case report?")
    ask(app, "and what about the second patient?")
    x = exchanges(app)[-1]
    assert x["read_with"] == "Was a biopsy done in the stem cell case report?"
    assert x["query"].startswith("Was a biopsy done in the stem cell case report?")
    assert templates.READ_WITH_EARLIER.format(question=x["read_with"]) in visible_text(app)
    button(app, templates.ASK_ON_ITS_OWN).click().run()
    assert exchanges(app)[-1]["read_with"] is None and exchanges(app)[-1]["question"] == x["question"]


def test_urgent_follow_up_is_never_mixed_with_the_earlier_question(app):
    ask(app, "Was a biopsy done in the stem cell case report?")
    ask(app, "and what about crushing chest pain right now?")
    assert exchanges(app)[-1]["answer"]["status"] == "urgent"
    assert exchanges(app)[-1]["read_with"] is None


def test_each_exchange_keeps_its_own_sources(app):
    ask(app, "tantalum rod")
    first = exchanges(app)[0]["answer"]
    ask(app, "are stem cell treatments approved by the FDA")
    xs = exchanges(app)
    assert xs[0]["answer"] == first
    assert {p["passage_id"] for p in xs[0]["answer"]["passages"]} != {p["passage_id"] for p in xs[1]["answer"]["passages"]}
    assert len(app.chat_message) == 4


def test_feedback_is_acknowledged_and_logged_with_a_reason(app, tmp_path, monkeypatch):
    log = tmp_path / "analytics.jsonl"
    monkeypatch.setenv("EDUBOT_ANALYTICS_LOG", str(log))
    ask(app, "what is osteonecrosis")
    button(app, f"👎 {templates.FEEDBACK_DOWN}").click().run()
    assert any(templates.FEEDBACK_THANKS in s.value.replace("\\", "") for s in app.success)
    app.get("button_group")[0].set_value(templates.FEEDBACK_REASONS[1]).run()
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries[-1]["feedback"] == "down" and entries[-1]["reason"] == templates.FEEDBACK_REASONS[1]
    assert entries[0]["question"] == "what is osteonecrosis" and "feedback" not in entries[0]


def test_new_chat_starts_over(app):
    ask(app, "what is osteonecrosis")
    button(app, templates.NEW_CHAT).click().run()
    assert exchanges(app) == [] and len(app.chat_message) == 0


def test_html_and_markdown_are_never_rendered(app):
    ask(app, "<script>alert(1)</script> [click](javascript:alert(1)) **bold**")
    for m in app.markdown:
        assert "<script>" not in m.value and "](javascript:" not in m.value
    for body in html_texts(app):
        assert "<script>alert" not in body  # the scroll script is the only script, and it holds no text
    assert "<script>" in "\n".join(t.value for t in app.text)  # the user's words, as plain text


def test_plain_evidence_labels():
    meta = DocMeta(id="x", title="t", source_type="research", study_type="Case report (2 patients)", evidence_level=4,
                   subjects=("humans",), n_patients=2)
    assert templates.plain_evidence_label(meta) == "Case report of 2 patients — weak evidence"
    dogs = DocMeta(id="y", title="t", source_type="abstract", study_type="controlled animal study", subjects=("dogs",))
    assert templates.plain_evidence_label(dogs) == "Animal study in dogs — not tested in people"
    ad = DocMeta(id="z", title="t", source_type="marketing")
    assert "not research" in templates.plain_evidence_label(ad)


# ---------------------------------------------------------------- staff pages

def test_patient_session_cannot_reach_staff_pages(app):
    for page in ("ui/staff.py", "ui/evaluation.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(page)


def sign_in(app, password: str):
    app.switch_page("ui/signin.py").run()
    app.text_input[0].set_value(password)
    app.button[0].click().run()
    assert not app.exception
    return app


def test_wrong_password_is_refused(app):
    sign_in(app, "guess")
    assert not app.session_state["staff"] if "staff" in app.session_state else True
    with pytest.raises(ValueError):
        app.switch_page("ui/staff.py")


def test_staff_pages_off_without_a_password(built, monkeypatch):
    monkeypatch.delenv("EDUBOT_STAFF_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["staff"] = True  # even a session marked staff sees no staff page without a password set
    at.run()
    with pytest.raises(ValueError):
        at.switch_page("ui/staff.py")


def test_staff_lookup_table_highlights_and_csv(app):
    sign_in(app, PASSWORD)
    app.switch_page("ui/staff.py").run()
    assert not app.exception
    app.multiselect[0].set_value(["abstract"]).run()
    app.text_input[0].set_value("tantalum rod").run()
    assert not app.exception
    rows = app.dataframe[0].value
    assert {"title", "section", "first words", "score", "reading grade"} <= set(rows.columns)
    assert "passage id" not in rows.columns
    assert any("<mark>" in b and "tantalum" in b.lower() for b in html_texts(app))
    download = app.get("download_button")[0]
    assert download.proto.label == "Download results as CSV"
    codes = [c.value for c in app.code]
    assert codes and all("(" in c and ")" in c for c in codes)  # copy-ready citations


def test_staff_csv_has_bom_query_filters_and_date(app):
    from ui.staff_tools import csv_name, results_csv

    sign_in(app, PASSWORD)
    app.switch_page("ui/staff.py").run()
    app.multiselect[0].set_value(["marketing"]).run()
    app.text_input[0].set_value("stem cells").run()
    assert set(app.dataframe[0].value["source type"]) == {"marketing"}
    data = results_csv([{"rank": 1, "title": "Core decompression — a clinic page"}], "stem cells", "source type: marketing")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [{"query": "stem cells", "filters": "source type: marketing", "rank": "1",
                     "title": "Core decompression — a clinic page"}]
    assert csv_name(date(2026, 11, 23)) == "edubot-search-2026-11-23.csv"


def test_staff_highlights_escape_passage_text():
    from ui.staff_tools import highlighted

    out = highlighted("Tantalum <rods> were used; tantalum.", "tantalum rod")
    assert out.count("<mark>") == 3 and "&lt;" in out and "<rods>" not in out


def test_staff_document_filter_lists_titles(app, corpus):
    sign_in(app, PASSWORD)
    app.switch_page("ui/staff.py").run()
    docs = app.multiselect[1]
    titles = {d.meta.title for d in corpus.documents}
    assert set(docs.options) == titles and len(docs.options) == len(corpus.documents)


def test_evaluation_page_shows_every_report_without_paths(app, cfg_index):
    reports = cfg_index.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "beir-tiny-test.json").write_text(json.dumps({
        "dataset": "tiny", "split": "test", "default": "hybrid", "queries": 3, "documents": 6, "build_s": 0.1,
        "systems": {"bm25": {"ndcg@10": 0.5, "recall@100": 1, "mrr@10": 0.5, "p50_ms": 1, "p95_ms": 1}}}))
    (reports / "bench.json").write_text(json.dumps({"run_at": "2026-11-01", "version": "0.1.0", "load": {"throughput_qps": 80}}))
    sign_in(app, PASSWORD)
    app.switch_page("ui/evaluation.py").run()
    assert not app.exception
    subheads = [s.value.replace("\\", "") for s in app.subheader]
    assert any("BEIR · tiny" in s for s in subheads) and any(s.startswith("Bench") for s in subheads)
    text = visible_text(app)
    assert "Run: 2026-11-01 · EduBot version 0.1.0" in text
    assert str(reports) not in text and str(PROJECT_ROOT) not in text
