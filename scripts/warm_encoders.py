"""Warm latency of full answers with the torch encoder and with the ONNX export, side by side.

    .venv/bin/python scripts/warm_encoders.py

One process, one loaded index, two answerers that differ only in their encoder; they take turns on
the same questions, so both see the same load. Issue 14 asked that warm p95 stay unchanged or better.
"""

from __future__ import annotations

import time

import numpy as np

from edubot.answer import answerer_for
from edubot.bench import LOAD_QUESTIONS
from edubot.config import Config
from edubot.embed import Encoder, get_embedder
from edubot.index import load_index
from edubot.retrieve import Retriever

QUESTIONS = 200
WARM_UP = 20


def main() -> None:
    cfg = Config()
    index = load_index(cfg.index_dir)
    answerers = {e: answerer_for(Retriever(index, get_embedder(cfg.model, e), cfg))
                 for e in (Encoder.SENTENCE_TRANSFORMERS, Encoder.ONNX)}
    questions = (list(LOAD_QUESTIONS) * (QUESTIONS // len(LOAD_QUESTIONS) + 1))[:QUESTIONS]
    for answerer in answerers.values():
        for q in questions[:WARM_UP]:
            answerer.answer(q)
    seconds: dict[Encoder, list[float]] = {e: [] for e in answerers}
    for q in questions:
        for encoder, answerer in answerers.items():
            started = time.perf_counter()
            answerer.answer(q)
            seconds[encoder].append(time.perf_counter() - started)
    for encoder, got in seconds.items():
        p50, p95 = np.percentile(got, 50) * 1000, np.percentile(got, 95) * 1000
        print(f"{encoder.value:24} p50 {p50:.1f} ms  p95 {p95:.1f} ms  ({len(got)} answers)")


if __name__ == "__main__":
    main()
