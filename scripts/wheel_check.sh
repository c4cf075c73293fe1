#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv outside the checkout, and run the API
# example and `streamseg video --model dlmv` on a generated clip there: the model must run from
# the wheel's package data, with no fallback line.
# Usage: scripts/wheel_check.sh [WORKDIR]   (default: a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
work="${1:-$(mktemp -d /tmp/streamseg-wheel.XXXXXX)}"
mkdir -p "$work"
rm -rf "$work/dist" "$work/venv"
echo "== wheel check in $work"
"$PY" -m pip wheel -q --no-deps -w "$work/dist" .
wheel="$(ls "$work"/dist/streamseg-*.whl)"
echo "built $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q "${wheel}"
cd "$work"  # outside the checkout: nothing may come from the source tree
"$work/venv/bin/streamseg" --version
"$work/venv/bin/python" - <<'PY'
import numpy as np, streamseg, streamseg.paths as paths
assert "site-packages" in str(paths.PACKAGE_DIR), paths.PACKAGE_DIR
s = streamseg.new_session("dlmv")
m = s.segment(np.zeros((480, 640, 3), np.uint8))
assert m.dtype == np.float32 and m.shape == (480, 640) and s.fallback_from is None, (m.dtype, m.shape, s)
print(f"api: new_session('dlmv') -> {s.name} on {s.provider}: {m.dtype} {m.shape}")
import importlib.util
from streamseg.rois.detectors import OnnxDetectors
d = OnnxDetectors(hands=True, faces=True)  # MediaPipe's models as ONNX, from the package data
assert d.faces(np.zeros((120, 160, 3), np.uint8)) == [] and d.hands(np.zeros((120, 160, 3), np.uint8)) == []
print(f"detectors: face/palm/hand models on {d.providers}; mediapipe installed: {importlib.util.find_spec('mediapipe') is not None}")
from streamseg.synthetic import make_video
make_video(__import__("pathlib").Path("clip.mp4"), frames=12, width=96, height=64)
PY
"$work/venv/bin/streamseg" video clip.mp4 -T mask,overlay --model dlmv -y 2>&1 | tee video.log
if grep -qi "fall" video.log; then echo "error: the wheel fell back instead of running dlmv" >&2; exit 1; fi
grep -q "method: dlmv on" video.log || { echo "error: dlmv did not run" >&2; exit 1; }
test -s clip_mask.mp4 && test -s clip_overlay.mp4
echo "wheel check passed: dlmv ran from the installed wheel, no fallback"
