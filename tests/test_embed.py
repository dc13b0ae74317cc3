"""The ONNX encoder against sentence-transformers, the export, and encoder compatibility of indexes."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading

import numpy as np
import pytest
from conftest import CORPUS

from edubot.config import PROJECT_ROOT, Config
from edubot.embed import (
    EXPORT_FILE,
    ONNX_FILE,
    Encoder,
    OnnxEmbedder,
    ensure_export,
    file_sha256,
    find_export,
    get_embedder,
    incompatibility,
)

MODEL = Config().model


@pytest.fixture(scope="module")
def reference():
    return get_embedder(MODEL, Encoder.SENTENCE_TRANSFORMERS)


@pytest.fixture(scope="module")
def questions():
    with open(PROJECT_ROOT / "eval" / "questions.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh]


def test_the_default_encoder_is_onnx_and_shared(embedder):
    assert isinstance(embedder, OnnxEmbedder)
    assert get_embedder(MODEL) is embedder
    info = embedder.info
    assert (info.encoder, info.precision, info.dim) == ("onnx", "fp32", 384)
    assert info.checksum == file_sha256(embedder.export.onnx)


def test_vectors_are_unit_float32_rows(embedder):
    vectors = embedder.encode(["what is osteonecrosis", "", "PRP " * 400, "tantalum rod"], batch_size=3)
    assert vectors.dtype == np.float32 and vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)
    assert embedder.encode_query("tantalum rod").shape == (384,)
    # Order and batching do not change a text's vector (the encoder sorts by length inside).
    assert np.allclose(vectors[3], embedder.encode_query("tantalum rod"), atol=1e-6)


def test_onnx_equals_sentence_transformers_on_questions_and_passages(embedder, reference, questions, retriever):
    from edubot.index import index_text, passage_abbreviations

    passages = retriever.index.passages
    abbreviations, _ = passage_abbreviations(passages)
    texts = [index_text(p.text, p.section, abbreviations[p.doc_id]) for p in passages]
    for batch in (questions, texts):
        diff = np.abs(embedder.encode(batch, batch_size=16) - reference.encode(batch, batch_size=16)).max()
        assert diff < 1e-5
    assert np.abs(embedder.encode_query(questions[0]) - reference.encode_query(questions[0])).max() < 1e-5


def test_concurrent_queries_get_the_same_vectors(embedder, questions):
    expected = {q: embedder.encode_query(q) for q in questions[:12]}
    errors: list[str] = []

    def worker(offset: int) -> None:
        for i in range(30):
            q = questions[(offset + i) % 12]
            if not np.array_equal(embedder.encode_query(q), expected[q]):
                errors.append(q)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_the_export_is_found_without_torch_and_checks_its_file(embedder, tmp_path):
    export = find_export(MODEL)
    assert export is not None and export.sha256 == embedder.info.checksum
    assert export.max_abs_diff is not None and export.max_abs_diff <= 1e-5
    copy = tmp_path / export.folder.name
    shutil.copytree(export.folder, copy)
    # copytree keeps modification times: the copy is as current as the original...
    assert find_export(MODEL, root=tmp_path) is not None
    # ...until its model file changes, or its record says another version.
    with open(copy / ONNX_FILE, "ab") as fh:
        fh.write(b"\0")
    assert find_export(MODEL, root=tmp_path) is None
    shutil.copyfile(export.onnx, copy / ONNX_FILE)
    shutil.copystat(export.onnx, copy / ONNX_FILE)
    record = json.loads((copy / EXPORT_FILE).read_text())
    (copy / EXPORT_FILE).write_text(json.dumps({**record, "version": "0.0.1"}))
    assert find_export(MODEL, root=tmp_path) is None


def test_a_missing_export_is_made_again_offline_and_checked(embedder, tmp_path):
    made = ensure_export(MODEL, root=tmp_path)
    assert made.folder.parent == tmp_path and made.max_abs_diff <= 1e-5
    assert made.sha256 == file_sha256(made.onnx)
    assert made.sha256 == embedder.info.checksum  # the export is deterministic
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert find_export(MODEL, root=tmp_path) == made


def test_encoder_compatibility_rules(embedder, reference):
    onnx, torch_ = embedder.info, reference.info
    assert incompatibility(onnx.to_json(), onnx) is None
    assert incompatibility(torch_.to_json(), onnx) is None  # the export equals the model to 1e-5
    assert incompatibility(onnx.to_json(), torch_) is None
    other_export = dataclasses.replace(onnx, checksum="0" * 64)
    assert "ONNX export changed" in incompatibility(onnx.to_json(), other_export)
    int8 = dataclasses.replace(onnx, precision="int8")
    assert "int8" in incompatibility(onnx.to_json(), int8)
    assert "int8" in incompatibility(int8.to_json(), onnx)
    assert "does not record" in incompatibility(None, onnx)
    assert len({onnx.cache_key, torch_.cache_key, other_export.cache_key, int8.cache_key}) == 4


def test_an_index_from_another_export_is_stale_and_rebuilt(cfg_index, built, corpus, embedder, tmp_path):
    from edubot.index import current_generation, read_manifest, stale_reasons
    from edubot.retrieve import forget_retrievers, open_retriever

    index_dir = tmp_path / "index"
    shutil.copytree(cfg_index.index_dir, index_dir)
    manifest_path = current_generation(index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["encoder"]["onnx_sha256"] = "f" * 64
    manifest_path.write_text(json.dumps(manifest))
    cfg = cfg_index.replace(index_dir=index_dir)
    assert any("ONNX export changed" in r for r in stale_reasons(read_manifest(index_dir), cfg, corpus, embedder.info))
    notices: list[str] = []
    forget_retrievers()
    open_retriever(cfg, notice=notices.append)
    forget_retrievers()
    assert notices and "ONNX export changed" in notices[0]
    assert read_manifest(index_dir)["encoder"] == embedder.info.to_json()
    assert stale_reasons(read_manifest(index_dir), cfg, corpus, embedder.info) == []


def test_answers_equal_the_torch_path_on_the_question_set(cfg_index, built, embedder, reference, questions, tmp_path):
    """An index built and queried by sentence-transformers gives the same answers as the ONNX one."""
    from edubot.answer import answerer_for
    from edubot.corpus import load_corpus
    from edubot.index import build_index, load_index
    from edubot.retrieve import Retriever

    cfg_torch = cfg_index.replace(index_dir=tmp_path / "torch-index")
    report = build_index(cfg_torch, load_corpus(CORPUS), embedder=reference)
    assert report.manifest["encoder"]["kind"] == "sentence-transformers"
    torch_path = answerer_for(Retriever(load_index(cfg_torch.index_dir), reference, cfg_torch, load_corpus(CORPUS)))
    onnx_path = answerer_for(Retriever(load_index(cfg_index.index_dir), embedder, cfg_index, load_corpus(CORPUS)))
    for q in questions:
        a, b = torch_path.answer(q).to_json(), onnx_path.answer(q).to_json()
        assert (a["status"], a["message"], a["suggestions"]) == (b["status"], b["message"], b["suggestions"]), q
        assert [p["passage_id"] for p in a["passages"]] == [p["passage_id"] for p in b["passages"]], q
        assert [p["highlight_span"] for p in a["passages"]] == [p["highlight_span"] for p in b["passages"]], q
        assert np.allclose([p["score"] for p in a["passages"]], [p["score"] for p in b["passages"]], atol=1e-5), q
        assert a["limitations"] == b["limitations"], q


def _imported_modules(importtime_log: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in importtime_log.splitlines() if line.startswith("import time:")}


def test_the_question_path_never_imports_torch(built):
    """`edubot ask` on a built index: ONNX Runtime, no torch; an unchanged corpus needs no schema check."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "edubot.cli", "ask", "--json", "Was a biopsy done in the stem cell case report?"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["status"] == "answered"
    modules = _imported_modules(proc.stderr)
    assert "onnxruntime" in modules and "faiss" in modules  # the log does list what was imported
    roots = {m.split(".")[0] for m in modules}
    assert not roots & {"torch", "sentence_transformers", "transformers", "sklearn", "jsonschema"}
