"""Learn the bundled corpus's query map (``src/edubot/querymap.npz``) from the dev banks' answerable messages.

    .venv/bin/python scripts/train_querymap.py --folds 4 --write

Each answerable dev-bank message names the corpus file that answers it: its
vector (as the product reads it, unmapped) is a question judged for that file
(``querymap.train_query_map``: every passage of the corpus is a negative, a file
scores its best passage). ``--folds K`` first reports, leave-banks-out (the banks
cut into K groups, a map learned on the others read on each), how often the
first passage of the product's ranking comes from the answering file, mapped and
unmapped, and the question set's dev split (a labelled quote first / in the first
five) with the map learned on all banks. Dev banks and the question set's dev
split only; no test bank is read. The map records the corpus's content hash: the
product applies it to that corpus only.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
from pathlib import Path

import numpy as np

from edubot.config import PROJECT_ROOT, Config
from edubot.evaluate import answering_files, train_query_map_on_files
from edubot.querymap import QUERY_MAP_FILE, QueryMap
from edubot.retrieve import Retriever, open_retriever, question_first


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def first_from_file(r: Retriever, vector: np.ndarray, text: str, source: str, m: QueryMap | None) -> bool:
    searched = question_first(text)
    q = r.searcher.query(searched, vector if m is None else m.apply(vector), r.query_tokens(searched))
    rows = r.searcher.rank(q).rows
    return bool(len(rows)) and r.index.passages[int(rows[0])].doc_id == source


def question_set_dev(r: Retriever, m: QueryMap | None) -> tuple[float, float]:
    """hit@1 and hit@5 of the ranking on the question set's dev split (a labelled quote in the passage)."""
    texts = [_norm(p.text) for p in r.index.passages]
    at1 = at5 = n = 0
    for line in (PROJECT_ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("split") != "dev" or row["expect"] != "answered":
            continue
        relevant = {i for i, t in enumerate(texts) if any(_norm(q) in t for q in row["quotes"])}
        searched = question_first(row["question"])
        vector = r.encode_query(row["question"])
        q = r.searcher.query(searched, vector if m is None else m.apply(vector), r.query_tokens(searched))
        rows = [int(x) for x in r.searcher.rank(q).rows[:5]]
        n += 1
        at1 += bool(rows) and rows[0] in relevant
        at5 += any(x in relevant for x in rows)
    return at1 / n, at5 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=0, help="first report leave-banks-out figures with this many groups")
    parser.add_argument("--shrink", type=float, default=0.003, help="pull toward the identity")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--write", action="store_true", help=f"save the map to src/edubot/{QUERY_MAP_FILE}")
    args = parser.parse_args()
    r = open_retriever(Config(query_map=False))  # questions as the model reads them
    banks = sorted(glob.glob(str(PROJECT_ROOT / "eval" / "triage" / "dev*.jsonl")))
    indexed = {p.doc_id for p in r.index.passages}
    messages = [m for m in answering_files([Path(b) for b in banks]) if m[2] in indexed]
    vectors = np.stack([r.encode_query(text) for _, text, _ in messages])
    names = sorted({b for b, _, _ in messages})
    print(f"{len(messages)} answerable messages naming their file, from {len(names)} dev banks")

    def learn(rows: list[int], meta: dict | None = None) -> QueryMap:
        return train_query_map_on_files(r, vectors[rows], [messages[i][2] for i in rows],
                                        shrink=args.shrink, epochs=args.epochs, meta=meta)

    if args.folds > 1:
        mapped = unmapped = 0
        for k in range(args.folds):
            held = set(names[k :: args.folds])
            m = learn([i for i, (b, _, _) in enumerate(messages) if b not in held])
            for i, (b, text, source) in enumerate(messages):
                if b in held:
                    mapped += first_from_file(r, vectors[i], text, source, m)
                    unmapped += first_from_file(r, vectors[i], text, source, None)
        print(f"leave banks out ({args.folds} groups): first passage from the answering file "
              f"{mapped / len(messages):.4f} mapped, {unmapped / len(messages):.4f} unmapped", flush=True)
    m = learn(list(range(len(messages))), {"corpus_hash": r.index.manifest.get("corpus_hash"),
                                          "messages": len(messages), "banks": names})
    (u1, u5), (m1, m5) = question_set_dev(r, None), question_set_dev(r, m)
    print(f"question set dev (hit@1, hit@5): unmapped {u1:.3f} {u5:.3f}, mapped {m1:.3f} {m5:.3f}")
    if args.write:
        path = PROJECT_ROOT / "src" / "edubot" / QUERY_MAP_FILE
        m.save(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
