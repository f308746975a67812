#!/usr/bin/env bash
# The whole benchmark in one command (docs/benchmarks.md): builds release, fetches the
# corpus and the peers, then runs livehelp-bench with the load generator pinned to core 1
# (the servers it starts pin themselves to core 0) when the machine has 2 cores or more.
#
#   bash bench/run.sh                 # every scenario (about 25 minutes)
#   bash bench/run.sh steady          # one scenario; extra flags go to livehelp-bench
#   bash bench/run.sh steady --targets livehelp,floor --rounds 1
#   bash bench/run.sh scale           # livehelp on SQLite vs PostgreSQL + NATS, 1 and 3 nodes
#                                     # (needs PostgreSQL on 127.0.0.1:5432 and NATS on :4222,
#                                     # or --postgres-url / --nats-url)
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

if [ "$scenario" = "scale" ]; then
    echo "== scale profile: PostgreSQL and NATS must answer"
    pg_isready -h 127.0.0.1 -p 5432 -t 10 \
        || { echo "PostgreSQL at 127.0.0.1:5432 does not answer (or pass --postgres-url)" >&2; exit 1; }
    timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222 && head -c 4 <&3 | grep -q INFO' \
        || { echo "NATS at 127.0.0.1:4222 does not answer (or pass --nats-url)" >&2; exit 1; }
    command -v psql >/dev/null || apt-get install -y postgresql-client
fi

echo "== peers"
if [ "$scenario" = "scale" ]; then
    echo "(the scale profile runs livehelp only)"
elif command -v node >/dev/null; then
    (cd bench/peers/socketio && npm install --no-audit --no-fund --silent)
else
    echo "node is missing: apt-get install -y nodejs npm (the Socket.IO peer needs it)" >&2
fi
if [ "$scenario" != "scale" ]; then
    if ! command -v ejabberdctl >/dev/null; then
        apt-get install -y ejabberd
    fi
    # The package starts its own instance on install; the benchmark runs its own.
    if ejabberdctl status >/dev/null 2>&1; then
        ejabberdctl stop >/dev/null 2>&1 || true
    fi
fi

# More open files for the idle scenario (the hard limit is the ceiling).
ulimit -n "$(ulimit -Hn)" || true

pin=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin=(taskset -c 1)
fi
echo "== livehelp-bench $scenario $* (generator: ${pin[*]:-unpinned})"
"${pin[@]}" target/release/livehelp-bench "$scenario" "$@"
