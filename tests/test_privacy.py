import json

import pytest

from edubot.privacy import analytics_log, redact


@pytest.mark.parametrize("text,gone,kept", [
    ("My name is Maria Gonzalez and my hip hurts", "Maria", "[name]"),
    ("hi, I'm John Smith, what is AVN?", "John", "[name]"),
    ("email me at maria.g@example.com about PRP", "maria.g@example.com", "[email]"),
    ("call me on (708) 393-8266 please", "393-8266", "[phone]"),
    ("my number is 555-123-4567", "4567", "[phone]"),
    ("I was born on 03/14/1975, is AVN common?", "1975", "[date of birth]"),
    ("DOB: March 14, 1975", "1975", "[date of birth]"),
    ("my MRN: 00123456 says stage 3", "00123456", "[record number]"),
    ("I live at 715 Lake Street, Oak Park, IL 60301", "715 Lake Street", "[address]"),
])
def test_identifiers_are_removed(text, gone, kept):
    out = redact(text)
    assert gone not in out and kept in out


def test_medical_words_survive():
    q = "Is core decompression better than PRP for stage 3 AVN in a 39-year-old?"
    assert redact(q) == q


def test_log_is_off_by_default(tmp_path):
    assert analytics_log(None) is None and analytics_log("") is None


def test_log_records_only_redacted_questions(tmp_path):
    log = analytics_log(str(tmp_path / "analytics.jsonl"))
    log.record("My name is Ana Lopez, email ana@x.org: what is AVN?", "answered", ["doc#1"])
    entry = json.loads((tmp_path / "analytics.jsonl").read_text())
    assert "Ana" not in entry["question"] and "ana@x.org" not in entry["question"]
    assert entry["status"] == "answered" and entry["passages"] == ["doc#1"]


def test_nothing_typed_is_written_by_default(tmp_path, monkeypatch, capsys, built):
    """Asking through the CLI leaves no trace of the question on disk (index, reports or logs)."""
    import io

    from edubot.cli import main

    secret = "My name is Zebulon Quixote and my hip hurts"
    before = {p: p.stat().st_mtime for p in _files()}
    monkeypatch.setattr("sys.stdin", io.StringIO(secret + "\n"))
    assert main(["ask", "--json"]) == 0
    capsys.readouterr()
    for path in _files():
        if path not in before or path.stat().st_mtime != before[path]:
            assert "Zebulon" not in path.read_text(errors="ignore"), path


def _files():
    import os
    from pathlib import Path

    from edubot.config import PROJECT_ROOT

    roots = [Path(os.environ["EDUBOT_INDEX_DIR"]).parent, PROJECT_ROOT / ".edubot", PROJECT_ROOT / "test-artifacts"]
    out = []
    for root in roots:
        for p in root.rglob("*"):
            try:
                if p.is_file() and p.stat().st_size < 5_000_000:
                    out.append(p)
            except OSError:
                pass
    return out
