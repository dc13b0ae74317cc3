"""Finding, validating and reading corpus documents.

A corpus folder holds one file per document (``<id>.txt``, ``<id>.md`` or
``<id>.pdf``) beside a JSON sidecar ``<id>.meta.json``. A bad sidecar or an
unreadable file never stops the rest of the corpus from loading: it becomes a
``LoadProblem`` that the build summary reports by file name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import jsonschema

SourceType = Literal["research", "abstract", "patient_education", "marketing"]
SIDECAR_SUFFIX = ".meta.json"
DOCUMENT_SUFFIXES = (".txt", ".md", ".pdf")
PAGE_SEPARATOR = "\n\n"


class CorpusError(Exception):
    """A corpus file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Limitation:
    text: str
    quote: str
    kind: Literal["stated", "reviewer"]
    key: bool = False


@dataclass(frozen=True)
class Reference:
    number: int | None
    citation: str
    study_type: str | None = None
    subjects: tuple[str, ...] = ()
    n: int | None = None
    doc_id: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class DocMeta:
    id: str
    title: str
    source_type: SourceType
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None
    publisher: str | None = None
    url: str | None = None
    doi: str | None = None
    pmid: str | None = None
    study_type: str | None = None
    evidence_level: int | None = None
    subjects: tuple[str, ...] = ()
    n_patients: int | None = None
    peer_reviewed: bool | None = None
    date_shown: str | None = None
    date_checked: str | None = None
    conflict_of_interest: str | None = None
    partial: str | None = None
    notes: str | None = None
    cited_by: str | None = None
    references: tuple[Reference, ...] = ()
    limitations: tuple[Limitation, ...] = ()
    unverified: tuple[str, ...] = ()

    def reference(self, number: int) -> Reference | None:
        for ref in self.references:
            if ref.number == number:
                return ref
        return None


@dataclass(frozen=True)
class Document:
    id: str
    meta: DocMeta
    path: Path
    raw: str
    # Start offset of each page in ``raw`` (one entry, 0, for non-paged files).
    page_starts: tuple[int, ...] = (0,)

    @property
    def paged(self) -> bool:
        return self.path.suffix.lower() == ".pdf"

    def page_at(self, offset: int) -> int | None:
        """1-based page holding ``offset``, or None where the source has no pages."""
        if not self.paged:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
        return page + 1


@dataclass(frozen=True)
class LoadProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path.name}: {self.message}"


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    problems: tuple[LoadProblem, ...] = ()
    by_id: dict[str, Document] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id.update({d.id: d for d in self.documents})

    def get(self, doc_id: str) -> Document | None:
        return self.by_id.get(doc_id)

    def content_hash(self) -> str:
        """Hash of every document's text and metadata: a changed corpus makes an index stale."""
        h = hashlib.sha256()
        for doc in sorted(self.documents, key=lambda d: d.id):
            h.update(doc.id.encode())
            h.update(doc.raw.encode("utf-8"))
            h.update(json.dumps(_meta_to_json(doc.meta), sort_keys=True).encode())
        return h.hexdigest()


# ---------------------------------------------------------------- sidecars

@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("edubot").joinpath("schemas/sidecar.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def parse_sidecar(data: object, source: Path) -> DocMeta:
    """Validate sidecar JSON against the schema; the error names the file and the field."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else err.message
            where = f"{where}.{missing}" if err.absolute_path else missing
        raise CorpusError(f"{source.name}: field '{where}': {err.message}")
    assert isinstance(data, dict)
    refs = tuple(
        Reference(
            number=r["number"],
            citation=r["citation"],
            study_type=r.get("study_type"),
            subjects=tuple(r.get("subjects", ())),
            n=r.get("n"),
            doc_id=r.get("doc_id"),
            note=r.get("note"),
        )
        for r in data.get("references", [])
    )
    lims = tuple(
        Limitation(text=l["text"], quote=l["quote"], kind=l["kind"], key=l.get("key", False))
        for l in data["limitations"]
    )
    plain = {k: v for k, v in data.items() if k not in ("references", "limitations", "authors", "subjects", "unverified")}
    return DocMeta(
        **plain,
        authors=tuple(data["authors"]),
        subjects=tuple(data.get("subjects", ())),
        unverified=tuple(data["unverified"]),
        references=refs,
        limitations=lims,
    )


def _meta_to_json(meta: DocMeta) -> dict:
    from dataclasses import asdict

    return asdict(meta)


def read_sidecar(path: Path) -> DocMeta:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CorpusError(f"{path.name}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise CorpusError(f"{path.name}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    meta = parse_sidecar(data, path)
    expected = path.name[: -len(SIDECAR_SUFFIX)]
    if meta.id != expected:
        raise CorpusError(f"{path.name}: field 'id': '{meta.id}' does not match the file name '{expected}'")
    return meta


# ---------------------------------------------------------------- loaders

def read_text_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CorpusError(f"{path.name}: cannot be read ({e.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{path.name}: not UTF-8 text (bad byte at position {e.start}); save it as UTF-8") from None
    # One line-ending convention, so that offsets mean the same on every platform.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_pdf(path: Path) -> tuple[str, tuple[int, ...]]:
    """Text of a PDF page by page, so a passage can cite its page."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:
                opened = 0
            if not opened:
                raise CorpusError(f"{path.name}: the PDF is encrypted and needs a password; save an unencrypted copy")
        pages = [(page.extract_text() or "") for page in reader.pages]
    except CorpusError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise CorpusError(f"{path.name}: the PDF is damaged and cannot be read ({type(e).__name__}: {e})") from None
    except Exception as e:  # pypdf raises many kinds of errors on hostile files
        raise CorpusError(f"{path.name}: the PDF cannot be read ({type(e).__name__}: {e})") from None
    if not any(p.strip() for p in pages):
        raise CorpusError(f"{path.name}: the PDF has no extractable text (scanned images?); add a text version")
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for page_text in pages:
        page_text = page_text.replace("\r\n", "\n").replace("\r", "\n")
        starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(parts), tuple(starts)


def load_document(doc_path: Path, meta: DocMeta) -> Document:
    suffix = doc_path.suffix.lower()
    if suffix == ".pdf":
        raw, starts = read_pdf(doc_path)
    elif suffix in (".txt", ".md"):
        raw, starts = read_text_file(doc_path), (0,)
    else:
        raise CorpusError(f"{doc_path.name}: unsupported file type '{suffix}' (use .txt, .md or .pdf)")
    if not raw.strip():
        raise CorpusError(f"{doc_path.name}: the document is empty")
    for i, lim in enumerate(meta.limitations):
        if lim.quote not in raw:
            raise CorpusError(
                f"{doc_path.name}: limitations.{i}.quote does not occur in the document: {lim.quote[:60]!r}"
            )
    return Document(id=meta.id, meta=meta, path=doc_path, raw=raw, page_starts=starts)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def load_corpus(folder: Path) -> Corpus:
    """Every valid document in ``folder``; the rest become problems, each named."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"{folder}: corpus folder not found")
    documents: list[Document] = []
    problems: list[LoadProblem] = []
    sidecars = sorted(folder.glob("*" + SIDECAR_SUFFIX))
    claimed: set[Path] = set()
    for sidecar in sidecars:
        stem = sidecar.name[: -len(SIDECAR_SUFFIX)]
        if not _inside(sidecar, folder):
            problems.append(LoadProblem(sidecar, "links outside the corpus folder; skipped"))
            continue
        candidates = [folder / (stem + s) for s in DOCUMENT_SUFFIXES if (folder / (stem + s)).exists()]
        claimed.update(candidates)
        if not candidates:
            problems.append(LoadProblem(sidecar, f"no document file {stem}.txt, {stem}.md or {stem}.pdf beside it"))
            continue
        if len(candidates) > 1:
            problems.append(LoadProblem(sidecar, "more than one document file with this name: " + ", ".join(c.name for c in candidates)))
            continue
        doc_path = candidates[0]
        if not _inside(doc_path, folder):
            problems.append(LoadProblem(doc_path, "links outside the corpus folder; skipped"))
            continue
        try:
            meta = read_sidecar(sidecar)
            documents.append(load_document(doc_path, meta))
        except CorpusError as e:
            problems.append(LoadProblem(doc_path if not str(e).startswith(sidecar.name) else sidecar, str(e).split(": ", 1)[1]))
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in DOCUMENT_SUFFIXES and path not in claimed:
            problems.append(LoadProblem(path, f"no sidecar {path.stem}{SIDECAR_SUFFIX}; skipped"))
    ids = [d.id for d in documents]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise CorpusError(f"{folder}: duplicate document ids: {', '.join(sorted(dupes))}")
    known = set(ids)
    for doc in documents:
        for ref in doc.meta.references:
            if ref.doc_id and ref.doc_id not in known:
                problems.append(LoadProblem(doc.path, f"reference {ref.number} points to unknown document '{ref.doc_id}'"))
    return Corpus(documents=tuple(documents), problems=tuple(problems))
