"""Shorter answers without changing a word: reading grade, merged limitations, plainer quotes first."""

import numpy as np

from edubot.shorten import merge_near_duplicates, plainer_first, reading_grade


def test_reading_grade_orders_plain_before_technical():
    assert reading_grade("The bone got better. The pain went away.") < reading_grade(
        "Autologous adipose tissue-derived mesenchymal stem cells regenerated osteonecrotic femoral heads.")


def test_the_case_reports_duplicate_limitations_are_merged(corpus, embedder):
    meta = corpus.get("pak-2012-adsc-case-report").meta
    lims = sorted(meta.limitations, key=lambda lim: not lim.key)
    texts = [lim.text for lim in lims]
    groups = merge_near_duplicates(texts, embedder.encode(texts), meta.title)
    merged = [[texts[i][:20] for i in g] for g in groups if len(g) > 1]
    assert ["No biopsy was done i", "Patients declined bi"] in merged  # both about the biopsy
    assert any(g[0].startswith("Neovascularization") and g[1].startswith("Neovascularization") for g in merged)
    assert sum(len(g) for g in groups) == len(texts)  # nothing lost
    assert all(len(g) == 2 for g in merged) and len(merged) <= 4


def test_other_documents_limitations_stay_apart(corpus, embedder):
    for doc in corpus.documents:
        texts = [lim.text for lim in doc.meta.limitations]
        if doc.id != "pak-2012-adsc-case-report" and len(texts) > 1:
            groups = merge_near_duplicates(texts, embedder.encode(texts), doc.meta.title)
            assert all(len(g) == 1 for g in groups), doc.id


def test_merge_rule_needs_a_specific_shared_word():
    v = np.eye(3, dtype=np.float32)
    v[1] = v[0] * 0.6 + v[1] * 0.8  # cosine 0.6 with the first
    texts = ["The biopsy was not done", "Patients declined a biopsy", "Follow-up was short"]
    assert merge_near_duplicates(texts, v) == [[0, 1], [2]]
    assert merge_near_duplicates(["Alpha beta gamma", "Delta epsilon", "Zeta"], v) == [[0], [1], [2]]


def test_plainer_first_only_among_equal_scores():
    items = [("hard", 1.0, 14.0), ("plain", 0.995, 6.0), ("lower", 0.5, 1.0)]
    out = plainer_first(items, lambda x: x[1], lambda x: x[2])
    assert [x[0] for x in out] == ["plain", "hard", "lower"]
    assert plainer_first([], lambda x: 0, lambda x: 0) == []
