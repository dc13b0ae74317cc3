#!/usr/bin/env bash
# Sets everything up, loads EduBot's engine (building the index of the bundled corpus if needed, with
# its progress in this terminal) and only then starts the web server, so the first visitor does not wait.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PORT=${EDUBOT_PORT:-8501}
echo "EduBot will be at http://localhost:${PORT} once it says it is ready (Ctrl+C stops it)"
if [ -n "${EDUBOT_STAFF_PASSWORD:-}" ]; then echo "Staff pages: http://localhost:${PORT}/staff-sign-in"; fi
exec .venv/bin/python -m ui.serve --server.port "$PORT" --server.headless true
