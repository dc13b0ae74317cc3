"""Retrieval quality: BEIR benchmarks (``edubot eval-beir``) and EduBot's own question set.

A BEIR folder has corpus.jsonl, queries.jsonl and qrels/<split>.tsv. Each
benchmark document is read as the product reads a corpus document: its body is
cut into sentence windows (the product's passages), its title is a field of the
document indexed once, and the product's ``retrieve.Searcher`` ranks the windows.
A document then scores its best window (``BeirEngine``): the figures measure the
code patients use, not a copy of it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from .abbreviations import corpus_abbreviations, expand
from .chunk import _pack, split_sentences
from .config import PROJECT_ROOT, Config
from .fusion import Fusion
from .index import SearchCore, bm25_tokens, index_text
from .kinds import KindModel, shipped_kinds, train_kinds
from .querymap import QueryMap, train_query_map
from .retrieve import Query, RankingSettings, Scored, Searcher, question_first

BEIR_WINDOW_CHARS = 900
# Each benchmark's tuned ranking settings (scripts/tune_beir.py writes them; eval-beir reads them).
RANKING_DIR = PROJECT_ROOT / "eval" / "ranking"


class BeirError(Exception):
    """A BEIR folder that cannot be evaluated; the message names the file."""


@dataclass(frozen=True)
class Beir:
    name: str
    doc_ids: list[str]
    titles: list[str]
    bodies: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    # The kind of answer each question asks for, where the benchmark says (MedQuAD's metadata "qtype").
    kinds: dict[str, str] = field(default_factory=dict)


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
    rows = _read_jsonl(folder / "queries.jsonl")
    queries = {str(q["_id"]): q.get("text", "") for q in rows}
    kinds = {str(q["_id"]): str(q["metadata"]["qtype"]) for q in rows
             if isinstance(q.get("metadata"), dict) and q["metadata"].get("qtype")}
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
        titles=[str(d.get("title") or "").strip() for d in corpus],
        bodies=[str(d.get("text") or "").strip() for d in corpus],
        queries={q: queries[q] for q in qrels},
        qrels=qrels,
        kinds={q: kinds[q] for q in qrels if q in kinds},
    )


def abbreviations_of(beir: Beir) -> tuple[list[Mapping[str, str]], dict[str, str]]:
    """Each document's abbreviations (its own, then the corpus's agreed ones), as the product finds them,
    and the agreed definitions alone, which the dense model reads questions with."""
    defs, agreed = corpus_abbreviations({row: [body] for row, body in enumerate(beir.bodies)})
    return [defs[row] for row in range(len(beir.bodies))], agreed


def windows(beir: Beir, definitions: Sequence[Mapping[str, str]] | None = None,
            max_chars: int = BEIR_WINDOW_CHARS) -> tuple[list[str], np.ndarray]:
    """What the indexes see of each document's sentence windows (the product's ``index_text``: no title,
    abbreviations spelled out), and the document row of each window."""
    texts: list[str] = []
    owner: list[int] = []
    for row, body in enumerate(beir.bodies):
        spans = split_sentences(body) or [(0, len(body))]
        for i, j in _pack(spans, max_chars, 1):
            texts.append(index_text(body[spans[i][0] : spans[j - 1][1]], "", definitions[row] if definitions else None))
            owner.append(row)
    return texts, np.asarray(owner, dtype=np.int64)


def cached_embeddings(texts: list[str], embedder, cache_dir: Path, tag: str, progress: bool = False) -> np.ndarray:
    """Embeddings of ``texts``, computed once and kept on disk (keyed by text, model and encoder)."""
    h = hashlib.sha256()
    h.update(f"{embedder.info.cache_key}\x00".encode())
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
    tmp = path.with_suffix(f".tmp{id(arr)}.npy")
    np.save(tmp, arr)
    tmp.replace(path)
    return arr


# ---------------------------------------------------------------- the benchmark engine

SYSTEMS = ("bm25", "dense", "rrf", "minmax", "hybrid")
DEFAULT_SYSTEM = "hybrid"


def baseline_settings(system: str, tuned: RankingSettings) -> RankingSettings:
    """The settings of each system in the table: the single systems (each reading the passage and the
    title field), the simple fusions with equal weights, and the corpus's own tuned ranking ("hybrid")."""
    plain = tuned.replace(prf_docs=0, prf_weight=0.0, answer_type_bonus=0.0, definition_bonus=0.0, kind_bonus=0.0)
    if system == "bm25":
        return plain.replace(fusion=Fusion.MINMAX, dense_weight=0.0, bm25_weight=1.0, title_dense_weight=0.0, title_bm25_weight=1.0)
    if system == "dense":
        return plain.replace(fusion=Fusion.MINMAX, dense_weight=1.0, bm25_weight=0.0, title_dense_weight=1.0, title_bm25_weight=0.0)
    if system == "rrf":
        return plain.replace(fusion=Fusion.RRF, rrf_k=60.0, dense_weight=1.0, bm25_weight=1.0, title_dense_weight=1.0, title_bm25_weight=1.0)
    if system == "minmax":
        return plain.replace(fusion=Fusion.MINMAX, dense_weight=1.0, bm25_weight=1.0, title_dense_weight=1.0, title_bm25_weight=1.0)
    if system == "hybrid":
        return tuned
    raise ValueError(f"unknown system {system!r}; one of {', '.join(SYSTEMS)}")


@dataclass
class BeirEngine:
    """A BEIR corpus ranked by the product's ``Searcher`` (windows as passages, titles as document fields);
    a document scores its best window."""

    beir: Beir
    searcher: Searcher
    agreed: dict[str, str]  # the corpus's abbreviations, which the dense model reads questions with
    embedder: Any

    def query(self, text: str) -> Query:
        """The question as the product reads it: abbreviations spelled out for the dense model, as typed for BM25."""
        text = question_first(text)
        return self.searcher.query(text, self.embedder.encode_query(expand(text, self.agreed)))

    def queries(self, texts: Sequence[str]) -> list[Query]:
        """``query`` for many questions, the model run in batches (for tuning, where latency is not measured)."""
        texts = [question_first(t) for t in texts]
        vectors = self.embedder.encode([expand(t, self.agreed) for t in texts])
        return [self.searcher.query(t, v) for t, v in zip(texts, vectors)]

    def documents(self, scored: Scored, k: int = 100) -> list[tuple[int, float]]:
        """Document rows by their best window's score, best first (at most ``k``)."""
        best: dict[int, float] = {}
        for row, score in zip(scored.rows.tolist(), scored.scores.tolist()):
            doc = int(self.searcher.core.owner[row])
            if doc not in best:  # rows come best first: the first window of a document is its best
                best[doc] = score
                if len(best) == k:
                    break
        return list(best.items())

    def run(self, q: Query, settings: RankingSettings | None = None, k: int = 100) -> list[tuple[int, float]]:
        return self.documents(self.searcher.rank(q, settings=settings), k)


def query_map_path(settings_path: Path) -> Path:
    """Where a benchmark's query map sits: beside its ranking settings (``nfcorpus.json`` → ``nfcorpus.querymap.npz``)."""
    return settings_path.with_suffix(".querymap.npz")


def query_map_for(name: str, folder: Path | None = None) -> QueryMap | None:
    """A benchmark's learned query map (``scripts/tune_beir.py --query-map-from``), None when it has none."""
    path = query_map_path(Path(folder) if folder else RANKING_DIR / f"{name}.json")
    if not path.exists():
        return None
    try:
        return QueryMap.load(path)
    except (OSError, ValueError, KeyError) as e:
        raise BeirError(f"{path}: not a query map ({e})") from None


def build_engine(beir: Beir, settings: RankingSettings, cfg: Config, embedder, cache_dir: Path,
                 progress: bool = False, kinds: KindModel | None | Literal["shipped"] = "shipped",
                 query_map: QueryMap | None = None) -> tuple[BeirEngine, float]:
    """The corpus indexed as the product indexes it (embeddings cached); ``kinds``: the kind model the
    searcher reads (the shipped one unless given, None for none); ``query_map``: how question vectors
    are mapped (none unless given)."""
    kinds = shipped_kinds() if kinds == "shipped" else kinds
    started = time.perf_counter()
    definitions, agreed = abbreviations_of(beir)
    texts, owner = windows(beir, definitions)
    vectors = cached_embeddings(texts, embedder, cache_dir, f"{beir.name}-windows", progress)
    titles = cached_embeddings(beir.titles, embedder, cache_dir, f"{beir.name}-titles", progress)
    core = SearchCore.build(vectors, [bm25_tokens(t, cfg.stem) for t in texts], owner, titles,
                            [bm25_tokens(t, cfg.stem) for t in beir.titles], cfg.bm25_k1, cfg.bm25_b, cfg.stem)
    searcher = Searcher(core, settings, texts.__getitem__, beir.titles.__getitem__, kinds, query_map)
    return BeirEngine(beir, searcher, agreed, embedder), time.perf_counter() - started


def train_kinds_on(engine: BeirEngine, qids: Sequence[str], read: Sequence[Query], c: float = 4.0) -> KindModel:
    """A kind model learned from a benchmark's labelled questions: each question's vector with its kind, and
    every window of each document judged relevant to it with the same kind."""
    beir, core = engine.beir, engine.searcher.core
    row_of = {d: i for i, d in enumerate(beir.doc_ids)}
    pairs = [(q, r.vector) for q, r in zip(qids, read) if q in beir.kinds and r.vector is not None]
    if not pairs:
        raise BeirError(f"{beir.name}: its questions carry no kind (metadata qtype)")
    windows_of: dict[int, list[int]] = {}
    for w, d in enumerate(core.owner.tolist()):
        windows_of.setdefault(d, []).append(w)
    rows: list[int] = []
    passage_kinds: list[str] = []
    for q, _ in pairs:
        for doc, grade in beir.qrels[q].items():
            if grade > 0 and doc in row_of:
                found = windows_of.get(row_of[doc], [])
                rows += found
                passage_kinds += [beir.kinds[q]] * len(found)
    question_vectors = np.stack([v for _, v in pairs])
    meta = {"dataset": beir.name, "questions": len(pairs), "passages": len(rows), "c": c}
    return train_kinds(question_vectors, [beir.kinds[q] for q, _ in pairs],
                       core.stored_vectors(np.asarray(rows, dtype=np.int64)), passage_kinds, c, meta)


def train_query_map_on(engine: BeirEngine, qids: Sequence[str], read: Sequence[Query], split: str,
                       **options) -> QueryMap:
    """A query map learned from a benchmark's judged questions (their vectors as read without a map) against
    every window of the corpus; ``options`` go to ``querymap.train_query_map``."""
    beir, core = engine.beir, engine.searcher.core
    if engine.searcher.query_map is not None:
        raise BeirError("a query map is learned from questions read without one")
    row_of = {d: i for i, d in enumerate(beir.doc_ids)}
    pairs = [(q, r.vector) for q, r in zip(qids, read) if r.vector is not None]
    grades = [{row_of[d]: float(g) for d, g in beir.qrels.get(q, {}).items() if g > 0 and d in row_of} for q, _ in pairs]
    if not any(grades):
        raise BeirError(f"{beir.name}: none of these questions has a judged document")
    windows = core.stored_vectors(np.arange(core.size, dtype=np.int64))
    meta = {"dataset": beir.name, "split": split}
    return train_query_map(np.stack([v for _, v in pairs]), grades, windows, core.owner, meta=meta, **options)


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


def ranking_settings_for(name: str, cfg: Config, folder: Path | None = None) -> tuple[RankingSettings, str]:
    """A benchmark's tuned ranking (``eval/ranking/<name>.json``, written by ``scripts/tune_beir.py``),
    else the product's configuration; and where it came from."""
    path = Path(folder) if folder else RANKING_DIR / f"{name}.json"
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return RankingSettings.from_json(data["settings"]), str(path)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise BeirError(f"{path}: not a ranking settings file ({e})") from None
    if folder:
        raise BeirError(f"{path}: missing")
    return RankingSettings.from_config(cfg), "configuration"


def evaluate_beir(folder: Path, split: str, cfg: Config, embedder, cache_dir: Path,
                  systems: tuple[str, ...] = SYSTEMS, progress: bool = False,
                  on_system: Callable[[str], None] | None = None, ranking: Path | None = None) -> dict:
    beir = load_beir(folder, split)
    tuned, source = ranking_settings_for(beir.name, cfg, ranking)
    query_map = query_map_for(beir.name, ranking)
    engine, build_s = build_engine(beir, tuned, cfg, embedder, cache_dir, progress, query_map=query_map)
    qids = list(beir.queries)
    # Latency includes reading and embedding the question, as a user would wait for it.
    queries: dict[str, Query] = {}
    read_s: dict[str, float] = {}
    for q in qids:
        t0 = time.perf_counter()
        queries[q] = engine.query(beir.queries[q])
        read_s[q] = time.perf_counter() - t0
    results: dict[str, dict] = {}
    for system in systems:
        if on_system:
            on_system(system)
        settings = baseline_settings(system, tuned)
        run: dict[str, dict[str, float]] = {}
        times: list[float] = []
        for q in qids:
            t0 = time.perf_counter()
            ranked = engine.run(queries[q], settings)
            times.append(time.perf_counter() - t0 + read_s[q])
            run[q] = {beir.doc_ids[row]: float(score) for row, score in ranked}
        m = metrics(beir.qrels, run)
        ms = np.asarray(times) * 1000
        results[system] = {**{k: round(v, 4) for k, v in m.items()},
                           "p50_ms": round(float(np.percentile(ms, 50)), 2),
                           "p95_ms": round(float(np.percentile(ms, 95)), 2)}
    return {"dataset": beir.name, "split": split, "default": DEFAULT_SYSTEM, "build_s": round(build_s, 2),
            "queries": len(qids), "documents": len(beir.doc_ids), "ranking": tuned.to_json(), "ranking_source": source,
            "query_map": query_map.meta if query_map is not None else None,
            "systems": results}


def format_beir_table(reports: Sequence[dict]) -> str:
    """One table for any number of benchmark runs: a row per dataset, split and system."""
    header = (f"{'dataset':<10} {'split':<6} {'queries':>7} {'system':<8} {'nDCG@10':>8} {'R@100':>8} {'MRR@10':>8} "
              f"{'p50 ms':>7} {'p95 ms':>7}")
    lines = [header]
    for report in reports:
        for name, m in report["systems"].items():
            mark = " *" if name == report["default"] else ""
            lines.append(f"{report['dataset']:<10} {report['split']:<6} {report['queries']:>7} {name:<8} {m['ndcg@10']:>8.4f} "
                         f"{m['recall@100']:>8.4f} {m['mrr@10']:>8.4f} {m['p50_ms']:>7.1f} {m['p95_ms']:>7.1f}{mark}")
    described = "; ".join(f"{r['dataset']}: {_describe(r['ranking'])}"
                          + (f", questions read through a query map learned on {r['query_map'].get('split', '?')}"
                             f" (every system)" if r.get("query_map") else "") for r in reports)
    lines.append(f"* the corpus's own ranking ({described})")
    return "\n".join(lines)


def _describe(settings: dict) -> str:
    weights = "/".join(f"{settings[k]:g}" for k in ("dense_weight", "bm25_weight", "title_dense_weight", "title_bm25_weight"))
    prf = f", feedback {settings['prf_docs']}×{settings['prf_weight']:g}" if settings["prf_docs"] and settings["prf_weight"] else ""
    kinds = f", kinds {settings['kind_bonus']:g}" if settings.get("kind_bonus") else ""
    return f"{settings['fusion']} {weights}{prf}{kinds}"


# ---------------------------------------------------------------- EduBot's own question set

@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expect: str
    quotes: tuple[str, ...]
    split: str = "dev"


def load_questions(path: Path) -> list[Question]:
    rows = _read_jsonl(Path(path))
    out = []
    for r in rows:
        if r.get("expect") not in ("answered", "no_answer", "urgent", "personal_advice", "invalid"):
            raise BeirError(f"{path}: question {r.get('id')} has an unknown expected status {r.get('expect')!r}")
        if r.get("split", "dev") not in ("dev", "test"):
            raise BeirError(f"{path}: question {r.get('id')} has split {r.get('split')!r}; use dev or test")
        out.append(Question(r["id"], r["question"], r["expect"], tuple(r.get("quotes", ())), r.get("split", "dev")))
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


Tick = Callable[[], None]


def _ticking(items, tick: Tick | None):
    for item in items:
        yield item
        if tick:
            tick()


def evaluate_questions(answerer, questions: list[Question], ranking_depth: int = 10, tick: Tick | None = None) -> dict:
    """Every figure twice: on the dev split (where settings were chosen) and on the test split (reported)."""
    rows = [_question_row(answerer, q, ranking_depth) for q in _ticking(questions, tick)]
    report: dict = {"splits": {}, "abstention_threshold": answerer.abstention.threshold}
    for split in ("dev", "test"):
        part = [r for r in rows if r["split"] == split]
        if part:
            report["splits"][split] = _question_metrics(part)
    report["failures"] = [r for r in rows if r["failed"]]
    report["rows"] = rows
    report["summary_text"] = format_question_report(report)
    return report


def _question_row(answerer, q: Question, ranking_depth: int) -> dict:
    """One question's answer as a reader sees it, and the retrieval ranking under it.

    Ranks are counted in the answer as a reader sees it: the quotes shown, in
    the order shown. The retrieval ranking underneath, before the per-document
    limit and the grouping, is reported beside it to tell a ranking miss from a
    selection miss.
    """
    ans = answerer.answer(q.question)
    shown: list[str] = [p.passage.text for p in ans.passages] if q.expect == "answered" else []
    ranked: list[str] = []
    if q.expect == "answered":
        hits = answerer.ranking(q.question, ranking_depth * 3).hits
        ranked = [h.passage.text for h in hits if h.passage.kind != "references"][:ranking_depth]
    first, dcg5, idcg5 = _first_relevant(shown, q.quotes)
    retrieval_first, _, _ = _first_relevant(ranked, q.quotes)
    # Limitations: every key limitation of every quoted document must be shown.
    required = set()
    for p in ans.passages:
        meta = answerer.retriever.index.documents[p.passage.doc_id]
        required |= {(meta.id, lim.quote) for lim in meta.limitations if lim.key}
    shown_limits = {(lim.doc_id, lim.quote) for lim in ans.limitations}
    row = {
        "id": q.id, "split": q.split, "question": q.question, "expect": q.expect, "status": ans.status,
        "first_relevant_rank": first, "retrieval_rank": retrieval_first, "dcg5": dcg5, "idcg5": idcg5,
        "signals": ans.signals.to_json() if ans.signals else None,
        "p_answerable": round(answerer.abstention.probability(ans.signals), 4) if ans.signals else None,
        "passages": [p.passage.id for p in ans.passages],
        # A question naming a paper's author is answered whatever its signals.
        "lookup": bool(answerer.retriever.named_documents(q.question)),
        "limitations_complete": required <= shown_limits if ans.passages else None,
    }
    row["failed"] = (row["status"] != q.expect or (q.expect == "answered" and not (first and first <= 5))
                     or row["limitations_complete"] is False)
    return row


def _question_metrics(rows: list[dict]) -> dict:
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
    return {
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


QUESTION_TARGETS = {"hit@5": 0.95, "hit@1": 0.75, "urgent_recall": 1.0, "abstention_precision": 0.9,
                    "abstention_recall": 0.9, "limitations_complete": 1.0}
QUESTION_KEYS = ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "retrieval_hit@5", "retrieval_hit@10", "abstention_precision",
                 "abstention_recall", "urgent_recall", "advice_precision", "advice_recall", "limitations_complete",
                 "status_accuracy")


def format_question_report(report: dict) -> str:
    splits = report["splits"]
    names = [s for s in ("dev", "test") if s in splits]
    head = " · ".join(f"{s}: {splits[s]['questions']} questions ({splits[s]['answerable']} answerable)" for s in names)
    lines = [f"{head} · abstention threshold {report['abstention_threshold']}",
             f"{'metric':<22}" + "".join(f"{s:>9}" for s in names) + "   target (on test)"]
    for key in QUESTION_KEYS:
        cells = "".join(f"{'-' if splits[s][key] is None else format(splits[s][key], '.3f'):>9}" for s in names)
        goal = QUESTION_TARGETS.get(key)
        mark = ""
        if goal is not None and "test" in splits and splits["test"][key] is not None:
            mark = "   ok" if splits["test"][key] >= goal else f"   below {goal}"
        lines.append(f"{key:<22}{cells}{mark}")
    # Only the dev split's failures are listed: reading the test split's failed questions is how a held-out
    # split turns into a tuning set. They stay in the report's JSON for whoever audits a release.
    dev_failures = [r for r in report["failures"] if r["split"] != "test"]
    held = len(report["failures"]) - len(dev_failures)
    if held:
        lines.append(f"\n{held} test questions failed (not listed: the test split is for reporting, not reading).")
    if dev_failures:
        lines.append(f"\n{len(dev_failures)} dev questions failed:")
        for r in dev_failures:
            lines.append(f"  [{r['split']}] {r['id']} expected {r['expect']}, got {r['status']} (first relevant quote shown "
                         f"{r['first_relevant_rank']}, in the ranking {r['retrieval_rank']}, P(answerable) {r['p_answerable']}): "
                         f"{r['question'][:70]}")
    return "\n".join(lines)


def write_report(report: dict, path: Path) -> None:
    """Markdown with a Mermaid bar chart, and the full figures as JSON beside it."""
    m = report["splits"].get("test") or next(iter(report["splits"].values()))
    keys = ["hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "abstention_precision", "abstention_recall",
            "urgent_recall", "advice_recall", "limitations_complete"]
    values = [m[k] if m[k] is not None else 0 for k in keys]
    md = ["# EduBot evaluation", "", "```", report["summary_text"], "```", "", "```mermaid", "xychart-beta",
          '    title "EduBot question set (test split)"', "    x-axis [" + ", ".join(f'"{k}"' for k in keys) + "]",
          '    y-axis "score" 0 --> 1', "    bar [" + ", ".join(f"{v:.3f}" for v in values) + "]", "```", "",
          "| split | question | expected | got | first relevant quote shown | in the ranking |", "|---|---|---|---|---|---|"]
    for r in report["failures"]:
        md.append(f"| {r['split']} | {r['question'].replace('|', '/')} | {r['expect']} | {r['status']} | {r['first_relevant_rank'] or '-'} "
                  f"| {r['retrieval_rank'] or '-'} |")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(md) + "\n", encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps({k: v for k, v in report.items() if k != "summary_text"}, indent=1), encoding="utf-8")


# ---------------------------------------------------------------- triage on patients' own messages

STATUSES = ("answered", "no_answer", "urgent", "personal_advice", "invalid")


@dataclass(frozen=True)
class Message:
    """A labelled message: from a triage bank (``message``) or the question set (``question``)."""

    id: str
    text: str
    expect: str
    category: str
    split: str
    lang: str = "en"
    source: str = ""  # the file it came from: messages of one file share a writer


class TriageRows(NamedTuple):
    """Labelled messages as the triage classifiers are trained on them."""

    texts: list[str]  # text speak spelled out, English spelling corrected (what MiniLM reads)
    raw: list[str]  # as written (what the multilingual model reads)
    labels: np.ndarray  # (messages, 2) int: urgent, personal advice
    caught: np.ndarray  # (messages, 2) bool: what the rule layers already flag
    pool: np.ndarray  # answerable or unanswerable bank questions: whose false alarms are bounded
    english: np.ndarray  # bool


def triage_rows(messages: Sequence[Message], triager) -> TriageRows:
    """The rows ``edubot triage-train`` (and the leave-one-writer-out script) train on."""
    texts, labels, caught, pool, english = [], [], [], [], []
    for m in messages:
        t = triager.triage(m.text)
        reading = triager.read(m.text)
        texts.append(reading.corrected or m.text)
        english.append(reading.english)
        labels.append([m.expect == "urgent", m.expect == "personal_advice"])
        caught.append([t.status == "urgent", t.status == "personal_advice"])
        pool.append(m.expect in ("answered", "no_answer") and m.category != "out_of_scope")  # hard cases, not easy negatives
    return TriageRows(texts, [m.text for m in messages], np.asarray(labels, dtype=int).reshape(-1, 2),
                      np.asarray(caught, dtype=bool).reshape(-1, 2), np.asarray(pool, dtype=bool),
                      np.asarray(english, dtype=bool))


def answering_files(paths: Sequence[Path]) -> list[tuple[str, str, str]]:
    """(bank file name, message, id of the corpus file that answers it) for every answerable message of
    these banks that names its file (``source``): what the product's ranking is measured and mapped on."""
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("expect") == "answered" and row.get("source"):
                out.append((Path(path).name, str(row["message"]), str(row["source"]).removesuffix(".txt")))
    return out


def train_query_map_on_files(retriever, vectors: np.ndarray, sources: Sequence[str], **options) -> QueryMap:
    """A query map learned from questions (``vectors``, read without a map) each naming the corpus file that
    answers it (``answering_files``), against every window of ``retriever``'s index; ``options`` go to
    ``querymap.train_query_map``."""
    core = retriever.searcher.core
    row_of: dict[str, int] = {}
    for i, p in enumerate(retriever.index.passages):
        row_of.setdefault(p.doc_id, int(core.owner[i]))
    windows = core.stored_vectors(np.arange(core.size, dtype=np.int64))
    return train_query_map(vectors, [{row_of[s]: 1.0} for s in sources], windows, core.owner, **options)


def load_messages(path: Path, split: str | None = None) -> list[Message]:
    """Labelled messages of a JSON-lines file; a bank named ``dev*.jsonl``/``test*.jsonl`` is wholly that split."""
    path = Path(path)
    default_split = next((s for s in ("dev", "test") if path.stem.startswith(s)), "dev")
    out = []
    for r in _read_jsonl(path):
        expect = r.get("expect")
        if expect not in STATUSES:
            raise BeirError(f"{path}: message {r.get('id')} has an unknown expected status {expect!r}")
        text = r.get("message", r.get("question"))
        if not isinstance(text, str):
            raise BeirError(f"{path}: message {r.get('id')} has no text ('message' or 'question')")
        category = r.get("category") or {"answered": "answerable"}.get(expect, expect)
        m = Message(str(r.get("id")), text, expect, category, r.get("split", default_split), r.get("lang", "en"),
                    path.name)
        if split is None or m.split == split:
            out.append(m)
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """95% Wilson score interval of a proportion k/n (sound for small n and for 0 or n)."""
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def _rate(k: int, n: int) -> dict:
    return {"k": k, "n": n, "rate": _ratio(k, n), "ci95": wilson(k, n)}


def outcome_ok(expect: str, status: str, quoted: int) -> bool:
    """Whether a reply is right for its label. An expected "no answer" is met by any reply that quotes nothing
    but an emergency message (a refusal to advise that quotes nothing abstains too)."""
    if expect == "no_answer":
        return status in ("no_answer", "personal_advice", "invalid") and quoted == 0
    return status == expect


def evaluate_triage(answerer, messages: list[Message], tick: Tick | None = None) -> dict:
    """Recall and false alarms per category, with 95% confidence intervals, on patients' own messages.

    Reported (each with k, n, rate and a Wilson interval):
    - per category: the share of messages given the right reply;
    - urgent recall, and the false-alarm rate (urgent replies to messages that are not emergencies);
    - personal-advice recall and precision;
    - answerable questions flagged urgent or advice, and answerable questions answered with quotes;
    - abstention precision and recall (quotes withheld from questions the corpus cannot answer);
    - off-topic health messages answered with quotes (they should not be).
    """
    rows = []
    for m in _ticking(messages, tick):
        ans = answerer.answer(m.text)
        t = ans.triage
        rows.append({"id": m.id, "category": m.category, "expect": m.expect, "status": ans.status,
                     "quoted": len(ans.passages), "ok": outcome_ok(m.expect, ans.status, len(ans.passages)),
                     "layer": t.layer if t else "", "reason": t.reason if t else "", "text": m.text})
    by_cat: dict[str, list[dict]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r)
    categories = {c: _rate(sum(r["ok"] for r in rs), len(rs)) for c, rs in sorted(by_cat.items())}
    urgent = [r for r in rows if r["expect"] == "urgent"]
    calm = [r for r in rows if r["expect"] != "urgent"]
    advice_true = [r for r in rows if r["expect"] == "personal_advice"]
    advice_pred = [r for r in rows if r["status"] == "personal_advice"]
    answerable = [r for r in rows if r["expect"] == "answered"]
    unanswerable = [r for r in rows if r["expect"] == "no_answer"]
    withheld_right = sum(1 for r in unanswerable if r["quoted"] == 0)
    withheld_wrong = sum(1 for r in answerable if r["quoted"] == 0)
    off_topic = [r for r in rows if r["category"] in ("off_topic_health", "medquad")]
    metrics_ = {
        "messages": len(rows),
        "urgent_recall": _rate(sum(r["status"] == "urgent" for r in urgent), len(urgent)),
        "urgent_false_alarms": _rate(sum(r["status"] == "urgent" for r in calm), len(calm)),
        "advice_recall": _rate(sum(r["status"] == "personal_advice" for r in advice_true), len(advice_true)),
        "advice_precision": _rate(sum(r["expect"] == "personal_advice" for r in advice_pred), len(advice_pred)),
        "answerable_flagged": _rate(sum(r["status"] in ("urgent", "personal_advice") for r in answerable), len(answerable)),
        "answerable_answered": _rate(sum(r["status"] == "answered" and r["quoted"] > 0 for r in answerable), len(answerable)),
        "abstention_precision": _rate(withheld_right, withheld_right + withheld_wrong),
        "abstention_recall": _rate(withheld_right, len(unanswerable)),
        "off_topic_answered": _rate(sum(r["quoted"] > 0 for r in off_topic), len(off_topic)),
    }
    layers: dict[str, int] = {}
    for r in urgent:
        if r["status"] == "urgent":
            layers[r["layer"] or "?"] = layers.get(r["layer"] or "?", 0) + 1
    report = {"metrics": metrics_, "categories": categories, "urgent_caught_by": layers,
              "failures": [r for r in rows if not r["ok"]]}
    report["summary_text"] = format_triage_report(report)
    return report


TRIAGE_TARGETS = {"urgent_recall": (1.0, ">="), "advice_recall": (0.9, ">="), "abstention_precision": (0.9, ">="),
                  "abstention_recall": (0.9, ">="), "answerable_flagged": (0.03, "<="), "answerable_answered": (0.9, ">="),
                  "off_topic_answered": (0.1, "<=")}


def _fmt_rate(v: dict) -> str:
    if v["rate"] is None:
        return "-"
    lo, hi = v["ci95"]
    return f"{v['rate']:.3f} ({v['k']}/{v['n']}; 95% CI {lo:.3f}–{hi:.3f})"


def format_triage_report(report: dict, title: str = "") -> str:
    lines = [title] if title else []
    for key, v in report["metrics"].items():
        if key == "messages":
            lines.append(f"{report['metrics']['messages']} messages")
            continue
        goal = TRIAGE_TARGETS.get(key)
        mark = ""
        if goal and v["rate"] is not None:
            met = v["rate"] >= goal[0] if goal[1] == ">=" else v["rate"] <= goal[0]
            mark = "  ok" if met else f"  target {goal[1]} {goal[0]}"
        lines.append(f"{key:<22} {_fmt_rate(v)}{mark}")
    lines.append("by category (right reply):")
    for c, v in report["categories"].items():
        lines.append(f"  {c:<24} {_fmt_rate(v)}")
    lines.append("emergencies caught by: " + ", ".join(f"{k} {n}" for k, n in sorted(report["urgent_caught_by"].items())))
    return "\n".join(lines)


# ---------------------------------------------------------------- abstention calibration

def negatives_from(path: Path) -> list[Message]:
    """Questions a corpus cannot answer, from a BEIR queries.jsonl or a text file (one per line).

    Each is split into dev or test by a hash of its text, so the two halves never change."""
    path = Path(path)
    if path.suffix == ".jsonl":
        texts = [(str(r.get("_id", i)), r.get("text", "")) for i, r in enumerate(_read_jsonl(path))]
    else:
        texts = [(str(i), line.strip()) for i, line in enumerate(path.read_text(encoding="utf-8").splitlines())]
    out = []
    for qid, text in texts:
        if text:
            split = "dev" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2 == 0 else "test"
            out.append(Message(f"{path.stem}:{qid}", text, "no_answer", "out_of_scope", split, source=path.name))
    return out


def calibrate_abstention(answerer, messages: list[Message], fit: bool = False, tick: Tick | None = None) -> dict:
    """Choose the abstention threshold (and, with ``fit``, the model's weights) on the dev messages; report test.

    Only messages labelled answered / no_answer take part, and author lookups
    (answered whatever their signals) are left out.
    """
    from .abstain import AbstentionModel, Calibration, choose_threshold, cross_validated, fit_model, quality

    pool = [m for m in messages if m.expect in ("answered", "no_answer") and not answerer.retriever.named_documents(m.text)]
    read = [answerer.signals(m.text) for m in _ticking(pool, tick)]
    signals = [s for s, _ in read]
    vectors = np.vstack([v for _, v in read])
    dev = [i for i, m in enumerate(pool) if m.split == "dev"]
    test = [i for i, m in enumerate(pool) if m.split == "test"]
    if not any(pool[i].expect == "answered" for i in dev) or not any(pool[i].expect == "no_answer" for i in dev):
        raise BeirError("calibration needs dev questions the corpus answers and dev questions it cannot answer")
    model = answerer.abstention
    labels = [pool[i].expect == "answered" for i in dev]
    corpus_hash = answerer.retriever.index.manifest.get("corpus_hash")

    def thresholds(probs: list[float]) -> tuple[Calibration, float]:
        chosen = choose_threshold([probs[i] for i in dev], labels)
        # For corpora nobody calibrated: the lowest threshold that still withholds answers from 98% of the
        # unanswerable dev questions (stricter than the chosen one).
        unanswerable = sorted(probs[i] for i in dev if pool[i].expect == "no_answer")
        conservative = unanswerable[min(len(unanswerable) - 1, int(0.98 * len(unanswerable)))] + 1e-4
        return chosen, round(max(conservative, chosen.threshold), 4)

    if fit:
        fitted = fit_model([signals[i] for i in dev], labels, vectors[dev])
        # Thresholds are chosen on probabilities from models that did not see the question.
        cv = cross_validated([signals[i] for i in dev], labels, vectors[dev], groups=[pool[i].source or pool[i].id for i in dev])
        general = fitted.general
        if general is not None:
            g_probs = [general.probability(general.read(s, None)) for s in signals]
            for i, p in zip(dev, cv.general):
                g_probs[i] = p
            g_chosen, g_conservative = thresholds(g_probs)
            general = AbstentionModel(general.baseline, general.trees, g_chosen.threshold,
                                      {**general.meta, "conservative_threshold": g_conservative})
        probs = [fitted.probability(fitted.read(s, v)) for s, v in zip(signals, vectors)]
        for i, p in zip(dev, cv.scoped):
            probs[i] = p
        chosen, conservative = thresholds(probs)
        model = AbstentionModel(fitted.baseline, fitted.trees, fitted.threshold,
                                {**fitted.meta, "conservative_threshold": conservative, "corpus_hash": corpus_hash},
                                fitted.scope, general)
    else:
        probs = [model.probability(s) for s in signals]
        chosen = choose_threshold([probs[i] for i in dev], labels)
    model = model.with_threshold(chosen.threshold)
    held = quality([probs[i] for i in test], [pool[i].expect == "answered" for i in test], chosen.threshold) if test else None

    def counts(idx: list[int]) -> dict:
        return {"answerable": sum(pool[i].expect == "answered" for i in idx), "unanswerable": sum(pool[i].expect == "no_answer" for i in idx)}

    return {"model": model.to_json(), "threshold": chosen.threshold,
            "dev": {**chosen._asdict(), **counts(dev)}, "test": ({**held._asdict(), **counts(test)} if held else None),
            "questions_hash": hashlib.sha256("\n".join(f"{m.id}\t{m.text}\t{m.expect}\t{m.split}" for m in pool).encode()).hexdigest()[:16]}
