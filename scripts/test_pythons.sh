#!/usr/bin/env bash
# A fast subset of the test suite under the oldest and the newest supported Python (3.10-3.14)
# that this machine has (on PATH or in pyenv) or can install with apt-get, other than the one
# scripts/test.sh ran. Each gets a venv outside the checkout with the dev extras only: no torch,
# no ray and no mediapipe (their tests skip; the main run has mediapipe through the train extra
# and runs the parity tests), so these runs check that everything else works on current numpy,
# OpenCV, protobuf and onnxruntime. FAST_TESTS are the files that touch what differs between
# Python and library versions (detectors, models, video I/O, numba kernels, the API).
# Usage: scripts/test_pythons.sh [PYTEST ARGS]
#   STREAMSEG_PYTHONS="3.10 3.13"  test exactly these versions instead
#   STREAMSEG_FULL_SUITE=1         the whole suite instead of FAST_TESTS
set -euo pipefail
cd "$(dirname "$0")/.."
SUPPORTED="3.10 3.11 3.12 3.13 3.14"
FAST_TESTS="tests/test_mp_onnx_detectors.py tests/test_mp_onnx_selfie.py tests/test_rois_stage.py
  tests/test_classical_methods.py tests/test_classical_kernels.py tests/test_onnx_model.py tests/test_video.py
  tests/test_image_formats.py tests/test_effects.py tests/test_smooth.py tests/test_readme_api.py"
main="$("${PYTHON:-python3}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
venv_root="${STREAMSEG_VENVS:-${TMPDIR:-/tmp}/streamseg-venvs}"

works() { "$1" -c 'import ensurepip, sys, venv' >/dev/null 2>&1; }

find_python() {  # 3.X -> the path of a working interpreter (with venv + ensurepip), or nothing
  local v="$1" c
  for c in "python$v" $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -rV); do
    # (a pyenv shim on PATH runs only the versions pyenv has selected: then the versions folder serves)
    if command -v "$c" >/dev/null && works "$c"; then
      command -v "$c"
      return
    fi
  done
}

apt_install() {  # 3.X -> installs python3.X (+ venv) with apt-get where Debian/Ubuntu has it and we are root
  local v="$1"
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
  apt-cache policy "python$v" 2>/dev/null | grep -q 'Candidate: [0-9]' || return 1
  echo "note: installing python$v with apt-get, system-wide"
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "python$v" "python$v-venv" >/dev/null
}

declare -A path
if [ -n "${STREAMSEG_PYTHONS:-}" ]; then
  wanted="$STREAMSEG_PYTHONS"
else
  wanted="$SUPPORTED"
fi
found=""
for v in $wanted; do
  p="$(find_python "$v")"
  if [ -z "$p" ] && apt_install "$v"; then p="$(find_python "$v")"; fi
  if [ -n "$p" ]; then path[$v]="$p"; found="$found $v"; fi
done
if [ -n "${STREAMSEG_PYTHONS:-}" ]; then
  pick="$found"
else
  # the oldest and the newest found; the main interpreter is tested already
  oldest="$(echo $found | awk '{print $1}')"
  newest="$(echo $found | awk '{print $NF}')"
  pick=""
  for v in $oldest $newest; do
    case " $pick $main " in *" $v "*) ;; *) pick="$pick $v" ;; esac
  done
fi
echo "== Pythons: main $main (scripts/test.sh); found:${found:- none}; testing:${pick:- none} (supported: $SUPPORTED)"
for v in $SUPPORTED; do
  case " $found " in *" $v "*) ;; *) echo "note: no Python $v here (not on PATH, not in pyenv, not in apt)" ;; esac
done

files=()
what="the whole suite"
if [ -z "${STREAMSEG_FULL_SUITE:-}" ]; then
  for f in $FAST_TESTS; do files+=("$f"); done
  what="the fast subset (FAST_TESTS)"
fi
for v in $pick; do
  venv="$venv_root/py$v"
  echo "== Python $v (${path[$v]}): venv $venv (dev extras, no mediapipe), $what"
  VENV="$venv" PYTHON="${path[$v]}" bash scripts/env.sh dev
  "$venv/bin/python" -c 'import importlib.util as u, sys; sys.exit("error: mediapipe is in the venv" if u.find_spec("mediapipe") else 0)'
  "$venv/bin/python" -m pytest -p no:cacheprovider "${files[@]}" "$@"
done
