"""Leave one writer out: how the triage classifier does on a bank whose writer it never saw.

Random cross-validation mixes one writer's phrasings into both halves and
flatters the classifier; a bank written by someone else is what a clinic's
patients look like. For each dev bank this trains the English (MiniLM)
classifier as ``edubot triage-train`` does on every other bank plus the calm questions, then
reads the held-out bank with the rule layers and that classifier, and prints
urgent recall, false alarms and personal-advice recall / precision. Use it to
choose training settings (``--c``, ``--max-false-alarms``) on dev banks only.

    .venv/bin/python scripts/triage_lobo.py eval/triage/dev*.jsonl \
        --questions eval/questions.jsonl --negatives ../shared/bench/medquad/queries.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from edubot.config import Config
from edubot.embed import get_embedder
from edubot.evaluate import load_messages, negatives_from, triage_rows
from edubot.safety import Triager, default_triager
from edubot.safety.classifier import train_classifier


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("banks", nargs="+")
    p.add_argument("--questions", action="append", default=[])
    p.add_argument("--negatives", action="append", default=[])
    p.add_argument("--c", type=float, action="append", default=None)
    p.add_argument("--max-false-alarms", type=float, action="append", default=None)
    args = p.parse_args(argv)
    cfg = Config()
    rules = default_triager(cfg.max_query_chars)
    embedder = get_embedder(cfg.model)
    memo: dict[str, np.ndarray] = {}

    def encode(texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in memo]
        if todo:
            memo.update(zip(todo, embedder.encode(todo)))
        return np.vstack([memo[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    banks = {Path(b).name: load_messages(Path(b)) for b in args.banks}
    calm = [m for q in args.questions for m in load_messages(Path(q), split="dev")]
    calm += [m for n in args.negatives for m in negatives_from(Path(n)) if m.split == "dev"]

    print("held out | C | max FA | urgent recall (rules / +clf) | false alarms | advice R / P (+clf) | thresholds")
    for c in args.c or [4.0]:
        for mfa in args.max_false_alarms or [0.02]:
            totals = np.zeros(6)
            for held, test in banks.items():
                train = [m for name, ms in banks.items() if name != held for m in ms] + calm
                r = triage_rows(train, rules)
                clf, _ = train_classifier(r.texts, r.labels, r.caught, r.pool, encode, rules.lexicon, {}, max_false_alarms=mfa, c=c)
                full = Triager(rules.lexicon, clf, max_chars=cfg.max_query_chars)
                urgent = [m for m in test if m.expect == "urgent"]
                calm_test = [m for m in test if m.expect != "urgent"]
                by_rules = sum(rules.triage(m.text).status == "urgent" for m in urgent)
                got = [full.triage(m.text, encode) for m in test]
                caught_u = sum(g.status == "urgent" for g, m in zip(got, test) if m.expect == "urgent")
                fa = sum(g.status == "urgent" for g, m in zip(got, test) if m.expect != "urgent")
                adv_true = sum(m.expect == "personal_advice" for m in test)
                adv_hit = sum(g.status == "personal_advice" for g, m in zip(got, test) if m.expect == "personal_advice")
                adv_pred = sum(g.status == "personal_advice" for g in got)
                totals += [len(urgent), caught_u, len(calm_test), fa, adv_true, adv_hit]
                print(f"{held} | {c} | {mfa} | {by_rules / len(urgent):.3f} / {caught_u / len(urgent):.3f} ({caught_u}/{len(urgent)}) | "
                      f"{fa / max(1, len(calm_test)):.3f} ({fa}) | {adv_hit / max(1, adv_true):.3f} / {adv_hit / max(1, adv_pred):.3f} | "
                      f"{clf.thresholds}", flush=True)
                for g, m in zip(got, test):
                    if m.expect == "urgent" and g.status != "urgent":
                        print(f"   missed [{m.category}] {m.text[:100]!r}", file=sys.stderr)
            print(f"ALL | {c} | {mfa} | urgent {totals[1] / totals[0]:.3f} | false alarms {totals[3] / totals[2]:.3f} | "
                  f"advice recall {totals[5] / totals[4]:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
