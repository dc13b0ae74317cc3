"""The ``edubot`` command: parses arguments, calls the library, prints.

Every failure a user can cause (bad input, a broken corpus, a missing index or
model) ends in a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .corpus import CorpusError, load_corpus
from .embed import ModelError
from .index import IndexError_

if TYPE_CHECKING:
    from tqdm import tqdm


class UserError(Exception):
    """A problem the user can fix; printed as a message, exit code 2."""


def _config(args: argparse.Namespace) -> Config:
    """Settings from the environment and the flags; the index and reports follow the corpus unless named."""
    base = Config.from_env(os.environ)
    cfg = base.replace(
        corpus_dir=getattr(args, "corpus", None),
        index_dir=getattr(args, "index", None),
        model=getattr(args, "model", None),
    )
    return cfg.follow_corpus(index_named=getattr(args, "index", None) is not None or "EDUBOT_INDEX_DIR" in os.environ,
                             reports_named="EDUBOT_REPORTS_DIR" in os.environ)


def _same_flags(args: argparse.Namespace, command: str) -> str:
    """``edubot <command>`` with the corpus, index and model flags this run was given, for advice."""
    parts = ["edubot", command]
    for flag in ("corpus", "index", "model"):
        value = getattr(args, flag, None)
        if value is not None:
            parts += [f"--{flag}", str(value)]
    return "`" + " ".join(parts) + "`"


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- commands

def cmd_passages(args: argparse.Namespace) -> int:
    from .chunk import chunk_corpus_report

    cfg = _config(args)
    corpus = load_corpus(cfg.corpus_dir)
    if args.doc and corpus.get(args.doc) is None:
        why = [p for p in corpus.problems_for(args.doc) if p.skipped]
        if why:
            raise UserError(f"'{args.doc}' was not loaded: {why[0]}")
        raise UserError(f"no document '{args.doc}' in {cfg.corpus_dir}; `edubot passages` lists every passage")
    result = chunk_corpus_report(corpus, cfg.passage_max_chars, cfg.passage_overlap_sentences)
    passages = [p for p in result.passages if not args.doc or p.doc_id == args.doc]
    for p in passages:
        if args.json:
            _print_json(p.to_json())
        else:
            where = f"p.{p.page} " if p.page else ""
            print(f"[{p.id}] {p.source_type} · {p.section} · {where}chars {p.span[0]}-{p.span[1]}")
            print("    " + p.text.replace("\n", "\n    "))
    # Problems always go to standard error, with --json too: nothing is skipped silently.
    _print_summary(corpus, len(passages), doc_id=args.doc, result=result)
    return 0


def _corpus_problem_lines(corpus, result=None, doc_id: str | None = None) -> list[str]:
    """Every problem of loading and chunking, one line each: skipped files, warnings, held-back passages."""
    problems = corpus.problems_for(doc_id) if doc_id else corpus.problems
    lines = [f"{p.label} {p}" for p in problems]
    if result is not None:
        for report in result.reports:
            if doc_id and report.doc_id != doc_id:
                continue
            lines.extend(f"warning {report.doc_id}: {w}" for w in report.warnings)
            lines.extend(f"held back {h}" for h in report.held_back)
    return lines


class _Bar:
    """A tqdm progress bar per build stage, on standard error."""

    def __init__(self) -> None:
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage in ("done", "chunking", "indexing"):
            for finished in self.bars.values():
                finished.close()
            self.bars.clear()
            if stage != "done":
                print(f"{stage}...", file=sys.stderr)
            return
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit="passage", file=sys.stderr, leave=True)
        bar.update(done - bar.n)


def _ticker(total: int, desc: str):
    """A progress bar on standard error (so --json output stays clean); returns its tick function and the bar."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="question", file=sys.stderr, leave=False)
    return (lambda: bar.update(1)), bar


def _notice(message: str) -> None:
    print(f"edubot: {message}", file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    from .index import build_index
    from .retrieve import forget_retrievers

    cfg = _config(args)
    if args.approximate:
        cfg = cfg.replace(approximate_above=0)
    corpus = load_corpus(cfg.corpus_dir)
    report = build_index(cfg, corpus, progress=_Bar())
    forget_retrievers()
    m = report.manifest
    print(f"built {m['passages']} passages from {m['documents']} documents in {m['build_seconds']} s "
          f"(model {m['model']['name']} {m['model']['version']}, {m['model']['dim']}-d) → {report.directory}")
    from .chunk import chunk_corpus_report

    # Skipped files, documents that lost their text, and every held-back passage (never quoted).
    result = chunk_corpus_report(corpus, cfg.passage_max_chars, cfg.passage_overlap_sentences)
    for line in _corpus_problem_lines(corpus, result):
        print(line)
    return 0


def _retriever(cfg: Config):
    from .retrieve import open_retriever

    return open_retriever(cfg, notice=_notice, progress=_Bar())


def cmd_search(args: argparse.Namespace) -> int:
    cfg = _config(args)
    query = (args.query or "").strip()
    if not query:
        raise UserError("the search is empty; give some words to look for")
    if len(query) > cfg.max_query_chars:
        raise UserError(f"the search is {len(query)} characters long; the limit is {cfg.max_query_chars}")
    if args.k < 1 or args.k > 100:
        raise UserError("-k must be between 1 and 100")
    retriever = _retriever(cfg)
    known_docs = {p.doc_id for p in retriever.index.passages}
    for d in args.doc or []:
        if d not in known_docs:
            raise UserError(f"no document '{d}' in the index")
    hits = retriever.search(query, k=args.k, source_types=set(args.source_type or []) or None,
                            doc_ids=set(args.doc or []) or None)
    if args.json:
        _print_json({"query": query, "hits": [h.to_json() for h in hits]})
        return 0
    if not hits:
        print("no passages found")
    for i, h in enumerate(hits, 1):
        p = h.passage
        meta = retriever.index.documents[p.doc_id]
        d = "-" if h.dense is None else f"{h.dense:.3f}"
        b = "-" if h.bm25 is None else f"{h.bm25:.2f}"
        print(f"{i}. [{p.source_type}] {p.id}  score {h.score:.4f} (dense {d}, bm25 {b})")
        print(f"   {meta.title} ({meta.year or 'n.d.'}) · {p.section}" + (f" · p.{p.page}" if p.page else ""))
        print("   " + p.text.replace("\n", "\n   "))
        cites = [c for c in p.citations if c.reference]
        if cites:
            print("   cites: " + "; ".join(f"[{c.number}] {c.reference.citation}" for c in cites))
        print()
    return 0


def cmd_eval_beir(args: argparse.Namespace) -> int:
    from .embed import get_embedder
    from .evaluate import BeirError, evaluate_beir, format_beir_table

    cfg = _config(args)
    splits = args.split or ["test"]
    if len(splits) not in (1, len(args.folder)):
        raise UserError(f"give one --split for all folders or one per folder ({len(args.folder)} folders, {len(splits)} splits)")
    if args.ranking and len(args.folder) > 1:
        raise UserError("--ranking applies to one folder; each benchmark otherwise uses its own eval/ranking/<name>.json")
    embedder = get_embedder(cfg.model)
    cache = Path(args.cache) if args.cache else Path(cfg.index_dir).parent / "cache"
    reports_dir = Path(cfg.reports_dir)
    reports = []
    for folder, split in zip(args.folder, splits * len(args.folder) if len(splits) == 1 else splits):
        def announce(system: str, name: str = folder.name) -> None:
            print(f"{name}: evaluating {system}...", file=sys.stderr)

        try:
            # Progress goes to standard error even with --json: a first embedding can take half an hour.
            report = evaluate_beir(folder, split, cfg, embedder, cache, progress=True, on_system=announce,
                                   ranking=Path(args.ranking) if args.ranking else None)
        except BeirError as e:
            raise UserError(str(e)) from None
        reports_dir.mkdir(parents=True, exist_ok=True)
        (reports_dir / f"beir-{report['dataset']}-{report['split']}.json").write_text(json.dumps(report, indent=1))
        reports.append(report)
    if args.json:
        _print_json(reports[0] if len(reports) == 1 else {"reports": reports})
    else:
        print(format_beir_table(reports))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    try:
        sizes = [int(s.replace("_", "").replace(",", "")) for s in args.sizes.split()]
    except ValueError:
        raise UserError("--sizes takes numbers, e.g. --sizes '10000 100000'") from None
    out: dict = {}
    if args.cold_runs > 0:
        cfg = _config(args)
        ask_args = ["--corpus", str(cfg.corpus_dir), "--index", str(cfg.index_dir), "--model", cfg.model]
        print(f"cold start: {args.cold_runs} runs each of `edubot ask` and a bare `import sentence_transformers`...", flush=True)
        try:
            out["cold_start"] = bench.cold_start(ask_args, args.cold_runs)
        except RuntimeError as e:
            raise UserError(f"cold-start benchmark: {e}") from None
        print(bench.format_cold(out["cold_start"]), flush=True)
    if not args.no_load:
        from .answer import answerer_for

        answerer = answerer_for(_retriever(_config(args)))
        load = bench.run_load(answerer, args.threads, args.per_thread)
        out["load"] = load
        print(f"load: {load['threads']} threads x {load['questions'] // load['threads']} answers on the bundled corpus: "
              f"{load['throughput_qps']} answers/s; serial p50 {load['serial']['p50_ms']:.1f} ms, p95 {load['serial']['p95_ms']:.1f} ms; "
              f"under load p50 {load['concurrent']['p50_ms']:.1f} ms, p95 {load['concurrent']['p95_ms']:.1f} ms", flush=True)
    if sizes:
        print(f"scale: {bench.DIM}-d synthetic clustered vectors, synthetic 40-word passages, {args.queries} queries per size")
        out["scale"] = bench.run(sizes, args.queries, args.nprobe, on_result=lambda r: print(bench.format_row(r), flush=True))
    if args.json:
        _print_json(out)
    return 0


def _print_answer(answer) -> None:
    from . import templates

    print(answer.message)
    if answer.suggestions:
        print(templates.SUGGESTIONS_INTRO)
    for suggestion in answer.suggestions:
        print(f"  - {suggestion}")
    for group, quoted in answer.groups():
        print(f"\n== {templates.GROUP_TITLES[group]} ==")
        for q in quoted:
            print(f"\n[{q.evidence}]")
            print("  “" + q.quote.replace("\n", "\n   ") + "”")
            print(f"  {templates.KEY_SENTENCE}: “{q.highlight_text}”")
            print(f"  {templates.SOURCE_LABEL}: {q.citation}")
            if q.conflict_of_interest:
                print("  " + templates.CONFLICT_NOTE.format(note=q.conflict_of_interest))
            if q.partial:
                print(f"  {templates.PARTIAL_NOTE}: {q.partial}")
            for c in q.cites:
                print(f"  [{c.number}] {c.label} — {c.citation}")
    if answer.limitations:
        print(f"\n== {templates.LIMITATIONS_TITLE} ==")
        for lim in answer.limitations:
            quote = " ".join(lim.quote.split())
            print(f"- {lim.doc_id}: {lim.text} ({templates.LIMITATION_KINDS[lim.kind]}) — “{quote}”")
    print(f"\n{answer.disclaimer}")


def cmd_ask(args: argparse.Namespace) -> int:
    from .answer import answerer_for, fixed_answer
    from .safety import triage

    cfg = _config(args)
    if args.question is not None:
        questions = [args.question]
    else:
        if sys.stdin is None or (sys.stdin.isatty() and not args.json):
            raise UserError("give a question, e.g. edubot ask \"What is osteonecrosis?\", or pipe one question per line")
        questions = None
    answerer = None

    def answer(q: str):
        nonlocal answerer
        # Emergencies and unusable input are answered at once, without loading the model.
        fixed = fixed_answer(triage(q, cfg.max_query_chars), cfg.max_query_chars)
        if fixed is not None:
            return fixed
        if answerer is None:
            answerer = answerer_for(_retriever(cfg))
            for note in answerer.notes:
                _notice(note.replace("`edubot calibrate`", _same_flags(args, "calibrate")))
        return answerer.answer(q)

    if questions is not None:
        result = answer(questions[0])
        if args.json:
            _print_json(result.to_json())
        else:
            _print_answer(result)
        return 0
    if isinstance(sys.stdin, io.TextIOWrapper):  # not when replaced by another kind of stream
        try:  # undecodable bytes become U+FFFD instead of ending the batch
            sys.stdin.reconfigure(errors="replace")
        except ValueError:
            pass
    for line in sys.stdin:
        question = line.rstrip("\n")
        try:
            result = answer(question)
            obj = result.to_json()
        except Exception as e:  # noqa: BLE001 - one bad line must not end the batch
            from . import templates

            print(f"edubot: internal error on one question ({type(e).__name__})", file=sys.stderr)
            obj = {"query": question[:200], "status": "invalid", "message": templates.INTERNAL_ERROR,
                   "passages": [], "limitations": [], "disclaimer": templates.DISCLAIMER, "suggestions": []}
        if args.json:
            _print_json(obj)
        else:
            _print_answer(result)
        sys.stdout.flush()
    return 0


EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"


def cmd_eval(args: argparse.Namespace) -> int:
    from .answer import answerer_for
    from .evaluate import BeirError, evaluate_questions, evaluate_triage, format_triage_report, load_messages, load_questions, write_report

    cfg = _config(args)
    try:
        questions = load_questions(Path(args.questions))
        # By default every held-out bank (test*.jsonl: written by people who never saw the code), each alone and
        # together.
        chosen = args.triage if args.triage is not None else sorted(str(p) for p in (EVAL_DIR / "triage").glob("test*.jsonl"))
        banks = [(Path(b), load_messages(Path(b))) for b in chosen]
    except BeirError as e:
        raise UserError(str(e)) from None
    answerer = answerer_for(_retriever(cfg))
    tick, bar = _ticker(len(questions), "question set")
    report = evaluate_questions(answerer, questions, tick=tick)
    bar.close()
    report["triage"] = {}
    for path, messages in banks:
        tick, bar = _ticker(len(messages), path.name)
        part = evaluate_triage(answerer, messages, tick=tick)
        bar.close()
        part["summary_text"] = format_triage_report(part, f"triage · {path.name}")
        report["triage"][path.name] = part
    if len(banks) > 1:
        every = [m for _, messages in banks for m in messages]
        tick, bar = _ticker(len(every), "all banks together")
        part = evaluate_triage(answerer, every, tick=tick)
        bar.close()
        name = f"all {len(banks)} banks"
        part["summary_text"] = format_triage_report(part, f"triage · {name} ({', '.join(p.name for p, _ in banks)})")
        report["triage"][name] = part
    write_report(report, Path(cfg.reports_dir) / "eval.md")  # the latest, for the app's evaluation page
    if args.report:
        write_report(report, Path(args.report))
    if args.json:
        _print_json(report)
    else:
        print(report["summary_text"])
        for part in report["triage"].values():
            print("\n" + part["summary_text"])
        if args.report:
            print(f"\nreport written to {args.report}")
    return 0


def cmd_triage_train(args: argparse.Namespace) -> int:
    """Train the triage classifiers on dev banks (never test) and store them beside the safety module."""
    from .embed import get_embedder
    from .evaluate import BeirError, load_messages, negatives_from, triage_rows
    from .safety import default_triager
    from .safety.classifier import CLASSIFIER_FILE
    from .safety.multilingual import MULTILINGUAL_FILE, train_both

    cfg = _config(args)
    try:
        messages = [m for b in args.bank for m in load_messages(Path(b))]
        messages += [m for q in args.questions for m in load_messages(Path(q), split="dev")]
        for n in args.negatives or []:
            messages += [m for m in negatives_from(Path(n)) if m.split == "dev"]
    except BeirError as e:
        raise UserError(str(e)) from None
    if any(m.split == "test" for m in messages):
        raise UserError("the classifier is never trained on a test split; give dev banks only")
    triager = default_triager(cfg.max_query_chars)
    rows = triage_rows(messages, triager)
    embedder = get_embedder(cfg.model)
    print(f"training on {len(rows.texts)} messages ({rows.labels[:, 0].sum()} urgent, {rows.labels[:, 1].sum()} advice)...",
          file=sys.stderr)
    meta = {"banks": [Path(b).name for b in args.bank], "questions": [Path(q).name for q in args.questions],
            "negatives": [Path(n).name for n in args.negatives or []], "model": f"{embedder.info.name} {embedder.info.version}"}
    trained = train_both(rows, embedder.encode, triager.lexicon, meta, max_false_alarms=args.max_false_alarms)
    folder = Path(args.out) if args.out else Path(__file__).resolve().parent / "safety"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CLASSIFIER_FILE).write_text(json.dumps(trained.english.to_json()), encoding="utf-8")
    (folder / MULTILINGUAL_FILE).write_text(json.dumps(trained.multilingual.to_json()), encoding="utf-8")
    lab = rows.labels.astype(bool)
    for name, clf, cv in (("MiniLM", trained.english, trained.english_cv),
                          ("multilingual", trained.multilingual, trained.multilingual_cv)):
        for j, label in enumerate(("urgent", "advice")):
            flagged = cv[:, j] >= clf.thresholds[label]
            print(f"{name} · {label}: threshold {clf.thresholds[label]}; cross-validated on dev: classifier recall "
                  f"{(flagged & lab[:, j]).sum() / max(1, lab[:, j].sum()):.3f}, with the rules "
                  f"{((flagged | rows.caught[:, j]) & lab[:, j]).sum() / max(1, lab[:, j].sum()):.3f}")
    meta_ml = trained.multilingual.meta
    print(f"multilingual · reads English messages from MiniLM urgent score {meta_ml['english_from']}; "
          f"urgent bar for other languages {meta_ml['other_languages_urgent']}")
    print(f"written to {folder / CLASSIFIER_FILE} and {folder / MULTILINGUAL_FILE}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Abstention calibrated on a corpus's own labelled questions, stored with its index."""
    from .answer import answerer_for
    from .evaluate import BeirError, calibrate_abstention, load_messages, negatives_from
    from .index import write_calibration

    cfg = _config(args)
    files = args.questions or ([str(EVAL_DIR / "questions.jsonl")] + sorted(str(p) for p in (EVAL_DIR / "triage").glob("dev*.jsonl"))
                               if Path(cfg.corpus_dir).resolve() == (EVAL_DIR.parent / "corpus").resolve() else [])
    if not files:
        raise UserError("give this corpus's labelled questions with --questions FILE (see README \"Adding documents\")")
    try:
        messages = [m for f in files for m in load_messages(Path(f))]
        for n in args.negatives or []:
            messages += negatives_from(Path(n))
        answerer = answerer_for(_retriever(cfg))
        tick, bar = _ticker(sum(m.expect in ("answered", "no_answer") for m in messages), "calibrating")
        result = calibrate_abstention(answerer, messages, fit=args.fit, tick=tick)
        bar.close()
    except BeirError as e:
        raise UserError(str(e)) from None
    result["question_files"] = [Path(f).name for f in files] + [Path(n).name for n in args.negatives or []]
    if args.fit:
        out = Path(__file__).resolve().parent / "abstention.json"
        model = dict(result["model"])
        model["meta"] = {**model.get("meta", {}), "fitted_on": result["question_files"], "dev": result["dev"]}
        out.write_text(json.dumps(model, indent=1), encoding="utf-8")
        print(f"model weights written to {out}", file=sys.stderr)
    from .abstain import AbstentionModel

    stored = write_calibration(cfg.index_dir, "abstention", {
        "model": AbstentionModel.from_json(result["model"]).identity, "threshold": result["threshold"], "dev": result["dev"], "test": result["test"],
        "questions_hash": result["questions_hash"], "question_files": result["question_files"]})
    if args.json:
        _print_json(result)
    else:
        d, t = result["dev"], result["test"]
        print(f"abstention threshold {result['threshold']} (P(answerable)), chosen on dev: precision {d['precision']}, "
              f"recall {d['recall']}, answerable answered {d['answered']} ({d['answerable']} answerable, {d['unanswerable']} not)")
        if t:
            print(f"test: precision {t['precision']}, recall {t['recall']}, answerable answered {t['answered']} "
                  f"({t['answerable']} answerable, {t['unanswerable']} not)")
        print(f"stored with the index in {cfg.index_dir} ({stored.name}); `edubot ask` now uses it")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the installation; every failure says what to do."""
    import importlib.metadata as md

    from .abstain import for_corpus, load_model
    from .index import load_index, read_manifest, stale_reasons

    cfg = _config(args)
    failures = 0

    def report(ok: bool, what: str, fix: str = "") -> None:
        nonlocal failures
        failures += not ok
        print(f"[{'ok' if ok else 'FAIL'}] {what}" + ("" if ok or not fix else f"\n       → {fix}"))

    report(sys.version_info[:2] == (3, 11), f"Python {sys.version.split()[0]}", "use Python 3.11 (scripts/setup.sh creates .venv with it)")
    for pkg in ("torch", "sentence-transformers", "faiss-cpu", "bm25s", "pypdf", "streamlit", "pytrec-eval-terrier"):
        try:
            version = md.version(pkg)
            good = not (pkg == "torch" and not version.startswith("2.13.0"))
            report(good, f"{pkg} {version}", "reinstall with `pip install torch==2.13.0` (a CPU build; other versions pull CUDA)")
        except md.PackageNotFoundError:
            report(False, f"{pkg} not installed", "run `bash scripts/setup.sh`")
    embedder = None
    try:
        from .embed import get_embedder

        embedder = get_embedder(cfg.model)
        vec = embedder.encode_query("osteonecrosis")
        report(vec.shape == (embedder.info.dim,), f"model {cfg.model} {embedder.info.version} loads offline ({embedder.info.dim}-d)")
    except ModelError as e:
        report(False, f"model {cfg.model}: {e}", "run `bash scripts/setup.sh`, or set EDUBOT_MODEL to a model folder")
    try:
        from .chunk import chunk_corpus_report

        corpus = load_corpus(cfg.corpus_dir)
        skipped = [p for p in corpus.problems if p.skipped]
        report(not skipped, f"corpus {cfg.corpus_dir}: {len(corpus.documents)} documents"
               + (f", {len(skipped)} skipped" if skipped else ""),
               f"fix the files named below, then run {_same_flags(args, 'build')}")
        result = chunk_corpus_report(corpus, cfg.passage_max_chars, cfg.passage_overlap_sentences)
        warnings = _corpus_problem_lines(corpus, result)
        for line in warnings:
            print(f"       {line}")
        if any(not line.startswith("skipped") for line in warnings):
            print("[warn] corpus: the documents above load with warnings (see `edubot passages --doc ID`)")
    except CorpusError as e:
        corpus = None
        report(False, f"corpus: {e}", "set --corpus or EDUBOT_CORPUS_DIR to the corpus folder")
    try:
        manifest = read_manifest(cfg.index_dir)
        load_index(cfg.index_dir)
        reasons = stale_reasons(manifest, cfg, corpus, embedder.info if embedder else None) if corpus else []
        report(not reasons, f"index {cfg.index_dir}: {manifest['passages']} passages, built {manifest['built_at']}"
               + (f" — stale: {'; '.join(reasons)}" if reasons else ""), f"run {_same_flags(args, 'build')}")
        _, notes = for_corpus(load_model(), manifest, cfg.abstention_threshold)
        for note in notes:
            print(f"[warn] {note.replace('`edubot calibrate`', _same_flags(args, 'calibrate'))}")
    except IndexError_ as e:
        report(False, f"index: {e.problem}", f"run {_same_flags(args, 'build')}")
    print("all checks passed" if not failures else f"{failures} check(s) failed")
    return 0 if not failures else 1


def _print_summary(corpus, n_passages: int, doc_id: str | None = None, result=None) -> None:
    if doc_id:
        print(f"{doc_id}: {n_passages} passages", file=sys.stderr)
    else:
        by_type: dict[str, int] = {}
        for d in corpus.documents:
            by_type[d.meta.source_type] = by_type.get(d.meta.source_type, 0) + 1
        kinds = ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
        print(f"{len(corpus.documents)} documents ({kinds}), {n_passages} passages", file=sys.stderr)
    for line in _corpus_problem_lines(corpus, result, doc_id):
        print(line, file=sys.stderr)


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

    p = sub.add_parser("build", help="build the search index (passages, embeddings, FAISS, BM25, manifest)")
    common(p)
    p.add_argument("--approximate", action="store_true",
                   help="approximate vector index (IVF + 8-bit quantisation) whatever the size; "
                        "by default it is chosen above EDUBOT_APPROXIMATE_ABOVE passages (200,000)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("search", help="ranked passages for staff, with scores, source types and citations")
    common(p)
    p.add_argument("query")
    p.add_argument("-k", type=int, default=10, help="number of passages (default 10)")
    p.add_argument("--source-type", action="append", choices=["research", "abstract", "patient_education", "marketing"],
                   help="only this source type (repeatable)")
    p.add_argument("--doc", action="append", help="only this document id (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with quoted, cited passages (or one per line from standard input)")
    common(p)
    p.add_argument("question", nargs="?", help="the question; without it, read one question per line from standard input")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="evaluate answers on the bundled question set: hits, MRR, nDCG, abstention, safety, limitations")
    common(p)
    p.add_argument("--questions", default=str(Path(__file__).resolve().parents[2] / "eval" / "questions.jsonl"))
    p.add_argument("--report", help="write a Markdown report (with a chart) and a JSON file beside it")
    p.add_argument("--triage", action="append", default=None,
                   help="a labelled bank of patient messages to evaluate triage on (repeatable; default: every eval/triage/test*.jsonl, "
                        "each alone and together)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("triage-train", help="train the triage classifier on dev banks of labelled messages (maintainers)")
    common(p)
    p.add_argument("--bank", action="append", required=True, help="a dev bank, e.g. eval/triage/dev.jsonl (repeatable)")
    p.add_argument("--questions", action="append", default=[], help="question files whose dev split adds examples")
    p.add_argument("--negatives", action="append", help="out-of-scope questions (BEIR queries.jsonl or one per line)")
    p.add_argument("--max-false-alarms", type=float, default=0.02,
                   help="most answerable or unanswerable dev questions the classifier may flag beyond those the "
                        "rules already flag (default 0.02)")
    p.add_argument("--out", help="the folder to write the two classifiers to (default: beside the safety module)")
    p.set_defaults(func=cmd_triage_train)

    p = sub.add_parser("calibrate", help="calibrate 'not in my sources' on this corpus's labelled questions; stored with the index")
    common(p)
    p.add_argument("--questions", action="append", help="labelled questions (JSON lines: question, expect, split)")
    p.add_argument("--negatives", action="append", help="out-of-scope questions (BEIR queries.jsonl or one per line)")
    p.add_argument("--fit", action="store_true", help="also refit the model's weights (maintainers; writes abstention.json)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("doctor", help="check the installation: model offline, corpus valid, index present and fresh")
    common(p)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("eval-beir", help="nDCG@10, Recall@100, MRR@10 and latency on BEIR-format folders, in one table")
    p.add_argument("folder", type=Path, nargs="+")
    p.add_argument("--split", action="append",
                   help="qrels split: dev, test or train (default test); once for all folders, or once per folder in order")
    p.add_argument("--ranking", help="ranking settings JSON for a single folder (default eval/ranking/<name>.json, "
                                     "else the configuration)")
    p.add_argument("--model", help="embedding model (EDUBOT_MODEL)")
    p.add_argument("--cache", help="where embedded benchmark corpora are kept (default .edubot/cache)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval_beir)

    p = sub.add_parser("bench", help="cold start of `ask`, load, and scale: build time, size, memory, latency, approximate recall")
    common(p)
    p.add_argument("--sizes", default="10000 100000 1000000", help="passage counts; '' skips the scale part")
    p.add_argument("--no-load", action="store_true", help="skip the load part (threads answering on the bundled corpus)")
    p.add_argument("--cold-runs", type=int, default=5,
                   help="runs of a cold `edubot ask` and a bare `import sentence_transformers` (medians); 0 skips")
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--per-thread", type=int, default=200)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--nprobe", type=int, default=64, help="IVF lists searched per query")
    p.add_argument("--json", action="store_true", help="also print all figures as one JSON object")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UserError, CorpusError, IndexError_, ModelError) as e:
        print(f"edubot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edubot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug: one line for the user, the traceback only on request
        if os.environ.get("EDUBOT_DEBUG"):
            raise
        print(f"edubot: internal error ({type(e).__name__}: {e}); please report it (EDUBOT_DEBUG=1 shows details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
