#!/usr/bin/env bash
# Starts a real S3-compatible server (moto in server mode, from PyPI) on loopback for the
# off-site backup tests (crates/livehelp/tests/backup.rs, docs/operations.md).
#
#   eval "$(bash tests/s3/start-moto.sh [PORT])"
#
# installs `moto[server]` with pip when `moto_server` is missing, starts it in the
# background on 127.0.0.1:PORT (default: a free port), waits until it answers (at most
# 30 s), and prints shell assignments to stdout:
#   export LIVEHELP_TEST_S3_URL=http://127.0.0.1:PORT
#   export LIVEHELP_TEST_S3_PID=PID      (stop it with: kill "$LIVEHELP_TEST_S3_PID")
# Exits non-zero, with the server's log on stderr, when moto does not come up.
set -euo pipefail

if ! command -v moto_server >/dev/null 2>&1; then
  echo "installing moto[server] with pip" >&2
  python3 -m pip install --quiet 'moto[server]' >&2 \
    || { echo "cannot install moto[server] (pip install 'moto[server]')" >&2; exit 1; }
fi

port="${1:-}"
if [ -z "$port" ]; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
fi
log="$(mktemp -t livehelp-moto.XXXXXX.log)"
moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
pid=$!
url="http://127.0.0.1:$port"

for _ in $(seq 1 150); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "moto_server exited before it answered; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" >/dev/null 2>&1; then
    echo "moto (S3-compatible) answers at $url (pid $pid, log $log)" >&2
    echo "export LIVEHELP_TEST_S3_URL=$url"
    echo "export LIVEHELP_TEST_S3_PID=$pid"
    exit 0
  fi
  sleep 0.2
done
echo "moto_server did not answer at $url within 30 s; its log:" >&2
cat "$log" >&2
kill "$pid" 2>/dev/null || true
exit 1
