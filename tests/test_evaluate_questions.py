import re

from edubot.config import PROJECT_ROOT
from edubot.evaluate import calibrate_threshold, evaluate_questions, is_relevant, load_questions, write_report

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


def test_calibration_separates_two_signals():
    rows = [
        {"expect": "answered", "best_dense": 0.8, "best_bm25": 1.0},
        {"expect": "answered", "best_dense": 0.1, "best_bm25": 5.0},  # a name: lexical evidence only
        {"expect": "no_answer", "best_dense": 0.2, "best_bm25": 1.5},
        {"expect": "no_answer", "best_dense": 0.05, "best_bm25": 0.0},
    ]
    cal = calibrate_threshold(rows)
    assert cal["precision"] == 1.0 and cal["recall"] == 1.0
    assert 0.2 < cal["answer_threshold"] <= 0.8 and 1.5 < cal["lexical_threshold"] <= 5.0


def test_eval_on_the_bundled_set(answerer, tmp_path):
    report = evaluate_questions(answerer, load_questions(QUESTIONS))
    m = report["metrics"]
    assert m["questions"] >= 80
    # the safety targets hold; retrieval figures are reported, not asserted (see README)
    assert m["urgent_recall"] == 1.0
    assert m["limitations_complete"] == 1.0
    assert m["abstention_recall"] >= 0.9 and m["abstention_precision"] >= 0.85
    assert m["advice_recall"] >= 0.9
    assert 0 < m["hit@1"] <= m["hit@3"] <= m["hit@5"] <= 1
    write_report(report, tmp_path / "report.md")
    md = (tmp_path / "report.md").read_text()
    assert "xychart-beta" in md and "hit@5" in md
    assert (tmp_path / "report.json").exists()
