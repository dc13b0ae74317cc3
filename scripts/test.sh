#!/usr/bin/env bash
# Lints (ruff) and type-checks (mypy), then runs the whole test suite offline (sets up .venv first when missing).
# The browser test needs Debian's chromium and chromium-driver: installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src ui app.py scripts tests || { echo "test.sh: ruff check failed (see above)" >&2; exit 1; }
.venv/bin/mypy src || { echo "test.sh: mypy failed (see above)" >&2; exit 1; }
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "installing Debian's chromium and chromium-driver for the browser test"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest -q "$@"
