#!/usr/bin/env bash
# loadgen.sh EBB_LOADGEN: drives Debian's memcached with ebb-loadgen the way
# a user does and checks what it reports: open and closed loops, both
# workloads, --search, and a server that dies mid-run. Exits 77 (skipped)
# when memcached is not installed.
set -u
loadgen="$1"
memcached="${MEMCACHED:-/usr/bin/memcached}"
[[ -x "$memcached" ]] || { echo "loadgen.sh: $memcached not installed; skipped"; exit 77; }

work="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "loadgen.sh: $*" >&2; for f in "$work"/*.out; do [[ -f "$f" ]] && { echo "--- $f" >&2; cat "$f" >&2; }; done; exit 1; }

# memcached refuses to run as root without -u.
as_user=()
[[ "$(id -u)" == 0 ]] && as_user=(-u "$(id -un)")

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts a memcached on a free loopback port: sets $port and $pid.
start_memcached() {
  local try
  for try in $(seq 20); do
    port=$((20000 + RANDOM % 40000))
    port_open "$port" && continue  # taken
    "$memcached" "${as_user[@]}" -l 127.0.0.1 -p "$port" -U 0 -t 1 -m 64 >"$work/memcached.$port.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
      port_open "$port" && return 0
      kill -0 "$pid" 2>/dev/null || break  # it exited: port taken after all
      sleep 0.05
    done
    kill "$pid" 2>/dev/null
  done
  fail "could not start memcached on a free port"
}

# The number after "KEY": in a JSON file (the loadgen writes one field a line).
json() { sed -n "s/^ *\"$2\": \([-0-9.]*\).*/\1/p" "$1" | head -1; }
# KEY's value is above 0 / equal to 0.
positive() { awk -v v="$(json "$1" "$2")" 'BEGIN { exit !(v + 0 > 0) }' || fail "$2 is not > 0 in $1"; }
zero() { [[ "$(json "$1" "$2")" == 0 ]] || fail "$2 is not 0 in $1"; }

start_memcached
server="127.0.0.1:$port"

# Open loop at a fixed rate after a preload: every get hits.
"$loadgen" --server "$server" --rate 2000 --duration 2 --warmup 0.2 --preload --keys 2000 --json \
  >"$work/open.out" 2>&1 || fail "open loop run failed"
for key in requests rate gets hits stored; do positive "$work/open.out" "$key"; done
for key in errors misses dropped lost unfinished failed_connections; do zero "$work/open.out" "$key"; done
grep -q '"closed_loop": false' "$work/open.out" || fail "open loop not reported as such"

# Closed loop, two cores, the table.
"$loadgen" --server "$server" --rate max --cores 2 --connections 4 --pipeline 8 --duration 1 \
  --warmup 0.2 >"$work/closed.out" 2>&1 || fail "closed loop run failed"
grep -Eq "achieved rate +[1-9]" "$work/closed.out" || fail "no achieved rate in the table"
grep -Eq "errors +0 \(dropped 0, lost 0, unfinished 0\)" "$work/closed.out" || fail "errors in the table"
grep -q "p99.9" "$work/closed.out" || fail "no percentiles in the table"

# The ETC workload with Zipf popularity, preloaded.
"$loadgen" --server "$server" --workload etc --zipf 0.99 --keys 5000 --preload --rate 3000 \
  --duration 1 --warmup 0.2 --json >"$work/etc.out" 2>&1 || fail "etc run failed"
for key in requests hits sets; do positive "$work/etc.out" "$key"; done
for key in errors misses lost; do zero "$work/etc.out" "$key"; done

# --search: a peak, probes, and a rate that passed (the limit is loose).
"$loadgen" --server "$server" --search 50:1000000 --duration 0.3 --warmup 0.1 \
  >"$work/search.out" 2>&1 || fail "search failed"
grep -q "search: peak" "$work/search.out" || fail "no peak in the search"
grep -q "search: probe" "$work/search.out" || fail "no probes in the search"
grep -Eq "highest passing rate +[1-9]" "$work/search.out" || fail "no passing rate found"

# A server that dies mid-run: reported, and a non-zero exit.
start_memcached
"$loadgen" --server "127.0.0.1:$port" --rate 1000 --duration 5 --warmup 0 >"$work/dies.out" 2>&1 &
gen=$!
sleep 1
kill "$pid"
wait "$gen"
code=$?
[[ "$code" == 1 ]] || fail "exit code $code when the server died, wanted 1"
grep -q "connection(s) failed during the run" "$work/dies.out" || fail "the failure was not reported"

cat "$work/open.out" "$work/closed.out" "$work/search.out"
echo "loadgen.sh: all checks passed"
