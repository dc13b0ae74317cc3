"""Serial warm latency of full answers, torch encoder vs ONNX, same process, same index, taking turns.

    .venv/bin/python scripts/warm_encoders.py
"""
import time, numpy as np
from edubot.config import Config
from edubot.embed import get_embedder, Encoder
from edubot.index import load_index
from edubot.retrieve import Retriever
from edubot.answer import answerer_for
from edubot.bench import LOAD_QUESTIONS
cfg = Config()
index = load_index(cfg.index_dir)
ans = {e: answerer_for(Retriever(index, get_embedder(cfg.model, e), cfg)) for e in (Encoder.SENTENCE_TRANSFORMERS, Encoder.ONNX)}
qs = list(LOAD_QUESTIONS) * (200 // len(LOAD_QUESTIONS) + 1)
for a in ans.values():
    for q in qs[:20]: a.answer(q)
t = {e: [] for e in ans}
for q in qs[:200]:
    for e, a in ans.items():
        s = time.perf_counter(); a.answer(q); t[e].append(time.perf_counter() - s)
for e, v in t.items():
    print(e.value, "p50 %.1f ms p95 %.1f ms" % (np.percentile(v, 50) * 1000, np.percentile(v, 95) * 1000))
