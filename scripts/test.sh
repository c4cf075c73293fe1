#!/usr/bin/env bash
# Fresh machine -> environment (dev + train + ray + virtualcam + serve extras) -> the whole test suite.
# Optional system tools (Xvfb/xdotool for the window test, Chromium for the ROI page test) are
# installed system-wide with apt-get when it is available and we are root (the script says so
# first; STREAMSEG_NO_APT=1 skips it); their tests are skipped without them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${STREAMSEG_NO_APT:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v Xvfb >/dev/null; then
  echo "note: installing optional system packages with apt-get, system-wide: xvfb xdotool chromium (for the window and ROI page tests; STREAMSEG_NO_APT=1 skips this)"
  (timeout 600 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq xvfb xdotool chromium >/dev/null) \
    || echo "note: optional test tools (xvfb, xdotool, chromium) not installed; their tests will be skipped"
fi
bash scripts/env.sh dev,train,ray,virtualcam,serve
exec .venv/bin/python -m pytest "$@"
