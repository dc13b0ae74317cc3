import json

import pytest
from conftest import CLINIC, PAK, write_doc
from pdfs import make_blank_pdf, make_encrypted_pdf, make_pdf

from edubot.corpus import CorpusError, load_corpus, read_sidecar


def test_bundled_corpus_loads_cleanly(corpus):
    assert corpus.problems == ()
    types = {d.id: d.meta.source_type for d in corpus.documents}
    assert types[PAK] == "research"
    assert types[CLINIC] == "marketing"
    assert sum(t == "abstract" for t in types.values()) == 12
    assert sum(t == "patient_education" for t in types.values()) == 9


def test_bundled_metadata_is_honest(corpus):
    pak = corpus.get(PAK).meta
    assert pak.n_patients == 2 and pak.peer_reviewed is True
    assert "pmid" in pak.unverified  # from background knowledge only, so marked
    assert any(l.key and "biopsy" in l.text for l in pak.limitations)
    clinic = corpus.get(CLINIC).meta
    assert clinic.conflict_of_interest and "sells" in clinic.conflict_of_interest
    assert clinic.peer_reviewed is False
    # every reference with an abstract points at its own abstract document
    ref1 = clinic.reference(1)
    assert ref1.doc_id == "abstract-olsen-2016-tantalum-rod"
    assert corpus.get(ref1.doc_id).meta.source_type == "abstract"
    assert clinic.reference(2).doc_id is None  # no abstract was found
    dogs = corpus.get("abstract-yun-2016-dogs-osteoarthritis").meta
    assert dogs.subjects == ("dogs",)
    partial = [d for d in corpus.documents if d.meta.source_type == "patient_education" and d.meta.partial]
    assert len(partial) == 7


def test_every_limitation_quote_occurs_in_its_document(corpus):
    for doc in corpus.documents:
        for lim in doc.meta.limitations:
            assert lim.quote in doc.raw


def test_text_and_markdown_loaders(tmp_path):
    write_doc(tmp_path, "plain", "Plain text.\r\nSecond line.")
    write_doc(tmp_path, "marked", "# Heading\n\nSome *markdown* text.", suffix=".md")
    c = load_corpus(tmp_path)
    assert c.problems == ()
    assert c.get("plain").raw == "Plain text.\nSecond line."  # one line-ending convention
    assert c.get("marked").raw.startswith("# Heading")


def test_pdf_loader_reads_page_by_page(tmp_path):
    make_pdf(tmp_path / "paper.pdf", [["Osteonecrosis affects the hip."], ["Page two talks about tantalum rods."]])
    write_doc(tmp_path, "paper", None, suffix=".pdf")
    c = load_corpus(tmp_path)
    doc = c.get("paper")
    assert c.problems == ()
    assert "Osteonecrosis affects the hip." in doc.raw and "tantalum rods" in doc.raw
    assert len(doc.page_starts) == 2
    assert doc.page_at(doc.raw.index("Osteonecrosis")) == 1
    assert doc.page_at(doc.raw.index("tantalum")) == 2


@pytest.mark.parametrize("maker,expected", [
    (lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> garbage"), "damaged"),
    (lambda p: make_encrypted_pdf(p, [["Secret text about the hip."]]), "encrypted"),
    (lambda p: make_blank_pdf(p), "no extractable text"),
    (lambda p: p.write_text("<!DOCTYPE html><html><body>Hip pain</body></html>"), "this is not a PDF: a web page"),
    (lambda p: p.write_bytes(b"PK\x03\x04 a zip archive"), "this is not a PDF"),
    (lambda p: p.write_bytes(b""), "this is not a PDF"),
])
def test_bad_pdf_is_reported_by_name_and_skipped(tmp_path, maker, expected):
    maker(tmp_path / "bad.pdf")
    write_doc(tmp_path, "bad", None, suffix=".pdf")
    write_doc(tmp_path, "good", "A good document about hips.")
    c = load_corpus(tmp_path)
    assert [d.id for d in c.documents] == ["good"]
    assert len(c.problems) == 1
    assert c.problems[0].path.name == "bad.pdf"
    assert expected in c.problems[0].message


def test_aes_encrypted_pdf_without_password_opens(tmp_path):
    # Journals publish AES-encrypted PDFs with an empty user password: any viewer opens them.
    make_encrypted_pdf(tmp_path / "paper.pdf", [["Osteonecrosis affects the hip."]], password="", algorithm="AES-256")
    write_doc(tmp_path, "paper", None, suffix=".pdf")
    c = load_corpus(tmp_path)
    assert c.problems == ()
    assert "Osteonecrosis affects the hip." in c.get("paper").raw


def test_misnamed_sidecar_is_named_as_such(tmp_path):
    make_pdf(tmp_path / "paper.pdf", [["Osteonecrosis affects the hip."]])
    write_doc(tmp_path, "paper", None, suffix=".pdf")
    (tmp_path / "paper.meta.json").rename(tmp_path / "paper.meta.json.txt")
    write_doc(tmp_path, "good", "A good document about hips.")
    c = load_corpus(tmp_path)
    assert [d.id for d in c.documents] == ["good"]
    messages = {p.path.name: p.message for p in c.problems}
    assert "wrong extension" in messages["paper.meta.json.txt"] and "paper.meta.json" in messages["paper.meta.json.txt"]
    assert "rename" in messages["paper.pdf"]
    assert len(c.problems) == 2


def test_pypdf_warnings_are_silenced_but_ours_are_not(tmp_path, caplog):
    import logging

    # A broken cross-reference table makes pypdf log a warning while it repairs the file.
    data = make_pdf(tmp_path / "paper.pdf", [["Osteonecrosis affects the hip."]]).read_bytes()
    (tmp_path / "paper.pdf").write_bytes(data.replace(b"startxref\n", b"startxref\n9"))
    write_doc(tmp_path, "paper", None, suffix=".pdf")
    with caplog.at_level(logging.WARNING):
        c = load_corpus(tmp_path)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert logging.getLogger("pypdf").level == logging.NOTSET  # restored afterwards
    assert c.get("paper") is not None or c.problems  # read, or reported: never a traceback


def test_undecodable_text_is_reported(tmp_path):
    (tmp_path / "latin.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    write_doc(tmp_path, "latin", None)
    c = load_corpus(tmp_path)
    assert c.documents == ()
    assert "latin.txt" in str(c.problems[0]) and "UTF-8" in str(c.problems[0])


@pytest.mark.parametrize("change,field", [
    ({"title": None}, "title"),
    ({"source_type": "blog"}, "source_type"),
    ({"year": "2012"}, "year"),
    ({"limitations": [{"text": "x", "quote": "y"}]}, "limitations.0"),
    ({"url": "ftp://example.org"}, "url"),
])
def test_bad_sidecar_names_file_and_field(tmp_path, change, field):
    write_doc(tmp_path, "doc", "Some text.")
    path = tmp_path / "doc.meta.json"
    data = json.loads(path.read_text())
    for k, v in change.items():
        if v is None:
            del data[k]
        else:
            data[k] = v
    path.write_text(json.dumps(data))
    with pytest.raises(CorpusError) as err:
        read_sidecar(path)
    assert "doc.meta.json" in str(err.value)
    assert field in str(err.value)
    # and a whole-corpus load reports it instead of stopping
    c = load_corpus(tmp_path)
    assert c.documents == () and "doc.meta.json" in str(c.problems[0])


def test_invalid_json_sidecar(tmp_path):
    write_doc(tmp_path, "doc", "Some text.")
    (tmp_path / "doc.meta.json").write_text("{not json")
    c = load_corpus(tmp_path)
    assert "not valid JSON" in str(c.problems[0])


def test_a_bad_limitation_is_dropped_alone_with_a_warning(tmp_path):
    write_doc(tmp_path, "doc", "The study had two patients.\nIt had no control group.",
              limitations=[{"text": "Small", "quote": "three hundred patients", "kind": "stated"},
                           {"text": "Uncontrolled", "quote": "no control group", "kind": "stated"}])
    c = load_corpus(tmp_path)
    doc = c.get("doc")
    assert doc is not None  # the document stays
    assert [l.text for l in doc.meta.limitations] == ["Uncontrolled"]
    assert len(c.problems) == 1 and not c.problems[0].skipped
    assert "limitations.0.quote" in str(c.problems[0]) and "dropped" in str(c.problems[0])


def test_limitation_quote_matched_ignoring_whitespace_and_ligatures(tmp_path):
    # As copied from a PDF viewer: spaces where the extracted text breaks lines, "fi" for "ﬁ".
    write_doc(tmp_path, "doc", "The small size of the focus\ngroups does not allow signiﬁcant\ngeneralisation.",
              limitations=[{"text": "Small", "quote": "focus groups does not allow significant generalisation",
                            "kind": "stated"}])
    c = load_corpus(tmp_path)
    assert c.problems == ()
    assert len(c.get("doc").meta.limitations) == 1


def test_document_without_sidecar_is_reported(tmp_path):
    (tmp_path / "orphan.txt").write_text("No metadata here.")
    write_doc(tmp_path, "good", "A good document.")
    c = load_corpus(tmp_path)
    assert [d.id for d in c.documents] == ["good"]
    assert "orphan.txt" in str(c.problems[0])


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nowhere")


def test_content_hash_changes_with_text(tmp_path):
    write_doc(tmp_path, "doc", "Version one.")
    h1 = load_corpus(tmp_path).content_hash()
    (tmp_path / "doc.txt").write_text("Version two.")
    assert load_corpus(tmp_path).content_hash() != h1
