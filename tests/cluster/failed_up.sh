#!/usr/bin/env bash
# failed_up.sh EBB_MEMCACHED: `ebbctl cluster up` that fails — a bad config
# file (a clear error naming its line, nothing made), nodes that cannot
# start (up names the node and its error, leaves what it made for `down`) —
# and `down` after it, which must leave no process, namespace, link or run
# directory behind. Root only (exit 77 otherwise).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export EBB_MEMCACHED="$1"
skip() { echo "failed_up.sh: skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
for tool in ovs-vswitchd ovsdb-server ip ethtool; do
  command -v "$tool" >/dev/null || skip "no $tool (deploy/ebbctl setup installs it)"
done
name="f$(($$ % 100000))" subnet=198.18.10 run="/run/ebbkit-cluster/f$(($$ % 100000))"
cluster() { local c="$1"; shift; "$root/deploy/cluster" "$c" --name "$name" "$@"; }
fail() { echo "failed_up.sh: FAILED: $*" >&2; exit 1; }
work="$(mktemp -d)"
trap 'cluster down >/dev/null 2>&1; rm -rf "$work"' EXIT

printf 'nodes 2\n# a comment\nflavour big\n' >"$work/bad.conf"
out="$(cluster up --config "$work/bad.conf" 2>&1)" && fail "up took a bad config file"
grep -q "bad.conf:3: unknown setting 'flavour'" <<<"$out" || fail "the bad config's error: $out"
[[ ! -e "$run" ]] || fail "a refused config left $run"
out="$(cluster up --nodes 0 2>&1)" && fail "up took --nodes 0"
grep -q -- "--nodes wants 1 to 9, not '0'" <<<"$out" || fail "--nodes 0's error: $out"

out="$(cluster up --nodes 2 --subnet "$subnet" --args --bogus 2>&1)" && fail "up succeeded with nodes that cannot start"
grep -q "node 0 stopped while coming up" <<<"$out" || fail "up did not name the node: $out"
grep -q "unknown argument '--bogus'" <<<"$out" || fail "up did not show the node's error: $out"
[[ -f "$run/made" ]] && ip netns list | grep -q "ebbc-$name-client" || fail "the failed up made nothing?"
out="$(cluster up --nodes 2 --subnet "$subnet" 2>&1)" && fail "a second up over a failed one succeeded"
grep -q "already up (or left over)" <<<"$out" || fail "second up's error: $out"

daemons="$(cat "$run"/*.pid 2>/dev/null)"
cluster down || fail "down failed"
[[ ! -e "$run" ]] || fail "down left $run"
! ip netns list | grep -q "ebbc-$name-" || fail "down left a namespace"
! ip -o link show | grep -q "ek$name" || fail "down left a link: $(ip -o link show | grep "ek$name")"
for pid in $daemons; do
  ! kill -0 "$pid" 2>/dev/null || fail "down left process $pid running"
done
out="$(cluster status 2>&1)" && fail "status of a cluster that is down succeeded"
grep -q "is not up" <<<"$out" || fail "status after down: $out"
cluster down | grep -q "is not up" || fail "a second down is not harmless"
trap 'rm -rf "$work"' EXIT
echo "failed_up.sh: passed"
