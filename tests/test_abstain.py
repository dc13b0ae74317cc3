"""The abstention model: its signals, its stored form, and what it learned from labelled questions."""

import math

import pytest

from edubot.abstain import FEATURES, AbstentionModel, Signals, load_model


def test_a_question_asking_for_no_kind_of_answer_leaves_that_signal_missing():
    s = Signals(0.6, 5.0, 1.0, 0.0, 0.9)
    assert math.isnan(s.answer_found) and math.isnan(s.vector()[FEATURES.index("answer_found")])
    assert s.to_json()["answer_found"] is None
    assert Signals(0.6, 5.0, 1.0, 0.0, 0.9, 0.0).to_json()["answer_found"] == 0.0
    assert len(s.vector()) == len(FEATURES)


def test_stored_models_read_the_features_they_were_fitted_on():
    bundled = load_model()
    data = bundled.to_json()
    assert AbstentionModel.from_json(data).probability(Signals(0.6, 5.0, 1.0, 0.0, 0.9)) == pytest.approx(
        bundled.probability(Signals(0.6, 5.0, 1.0, 0.0, 0.9)))
    older = {**data, "features": list(FEATURES[:-1]), "trees": []}  # fitted before the last feature existed
    assert AbstentionModel.from_json(older).probability(Signals(0.6, 5.0, 1.0, 0.0, 0.9)) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        AbstentionModel.from_json({**data, "features": list(reversed(FEATURES))})


def test_the_bundled_model_withholds_answers_when_the_kind_asked_for_is_missing():
    """Same closeness and coverage: a count or price question whose passages hold no such answer is less
    likely answerable than one whose passages do."""
    model = load_model()
    for dense, bm25, coverage, focus in [(0.55, 8.0, 1.0, 0.8), (0.6, 20.0, 1.0, 1.0), (0.5, 10.0, 0.9, 0.7)]:
        missing = model.probability(Signals(dense, bm25, coverage, 0.0, focus, 0.0))
        present = model.probability(Signals(dense, bm25, coverage, 0.0, focus, 1.0))
        assert missing < present


def test_price_questions_are_not_answered_but_duration_questions_are(answerer):
    assert answerer.answer("how much does core decompression surgery cost in the US?").status == "no_answer"
    assert answerer.answer("how long do artificial hips usually last?").status == "answered"
