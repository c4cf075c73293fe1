#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv with the given extras.
# Usage: scripts/env.sh [EXTRAS]   e.g. scripts/env.sh dev,train
#   PYTHON=python3.12 scripts/env.sh   use that interpreter; a .venv made by another Python is rebuilt
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || { echo "error: $PY not found (set PYTHON=...)" >&2; exit 2; }
want="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ -x .venv/bin/python ]; then
  have="$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo broken)"
  if [ "$have" != "$want" ]; then
    echo "note: .venv runs Python $have, $PY is $want: rebuilding .venv"
    rm -rf .venv
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=".venv/.installed-${extras:-base}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  touch "$stamp"
fi
