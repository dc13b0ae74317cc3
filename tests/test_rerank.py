"""The learned second look at a ranking's first rows (``rerank``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edubot.rerank import FEATURES, SOURCE_TYPES, Question, Reranker, RowFacts, Rows, features, fit, shipped_reranker

N = len(FEATURES)


def one_feature(name: str, weight: float = 1.0, depth: int = 3) -> Reranker:
    weights = [0.0] * N
    weights[FEATURES.index(name)] = weight
    return Reranker((0.0,) * N, (1.0,) * N, tuple(weights), 0.0, depth)


def test_probabilities_are_the_logistic_of_the_standardised_features():
    r = Reranker(tuple(float(i) for i in range(N)), (2.0,) * N, (0.5,) + (0.0,) * (N - 1), -1.0)
    x = np.zeros((1, N))
    x[0, 0] = 4.0  # (4 - 0) / 2 * 0.5 - 1 = 0
    assert r.probabilities(x)[0] == pytest.approx(0.5)
    x[0, 0] = 8.0  # 1.0
    assert r.probabilities(x)[0] == pytest.approx(1 / (1 + np.exp(-1.0)))


def test_the_first_rows_go_by_probability_and_keep_their_own_scores_capped_by_the_row_above():
    r = one_feature("coverage")
    scores = np.array([1.0, 0.8, 0.6, 0.5, 0.4])
    x = np.zeros((3, N))
    x[:, FEATURES.index("coverage")] = [0.1, 0.2, 0.9]  # the third row holds the question's words
    order, new = r.order(scores, x)
    assert order.tolist() == [2, 1, 0, 3, 4]  # rows below the first three keep their order
    assert new.tolist() == pytest.approx([0.6, 0.6, 0.6, 0.5, 0.4])  # a lifted row brings no score it did not earn
    assert (np.diff(new) <= 0).all()
    same, kept = r.order(scores, np.zeros((0, N)))
    assert same.tolist() == [0, 1, 2, 3, 4] and kept is scores


def test_json_round_trip_and_a_model_for_other_features_is_refused(tmp_path):
    r = one_feature("dense", 2.0, depth=7)
    path = tmp_path / "r.json"
    r.save(path)
    back = Reranker.load(path)
    assert back == r and back.depth == 7
    data = json.loads(path.read_text())
    data["features"] = data["features"][:-1]
    with pytest.raises(ValueError, match="other features"):
        Reranker.from_json(data)
    data = r.to_json()
    data["weights"] = data["weights"][:-1]
    with pytest.raises(ValueError, match="weights"):
        Reranker.from_json(data)


def test_features_read_words_places_and_documents():
    texts = ["Osteonecrosis is bone death.", "Core decompression drills the hip.", "Tantalum rods were used.",
             "Bone death in the hip is osteonecrosis."]
    owner = np.array([0, 0, 1, 1])
    facts = RowFacts(texts.__getitem__, owner, ["patient_education", "marketing"].__getitem__, stem=False)
    assert facts.position.tolist() == [0, 1, 0, 1]
    rows = Rows(rows=np.array([3, 0, 2]), scores=np.array([1.0, 0.9, 0.5]), dense=np.array([0.7, 0.6, np.nan]),
                bm25=np.array([4.0, 2.0, 0.0]), dense_rank=np.array([1, 2, 0]), bm25_rank=np.array([1, 2, 0]),
                answer=np.zeros(3), definition=np.array([0.0, 1.0, 0.0]), kind=np.zeros(3),
                title_dense=np.array([0.3, 0.2, 0.1]), title_bm25=np.zeros(3))
    x = features(rows, Question(["osteonecrosis", "hip"], False, True, 0.75, 4.0), facts)
    f = {name: x[:, i].tolist() for i, name in enumerate(FEATURES)}
    assert x.shape == (3, N)
    assert f["coverage"] == [1.0, 0.5, 0.0]  # row 3 holds both words, row 0 one, row 2 none
    assert f["weighted_coverage"][0] == pytest.approx(1.0) and 0 < f["weighted_coverage"][1] < 1
    assert f["document_rank"] == [0, 1, 0] and f["rows_of_document_above"] == [0, 0, 1]
    assert f["document_gap"] == pytest.approx([0.0, 0.0, 0.5])  # row 2 sits 0.5 under its document's best row
    assert f["first_of_document"] == [0.0, 1.0, 1.0]
    assert f["source_marketing"] == [1.0, 0.0, 1.0] and f["source_patient_education"] == [0.0, 1.0, 0.0]
    assert f["bm25_share"] == [1.0, 0.5, 0.0] and f["dense_gap"] == pytest.approx([-0.05, -0.15, -0.75])
    assert f["dense"][2] == 0.0  # a row with no cosine reads 0, not nan
    assert f["log_dense_rank"][2] == pytest.approx(np.log1p(300))  # not returned by the dense search
    assert f["asks_definition"] == [1.0] * 3 and f["definition"] == [0.0, 1.0, 0.0]
    assert set(SOURCE_TYPES) == {n.removeprefix("source_") for n in FEATURES if n.startswith("source_")}


def test_fit_learns_which_feature_marks_the_quotable_row():
    rng = np.random.default_rng(0)
    blocks, labels = [], []
    for _ in range(40):
        x = rng.normal(size=(10, N))
        y = np.zeros(10, dtype=int)
        y[int(np.argmax(x[:, FEATURES.index("weighted_coverage")]))] = 1
        blocks.append(x)
        labels.append(y)
    blocks.append(rng.normal(size=(10, N)))
    labels.append(np.zeros(10, dtype=int))  # no positive: teaches nothing and is left out
    r = fit(blocks, labels, depth=10)
    w = np.asarray(r.weights)
    assert int(np.argmax(w)) == FEATURES.index("weighted_coverage") and r.depth == 10
    with pytest.raises(ValueError, match="no question"):
        fit(blocks[-1:], labels[-1:], depth=10)


def test_the_shipped_reranker_was_learned_on_dev_and_orders_the_products_first_rows(retriever):
    shipped = shipped_reranker()
    assert shipped is not None and retriever.searcher.reranker is shipped
    assert "split dev" in shipped.meta["source"] and shipped.meta["dev_hit1_cv"] > shipped.meta["dev_hit1_without"]
    searcher = retriever.searcher
    q = retriever.query("which tissues in the body contain mesenchymal stem cells")
    reranked = searcher.rank(q)
    fused = searcher.rank(q, settings=searcher.settings.replace(rerank=False))
    depth = shipped.depth
    assert set(reranked.rows[:depth].tolist()) == set(fused.rows[:depth].tolist())
    assert reranked.rows[depth:].tolist() == fused.rows[depth:].tolist()
    assert (np.diff(reranked.scores) <= 1e-12).all()
    rows, x = searcher.reranker_input(q, depth)
    assert rows.tolist() == fused.rows[:depth].tolist() and x.shape == (depth, N)
    p = shipped.probabilities(x)
    assert reranked.rows[0] == rows[int(np.argmax(p))]
    # The sentence naming the tissues comes first; the fused ranking led with one about bone healing.
    assert retriever.index.passages[int(reranked.rows[0])].text.startswith("MSCs are found in numerous human tissues")
    assert not retriever.index.passages[int(fused.rows[0])].text.startswith("MSCs are found")


def test_rerank_is_a_true_or_false_setting():
    from edubot.retrieve import RankingSettings

    assert RankingSettings.from_json({"rerank": True}).rerank and not RankingSettings().rerank
    with pytest.raises(ValueError, match="rerank"):
        RankingSettings.from_json({"rerank": 1})


def test_the_reranker_applies_only_to_the_corpus_it_was_learned_on(retriever):
    from edubot.rerank import reranker_for_corpus

    shipped = shipped_reranker()
    assert shipped is not None
    own = retriever.index.manifest["corpus_hash"]
    assert reranker_for_corpus(own) is shipped
    assert reranker_for_corpus("0" * 64) is None and reranker_for_corpus(None) is None
