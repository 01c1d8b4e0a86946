#!/usr/bin/env bash
# vm_ovs.sh IMAGE READY CLIENT [IMAGE ARGS...]: boots a serving native image
# on a TAP plugged into a private Open vSwitch bridge (userspace datapath,
# every daemon's state in one run directory), at its own address
# 198.18.6.2/24; a namespace joins the bridge through a veth as
# 198.18.6.1, and CLIENT runs there once the console shows READY.
# Needs root, /dev/net/tun and Open vSwitch; exits 77 (skipped) without them.
# Everything it made goes away at the end: the daemons (by their pid
# files), the bridge, the TAP, the veth, the namespace, the run directory.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
image="$1" ready="$2" client="$3"
shift 3
id=$$
ns="ebbovs-$id" br="eb$id" tap="et$id" vh="ev${id}h" vn="ev${id}n"

skip() { echo "vm_ovs.sh: skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
for tool in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ip ethtool; do
  command -v "$tool" >/dev/null || skip "no $tool (deploy/ebbctl setup installs it)"
done

run="$(mktemp -d)"
export OVS_RUNDIR="$run" OVS_LOGDIR="$run" OVS_DBDIR="$run"
vsctl() { ovs-vsctl --db="unix:$run/db.sock" --timeout=10 "$@"; }
cleanup() {
  vsctl --if-exists del-br "$br" 2>/dev/null
  for daemon in vswitchd ovsdb; do
    [[ -f "$run/$daemon.pid" ]] && kill "$(cat "$run/$daemon.pid")" 2>/dev/null
  done
  ip link del "$vh" 2>/dev/null
  ip link del "$tap" 2>/dev/null
  ip netns delete "$ns" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT
fail() {
  echo "vm_ovs.sh: $*" >&2
  tail -5 "$run"/*.log >&2 2>/dev/null
  exit 1
}

ovsdb-tool create "$run/conf.db" /usr/share/openvswitch/vswitch.ovsschema || fail "ovsdb-tool create failed"
ovsdb-server "$run/conf.db" --remote="punix:$run/db.sock" --pidfile="$run/ovsdb.pid" --detach \
  -vconsole:off --log-file="$run/ovsdb.log" || fail "ovsdb-server did not start"
vsctl --no-wait init || fail "ovs-vsctl init failed"
# --disable-system: the userspace datapath only; without it vswitchd would
# delete kernel datapaths its database does not name (a host's own OVS).
ovs-vswitchd "unix:$run/db.sock" --disable-system --disable-system-route --pidfile="$run/vswitchd.pid" \
  --detach -vconsole:off \
  --log-file="$run/vswitchd.log" \
  || fail "ovs-vswitchd did not start"
vsctl add-br "$br" -- set bridge "$br" datapath_type=netdev || fail "cannot add the bridge"
ip link set "$br" up 2>/dev/null

# The VM's cable: a TAP in the bridge (QEMU attaches to it by name).
ip tuntap add dev "$tap" mode tap || fail "cannot make a TAP"
ip link set "$tap" up
vsctl add-port "$br" "$tap" || fail "cannot add the TAP to the bridge"

# The client's: a namespace on a veth in the bridge, checksum offload off
# (the userspace datapath does not finish checksums).
ip netns add "$ns" || fail "cannot make a network namespace"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add "$vh" type veth peer name "$vn" || fail "cannot make a veth pair"
ip link set "$vn" netns "$ns"
ip link set "$vh" up
vsctl add-port "$br" "$vh" || fail "cannot add the veth to the bridge"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 198.18.6.1/24 dev "$vn"
ip -n "$ns" link set "$vn" up
ip netns exec "$ns" ethtool -K "$vn" tx off >/dev/null 2>&1

"$here/../../deploy/boot-image" "$image" --smp 2 --timeout 300 \
  --qemu-arg -netdev --qemu-arg "tap,id=n0,ifname=$tap,script=no,downscript=no,vnet_hdr=off" \
  --qemu-arg -device --qemu-arg "virtio-net-pci,netdev=n0,romfile=" \
  --ready "$ready" --client "ip netns exec $ns bash -c '$client'" --expect "198.18.6.2/24" \
  -- --ip=198.18.6.2/24 "$@"
