"""Learn a benchmark's ranking settings on a tuning split (never on test), with cross-validation.

    .venv/bin/python scripts/tune_beir.py ../shared/bench/nfcorpus --split train --split dev --cache /work/cache --write
    .venv/bin/python scripts/tune_beir.py ../shared/bench/medquad --split dev --folds 5 --cache /work/cache --write

Each question's candidates are computed once by the product's ``Searcher``
(``evaluate.build_engine``); every setting tried is then ordered by the same
``Searcher.order`` that answers use. The weights of the four score columns, the
fusion, the feedback and the intent bonuses are chosen by coordinate ascent on
nDCG@10 (Metzler & Croft's linear feature-based model). With ``--folds K`` the
split is also cut into K folds: settings learned on K-1 folds are measured on
the fold left out, so the reported figure is one the tuning never saw. When the
split's questions carry their kind (MedQuAD), the kind model is learned anew on
each fold's other folds too (``evaluate.train_kinds_on``), so no held-out
question's kind, nor its answer's, was seen by it.
``--query-map-from train`` first learns a query map (``querymap.py``) from another
split's judged questions, then tunes the weights on ``--split`` with questions
read through it: the map has seen the training questions, so weights tuned on
them would trust the mapped dense score too much, and the two splits must differ.
``--write`` saves the settings learned on the whole split to
``eval/ranking/<dataset>.json`` (and the map beside it as
``<dataset>.querymap.npz``), which ``edubot eval-beir`` then uses.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from pathlib import Path

from edubot.config import Config
from edubot.embed import get_embedder
from edubot.evaluate import (
    RANKING_DIR,
    BeirEngine,
    baseline_settings,
    build_engine,
    load_beir,
    metrics,
    query_map_path,
    train_kinds_on,
    train_query_map_on,
)
from edubot.fusion import Fusion
from edubot.kinds import KindModel
from edubot.retrieve import Candidates, RankingSettings

GRID = {
    "bm25_weight": (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5),
    "title_dense_weight": (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0),
    "title_bm25_weight": (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0),
    "answer_type_bonus": (0.0, 0.05, 0.1, 0.2, 0.3, 0.5),
    "definition_bonus": (0.0, 0.05, 0.1, 0.2, 0.3, 0.5),
    "kind_bonus": (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0),
    "prf": ((0, 0.0), (3, 0.25), (3, 0.5), (5, 0.5), (10, 1.0)),
}
START = RankingSettings(fusion=Fusion.MINMAX, dense_weight=1.0, bm25_weight=0.5, title_dense_weight=0.0,
                        title_bm25_weight=0.0, candidates=200, prf_docs=0, prf_weight=0.0, answer_type_bonus=0.0,
                        definition_bonus=0.0, kind_bonus=0.0)


def ndcg(engine: BeirEngine, cands: dict[str, Candidates], qids: list[str], s: RankingSettings) -> float:
    beir = engine.beir
    run = {q: {beir.doc_ids[d]: score for d, score in engine.documents(engine.searcher.order(cands[q], s))} for q in qids}
    return metrics({q: beir.qrels[q] for q in qids}, run)["ndcg@10"]


def with_value(s: RankingSettings, key: str, value) -> RankingSettings:
    if key == "prf":
        return s.replace(prf_docs=value[0], prf_weight=value[1])
    return s.replace(**{key: value})


def with_kinds(cands: dict[str, Candidates], model: KindModel) -> dict[str, Candidates]:
    """The candidates with their kind scores read by ``model`` (from the vectors they already hold)."""
    return {q: c._replace(kind=model.agreement(c.vector, c.stored)) if c.vector is not None and c.stored is not None
            else c for q, c in cands.items()}


def ascend(engine: BeirEngine, cands: dict[str, Candidates], qids: list[str], rounds: int = 3) -> tuple[RankingSettings, float]:
    """Coordinate ascent from ``START`` for each fusion; the best setting on ``qids`` wins (ties: the simpler)."""
    best_overall: tuple[RankingSettings, float] | None = None
    for fusion in (Fusion.MINMAX, Fusion.ZSCORE):
        s = START.replace(fusion=fusion)
        score = ndcg(engine, cands, qids, s)
        for _ in range(rounds):
            improved = False
            for key, values in GRID.items():
                for value in values:
                    trial = with_value(s, key, value)
                    if trial == s:
                        continue
                    got = ndcg(engine, cands, qids, trial)
                    if got > score + 1e-4:
                        s, score, improved = trial, got, True
            if not improved:
                break
        if best_overall is None or score > best_overall[1] + 1e-4:
            best_overall = (s, score)
    assert best_overall is not None
    return best_overall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--split", required=True, action="append",
                        help="a tuning split (dev or train; give it twice to tune on both); never test")
    parser.add_argument("--folds", type=int, default=0, help="also cross-validate within the split with this many folds")
    parser.add_argument("--cache", default=".edubot/cache")
    parser.add_argument("--query-map-from", metavar="SPLIT",
                        help="learn a query map on this split first (not test, not a tuning split)")
    parser.add_argument("--shrink", type=float, default=0.003, help="query map: pull toward the identity")
    parser.add_argument("--epochs", type=int, default=6, help="query map: passes over its questions")
    parser.add_argument("--write", action="store_true", help="save the settings to eval/ranking/<dataset>.json")
    args = parser.parse_args()
    if "test" in args.split or args.query_map_from == "test":
        sys.exit("tune_beir: never tune on a test split")
    if args.query_map_from in args.split:
        sys.exit("tune_beir: the query map's split must not be a tuning split")
    split = "+".join(args.split)
    cfg = Config()
    embedder = get_embedder(cfg.model)
    parts = [load_beir(args.folder, name) for name in args.split]
    beir = dataclasses.replace(parts[0], queries={q: t for b in parts for q, t in b.queries.items()},
                               qrels={q: d for b in parts for q, d in b.qrels.items()},
                               kinds={q: k for b in parts for q, k in b.kinds.items()})
    query_map = None
    if args.query_map_from:
        source = load_beir(args.folder, args.query_map_from)
        mapping, _ = build_engine(source, START, cfg, embedder, Path(args.cache), progress=True)
        source_qids = list(source.queries)
        print(f"learning a query map on {args.query_map_from} ({len(source_qids)} queries)...", file=sys.stderr, flush=True)
        query_map = train_query_map_on(mapping, source_qids, mapping.queries([source.queries[q] for q in source_qids]),
                                       args.query_map_from, shrink=args.shrink, epochs=args.epochs)
    engine, _ = build_engine(beir, START, cfg, embedder, Path(args.cache), progress=True, query_map=query_map)
    qids = list(beir.queries)
    print(f"{beir.name} {split}: {len(qids)} queries; reading them and their candidates...", file=sys.stderr, flush=True)
    read = engine.queries([beir.queries[q] for q in qids])
    cands = {q: engine.searcher.candidates(query, START.candidates) for q, query in zip(qids, read)}
    print("candidates ready; tuning...", file=sys.stderr, flush=True)

    report: dict = {"dataset": beir.name, "split": split, "queries": len(qids),
                    "query_map": query_map.meta if query_map is not None else None}
    if args.folds > 1:
        shuffled = qids[:]
        random.Random(0).shuffle(shuffled)
        folds = [shuffled[i :: args.folds] for i in range(args.folds)]
        held: dict[str, list[float]] = {"tuned": [], **{name: [] for name in ("bm25", "dense", "rrf", "minmax")}}
        position = {q: i for i, q in enumerate(qids)}
        for i, fold in enumerate(folds):
            left_out = set(fold)
            train = [q for q in shuffled if q not in left_out]
            fold_cands = cands
            if beir.kinds:
                model = train_kinds_on(engine, train, [read[position[q]] for q in train])
                fold_cands = with_kinds(cands, model)
            s, _ = ascend(engine, fold_cands, train)
            held["tuned"].append(ndcg(engine, fold_cands, fold, s) * len(fold))
            for name in ("bm25", "dense", "rrf", "minmax"):
                held[name].append(ndcg(engine, fold_cands, fold, baseline_settings(name, s)) * len(fold))
            print(f"fold {i + 1}/{args.folds}: held-out nDCG@10 {held['tuned'][-1] / len(fold):.4f} with {s.to_json()}", flush=True)
        report["cross_validated_ndcg@10"] = {name: round(sum(v) / len(qids), 4) for name, v in held.items()}
        print("cross-validated nDCG@10 (each fold scored by settings learned without it):",
              report["cross_validated_ndcg@10"], flush=True)
    settings, score = ascend(engine, cands, qids)
    report["ndcg@10_on_tuning_split"] = round(score, 4)
    report["settings"] = settings.to_json()
    print(f"learned on all of {split}: nDCG@10 {score:.4f} with {settings.to_json()}", flush=True)
    if args.write:
        RANKING_DIR.mkdir(parents=True, exist_ok=True)
        path = RANKING_DIR / f"{beir.name}.json"
        path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")
        mapped = query_map_path(path)
        if query_map is not None:
            query_map.save(mapped)
            print(f"wrote {mapped}")
        elif mapped.exists():
            mapped.unlink()
            print(f"removed {mapped} (these settings were learned without a query map)")


if __name__ == "__main__":
    main()
