#!/usr/bin/env bash
# The latency tables of the README (docs/eval.md): every method that runs here, per model input
# size (models) or frame size (classical methods), next to the cv2.cvtColor floor.
#   1. default threads, plus the end-to-end fps of the pipeline on the demo clip -> $OUT
#   2. one thread per method (--threads 1)                                       -> $OUT-threads1
#
#   benchmarks/latency/bench_latency.sh                       # writes docs/eval/bench/ and docs/eval/bench-threads1/
#   OUT=/tmp/bench benchmarks/latency/bench_latency.sh --provider cpu
#
# Extra arguments go to both `streamseg bench` runs. Run it on an otherwise idle machine: every
# report records the load average, and `streamseg bench` warns when the machine is busy.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-docs/eval/bench}"
STREAMSEG="${STREAMSEG:-$([ -x .venv/bin/streamseg ] && echo .venv/bin/streamseg || echo streamseg)}"
COMMON=(--methods all --sizes 256,320,512,1024 --frame-sizes 640x480,1280x720,1920x1080)
"$STREAMSEG" bench "${COMMON[@]}" --video examples/face_thumbsup_pixabay_720p.mp4 --video-frames 100 \
    --report "$OUT" "$@"
"$STREAMSEG" bench "${COMMON[@]}" --threads 1 --report "$OUT-threads1" "$@"
