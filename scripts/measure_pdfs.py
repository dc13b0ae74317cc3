"""Extractors side by side on the shared journal articles (README, "How text becomes passages").

    .venv/bin/python scripts/measure_pdfs.py            # pypdf plain and layout mode
    .venv/bin/pip install pdfminer.six && .venv/bin/python scripts/measure_pdfs.py   # and pdfminer.six

For each extractor and article: extraction time (best of three), glued and split words in
the extracted text (before any repair), then the whole pipeline (clean → chunk) run on that
extraction: passages, passages with a visible artifact and section accuracy, counted by
tests/pdf_quality.py against the hand-written gold files in tests/data/pdfs.
"""

from __future__ import annotations

import itertools
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pdf_quality import (
    ARTICLES,
    SHARED_PDFS,
    _common_words,
    _zipf,
    measure,
    real_pdf_corpus,
)

import edubot.corpus as corpus_module
from edubot.chunk import chunk_corpus_report
from edubot.corpus import _quiet_pypdf, load_corpus


def pypdf_pages(mode: str):
    def extract(path: Path) -> list[str]:
        from pypdf import PdfReader

        with _quiet_pypdf():
            return [(p.extract_text(extraction_mode=mode) or "") for p in PdfReader(str(path)).pages]
    return extract


def pdfminer_pages(path: Path) -> list[str]:
    import logging

    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    logging.getLogger("pdfminer").setLevel(logging.ERROR)

    return ["".join(el.get_text() for el in page if isinstance(el, LTTextContainer)) for page in extract_pages(str(path))]


def word_damage(text: str) -> tuple[int, int]:
    """Glued words (common words run together) and split words ("tech nique") in raw extracted text."""
    glued = sum(1 for t in re.findall(r"[a-z][a-z’']{11,}", text)
                if _zipf(t) == 0 and _common_words(t.replace("’", "").replace("'", "")))
    tokens = re.findall(r"[A-Za-z]+|\S", text)
    split = 0
    for a, b in itertools.pairwise(tokens):
        if (a.isalpha() and b.isalpha() and a.islower() and b.islower() and len(a) >= 2
                and _zipf(a + b) >= 3.0 and min(_zipf(a), _zipf(b)) < 2.0):
            split += 1
    return glued, split


def main() -> None:
    extractors = {"pypdf plain": pypdf_pages("plain"), "pypdf layout": pypdf_pages("layout")}
    try:
        import pdfminer  # noqa: F401

        extractors["pdfminer.six"] = pdfminer_pages
    except ImportError:
        print("(pdfminer.six not installed: `.venv/bin/pip install pdfminer.six` to compare it)", file=sys.stderr)
    print("| extractor | article | extraction s | glued words | split words | passages | with artifact | section accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    original = corpus_module.extract_pdf_pages
    for name, extract in extractors.items():
        totals = [0.0, 0, 0, 0, 0, 0, 0]
        for doc_id in ARTICLES:
            pdf = SHARED_PDFS / f"{doc_id}.pdf"
            best = min(_timed(extract, pdf) for _ in range(3))
            glued, split = word_damage("\n".join(extract(pdf)))
            corpus_module.extract_pdf_pages = extract
            try:
                folder = real_pdf_corpus(Path(tempfile.mkdtemp()), (doc_id,))
                corpus = load_corpus(folder)
                result = chunk_corpus_report(corpus)
                doc = corpus.get(doc_id)
                fig = measure(doc, list(result.passages)) if doc else None
            finally:
                corpus_module.extract_pdf_pages = original
            if fig is None:
                print(f"| {name} | {doc_id} | {best:.2f} | {glued} | {split} | not loaded: {corpus.problems} | | |")
                continue
            print(f"| {name} | {doc_id} | {best:.2f} | {glued} | {split} | {fig.passages} | "
                  f"{fig.with_artifact} ({fig.artifact_share:.1%}) | {fig.section_accuracy:.1%} |")
            for i, v in enumerate((best, glued, split, fig.passages, fig.with_artifact, fig.sectioned, fig.wrong_section)):
                totals[i] += v
        print(f"| **{name}** | all three | {totals[0]:.2f} | {totals[1]} | {totals[2]} | {totals[3]} | "
              f"{totals[4]} ({totals[4] / max(totals[3], 1):.1%}) | {1 - totals[6] / max(totals[5], 1):.1%} |")


def _timed(extract, pdf: Path) -> float:
    start = time.perf_counter()
    extract(pdf)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
