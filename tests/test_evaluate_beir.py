import json

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
        for i, t, x in docs:
            fh.write(json.dumps({"_id": i, "title": t, "text": x}) + "\n")
    queries = [("Q1", "tantalum implant"), ("Q2", "statins and breast cancer"), ("Q3", "bone death from lost blood flow")]
    with open(folder / "queries.jsonl", "w") as fh:
        for i, t in queries:
            fh.write(json.dumps({"_id": i, "text": t}) + "\n")
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
    assert set(report["systems"]) == {"bm25", "dense", "rrf", "hybrid"}
    for m in report["systems"].values():
        assert set(m) == {"ndcg@10", "recall@100", "mrr@10", "p50_ms", "p95_ms"}
    # easy queries: every system puts the judged document first
    assert report["systems"]["hybrid"]["mrr@10"] == 1.0
    assert report["systems"]["bm25"]["ndcg@10"] == 1.0
    assert list((tmp_path / "cache").glob("tiny-windows-*.npy"))  # the embedded corpus is cached


def test_eval_beir_cli_json(tiny_beir, tmp_path, capsys):
    assert main(["eval-beir", str(tiny_beir), "--json", "--cache", str(tmp_path / "c")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"dataset", "split", "default", "build_s", "systems"} <= report.keys()
    assert report["systems"][report["default"]]["ndcg@10"] > 0.9


def test_eval_beir_cli_bad_folder(tmp_path, capsys):
    assert main(["eval-beir", str(tmp_path), "--split", "test"]) == 2
    assert "missing" in capsys.readouterr().err


def test_benchmark_documents_get_the_product_abbreviation_step(tmp_path):
    from edubot.evaluate import Beir, with_abbreviations

    beir = Beir(name="t", doc_ids=["a", "b"],
                doc_texts=["THR study. Patients had total hip replacement (THR). THR failed.", "Hips. Later THR was done."],
                doc_titles=["THR study", "Hips"], queries={}, qrels={})
    out, agreed = with_abbreviations(beir)
    assert out.doc_texts[0] == beir.doc_texts[0]  # defined where used: nothing to add; the title is left alone
    assert out.doc_texts[1] == "Hips. Later THR (total hip replacement) was done."
    assert agreed == {"THR": "total hip replacement"}
