"""Hostile input, concurrency and hostile content: never a traceback, always a valid answer."""

import io
import json
import os
import re
import subprocess
import sys
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edubot.cli import main
from edubot.config import PROJECT_ROOT

STATUSES = {"answered", "no_answer", "urgent", "personal_advice", "invalid"}
LINE = st.text(alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=300)
HOSTILE = [
    "", " ", "\x00\x01\x02", "\u202eevil\u202c", "\u200b" * 50, "<script>alert(1)</script>", "[x](javascript:alert(1))",
    "🦴" * 100, "骨坏死是什么", "a" * 5000, "What is\ttantalum\x0b?", "DROP TABLE passages;--", "%s%s%n", "../../etc/passwd",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(LINE, st.sampled_from(HOSTILE), st.text(max_size=2000)))
def test_any_text_gets_a_valid_answer(answerer, text):
    a = answerer.answer(text)
    assert a.status in STATUSES
    obj = json.loads(json.dumps(a.to_json()))
    assert obj["status"] in STATUSES and isinstance(obj["passages"], list)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(LINE, st.sampled_from(HOSTILE)), min_size=1, max_size=6))
def test_batch_mode_one_json_object_per_line(lines, capsys, monkeypatch, built):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["ask", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == len(lines)
    for line in out:
        assert json.loads(line)["status"] in STATUSES


def test_batch_subprocess_with_undecodable_bytes(built):
    payload = "\n".join(HOSTILE).encode("utf-8") + b"\n\xff\xfe broken utf-8 \xc3\x28\nwhat is osteonecrosis\n"
    proc = subprocess.run([sys.executable, "-m", "edubot.cli", "ask", "--json"], input=payload, capture_output=True, check=False,
                          timeout=300, env=dict(os.environ), cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert b"Traceback" not in proc.stderr
    out = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert len(out) == len(HOSTILE) + 2
    assert out[-1]["status"] == "answered" and all(o["status"] in STATUSES for o in out)


def test_eight_threads_two_hundred_questions_each(retriever):
    questions = [f"{w} osteonecrosis" for w in ("what is", "causes of", "treatment of", "symptoms of", "MRI for")] + [
        "tantalum rod", "fat-derived stem cells", "biopsy", "PRP injection", "FDA approval of stem cells",
        "core decompression", "hip replacement", "steroids", "alcohol", "dogs", "Hernigou", "Pak 2012",
        "how many patients", "limitations", "double line sign"]
    serial = {q: [h.passage.id for h in retriever.search(q, k=5)] for q in questions}
    errors, mismatches = [], []

    def worker(t: int) -> None:
        try:
            for i in range(200):
                q = questions[(t * 7 + i) % len(questions)]
                if [h.passage.id for h in retriever.search(q, k=5)] != serial[q]:
                    mismatches.append(q)
        except Exception as e:  # noqa: BLE001 (a thread's failure of any kind is reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and mismatches == []


def test_app_sessions_share_one_model(built):
    from streamlit.testing.v1 import AppTest

    from edubot.embed import Embedder

    def session(q: str, out: list) -> None:
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
        at.run()
        at.chat_input[0].set_value(q).run()
        out.append(bool(at.exception))

    AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()  # the server's first load
    before = Embedder.loads
    results: list = []
    # AppTest runs one script at a time per process; each call is a new session with its own state.
    for q in ("tantalum", "biopsy", "what is AVN"):
        session(q, results)
    assert results == [False, False, False]
    assert Embedder.loads == before


def _hostile_card():
    from ui.answer_view import render_answer
    from ui.common import load_engine

    hostile = {
        "passage_id": "evil#1", "doc_id": "not-in-the-index", "group": "marketing", "score": 1.0, "span": [0, 10],
        "evidence": "Clinic website · marketing <b>bold</b>", "title": "<img src=x onerror=alert(4)>",
        "quote": "Click <script>alert(1)</script> and [here](javascript:alert(1)) or <img src=x onerror=alert(1)>",
        "highlight_span": [0, 5], "citation": "Evil [link](javascript:alert(2))", "conflict_of_interest": "<i>x</i>",
        "partial": None, "unverified": [], "url": "javascript:alert(3)", "section": "<b>s</b>", "page": None,
        "cites": [{"number": 1, "label": "cites: <b>x</b>", "citation": "[c](javascript:1)", "note": None, "abstract": None}],
    }
    render_answer(load_engine(), {
        "status": "answered", "message": "<b>m</b>", "passages": [hostile, {**hostile, "passage_id": "evil#2"}],
        "limitations": [{"doc_id": "not-in-the-index", "text": "<script>alert(5)</script>", "quote": "[q](javascript:6)",
                         "kind": "reviewer", "key": True}],
        "suggestions": []}, "k")


def test_corpus_html_and_javascript_links_are_not_rendered(built):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_hostile_card, default_timeout=120)
    at.run()
    assert not at.exception
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.label for e in at.expander]
    for value in rendered:  # every "<" and every link bracket is escaped, so nothing becomes HTML or a link
        assert not re.search(r"(?<!\\)<", value), value
        assert not re.search(r"(?<!\\)\]\(", value), value
    blocks = [e.proto.body for e in at.get("html")]
    assert any("&lt;script&gt;" in b for b in blocks)  # the text is shown ...
    for body in blocks:  # ... but as text: no tag, handler or javascript: link of its own
        assert "<script" not in body and "<img" not in body and "<i>" not in body and "href='javascript" not in body
    assert not at.get("link_button")  # a javascript: address never becomes a link


def test_links_out_of_the_corpus_folder_are_refused(tmp_path):
    from conftest import write_doc

    from edubot.corpus import load_corpus

    outside = tmp_path / "outside.txt"
    outside.write_text("secret text outside the corpus")
    corpus = tmp_path / "corpus"
    write_doc(corpus, "good", "A good document.")
    write_doc(corpus, "sneaky", None)
    (corpus / "sneaky.txt").symlink_to(outside)
    c = load_corpus(corpus)
    assert [d.id for d in c.documents] == ["good"]
    assert "outside the corpus" in str(c.problems[0])


def test_missing_model_is_a_clear_message(capsys, built):
    assert main(["ask", "--model", "no-such-model-package", "what is osteonecrosis"]) == 2
    err = capsys.readouterr().err
    assert "no-such-model-package" in err and "Traceback" not in err


def test_bench_load_reports_figures(answerer):
    from edubot.bench import run_load

    load = run_load(answerer, threads=2, per_thread=3)
    assert load["questions"] == 6 and load["throughput_qps"] > 0
    assert load["concurrent"]["p95_ms"] >= load["concurrent"]["p50_ms"] > 0


def test_bench_scale_one_small_size():
    from edubot.bench import run_one

    r = run_one(2000, queries=20, nprobe=64)
    assert r["exact"]["disk_mb"] > 0 and 0.5 <= r["approximate"]["recall@10"] <= 1.0
    assert r["bm25"]["build_s"] >= 0 and r["peak_rss_mb"] > 0
