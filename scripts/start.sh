#!/usr/bin/env bash
# Sets everything up and starts EduBot on the bundled corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/edubot passages > /dev/null
