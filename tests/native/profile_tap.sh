#!/usr/bin/env bash
# profile_tap.sh IMAGE: `ebbctl profile --native --tap` at 1 and 2 vCPUs.
# On a multi-queue TAP each vCPU has a queue pair, so each core receives the
# frames of its own connections: at 2 vCPUs both cores take frames and
# serve requests, and little crosses cores (on user networking, one queue
# pair, core 0 hands the other core its frames: 0.42 remote frees and 0.18
# cross-core events per request here). Needs root, /dev/net/tun and the
# hosted ebb-loadgen (the release preset's); exits 77 (skipped) without.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
image="$1"
skip() { echo "profile_tap.sh: skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
bin="$root/build/release/bin"
[[ -x "$bin/ebb-loadgen" && -x "$bin/ebb-memcached" ]] || skip "no hosted ebb-loadgen in $bin (build the release preset)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
EBB_PROFILE_BIN="$bin" EBB_PROFILE_IMAGE="$image" "$root/deploy/ebbctl" profile --native --tap --cores 1,2 \
  --duration 2 --out "$out" || { echo "profile_tap.sh: the profile failed"; exit 1; }
python3 - "$out" <<'PY'
import csv, os, sys
out = sys.argv[1]
def fail(message):
    print("profile_tap.sh: " + message)
    sys.exit(1)
rows = {r["cores"]: r for r in csv.DictReader(open(os.path.join(out, "summary.csv")))}
cores = list(csv.DictReader(open(os.path.join(out, "cores.csv"))))
if sorted(rows) != ["1", "2"]:
    fail("points %s, expected 1 and 2" % sorted(rows))
for n, r in rows.items():
    env = open(os.path.join(out, "raw", "point-%s.env" % n)).read()
    if "network=tap, %s queue pairs" % n not in env:
        fail("point %s was not on a TAP with %s queue pairs: %s" % (n, n, env))
    if int(r["requests"]) <= 0 or r["errors"] != "0":
        fail("point %s: %s requests, %s errors" % (n, r["requests"], r["errors"]))
for c in (c for c in cores if c["cores"] == "2"):
    if int(c["packets_in"]) <= 0 or int(c["requests"]) <= 0:
        fail("at 2 vCPUs core %s took %s frames and served %s requests: not its own queue" % (
            c["core"], c["packets_in"], c["requests"]))
two = rows["2"]
remote_frees, cross = float(two["remote_frees_per_request"]), float(two["remote_events_per_request"])
print("profile_tap.sh: at 2 vCPUs %.4f remote frees and %.4f cross-core events per request" % (remote_frees, cross))
if remote_frees >= 0.2 or cross >= 0.05:
    fail("frames cross cores on a queue pair per vCPU (remote frees %.4f, cross-core events %.4f per request)" % (
        remote_frees, cross))
if "tap, 2 queue pairs" not in open(os.path.join(out, "report.md")).read():
    fail("the report does not say the VMs were on a TAP")
PY
