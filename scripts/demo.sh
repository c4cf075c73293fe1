#!/usr/bin/env bash
# Fresh machine -> environment -> the main job on the shipped demo clip with the shipped model:
# writes examples/face_thumbsup_pixabay_720p_mask.mp4 and ..._overlay.mp4 and says where.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/env.sh
exec .venv/bin/streamseg video --output-type mask,overlay --overwrite "$@"
