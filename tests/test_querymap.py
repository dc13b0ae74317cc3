import numpy as np
import pytest

from edubot.querymap import QueryMap, train_query_map


def test_apply_maps_then_normalises_exactly():
    m = QueryMap(np.array([[2.0, 0.0], [0.0, 1.0]], dtype=np.float32))
    out = m.apply(np.array([0.6, 0.8], dtype=np.float32))
    # (1.2, 0.8) / |(1.2, 0.8)|
    assert out == pytest.approx(np.array([1.2, 0.8]) / np.hypot(1.2, 0.8), abs=1e-6)
    assert out.dtype == np.float32


def test_the_identity_changes_nothing():
    v = np.random.default_rng(1).normal(size=8).astype(np.float32)
    v /= np.linalg.norm(v)
    assert QueryMap(np.eye(8, dtype=np.float32)).apply(v) == pytest.approx(v, abs=1e-6)


@pytest.mark.parametrize("matrix", [np.ones((2, 3)), np.ones(3), np.array([[1.0, np.nan], [0.0, 1.0]])])
def test_a_matrix_that_is_not_square_and_finite_is_refused(matrix):
    with pytest.raises(ValueError, match="square and finite"):
        QueryMap(matrix.astype(np.float32))


def test_a_vector_of_the_wrong_size_is_a_clear_error():
    with pytest.raises(ValueError, match="2 numbers expected"):
        QueryMap(np.eye(2, dtype=np.float32)).apply(np.ones(3, dtype=np.float32))


def test_save_and_load_round_trip(tmp_path):
    m = QueryMap(np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32), {"dataset": "x", "split": "train"})
    path = tmp_path / "x.querymap.npz"
    m.save(path)
    back = QueryMap.load(path)
    assert np.array_equal(back.matrix, m.matrix) and back.meta == m.meta


def _rank_of(doc: int, q: np.ndarray, windows: np.ndarray, owner: np.ndarray) -> int:
    best = np.full(owner.max() + 1, -np.inf)
    np.maximum.at(best, owner, windows @ q)
    return int((best > best[doc]).sum())


def test_training_moves_questions_toward_the_documents_judged_for_them():
    # Questions lie near axis 0; the documents judged for them lie near axis 1, while a document no one
    # asked for lies on axis 0 itself: unmapped, it wins every question.
    rng = np.random.default_rng(0)
    windows = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.9, 0.44], [0.0, 0.0, 1.0]], dtype=np.float32)
    windows /= np.linalg.norm(windows, axis=1, keepdims=True)
    owner = np.array([0, 1, 1, 2])  # document 1 has two windows; a document scores its best
    questions = np.array([[1.0, 0.3 + 0.1 * rng.random(), 0.1 * rng.random()] for _ in range(40)], dtype=np.float32)
    questions /= np.linalg.norm(questions, axis=1, keepdims=True)
    grades = [{1: 2.0} for _ in questions]
    assert _rank_of(1, questions[0], windows, owner) == 1
    m = train_query_map(questions, grades, windows, owner, shrink=1e-4, epochs=60, learning_rate=0.05, batch=8)
    assert all(_rank_of(1, m.apply(q), windows, owner) == 0 for q in questions)
    assert m.meta["questions"] == 40 and m.meta["epochs"] == 60


def test_a_strong_pull_to_the_identity_keeps_the_map_near_it():
    windows = np.eye(3, dtype=np.float32)
    owner = np.array([0, 1, 2])
    questions = np.tile(np.array([[1.0, 0.0, 0.0]], dtype=np.float32), (10, 1))
    m = train_query_map(questions, [{1: 1.0}] * 10, windows, owner, shrink=100.0, epochs=5)
    assert np.abs(m.matrix - np.eye(3)).max() < 0.01


def test_questions_without_a_judged_document_are_refused():
    with pytest.raises(ValueError, match="no question has a judged document"):
        train_query_map(np.eye(2, dtype=np.float32), [{}, {0: 0.0}], np.eye(2, dtype=np.float32), np.array([0, 1]))
    with pytest.raises(ValueError, match="one set of grades per question"):
        train_query_map(np.eye(2, dtype=np.float32), [{0: 1.0}], np.eye(2, dtype=np.float32), np.array([0, 1]))


def test_the_shipped_map_applies_only_to_the_corpus_it_was_learned_on():
    from edubot.querymap import query_map_for_corpus, shipped_query_map

    shipped = shipped_query_map()
    assert shipped is not None and shipped.dim == 384 and shipped.meta["messages"] > 1000
    assert query_map_for_corpus(shipped.meta["corpus_hash"]) is shipped
    assert query_map_for_corpus("another corpus") is None and query_map_for_corpus(None) is None


def test_a_missing_map_file_is_none(tmp_path):
    from edubot.querymap import load_query_map

    assert load_query_map(tmp_path / "none.npz") is None


def test_a_map_learned_from_messages_naming_their_file_puts_that_file_first(retriever):
    """``train_query_map_on_files`` (what ``train_querymap.py`` and ``tune_product.py --map-folds`` call) judges
    each message for the file it names: a file no one would rank first for these words comes first once mapped."""
    from edubot.evaluate import train_query_map_on_files

    core = retriever.searcher.core
    target = "abstract-olsen-2016-tantalum-rod"
    row = next(int(core.owner[i]) for i, p in enumerate(retriever.index.passages) if p.doc_id == target)
    texts = ["what is osteonecrosis", "what causes bone death in the hip", "why does the bone die"]
    vectors = np.stack([retriever.encode_query(t) for t in texts])
    windows = core.stored_vectors(np.arange(core.size, dtype=np.int64))
    assert all(_rank_of(row, v, windows, core.owner) > 0 for v in vectors)
    m = train_query_map_on_files(retriever, vectors, [target] * len(texts), shrink=1e-5, epochs=40,
                                 learning_rate=0.01, batch=3)
    assert all(_rank_of(row, m.apply(v), windows, core.owner) == 0 for v in vectors)
