#!/usr/bin/env bash
# The whole benchmark in one command (docs/benchmarks.md): builds release, fetches the
# corpus and the peers, then runs livehelp-bench with the load generator pinned to core 1
# (the servers it starts pin themselves to core 0) when the machine has 2 cores or more.
#
#   bash bench/run.sh                 # every scenario (about 25 minutes)
#   bash bench/run.sh steady          # one scenario; extra flags go to livehelp-bench
#   bash bench/run.sh steady --targets livehelp,floor --rounds 1
#
# Results: target/bench-results/ (Markdown, JSON, latency-vs-load.svg).
set -euo pipefail
cd "$(dirname "$0")/.."

scenario="${1:-all}"
shift || true

echo "== build (release)"
cargo build --release --locked -p livehelp -p livehelp-bench

echo "== corpus: chatterbot-corpus==1.3.3 (pip download --no-deps)"
target/release/livehelp-bench fetch-corpus

echo "== peers"
if command -v node >/dev/null; then
    (cd bench/peers/socketio && npm install --no-audit --no-fund --silent)
else
    echo "node is missing: apt-get install -y nodejs npm (the Socket.IO peer needs it)" >&2
fi
if ! command -v ejabberdctl >/dev/null; then
    apt-get install -y ejabberd
fi
# The package starts its own instance on install; the benchmark runs its own.
if ejabberdctl status >/dev/null 2>&1; then
    ejabberdctl stop >/dev/null 2>&1 || true
fi

# More open files for the idle scenario (the hard limit is the ceiling).
ulimit -n "$(ulimit -Hn)" || true

pin=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin=(taskset -c 1)
fi
echo "== livehelp-bench $scenario $* (generator: ${pin[*]:-unpinned})"
"${pin[@]}" target/release/livehelp-bench "$scenario" "$@"
