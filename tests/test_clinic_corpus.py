"""A clinic brings its own documents: nothing vanishes, abstention is calibrated for them, and the bundled
corpus's index and reports are left alone (issue 15), all through the command line as the README tells it."""

from __future__ import annotations

import json

import pytest
from conftest import write_doc

from edubot import cli, config
from edubot.config import Config, corpus_home

PAGES = {
    "gout-basics": ("Gout\n\nGout is a kind of arthritis that causes sudden, severe attacks of pain, swelling and redness "
                    "in a joint, often the big toe. It happens when uric acid builds up in the blood and forms crystals "
                    "in the joint. Learn more about how gout is diagnosed by reading our page on joint fluid tests, "
                    "which explains what a doctor looks for under the microscope.\n"),
    "gout-treatment": ("Treatment of gout\n\nMedicines such as colchicine and anti-inflammatory drugs ease the pain of "
                       "an attack. Our nurse line is 555-123-4567. Ask your doctor whether medicines that lower uric acid, "
                       "such as allopurinol, are needed to prevent attacks over the long term.\n"),
    "bursitis": ("Bursitis\n\nBursitis is inflammation of a bursa, a small fluid-filled sac that cushions a joint. "
                 "It often affects the shoulder, elbow or hip and is usually caused by repeated movements. Rest, ice "
                 "and pain relievers usually help, and most people recover within a few weeks.\n"),
    "tendinitis": ("Tendinitis\n\nTendinitis is inflammation of a tendon, the thick cord that attaches muscle to bone. "
                   "It causes pain and tenderness just outside a joint, most often in the shoulder, elbow, wrist or heel. "
                   "Overuse during sport or work is the most common cause.\n"),
}
QUESTIONS = [
    ("what causes gout", "answered"), ("what medicines treat a gout attack", "answered"), ("what is bursitis", "answered"),
    ("which joints does tendinitis affect", "answered"), ("how long does bursitis last", "answered"),
    ("what is uric acid made of in gout", "answered"), ("what causes tendinitis", "answered"),
    ("what is the treatment for leukemia", "no_answer"), ("how do I renew my passport", "no_answer"),
    ("what are the symptoms of measles", "no_answer"), ("is the flu vaccine safe in pregnancy", "no_answer"),
    ("how is asthma diagnosed", "no_answer"), ("what causes migraines", "no_answer"),
]


@pytest.fixture()
def clinic(tmp_path, monkeypatch):
    """A small corpus of patient pages in a temporary folder; EduBot's own folders pointed at a temporary root."""
    root = tmp_path / "project"
    (root / "corpus").mkdir(parents=True)
    monkeypatch.setattr(config, "PROJECT_ROOT", root)
    monkeypatch.delenv("EDUBOT_INDEX_DIR", raising=False)
    monkeypatch.delenv("EDUBOT_REPORTS_DIR", raising=False)
    corpus = tmp_path / "clinic-pages"
    for doc_id, text in PAGES.items():
        write_doc(corpus, doc_id, text, title=text.split("\n")[0], source_type="patient_education")
    questions = tmp_path / "questions.jsonl"
    with open(questions, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({"id": f"c{i}", "question": q, "expect": expect, "split": "dev" if i % 2 else "test"}) + "\n" for i, (q, expect) in enumerate(QUESTIONS))
    return root, corpus, questions


def test_a_clinic_corpus_end_to_end_leaves_the_bundled_index_alone(clinic, capsys):
    root, corpus, questions = clinic
    # Every document yields passages: a "learn more" sentence or a phone number does not take its paragraph.
    assert cli.main(["passages", "--corpus", str(corpus), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["doc_id"] for r in rows} == set(PAGES)
    gout = " ".join(r["text"] for r in rows if r["doc_id"] == "gout-basics")
    assert "uric acid builds up" in gout and "Learn more" not in gout
    treatment = " ".join(r["text"] for r in rows if r["doc_id"] == "gout-treatment")
    assert "allopurinol" in treatment and "colchicine" in treatment and "555" not in treatment

    # Built beside the corpus, not in the default index.
    assert cli.main(["build", "--corpus", str(corpus)]) == 0
    home = corpus_home(corpus)
    assert home != root / ".edubot" and (home / "index" / "CURRENT").exists()
    assert not (root / ".edubot" / "index").exists()

    # Uncalibrated: a conservative threshold, and staff are told.
    assert cli.main(["doctor", "--corpus", str(corpus)]) in (0, 1)
    out = capsys.readouterr().out
    assert "not calibrated" in out and f"edubot calibrate --corpus {corpus}" in out

    # Calibrated on its own labelled questions: stored with its index, used by ask.
    assert cli.main(["calibrate", "--corpus", str(corpus), "--questions", str(questions), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    manifest = json.loads(next((home / "index").glob("gen-*/manifest.json")).read_text())
    stored = manifest["calibration"]["abstention"]
    assert stored["threshold"] == result["threshold"] and stored["corpus_hash"] == manifest["corpus_hash"]
    assert result["test"]["precision"] >= 0.75 and result["test"]["recall"] >= 0.75

    from edubot.answer import answerer_for
    from edubot.retrieve import forget_retrievers, open_retriever

    forget_retrievers()
    cfg = Config(corpus_dir=corpus).follow_corpus(index_named=False, reports_named=False)
    answerer = answerer_for(open_retriever(cfg))
    assert answerer.abstention.threshold == stored["threshold"] and not answerer.notes
    assert answerer.answer("what causes gout").status == "answered"
    assert answerer.answer("what is the treatment for leukemia").status == "no_answer"

    # Reports of this corpus go beside its index, never over the bundled ones.
    assert cli.main(["eval", "--corpus", str(corpus), "--questions", str(questions), "--triage", str(questions)]) == 0
    assert (home / "reports" / "eval.json").exists()
    assert not (root / ".edubot" / "reports").exists()
    forget_retrievers()


def test_corpus_home_is_stable_and_distinct(tmp_path):
    a, b = tmp_path / "a" / "pages", tmp_path / "b" / "pages"
    assert corpus_home(a) == corpus_home(a) and corpus_home(a) != corpus_home(b)
    assert corpus_home(config.PROJECT_ROOT / "corpus") == config.PROJECT_ROOT / ".edubot"
