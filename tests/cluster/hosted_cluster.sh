#!/usr/bin/env bash
# hosted_cluster.sh EBB_MEMCACHED: `ebbctl cluster` with 3 hosted nodes on a
# private Open vSwitch bridge, as a user runs it: status (and --json),
# memccapable against every node, a node killed under load, restarted and
# killed again (kill_check.py: survivors keep serving, no wrong value ever
# read), then `down`, which must leave no process, namespace, link or run
# directory behind. Root only (exit 77 otherwise).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export EBB_MEMCACHED="$1"
skip() { echo "hosted_cluster.sh: skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
for tool in ovs-vswitchd ovsdb-server ip ethtool memccapable python3; do
  command -v "$tool" >/dev/null || skip "no $tool (deploy/ebbctl setup installs it)"
done
name="h$(($$ % 100000))" subnet=198.18.9
cluster() { local c="$1"; shift; "$root/deploy/cluster" "$c" --name "$name" "$@"; }
fail() {
  echo "hosted_cluster.sh: FAILED: $*" >&2
  cluster logs --lines 10 >&2
  exit 1
}
trap 'cluster down >/dev/null 2>&1' EXIT

cluster up --nodes 3 --cores 2 --memory 32 --subnet "$subnet" || fail "up failed"
cluster status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert [n["state"] for n in s["nodes"]] == ["up"] * 3, s
assert [n["address"] for n in s["nodes"]] == ["198.18.9.10", "198.18.9.11", "198.18.9.12"], s
assert all(n["cores"] == 2 and n["kind"] == "hosted" for n in s["nodes"]), s
' || fail "status --json does not show 3 hosted nodes up"
cluster status | grep -q "^1 .*198.18.9.11:11211 .* up" || fail "status table"

for k in 0 1 2; do
  out="$(cluster exec client -- memccapable -h "$subnet.1$k" -p 11211 -t 10 2>&1)"
  grep -q "All tests passed" <<<"$out" || { echo "$out" | grep -v pass >&2; fail "memccapable against node $k"; }
done
echo "hosted_cluster.sh: memccapable passed against every node"

cluster exec client -- python3 "$here/kill_check.py" --node "$subnet.10:11211" --node "$subnet.11:11211" \
  --node "$subnet.12:11211" --victim 1 --seconds 2 \
  --kill "'$root/deploy/cluster' kill --name $name 1" --restart "'$root/deploy/cluster' start --name $name 1" \
  --kill "'$root/deploy/cluster' kill --name $name 1" || fail "kill_check"
cluster status | grep -q "^1 .* down" || fail "status does not show the killed node down"

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
trap - EXIT
echo "hosted_cluster.sh: passed"
