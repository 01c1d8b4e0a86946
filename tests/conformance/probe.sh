#!/usr/bin/env bash
# probe.sh PORT CASES_FILE: sends each case (a printf format, one per line;
# blank lines and lines starting with '#' are skipped) on a connection of its
# own, then "quit\r\n", and prints the case and everything that came back on
# one line, with \r and \n written out. The CAS of "VALUE key flags bytes
# CAS" lines is masked: it differs between servers and runs.
set -euo pipefail
port="$1"
cases="$2"
while IFS= read -r request || [[ -n "$request" ]]; do
  [[ -z "$request" || "$request" == \#* ]] && continue
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf -- "$request"'quit\r\n' >&3
  reply="$( (timeout 2 cat <&3 || true) | sed -z 's/\r/\\r/g; s/\n/\\n/g')"
  exec 3<&-
  reply="$(sed -E 's/(VALUE [^ ]+ [0-9]+ [0-9]+) [0-9]+\\r/\1 CAS\\r/g' <<<"$reply")"
  printf '%s => %s\n' "$request" "$reply"
done <"$cases"
