"""The question-kind model: exact scores on a hand-made model, and the shipped model on patients' words."""

import numpy as np
import pytest

from edubot.kinds import KindModel, load_kinds, shipped_kinds


def _toy() -> KindModel:
    # Two kinds in two dimensions: the question's first coordinate says "a", the passages' second says "b".
    return KindModel(("a", "b"), np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.float32), np.zeros(2, dtype=np.float32),
                     np.array([[0.0, 0.0], [0.0, 1.0]], dtype=np.float32), np.zeros(2, dtype=np.float32))


def test_agreement_is_the_probability_of_the_same_kind():
    model = _toy()
    pq = model.question(np.array([np.log(3.0), 0.0]))  # softmax(ln 3, 0) = (0.75, 0.25)
    assert pq == pytest.approx([0.75, 0.25])
    passages = np.array([[0.0, 0.0], [0.0, np.log(4.0)]])  # (0.5, 0.5) and (0.2, 0.8)
    assert model.passages(passages) == pytest.approx(np.array([[0.5, 0.5], [0.2, 0.8]]))
    got = model.agreement(np.array([np.log(3.0), 0.0]), passages)
    assert got == pytest.approx([0.5, 0.75 * 0.2 + 0.25 * 0.8])
    assert model.agreement(np.array([0.0, 0.0]), np.zeros((0, 2))).shape == (0,)


def test_round_trip_and_bad_shapes(tmp_path):
    model = _toy()
    again = KindModel.from_json(model.to_json())
    assert again.labels == model.labels and np.array_equal(again.passage_weights, model.passage_weights)
    broken = model.to_json() | {"passage_bias": [0.0, 0.0, 0.0]}
    with pytest.raises(ValueError, match="shapes"):
        KindModel.from_json(broken)
    assert load_kinds(tmp_path / "none.json") is None


@pytest.mark.parametrize(("question", "kind"), [
    ("what are the signs of avn in the hip?", "symptoms"),
    ("how do they treat osteonecrosis of the hip", "treatment"),
    ("how do doctors test for avn", "exams and tests"),
    ("what's the long term outlook with avn", "outlook"),
    ("what is avascular necrosis", "information"),
    ("are there any clinical trials for avn", "research"),
])
def test_the_shipped_model_reads_patients_questions(embedder, question, kind):
    """Learned from MedQuAD's templated questions, it still reads questions worded as patients word them."""
    model = shipped_kinds()
    assert model is not None and model.meta["dataset"] == "medquad" and model.meta["split"] == "dev"
    assert model.labels[int(model.question(embedder.encode_query(question)).argmax())] == kind


def test_the_shipped_model_reads_passages(embedder):
    model = shipped_kinds()
    assert model is not None
    read = model.passages(embedder.encode([
        "Treatment options include medicines, core decompression, bone grafting and joint replacement.",
        "The most common symptom is pain in the groin that gets worse when you walk.",
    ]))
    assert [model.labels[i] for i in read.argmax(axis=1)] == ["treatment", "symptoms"]
