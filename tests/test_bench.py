"""`edubot bench`'s cold-start measurement: whole processes, their own peak memory, failures named."""

from __future__ import annotations

import sys

import pytest
from conftest import CORPUS

from edubot import bench


def test_peak_memory_is_the_child_process_own():
    small = bench._measure([sys.executable, "-c", "pass"])
    big = bench._measure([sys.executable, "-c", "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096])"])
    assert small[2] == 0 and big[2] == 0
    assert big[1] >= 300 > small[1]
    assert small[0] > 0


def test_cold_start_reports_ask_beside_the_bare_import(built, cfg_index):
    ask_args = ["--corpus", str(CORPUS), "--index", str(cfg_index.index_dir)]
    report = bench.cold_start(ask_args, runs=1, questions=("osteonecrosis",))
    rows = {r["command"]: r for r in report["rows"]}
    assert set(rows) == {"ask osteonecrosis", "import sentence_transformers"}
    for row in rows.values():
        assert len(row["seconds"]) == 1 and row["median_s"] > 0 and row["median_peak_mb"] > 0
    ask, bare = rows["ask osteonecrosis"], rows["import sentence_transformers"]
    assert ask["ratio_to_import"] == round(ask["median_s"] / bare["median_s"], 3)
    text = bench.format_cold(report)
    assert "ask osteonecrosis" in text and "import sentence_transformers" in text and "of the bare import" in text


def test_a_failing_ask_is_named_not_timed(tmp_path):
    with pytest.raises(RuntimeError, match="exit code 2"):
        bench.cold_start(["--corpus", str(tmp_path / "missing")], runs=1, questions=("osteonecrosis",))
