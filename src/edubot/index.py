"""Build, save and load the search index: FAISS vectors + BM25 + passages + manifest.

An index folder holds generations (``gen-*``) and a ``CURRENT`` file naming the
live one. A build writes a new generation and only then replaces ``CURRENT``
(an atomic rename), so an interrupted build leaves the previous index in use.
The manifest records what the index was built from; an index built from
another corpus, model or settings is stale and never silently used.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import re
import shutil
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .abbreviations import corpus_abbreviations, expand
from .chunk import Citation, Passage, chunk_corpus
from .config import Config
from .corpus import SIDECAR_SUFFIX, Corpus, CorpusError, DocMeta, load_corpus, parse_sidecar, sidecar_digest
from .embed import ModelInfo, file_sha256, incompatibility
from .fusion import Candidates, no_candidates

FORMAT_VERSION = 1
TOKENIZER_VERSION = "medical-2"
# What index_text/document_text index for a passage and its document; a change makes older indexes stale.
INDEX_TEXT_VERSION = "section-abbreviations-title-once-3"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DOCUMENTS = "documents.json"
ABBREVIATIONS = "abbreviations.json"
VECTORS = "vectors.faiss"
BM25_DIR = "bm25"
DOC_BM25_DIR = "bm25-documents"
DOC_VECTORS = "document-vectors.npy"
OWNER = "passage-documents.npy"

Progress = Callable[[str, int, int], None]


class IndexError_(Exception):
    """The index is missing, unreadable or corrupt: ``problem`` names the file and what is wrong, ``remedy``
    (when there is one) what to do; the message is "<problem>; <remedy>"."""

    def __init__(self, problem: str, remedy: str | None = None) -> None:
        super().__init__(problem if remedy is None else f"{problem}; {remedy}")
        self.problem = problem
        self.remedy = remedy


REBUILD = "run `edubot build`"


# ---------------------------------------------------------------- BM25 tokens

TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-'’.][a-z0-9]+)*")


# Question and helper words that bm25s's English list keeps; in a question they
# carry no topic ("how many patients" must not match "many patients" anywhere).
QUESTION_WORDS = frozenset(
    "what whats how why who whom whose which when where does did do done can could would should will shall may might "  # noqa: SIM905
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
        flat = faiss.IndexFlatIP(dim)
        flat.add(vectors)
        return flat
    nlist = max(16, int(4 * math.sqrt(n)))
    index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
    index.train(sample)
    index.add(vectors)
    ivf = faiss.extract_index_ivf(index)  # the same index, typed as IVF (``index`` keeps owning it)
    ivf.nprobe = nprobe
    ivf.make_direct_map()  # lets the ranking read stored vectors back
    return index


@dataclass
class SearchCore:
    """Row-numbered dense and BM25 indexes over passages (or a benchmark's windows), and the fields
    of their documents, indexed once per document: a title counts once, not in every passage.

    Used the same way for the product index and for the BEIR benchmarks (``retrieve.Searcher``).
    """

    vectors: Any  # faiss.Index: one unit vector per row
    bm25: Any  # bm25s.BM25: one entry per row
    owner: np.ndarray  # int64: the document number of each row
    doc_vectors: np.ndarray  # float32 (documents, dim): unit vectors of the documents' titles
    doc_bm25: Any  # bm25s.BM25: one entry per document (``document_text``)
    stem: bool = True

    @property
    def size(self) -> int:
        return len(self.owner)

    @property
    def documents(self) -> int:
        return len(self.doc_vectors)

    def dense(self, qvec: np.ndarray, k: int) -> Candidates:
        """The ``k`` rows nearest to ``qvec`` (inner product of unit vectors), best first."""
        k = min(k, self.size)
        if k <= 0:
            return no_candidates()
        scores, ids = self.vectors.search(qvec.reshape(1, -1).astype(np.float32), k)
        keep = ids[0] >= 0
        return Candidates(ids[0][keep].astype(np.int64), scores[0][keep])

    def stored_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The indexed vectors of ``rows`` (to re-score candidates without searching again)."""
        if len(rows) == 0:
            return np.zeros((0, self.doc_vectors.shape[1]), dtype=np.float32)
        return np.asarray(self.vectors.reconstruct_batch(np.asarray(rows, dtype=np.int64)), dtype=np.float32)

    def bm25_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every row for ``tokens`` (one scoring of the whole index)."""
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def document_scores(self, qvec: np.ndarray | None, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of ``qvec`` to every document's title, and BM25 of ``tokens`` against every document's fields."""
        dense = self.doc_vectors @ qvec.astype(np.float32) if qvec is not None else np.zeros(self.documents, np.float32)
        sparse = (np.asarray(self.doc_bm25.get_scores(tokens), dtype=np.float32) if tokens
                  else np.zeros(self.documents, dtype=np.float32))
        return dense, sparse

    @classmethod
    def build(cls, vectors: np.ndarray, row_tokens: Sequence[list[str]], owner: np.ndarray, doc_vectors: np.ndarray,
              doc_tokens: Sequence[list[str]], k1: float, b: float, stem: bool, approximate: bool = False) -> SearchCore:
        return cls(vectors=build_vectors(vectors, approximate), bm25=build_bm25(row_tokens, k1, b),
                   owner=np.asarray(owner, dtype=np.int64), doc_vectors=np.asarray(doc_vectors, dtype=np.float32),
                   doc_bm25=build_bm25(doc_tokens, k1, b), stem=stem)

    def save(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self.vectors, str(folder / VECTORS))
        self.bm25.save(str(folder / BM25_DIR))
        self.doc_bm25.save(str(folder / DOC_BM25_DIR))
        np.save(folder / DOC_VECTORS, self.doc_vectors)
        np.save(folder / OWNER, self.owner)

    @classmethod
    def load(cls, folder: Path, stem: bool) -> SearchCore:
        """Read a saved core; any unreadable part raises ``IndexError_`` naming the file."""
        import bm25s
        import faiss

        def read(name: str, reader):
            try:
                return reader(str(folder / name))
            except (OSError, RuntimeError, ValueError, KeyError, EOFError) as e:
                raise IndexError_(f"{folder / name}: cannot be read ({type(e).__name__})", REBUILD) from None

        return cls(vectors=read(VECTORS, faiss.read_index), bm25=read(BM25_DIR, bm25s.BM25.load),
                   owner=read(OWNER, np.load), doc_vectors=read(DOC_VECTORS, np.load),
                   doc_bm25=read(DOC_BM25_DIR, bm25s.BM25.load), stem=stem)


def corpus_core(cfg: Config, passages: Sequence[Passage], metas: Mapping[str, DocMeta], texts: Sequence[str],
                vectors: np.ndarray, embedder, approximate: bool) -> SearchCore:
    """The search core of a corpus: ``texts``/``vectors`` per passage, and its documents' fields, in the order of ``metas``."""
    number = {doc_id: i for i, doc_id in enumerate(metas)}
    titles = embedder.encode([m.title for m in metas.values()])
    return SearchCore.build(vectors, [bm25_tokens(t, cfg.stem) for t in texts], np.asarray([number[p.doc_id] for p in passages]),
                            titles, [bm25_tokens(document_text(m), cfg.stem) for m in metas.values()],
                            cfg.bm25_k1, cfg.bm25_b, cfg.stem, approximate)


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


def index_text(text: str, section: str = "", abbreviations: Mapping[str, str] | None = None) -> str:
    """What both indexes see of one passage (or benchmark window): its section and its text, with the
    abbreviations its document defines spelled out, so "hip replacement" reaches a passage that only says "THR".

    The document's title is not repeated in every passage: it is a field of the
    document, indexed once (``document_text``), so a page titled "Core
    decompression" does not lift each of its paragraphs over the one that defines it.
    """
    body = expand(text, abbreviations or {})
    return f"{section}. {body}" if section else body


def document_text(meta: DocMeta) -> str:
    """A document's own fields, indexed once per document: title, kind of study ("the case report"),
    authors and year (staff search "Pak 2012")."""
    return " ".join(str(x) for x in (meta.title, meta.study_type, *meta.authors, meta.year) if x)


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
    out: dict[str, str | None] = {}
    for pkg in ("edubot", "faiss-cpu", "bm25s", "sentence-transformers", "torch", "onnxruntime", "numpy"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _files(gen: Path) -> dict[str, str]:
    return {
        str(p.relative_to(gen)): file_sha256(p)
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
    texts = [index_text(p.text, p.section, abbreviations[p.doc_id]) for p in passages]
    chunks: list[np.ndarray] = []
    batch = 32
    for start in range(0, len(texts), batch):
        chunks.append(embedder.encode(texts[start : start + batch]))
        note("embedding", min(start + batch, len(texts)), len(texts))
    vectors = np.vstack(chunks) if chunks else np.zeros((0, embedder.info.dim), dtype=np.float32)
    settings = index_settings(cfg, len(passages))
    note("indexing", 0, 1)
    core = corpus_core(cfg, passages, metas, texts, vectors, embedder, settings["approximate"])

    root = Path(cfg.index_dir)
    root.mkdir(parents=True, exist_ok=True)
    try:  # calibrations survive a rebuild (marked out of date if the corpus changed)
        carried = read_manifest(root).get("calibration", {})
    except IndexError_:
        carried = {}
    gen = root / f"gen-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = gen.with_name(gen.name + ".partial")
    try:
        tmp.mkdir()
        core.save(tmp)
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
            # Which encoder made the vectors (and the ONNX file's checksum): questions need a compatible one.
            "encoder": embedder.info.to_json(),
            "corpus_hash": corpus.content_hash(),
            "corpus_dir": str(Path(cfg.corpus_dir).resolve()),
            "documents": len(corpus.documents),
            "passages": len(passages),
            "settings": settings,
            "versions": _versions(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
            "problems": [str(p) for p in corpus.problems],
            "calibration": carried,
            "sidecars": _validated_sidecars(corpus),
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


def write_calibration(index_dir: Path, name: str, values: dict) -> Path:
    """Store calibrated values (``name``: e.g. "abstention") in the live manifest, with the corpus hash they
    were calibrated on; a rebuild carries them over, and a changed corpus shows them as out of date."""
    gen = current_generation(index_dir)
    manifest = read_manifest(index_dir)
    calibration = manifest.setdefault("calibration", {})
    calibration[name] = {**values, "corpus_hash": manifest.get("corpus_hash"),
                         "calibrated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    _write_atomic(gen / MANIFEST, json.dumps(manifest, indent=2))
    return gen / MANIFEST


def _validated_sidecars(corpus: Corpus) -> list[str]:
    """Digests of the corpus's sidecars, each validated again here from the very bytes digested.

    A later start skips the schema check (and the jsonschema import) for
    sidecars with these digests: the same bytes under the same schema.
    """
    out = []
    for doc in corpus.documents:
        path = doc.path.with_name(doc.id + SIDECAR_SUFFIX)
        try:
            raw = path.read_bytes()
            parse_sidecar(json.loads(raw.decode("utf-8")), path)
        except (OSError, ValueError, CorpusError):
            continue  # changed or unreadable since it was loaded: it will be checked in full next time
        out.append(sidecar_digest(raw))
    return sorted(out)


def trusted_sidecars(index_dir: Path) -> frozenset[str]:
    """Sidecar digests the live index validated (empty when there is no usable index)."""
    try:
        return frozenset(read_manifest(index_dir).get("sidecars", ()))
    except IndexError_:
        return frozenset()


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
        raise IndexError_(f"no index in {root}", f"{REBUILD} to create it")
    name = pointer.read_text(encoding="utf-8").strip()
    gen = root / name
    if not name.startswith("gen-") or "/" in name or not gen.is_dir():
        raise IndexError_(f"{pointer}: points to a missing index generation '{name}'", REBUILD)
    return gen


def read_manifest(index_dir: Path) -> dict:
    gen = current_generation(index_dir)
    path = gen / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexError_(f"{path}: missing; the index is incomplete, run `edubot build`") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IndexError_(f"{path}: corrupt (not valid JSON)", REBUILD) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise IndexError_(f"{path}: made by another version of EduBot", REBUILD)
    return manifest


def stale_reasons(manifest: dict, cfg: Config, corpus: Corpus, model: ModelInfo | str | None = None) -> list[str]:
    """Why an index no longer matches the corpus, model or settings (empty: it is fresh).

    ``model`` is the question encoder's ``ModelInfo`` (its version and its
    encoder are checked: index and question vectors must be comparable), or
    just the model version.
    """
    reasons = []
    if manifest.get("corpus_hash") != corpus.content_hash():
        reasons.append("the corpus changed since the index was built")
    built = manifest.get("model", {})
    model_version = model.version if isinstance(model, ModelInfo) else model
    if built.get("name") != cfg.model:
        reasons.append(f"the index was built with model '{built.get('name')}', not '{cfg.model}'")
    elif model_version and built.get("version") != model_version:
        reasons.append(f"the model version changed ({built.get('version')} → {model_version})")
    elif isinstance(model, ModelInfo):
        why = incompatibility(manifest.get("encoder"), model)
        if why:
            reasons.append(why)
    expected = index_settings(cfg, int(manifest.get("passages", 0)))
    changed = [k for k, v in expected.items() if manifest.get("settings", {}).get(k) != v]
    if changed:
        reasons.append("settings changed: " + ", ".join(changed))
    return reasons


def load_index(index_dir: Path) -> CorpusIndex:
    """Load the live generation, checking every file against the manifest's checksums."""
    gen = current_generation(index_dir)
    manifest = read_manifest(index_dir)
    files = manifest.get("files", {})
    for rel, digest in files.items():
        path = gen / rel
        if not path.exists():
            raise IndexError_(f"{path}: missing from the index", REBUILD)
        if file_sha256(path) != digest:
            raise IndexError_(f"{path}: corrupt or truncated (checksum mismatch)", REBUILD)
    core = SearchCore.load(gen, stem=manifest["settings"]["stem"])
    try:
        abbreviations = json.loads((gen / ABBREVIATIONS).read_text(encoding="utf-8"))
        docs_raw = json.loads((gen / DOCUMENTS).read_text(encoding="utf-8"))
        # Written from validated sidecars; with its checksum just verified, it need not be validated again.
        documents = {doc_id: parse_sidecar(data, gen / DOCUMENTS, validate=False) for doc_id, data in docs_raw.items()}
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
    except Exception as e:  # noqa: BLE001 - any malformed row or document means a corrupt index
        raise IndexError_(f"{gen}: passages or documents cannot be read ({type(e).__name__}: {e})", REBUILD) from None
    if len(passages) != core.vectors.ntotal or len(passages) != core.size or len(passages) != manifest.get("passages"):
        raise IndexError_(f"{gen}: passages ({len(passages)}) and vectors ({core.vectors.ntotal}) disagree", REBUILD)
    return CorpusIndex(manifest=manifest, passages=tuple(passages), documents=documents, core=core, directory=gen,
                       abbreviations=abbreviations)
