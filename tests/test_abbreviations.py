from conftest import PAK

from edubot.abbreviations import corpus_abbreviations, expand, find_abbreviations, long_form
from edubot.index import bm25_tokens, index_text, passage_abbreviations


def test_schwartz_hearst_long_forms():
    assert long_form("THR", "Osteonecrosis may necessitate total hip replacement") == "total hip replacement"
    assert long_form("ADSC", "cells derived from adipose tissue-derived stem cells") == "adipose tissue-derived stem cells"
    assert long_form("MRI", "was followed by repeated imaging") is None  # letters not there in order
    assert long_form("BM", "the BM") is None  # no longer than the short form


def test_definitions_found_in_text():
    text = ("Osteonecrosis may necessitate total hip\nreplacement (THR). In North America, magnetic resonance imaging "
            "(MRI) is used. Results were good (p = 0.02) in 2 cases (17-27).")
    assert find_abbreviations(text) == {"THR": "total hip replacement", "MRI": "magnetic resonance imaging"}


def test_expand_spells_out_the_first_use_only():
    defs = {"THR": "total hip replacement", "MSC": "mesenchymal stem cells"}
    assert expand("THR remains the only. THR again.", defs) == "THR (total hip replacement) remains the only. THR again."
    assert expand("MSCs and BM-MSC.", defs) == "MSCs (mesenchymal stem cells) and BM-MSC."
    assert expand("A total hip replacement (THR) is done.", defs) == "A total hip replacement (THR) is done."
    assert expand("nothing here", {}) == "nothing here"


def test_shared_definitions_fill_gaps_unless_they_conflict():
    defs, agreed = corpus_abbreviations({
        "a": ["We used platelet-rich plasma (PRP). The odds ratio (OR) was 2."],
        "b": ["Only PRP and OR here."],
        "c": ["The operating room (OR) was clean."],
    })
    assert defs["b"]["PRP"] == "platelet-rich plasma"
    assert "OR" not in defs["b"]  # defined two ways: not guessed
    assert defs["c"]["OR"] == "operating room"  # a document's own definition always wins
    assert agreed == {"PRP": "platelet-rich plasma"}


def test_the_case_report_abbreviations_reach_the_index(passages, corpus):
    defs, _ = passage_abbreviations(passages)
    assert defs[PAK]["THR"] == "total hip replacement"
    assert defs[PAK]["ADSC"] == "adipose tissue-derived stem cells"
    thr = next(p for p in passages if p.doc_id == PAK and p.text.startswith("THR remains the only definitive treatment"))
    assert "total hip replacement" not in thr.text  # the quote a reader sees is untouched
    assert "THR (total hip replacement) remains" in index_text(thr.text, thr.section, defs[PAK])


def test_hip_replacement_finds_the_passage_that_says_thr(retriever):
    hits = retriever.search("how long does a hip replacement last", k=5)
    assert any("implants typically fail after approximately 15 years" in h.passage.text for h in hits)
    assert "replac" in bm25_tokens("hip replacement")


def test_questions_are_read_with_the_corpus_abbreviations(retriever):
    """A patient typing "PRP" comes closer to the abstract that only ever says "platelet-rich plasma"."""
    assert retriever.index.abbreviations["PRP"].lower().replace("-", " ") == "platelet rich plasma"
    assert retriever.read_query("does PRP help") == f"does PRP ({retriever.index.abbreviations['PRP']}) help"

    def first_rank(vec):
        ids, _ = retriever.index.core.dense(vec, 30)
        docs = [retriever.index.passages[i].doc_id for i in ids]
        return docs.index("abstract-ibrahim-2012-prp-case") + 1 if "abstract-ibrahim-2012-prp-case" in docs else 99

    q = "does PRP help avascular necrosis"
    assert first_rank(retriever.encode_query(q)) <= 5 < first_rank(retriever.embedder.encode_query(q))
    assert retriever.query_tokens(q) == bm25_tokens(q)  # BM25 reads the question as typed
