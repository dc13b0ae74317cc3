"""Leave one writer out: how triage does on a bank whose writer its classifiers never saw.

Random cross-validation mixes one writer's phrasings into both halves and
flatters the classifiers; a bank written by someone else is what a clinic's
patients look like. For each dev bank this trains both classifiers as ``edubot
triage-train`` does (``multilingual.train_both``) on every other bank plus the
calm questions, then reads the held-out bank with the whole triager the product
uses (rules, MiniLM classifier, the multilingual model for other languages and
the English cascade), and prints urgent recall, false alarms and
personal-advice recall / precision. Use it to choose training settings
(``--max-false-alarms``) on dev banks only. The lexicon was written against
these banks, so rule-layer figures here flatter it: the classifier figures are
the ones to read.

    .venv/bin/python scripts/triage_lobo.py eval/triage/dev*.jsonl \
        --questions eval/questions.jsonl --negatives ../shared/bench/medquad/queries.jsonl [--hold-out dev-i.jsonl]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from edubot.config import Config
from edubot.embed import get_embedder
from edubot.evaluate import load_messages, negatives_from, triage_rows
from edubot.safety import Triager, default_triager
from edubot.safety.classifier import WindowClassifier
from edubot.safety.multilingual import encode as encode_multilingual
from edubot.safety.multilingual import train_both


def _memo(encode):
    memo: dict[str, np.ndarray] = {}

    def cached(texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in memo]
        if todo:
            memo.update(zip(todo, encode(todo)))
        return np.vstack([memo[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    return cached


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("banks", nargs="+")
    p.add_argument("--questions", action="append", default=[])
    p.add_argument("--negatives", action="append", default=[])
    p.add_argument("--max-false-alarms", type=float, action="append", default=None)
    p.add_argument("--urgent-threshold", type=float, action="append", default=None,
                   help="also read each held-out bank with the English classifier's urgent threshold set to this "
                        "(repeatable): how recall and answerable questions flagged move with it, writer held out")
    p.add_argument("--hold-out", action="append", default=None,
                   help="hold out only these banks (file names, e.g. dev-i.jsonl; repeatable); the rest always train")
    args = p.parse_args(argv)
    cfg = Config()
    rules = default_triager(cfg.max_query_chars)
    encode = _memo(get_embedder(cfg.model).encode)
    encode_other = _memo(encode_multilingual)

    banks = {Path(b).name: load_messages(Path(b)) for b in args.banks}
    calm = [m for q in args.questions for m in load_messages(Path(q), split="dev")]
    calm += [m for n in args.negatives for m in negatives_from(Path(n)) if m.split == "dev"]

    print("held out | max FA | urgent recall (rules / all layers) | false alarms | advice R / P | caught by")
    for mfa in args.max_false_alarms or [0.02]:
        totals = np.zeros(6)
        for held, test in banks.items():
            if args.hold_out and held not in args.hold_out:
                continue
            train = [m for name, ms in banks.items() if name != held for m in ms] + calm
            trained = train_both(triage_rows(train, rules), encode, rules.lexicon, {}, max_false_alarms=mfa,
                                 encode_other=encode_other)
            full = Triager(rules.lexicon, trained.english, max_chars=cfg.max_query_chars,
                           multilingual=trained.multilingual, encode_other=encode_other)
            urgent = [m for m in test if m.expect == "urgent"]
            by_rules = sum(rules.triage(m.text).status == "urgent" for m in urgent)
            got = [full.triage(m.text, encode) for m in test]
            caught_u = sum(g.status == "urgent" for g, m in zip(got, test) if m.expect == "urgent")
            fa = sum(g.status == "urgent" for g, m in zip(got, test) if m.expect != "urgent")
            calm_n = len(test) - len(urgent)
            adv_true = sum(m.expect == "personal_advice" for m in test)
            adv_hit = sum(g.status == "personal_advice" for g, m in zip(got, test) if m.expect == "personal_advice")
            adv_pred = sum(g.status == "personal_advice" for g in got)
            layers = Counter(g.layer for g, m in zip(got, test) if m.expect == "urgent" and g.status == "urgent")
            totals += [len(urgent), caught_u, calm_n, fa, adv_true, adv_hit]
            print(f"{held} | {mfa} | {by_rules / max(1, len(urgent)):.3f} / {caught_u / max(1, len(urgent)):.3f} "
                  f"({caught_u}/{len(urgent)}) | {fa / max(1, calm_n):.3f} ({fa}) | "
                  f"{adv_hit / max(1, adv_true):.3f} / {adv_hit / max(1, adv_pred):.3f} | {dict(layers)}", flush=True)
            for g, m in zip(got, test):
                if m.expect == "urgent" and g.status != "urgent":
                    print(f"   missed [{m.category}] {m.text[:100]!r}", file=sys.stderr)
            for t in args.urgent_threshold or []:
                e = trained.english
                lowered = WindowClassifier(e.weights, e.bias, {**e.thresholds, "urgent": t}, e.concepts, e.meta)
                at = Triager(rules.lexicon, lowered, max_chars=cfg.max_query_chars,
                             multilingual=trained.multilingual, encode_other=encode_other)
                got_t = [at.triage(m.text, encode) for m in test]
                u = sum(g.status == "urgent" for g, m in zip(got_t, test) if m.expect == "urgent")
                f = sum(g.status == "urgent" for g, m in zip(got_t, test) if m.expect != "urgent")
                answerable = [g for g, m in zip(got_t, test) if m.expect == "answered"]
                flagged = sum(g.status in ("urgent", "personal_advice") for g in answerable)
                print(f"   urgent threshold {t}: urgent {u}/{len(urgent)}, false alarms {f}/{calm_n}, "
                      f"answerable flagged {flagged}/{len(answerable)}", flush=True)
        print(f"ALL | {mfa} | urgent {totals[1] / totals[0]:.3f} | false alarms {totals[3] / totals[2]:.3f} | "
              f"advice recall {totals[5] / max(1, totals[4]):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
