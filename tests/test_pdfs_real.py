"""Three real open-access journal articles (../shared/pdfs), read as a clinic would add them."""

from __future__ import annotations

import pytest
from pdf_quality import ARTICLES, SHARED_PDFS, gold, measure, real_pdf_corpus

from edubot.chunk import chunk_corpus_report, recover_text
from edubot.clean import Vocabulary, clean, quote_matches_source
from edubot.corpus import load_corpus

pytestmark = pytest.mark.skipif(not SHARED_PDFS.is_dir(), reason="../shared/pdfs is not beside the project")


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    corpus = load_corpus(real_pdf_corpus(tmp_path_factory.mktemp("articles")))
    return corpus, chunk_corpus_report(corpus)


def test_articles_load_with_their_limitations(articles):
    corpus, _ = articles
    assert corpus.problems == ()
    assert sorted(d.id for d in corpus.documents) == sorted(ARTICLES)
    # a limitation copied from a viewer (one line, "fi" for the ligature) is found in the text
    assert len(corpus.get("tully-2010-heart-failure-programmes").meta.limitations) == 1


def test_every_passage_maps_back_to_its_source(articles):
    corpus, result = articles
    vocabulary = Vocabulary.from_texts(d.raw for d in corpus.documents)
    for doc in corpus.documents:
        cleaned = clean(doc.raw, vocabulary, doc.page_starts)  # what recover_text does, once per document
        for p in (p for p in result.passages if p.doc_id == doc.id):
            assert quote_matches_source(doc.raw, p.span, p.text), p.id
            assert cleaned.text_for_raw_span(*p.span) == p.text, p.id
    first = result.passages[0]
    assert recover_text(corpus.get(first.doc_id), first.span, vocabulary) == first.text


@pytest.mark.parametrize("doc_id", ARTICLES)
def test_clean_and_correctly_sectioned(articles, doc_id):
    """Under 5% of passages with a visible artifact, under 5% wrongly sectioned (see pdf_quality)."""
    corpus, result = articles
    figures = measure(corpus.get(doc_id), [p for p in result.passages if p.doc_id == doc_id])
    assert figures.passages >= 50 and figures.missing_anchors == []
    assert figures.artifact_share < 0.05, figures.examples
    assert figures.section_accuracy > 0.95, figures.examples
    assert figures.sectioned >= 0.9 * figures.passages


@pytest.mark.parametrize("doc_id", ARTICLES)
def test_no_running_head_and_no_reference_entry_in_prose(articles, doc_id):
    _, result = articles
    g = gold(doc_id)
    mine = [p for p in result.passages if p.doc_id == doc_id]
    for p in mine:
        for head in g["furniture"]:
            assert head not in p.text, (p.id, head)
        assert "Page 10 of" not in p.text
    refs = [p for p in mine if p.kind == "references"]
    assert len(refs) == g["references"]  # one passage per entry, every entry
    assert all(p.section == "References" for p in refs)
    assert not [p for p in mine if p.kind == "prose" and p.section == "References"]


def test_front_matter_and_furniture_are_kept_apart_not_lost(articles):
    corpus, result = articles
    tully = corpus.get("tully-2010-heart-failure-programmes")
    assert any("Rehabilitation Research and Practice" in line for _, line in tully.margins)
    sections = {p.section for p in result.passages if p.doc_id == tully.id}
    assert "Research Article" not in sections and "Rehabilitation Research and Practice" not in sections
    for name in ("Objectives", "Introduction", "Methods", "Results", "Discussion", "Medication"):
        assert name in sections
    report = result.report(tully.id)
    assert report.passages > 50 and 0 < report.furniture_share < 1 / 3 and report.warnings == ()


def test_glued_words_repaired_in_the_articles(articles):
    _, result = articles
    text = "\n".join(p.text for p in result.passages)
    assert "focus groups [8] were conducted with" in text
    assert "prevention of DVT after trauma were identified using" in text
    assert "delivery is common in many low and middle income countries" in text
    for glued in ("wereconductedwith", "ventionofDVT", "iscommoninmany", "revenuethroughthe"):
        assert glued not in text


def test_no_quote_with_a_corrupted_number(articles):
    from edubot.clean import number_problem

    corpus, result = articles
    for p in result.passages:
        assert number_problem(corpus.get(p.doc_id).raw[p.span[0]:p.span[1]], p.text) is None
    assert result.held_back == ()  # these three articles have no damaged numbers
