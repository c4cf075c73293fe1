#!/usr/bin/env bash
# Every speed figure of docs/speed.md in one go, so they come from one run of one machine state:
# the smoother's cost at 720p, live latency over MJPEG, the colour rules against their floor, the
# mask-video / plain-transcode ratio, the README's pipeline table and one --stats run of the demo
# clip. ~10 minutes.
#   bash benchmarks/latency/idle_timings.sh OUTDIR
# On a shared machine, pause other jobs first (kill -STOP PID ... ; kill -CONT PID ... after).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/idle-timings}
mkdir -p "$out"
py=.venv/bin/python
uptime | tee "$out/load.txt"
$py -m benchmarks.smoothing.temporal --timing-only \
    --smoothers none,motion+grid:max_width=0,motion,still,still:static_weight=0.05:hold=0:blur=5 > "$out/smooth_cost.md" 2>&1
$py -m benchmarks.latency.live_latency --seconds 12 > "$out/live_latency.md" 2>&1
.venv/bin/streamseg bench --methods ellipse,ellipse-diag,selfie-skin,dlmv --frame-sizes 1280x720 > "$out/bench.txt" 2>&1
$py -m benchmarks.latency.classical_stages --runs 300 --threads 1 --size 1280x720 > "$out/classical_stages.md" 2>&1
$py -m benchmarks.pipeline.transcode_ratio --repeats 2 --method selfie-skin --method ellipse-diag > "$out/transcode_ratio.md" 2>&1
for m in selfie-skin ellipse-diag dlmv; do  # each run also times the no-segmentation pipeline
    $py -m benchmarks.pipeline.overhead --method "$m" --repeats 3 > "$out/pipeline_$m.md" 2>&1
done
.venv/bin/streamseg video examples/face_thumbsup_pixabay_720p.mp4 -T mask --stats -o "$out/mask.mp4" -y > "$out/video_stats.txt" 2>&1
uptime | tee -a "$out/load.txt"
