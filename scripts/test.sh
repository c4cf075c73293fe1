#!/usr/bin/env bash
# Fresh machine -> environment (dev + train extras) -> the whole test suite.
# Optional system tools (Xvfb/xdotool for the window test, Chromium for the ROI page test) are
# installed when apt-get is available and we are root; their tests are skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v Xvfb >/dev/null; then
  (timeout 600 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq xvfb xdotool chromium >/dev/null) \
    || echo "note: optional test tools (xvfb, xdotool, chromium) not installed; their tests will be skipped"
fi
bash scripts/env.sh dev,train
exec .venv/bin/python -m pytest "$@"
