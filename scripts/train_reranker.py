"""Learn the bundled corpus's reranker (``src/edubot/reranker.json``) from the question set's dev split.

    .venv/bin/python scripts/train_reranker.py --folds 5 --write

Each answerable dev question is read as the product reads it (triage's spelling, the question
first, the query map), its first ``--depth`` rows before any reranking get their features
(``Searcher.reranker_input``), and every row holding one of its labelled quotes is a positive.
``--folds K`` first reports, over ``--repeats`` random cuts of the dev questions into K folds, the
answers' hit@1 and hit@5 with no reranker and with one learned on the other folds (the full answer:
abstention, selection and groups, as `edubot eval` reads them). Only the dev split is read; test
questions are never loaded.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np

from edubot.answer import answerer_for
from edubot.cli import _config
from edubot.config import PROJECT_ROOT
from edubot.evaluate import is_relevant, load_questions
from edubot.rerank import RERANKER_FILE, fit
from edubot.retrieve import open_retriever


def hits(answerer, questions) -> dict[str, tuple[bool, bool]]:
    """Per question: a labelled quote first, and among the first five, in the product's answer."""
    out = {}
    for q in questions:
        rel = [is_relevant(p.passage.text, q.quotes) for p in answerer.answer(q.question).passages]
        out[q.id] = (bool(rel and rel[0]), any(rel[:5]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "questions.jsonl")
    ap.add_argument("--corpus", help="corpus folder (default: the bundled corpus/); its index follows it")
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--c", type=float, default=0.3, help="inverse regularisation of the logistic model")
    ap.add_argument("--folds", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--write", action="store_true", help=f"write the model learned on all dev to {RERANKER_FILE} "
                    "(it then applies to that corpus only)")
    args = ap.parse_args()

    questions = [q for q in load_questions(args.questions) if q.split == "dev" and q.expect == "answered"]
    if not questions:
        print(f"{args.questions}: no answerable dev questions", file=sys.stderr)
        return 2
    retriever = open_retriever(_config(argparse.Namespace(corpus=args.corpus, index=None, model=None)))
    answerer = answerer_for(retriever)
    searcher = retriever.searcher
    passages = retriever.index.passages
    blocks, labels = [], []
    for q in questions:
        text = answerer.triager.read(q.question).corrected
        rows, x = searcher.reranker_input(retriever.query(text, answerer._query_vector(text)), args.depth)
        blocks.append(x)
        labels.append(np.array([int(is_relevant(passages[int(r)].text, q.quotes)) for r in rows.tolist()]))
    print(f"{len(questions)} answerable dev questions; {sum(int(y.any()) for y in labels)} with a labelled quote "
          f"among their first {args.depth} rows")

    shipped = searcher.reranker
    searcher.settings = searcher.settings.replace(rerank=True)  # the folds' models are read whatever is shipped
    meta: dict = {"learned": datetime.date.today().isoformat(), "questions": len(questions), "c": args.c,
                  "source": f"{args.questions.name}, split dev", "corpus_hash": retriever.index.manifest.get("corpus_hash")}
    if args.folds:
        searcher.reranker = None
        base = hits(answerer, questions)
        h1, h5, won, lost = [], [], [], []
        for seed in range(args.repeats):
            fold = np.random.default_rng(seed).permutation(len(questions)) % args.folds
            cv: dict[str, tuple[bool, bool]] = {}
            for k in range(args.folds):
                train = [i for i in range(len(questions)) if fold[i] != k]
                searcher.reranker = fit([blocks[i] for i in train], [labels[i] for i in train], args.depth, args.c)
                cv.update(hits(answerer, [q for i, q in enumerate(questions) if fold[i] == k]))
            h1.append(np.mean([v[0] for v in cv.values()]))
            h5.append(np.mean([v[1] for v in cv.values()]))
            won.append(sum(cv[i][0] and not base[i][0] for i in cv))
            lost.append(sum(base[i][0] and not cv[i][0] for i in cv))
        b1, b5 = np.mean([v[0] for v in base.values()]), np.mean([v[1] for v in base.values()])
        print(f"dev, no reranker:            hit@1 {b1:.3f}  hit@5 {b5:.3f}")
        print(f"dev, cross-validated ({args.folds} folds x {args.repeats}): hit@1 {np.mean(h1):.3f} "
              f"({min(h1):.3f}-{max(h1):.3f})  hit@5 {np.mean(h5):.3f}  hit@1 gained {np.mean(won):.1f}, lost {np.mean(lost):.1f}")
        meta.update({"dev_hit1_without": round(float(b1), 4), "dev_hit5_without": round(float(b5), 4),
                     "dev_hit1_cv": round(float(np.mean(h1)), 4), "dev_hit5_cv": round(float(np.mean(h5)), 4),
                     "folds": args.folds, "repeats": args.repeats})
    model = fit(blocks, labels, args.depth, args.c, meta)
    searcher.reranker = shipped
    if args.write:
        model.save(RERANKER_FILE)
        print(f"wrote {RERANKER_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
