#!/usr/bin/env bash
# vm_tap.sh IMAGE SMP QUEUES READY CLIENT [IMAGE ARGS...]: boots a serving
# native image on a multi-queue TAP in a network namespace of its own, at
# 198.18.4.2/24 (the TAP's kernel side is 198.18.4.1), with QUEUES
# virtio-net queue pairs (mq=on; the console must say the image uses them
# all), and runs CLIENT in the namespace once the console shows READY.
# VNET_HDR=on: QEMU's TAP with the virtio-net header, so that the device
# offers checksum offload and the VM takes it (the console must say so).
# The client reaches the VM at 198.18.4.2. Needs root and /dev/net/tun;
# exits 77 (skipped) without them. Everything it made goes away at the end.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
image="$1" smp="$2" queues="$3" ready="$4" client="$5"
shift 5
ns="ebbvm-$$"

skip() { echo "vm_tap.sh: skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no ip (iproute2)"

cleanup() { ip netns delete "$ns" 2>/dev/null; }
trap cleanup EXIT
fail() { echo "vm_tap.sh: $*" >&2; exit 1; }

ip netns add "$ns" || fail "cannot make a network namespace"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tq0 mode tap multi_queue || fail "cannot make a multi-queue TAP"
ip -n "$ns" addr add 198.18.4.1/24 dev tq0
ip -n "$ns" link set tq0 up

# The TAP goes when the namespace does; QEMU is boot-image's, stopped by it.
ip netns exec "$ns" "$here/../../deploy/boot-image" "$image" --smp "$smp" --timeout 300 \
  --qemu-arg -netdev --qemu-arg "tap,id=n0,ifname=tq0,script=no,downscript=no,vnet_hdr=${VNET_HDR:-off},queues=$queues" \
  --qemu-arg -device --qemu-arg "virtio-net-pci,netdev=n0,mq=on,vectors=$((2 * queues + 2)),romfile=" \
  --ready "$ready" --client "$client" --expect "virtio-net ($queues queue pairs, MSI-X" \
  ${VNET_HDR:+--expect "checksum offload)"} \
  -- --ip=198.18.4.2/24 --queues="$queues" "$@"
