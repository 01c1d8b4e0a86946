#!/usr/bin/env bash
# vxlan_check.sh EBB_MEMCACHED: two machines' bridges joined by a VXLAN
# tunnel, on this machine (docs/DEPLOY.md, "Across machines"). Each
# "machine" is a network namespace with its own Open vSwitch (userspace
# datapath, userspace tunneling): br-phy holds the underlay (a veth between
# the two machines, 198.19.0.1 and .2), br-int a VXLAN port to the other
# machine and the veth of one ebb-memcached node (its own namespace,
# 198.18.40.11 and .12, MTU 1400 for the tunnel's 50 bytes). The two nodes
# form one cluster across the tunnel: memccapable against both from the
# first machine, pipelined requests for both nodes' keys, and the VXLAN
# ports' counters show the traffic went through the tunnel. Everything is
# removed at the end. Root only (exit 77 otherwise).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
memcached="$1"
skip() { echo "vxlan_check.sh: skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
for tool in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl ip ethtool memccapable python3; do
  command -v "$tool" >/dev/null || skip "no $tool (deploy/ebbctl setup installs it)"
done
id=$(($$ % 10000))
work="$(mktemp -d)"
machine() { echo "evx$id$1"; }   # the machine's namespace (A or B)
node() { echo "evn$id$1"; }      # its node's namespace
cleanup() {
  local X
  for X in A B; do
    [[ -f "$work/$X/node.pid" ]] && kill "$(cat "$work/$X/node.pid")" 2>/dev/null
    for d in vswitchd ovsdb; do [[ -f "$work/$X/$d.pid" ]] && kill "$(cat "$work/$X/$d.pid")" 2>/dev/null; done
  done
  sleep 0.3
  for X in A B; do ip netns del "$(node $X)" 2>/dev/null; ip netns del "$(machine $X)" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "vxlan_check.sh: FAILED: $*" >&2
  tail -3 "$work"/*/*.log >&2 2>/dev/null
  exit 1
}

printf 'node 0 198.18.40.11:7100\nnode 1 198.18.40.12:7100\n' >"$work/cluster.txt"
ip netns add "$(machine A)" && ip netns add "$(machine B)" || fail "cannot make namespaces"
ip link add "evu${id}a" type veth peer name "evu${id}b" || fail "cannot make the underlay veth"
ip link set "evu${id}a" netns "$(machine A)"
ip link set "evu${id}b" netns "$(machine B)"
i=1
for X in A B; do
  run="$work/$X" ns="$(machine $X)" other=$((3 - i))
  mkdir -p "$run"
  vs() { ip netns exec "$ns" ovs-vsctl --db="unix:$run/db.sock" --timeout=10 "$@"; }
  ovsdb-tool create "$run/conf.db" /usr/share/openvswitch/vswitch.ovsschema || fail "ovsdb-tool"
  ip netns exec "$ns" env OVS_RUNDIR="$run" OVS_LOGDIR="$run" OVS_DBDIR="$run" ovsdb-server "$run/conf.db" \
    --remote="punix:$run/db.sock" --pidfile="$run/ovsdb.pid" --detach -vconsole:off --log-file="$run/ovsdb.log" ||
    fail "ovsdb-server"
  vs --no-wait init
  ip netns exec "$ns" env OVS_RUNDIR="$run" OVS_LOGDIR="$run" OVS_DBDIR="$run" ovs-vswitchd "unix:$run/db.sock" \
    --disable-system --disable-system-route --pidfile="$run/vswitchd.pid" --detach -vconsole:off \
    --log-file="$run/vswitchd.log" || fail "ovs-vswitchd"
  underlay="evu${id}$(tr AB ab <<<"$X")"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$underlay" up
  vs add-br br-phy -- set bridge br-phy datapath_type=netdev || fail "br-phy"
  vs add-port br-phy "$underlay" || fail "the underlay port"
  ip -n "$ns" addr add "198.19.0.$i/24" dev br-phy
  ip -n "$ns" link set br-phy up
  vs add-br br-int -- set bridge br-int datapath_type=netdev || fail "br-int"
  vs add-port br-int vx -- set interface vx type=vxlan "options:remote_ip=198.19.0.$other" options:key=42 ||
    fail "the VXLAN port"
  # Userspace tunneling routes the underlay itself (no system routes).
  ip netns exec "$ns" ovs-appctl -t "$run/ovs-vswitchd.$(cat "$run/vswitchd.pid").ctl" \
    ovs/route/add 198.19.0.0/24 br-phy >/dev/null || fail "the underlay route"
  nodens="$(node $X)"
  ip netns add "$nodens"
  ip link add "evh$id$X" type veth peer name "evp$id$X"
  ip link set "evh$id$X" netns "$ns"
  ip link set "evp$id$X" netns "$nodens"
  ip -n "$ns" link set "evh$id$X" up
  vs add-port br-int "evh$id$X" || fail "the node's port"
  ip -n "$nodens" link set lo up
  ip -n "$nodens" addr add "198.18.40.1$i/24" dev "evp$id$X"
  ip -n "$nodens" link set "evp$id$X" mtu 1400 up
  ip netns exec "$nodens" ethtool -K "evp$id$X" tx off >/dev/null 2>&1
  ip netns exec "$nodens" "$memcached" -p 11211 -t 2 -m 32 --cluster "$work/cluster.txt" --node $((i - 1)) \
    >"$run/node.log" 2>&1 </dev/null &
  echo $! >"$run/node.pid"
  i=$((i + 1))
done

for ((t = 0; t < 150; t++)); do
  grep -q "view settled: 2 of 2" "$work/A/node.log" && grep -q "view settled: 2 of 2" "$work/B/node.log" && break
  sleep 0.2
done
grep -q "view settled: 2 of 2" "$work/B/node.log" || fail "the nodes did not see each other through the tunnel"
client="$(node A)"
for address in 198.18.40.11 198.18.40.12; do
  out="$(ip netns exec "$client" memccapable -h "$address" -p 11211 -t 10 2>&1)"
  grep -q "All tests passed" <<<"$out" || { echo "$out" | grep -v pass >&2; fail "memccapable against $address"; }
done
ip netns exec "$client" python3 "$here/pipeline_check.py" 198.18.40.11:11211 198.18.40.12:11211 || fail "pipeline_check"
rx="$(ip netns exec "$(machine B)" ovs-vsctl --db="unix:$work/B/db.sock" get interface vx statistics:rx_packets)"
[[ "$rx" =~ ^[0-9]+$ && "$rx" -gt 100 ]] || fail "the VXLAN port of machine B received $rx packets"
echo "vxlan_check.sh: passed: two machines' bridges joined by VXLAN, one cluster across ($rx packets through the tunnel)"
