#!/usr/bin/env bash
# echo.sh EBB_ECHO: runs the echo server the way a user does, talks to it over
# TCP and UDP on loopback, and stops it with SIGTERM.
set -u
echo_bin="$1"
out="$(mktemp)"
"$echo_bin" --port 0 --cores 2 >"$out" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null; rm -f "$out"; }
trap cleanup EXIT
fail() { echo "echo.sh: $*" >&2; cat "$out" >&2; exit 1; }

port=""
for _ in $(seq 100); do
  port="$(sed -n 's/.*echoing on port \([0-9]*\).*/\1/p' "$out")"
  [[ -n "$port" ]] && break
  sleep 0.05
done
[[ -n "$port" ]] || fail "no port announced"

# TCP: several connections, each gets its own line back.
for i in 1 2 3 4 5; do
  exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect"
  printf 'line %s over tcp\n' "$i" >&3
  IFS= read -r -t 5 reply <&3 || fail "no tcp reply"
  [[ "$reply" == "line $i over tcp" ]] || fail "tcp reply '$reply'"
  exec 3<&-
done

# UDP: one datagram, one back.
exec 4<>"/dev/udp/127.0.0.1/$port" || fail "cannot open udp"
printf 'a datagram' >&4
# One read of a whole datagram (bash's read would take one byte of it).
reply="$(timeout 5 dd bs=65536 count=1 status=none <&4)" || fail "no udp reply"
[[ "$reply" == "a datagram" ]] || fail "udp reply '$reply'"
exec 4<&-

kill -TERM "$pid"
wait "$pid"
code=$?
[[ "$code" == 0 ]] || fail "exit code $code after SIGTERM"
grep -q "stopped; 5 connections" "$out" || fail "no summary"
cat "$out"
