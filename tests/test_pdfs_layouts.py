"""PDF layouts the heuristics were not tuned on: journal-like articles made here with reportlab.

The generator knows the truth (which section each paragraph belongs to, which lines
are running heads), so these check that furniture, headings, tables, captions and
reference lists are handled beyond the three shared articles.
"""

from __future__ import annotations

import pytest
from conftest import write_doc
from pdf_quality import measure
from pdfs import make_article_pdf

from edubot.chunk import chunk_corpus_report
from edubot.clean import quote_matches_source
from edubot.corpus import load_corpus

pytest.importorskip("reportlab")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layouts")
    truth = {}
    for layout in ("two-column", "caps"):
        truth[f"made-{layout}"] = make_article_pdf(folder / f"made-{layout}.pdf", layout)
        write_doc(folder, f"made-{layout}", None, suffix=".pdf", source_type="research",
                  authors=["Anna Example", "Ben Sample"], venue="J Hip Surg 12:34-45")
    corpus = load_corpus(folder)
    return corpus, chunk_corpus_report(corpus), truth


@pytest.mark.parametrize("doc_id", ["made-two-column", "made-caps"])
def test_other_layouts_are_clean_and_correctly_sectioned(made, doc_id):
    corpus, result, truth = made
    doc = corpus.get(doc_id)
    passages = [p for p in result.passages if p.doc_id == doc_id]
    figures = measure(doc, passages, truth[doc_id])
    assert figures.passages >= 30 and figures.missing_anchors == []
    assert figures.with_artifact == 0, figures.examples
    assert figures.wrong_section == 0, figures.examples
    assert figures.references == truth[doc_id]["references"]
    for p in passages:
        assert quote_matches_source(doc.raw, p.span, p.text)
        for head in truth[doc_id]["furniture"]:
            assert head not in p.text


def test_tables_and_captions_stand_apart(made):
    _, result, _ = made
    for doc_id in ("made-two-column", "made-caps"):
        mine = [p for p in result.passages if p.doc_id == doc_id]
        table = next(p for p in mine if p.section == "Table 1")
        assert table.kind == "table" and "Pain score" in table.text
        assert "Total hip replacement" not in table.text and "note on the" not in table.text  # no prose swallowed
        caption = next(p for p in mine if p.section == "Figures")
        assert caption.text == "Fig. 1 Survival of the femoral head after core decompression."
        assert not any("Fig. 1" in p.text for p in mine if p.section != "Figures")
