
from conftest import CLINIC, PAK, write_doc
from edubot.chunk import chunk_corpus, citation_numbers, recover_text, split_sentences
from edubot.clean import quote_matches_source
from edubot.corpus import load_corpus
from pdfs import make_pdf


def test_provenance_round_trip(corpus, vocabulary, passages):
    assert len(passages) > 100
    for p in passages:
        doc = corpus.get(p.doc_id)
        assert recover_text(doc, p.span, vocabulary) == p.text, p.id
        assert quote_matches_source(doc.raw, p.span, p.text), p.id


def test_ids_are_stable_and_unique(corpus, passages):
    again = chunk_corpus(corpus)
    assert [p.id for p in again] == [p.id for p in passages]
    assert len({p.id for p in passages}) == len(passages)


def test_passages_are_bounded_whole_sentences(passages):
    for p in passages:
        if p.kind == "prose" and len(p.sentences) > 1:
            assert len(p.text) <= 600, p.id
        assert p.text == p.text.strip()


def test_case_report_sections_recovered_from_headings(passages):
    pak = [p for p in passages if p.doc_id == PAK]
    sections = {p.section for p in pak}
    for name in ("Background", "Methods", "Results", "Limitations", "Conclusion", "Introduction",
                 "Discussion", "Table 1", "Table 2", "Table 3", "Medication Restrictions"):
        assert name in sections, name
    limitation = next(p for p in pak if p.text.startswith("Limitations:"))
    assert limitation.section == "Limitations"
    discussion = next(p for p in pak if "reluctant to undergo a hip bone biopsy" in p.text)
    assert discussion.section == "Discussion"
    hernigou = next(p for p in pak if "Hernigous and Beaujean (29)" in p.text)
    assert hernigou.section == "Introduction"


def test_outcome_tables_are_their_own_passages_with_rows(passages):
    table1 = next(p for p in passages if p.doc_id == PAK and p.section == "Table 1")
    assert table1.kind == "table"
    assert "Harris Hip Score 27 71 71 71" in table1.text.split("\n")
    assert "Pre-injection Evaluation 100 9 20 8 15 9" in table1.text.split("\n")


def test_web_furniture_stays_out_of_passages(corpus, passages):
    clinic = [p for p in passages if p.doc_id == CLINIC]
    text = "\n".join(p.text for p in clinic)
    for furniture in ("(708) 393-8266", "Contact us now", "First Name", "© 2017", "Oak Park, IL", "2nd opinion",
                      "5-Star", "Ross Hauser, MD", "Please leave this field empty", "Meet our Prolotherapy Doctors"):
        assert furniture not in text, furniture
        # ... yet it stays in the document, where limitations can quote it
    assert "Contact us now!" in corpus.get(CLINIC).raw
    assert any("tantalum rod implantation" in p.text for p in clinic)


def test_parenthesised_citations_resolve_to_the_reference_list(passages):
    hernigou = next(p for p in passages if "Hernigous and Beaujean (29)" in p.text)
    cites = {c.number: c for c in hernigou.citations}
    assert cites[29].reference is not None
    assert cites[29].reference.doc_id == "abstract-hernigou-2002-bone-marrow-grafting"
    vessels = next(p for p in passages if "bones and blood vessels (17-27)" in p.text)
    numbers = [c.number for c in vessels.citations]
    assert numbers[:11] == list(range(17, 28))
    assert all(c.reference is None for c in vessels.citations if c.number < 29)  # not in the extracted text


def test_superscript_citations_on_the_web_page(passages):
    olsen = next(p for p in passages if p.doc_id == CLINIC and "longer term study.1" in p.text)
    assert 1 in [c.number for c in olsen.citations]
    assert next(c for c in olsen.citations if c.number == 1).reference.doc_id == "abstract-olsen-2016-tantalum-rod"
    prp = next(p for p in passages if p.doc_id == CLINIC and "avoid surgery.15" in p.text)
    assert next(c for c in prp.citations if c.number == 15).reference.n == 1
    china = next(p for p in passages if p.doc_id == CLINIC and "failed our expectation.”2" in p.text)
    assert 2 in [c.number for c in china.citations]
    refs = [p for p in passages if p.doc_id == CLINIC and p.kind == "references"]
    assert len(refs) >= 14 and all(p.citations == () for p in refs)


def test_citation_numbers():
    assert citation_numbers("as shown (2,3) and (13, 14) and (6-8).", superscript=False) == [2, 3, 13, 14, 6, 7, 8]
    assert citation_numbers("in 2.5 mL of CaCl2 (Table 1)", superscript=True) == []
    assert citation_numbers("necessitating longer term study.1 Common sense", superscript=True) == [1]


def test_sentence_splitting_respects_abbreviations():
    text = "Gangji et al. (30) reported results. Fig. 1. MRI results of Patient 1. A. T1 axial views. Done."
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences[0] == "Gangji et al. (30) reported results."
    assert "Fig. 1. MRI results of Patient 1." in sentences
    assert sentences[-1] == "Done."


def test_pdf_passages_cite_their_page(tmp_path):
    make_pdf(tmp_path / "paper.pdf", [["Osteonecrosis is the death of bone tissue."],
                                      ["Tantalum rods were used in some patients. They were removed later."]])
    write_doc(tmp_path, "paper", None, suffix=".pdf")
    c = load_corpus(tmp_path)
    ps = chunk_corpus(c, max_chars=60, overlap=0)
    by_text = {p.text: p for p in ps}
    tantalum = next(p for t, p in by_text.items() if "Tantalum" in t)
    first = next(p for t, p in by_text.items() if "Osteonecrosis" in t)
    assert first.page == 1 and tantalum.page == 2
