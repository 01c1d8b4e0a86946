#!/usr/bin/env bash
# cluster_check.sh hosted EBB_MEMCACHED | native IMAGE: `ebbctl cluster` as a
# user runs it — 3 hosted nodes (namespaces) or 2 native ones (VMs under
# QEMU; TCG here) on a private Open vSwitch bridge: status (and --json),
# memccapable against every node, replies in order on a connection that
# pipelines requests for every node's keys, a node killed under load, restarted and
# killed again (kill_check.py: survivors keep serving, no wrong value ever
# read), then `down`, which must leave no process, namespace, link or run
# directory behind. Root only (exit 77 otherwise).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kind="$1"
case "$kind" in
  hosted) export EBB_MEMCACHED="$2" nodes=3 cores=2 subnet=198.18.9 ;;
  native) export EBB_MEMCACHED_IMAGE="$2" nodes=2 cores=1 subnet=198.18.11 ;;
  *) echo "usage: cluster_check.sh hosted|native PROGRAM" >&2; exit 2 ;;
esac
skip() { echo "cluster_check.sh: skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
for tool in ovs-vswitchd ovsdb-server ip ethtool memccapable python3; do
  command -v "$tool" >/dev/null || skip "no $tool (deploy/ebbctl setup installs it)"
done
name="${kind:0:1}$(($$ % 100000))"
cluster() { local c="$1"; shift; "$root/deploy/cluster" "$c" --name "$name" "$@"; }
fail() {
  echo "cluster_check.sh: FAILED: $*" >&2
  cluster logs --lines 10 >&2
  exit 1
}
trap 'cluster down >/dev/null 2>&1' EXIT

cluster up --kind "$kind" --nodes "$nodes" --cores "$cores" --memory 32 --subnet "$subnet" || fail "up failed"
cluster status --json | python3 -c '
import json, sys
kind, nodes, cores, subnet = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = json.load(sys.stdin)
assert [n["state"] for n in s["nodes"]] == ["up"] * nodes, s
assert [n["address"] for n in s["nodes"]] == ["%s.1%d" % (subnet, k) for k in range(nodes)], s
assert all(n["cores"] == cores and n["kind"] == kind for n in s["nodes"]), s
' "$kind" "$nodes" "$cores" "$subnet" || fail "status --json does not show $nodes $kind nodes up"
cluster status | grep -q "^1 .*$subnet.11:11211 .* up" || fail "status table"

addresses=()
for ((k = 0; k < nodes; k++)); do
  out="$(cluster exec client -- memccapable -h "$subnet.1$k" -p 11211 -t 10 2>&1)"
  grep -q "All tests passed" <<<"$out" || { echo "$out" | grep -v pass >&2; fail "memccapable against node $k"; }
  addresses+=(--node "$subnet.1$k:11211")
done
echo "cluster_check.sh: memccapable passed against every node"
cluster exec client -- python3 "$here/pipeline_check.py" "$subnet.10:11211" || fail "pipelined replies out of order"

cluster exec client -- python3 "$here/kill_check.py" "${addresses[@]}" --victim 1 --seconds 2 \
  --kill "'$root/deploy/cluster' kill --name $name 1" --restart "'$root/deploy/cluster' start --name $name 1" \
  --kill "'$root/deploy/cluster' kill --name $name 1" || fail "kill_check"
cluster status | grep -q "^1 .* down" || fail "status does not show the killed node down"
stats="$(cluster exec client -- bash -c "exec 3<>/dev/tcp/$subnet.10/11211; printf 'stats cluster\r\nquit\r\n' >&3; timeout 5 cat <&3")"
grep -q "STAT node1:state down" <<<"$stats" || fail "stats cluster does not show node 1 down: $stats"
grep -Eq "STAT forwarded [1-9]" <<<"$stats" || fail "stats cluster counted no forwarded request: $stats"

run="/run/ebbkit-cluster/$name"
pids="$(cat "$run"/*.pid 2>/dev/null)"
[[ -n "$pids" ]] || fail "no pid files in $run"
cluster down || fail "down failed"
[[ ! -e "$run" ]] || fail "down left $run"
! ip netns list | grep -q "ebbc-$name-" || fail "down left a namespace: $(ip netns list | grep "ebbc-$name-")"
! ip -o link show | grep -q "ek$name" || fail "down left a link: $(ip -o link show | grep "ek$name")"
for pid in $pids; do
  ! kill -0 "$pid" 2>/dev/null || fail "down left process $pid running"
done
! pgrep -f "ek${name}t" >/dev/null || fail "down left a VM: $(pgrep -fa "ek${name}t")"
trap - EXIT
echo "cluster_check.sh: passed"
