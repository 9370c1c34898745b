#!/usr/bin/env bash
# Set-up for `make demo` / `make test`: Debian packages (when root), the
# virtualenv and the Python packages. Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

WANT_TEST=0
[ "${1:-}" = "--test" ] && WANT_TEST=1

# Debian packages the hall needs at run time, and those only the tests need.
RUNTIME_DEBS="mosquitto espeak-ng libespeak-ng1 libportaudio2 sox libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1 fonts-wqy-microhei"
TEST_DEBS="xvfb xauth chromium chromium-driver tesseract-ocr tesseract-ocr-chi-sim imagemagick postgresql nginx-light"
DEBS="$RUNTIME_DEBS"
[ "$WANT_TEST" = 1 ] && DEBS="$DEBS $TEST_DEBS"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in $DEBS; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
  done
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> apt-get install:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "!! 缺少 Debian 软件包 / missing Debian packages:$missing" >&2
    echo "   请以 root 运行 / run as root:  sudo apt-get install$missing" >&2
    if [ "$WANT_TEST" = 1 ]; then exit 1; fi
  fi
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" - <<'PYEOF'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Python 3.11+ is required, found {sys.version.split()[0]}")
PYEOF

VENV="${VENV:-.venv}"
[ -x "$VENV/bin/python" ] || { echo "==> creating $VENV"; "$PYTHON" -m venv "$VENV"; }

extras=""
[ "$WANT_TEST" = 1 ] && extras="[test]"
stamp="$VENV/.installed$( [ "$WANT_TEST" = 1 ] && echo -test )"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> pip install -e .$extras"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e ".$extras"
  touch "$stamp"
fi
