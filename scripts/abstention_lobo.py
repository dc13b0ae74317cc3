"""Leave one writer out for "not in my sources": how abstention does on a bank whose writer it never saw.

Random cross-validation mixes one writer's questions into both halves, and the scope model (a
regression over question vectors) could learn a writer's topics rather than the corpus's. So for
each dev bank (and the question set, and MedQuAD's dev questions as one more "writer") this fits
the abstention model as ``edubot calibrate --fit`` does (``abstain.fit_model``; threshold chosen on
cross-validated probabilities of the training banks, ``abstain.choose_threshold``) on every other
bank, then reads the held-out bank. It prints, per bank and pooled, abstention precision, recall and
the share of answerable questions answered, with the scope model and without it (the general model).

    .venv/bin/python scripts/abstention_lobo.py eval/questions.jsonl eval/triage/dev*.jsonl \
        --negatives ../shared/bench/medquad/queries.jsonl
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from edubot.abstain import choose_threshold, cross_validated, fit_model
from edubot.answer import answerer_for
from edubot.config import Config
from edubot.evaluate import load_messages, negatives_from
from edubot.retrieve import open_retriever


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", help="labelled question files (their dev split is read)")
    ap.add_argument("--negatives", action="append", default=[], help="out-of-scope questions (BEIR queries.jsonl)")
    args = ap.parse_args()

    answerer = answerer_for(open_retriever(Config()))
    groups: list[str] = []
    messages = []
    for f in args.files:
        for m in load_messages(Path(f), split="dev"):
            messages.append(m)
            groups.append(Path(f).stem)
    for n in args.negatives:
        for m in negatives_from(Path(n)):
            if m.split == "dev":
                messages.append(m)
                groups.append(Path(n).parent.name)
    keep = [i for i, m in enumerate(messages)
            if m.expect in ("answered", "no_answer") and not answerer.retriever.named_documents(m.text)]
    messages, groups = [messages[i] for i in keep], [groups[i] for i in keep]
    read = [answerer.signals(m.text) for m in messages]
    signals = [s for s, _ in read]
    vectors = np.vstack([v for _, v in read])
    labels = np.asarray([m.expect == "answered" for m in messages])
    names = list(dict.fromkeys(groups))
    print(f"{len(messages)} dev questions ({int(labels.sum())} answerable) from {len(names)} writers\n")
    print(f"{'held-out bank':22} {'n':>5}  {'with scope: P / R / answered':>30}  {'general: P / R / answered':>28}")
    totals = {True: np.zeros(4), False: np.zeros(4)}  # tp, fp, fn, kept
    for name in names:
        test = np.asarray([g == name for g in groups])
        train = np.flatnonzero(~test)
        row = []
        tr_signals, tr_labels = [signals[i] for i in train], labels[train].tolist()
        fitted = fit_model(tr_signals, tr_labels, vectors[train])
        cv = cross_validated(tr_signals, tr_labels, vectors[train])
        for scoped in (True, False):
            model = fitted if scoped else (fitted.general or fitted)
            threshold = choose_threshold(cv.scoped if scoped else cv.general, tr_labels).threshold
            held = np.flatnonzero(test)
            probs = np.asarray([model.probability(model.read(signals[i], vectors[i] if scoped else None)) for i in held])
            abstain, answerable = probs < threshold, labels[held]
            counts = np.asarray([(abstain & ~answerable).sum(), (abstain & answerable).sum(),
                                 (~abstain & ~answerable).sum(), (~abstain & answerable).sum()], dtype=float)
            totals[scoped] += counts
            row.append(_figures(counts, int(answerable.sum())))
        print(f"{name:22} {int(test.sum()):5}  {row[0]:>30}  {row[1]:>28}")
    n_answerable = int(labels.sum())
    print(f"{'pooled':22} {len(messages):5}  {_figures(totals[True], n_answerable):>30}  "
          f"{_figures(totals[False], n_answerable):>28}")


def _figures(counts: np.ndarray, n_answerable: int) -> str:
    tp, fp, fn, kept = counts
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    answered = kept / n_answerable if n_answerable else 1.0
    return f"{precision:.3f} / {recall:.3f} / {answered:.3f}"


if __name__ == "__main__":
    main()
