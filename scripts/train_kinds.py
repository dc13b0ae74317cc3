"""Learn the question-kind model (``src/edubot/kinds.json``) from a benchmark whose questions carry their kind.

    .venv/bin/python scripts/train_kinds.py ../shared/bench/medquad --split dev --cache /work/cache --write

MedQuAD's questions carry a ``qtype`` (information, symptoms, causes, treatment,
outlook, frequency, inheritance...). Each dev question's vector is a question
example of its kind, and each window of the documents judged relevant to it a
passage example of the same kind (``evaluate.train_kinds_on``). Only tuning
splits are read, never test. ``--folds K`` first reports how well held-out
questions' kinds are read (each fold by a model learned on the others).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from pathlib import Path

import numpy as np

from edubot.config import Config
from edubot.embed import get_embedder
from edubot.evaluate import build_engine, load_beir, train_kinds_on
from edubot.kinds import KINDS_FILE
from edubot.retrieve import RankingSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--split", required=True, action="append", help="a tuning split (dev or train); never test")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--c", type=float, default=4.0, help="inverse regularisation of both regressions")
    parser.add_argument("--cache", default=".edubot/cache")
    parser.add_argument("--write", action="store_true", help=f"save the model to src/edubot/{KINDS_FILE}")
    args = parser.parse_args()
    if "test" in args.split:
        sys.exit("train_kinds: never train on a test split")
    cfg = Config()
    parts = [load_beir(args.folder, name) for name in args.split]
    beir = dataclasses.replace(parts[0], queries={q: t for b in parts for q, t in b.queries.items()},
                               qrels={q: d for b in parts for q, d in b.qrels.items()},
                               kinds={q: k for b in parts for q, k in b.kinds.items()})
    engine, _ = build_engine(beir, RankingSettings(), cfg, get_embedder(cfg.model), Path(args.cache), progress=True,
                             kinds=None)
    qids = [q for q in beir.queries if q in beir.kinds]
    read = engine.queries([beir.queries[q] for q in qids])
    if args.folds > 1:
        shuffled = list(range(len(qids)))
        random.Random(0).shuffle(shuffled)
        right = 0
        for i in range(args.folds):
            held = set(shuffled[i :: args.folds])
            train = [j for j in range(len(qids)) if j not in held]
            model = train_kinds_on(engine, [qids[j] for j in train], [read[j] for j in train], args.c)
            for j in held:
                vector = read[j].vector
                assert vector is not None
                right += model.labels[int(np.argmax(model.question(vector)))] == beir.kinds[qids[j]]
        print(f"questions' kinds read right, held out: {right / len(qids):.3f} ({right}/{len(qids)})")
    model = train_kinds_on(engine, qids, read, args.c)
    model = dataclasses.replace(model, meta={**model.meta, "split": "+".join(args.split)})
    print(f"{len(model.labels)} kinds from {model.meta['questions']} questions and {model.meta['passages']} passages")
    if args.write:
        path = Path(__file__).resolve().parents[1] / "src" / "edubot" / KINDS_FILE
        path.write_text(json.dumps(model.to_json()) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
