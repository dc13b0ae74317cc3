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
