#!/usr/bin/env bash
# memcached.sh EBB_MEMCACHED: ebb-memcached the way a user runs it: TCP and
# UDP on loopback, the connection limit, clients that vanish mid-request, and
# a clean stop on SIGTERM with the per-core summary.
set -u
bin="$1"
out="$(mktemp)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -f "$out"; }
trap cleanup EXIT
fail() { echo "memcached.sh: $*" >&2; cat "$out" >&2; exit 1; }

# A UDP port must be named (-U 0 is off, as in memcached): try a few.
port=""
for _ in $(seq 10); do
  udp=$((20000 + RANDOM % 30000))
  "$bin" -l 127.0.0.1 -p 0 -U "$udp" -t 2 -c 4 >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    port="$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$out")"
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n "$port" ]] && break
  wait "$pid" 2>/dev/null
  pid=""
done
[[ -n "$port" ]] || fail "did not start"
grep -q "and $udp (udp)" "$out" || fail "UDP port not announced"

# TCP: a value in, the same value out.
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
printf 'set greeting 7 0 5\r\nhello\r\n' >&3
IFS= read -r -t 5 reply <&3 || fail "no reply to set"
[[ "$reply" == $'STORED\r' ]] || fail "set: '$reply'"
exec 3<&-

# stats conns: the listener, and this connection (the one asking) with its
# own address, as memcached lists them.
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
printf 'stats conns\r\n' >&3
conns=""
while IFS= read -r -t 5 line <&3; do
  [[ "$line" == $'END\r' ]] && break
  conns+="$line"$'\n'
done
exec 3<&-
grep -q "STAT 0:state conn_listening" <<<"$conns" || fail "no listener in stats conns: $conns"
grep -Eq "STAT [0-9]+:listen_addr tcp:127.0.0.1:$port" <<<"$conns" || fail "no connection in stats conns: $conns"
grep -q "conn_parse_cmd" <<<"$conns" || fail "the asking connection is not conn_parse_cmd: $conns"

# UDP: an 8-byte frame header (request id 0x1234, sequence 0, 1 datagram),
# then the request; the reply carries the same id, sequence 0 of 1.
exec 4<>"/dev/udp/127.0.0.1/$udp" || fail "cannot open udp"
printf '\x12\x34\x00\x00\x00\x01\x00\x00get greeting\r\n' >&4
reply="$(timeout 5 dd bs=65536 count=1 status=none <&4 | od -An -c | tr -s ' \n' ' ')"
expected="$(printf '\x12\x34\x00\x00\x00\x01\x00\x00VALUE greeting 7 5\r\nhello\r\nEND\r\n' | od -An -c | tr -s ' \n' ' ')"
[[ "$reply" == "$expected" ]] || fail "udp reply '$reply', wanted '$expected'"
exec 4<&-

# A client that stops mid-value and goes away, and one that sends garbage:
# the others do not notice.
exec 5<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
printf 'set partial 0 0 100\r\nonly a few bytes' >&5
exec 5<&-
exec 5<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
printf '\x01\x02 garbage \xff\r\n' >&5
IFS= read -r -t 5 reply <&5 || fail "no reply to garbage"
[[ "$reply" == $'ERROR\r' ]] || fail "garbage: '$reply'"
exec 5<&-

# -c 4: four connections held open, the fifth is refused with memcached's words.
for fd in 6 7 8 9; do
  eval "exec $fd<>/dev/tcp/127.0.0.1/$port" || fail "cannot connect ($fd)"
  printf 'version\r\n' >&"$fd"
  IFS= read -r -t 5 reply <&"$fd" || fail "no version reply ($fd)"
done
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
IFS= read -r -t 5 reply <&3 || fail "no refusal"
[[ "$reply" == $'ERROR Too many open connections\r' ]] || fail "refusal: '$reply'"
exec 3<&-
for fd in 6 7 8 9; do eval "exec $fd<&-"; done

# Once they are gone, a new client is served again (the count went down).
ok=""
for _ in $(seq 50); do
  exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
  printf 'get greeting\r\n' >&3
  IFS= read -r -t 5 reply <&3
  exec 3<&-
  [[ "$reply" == $'VALUE greeting 7 5\r' ]] && { ok=1; break; }
  sleep 0.1
done
[[ -n "$ok" ]] || fail "not served after the others closed: '$reply'"

kill -TERM "$pid"
wait "$pid"
code=$?
pid=""
[[ "$code" == 0 ]] || fail "exit code $code after SIGTERM"
grep -q "stopped; per core" "$out" || fail "no per-core summary"
grep -Eq "core 1 +busy" "$out" || fail "no line for core 1"
cat "$out"
