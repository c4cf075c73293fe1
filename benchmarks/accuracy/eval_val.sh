#!/usr/bin/env bash
# The accuracy table of the README (docs/eval.md): every method that runs here, scored on the
# val split of the shared skin dataset, with the example grid and the "which method" plot.
#
#   benchmarks/accuracy/eval_val.sh                     # writes docs/eval/val/
#   DATA=/path/to/skin OUT=/tmp/val benchmarks/accuracy/eval_val.sh --methods ellipse,dlmv
#
# One thread per method (--threads 1): on a shared 2-core machine parallel numba kernels wait
# for busy cores and the ms/image column would measure the neighbours (see docs/eval.md).
# Extra arguments go to `streamseg eval` (e.g. --provider cpu, --limit 50 for a quick look;
# a later --threads 0 restores the library defaults).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data/skin}"
OUT="${OUT:-docs/eval/val}"
STREAMSEG="${STREAMSEG:-$([ -x .venv/bin/streamseg ] && echo .venv/bin/streamseg || echo streamseg)}"
exec "$STREAMSEG" eval "$DATA" --methods all --split val --threshold 0.5 --threads 1 --examples 8 --report "$OUT" "$@"
