"""Retrieval quality: BEIR benchmarks (``edubot eval-beir``) with IR metrics from pytrec_eval.

A BEIR folder has corpus.jsonl, queries.jsonl and qrels/<split>.tsv. Long
documents are split into sentence windows for the dense model (which reads
256 word pieces at most) and a document scores its best window; BM25 reads
the whole document. The fusion is the product's own ``retrieve.fuse``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .abbreviations import corpus_abbreviations, expand
from .chunk import _pack, split_sentences
from .config import Config
from .index import SearchCore, bm25_tokens, build_bm25, build_vectors
from .retrieve import fuse, prefer_expected_answers

SYSTEMS = ("bm25", "dense", "rrf", "hybrid")
# "rrf" is the textbook baseline (plain reciprocal rank fusion, k=60, no feedback);
# "hybrid" is EduBot's default pipeline with the configured fusion and feedback.
DEFAULT_SYSTEM = "hybrid"
BEIR_WINDOW_CHARS = 900


class BeirError(Exception):
    """A BEIR folder that cannot be evaluated; the message names the file."""


@dataclass(frozen=True)
class Beir:
    name: str
    doc_ids: list[str]
    doc_texts: list[str]  # title + text
    doc_titles: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise BeirError(f"{path}: missing")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise BeirError(f"{path}: line {n} is not valid JSON") from None
    return rows


def load_beir(folder: Path, split: str) -> Beir:
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.exists():
        have = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        raise BeirError(f"{qrels_path}: missing (splits here: {', '.join(have) or 'none'})")
    corpus = _read_jsonl(folder / "corpus.jsonl")
    queries = {str(q["_id"]): q.get("text", "") for q in _read_jsonl(folder / "queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            parts = line.strip().split("\t")
            if len(parts) < 3 or (n == 0 and not parts[2].lstrip("-").isdigit()):
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    qrels = {q: d for q, d in qrels.items() if q in queries}
    if not qrels:
        raise BeirError(f"{qrels_path}: no judged query is in queries.jsonl")
    return Beir(
        name=folder.name,
        doc_ids=[str(d["_id"]) for d in corpus],
        doc_texts=[f"{d.get('title', '')}. {d.get('text', '')}".strip(". ") for d in corpus],
        doc_titles=[d.get("title", "") for d in corpus],
        queries={q: queries[q] for q in qrels},
        qrels=qrels,
    )


def windows(beir: Beir, max_chars: int = BEIR_WINDOW_CHARS) -> tuple[list[str], np.ndarray]:
    """Sentence windows of every document (title first), and the document row of each."""
    texts: list[str] = []
    owner: list[int] = []
    for row, (title, full) in enumerate(zip(beir.doc_titles, beir.doc_texts)):
        body = full[len(title) + 2 :] if title and full.startswith(title) else full
        spans = split_sentences(body) or [(0, len(body))]
        for i, j in _pack(spans, max_chars, 1):
            chunk = body[spans[i][0] : spans[j - 1][1]]
            texts.append(f"{title}. {chunk}" if title else chunk)
            owner.append(row)
    return texts, np.asarray(owner, dtype=np.int64)


def cached_embeddings(texts: list[str], embedder, cache_dir: Path, tag: str, progress: bool = False) -> np.ndarray:
    """Embeddings of ``texts``, computed once and kept on disk (keyed by text and model)."""
    h = hashlib.sha256()
    h.update(f"{embedder.info.name}\x00{embedder.info.version}\x00".encode())
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    path = Path(cache_dir) / f"{tag}-{h.hexdigest()[:16]}.npy"
    if path.exists():
        try:
            arr = np.load(path)
            if arr.shape == (len(texts), embedder.info.dim):
                return arr
        except (OSError, ValueError):
            pass
    arr = embedder.encode(texts, batch_size=64, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, arr)
    tmp.replace(path)
    return arr


@dataclass
class BeirEngine:
    """Document-level search over a BEIR corpus with the product's scoring pieces."""

    beir: Beir
    windows: SearchCore  # dense over windows
    owner: np.ndarray  # window -> document row
    docs: SearchCore  # BM25 over whole documents
    cfg: Config

    def dense_docs(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
        """Documents by their best window (max-pooling); also which window was best."""
        ids, scores = self.windows.dense(qvec, k * 4)
        best: dict[int, float] = {}
        window: dict[int, int] = {}
        for w, s in zip(ids, scores):
            d = int(self.owner[w])
            if d not in best:  # results come best-first: the first window is the max
                best[d] = float(s)
                window[d] = int(w)
        rows = list(best)[:k]
        return np.asarray(rows, dtype=np.int64), np.asarray([best[r] for r in rows], dtype=np.float32), window

    def run(self, system: str, qvec: np.ndarray | None, tokens: list[str], k: int, query: str = "") -> list[tuple[int, float]]:
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        cfg = self.cfg
        n = max(k, cfg.candidates)
        dense, window = empty, {}
        if system in ("dense", "hybrid"):
            *dense, window = self.dense_docs(qvec, n)
            dense = tuple(dense)
        sparse = self.docs.sparse(tokens, n) if system in ("bm25", "hybrid") else empty
        scored = fuse(dense, sparse, cfg)
        if system == "hybrid" and cfg.prf_docs > 0 and cfg.prf_weight > 0:
            # The same Rocchio feedback as retrieve.rank, through each document's best window.
            rows = [s.row for s in scored[: cfg.prf_docs] if s.row in window]
            if rows:
                moved = qvec + cfg.prf_weight * np.vstack([self.windows.vector(window[r]) for r in rows]).mean(axis=0)
                moved /= np.linalg.norm(moved) or 1.0
                dense = tuple(self.dense_docs(moved, n)[:2])
                scored = fuse(dense, sparse, cfg)
        if system == "hybrid":
            scored = prefer_expected_answers(scored, query, lambda row: self.beir.doc_texts[row], cfg.answer_type_bonus)
        return [(s.row, s.score) for s in scored[:k]]


def with_abbreviations(beir: Beir) -> tuple[Beir, dict[str, str]]:
    """Documents with their abbreviations spelled out, as the product indexes them (titles unchanged),
    and the corpus's agreed definitions, which the dense model reads queries with."""
    bodies = [full[len(title) + 2 :] if title and full.startswith(title) else full
              for title, full in zip(beir.doc_titles, beir.doc_texts)]
    defs, agreed = corpus_abbreviations({row: [body] for row, body in enumerate(bodies)})
    texts = [f"{title}. {expand(body, defs[row])}" if title else expand(body, defs[row])
             for row, (title, body) in enumerate(zip(beir.doc_titles, bodies))]
    return dataclasses.replace(beir, doc_texts=texts), agreed


def build_engine(beir: Beir, cfg: Config, embedder, cache_dir: Path, progress: bool = False) -> tuple[BeirEngine, float]:
    started = time.perf_counter()
    texts, owner = windows(beir)
    vectors = cached_embeddings(texts, embedder, cache_dir, f"{beir.name}-windows", progress)
    dense = SearchCore(vectors=build_vectors(vectors, approximate=False), bm25=None, size=len(texts))
    sparse = SearchCore(vectors=None, bm25=build_bm25([bm25_tokens(t, cfg.stem) for t in beir.doc_texts], cfg.bm25_k1, cfg.bm25_b),
                        size=len(beir.doc_texts), stem=cfg.stem)
    return BeirEngine(beir, dense, owner, sparse, cfg), time.perf_counter() - started


def _system_config(system: str, cfg: Config) -> Config:
    if system == "rrf":
        return cfg.replace(fusion="rrf", rrf_k=60, dense_weight=1.0, bm25_weight=1.0, prf_docs=0, prf_weight=0.0,
                           answer_type_bonus=0.0)
    return cfg


def metrics(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"})
    per_query = evaluator.evaluate(run)
    # MRR@10 from the run cut at 10 (pytrec_eval's recip_rank has no cutoff).
    top10 = {q: dict(sorted(docs.items(), key=lambda kv: -kv[1])[:10]) for q, docs in run.items()}
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    n = len(qrels)
    return {
        "ndcg@10": sum(per_query.get(q, {}).get("ndcg_cut_10", 0.0) for q in qrels) / n,
        "recall@100": sum(per_query.get(q, {}).get("recall_100", 0.0) for q in qrels) / n,
        "mrr@10": sum(mrr.get(q, {}).get("recip_rank", 0.0) for q in qrels) / n,
    }


def evaluate_beir(folder: Path, split: str, cfg: Config, embedder, cache_dir: Path,
                  systems: tuple[str, ...] = SYSTEMS, progress: bool = False,
                  on_system: Callable[[str], None] | None = None) -> dict:
    beir, abbreviations = with_abbreviations(load_beir(folder, split))
    engine, build_s = build_engine(beir, cfg, embedder, cache_dir, progress)
    qids = list(beir.queries)
    results: dict[str, dict] = {}
    # Latency includes embedding and tokenising the query, as a user would wait for them.
    for system in systems:
        if on_system:
            on_system(system)
        engine.cfg = _system_config(system, cfg)
        run: dict[str, dict[str, float]] = {}
        times: list[float] = []
        for q in qids:
            t0 = time.perf_counter()
            qvec = embedder.encode_query(expand(beir.queries[q], abbreviations)) if system != "bm25" else None
            tokens = bm25_tokens(beir.queries[q], cfg.stem) if system != "dense" else []
            ranked = engine.run("hybrid" if system == "rrf" else system, qvec, tokens, 100, beir.queries[q])
            times.append(time.perf_counter() - t0)
            run[q] = {beir.doc_ids[row]: float(score) for row, score in ranked}
        m = metrics(beir.qrels, run)
        ms = np.asarray(times) * 1000
        results[system] = {**{k: round(v, 4) for k, v in m.items()},
                           "p50_ms": round(float(np.percentile(ms, 50)), 2),
                           "p95_ms": round(float(np.percentile(ms, 95)), 2)}
    return {"dataset": beir.name, "split": split, "default": DEFAULT_SYSTEM, "build_s": round(build_s, 2),
            "queries": len(qids), "documents": len(beir.doc_ids), "systems": results}


def format_beir_table(report: dict) -> str:
    lines = [f"{report['dataset']} · {report['split']} · {report['queries']} queries · {report['documents']} documents · "
             f"build {report['build_s']} s · default: {report['default']}",
             f"{'system':<10} {'nDCG@10':>8} {'R@100':>8} {'MRR@10':>8} {'p50 ms':>8} {'p95 ms':>8}"]
    for name, m in report["systems"].items():
        mark = " *" if name == report["default"] else ""
        lines.append(f"{name:<10} {m['ndcg@10']:>8.4f} {m['recall@100']:>8.4f} {m['mrr@10']:>8.4f} {m['p50_ms']:>8.1f} {m['p95_ms']:>8.1f}{mark}")
    return "\n".join(lines)


# ---------------------------------------------------------------- EduBot's own question set

@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expect: str
    quotes: tuple[str, ...]


def load_questions(path: Path) -> list[Question]:
    rows = _read_jsonl(Path(path))
    out = []
    for r in rows:
        if r.get("expect") not in ("answered", "no_answer", "urgent", "personal_advice", "invalid"):
            raise BeirError(f"{path}: question {r.get('id')} has an unknown expected status {r.get('expect')!r}")
        out.append(Question(r["id"], r["question"], r["expect"], tuple(r.get("quotes", ()))))
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def is_relevant(passage_text: str, quotes: tuple[str, ...]) -> bool:
    """Labels are quotes, not passage ids, so they survive re-chunking."""
    text = _norm(passage_text)
    return any(_norm(q) in text for q in quotes)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _first_relevant(texts: list[str], quotes: tuple[str, ...]) -> tuple[int | None, float, float]:
    """Rank of the first relevant text, and DCG@5 and ideal DCG@5 of the list."""
    import math

    rel = [is_relevant(t, quotes) for t in texts]
    first = next((i + 1 for i, r in enumerate(rel) if r), None)
    dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(rel[:5]) if r)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(5, max(1, sum(rel))))) if any(rel) else 1.0
    return first, dcg, idcg


def evaluate_questions(answerer, questions: list[Question], ranking_depth: int = 10) -> dict:
    """Hit@k, MRR, nDCG@5 on answerable questions; abstention, urgent and advice detection; limitations.

    Ranks are counted in the answer as a reader sees it: the quotes shown, in
    the order shown (research first). The retrieval ranking underneath, before
    the per-document limit and the grouping, is reported beside it to tell a
    ranking miss from a selection miss.
    """
    rows = []
    for q in questions:
        ans = answerer.answer(q.question)
        shown: list[str] = [p.passage.text for p in ans.passages] if q.expect == "answered" else []
        ranked: list[str] = []
        if q.expect == "answered":
            hits = answerer.retriever.search(q.question, k=ranking_depth * 3)
            ranked = [h.passage.text for h in hits if h.passage.kind != "references"][:ranking_depth]
        first, dcg5, idcg5 = _first_relevant(shown, q.quotes)
        retrieval_first, _, _ = _first_relevant(ranked, q.quotes)
        # Limitations: every key limitation of every quoted document must be shown.
        required = set()
        for p in ans.passages:
            meta = answerer.retriever.index.documents[p.passage.doc_id]
            required |= {(meta.id, l.quote) for l in meta.limitations if l.key}
        shown_limits = {(l.doc_id, l.quote) for l in ans.limitations}
        rows.append({
            "id": q.id, "question": q.question, "expect": q.expect, "status": ans.status,
            "first_relevant_rank": first, "retrieval_rank": retrieval_first,
            "dcg5": dcg5, "idcg5": idcg5,
            "best_dense": None if ans.best_score is None else round(float(ans.best_score), 4),
            "best_bm25": None if ans.best_bm25 is None else round(float(ans.best_bm25), 4),
            "passages": [p.passage.id for p in ans.passages],
            # A question naming a paper's author is answered whatever its scores (see Answerer._evidence).
            "lookup": bool(answerer.retriever.named_documents(q.question)),
            "limitations_complete": required <= shown_limits if ans.passages else None,
        })
    answerable = [r for r in rows if r["expect"] == "answered"]
    n = len(answerable)

    def hit(k: int, key: str = "first_relevant_rank") -> float | None:
        return _ratio(sum(1 for r in answerable if r[key] and r[key] <= k), n)

    abst_pool = [r for r in rows if r["expect"] in ("answered", "no_answer")]
    tp = sum(1 for r in abst_pool if r["expect"] == "no_answer" and r["status"] == "no_answer")
    fp = sum(1 for r in abst_pool if r["expect"] == "answered" and r["status"] == "no_answer")
    fn = sum(1 for r in abst_pool if r["expect"] == "no_answer" and r["status"] != "no_answer")
    urgent = [r for r in rows if r["expect"] == "urgent"]
    advice_pred = [r for r in rows if r["status"] == "personal_advice"]
    advice_true = [r for r in rows if r["expect"] == "personal_advice"]
    with_passages = [r for r in rows if r["limitations_complete"] is not None]
    metrics_ = {
        "questions": len(rows),
        "answerable": n,
        "hit@1": hit(1), "hit@3": hit(3), "hit@5": hit(5),
        "mrr": round(sum(1 / r["first_relevant_rank"] for r in answerable if r["first_relevant_rank"]) / n, 4) if n else None,
        "ndcg@5": round(sum(r["dcg5"] / r["idcg5"] for r in answerable) / n, 4) if n else None,
        "retrieval_hit@5": hit(5, "retrieval_rank"), "retrieval_hit@10": hit(10, "retrieval_rank"),
        "abstention_precision": _ratio(tp, tp + fp),
        "abstention_recall": _ratio(tp, tp + fn),
        "urgent_recall": _ratio(sum(1 for r in urgent if r["status"] == "urgent"), len(urgent)),
        "advice_precision": _ratio(sum(1 for r in advice_pred if r["expect"] == "personal_advice"), len(advice_pred)),
        "advice_recall": _ratio(sum(1 for r in advice_true if r["status"] == "personal_advice"), len(advice_true)),
        "limitations_complete": _ratio(sum(1 for r in with_passages if r["limitations_complete"]), len(with_passages)),
        "status_accuracy": _ratio(sum(1 for r in rows if r["status"] == r["expect"]), len(rows)),
    }
    failures = [r for r in rows if r["status"] != r["expect"]
                or (r["expect"] == "answered" and not (r["first_relevant_rank"] and r["first_relevant_rank"] <= 5))
                or r["limitations_complete"] is False]
    report = {"metrics": metrics_, "threshold": answerer.cfg.answer_threshold, "lexical_threshold": answerer.cfg.lexical_threshold,
              "calibration": calibrate_threshold(rows), "failures": failures, "rows": rows}
    report["summary_text"] = format_question_report(report)
    return report


def calibrate_threshold(rows: list[dict]) -> dict:
    """The (cosine, BM25) thresholds that best separate answerable from unanswerable questions.

    A question is answered when either score reaches its threshold. The cosine
    is the main signal and is set first, on its own; BM25 then rescues the
    questions below it that name rare terms, so its threshold is set on those
    questions alone. Candidates are midpoints between observed scores; the best
    minimum of abstention precision and recall wins, ties going to the stricter
    threshold. Author lookups are left out: they are answered whatever their scores.
    """
    pool = [(r["best_dense"] or 0.0, r["best_bm25"] or 0.0, r["expect"] == "no_answer") for r in rows
            if r["expect"] in ("answered", "no_answer") and r["best_dense"] is not None and not r.get("lookup")]
    if not pool:
        return {"answer_threshold": None, "lexical_threshold": None, "precision": None, "recall": None}

    def midpoints(values: list[float]) -> list[float]:
        v = sorted(set(round(x, 3) for x in values)) or [0.0]
        return [round((a + b) / 2, 3) for a, b in zip(v, v[1:])] + [v[-1] + 1.0]

    def quality(tc: float, tb: float) -> tuple[float, float, float, float]:
        tp = fp = fn = 0
        for c, b, unanswerable in pool:
            abstain = c < tc and b < tb
            tp += abstain and unanswerable
            fp += abstain and not unanswerable
            fn += (not abstain) and unanswerable
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return min(p, r), p + r, p, r

    never = float("inf")
    tc = max(midpoints([c for c, _, _ in pool]), key=lambda t: (quality(t, never)[:2], t))
    tb = max(midpoints([b for c, b, _ in pool if c < tc]), key=lambda t: (quality(tc, t)[:2], t))
    _, _, p, r = quality(tc, tb)
    return {"answer_threshold": tc, "lexical_threshold": tb, "precision": round(p, 4), "recall": round(r, 4)}


def format_question_report(report: dict) -> str:
    m = report["metrics"]
    targets = {"hit@5": 0.95, "urgent_recall": 1.0, "abstention_precision": 0.9, "abstention_recall": 0.9,
               "limitations_complete": 1.0}
    lines = [f"{m['questions']} questions ({m['answerable']} answerable) · thresholds: cosine {report['threshold']}, "
             f"BM25 {report['lexical_threshold']}"]
    for key in ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "retrieval_hit@5", "retrieval_hit@10", "abstention_precision", "abstention_recall",
                "urgent_recall", "advice_precision", "advice_recall", "limitations_complete", "status_accuracy"):
        value = m[key]
        goal = targets.get(key)
        mark = "" if goal is None or value is None else ("  ok" if value >= goal else f"  below target {goal}")
        lines.append(f"{key:<22} {'-' if value is None else f'{value:.3f}'}{mark}")
    cal = report["calibration"]
    lines.append(f"calibrated thresholds  cosine {cal['answer_threshold']}, BM25 {cal['lexical_threshold']} "
                 f"(abstention precision {cal['precision']}, recall {cal['recall']})")
    if report["failures"]:
        lines.append(f"\n{len(report['failures'])} questions failed:")
        for r in report["failures"]:
            lines.append(f"  {r['id']} expected {r['expect']}, got {r['status']} (first relevant quote shown {r['first_relevant_rank']}, "
                         f"in the ranking {r['retrieval_rank']}, "
                         f"best cosine {r['best_dense']}, BM25 {r['best_bm25']}): {r['question'][:70]}")
    return "\n".join(lines)


def write_report(report: dict, path: Path) -> None:
    """Markdown with a Mermaid bar chart, and the full figures as JSON beside it."""
    m = report["metrics"]
    keys = ["hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "abstention_precision", "abstention_recall",
            "urgent_recall", "advice_recall", "limitations_complete"]
    values = [m[k] if m[k] is not None else 0 for k in keys]
    md = ["# EduBot evaluation", "", "```", report["summary_text"], "```", "", "```mermaid", "xychart-beta",
          '    title "EduBot question set"', "    x-axis [" + ", ".join(f'"{k}"' for k in keys) + "]",
          '    y-axis "score" 0 --> 1', "    bar [" + ", ".join(f"{v:.3f}" for v in values) + "]", "```", "",
          "| question | expected | got | first relevant quote shown | in the ranking |", "|---|---|---|---|---|"]
    for r in report["failures"]:
        md.append(f"| {r['question'].replace('|', '/')} | {r['expect']} | {r['status']} | {r['first_relevant_rank'] or '-'} "
                  f"| {r['retrieval_rank'] or '-'} |")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(md) + "\n", encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps({k: v for k, v in report.items() if k != "summary_text"}, indent=1), encoding="utf-8")
