"""Grid search of retrieval settings on a BEIR dev split (never on test).

    .venv/bin/python scripts/tune_beir.py ../shared/bench/nfcorpus dev

Uses the cached window embeddings from `edubot eval-beir`; prints nDCG@10 per setting.
"""

from __future__ import annotations

import sys
from pathlib import Path


from edubot.config import Config
from edubot.embed import get_embedder
from edubot.evaluate import build_engine, load_beir, metrics, with_abbreviations
from edubot.index import SearchCore, bm25_tokens, build_bm25


def main(folder: str, split: str) -> None:
    base = Config()
    embedder = get_embedder(base.model)
    beir, _ = with_abbreviations(load_beir(Path(folder), split))
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

    k1, b = 1.5, 0.6  # best BM25 on dev (first grid: k1 0.9-1.5 x b 0.6-0.9)
    core = SearchCore(None, build_bm25([bm25_tokens(t, True) for t in beir.doc_texts], k1, b), len(beir.doc_texts))
    engine.docs = core
    base = base.replace(bm25_k1=k1, bm25_b=b)
    for fusion, wd, rrf_k in (("rrf", 1.0, 10), ("linear", 0.5, 60), ("linear", 0.6, 60)):
        for m, beta in ((0, 0.0), (3, 0.5), (5, 0.5), (5, 1.0), (10, 1.0), (10, 2.0), (20, 2.0)):
            cfg = base.replace(fusion=fusion, dense_weight=wd, bm25_weight=(1.0 if fusion == "rrf" else 1 - wd), rrf_k=rrf_k,
                               prf_docs=m, prf_weight=beta)
            m_ = evaluate(cfg)
            print(f"{fusion} wd={wd} k={rrf_k} prf m={m} beta={beta}: ndcg@10 {m_['ndcg@10']:.4f} r@100 {m_['recall@100']:.4f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
