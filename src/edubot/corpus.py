"""Finding, validating and reading corpus documents.

A corpus folder holds one file per document (``<id>.txt``, ``<id>.md`` or
``<id>.pdf``) beside a JSON sidecar ``<id>.meta.json``. A bad sidecar or an
unreadable file never stops the rest of the corpus from loading: it becomes a
``LoadProblem`` that the build summary reports by file name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import jsonschema

from .clean import locate_quote, split_page_margins

SourceType = Literal["research", "abstract", "patient_education", "marketing"]
SIDECAR_SUFFIX = ".meta.json"
DOCUMENT_SUFFIXES = (".txt", ".md", ".pdf")
PAGE_SEPARATOR = "\n\n"


class CorpusError(Exception):
    """A corpus file (or folder) that cannot be used: ``path`` is that file, ``problem`` what is wrong with it.

    The message is "<file name>: <problem>" (the whole path for a folder, ``whole_path``).
    """

    def __init__(self, path: Path, problem: str, *, whole_path: bool = False) -> None:
        super().__init__(f"{path if whole_path else path.name}: {problem}")
        self.path = path
        self.problem = problem


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
    # PDF page furniture kept out of ``raw`` (running heads, footers, page numbers, the first
    # page's footnotes), as (page, line); nothing is thrown away, it is just not running text.
    margins: tuple[tuple[int, str], ...] = ()

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
    """A file skipped (``skipped``), or a document loaded with a warning (a limitation dropped...)."""

    path: Path
    message: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.path.name}: {self.message}"

    @property
    def label(self) -> str:
        return "skipped" if self.skipped else "warning"


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    problems: tuple[LoadProblem, ...] = ()
    by_id: dict[str, Document] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id.update({d.id: d for d in self.documents})

    def get(self, doc_id: str) -> Document | None:
        return self.by_id.get(doc_id)

    def problems_for(self, doc_id: str) -> tuple[LoadProblem, ...]:
        """Problems of one document's files (``<id>.*``), whether it loaded or was skipped."""
        return tuple(p for p in self.problems if p.path.name.split(".", 1)[0] == doc_id)

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
    import jsonschema  # imported here: a start with an unchanged corpus validates nothing

    schema = json.loads(resources.files("edubot").joinpath("schemas/sidecar.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


@lru_cache(maxsize=1)
def _schema_sha256() -> str:
    return hashlib.sha256(resources.files("edubot").joinpath("schemas/sidecar.schema.json").read_bytes()).hexdigest()


def sidecar_digest(raw: bytes) -> str:
    """Identifies a sidecar's bytes under the current schema: a digest once validated need not be again."""
    return hashlib.sha256(_schema_sha256().encode() + b"\x00" + raw).hexdigest()


def parse_sidecar(data: object, source: Path, validate: bool = True) -> DocMeta:
    """Validate sidecar JSON against the schema; the error names the file and the field.

    ``validate=False`` only for data already validated (see ``read_sidecar``'s ``trusted``).
    """
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path)) if validate else []
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "required":
            # The first property of the list that is absent: the one errors[0]'s message names.
            missing = next(k for k in err.validator_value if k not in err.instance)
            where = f"{where}.{missing}" if err.absolute_path else missing
        raise CorpusError(source, f"field '{where}': {err.message}")
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


def read_sidecar(path: Path, trusted: frozenset[str] = frozenset()) -> DocMeta:
    """``trusted``: digests (``sidecar_digest``) of sidecars known to be valid, e.g. by the index manifest."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except OSError as e:
        raise CorpusError(path, f"cannot be read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise CorpusError(path, "not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise CorpusError(path, f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    meta = parse_sidecar(data, path, validate=sidecar_digest(raw) not in trusted)
    expected = path.name[: -len(SIDECAR_SUFFIX)]
    if meta.id != expected:
        raise CorpusError(path, f"field 'id': '{meta.id}' does not match the file name '{expected}'")
    return meta


# ---------------------------------------------------------------- loaders

def read_text_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CorpusError(path, f"cannot be read ({e.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CorpusError(path, f"not UTF-8 text (bad byte at position {e.start}); save it as UTF-8") from None
    # One line-ending convention, so that offsets mean the same on every platform.
    return text.replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _quiet_pypdf():
    """pypdf logs a warning per odd font or object (hundreds for some journals); they are its
    own repairs, not problems of ours. Only pypdf's logger and warnings are silenced."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _not_a_pdf(path: Path) -> str | None:
    """Why a file named .pdf is not one (an HTML page saved as .pdf...), or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if b"%PDF-" in head:
        return None
    if not head.strip():
        return "this is not a PDF: the file is empty"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<!--")) or b"<html" in lowered:
        kind = "a web page (HTML) saved with a .pdf name; save the page as PDF or its text as .txt"
    else:
        kind = "it does not start like a PDF file; open it in a PDF viewer and save it again"
    return f"this is not a PDF: {kind}"


def extract_pdf_pages(path: Path) -> list[str]:
    """Text of each page, as pypdf extracts it (plain mode; chosen by measurement, see README)."""
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    problem = _not_a_pdf(path)
    if problem:
        raise CorpusError(path, problem)
    try:
        with _quiet_pypdf():
            reader = PdfReader(str(path))
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")
                except (DependencyError, ImportError):
                    raise CorpusError(path, "the PDF is encrypted (AES) and the 'cryptography' package is missing; "
                                      "run `bash scripts/setup.sh`") from None
                except Exception:  # noqa: BLE001 - any failure to open with the empty password means "needs a password"
                    opened = PasswordType.NOT_DECRYPTED
                if not opened:
                    raise CorpusError(path, "the PDF is encrypted and needs a password; save an unencrypted copy")
            pages = [(page.extract_text() or "") for page in reader.pages]
    except CorpusError:
        raise
    except FileNotDecryptedError:
        raise CorpusError(path, "the PDF is encrypted and needs a password; save an unencrypted copy") from None
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise CorpusError(path, f"the PDF is damaged and cannot be read ({type(e).__name__}: {e})") from None
    except Exception as e:  # noqa: BLE001 - pypdf raises many kinds of errors on hostile files
        raise CorpusError(path, f"the PDF cannot be read ({type(e).__name__}: {e})") from None
    return [p.replace("\r\n", "\n").replace("\r", "\n") for p in pages]


def _running_head_names(meta: DocMeta | None) -> list[str]:
    """Words a running head is made of: the authors' surnames and the journal's name."""
    if meta is None:
        return []
    names = [a.split()[-1] for a in meta.authors if a.split()]
    if meta.venue:
        venue = re.split(r"\s\d", meta.venue)[0].strip()
        if len(venue.split()) >= 2:
            names.append(venue)
    return names


def read_pdf(path: Path, meta: DocMeta | None = None) -> tuple[str, tuple[int, ...], tuple[tuple[int, str], ...]]:
    """Text of a PDF page by page, so a passage can cite its page.

    Page furniture (lines that repeat across pages once digits are masked: running
    heads, footers, page numbers; the first page's footnote block) is kept apart, so
    a sentence that runs across a page break reads as one and maps to one span.
    """
    pages = extract_pdf_pages(path)
    if not any(p.strip() for p in pages):
        raise CorpusError(path, "the PDF has no extractable text (scanned images?); add a text version")
    bodies, margins = split_page_margins(pages, _running_head_names(meta))
    starts: list[int] = []
    offset = 0
    for body in bodies:
        starts.append(offset)
        offset += len(body) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(bodies), tuple(starts), margins


def load_document(doc_path: Path, meta: DocMeta) -> tuple[Document, list[str]]:
    """The document and its warnings (each limitation whose quote is not in the text is dropped alone)."""
    suffix = doc_path.suffix.lower()
    margins: tuple[tuple[int, str], ...] = ()
    if suffix == ".pdf":
        raw, starts, margins = read_pdf(doc_path, meta)
    elif suffix in (".txt", ".md"):
        raw, starts = read_text_file(doc_path), (0,)
    else:
        raise CorpusError(doc_path, f"unsupported file type '{suffix}' (use .txt, .md or .pdf)")
    if not raw.strip():
        raise CorpusError(doc_path, "the document is empty")
    warnings_: list[str] = []
    kept: list[Limitation] = []
    for i, lim in enumerate(meta.limitations):
        # A quote copied from a PDF viewer has spaces where the extracted text breaks lines.
        if lim.quote in raw or locate_quote(raw, lim.quote) is not None:
            kept.append(lim)
        else:
            warnings_.append(f"limitations.{i}.quote does not occur in the document, so that limitation is "
                             f"dropped (the rest of the document is used): {lim.quote[:60]!r}")
    if len(kept) != len(meta.limitations):
        meta = replace(meta, limitations=tuple(kept))
    doc = Document(id=meta.id, meta=meta, path=doc_path, raw=raw, page_starts=starts, margins=margins)
    return doc, warnings_


def _misnamed_sidecar(path: Path) -> bool:
    """``X.meta.json.txt``, ``X.META.JSON``...: a sidecar whose name an editor or a download changed."""
    name = path.name.lower()
    return SIDECAR_SUFFIX in name and not path.name.endswith(SIDECAR_SUFFIX)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def load_corpus(folder: Path, trusted: frozenset[str] = frozenset()) -> Corpus:
    """Every valid document in ``folder``; the rest become problems, each named.

    Sidecars whose digest is in ``trusted`` (validated when the index was built) skip the schema check.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(folder, "corpus folder not found", whole_path=True)
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
            meta = read_sidecar(sidecar, trusted)
            doc, doc_warnings = load_document(doc_path, meta)
            documents.append(doc)
            problems.extend(LoadProblem(doc_path, w, skipped=False) for w in doc_warnings)
        except CorpusError as e:
            problems.append(LoadProblem(sidecar if e.path == sidecar else doc_path, e.problem))
    misnamed = {p for p in folder.iterdir() if _misnamed_sidecar(p)}
    for path in sorted(misnamed):
        stem = path.name[: path.name.lower().index(SIDECAR_SUFFIX)]
        problems.append(LoadProblem(path, f"a sidecar saved with a wrong extension; rename it to {stem}{SIDECAR_SUFFIX}"))
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in DOCUMENT_SUFFIXES and path not in claimed and path not in misnamed:
            misnamed_for = [m.name for m in misnamed if m.name.lower().startswith(path.stem.lower() + SIDECAR_SUFFIX)]
            if misnamed_for:
                why = f"its sidecar is saved as {misnamed_for[0]}; rename that file to {path.stem}{SIDECAR_SUFFIX}"
            else:
                why = f"no sidecar {path.stem}{SIDECAR_SUFFIX}; skipped"
            problems.append(LoadProblem(path, why))
    ids = [d.id for d in documents]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise CorpusError(folder, f"duplicate document ids: {', '.join(sorted(dupes))}", whole_path=True)
    known = set(ids)
    for doc in documents:
        for ref in doc.meta.references:
            if ref.doc_id and ref.doc_id not in known:
                problems.append(LoadProblem(doc.path, f"reference {ref.number} points to unknown document '{ref.doc_id}'",
                                            skipped=False))
    return Corpus(documents=tuple(documents), problems=tuple(problems))
