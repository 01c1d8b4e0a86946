#!/usr/bin/env bash
# cluster_forwarding.sh: what cluster mode costs a request, without Open
# vSwitch in the way. Three cluster-mode ebb-memcached nodes on loopback
# (one core each) beside a lone node (one core): ebb-loadgen against node 0
# (two thirds of the keys live elsewhere) and against the lone node,
# alternating, 3 rounds of 5 s. Prints port, which, req/s, p50 and p99 (us),
# errors, misses. Uses build/release (deploy/ebbctl build), or EBB_BENCH_BIN.
B="${EBB_BENCH_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/release/bin}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf 'node 0 127.0.0.1:27100\nnode 1 127.0.0.1:27101\nnode 2 127.0.0.1:27102\n' > "$work/cluster.txt"
pids=()
for n in 0 1 2; do $B/ebb-memcached -p 2121$n -t 1 --cluster "$work/cluster.txt" --node $n > "$work/n$n.log" 2>&1 & pids+=($!); done
$B/ebb-memcached -p 21219 -t 1 > "$work/lone.log" 2>&1 & pids+=($!)
sleep 4
for round in 1 2 3; do
  for port in 21210 21219; do
    $B/ebb-loadgen --server 127.0.0.1:$port --duration 5 --warmup 1 --connections 16 --pipeline 4 --preload --json 2>/dev/null |
      python3 -c "import json,sys; r=json.load(sys.stdin); l=r['latency_us']; print('$port', 'cluster node 0' if $port == 21210 else 'lone node', r['rate'], l['p50'], l['p99'], r['errors'], r['misses'])"
  done
done
kill "${pids[@]}"
