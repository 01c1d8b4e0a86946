#!/usr/bin/env bash
# memccapable.sh EBB_MEMCACHED [FLAGS...]: libmemcached's memccapable (Debian
# package libmemcached-tools) runs every ASCII and binary test against
# ebb-memcached started with FLAGS; every test must pass.
set -euo pipefail
ebb="$1"
shift
command -v memccapable >/dev/null || { echo "memccapable not installed (deploy/ebbctl setup)"; exit 1; }
work="$(mktemp -d)"
"$ebb" -l 127.0.0.1 -p 0 "$@" >"$work/ebb.out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=""
for _ in $(seq 200); do
  port="$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$work/ebb.out")"
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
[[ -n "$port" ]] || { echo "ebb-memcached did not start:"; cat "$work/ebb.out"; exit 1; }
status=0
timeout 120 memccapable -h 127.0.0.1 -p "$port" -t 10 >"$work/capable.out" 2>&1 || status=$?
cat "$work/capable.out"
[[ $status -eq 0 ]] || { echo "memccapable failed (exit $status)"; exit 1; }
grep -q "All tests passed" "$work/capable.out" || { echo "memccapable did not report success"; exit 1; }
kill -0 "$pid" 2>/dev/null || { echo "ebb-memcached died:"; cat "$work/ebb.out"; exit 1; }
