import re

from edubot.config import PROJECT_ROOT
from edubot.evaluate import evaluate_questions, is_relevant, load_questions, write_report

QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"


def test_question_set_is_large_and_labelled(passages):
    qs = load_questions(QUESTIONS)
    assert len(qs) >= 80
    kinds = {q.expect for q in qs}
    assert kinds == {"answered", "no_answer", "urgent", "personal_advice", "invalid"}
    texts = [re.sub(r"\s+", " ", p.text) for p in passages]
    for q in qs:
        if q.expect == "answered":
            assert q.quotes, q.id
        for quote in q.quotes:  # every label is a quote that some passage holds
            assert any(re.sub(r"\s+", " ", quote) in t for t in texts), (q.id, quote)


def test_relevance_is_by_quote():
    assert is_relevant("The first line.\nA biopsy   was not done.", ("A biopsy was not done.",))
    assert not is_relevant("Something else.", ("A biopsy was not done.",))


def test_question_set_has_dev_and_test_splits_of_every_kind():
    qs = load_questions(QUESTIONS)
    for split in ("dev", "test"):
        kinds = {q.expect for q in qs if q.split == split}
        assert kinds == {"answered", "no_answer", "urgent", "personal_advice", "invalid"}, split


def test_ranks_are_counted_in_the_answer_as_shown(answerer):
    from edubot.evaluate import Question

    qs = [Question("t1", "how long does a hip replacement last", "answered", ("implants typically fail after approximately 15 years",)),
          Question("t2", "what is osteonecrosis", "answered", ("a quote that no passage holds",))]
    rows = {r["id"]: r for r in evaluate_questions(answerer, qs)["rows"]}
    shown = [answerer.retriever.index.passages[answerer.retriever.index.row_of[pid]].text for pid in rows["t1"]["passages"]]
    first = rows["t1"]["first_relevant_rank"]
    assert first and is_relevant(shown[first - 1], qs[0].quotes)
    assert not any(is_relevant(t, qs[0].quotes) for t in shown[: first - 1])
    assert rows["t1"]["retrieval_rank"] is not None
    assert rows["t2"]["first_relevant_rank"] is None and rows["t2"]["retrieval_rank"] is None


def test_eval_on_the_bundled_set(answerer, tmp_path):
    report = evaluate_questions(answerer, load_questions(QUESTIONS))
    assert set(report["splits"]) == {"dev", "test"}
    m = report["splits"]["test"]
    assert m["questions"] >= 40
    # the safety targets hold; retrieval figures are reported, not asserted (see README)
    assert m["urgent_recall"] == 1.0
    assert m["limitations_complete"] == 1.0
    assert m["abstention_recall"] >= 0.9 and m["abstention_precision"] >= 0.85
    assert m["advice_recall"] >= 0.9
    assert 0 < m["hit@1"] <= m["hit@3"] <= m["hit@5"] <= 1
    write_report(report, tmp_path / "report.md")
    md = (tmp_path / "report.md").read_text()
    assert "xychart-beta" in md and "hit@5" in md and "test split" in md
    assert "dev" in report["summary_text"] and "test" in report["summary_text"]
    assert (tmp_path / "report.json").exists()
