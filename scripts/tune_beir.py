"""Grid search of retrieval settings on a BEIR dev split (never on test).

    .venv/bin/python scripts/tune_beir.py ../shared/bench/nfcorpus dev

Uses the cached window embeddings from `edubot eval-beir`; prints nDCG@10 per setting.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

from edubot.config import Config
from edubot.embed import get_embedder
from edubot.evaluate import build_engine, load_beir, metrics
from edubot.index import SearchCore, bm25_tokens, build_bm25


def main(folder: str, split: str) -> None:
    base = Config()
    embedder = get_embedder(base.model)
    beir = load_beir(Path(folder), split)
    engine, _ = build_engine(beir, base, embedder, base.index_dir.parent / "cache")
    qids = list(beir.queries)
    qvecs = embedder.encode([beir.queries[q] for q in qids])

    def evaluate(cfg: Config, system: str = "hybrid", sparse_core=None) -> dict:
        engine.cfg = cfg
        if sparse_core is not None:
            engine.docs = sparse_core
        run = {}
        for q, v in zip(qids, qvecs):
            tokens = bm25_tokens(beir.queries[q], cfg.stem)
            run[q] = {beir.doc_ids[r]: s for r, s in engine.run(system, v, tokens, 100)}
        return metrics(beir.qrels, run)

    sparse_cache = {}
    for k1, b in itertools.product((0.9, 1.2, 1.5), (0.6, 0.75, 0.9)):
        cfg = base.replace(bm25_k1=k1, bm25_b=b)
        core = SearchCore(None, build_bm25([bm25_tokens(t, True) for t in beir.doc_texts], k1, b), len(beir.doc_texts))
        sparse_cache[(k1, b)] = core
        m = evaluate(cfg, "bm25", core)
        print(f"bm25 k1={k1} b={b}: ndcg@10 {m['ndcg@10']:.4f}", flush=True)
    best_kb = max(sparse_cache, key=lambda kb: evaluate(base.replace(bm25_k1=kb[0], bm25_b=kb[1]), "bm25", sparse_cache[kb])["ndcg@10"])
    print("best bm25", best_kb, flush=True)
    core = sparse_cache[best_kb]
    for rrf_k, wd in itertools.product((5, 10, 20, 60), (1.0, 1.5, 2.0)):
        cfg = base.replace(fusion="rrf", rrf_k=rrf_k, dense_weight=wd, bm25_weight=1.0, bm25_k1=best_kb[0], bm25_b=best_kb[1])
        m = evaluate(cfg, "hybrid", core)
        print(f"rrf k={rrf_k} wd={wd}: ndcg@10 {m['ndcg@10']:.4f} r@100 {m['recall@100']:.4f}", flush=True)
    for wd in (0.5, 0.6, 0.7, 0.8):
        cfg = base.replace(fusion="linear", dense_weight=wd, bm25_weight=1 - wd, bm25_k1=best_kb[0], bm25_b=best_kb[1])
        m = evaluate(cfg, "hybrid", core)
        print(f"linear wd={wd}: ndcg@10 {m['ndcg@10']:.4f} r@100 {m['recall@100']:.4f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
