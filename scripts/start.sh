#!/usr/bin/env bash
# Sets everything up, builds the index of the bundled corpus if needed, and starts the app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# Build now (with a progress bar) so the first page opens at once; a fresh index is kept as it is.
.venv/bin/edubot search "osteonecrosis" -k 1 > /dev/null
PORT=${EDUBOT_PORT:-8501}
echo "EduBot is starting at http://localhost:${PORT} (Ctrl+C stops it)"
exec .venv/bin/streamlit run app.py --server.port "$PORT" --server.headless true
