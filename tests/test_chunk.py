
import re

import pytest
from conftest import CLINIC, PAK, write_doc
from pdfs import make_pdf

from edubot.chunk import chunk_corpus, chunk_corpus_report, citation_numbers, recover_text, split_sentences
from edubot.clean import quote_matches_source
from edubot.corpus import load_corpus


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


# ---------------------------------------------------------------- issue 15: a clinic's own pages

CLINIC_PAGES = {
    "gout": "Gout\n\nGout is a kind of arthritis that causes sudden attacks of pain, swelling and redness in a joint. "
            "It often starts in the big toe. Learn more about gout. Attacks can last a week or two.\n",
    "bursitis": "Bursitis\n\nBursitis is swelling of a small fluid-filled sac near a joint. It often affects the shoulder, "
                "elbow or hip. Call 1-800-555-0199 to ask our nurses about bursitis. Rest and ice usually help.\n",
    "tendinitis": "Tendinitis\n\nTendinitis is inflammation of a tendon, the cord that joins muscle to bone.\n\n"
                  "Click here to sign up for our newsletter. Share this page.\n\n"
                  "It usually follows repeated movement at work or in sport.\n",
}


@pytest.fixture()
def clinic_corpus(tmp_path):
    for doc_id, text in CLINIC_PAGES.items():
        write_doc(tmp_path, doc_id, text, title=doc_id.title())
    return load_corpus(tmp_path)


def test_furniture_goes_by_the_sentence_and_every_document_yields_passages(clinic_corpus):
    result = chunk_corpus_report(clinic_corpus)
    by_doc = {r.doc_id: r for r in result.reports}
    assert all(by_doc[d].passages > 0 for d in CLINIC_PAGES)
    text = {d: " ".join(p.text for p in result.passages if p.doc_id == d) for d in CLINIC_PAGES}
    assert "It often starts in the big toe." in text["gout"] and "Attacks can last a week or two." in text["gout"]
    assert "Learn more" not in text["gout"]
    assert "It often affects the shoulder, elbow or hip." in text["bursitis"] and "Rest and ice" in text["bursitis"]
    assert "555-0199" not in text["bursitis"]
    assert "It usually follows repeated movement" in text["tendinitis"] and "sign up" not in text["tendinitis"]
    for p in result.passages:  # a passage never spans the sentence taken out
        assert quote_matches_source(clinic_corpus.get(p.doc_id).raw, p.span, p.text)
    assert result.warnings() == []


def test_a_document_that_loses_its_text_is_a_warning(tmp_path):
    write_doc(tmp_path, "contact", "Contact us now!\nCall (708) 393-8266\nFirst Name*:\nLast Name*:\n")
    write_doc(tmp_path, "mostly-chrome", "Osteonecrosis is the death of bone tissue from a lack of blood supply.\n\n"
              + "Contact us now!\nCall (708) 393-8266 today to book an appointment with our team.\n"
              + "Sign up for our newsletter and follow us for more news.\nPrivacy policy\nTerms of use\n")
    result = chunk_corpus_report(load_corpus(tmp_path))
    contact, chrome = result.report("contact"), result.report("mostly-chrome")
    assert contact.passages == 0 and any("no passages" in w for w in contact.warnings)
    assert chrome.passages == 1 and chrome.furniture_share > 1 / 3
    assert any("page furniture" in w for w in chrome.warnings)
    assert len(result.warnings()) == 2 and result.warnings()[0].startswith("contact: gives no passages")
    assert chrome.to_json()["warnings"] == list(chrome.warnings)


def test_bundled_corpus_has_no_chunk_warnings(corpus):
    assert chunk_corpus_report(corpus).warnings() == []


# ---------------------------------------------------------------- issue 13: PDF structure

def _pdf_passages(tmp_path, pages, **meta):
    make_pdf(tmp_path / "paper.pdf", pages)
    write_doc(tmp_path, "paper", None, suffix=".pdf", source_type="research", **meta)
    corpus = load_corpus(tmp_path)
    return corpus, chunk_corpus_report(corpus)


PROSE = [
    "Osteonecrosis of the femoral head mostly affects adults between thirty and fifty years of age.",
    "The blood supply to the bone is interrupted and the bone tissue dies, so the joint may collapse.",
    "Risk factors include long courses of corticosteroids, heavy alcohol use and sickle cell disease.",
]


def test_numbered_and_all_caps_headings(tmp_path):
    pages = [["Research Article", "A study of hips", "1. Introduction", *PROSE, "2. Methods", PROSE[1], "2.1. Imaging",
              PROSE[2]], ["RESULTS", "Most hips that were treated early did not collapse within two years.",
                          "MATERIALS AND METHODS", "Two radiologists who did not know the treatment read every image."]]
    _, result = _pdf_passages(tmp_path, pages)
    sections = [p.section for p in result.passages]
    assert sections[0] == "Introduction"
    assert {"Introduction", "Methods", "Imaging", "Results", "Materials and methods"} <= set(sections)
    assert "Research Article" not in sections  # front matter, not a section


def test_reference_list_runs_to_its_end(tmp_path):
    pages = [["Introduction", *PROSE, "References", "1. Mont MA. Osteonecrosis of the hip. J Bone 1995;77:459-74.",
              "2. Hernigou P. Bone marrow grafting for osteonecrosis. Clin Orthop 2002;405:14-23."],
             ["3. Marker DR. Do modern techniques improve core decompression?", "Clin Orthop 2008;466:1093-103.",
              "4. Zalavras CG. Evaluation and Treatment", "5. Sultan AA. Classification of hip osteonecrosis. 2019."]]
    _, result = _pdf_passages(tmp_path, pages)
    refs = [p for p in result.passages if p.section == "References"]
    assert [p.kind for p in refs] == ["references"] * 5  # a heading-like entry does not end the list
    assert refs[2].text.endswith("Clin Orthop 2008;466:1093-103.")  # a wrapped entry stays one passage
    assert not [p for p in result.passages if p.kind == "prose" and re.match(r"\d\. [A-Z]", p.text)]


def test_a_table_ends_at_prose_or_at_its_page_end(tmp_path):
    pages = [["Results", PROSE[0], "Table 1 Outcomes at one year", "Measure Before After", "Pain score 7.1 3.2",
              "Harris hip score 52 76", PROSE[1] + " " + PROSE[2]],
             ["Table 2 Complications", "Infection 0 1", "Fracture 1 0"], [PROSE[2], PROSE[0]]]
    _, result = _pdf_passages(tmp_path, pages)
    t1 = next(p for p in result.passages if p.section == "Table 1")
    t2 = next(p for p in result.passages if p.section == "Table 2")
    assert t1.kind == t2.kind == "table"
    assert "Harris hip score 52 76" in t1.text and "blood supply" not in t1.text
    assert "Fracture 1 0" in t2.text and "Risk factors" not in t2.text
    assert next(p for p in result.passages if "blood supply" in p.text).section == "Results"


def test_damaged_numbers_are_held_back_and_listed(tmp_path):
    pages = [["Results", PROSE[0], "The mean change was \x1f0.40 mmol per litre in the treated group of patients.",
              "", "Discussion", PROSE[1]]]
    _, result = _pdf_passages(tmp_path, pages)
    assert not any("0.40" in p.text for p in result.passages)
    held = result.held_back
    assert len(held) >= 1 and all(h.doc_id == "paper" and "U+001F" in h.reason for h in held)
    assert any("0.40" in h.text for h in held) and held[0].page == 1
    assert any("held back" in w for w in result.warnings())
    assert any(p.section == "Discussion" for p in result.passages)  # the rest of the document is kept
