"""Shared fixtures: the real bundled corpus, and small corpora the tests make."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# One index for the whole run, shared by fixtures, the CLI and the app; reports kept out of the checkout.
_RUN_DIR = Path(tempfile.mkdtemp(prefix="edubot-tests-"))
os.environ["EDUBOT_INDEX_DIR"] = str(_RUN_DIR / "index")
os.environ["EDUBOT_REPORTS_DIR"] = str(_RUN_DIR / "reports")

from edubot.chunk import chunk_corpus
from edubot.clean import Vocabulary
from edubot.config import PROJECT_ROOT, Config
from edubot.corpus import load_corpus

CORPUS = PROJECT_ROOT / "corpus"
PAK = "pak-2012-adsc-case-report"
CLINIC = "caring-medical-core-decompression"


@pytest.fixture(scope="session")
def corpus():
    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def vocabulary(corpus):
    return Vocabulary.from_texts(d.raw for d in corpus.documents)


@pytest.fixture(scope="session")
def passages(corpus):
    cfg = Config()
    return chunk_corpus(corpus, cfg.passage_max_chars, cfg.passage_overlap_sentences)


def minimal_meta(doc_id: str, **extra) -> dict:
    meta = {
        "id": doc_id, "title": f"Test document {doc_id}", "authors": ["A Author"], "year": 2020,
        "source_type": "patient_education", "limitations": [], "unverified": [],
    }
    meta.update(extra)
    return meta


def write_doc(folder: Path, doc_id: str, text: str | None = None, suffix: str = ".txt", **meta) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (folder / f"{doc_id}{suffix}").write_text(text, encoding="utf-8")
    (folder / f"{doc_id}.meta.json").write_text(json.dumps(minimal_meta(doc_id, **meta)), encoding="utf-8")
    return folder / f"{doc_id}{suffix}"


@pytest.fixture(scope="session")
def cfg_index():
    """Configuration pointing at the session-wide index of the bundled corpus."""
    return Config(corpus_dir=CORPUS, index_dir=_RUN_DIR / "index", reports_dir=_RUN_DIR / "reports")


@pytest.fixture(scope="session")
def embedder():
    from edubot.embed import get_embedder

    return get_embedder(Config().model)


@pytest.fixture(scope="session")
def built(cfg_index, corpus, embedder):
    from edubot.index import build_index

    return build_index(cfg_index, corpus, embedder=embedder)


@pytest.fixture(scope="session")
def retriever(cfg_index, built, embedder):
    from edubot.index import load_index
    from edubot.retrieve import Retriever

    return Retriever(load_index(cfg_index.index_dir), embedder, cfg_index, load_corpus(CORPUS))


@pytest.fixture(scope="session")
def answerer(retriever):
    from edubot.answer import answerer_for

    return answerer_for(retriever)
