#!/usr/bin/env bash
# compare_ascii.sh EBB_MEMCACHED CASES_FILE: the ASCII and meta protocols
# byte for byte against Debian's memcached. Both servers get every case of
# CASES_FILE (see probe.sh) on fresh connections; any difference fails.
set -euo pipefail
ebb="$1"
cases="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v memcached >/dev/null || { echo "memcached not installed (deploy/ebbctl setup)"; exit 1; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Debian's memcached on a free port (it cannot pick one itself and say which).
real_port=""
for _ in $(seq 20); do
  port=$((20000 + RANDOM % 30000))
  memcached -u "$(id -un)" -l 127.0.0.1 -p "$port" -U 0 -m 64 -t 1 2>"$work/real.err" &
  pid=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { real_port=$port; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -n "$real_port" ]]; then pids+=("$pid"); break; fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
[[ -n "$real_port" ]] || { echo "could not start memcached"; cat "$work/real.err"; exit 1; }

"$ebb" -l 127.0.0.1 -p 0 -U 0 -m 64 -t 1 >"$work/ebb.out" 2>&1 &
pids+=($!)
ebb_port=""
for _ in $(seq 100); do
  ebb_port="$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$work/ebb.out")"
  [[ -n "$ebb_port" ]] && break
  sleep 0.05
done
[[ -n "$ebb_port" ]] || { echo "ebb-memcached did not start"; cat "$work/ebb.out"; exit 1; }

"$here/probe.sh" "$real_port" "$cases" >"$work/real.txt"
"$here/probe.sh" "$ebb_port" "$cases" >"$work/ebb.txt"
if ! diff -u "$work/real.txt" "$work/ebb.txt" >"$work/diff.txt"; then
  echo "ebb-memcached answers differently from memcached $(memcached -V):"
  cat "$work/diff.txt"
  exit 1
fi
echo "$(grep -c . "$work/real.txt") cases: the same bytes as $(memcached -V)"
