#!/usr/bin/env bash
# Browser end-to-end tests: Debian's chromium driven by playwright-core against the real
# livehelp binary. Installs what is missing, builds the server, runs every *.test.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."

# chromium, plus fonts for Chinese and emoji so the screenshots show real glyphs.
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
for pkg in fonts-noto-cjk fonts-noto-color-emoji; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  echo "== installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi
/usr/bin/chromium --version

echo "== npm dependencies (tests/e2e)"
if [[ -f tests/e2e/package-lock.json ]]; then
  (cd tests/e2e && npm ci --no-audit --no-fund)
else
  (cd tests/e2e && npm install --no-audit --no-fund)
fi

echo "== cargo build -p livehelp"
cargo build -p livehelp

echo "== browser tests"
mkdir -p tests/e2e/artifacts
node --test --test-concurrency=1 tests/e2e/*.test.mjs
echo "== e2e: all green (screenshots in tests/e2e/artifacts/)"
