#!/usr/bin/env bash
# Installs everything the portal needs on a fresh machine, and is safe to run again:
# the Python virtual environment and packages, the pinned front-end packages from npm
# (Bootstrap Italia, copied into static/vendor), the compiled UI translations, and the local
# SPID/CIE test identity provider in its own virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"

if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm is needed for the front-end packages; installing Debian's nodejs and npm" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
rm -rf static/vendor/bootstrap-italia
mkdir -p static/vendor/bootstrap-italia
cp -R node_modules/bootstrap-italia/dist/css node_modules/bootstrap-italia/dist/fonts \
  node_modules/bootstrap-italia/dist/svg static/vendor/bootstrap-italia/
# The right-to-left Bootstrap Italia (rtlcss) and the fonts of every script the portal speaks.
.venv/bin/python scripts/build_assets.py

.venv/bin/pybabel compile --statistics -d translations 2>&1 | grep -v "^compiling" || true

# The local SPID/CIE test provider, in its own virtual environment (.idp-venv).
bash scripts/idp.sh install

# Debian packages: DejaVu Sans draws the PDF receipts, with Noto (Arabic, Urdu, Devanagari,
# Gurmukhi, Bengali) and Droid Sans Fallback (Chinese) for the scripts it lacks; Chromium runs
# the browser tests (tests/e2e).
debian_packages=()
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || debian_packages+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] || debian_packages+=(fonts-noto-core)
[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || debian_packages+=(fonts-droid-fallback)
[ -x /usr/bin/chromium ] || debian_packages+=(chromium)
if [ ${#debian_packages[@]} -gt 0 ]; then
  echo "setup: installing Debian's ${debian_packages[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debian_packages[@]}" >/dev/null
fi
echo "setup: done"
