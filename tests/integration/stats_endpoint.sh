#!/bin/bash
# stats_endpoint.sh EBB_MEMCACHED: ebb-memcached on 2 cores over Linux
# sockets with --stats-port, read by stats_check.py while it serves; the
# same flag on ebb-echo serves the same lines. Ports are picked free on
# loopback; only the servers started here are stopped.
set -u
memcached_bin="$1"
echo_bin="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "stats_endpoint.sh: $*"; for f in "$work"/*.out; do echo "--- $f"; cat "$f"; done; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # FILE TEXT
  for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

port=$(free_port) stats=$(free_port)
"$memcached_bin" -l 127.0.0.1 -p "$port" -t 2 --stats-port "$stats" >"$work/memcached.out" 2>&1 &
pids+=($!)
wait_for "$work/memcached.out" "stats on $stats" || fail "ebb-memcached did not start"
python3 "$here/stats_check.py" --port "$port" --stats-port "$stats" --cores 2 || fail "stats_check failed"

if [[ -n "$echo_bin" ]]; then
  port=$(free_port) stats=$(free_port)
  "$echo_bin" --port "$port" --cores 3 --stats-port "$stats" >"$work/echo.out" 2>&1 &
  pids+=($!)
  wait_for "$work/echo.out" "echoing on port" || fail "ebb-echo did not start"
  text="$(python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $stats), timeout=10)
d = b''
while True:
    c = s.recv(65536)
    if not c: break
    d += c
sys.stdout.write(d.decode())")"
  grep -q "^STAT cores 3" <<<"$text" || fail "ebb-echo's endpoint: no 'cores 3' in: $text"
  grep -q "^STAT core2:events " <<<"$text" || fail "ebb-echo's endpoint: no core2 lines"
  [[ "$(tail -n1 <<<"$text")" == $'END\r' ]] || fail "ebb-echo's endpoint: no END"
fi
echo "stats_endpoint.sh: the stats endpoint of ebb-memcached${echo_bin:+ and ebb-echo} serves per-core counters while they run"
