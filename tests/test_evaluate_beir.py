import json

import numpy as np
import pytest

from edubot.cli import main
from edubot.config import Config
from edubot.evaluate import BeirError, evaluate_beir, load_beir, metrics


@pytest.fixture()
def tiny_beir(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    docs = [
        ("D1", "Tantalum rods", "Porous tantalum implants were inserted into the femoral head after core decompression."),
        ("D2", "Vitamin D", "Vitamin D supplements and bone density in older women."),
        ("D3", "Statins", "Statin use was associated with lower breast cancer mortality in a Finnish cohort."),
        ("D4", "Green tea", "Green tea catechins and their effect on blood pressure in adults."),
        ("D5", "Osteonecrosis", "Avascular necrosis of the hip is the death of bone tissue due to lost blood supply."),
        ("D6", "Fat stem cells", "Adipose tissue-derived stem cells were injected into the hip of two patients."),
    ]
    with open(folder / "corpus.jsonl", "w") as fh:
        fh.writelines(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs)
    queries = [("Q1", "tantalum implant"), ("Q2", "statins and breast cancer"), ("Q3", "bone death from lost blood flow")]
    with open(folder / "queries.jsonl", "w") as fh:
        fh.writelines(json.dumps({"_id": i, "text": t}) + "\n" for i, t in queries)
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nQ1\tD1\t2\nQ2\tD3\t1\nQ3\tD5\t2\n")
    return folder


def test_load_beir(tiny_beir):
    beir = load_beir(tiny_beir, "test")
    assert len(beir.doc_ids) == 6 and set(beir.queries) == {"Q1", "Q2", "Q3"}
    assert beir.qrels["Q1"] == {"D1": 2}


def test_missing_split_is_a_clear_error(tiny_beir):
    with pytest.raises(BeirError, match="dev.tsv: missing.*test"):
        load_beir(tiny_beir, "dev")


def test_metrics_against_known_values():
    qrels = {"q": {"a": 1, "b": 1}}
    perfect = metrics(qrels, {"q": {"a": 2.0, "b": 1.0, "c": 0.5}})
    assert perfect["ndcg@10"] == pytest.approx(1.0) and perfect["mrr@10"] == 1.0 and perfect["recall@100"] == 1.0
    second = metrics(qrels, {"q": {"c": 2.0, "a": 1.0}})
    assert second["mrr@10"] == pytest.approx(0.5) and second["recall@100"] == pytest.approx(0.5)


def test_evaluate_beir_on_a_tiny_folder(tiny_beir, embedder, tmp_path):
    report = evaluate_beir(tiny_beir, "test", Config(), embedder, tmp_path / "cache")
    assert report["dataset"] == "tiny" and report["split"] == "test" and report["default"] == "hybrid"
    assert set(report["systems"]) == {"bm25", "dense", "rrf", "minmax", "hybrid"}
    assert report["ranking_source"] == "configuration"
    for m in report["systems"].values():
        assert set(m) == {"ndcg@10", "recall@100", "mrr@10", "p50_ms", "p95_ms"}
    # easy queries: every system puts the judged document first
    assert report["systems"]["hybrid"]["mrr@10"] == 1.0
    assert report["systems"]["bm25"]["ndcg@10"] == 1.0
    assert list((tmp_path / "cache").glob("tiny-windows-*.npy"))  # the embedded corpus is cached
    assert list((tmp_path / "cache").glob("tiny-titles-*.npy"))


def test_eval_beir_cli_json(tiny_beir, tmp_path, capsys):
    assert main(["eval-beir", str(tiny_beir), "--json", "--cache", str(tmp_path / "c")]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # standard output stays clean JSON...
    assert "evaluating hybrid" in captured.err  # ...while progress goes to standard error
    assert {"dataset", "split", "default", "build_s", "systems", "ranking"} <= report.keys()
    assert report["systems"][report["default"]]["ndcg@10"] > 0.9


def test_eval_beir_cli_one_table_for_several_folders(tiny_beir, tmp_path, capsys):
    settings = tmp_path / "ranking.json"
    settings.write_text(json.dumps({"settings": {"fusion": "rrf", "bm25_weight": 1.0}}))
    assert main(["eval-beir", str(tiny_beir), str(tiny_beir), "--split", "test", "--cache", str(tmp_path / "c")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["dataset", "split", "queries", "system"]
    assert sum(line.startswith("tiny ") for line in table) == 10  # five systems per run, two runs, one table
    assert main(["eval-beir", str(tiny_beir), "--ranking", str(settings), "--json", "--cache", str(tmp_path / "c")]) == 0
    assert json.loads(capsys.readouterr().out)["ranking"]["fusion"] == "rrf"
    assert main(["eval-beir", str(tiny_beir), str(tiny_beir), "--split", "test", "--split", "dev", "--split", "x"]) == 2
    assert "one --split for all folders or one per folder" in capsys.readouterr().err


def test_eval_beir_cli_bad_folder(tmp_path, capsys):
    assert main(["eval-beir", str(tmp_path), "--split", "test"]) == 2
    assert "missing" in capsys.readouterr().err


def test_benchmark_windows_get_the_product_abbreviation_step():
    from edubot.evaluate import Beir, abbreviations_of, windows

    beir = Beir(name="t", doc_ids=["a", "b"], titles=["THR study", "Hips"],
                bodies=["Patients had total hip replacement (THR). THR failed.", "Later THR was done."], queries={}, qrels={})
    definitions, agreed = abbreviations_of(beir)
    texts, owner = windows(beir, definitions)
    assert texts == ["Patients had total hip replacement (THR). THR failed.", "Later THR (total hip replacement) was done."]
    assert owner.tolist() == [0, 1] and agreed == {"THR": "total hip replacement"}  # titles are not in the windows


@pytest.mark.parametrize("kind_bonus", [0.0, 0.5])
def test_eval_beir_ranks_exactly_as_the_product(tmp_path, embedder, kind_bonus):
    """The same documents, as a corpus folder and as a BEIR folder: the product's search and eval-beir
    give the same order and the same scores for the same question (one ranking path)."""
    from conftest import write_doc

    from edubot.evaluate import build_engine, load_beir
    from edubot.index import build_index, load_index
    from edubot.retrieve import RankingSettings, Retriever

    docs = {
        "tantalum-rods": ("Tantalum rods", "Porous tantalum implants were inserted into the femoral head after core decompression."),
        "bone-death": ("Osteonecrosis", "Osteonecrosis is the death of bone tissue due to a lost blood supply."),
        "fat-cells": ("Fat stem cells", "Adipose tissue-derived stem cells (ADSCs) were injected into the hips of two patients."),
        "adsc-follow-up": ("Follow-up", "The ADSCs regenerated bone in 2 patients followed for 18 months."),
        "statins": ("Statins", "Statin use was associated with lower breast cancer mortality in a Finnish cohort."),
    }
    corpus_dir, beir_dir = tmp_path / "corpus", tmp_path / "beir"
    (beir_dir / "qrels").mkdir(parents=True)
    for doc_id, (title, text) in docs.items():
        write_doc(corpus_dir, doc_id, text, title=title, authors=[], year=None)
    questions = ["what is osteonecrosis", "how many patients got fat stem cells", "tantalum implant", "ADSCs"]
    with open(beir_dir / "corpus.jsonl", "w") as fh:
        for doc_id, (title, text) in docs.items():  # the product's passages carry their section ("Main text")
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": f"Main text. {text}"}) + "\n")
    with open(beir_dir / "queries.jsonl", "w") as fh:
        fh.writelines(json.dumps({"_id": f"q{i}", "text": q}) + "\n" for i, q in enumerate(questions))
    (beir_dir / "qrels" / "test.tsv").write_text("".join(f"q{i}\tstatins\t1\n" for i in range(len(questions))))

    cfg = Config(corpus_dir=corpus_dir, index_dir=tmp_path / "index", kind_bonus=kind_bonus)
    build_index(cfg, embedder=embedder)
    product = Retriever(load_index(cfg.index_dir), embedder, cfg)
    engine, _ = build_engine(load_beir(beir_dir, "test"), RankingSettings.from_config(cfg), cfg, embedder, tmp_path / "cache")
    for q in questions:
        hits = product.rank(q).hits
        ranked = engine.run(engine.query(q))
        assert [h.passage.doc_id for h in hits] == [engine.beir.doc_ids[d] for d, _ in ranked], q
        assert [h.score for h in hits] == pytest.approx([s for _, s in ranked], abs=1e-5), q


def test_question_kinds_are_read_from_the_benchmark_and_learned(tmp_path, embedder):
    """A benchmark whose questions carry a qtype (as MedQuAD's do) teaches a kind model: the kinds of
    its own questions and of the passages that answer them are read back."""
    from edubot.evaluate import build_engine, train_kinds_on
    from edubot.retrieve import RankingSettings

    folder = tmp_path / "kinds"
    (folder / "qrels").mkdir(parents=True)
    docs = {
        "flu-1": "Symptoms of the flu include fever, cough, sore throat, aches and tiredness.",
        "flu-2": "The flu is treated with rest, fluids and sometimes antiviral medicines such as oseltamivir.",
        "gout-1": "Gout causes sudden attacks of severe pain, swelling and redness in a joint, often the big toe.",
        "gout-2": "Gout attacks are treated with anti-inflammatory medicines, colchicine or steroids.",
    }
    with open(folder / "corpus.jsonl", "w") as fh:
        fh.writelines(json.dumps({"_id": doc_id, "title": doc_id.split("-")[0], "text": text}) + "\n" for doc_id, text in docs.items())
    questions = [("q1", "What are the symptoms of flu?", "symptoms", "flu-1"),
                 ("q2", "What are the treatments for flu?", "treatment", "flu-2"),
                 ("q3", "What are the symptoms of gout?", "symptoms", "gout-1"),
                 ("q4", "What are the treatments for gout?", "treatment", "gout-2")]
    with open(folder / "queries.jsonl", "w") as fh:
        fh.writelines(json.dumps({"_id": qid, "text": text, "metadata": {"qtype": kind}}) + "\n" for qid, text, kind, _ in questions)
    (folder / "qrels" / "dev.tsv").write_text("".join(f"{qid}\t{doc}\t1\n" for qid, _, _, doc in questions))

    beir = load_beir(folder, "dev")
    assert beir.kinds == {"q1": "symptoms", "q2": "treatment", "q3": "symptoms", "q4": "treatment"}
    engine, _ = build_engine(beir, RankingSettings(), Config(), embedder, tmp_path / "cache", kinds=None)
    qids = list(beir.queries)
    model = train_kinds_on(engine, qids, engine.queries([beir.queries[q] for q in qids]), c=100.0)  # 4 examples: fit them
    assert model.labels == ("symptoms", "treatment") and model.meta["questions"] == 4 and model.meta["passages"] == 4
    probe = embedder.encode_query("what are the symptoms of measles")
    assert model.labels[int(model.question(probe).argmax())] == "symptoms"
    read = model.passages(engine.searcher.core.stored_vectors(np.arange(4)))
    assert [model.labels[i] for i in read.argmax(axis=1)] == ["symptoms", "treatment", "symptoms", "treatment"]

    no_kinds = load_beir(_tiny_without_kinds(tmp_path), "test")
    assert no_kinds.kinds == {}
    engine2, _ = build_engine(no_kinds, RankingSettings(), Config(), embedder, tmp_path / "cache", kinds=None)
    with pytest.raises(BeirError, match="carry no kind"):
        train_kinds_on(engine2, list(no_kinds.queries), engine2.queries(list(no_kinds.queries.values())))


def _tiny_without_kinds(tmp_path):
    folder = tmp_path / "plain"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(json.dumps({"_id": "d", "title": "t", "text": "Bone death."}) + "\n")
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "bone"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("q\td\t1\n")
    return folder


def test_a_query_map_is_learned_from_judged_questions_and_read_by_eval_beir(tiny_beir, embedder, tmp_path):
    """A map learned from a benchmark's judged questions is saved beside its ranking settings; eval-beir
    then reads every question through it (and says so), and a map is never learned from mapped questions."""
    from edubot.evaluate import build_engine, query_map_path, train_query_map_on
    from edubot.retrieve import RankingSettings

    beir = load_beir(tiny_beir, "test")
    engine, _ = build_engine(beir, RankingSettings(), Config(), embedder, tmp_path / "cache", kinds=None)
    qids = list(beir.queries)
    read = engine.queries([beir.queries[q] for q in qids])
    m = train_query_map_on(engine, qids, read, "test", epochs=2)
    assert m.meta == {**m.meta, "dataset": "tiny", "split": "test", "questions": 3}
    assert m.matrix.shape == (embedder.info.dim, embedder.info.dim)

    settings_file = tmp_path / "ranking" / "tiny.json"
    settings_file.parent.mkdir()
    settings_file.write_text(json.dumps({"settings": RankingSettings().to_json()}))
    m.save(query_map_path(settings_file))
    assert query_map_path(settings_file).name == "tiny.querymap.npz"
    report = evaluate_beir(tiny_beir, "test", Config(), embedder, tmp_path / "cache", systems=("dense",), ranking=settings_file)
    assert report["query_map"]["split"] == "test"

    mapped, _ = build_engine(beir, RankingSettings(), Config(), embedder, tmp_path / "cache", kinds=None, query_map=m)
    q = mapped.query("tantalum implant")
    assert q.vector == pytest.approx(m.apply(embedder.encode_query("tantalum implant")), abs=1e-6)
    assert not np.allclose(q.vector, engine.query("tantalum implant").vector, atol=1e-4)
    with pytest.raises(BeirError, match="without one"):
        train_query_map_on(mapped, qids, read, "test")

    no_map = evaluate_beir(tiny_beir, "test", Config(), embedder, tmp_path / "cache", systems=("dense",))
    assert no_map["query_map"] is None
