"""The bundled corpus's ranking settings, measured on the dev banks' answerable messages.

Each answerable dev-bank message names the corpus file that answers it. Two readings:

- ranking (default): over a grid of fusions and weights, how often the first passage of the ranking
  comes from that file (leave-one-bank-out: the setting that is best on the other banks, read on the
  held-out one), beside the question set's dev split (a labelled quote in the first one / five passages);
- ``--answers NAME …``: the answer as a patient sees it (groups, marketing last), for named settings:
  how often the first quote comes from that file, and the file is among the quotes shown.

With the query map on (it is learned from the same banks), ``--map-folds K`` reads every bank
message through a map learned without its bank (the banks cut into K groups, as
``train_query_map.py --folds``), so the grid is not biased toward the mapped cosine the map was fitted
to; the question set's dev split is read through the shipped map.

Dev banks and the question set's dev split only; nothing here reads a test bank.

    .venv/bin/python scripts/tune_product.py
    .venv/bin/python scripts/tune_product.py --map-folds 4
    .venv/bin/python scripts/tune_product.py --answers shipped minmax-0.3
"""

from __future__ import annotations

import argparse
import glob
import json
import re

import numpy as np

from edubot.answer import answerer_for
from edubot.config import PROJECT_ROOT, Config
from edubot.evaluate import answering_files, train_query_map_on_files
from edubot.fusion import Fusion
from edubot.querymap import QueryMap
from edubot.retrieve import RankingSettings, open_retriever, question_first

NAMED = {
    "shipped": {},  # Config's defaults
    "minmax-0.3": {"fusion": "minmax", "bm25_weight": 0.3, "title_dense_weight": 0.0, "title_bm25_weight": 0.1},
    "zscore-0.5": {"fusion": "zscore", "bm25_weight": 0.5, "title_dense_weight": 0.0, "title_bm25_weight": 0.3},
    "zscore-1.0": {"fusion": "zscore", "bm25_weight": 1.0, "title_dense_weight": 0.2, "title_bm25_weight": 0.3},
    # the shipped fusion with the question-kind score (``kinds``) added
    "kinds-0.1": {"kind_bonus": 0.1},
    "kinds-0.3": {"kind_bonus": 0.3},
}


def bank_messages() -> list[tuple[str, str, str]]:
    return answering_files(sorted(glob.glob(str(PROJECT_ROOT / "eval" / "triage" / "dev*.jsonl"))))


def fold_maps(r, messages: list[tuple[str, str, str]], folds: int) -> dict[str, QueryMap]:
    """For each bank, a query map learned on the banks outside its group (``folds`` groups)."""
    indexed = {p.doc_id for p in r.index.passages}
    kept = [m for m in messages if m[2] in indexed]
    vectors = np.stack([r.encode_query(text) for _, text, _ in kept])
    names = sorted({b for b, _, _ in messages})
    out: dict[str, QueryMap] = {}
    for k in range(folds):
        held = set(names[k::folds])
        rows = [i for i, (b, _, _) in enumerate(kept) if b not in held]
        m = train_query_map_on_files(r, vectors[rows], [kept[i][2] for i in rows])
        out.update({b: m for b in held})
    return out


def ranking_grid(map_folds: int = 0) -> None:
    r = open_retriever(Config())
    searcher, shipped = r.searcher, r.searcher.settings
    owner = [p.doc_id for p in r.index.passages]

    def norm(s: str) -> str:
        return re.sub(r"\s+", " ", s).strip().lower()

    texts = [norm(p.text) for p in r.index.passages]

    def candidates(text: str, query_map: QueryMap | None = None):
        searched = question_first(text)
        vector = r.encode_query(text)
        if query_map is not None:  # a held-out bank's map, applied here instead of the shipped one
            q = searcher.query(searched, None, r.query_tokens(searched))._replace(vector=query_map.apply(vector), unmapped=vector)
        else:
            q = searcher.query(searched, vector, r.query_tokens(searched))
        return searcher.candidates(q, shipped.candidates)

    messages = bank_messages()
    maps = fold_maps(r, messages, map_folds) if map_folds > 1 and searcher.query_map is not None else {}
    if maps:
        print(f"bank messages read through maps learned without their bank ({map_folds} groups)")
    bank = [(b, candidates(m, maps.get(b)), src) for b, m, src in messages]
    questions = []
    for line in (PROJECT_ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("split") == "dev" and row["expect"] == "answered":
            relevant = {i for i, t in enumerate(texts) if any(norm(q) in t for q in row["quotes"])}
            questions.append((candidates(row["question"]), relevant))
    grid = [shipped] + [shipped.replace(fusion=f, bm25_weight=bw, title_dense_weight=td, title_bm25_weight=tb)
                        for f in Fusion for bw in (0.0, 0.3, 0.5, 0.75, 1.0, 1.25, 1.5)
                        for td in (0.0, 0.2, 0.5) for tb in (0.0, 0.1, 0.3, 0.5)]

    def read(s: RankingSettings) -> tuple[np.ndarray, float, float]:
        first = np.array([owner[int(searcher.order(c, s).rows[0])] == src for _, c, src in bank], dtype=float)
        at1 = at5 = 0
        for c, relevant in questions:
            rows = [int(x) for x in searcher.order(c, s).rows[:5]]
            at1 += bool(rows) and rows[0] in relevant
            at5 += any(x in relevant for x in rows)
        return first, at1 / len(questions), at5 / len(questions)

    results = [read(s) for s in grid]
    table = sorted(((float(f.mean()), q1, q5, s) for (f, q1, q5), s in zip(results, grid)),
                   key=lambda t: t[0], reverse=True)
    print(f"{len(bank)} dev-bank messages, {len(questions)} question-set dev questions")
    print(f"shipped: bank first {results[0][0].mean():.4f}, questions @1 {results[0][1]:.3f} @5 {results[0][2]:.3f}")
    for first, q1, q5, s in table[:15]:
        print(f"{first:.4f}  @1 {q1:.3f} @5 {q5:.3f}  {s.fusion.value} {s.bm25_weight} {s.title_dense_weight} {s.title_bm25_weight}")
    firsts = np.array([f for f, _, _ in results])
    banks = np.array([b for b, _, _ in bank])
    held = shipped_total = 0.0
    for name in sorted(set(banks)):
        out = banks == name
        best = int(np.argmax(firsts[:, ~out].mean(axis=1)))
        held += firsts[best, out].sum()
        shipped_total += firsts[0, out].sum()
        print(f"  {name:14s} {out.sum():4d}  shipped {firsts[0, out].mean():.3f}  best of the others {firsts[best, out].mean():.3f}")
    print(f"leave one bank out, pooled: shipped {shipped_total / len(bank):.4f}, chosen on the others {held / len(bank):.4f}")


def answers(names: list[str]) -> None:
    messages = bank_messages()
    for name in names:
        answerer = answerer_for(open_retriever(Config().replace(**NAMED[name])))
        answered = first = shown = 0
        for _, text, src in messages:
            answer = answerer.answer(text)
            if answer.status != "answered":
                continue
            docs = [q.passage.doc_id for q in answer.passages]
            answered += 1
            first += bool(docs) and docs[0] == src
            shown += src in docs
        print(f"{name}: {len(messages)} messages, {answered} answered; first quote from the answering file "
              f"{first / answered:.4f}, the file among the quotes {shown / answered:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", nargs="+", choices=sorted(NAMED), help="read the answers of these settings")
    parser.add_argument("--map-folds", type=int, default=0,
                        help="read each bank through a query map learned without it (this many bank groups)")
    args = parser.parse_args()
    if args.answers:
        answers(args.answers)
    else:
        ranking_grid(args.map_folds)


if __name__ == "__main__":
    main()
