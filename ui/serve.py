"""Start EduBot's web app with the engine already loaded: ``python -m ui.serve [streamlit options]``.

Streamlit runs a page's script only when a visitor arrives, so a plain
``streamlit run app.py`` would make the first visitor wait for the model and
index. This launcher loads them first in the server's own process (the progress
goes to the terminal), answers one warm-up question, and only then starts the
Streamlit server, which reuses the loaded engine (``ui.common.load_engine``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# What the chat page imports on a first visit, besides the engine: its modules and Streamlit's emoji catalogue.
PAGE_MODULES = ("edubot.conversation", "edubot.privacy", "ui.access", "ui.answer_view", "streamlit.emojis")


class _Progress:
    """A tqdm bar for an index build, shown only when the index must be (re)built."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != "embedding" or not total:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="EduBot: indexing passages", unit="passage", file=sys.stderr)
        self.bar.n = done
        self.bar.refresh()
        if done >= total:
            self.bar.close()


def preload() -> None:
    """Load the engine and do every first-use cost of the chat page here, before the server is up.

    Besides the engine: the warm-up answer is laid out as the page would draw it
    (``ui.answer_view.warm_up``: textstat's dictionary), Streamlit's emoji
    catalogue (checked for every emoji icon: the page icon, alerts, buttons)
    and the chat page's own modules are imported. Last, everything loaded so
    far is frozen out of the garbage collector: Streamlit runs a full
    collection after every script run (between the echo of a question and its
    answer too), and walking the engine's and the dictionaries' objects made
    each one take 0.1-0.3 s on this machine, for objects that live as long as
    the server.
    """
    import gc
    import importlib

    from ui.common import load_engine

    t0 = time.perf_counter()
    print("EduBot: loading the model, the corpus and the search index…", file=sys.stderr, flush=True)
    answerer = load_engine(notice=lambda m: print(f"EduBot: {m}", file=sys.stderr, flush=True), progress=_Progress())
    result = answerer.answer("What is osteonecrosis?")  # warm-up: the first patient's question runs at full speed
    for name in PAGE_MODULES:
        importlib.import_module(name)
    from ui.answer_view import warm_up

    warm_up(answerer, result.to_json())
    gc.collect()
    gc.freeze()
    print(f"EduBot: engine ready in {time.perf_counter() - t0:.1f} s; starting the web server", file=sys.stderr, flush=True)


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    preload()
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *argv]
    sys.exit(stcli.main())


if __name__ == "__main__":
    main(sys.argv[1:])
