"""Exact scores of each fusion method on small hand-computed cases (in the manner of ranx's tests)."""

import numpy as np
import pytest

from edubot.fusion import Fusion, minmax, ranks, rrf, zscore

NAN = float("nan")


def test_ranks_by_descending_score_ties_in_order_missing_nowhere():
    assert ranks(np.array([0.2, 0.9, NAN, 0.2])).tolist() == [2, 1, np.inf, 3]


def test_rrf_exact_scores():
    dense = np.array([0.9, 0.8, 0.7])  # rows a, b, c
    bm25 = np.array([4.0, NAN, 5.0])  # b not retrieved by BM25
    out = rrf([dense, bm25], [1.0, 1.0], k=60)
    assert out == pytest.approx([1 / 61 + 1 / 62, 1 / 62, 1 / 63 + 1 / 61])
    weighted = rrf([dense, bm25], [2.0, 0.5], k=10)
    assert weighted == pytest.approx([2 / 11 + 0.5 / 12, 2 / 12, 2 / 13 + 0.5 / 11])


def test_minmax_exact_scores():
    dense = np.array([0.9, 0.5, 0.7])
    bm25 = np.array([10.0, 2.0, NAN])  # a missing score counts as the minimum
    out = minmax([dense, bm25], [0.6, 0.4])
    assert out == pytest.approx([0.6 * 1 + 0.4 * 1, 0.6 * 0 + 0.4 * 0, 0.6 * 0.5 + 0.4 * 0])


def test_minmax_constant_column_adds_nothing():
    assert minmax([np.array([3.0, 3.0]), np.array([1.0, 0.0])], [1.0, 1.0]) == pytest.approx([1.0, 0.0])


def test_zscore_exact_scores():
    dense = np.array([1.0, 2.0, 3.0])  # mean 2, population std sqrt(2/3)
    bm25 = np.array([NAN, 4.0, 0.0])  # missing → lowest present (0): [0, 4, 0], mean 4/3, std sqrt(32/9)
    out = zscore([dense, bm25], [1.0, 0.5])
    sd, sb = np.sqrt(2 / 3), np.sqrt(32 / 9)
    expected = [(1 - 2) / sd + 0.5 * (0 - 4 / 3) / sb, 0 + 0.5 * (4 - 4 / 3) / sb, (3 - 2) / sd + 0.5 * (0 - 4 / 3) / sb]
    assert out == pytest.approx(expected)


def test_zero_weight_columns_are_ignored_and_mismatch_is_an_error():
    assert rrf([np.array([1.0, 2.0]), np.array([NAN, NAN])], [1.0, 0.0]) == pytest.approx([1 / 62, 1 / 61])
    with pytest.raises(ValueError, match="2 score columns but 1 weights"):
        minmax([np.array([1.0]), np.array([2.0])], [1.0])


def test_enum_dispatches_to_one_function_per_method():
    cols = [np.array([0.9, 0.1, 0.5]), np.array([1.0, 3.0, 2.0])]
    weights = [1.0, 0.5]
    assert Fusion("rrf").fuse(cols, weights, 5) == pytest.approx(rrf(cols, weights, 5))
    assert Fusion("minmax").fuse(cols, weights) == pytest.approx(minmax(cols, weights))
    assert Fusion("zscore").fuse(cols, weights) == pytest.approx(zscore(cols, weights))
    with pytest.raises(ValueError):
        Fusion("linear")
