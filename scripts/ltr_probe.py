"""Probe: would a learned ranker (LambdaMART) beat NFCorpus's tuned linear fusion? Not part of the product.

    .venv/bin/pip install lightgbm   # not a dependency of EduBot
    .venv/bin/python scripts/ltr_probe.py --cache /work/cache

Trains lightgbm on NFCorpus **train** over the features the product's ``Searcher`` already computes
for each candidate window (cosine, BM25, title cosine and BM25, their z-scores within the question,
the feedback cosine, both ranks, the tuned fused score), labels each window with its document's
grade, scores a document by its best window, and reports nDCG@10 on **dev** beside the tuned
setting (``eval/ranking/nfcorpus.json``, itself learned on train and dev: its dev figure is in-sample
and flatters it). Never reads test. Measured 2026-11-23: see README "BEIR benchmarks".
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from edubot.config import Config
from edubot.embed import get_embedder
from edubot.evaluate import BeirEngine, build_engine, load_beir, metrics, ranking_settings_for
from edubot.retrieve import Query, RankingSettings

CONFIGS = (
    {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 50, "n_estimators": 300},
    {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 100, "n_estimators": 500},
    {"objective": "regression", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 50, "n_estimators": 300},
)


def _z(x: np.ndarray) -> np.ndarray:
    x = np.nan_to_num(x, nan=0.0)
    spread = x.std()
    return (x - x.mean()) / spread if spread > 1e-9 else np.zeros_like(x)


def features(engine: BeirEngine, q: Query, tuned: RankingSettings) -> tuple[np.ndarray, np.ndarray]:
    """The candidate rows of one question and a feature row for each."""
    c = engine.searcher.candidates(q, tuned.candidates, answers=False, definitions=False)
    scored = engine.searcher.order(c, tuned)
    position = {int(r): i for i, r in enumerate(scored.rows)}
    fused = np.array([scored.scores[position[int(r)]] for r in c.rows])
    assert c.stored is not None and c.vector is not None
    moved = c.vector + tuned.prf_weight * c.stored[np.argsort(-fused)[: max(tuned.prf_docs, 1)]].mean(axis=0)
    feedback = c.stored @ (moved / np.linalg.norm(moved))
    dense = np.nan_to_num(c.dense)
    columns = [dense, c.bm25, c.title_dense, c.title_bm25, _z(dense), _z(c.bm25), _z(c.title_dense), _z(c.title_bm25),
               feedback, _z(feedback), np.log1p(c.dense_rank), np.log1p(c.bm25_rank), fused,
               dense - c.best_dense, c.bm25 / (c.best_bm25 or 1.0)]
    return c.rows, np.column_stack(columns)


def dataset(folder: Path, split: str, tuned: RankingSettings, cfg: Config, embedder, cache: Path):
    beir = load_beir(folder, split)
    engine, _ = build_engine(beir, tuned, cfg, embedder, cache)
    qids = list(beir.queries)
    blocks, labels, groups, owners = [], [], [], []
    for qid, q in zip(qids, engine.queries([beir.queries[i] for i in qids])):
        rows, x = features(engine, q, tuned)
        docs = engine.searcher.core.owner[rows]
        blocks.append(x)
        labels.append(np.array([beir.qrels[qid].get(beir.doc_ids[d], 0) for d in docs]))
        groups.append(len(rows))
        owners.append(docs)
    return beir, qids, np.vstack(blocks), np.concatenate(labels), groups, owners


def ndcg(model, beir, qids, x, groups, owners) -> float:
    predicted = model.predict(x)
    run: dict[str, dict[str, float]] = {}
    start = 0
    for qid, n, docs in zip(qids, groups, owners):
        best: dict[int, float] = {}
        for d, v in zip(docs.tolist(), predicted[start : start + n].tolist()):
            best[d] = max(best.get(d, -np.inf), v)
        run[qid] = {beir.doc_ids[d]: v for d, v in best.items()}
        start += n
    return metrics(beir.qrels, run)["ndcg@10"]


def main() -> None:
    import lightgbm

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=Path("../shared/bench/nfcorpus"))
    parser.add_argument("--cache", type=Path, default=Path(".edubot/cache"))
    args = parser.parse_args()
    cfg = Config()
    embedder = get_embedder(cfg.model)
    tuned, source = ranking_settings_for("nfcorpus", cfg)
    _, _, x_train, y_train, g_train, _ = dataset(args.folder, "train", tuned, cfg, embedder, args.cache)
    beir, qids, x_dev, _, g_dev, o_dev = dataset(args.folder, "dev", tuned, cfg, embedder, args.cache)
    print(f"tuned linear fusion ({source}): see `edubot eval-beir {args.folder} --split dev`")
    for params in CONFIGS:
        kwargs = {k: v for k, v in params.items() if k != "objective"}
        if params["objective"] == "lambdarank":
            model = lightgbm.LGBMRanker(verbose=-1, **kwargs)
            model.fit(x_train, y_train, group=g_train)
        else:
            model = lightgbm.LGBMRegressor(verbose=-1, **kwargs)
            model.fit(x_train, y_train)
        print(f"{params}: dev nDCG@10 {ndcg(model, beir, qids, x_dev, g_dev, o_dev):.4f}", flush=True)


if __name__ == "__main__":
    main()
