#!/usr/bin/env bash
# Installs what Wuye needs, idempotently: the Python venv and packages, the npm packages,
# and (with --test) Debian's Chromium for the browser tests. Safe to run again: each step
# is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

extras=""; stamp=".venv/.installed"
if [ $WITH_TEST = 1 ]; then extras="[test]"; stamp="$stamp-test"; fi
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing Python packages"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".${extras}"
  echo "$want" > "$stamp"
fi

want=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(cat node_modules/.wuye-installed 2>/dev/null)" != "$want" ]; then
  echo "==> installing front-end packages from the npm registry"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  echo "$want" > node_modules/.wuye-installed
fi

# Debian packages: a CJK font for PDFs (always); Chromium and pdftotext for the tests (--test).
debs=""
[ -d /usr/share/fonts/opentype/noto ] || debs="fonts-noto-cjk"
[ $WITH_TEST = 1 ] && [ ! -x /usr/bin/chromium ] && debs="$debs chromium"
[ $WITH_TEST = 1 ] && [ ! -x /usr/bin/pdftotext ] && debs="$debs poppler-utils"
if [ -n "$debs" ]; then
  echo "==> installing from Debian's packages:$debs"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $debs >/dev/null
fi
