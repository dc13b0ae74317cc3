import re

import numpy as np
import pytest
from conftest import CLINIC, PAK

from edubot.config import Config
from edubot.fusion import Fusion
from edubot.index import bm25_tokens
from edubot.retrieve import RankingSettings, answer_strength, defines_term, read_intent


def top_texts(retriever, query, k=3, **kw):
    return [h.passage.text for h in retriever.search(query, k=k, **kw)]


def test_keyword_query_finds_tantalum_first(retriever):
    hit = retriever.search("tantalum", k=1)[0]
    assert "tantalum" in hit.passage.text.lower()
    assert hit.bm25 and hit.bm25 > 0


def test_paraphrase_finds_adipose_derived_stem_cells(retriever):
    # no passage says "fat-derived": the dense model has to bridge fat → adipose
    texts = top_texts(retriever, "fat-derived stem cells", k=3)
    assert any("adipose" in t.lower() for t in texts)


def test_how_many_patients(retriever):
    # answer-type matching: the first passage states a number of patients (or of cases: "These 2 cases")
    import re

    first = top_texts(retriever, "how many patients", k=1)[0]
    assert re.search(r"\b(\d+|two|Two)\b[\w\s(),-]{0,25}\b(patients|cases)\b", first)
    texts = top_texts(retriever, "how many patients were in the stem cell case report", k=3)
    assert any("These 2 cases" in t or "Two patients (34- and 39-year-old men)" in t for t in texts)


def test_expected_answer_types():
    from edubot.retrieve import expected_answer

    # Counts spelled out as abstracts open their sentences, and "how many people" counted in patients.
    assert expected_answer("how many people were in the study").search("We studied thirteen patients (eighteen hips)")
    assert expected_answer("how many dogs did they use").search("Twenty four Beagle dogs were used")
    assert expected_answer("how many dogs did they use").search("twenty-four dogs")
    assert not expected_answer("how many patients were treated").search("thirteen hips were treated")

    assert expected_answer("how many patients were treated").search("a study of 59 patients with")
    assert not expected_answer("how many patients were treated").search("the patients were treated")
    assert expected_answer("how long does a hip replacement last").search("fail after approximately 15 years")
    assert expected_answer("what age does it start").search("in people in their thirties")
    assert expected_answer("what is osteonecrosis") is None
    # a cost question expects a sum of money, not a dose
    cost = expected_answer("how much does core decompression cost without insurance")
    assert cost.search("the procedure costs $4,500") and cost.search("about 3000 dollars")
    assert not cost.search("10 mg of prednisone") and not cost.search("in 25% of patients")
    assert expected_answer("how much bone marrow do they take").search("60 ml of bone marrow")


def test_the_ranking_says_whether_the_kind_of_answer_asked_for_is_there(retriever):
    """Abstention reads it: the corpus names no price, but it does say how long hip replacements last."""
    assert retriever.rank("how much does core decompression surgery cost", k=5).answer_found == 0.0
    assert retriever.rank("how long do hip replacements last", k=5).answer_found >= 0.5
    assert retriever.rank("what is osteonecrosis", k=5).answer_found is None


def test_case_report_patients_in_plain_words(retriever):
    texts = top_texts(retriever, "two men treated with stem cells from their belly fat", k=5)
    assert any("Two patients (34- and 39-year-old men)" in t or "lower abdominal subcutaneous adipose tissue" in t for t in texts)


def test_author_name_finds_the_document(retriever):
    # authors are a field of the document (indexed once), and its passages join the candidates through it
    hits = retriever.search("Papakostidis meta-analysis", k=5)
    assert any("papakostidis" in h.passage.doc_id for h in hits)


def test_filters(retriever):
    hits = retriever.search("stem cells", k=10, source_types={"marketing"})
    assert hits and all(h.passage.source_type == "marketing" for h in hits)
    hits = retriever.search("stem cells", k=10, doc_ids={PAK})
    assert hits and all(h.passage.doc_id == PAK for h in hits)
    assert retriever.search("stem cells", k=10, doc_ids={"no-such-doc"}) == []


def test_scores_are_reported_per_system(retriever):
    for h in retriever.search("core decompression", k=5):
        assert h.score > 0
        assert h.dense is not None or h.bm25 is not None


def test_bm25_tokens_suit_medical_text():
    tokens = bm25_tokens("CaCl2-activated PRP, 17-27 patients and the femoral heads", stem=True)
    assert "cacl2" in tokens and "cacl2activ" in tokens and "activ" in tokens
    assert "17" in tokens and "27" in tokens
    assert "the" not in tokens and "and" not in tokens
    assert "femor" in tokens and "head" in tokens
    assert bm25_tokens("the and of", stem=True) == []


def test_one_ranking_carries_the_raw_best_scores(retriever):
    """One dense search and one BM25 scoring give the order and the evidence abstention reads."""
    q = "what is core decompression"
    qvec = retriever.encode_query(q)
    ranking = retriever.rank(q, k=10, qvec=qvec)
    core = retriever.index.core
    searched = retriever.searcher.query(q, qvec).vector  # as the search reads it (through the corpus's query map)
    assert ranking.best_dense == pytest.approx(float(core.dense(searched, 1).scores[0]), abs=1e-6)
    assert ranking.best_bm25 == pytest.approx(float(core.bm25_scores(retriever.query_tokens(q)).max()), abs=1e-6)
    assert [h.passage.id for h in ranking.hits] == [h.passage.id for h in retriever.search(q, k=10, qvec=qvec)]
    scores = [h.score for h in ranking.hits]
    assert scores == sorted(scores, reverse=True)


def test_what_is_x_prefers_the_passage_that_defines_x(retriever):
    """Every passage of the clinic page carries "Core decompression" in its title; the one defining it comes first."""
    hits = retriever.search("What is core decompression surgery?", k=3)
    assert hits[0].passage.doc_id == CLINIC and "This surgical procedure involves drilling" in hits[0].passage.text


def test_what_x_contains_counts_as_defining_x():
    """"What is in X" asks what X is made of: "X contains ..." answers it, as "X is a ..." answers "what is X"."""
    term = read_intent("what is in platelet rich plasma").defines
    assert defines_term("Platelet rich plasma contains multiple growth factors.", term, "")
    assert defines_term("Platelet rich plasma is made up of plasma and platelets.", term, "")
    assert not defines_term("Platelet rich plasma was injected into the hip.", term, "")
    assert not defines_term("The kit contains platelet rich plasma.", term, "")


def test_a_follow_up_time_is_not_how_long_a_treatment_lasts():
    """A study's follow-up is how long patients were watched: it answers "how long was the follow-up", not
    "how long does a hip replacement last"."""
    lasts = read_intent("how long does a hip replacement last")
    followed = "The mean follow-up was 27.6 months (range 12-40 months) after hip replacement."
    assert answer_strength(followed, lasts, "") == 0.0
    assert answer_strength("Patients were followed up from 5 to 10 years after hip replacement.", lasts, "") == 0.0
    assert answer_strength("Hip replacement implants typically fail after approximately 15 years.", lasts, "") == 1.0
    assert answer_strength(followed, read_intent("how long was the follow-up after hip replacement"), "") > 0


def test_count_question_prefers_the_count_in_the_named_document(retriever):
    hits = retriever.search("how many patients were in the case report", k=3)
    assert hits[0].passage.doc_id == PAK
    assert "These 2 cases" in hits[0].passage.text or "Two patients" in hits[0].passage.text


def test_intent_is_read_from_the_question():
    assert read_intent("What is core decompression surgery?").defines == frozenset({"core", "decompress"})
    assert read_intent("osteonecrosis meaning").defines == frozenset({"osteonecrosi"})
    assert read_intent("does it hurt").defines == frozenset() and read_intent("does it hurt").answer is None
    counted = read_intent("how many patients were in the case report")
    assert counted.answer is not None and counted.focus == frozenset({"case", "report"})


def test_who_gets_a_condition_expects_the_people_it_strikes(retriever):
    """"Who gets X" is answered by an age or a group ("most common in people in their 30s"), not by
    any passage that repeats the question's words ("doctors usually diagnose ...")."""
    intent = read_intent("who usually gets osteonecrosis")
    assert intent.answer is not None and intent.focus == frozenset({"osteonecrosi"})
    assert intent.answer.search("it is most common in people in their thirties")
    assert intent.answer.search("It is more common among men than women")
    assert not intent.answer.search("doctors usually diagnose the disease using imaging methods")
    assert read_intent("who discovered stem cells").answer is None  # not a question about who gets something
    hits = retriever.search("who usually gets osteonecrosis", k=3)
    assert re.search(r"\b(?:their|your) (?:30s|thirties)", hits[0].passage.text), hits[0].passage.text


def test_the_title_counts_once_per_document(retriever):
    """Passages are indexed without their document's title; the title is one field of the document."""
    index = retriever.index
    clinic = [i for i, p in enumerate(index.passages) if p.doc_id == CLINIC]
    docs = list(index.documents)
    assert all(docs[int(index.core.owner[i])] == CLINIC for i in clinic)
    assert index.core.documents == len(docs) and index.core.doc_vectors.shape[0] == len(docs)
    title_words = set(bm25_tokens("Core decompression osteonecrosis avascular necrosis"))
    without_title = [i for i in clinic if not title_words & set(bm25_tokens(index.passages[i].text))]
    assert without_title, "some clinic passages never name the title's words"
    row = without_title[0]
    # such a passage has no BM25 score for the title's words, but its document does
    assert index.core.bm25_scores(sorted(title_words))[row] == 0
    assert index.core.document_scores(None, sorted(title_words))[1][docs.index(CLINIC)] > 0


def test_settings_round_trip_and_reject_unknown_keys():
    s = RankingSettings.from_config(Config())
    assert RankingSettings.from_json(s.to_json()) == s
    assert s.fusion is Fusion(Config().fusion)
    with pytest.raises(ValueError, match="unknown ranking settings: dense_wieght"):
        RankingSettings.from_json({"dense_wieght": 1.0})
    with pytest.raises(ValueError, match="fusion 'linear' is not one of"):
        RankingSettings.from_json({"fusion": "linear"})


def test_every_fusion_ranks_the_bundled_corpus(retriever):
    """Each method of the Enum runs through the same path and finds the tantalum passages."""
    q = retriever.searcher.query("tantalum rod", retriever.encode_query("tantalum rod"))
    for fusion in Fusion:
        scored = retriever.searcher.rank(q, settings=retriever.searcher.settings.replace(fusion=fusion))
        top = retriever.index.passages[int(scored.rows[0])]
        assert "tantalum" in top.text.lower(), fusion
        assert scored.scores[0] >= scored.scores[-1]


def test_feedback_rescores_the_same_candidates(retriever):
    """Feedback moves the question's vector but re-scores the candidates it has: no second search."""
    q = retriever.searcher.query("stem cells for hip osteonecrosis", retriever.encode_query("stem cells for hip osteonecrosis"))
    base = retriever.searcher.settings.replace(prf_docs=0, prf_weight=0.0)
    plain = retriever.searcher.rank(q, settings=base)
    moved = retriever.searcher.rank(q, settings=base.replace(prf_docs=3, prf_weight=0.5))
    assert set(plain.rows.tolist()) == set(moved.rows.tolist())
    assert plain.best_dense == moved.best_dense  # the raw evidence is the question's own
    assert plain.rows.tolist() != moved.rows.tolist() or not np.allclose(plain.scores, moved.scores)


def test_a_story_told_before_the_question_is_searched_with_the_question_first():
    from edubot.retrieve import question_first

    story = ("ok so I used to drink a LOT. six years sober now, but my hip has been aching. "
             "Is heavy drinking actually a risk factor for avascular necrosis?")
    assert question_first(story) == "Is heavy drinking actually a risk factor for avascular necrosis? " + story
    # A short question leans on the sentence before it.
    diver = "Someone told me the bends are linked to bone necrosis. Is that right?"
    assert question_first("Former diver, 52. " + diver) == diver + " Former diver, 52. " + diver
    # One sentence, no question, or nothing but questions: as written.
    for text in ("what is core decompression", "My hip hurts. It has for a year.", "What is AVN? Is it common?"):
        assert question_first(text) == text


def test_the_search_reads_a_story_with_its_question_first(retriever):
    """The product's ranking and a ranking of the question-first text are the same ranking (one path)."""
    from edubot.retrieve import question_first

    story = ("My wife spent 14 grand at a stem cell place in Florida and her hip is no better, we are both furious. "
             "Which stem cell products has the FDA actually approved?")
    searched = question_first(story)
    assert searched != story
    vec = retriever.embedder.encode_query(retriever.read_query(story))
    direct = retriever.searcher.rank(retriever.searcher.query(searched, vec, retriever.query_tokens(searched)))
    assert [h.passage.id for h in retriever.rank(story, k=10).hits] == [
        retriever.index.passages[int(r)].id for r in direct.rows[:10]]
    as_written = retriever.searcher.rank(retriever.searcher.query(
        story, retriever.embedder.encode_query(story), retriever.query_tokens(story)))
    assert list(direct.rows[:10]) != list(as_written.rows[:10])  # the reading changes the order


def test_the_kind_score_lifts_passages_of_the_kind_asked_for(retriever):
    """With a kind bonus, every candidate gains its agreement with the question's kind (the shipped model's
    reading of the stored vectors); without one, or without a model, the kinds are not read."""
    searcher = retriever.searcher
    text = "how is osteonecrosis of the hip treated?"
    q = searcher.query(text, retriever.encode_query(text))
    plain = searcher.rank(q, settings=searcher.settings.replace(kind_bonus=0.0))
    cands = searcher.candidates(q, searcher.settings.candidates)
    assert cands.kind.shape == cands.rows.shape and 0 <= cands.kind.min() and cands.kind.max() <= 1
    kinds = searcher.kinds
    assert kinds is not None
    top = int(np.argmax(cands.kind))
    assert kinds.labels[int(kinds.passages(cands.stored[top : top + 1]).argmax())] == "treatment"
    lifted = searcher.rank(q, settings=searcher.settings.replace(kind_bonus=1.0))
    assert set(lifted.rows.tolist()) == set(plain.rows.tolist())
    by_row = dict(zip(cands.rows.tolist(), cands.kind.tolist()))
    plain_scores = dict(zip(plain.rows.tolist(), plain.scores.tolist()))
    assert all(abs(s - plain_scores[r] - by_row[r]) < 1e-9 for r, s in zip(lifted.rows.tolist(), lifted.scores.tolist()))
    assert not searcher.candidates(q, 10, kinds=False).kind.any()


def test_the_bundled_corpus_is_read_through_its_query_map_and_no_other_corpus_is(retriever, tmp_path, embedder):
    """The shipped map was learned against the bundled corpus's files: the product applies it there (the
    same question vector, mapped), never to another corpus, and not when the configuration turns it off."""
    from conftest import write_doc

    from edubot.index import build_index, load_index
    from edubot.retrieve import Retriever

    m = retriever.searcher.query_map
    assert m is not None and m.meta["corpus_hash"] == retriever.index.manifest["corpus_hash"]
    vector = retriever.encode_query("can stem cells regrow the dead bone in my hip")
    q = retriever.searcher.query("can stem cells regrow the dead bone in my hip", vector)
    assert q.vector == pytest.approx(m.apply(vector), abs=1e-6)
    assert not np.allclose(q.vector, vector, atol=1e-3)
    # The kinds, fitted on the model's own vectors, read the question as the model reads it, not as mapped.
    assert q.unmapped is not None and np.array_equal(q.unmapped, vector)
    cands = retriever.searcher.candidates(q, 20)
    assert cands.kind == pytest.approx(retriever.searcher.kinds.agreement(vector, cands.stored), abs=1e-9)

    off = Retriever(retriever.index, embedder, retriever.cfg.replace(query_map=False), retriever.corpus)
    assert off.searcher.query_map is None

    other = Config(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    write_doc(other.corpus_dir, "bone-death", "Osteonecrosis is the death of bone tissue due to a lost blood supply.",
              title="Osteonecrosis", authors=[], year=None)
    build_index(other, embedder=embedder)
    assert Retriever(load_index(other.index_dir), embedder, other).searcher.query_map is None


def test_a_question_for_a_conclusion_prefers_the_sentence_that_states_one(retriever):
    """"What did Papakostidis conclude": the review's "Interpretation — Our findings suggest …" answers it, its
    methods and pooled results do not. Conclusions are recognised by how papers state them, not by a paper."""
    from edubot.retrieve import expected_answer

    pattern = expected_answer("what did the pak 2011 authors conclude about fat stem cell injections")
    assert pattern is not None
    assert pattern.search("Conclusions: The MRI data for all the patients in this series showed significant positive changes.")
    assert pattern.search("Our findings suggest that implantation of autologous mesenchymal stem cells would improve survivorship.")
    assert not pattern.search("Patients were followed up from 5 to 10 years.")
    assert expected_answer("bottom line of the review?") is pattern
    texts = [h.passage.text for h in retriever.rank("what did papakostidis conclude", k=5).hits]
    interpretation = next(i for i, t in enumerate(texts) if "Our findings suggest" in t)
    pooled = next(i for i, t in enumerate(texts) if t.startswith("Results — The pooled estimate"))
    assert interpretation < pooled
