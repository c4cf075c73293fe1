#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv (or $VENV) with the given extras.
# Usage: scripts/env.sh [EXTRAS]   e.g. scripts/env.sh dev,train
#   PYTHON=python3.12 scripts/env.sh   use that interpreter; a .venv made by another Python is rebuilt
#   VENV=/tmp/venv312 PYTHON=python3.12 scripts/env.sh dev   another folder for the venv (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
PY="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
command -v "$PY" >/dev/null || { echo "error: $PY not found (set PYTHON=...)" >&2; exit 2; }
want="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ -x "$VENV"/bin/python ]; then
  have="$("$VENV"/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo broken)"
  if [ "$have" != "$want" ]; then
    echo "note: $VENV runs Python $have, $PY is $want: rebuilding $VENV"
    rm -rf "$VENV"
  fi
fi
if [ ! -x "$VENV"/bin/python ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.installed-${extras:-base}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # pip's and setuptools' banners go to a log, shown only when the install fails
  if ! { "$VENV"/bin/python -m pip install -q --upgrade pip \
         && "$VENV"/bin/python -m pip install -q -e ".${extras:+[$extras]}"; } > "$VENV/pip.log" 2>&1; then
    tail -n 30 "$VENV/pip.log" >&2
    echo "error: installing streamseg into $VENV failed (full log: $VENV/pip.log)" >&2
    exit 1
  fi
  touch "$stamp"
fi
