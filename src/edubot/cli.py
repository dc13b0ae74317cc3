"""The ``edubot`` command: parses arguments, calls the library, prints.

Every failure a user can cause (bad input, a broken corpus, a missing index or
model) ends in a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .config import Config
from .corpus import CorpusError, load_corpus


class UserError(Exception):
    """A problem the user can fix; printed as a message, exit code 2."""


def _config(args: argparse.Namespace) -> Config:
    base = Config.from_env(os.environ)
    return base.replace(
        corpus_dir=getattr(args, "corpus", None),
        index_dir=getattr(args, "index", None),
        model=getattr(args, "model", None),
    )


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- commands

def cmd_passages(args: argparse.Namespace) -> int:
    from .chunk import chunk_corpus

    cfg = _config(args)
    corpus = load_corpus(cfg.corpus_dir)
    if args.doc and corpus.get(args.doc) is None:
        raise UserError(f"no document '{args.doc}' in {cfg.corpus_dir}; `edubot passages` lists every passage")
    passages = chunk_corpus(corpus, cfg.passage_max_chars, cfg.passage_overlap_sentences)
    if args.doc:
        passages = [p for p in passages if p.doc_id == args.doc]
    for p in passages:
        if args.json:
            _print_json(p.to_json())
        else:
            where = f"p.{p.page} " if p.page else ""
            print(f"[{p.id}] {p.source_type} · {p.section} · {where}chars {p.span[0]}-{p.span[1]}")
            print("    " + p.text.replace("\n", "\n    "))
    if not args.json:
        _print_summary(corpus, len(passages))
    return 0


def _print_summary(corpus, n_passages: int) -> None:
    by_type: dict[str, int] = {}
    for d in corpus.documents:
        by_type[d.meta.source_type] = by_type.get(d.meta.source_type, 0) + 1
    kinds = ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
    print(f"{len(corpus.documents)} documents ({kinds}), {n_passages} passages", file=sys.stderr)
    for problem in corpus.problems:
        print(f"skipped {problem}", file=sys.stderr)


# ---------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edubot", description="Answers questions only with cited quotes from a curated corpus.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, index: bool = True) -> None:
        p.add_argument("--corpus", type=Path, help="corpus folder (default: the bundled corpus/, or EDUBOT_CORPUS_DIR)")
        if index:
            p.add_argument("--index", type=Path, help="index folder (default: .edubot/index, or EDUBOT_INDEX_DIR)")
            p.add_argument("--model", help="embedding model: a package that ships weights, or a folder (EDUBOT_MODEL)")

    p = sub.add_parser("passages", help="list the passages the index will hold")
    common(p, index=False)
    p.add_argument("--doc", help="only this document id")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_passages)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UserError, CorpusError) as e:
        print(f"edubot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edubot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
