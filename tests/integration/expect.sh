#!/usr/bin/env bash
# expect.sh CODE REGEX COMMAND [ARGS...]: runs COMMAND and passes when it exits
# with CODE and its output (stdout and stderr, as one text) matches the
# extended REGEX.
set -u
want_code="$1" pattern="$2"
shift 2
output="$("$@" 2>&1)"
code=$?
printf '%s\n' "$output"
if [[ "$code" != "$want_code" ]]; then
  echo "expect.sh: exit code $code, wanted $want_code: $*" >&2
  exit 1
fi
if ! grep -Ezq -- "$pattern" <<<"$output"; then
  echo "expect.sh: output does not match /$pattern/: $*" >&2
  exit 1
fi
