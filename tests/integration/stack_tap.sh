#!/usr/bin/env bash
# stack_tap.sh EBB_ECHO EBB_MEMCACHED: the own TCP/IP stack against Linux's.
#
# A network namespace of its own holds a TAP device whose kernel side is
# 198.18.1.1/24; ebb-echo and then ebb-memcached run there with
# --net=stack on the TAP as 198.18.1.2, and Linux's own tools are their
# peers: ping, 100 MB each way through the echo checked byte for byte, many
# connections at once, UDP, a lease from dnsmasq (--dhcp), and memccapable's
# every ASCII and binary test.
# Needs root, /dev/net/tun and iproute2; exits 77 (skipped) without them.
# Everything it made goes away at the end, whatever happened.
set -u
echo_bin="$1"
memcached_bin="$2"
here="$(cd "$(dirname "$0")" && pwd)"
ns="ebbstk-$$"
work="$(mktemp -d)"
pid=""

skip() { echo "stack_tap.sh: skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v nsenter >/dev/null || skip "no nsenter (util-linux)"

cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  ip netns delete "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "stack_tap.sh: $*" >&2
  for f in "$work"/*.out; do [[ -f "$f" ]] && { echo "--- $f" >&2; cat "$f" >&2; }; done
  exit 1
}
in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns" || fail "cannot make a network namespace"
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev t0 mode tap || fail "cannot make a TAP"
ip -n "$ns" addr add 198.18.1.1/24 dev t0
ip -n "$ns" link set t0 up

# Starts a server in the namespace; waits for its line matching $2.
start() {
  local out="$1" pattern="$2"
  shift 2
  # nsenter execs the server itself, so $pid is the server (ip netns exec forks).
  nsenter --net="/var/run/netns/$ns" "$@" >"$work/$out" 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    grep -q "$pattern" "$work/$out" && return 0
    kill -0 "$pid" 2>/dev/null || fail "$1 exited"
    sleep 0.05
  done
  fail "$1 did not start"
}
stop() {
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  local code=$?
  pid=""
  [[ $code == 0 ]] || fail "exit code $code after SIGTERM"
}

# ---- ebb-echo ----
start echo.out "echoing on port 7" "$echo_bin" --port 7 --cores 2 --net=stack --tap=t0 --ip=198.18.1.2/24
grep -q "own stack on t0, 198.18.1.2/24" "$work/echo.out" || fail "not on the own stack"

if command -v ping >/dev/null; then
  in_ns ping -c 3 -i 0.2 -W 2 198.18.1.2 >"$work/ping.out" || fail "no answer to ping"
  grep -q " 0% packet loss" "$work/ping.out" || fail "ping lost packets"
fi

# 100 MB out and back on one connection, compared byte for byte.
head -c 100M /dev/urandom >"$work/data"
in_ns timeout 120 bash -c "exec 3<>/dev/tcp/198.18.1.2/7 || exit 1
  cat '$work/data' >&3 &
  head -c 104857600 <&3 >'$work/back'
  wait" || fail "the 100 MB echo did not complete"
cmp -s "$work/data" "$work/back" || fail "the 100 MB came back different"

# 64 connections at once, each with its own 256 KiB.
clients=()
for i in $(seq 64); do
  in_ns timeout 60 bash -c "exec 3<>/dev/tcp/198.18.1.2/7 || exit 1
    head -c 262144 '$work/data' | tail -c +$((i * 1000)) >'$work/in.$i'
    cat '$work/in.$i' >&3 &
    head -c \$(stat -c %s '$work/in.$i') <&3 >'$work/out.$i'
    wait" &
  clients+=($!)
done
wait "${clients[@]}"
for i in $(seq 64); do
  cmp -s "$work/in.$i" "$work/out.$i" || fail "connection $i came back different"
done

# UDP: a datagram, and one too big for a frame (fragmented both ways).
reply="$(in_ns timeout 5 bash -c 'exec 4<>/dev/udp/198.18.1.2/7; printf "a datagram" >&4; dd bs=65536 count=1 status=none <&4')"
[[ "$reply" == "a datagram" ]] || fail "udp reply '$reply'"
big="$(head -c 4000 /dev/zero | tr '\0' 'x')"
reply="$(in_ns timeout 5 bash -c "exec 4<>/dev/udp/198.18.1.2/7; printf '$big' >&4; dd bs=65536 count=1 status=none <&4")"
[[ "$reply" == "$big" ]] || fail "the 4000-byte datagram came back as ${#reply} bytes"
stop

# ---- a multi-queue TAP: a queue per core, each read by its own core ----
ip -n "$ns" tuntap add dev t1 mode tap multi_queue || fail "cannot make a multi-queue TAP"
ip -n "$ns" addr add 198.18.2.1/24 dev t1
ip -n "$ns" link set t1 up
start mq.out "echoing on port 7" "$echo_bin" --port 7 --cores 2 --net=stack --tap=t1 --tap-queues=2 --ip=198.18.2.2/24
clients=()
for i in $(seq 16); do
  in_ns timeout 60 bash -c "exec 3<>/dev/tcp/198.18.2.2/7 || exit 1
    head -c 65536 '$work/data' | tail -c +$((i * 100)) >'$work/mq-in.$i'
    cat '$work/mq-in.$i' >&3 &
    head -c \$(stat -c %s '$work/mq-in.$i') <&3 >'$work/mq-out.$i'
    wait" &
  clients+=($!)
done
wait "${clients[@]}"
for i in $(seq 16); do
  cmp -s "$work/mq-in.$i" "$work/mq-out.$i" || fail "multi-queue connection $i came back different"
done
stop

# ---- --dhcp: a lease from Debian's dnsmasq on the host's side ----
if command -v dnsmasq >/dev/null; then
  nsenter --net="/var/run/netns/$ns" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
    --interface=t0 --bind-interfaces --dhcp-range=198.18.1.50,198.18.1.59,255.255.255.0,1h \
    --dhcp-option=3,198.18.1.1 --dhcp-leasefile="$work/leases" --pid-file="$work/dnsmasq.pid" \
    >"$work/dnsmasq.out" 2>&1 &
  dnsmasq_pid=$!
  start dhcp.out "echoing on port 7" "$echo_bin" --port 7 --cores 2 --net=stack --tap=t0 --dhcp
  leased="$(sed -n 's/.*own stack on t0, \(198\.18\.1\.5[0-9]\)\/24 via 198\.18\.1\.1.*/\1/p' "$work/dhcp.out")"
  [[ -n "$leased" ]] || fail "no lease from dnsmasq in the range"
  reply="$(in_ns timeout 10 bash -c "exec 3<>/dev/tcp/$leased/7 && echo over-dhcp >&3 && read -r -t 5 line <&3 && echo \$line")"
  [[ "$reply" == "over-dhcp" ]] || fail "no echo from the leased address $leased ('$reply')"
  grep -q "$leased" "$work/leases" || fail "dnsmasq has no lease for $leased"
  stop
  kill "$dnsmasq_pid" 2>/dev/null
  wait "$dnsmasq_pid" 2>/dev/null
fi

# ---- ebb-memcached: memccapable, every ASCII and binary test ----
if command -v memccapable >/dev/null; then
  start memcached.out "listening on port 11211" "$memcached_bin" -p 11211 -t 2 --net=stack --tap=t0 \
    --ip=198.18.1.2/24 --stats-port 11212
  in_ns timeout 120 memccapable -h 198.18.1.2 -p 11211 -t 10 >"$work/capable.out" 2>&1 \
    || fail "memccapable failed over the own stack"
  grep -q "All tests passed" "$work/capable.out" || fail "memccapable did not report success"
  # The stats endpoint over the own stack: frames counted per core.
  in_ns timeout 120 python3 "$here/stats_check.py" --host 198.18.1.2 --port 11211 --stats-port 11212 \
    --cores 2 --packets || fail "the stats endpoint over the own stack"
  stop
fi
echo "stack_tap.sh: ping, 100 MB each way, 64 connections, UDP, a multi-queue TAP, DHCP, memccapable and the stats endpoint over the own stack: ok"
