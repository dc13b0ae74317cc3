"""Build, save and load the search index: FAISS vectors + BM25 + passages + manifest.

An index folder holds generations (``gen-*``) and a ``CURRENT`` file naming the
live one. A build writes a new generation and only then replaces ``CURRENT``
(an atomic rename), so an interrupted build leaves the previous index in use.
The manifest records what the index was built from; an index built from
another corpus, model or settings is stale and never silently used.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import re
import shutil
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from .abbreviations import corpus_abbreviations, expand
from .chunk import Citation, Passage, chunk_corpus
from .config import Config
from .corpus import Corpus, DocMeta, load_corpus, parse_sidecar

FORMAT_VERSION = 1
TOKENIZER_VERSION = "medical-2"
# What index_text/bm25_text put around a passage; a change makes older indexes stale.
INDEX_TEXT_VERSION = "title-section-abbreviations-2"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DOCUMENTS = "documents.json"
ABBREVIATIONS = "abbreviations.json"
VECTORS = "vectors.faiss"
BM25_DIR = "bm25"

Progress = Callable[[str, int, int], None]


class IndexError_(Exception):
    """The index is missing, unreadable or corrupt; the message names the file and what to do."""


# ---------------------------------------------------------------- BM25 tokens

TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-'’.][a-z0-9]+)*")


# Question and helper words that bm25s's English list keeps; in a question they
# carry no topic ("how many patients" must not match "many patients" anywhere).
QUESTION_WORDS = frozenset(
    "what whats how why who whom whose which when where does did do done can could would should will shall may might "
    "must many much get got gets getting tell know about is are was were am been being have has had i me my we our you your".split()
)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | QUESTION_WORDS


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def bm25_tokens(text: str, stem: bool = True) -> list[str]:
    """Lower-cased words and numbers; hyphenated terms give their parts and the joined form.

    "CaCl2-activated" → cacl2, activ, cacl2activ: a query may write it either way.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    stop = _stopwords()
    out: list[str] = []
    for tok in TOKEN_RE.findall(text):
        parts = [p for p in re.split(r"[-'’.]", tok) if p]
        words = parts if len(parts) == 1 else parts + ["".join(parts)]
        for w in words:
            if w in stop or (len(w) == 1 and not w.isdigit()):
                continue
            out.append(w)
    if stem:
        out = _stemmer().stemWords(out)
    return out


# ---------------------------------------------------------------- the search core

def build_bm25(token_lists: Sequence[list[str]], k1: float, b: float):
    import bm25s

    retriever = bm25s.BM25(k1=k1, b=b)
    # bm25s wants at least one token per document; an empty one gets a placeholder.
    retriever.index([t if t else ["\x00"] for t in token_lists], show_progress=False)
    return retriever


def build_vectors(vectors: np.ndarray, approximate: bool, nprobe: int = 64):
    """Exact inner product, or IVF with 8-bit scalar quantisation above the size threshold."""
    import faiss

    n, dim = vectors.shape
    if not approximate:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index
    nlist = max(16, int(4 * math.sqrt(n)))
    index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
    index.train(sample)
    index.add(vectors)
    index.nprobe = nprobe
    index.make_direct_map()  # lets feedback read stored vectors back
    return index


@dataclass
class SearchCore:
    """Row-numbered dense and sparse indexes over the same texts (product index or a benchmark)."""

    vectors: object  # faiss.Index
    bm25: object  # bm25s.BM25
    size: int
    stem: bool = True

    def dense(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self.vectors.search(qvec.reshape(1, -1).astype(np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def vector(self, row: int) -> np.ndarray:
        return self.vectors.reconstruct(int(row))

    def sparse(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.size)
        if not tokens or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.bm25.get_scores(tokens)
        if k < len(scores):
            top = np.argpartition(-scores, k - 1)[:k]
        else:
            top = np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        keep = scores[top] > 0
        return top[keep], scores[top][keep]

    def sparse_all(self, tokens: list[str]) -> np.ndarray:
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)


# ---------------------------------------------------------------- the corpus index

@dataclass
class CorpusIndex:
    manifest: dict
    passages: tuple[Passage, ...]
    documents: dict[str, DocMeta]
    core: SearchCore
    directory: Path | None = None
    # Short form → long form, as the whole corpus defines them; questions are read with these.
    abbreviations: dict[str, str] = field(default_factory=dict)
    row_of: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.row_of = {p.id: i for i, p in enumerate(self.passages)}


def index_text(passage: Passage, meta: DocMeta, abbreviations: Mapping[str, str] | None = None) -> str:
    """What the dense model sees: the quote in the context of its document and section.

    Abbreviations the document defines are spelled out, so "hip replacement"
    reaches a passage that only says "THR".
    """
    return f"{meta.title}. {passage.section}. {expand(passage.text, abbreviations or {})}"


def bm25_text(passage: Passage, meta: DocMeta, abbreviations: Mapping[str, str] | None = None) -> str:
    """What BM25 sees: adds authors and year, so staff can search "Pak 2012"."""
    return f"{index_text(passage, meta, abbreviations)} {' '.join(meta.authors)} {meta.year or ''}"


def passage_abbreviations(passages: Sequence[Passage]) -> tuple[dict[str, Mapping[str, str]], dict[str, str]]:
    """Each document's abbreviations, found in its passages (cleaned text: no line-break hyphens), and the corpus's."""
    texts: dict[str, list[str]] = {}
    for p in passages:
        texts.setdefault(p.doc_id, []).append(p.text)
    return corpus_abbreviations(texts)


def index_settings(cfg: Config, n_passages: int) -> dict:
    """The settings an index depends on: a change in any of them makes it stale."""
    return {
        "passage_max_chars": cfg.passage_max_chars,
        "passage_overlap_sentences": cfg.passage_overlap_sentences,
        "bm25_k1": cfg.bm25_k1,
        "bm25_b": cfg.bm25_b,
        "stem": cfg.stem,
        "tokenizer": TOKENIZER_VERSION,
        "index_text": INDEX_TEXT_VERSION,
        "approximate": n_passages > cfg.approximate_above,
        "format": FORMAT_VERSION,
    }


def _versions() -> dict:
    out = {}
    for pkg in ("edubot", "faiss-cpu", "bm25s", "sentence-transformers", "torch", "numpy"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(gen: Path) -> dict[str, str]:
    return {
        str(p.relative_to(gen)): _sha256(p)
        for p in sorted(gen.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


@dataclass(frozen=True)
class BuildReport:
    manifest: dict
    problems: tuple[str, ...]
    directory: Path


def build_index(cfg: Config, corpus: Corpus | None = None, progress: Progress | None = None,
                embedder=None) -> BuildReport:
    """Chunk, embed and index the corpus, then switch ``CURRENT`` to the new generation."""
    import faiss

    from .embed import get_embedder

    started = time.perf_counter()
    note = progress or (lambda stage, done, total: None)
    corpus = corpus or load_corpus(cfg.corpus_dir)
    if not corpus.documents:
        raise IndexError_(f"{cfg.corpus_dir}: no usable documents to index")
    note("chunking", 0, len(corpus.documents))
    passages = chunk_corpus(corpus, cfg.passage_max_chars, cfg.passage_overlap_sentences)
    metas = {d.id: d.meta for d in corpus.documents}
    embedder = embedder or get_embedder(cfg.model)
    abbreviations, agreed = passage_abbreviations(passages)
    texts = [index_text(p, metas[p.doc_id], abbreviations[p.doc_id]) for p in passages]
    chunks: list[np.ndarray] = []
    batch = 32
    for start in range(0, len(texts), batch):
        chunks.append(embedder.encode(texts[start : start + batch]))
        note("embedding", min(start + batch, len(texts)), len(texts))
    vectors = np.vstack(chunks) if chunks else np.zeros((0, embedder.info.dim), dtype=np.float32)
    settings = index_settings(cfg, len(passages))
    note("indexing", 0, 1)
    dense = build_vectors(vectors, settings["approximate"])
    sparse = build_bm25([bm25_tokens(bm25_text(p, metas[p.doc_id], abbreviations[p.doc_id]), cfg.stem) for p in passages], cfg.bm25_k1, cfg.bm25_b)

    root = Path(cfg.index_dir)
    root.mkdir(parents=True, exist_ok=True)
    gen = root / f"gen-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = gen.with_name(gen.name + ".partial")
    try:
        tmp.mkdir()
        faiss.write_index(dense, str(tmp / VECTORS))
        sparse.save(str(tmp / BM25_DIR))
        with open(tmp / PASSAGES, "w", encoding="utf-8") as fh:
            for p in passages:
                row = p.to_json()
                row["sentences"] = [list(s) for s in p.sentences]
                row["citations"] = [c.number for c in p.citations]
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        (tmp / ABBREVIATIONS).write_text(json.dumps(agreed, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        (tmp / DOCUMENTS).write_text(json.dumps({d.id: _meta_json(d.meta) for d in corpus.documents}, ensure_ascii=False), encoding="utf-8")
        manifest = {
            "format": FORMAT_VERSION,
            "model": {"name": embedder.info.name, "version": embedder.info.version, "dim": embedder.info.dim},
            "corpus_hash": corpus.content_hash(),
            "corpus_dir": str(Path(cfg.corpus_dir).resolve()),
            "documents": len(corpus.documents),
            "passages": len(passages),
            "settings": settings,
            "versions": _versions(),
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
            "problems": [str(p) for p in corpus.problems],
            "files": _files(tmp),
        }
        _write_atomic(tmp / MANIFEST, json.dumps(manifest, indent=2))
        _fsync_dir(tmp)
        os.rename(tmp, gen)
        _write_atomic(root / CURRENT, gen.name + "\n")
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise IndexError_(f"could not save the index in {root} ({e.strerror or e}); the previous index is unchanged") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_generations(root, keep=gen.name)
    note("done", 1, 1)
    return BuildReport(manifest=manifest, problems=tuple(str(p) for p in corpus.problems), directory=gen)


def _meta_json(meta: DocMeta) -> dict:
    data = asdict(meta)
    data["authors"] = list(meta.authors)
    data["subjects"] = list(meta.subjects)
    data["unverified"] = list(meta.unverified)
    data["references"] = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(r).items()} for r in meta.references]
    data["limitations"] = [asdict(l) for l in meta.limitations]
    return data


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _remove_old_generations(root: Path, keep: str) -> None:
    for p in root.iterdir():
        if p.is_dir() and p.name.startswith("gen-") and p.name != keep:
            shutil.rmtree(p, ignore_errors=True)


# ---------------------------------------------------------------- loading

def current_generation(index_dir: Path) -> Path:
    root = Path(index_dir)
    pointer = root / CURRENT
    if not pointer.exists():
        raise IndexError_(f"no index in {root}; run `edubot build` to create it")
    name = pointer.read_text(encoding="utf-8").strip()
    gen = root / name
    if not name.startswith("gen-") or "/" in name or not gen.is_dir():
        raise IndexError_(f"{pointer}: points to a missing index generation '{name}'; run `edubot build`")
    return gen


def read_manifest(index_dir: Path) -> dict:
    gen = current_generation(index_dir)
    path = gen / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexError_(f"{path}: missing; the index is incomplete, run `edubot build`") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IndexError_(f"{path}: corrupt (not valid JSON); run `edubot build`") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise IndexError_(f"{path}: made by another version of EduBot; run `edubot build`")
    return manifest


def stale_reasons(manifest: dict, cfg: Config, corpus: Corpus, model_version: str | None = None) -> list[str]:
    """Why an index no longer matches the corpus, model or settings (empty: it is fresh)."""
    reasons = []
    if manifest.get("corpus_hash") != corpus.content_hash():
        reasons.append("the corpus changed since the index was built")
    model = manifest.get("model", {})
    if model.get("name") != cfg.model:
        reasons.append(f"the index was built with model '{model.get('name')}', not '{cfg.model}'")
    elif model_version and model.get("version") != model_version:
        reasons.append(f"the model version changed ({model.get('version')} → {model_version})")
    expected = index_settings(cfg, int(manifest.get("passages", 0)))
    changed = [k for k, v in expected.items() if manifest.get("settings", {}).get(k) != v]
    if changed:
        reasons.append("settings changed: " + ", ".join(changed))
    return reasons


def load_index(index_dir: Path, verify: bool = True) -> CorpusIndex:
    """Load the live generation, checking every file against the manifest's checksums."""
    import bm25s
    import faiss

    gen = current_generation(index_dir)
    manifest = read_manifest(index_dir)
    files = manifest.get("files", {})
    for rel, digest in files.items():
        path = gen / rel
        if not path.exists():
            raise IndexError_(f"{path}: missing from the index; run `edubot build`")
        if verify and _sha256(path) != digest:
            raise IndexError_(f"{path}: corrupt or truncated (checksum mismatch); run `edubot build`")
    try:
        vectors = faiss.read_index(str(gen / VECTORS))
    except Exception as e:
        raise IndexError_(f"{gen / VECTORS}: cannot be read ({e}); run `edubot build`") from None
    try:
        sparse = bm25s.BM25.load(str(gen / BM25_DIR))
    except Exception as e:
        raise IndexError_(f"{gen / BM25_DIR}: cannot be read ({type(e).__name__}); run `edubot build`") from None
    try:
        abbreviations = json.loads((gen / ABBREVIATIONS).read_text(encoding="utf-8"))
        docs_raw = json.loads((gen / DOCUMENTS).read_text(encoding="utf-8"))
        documents = {doc_id: parse_sidecar(data, gen / DOCUMENTS) for doc_id, data in docs_raw.items()}
        passages = []
        with open(gen / PASSAGES, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                meta = documents[row["doc_id"]]
                passages.append(Passage(
                    id=row["passage_id"], doc_id=row["doc_id"], source_type=row["source_type"],
                    section=row["section"], page=row["page"], span=tuple(row["span"]), text=row["text"],
                    citations=tuple(Citation(n, meta.reference(n)) for n in row["citations"]),
                    sentences=tuple(tuple(s) for s in row["sentences"]), kind=row["kind"],
                ))
    except Exception as e:
        raise IndexError_(f"{gen}: passages or documents cannot be read ({type(e).__name__}: {e}); run `edubot build`") from None
    if len(passages) != vectors.ntotal or len(passages) != manifest.get("passages"):
        raise IndexError_(f"{gen}: passages ({len(passages)}) and vectors ({vectors.ntotal}) disagree; run `edubot build`")
    core = SearchCore(vectors=vectors, bm25=sparse, size=len(passages), stem=manifest["settings"]["stem"])
    return CorpusIndex(manifest=manifest, passages=tuple(passages), documents=documents, core=core, directory=gen,
                       abbreviations=abbreviations)
