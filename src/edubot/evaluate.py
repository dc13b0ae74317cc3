"""Retrieval quality: BEIR benchmarks (``edubot eval-beir``) with IR metrics from pytrec_eval.

A BEIR folder has corpus.jsonl, queries.jsonl and qrels/<split>.tsv. Long
documents are split into sentence windows for the dense model (which reads
256 word pieces at most) and a document scores its best window; BM25 reads
the whole document. The fusion is the product's own ``retrieve.fuse``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .chunk import _pack, split_sentences
from .config import Config
from .index import SearchCore, bm25_tokens, build_bm25, build_vectors
from .retrieve import fuse

SYSTEMS = ("bm25", "dense", "hybrid")
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

    def dense_docs(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = self.windows.dense(qvec, k * 4)
        best: dict[int, float] = {}
        for w, s in zip(ids, scores):
            d = int(self.owner[w])
            if d not in best:  # results come best-first: the first window is the max
                best[d] = float(s)
        rows = list(best)[:k]
        return np.asarray(rows, dtype=np.int64), np.asarray([best[r] for r in rows], dtype=np.float32)

    def run(self, system: str, qvec: np.ndarray | None, tokens: list[str], k: int) -> list[tuple[int, float]]:
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        n = max(k, self.cfg.candidates)
        dense = self.dense_docs(qvec, n) if system in ("dense", "hybrid") else empty
        sparse = self.docs.sparse(tokens, n) if system in ("bm25", "hybrid") else empty
        return [(s.row, s.score) for s in fuse(dense, sparse, self.cfg)[:k]]


def build_engine(beir: Beir, cfg: Config, embedder, cache_dir: Path, progress: bool = False) -> tuple[BeirEngine, float]:
    started = time.perf_counter()
    texts, owner = windows(beir)
    vectors = cached_embeddings(texts, embedder, cache_dir, f"{beir.name}-windows", progress)
    dense = SearchCore(vectors=build_vectors(vectors, approximate=False), bm25=None, size=len(texts))
    sparse = SearchCore(vectors=None, bm25=build_bm25([bm25_tokens(t, cfg.stem) for t in beir.doc_texts], cfg.bm25_k1, cfg.bm25_b),
                        size=len(beir.doc_texts), stem=cfg.stem)
    return BeirEngine(beir, dense, owner, sparse, cfg), time.perf_counter() - started


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
    beir = load_beir(folder, split)
    engine, build_s = build_engine(beir, cfg, embedder, cache_dir, progress)
    qids = list(beir.queries)
    results: dict[str, dict] = {}
    # Latency includes embedding and tokenising the query, as a user would wait for them.
    for system in systems:
        if on_system:
            on_system(system)
        run: dict[str, dict[str, float]] = {}
        times: list[float] = []
        for q in qids:
            t0 = time.perf_counter()
            qvec = embedder.encode_query(beir.queries[q]) if system != "bm25" else None
            tokens = bm25_tokens(beir.queries[q], cfg.stem) if system != "dense" else []
            ranked = engine.run(system, qvec, tokens, 100)
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
