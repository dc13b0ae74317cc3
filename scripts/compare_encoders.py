"""Fidelity of the ONNX encoders to sentence-transformers: query cosines and BEIR nDCG@10.

    .venv/bin/python scripts/compare_encoders.py /work/shared/bench/nfcorpus dev --cache /work/cache

Compares sentence-transformers (torch, the reference), the fp32 ONNX export
EduBot serves with, and a dynamic int8 quantisation of that export
(onnxruntime's ``quantize_dynamic``, per-channel; made here in a temporary
folder, never used by the product). An encoder could replace the reference
only if every query vector stays within cosine 0.99 of the reference's and
nDCG@10 of the hybrid within 0.003. Needs the ``onnx`` package (installed
by scripts/setup.sh) for the quantisation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from edubot.config import PROJECT_ROOT, Config
from edubot.embed import (
    EXPORT_FILE,
    ONNX_FILE,
    TOKENIZER_FILE,
    Encoder,
    Export,
    OnnxEmbedder,
    ensure_export,
    file_sha256,
    get_embedder,
)
from edubot.evaluate import evaluate_beir, load_beir


def int8_export(fp32: Export, folder: Path) -> Export:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(str(fp32.onnx), str(folder / ONNX_FILE), weight_type=QuantType.QInt8, per_channel=True)
    shutil.copyfile(fp32.folder / TOKENIZER_FILE, folder / TOKENIZER_FILE)
    stat = (folder / ONNX_FILE).stat()
    export = dataclasses.replace(fp32, folder=folder, sha256=file_sha256(folder / ONNX_FILE), size=stat.st_size,
                                 mtime_ns=stat.st_mtime_ns, precision="int8", max_abs_diff=None)
    (folder / EXPORT_FILE).write_text(json.dumps(export.to_json()))
    return export


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("split", default="dev", nargs="?")
    parser.add_argument("--cache", type=Path, default=PROJECT_ROOT / ".edubot" / "cache")
    parser.add_argument("--no-beir", action="store_true", help="only the query cosines")
    args = parser.parse_args()
    cfg = Config()
    reference = get_embedder(cfg.model, Encoder.SENTENCE_TRANSFORMERS)
    fp32 = ensure_export(cfg.model)
    with tempfile.TemporaryDirectory() as tmp:
        encoders = {"sentence-transformers": reference, "onnx fp32": get_embedder(cfg.model),
                    "onnx int8": OnnxEmbedder(cfg.model, export=int8_export(fp32, Path(tmp) / "int8"))}
        questions = [json.loads(line)["question"] for line in (PROJECT_ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
        queries = list(load_beir(args.folder, args.split).queries.values())
        sets = {"EduBot questions": questions, f"{args.folder.name} {args.split} queries": queries}
        truth = {name: np.vstack([reference.encode_query(q) for q in texts]) for name, texts in sets.items()}
        for label, enc in encoders.items():
            for name, texts in sets.items():
                cos = (np.vstack([enc.encode_query(q) for q in texts]) * truth[name]).sum(axis=1)
                print(f"{label:<22} {name:<26} cosine to sentence-transformers: min {cos.min():.4f}  "
                      f"mean {cos.mean():.4f}  share >= 0.99: {np.mean(cos >= 0.99):.3f}", flush=True)
            if not args.no_beir:
                report = evaluate_beir(args.folder, args.split, cfg, enc, args.cache, systems=("dense", "hybrid"))
                s = report["systems"]
                print(f"{label:<22} {report['dataset']} {args.split}: nDCG@10 dense {s['dense']['ndcg@10']:.4f} "
                      f"hybrid {s['hybrid']['ndcg@10']:.4f} (hybrid p50 {s['hybrid']['p50_ms']} ms)", flush=True)


if __name__ == "__main__":
    main()
