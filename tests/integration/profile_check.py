#!/usr/bin/env python3
"""profile_check.py EBBCTL BIN_DIR [--nodes]: `ebbctl profile` on a tiny sweep
(1 and 2 cores, 1 s each) writes a report with every file (the flame graph
where perf samples), and its numbers agree with the load generator's own
totals and the server's counters: `stats cores` and the stats endpoint
(--stats-port), read before and after each point.

--nodes: the nodes sweep instead (--nodes 1,2 --duration 1: hosted
clusters on Open vSwitch; root only, exit 77 without what it needs)."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


def read_stats(path):
    """{core: {counter: value}} of a STAT snapshot."""
    cores = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"STAT core(\d+):(\w+) (\d+)$", line.strip())
            if m:
                cores.setdefault(int(m.group(1)), {})[m.group(2)] = int(m.group(3))
    return cores


def delta(raw, kind, n, core, counter):
    before = read_stats(os.path.join(raw, "%s-%s-before.txt" % (kind, n)))
    after = read_stats(os.path.join(raw, "%s-%s-after.txt" % (kind, n)))
    return after[core][counter] - before.get(core, {}).get(counter, 0)


def check_png(path):
    assert os.path.getsize(path) > 0, "%s is missing or empty" % path
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path


def check_cores(out, connections, pipeline):
    raw = os.path.join(out, "raw")
    for name in ("report.md", "summary.csv", "cores.csv", "throughput.png", "efficiency.png", "latency.png",
                 "busy.png"):
        path = os.path.join(out, name)
        assert os.path.getsize(path) > 0, "%s is missing or empty" % name
        if name.endswith(".png"):
            check_png(path)
    with open(os.path.join(out, "summary.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["cores"] for r in rows] == ["1", "2"], rows
    for r in rows:
        n = r["cores"]
        with open(os.path.join(raw, "load-%s.json" % n)) as f:
            load = json.load(f)
        assert int(r["requests"]) == load["requests"] and load["requests"] > 0, (r, load["requests"])
        assert abs(float(r["requests_per_s"]) - load["rate"]) < 1, (r, load["rate"])
        assert r["p99_us"] == str(load["latency_us"]["p99"]), r
        assert abs(float(r["per_core_per_s"]) * int(n) - float(r["requests_per_s"])) < 1, r
        assert 0 < float(r["busy_share"]) <= 1, r
        assert abs(float(r["busy_share"]) + float(r["idle_share"]) - 1) < 0.01, r
        assert float(r["syscalls_per_request"]) > 0, r
        # The server counted at least what the load generator completed (and its preload).
        requests = int(r["server_requests"])
        assert requests >= load["requests"], (r, load["requests"])
        # The stats endpoint's columns: every one there and plausible.
        for column in ("allocations_per_request", "frees_per_request", "remote_frees_per_request",
                       "events_per_request"):
            assert r[column] != "" and float(r[column]) >= 0, (column, r)
        assert float(r["events_per_request"]) > 0, r
        # Each request crosses lo in a packet, D at most in one (D in flight
        # on a connection), and an exchange takes a few packets at most.
        if r["packets_per_request"] != "":
            packets = float(r["packets_per_request"])
            assert 1.0 / pipeline <= packets <= 6, ("packets per request", packets, r)
            with open(os.path.join(raw, "point-%s.env" % n)) as f:
                lo = int(re.search(r"lo_packets=(\d+)", f.read()).group(1))
            assert abs(lo / requests - packets) < 0.001, (lo, requests, packets)
        else:
            assert os.getuid() != 0, "root, yet no packet count (no network namespace?)"
        if r["server_syscalls_per_request"] != "":
            assert float(r["server_syscalls_per_request"]) > 0, r
    assert rows[0]["efficiency"] == "1.000", rows[0]
    with open(os.path.join(out, "cores.csv")) as f:
        cores = list(csv.DictReader(f))
    assert sorted((c["cores"], c["core"]) for c in cores) == [("1", "0"), ("2", "0"), ("2", "1")], cores
    for r in rows:
        n = r["cores"]
        mine = [c for c in cores if c["cores"] == n]
        assert sum(int(c["requests"]) for c in mine) == int(r["server_requests"]), (n, mine, r)
        events = 0
        for c in mine:
            core = int(c["core"])
            # The endpoint's counts (read around `stats cores`) are the ones in
            # the CSV, and they hold at least what `stats cores` saw between.
            assert int(c["events"]) == delta(raw, "endpoint", n, core, "events"), c
            assert int(c["events"]) >= delta(raw, "cores", n, core, "events"), c
            assert int(c["allocations"]) == delta(raw, "endpoint", n, core, "allocations"), c
            assert int(c["requests"]) == delta(raw, "cores", n, core, "cmd_get") + \
                delta(raw, "cores", n, core, "cmd_set"), c
            events += int(c["events"])
            # The scheduler's view of the core's thread: shares of the point's wall time.
            on_cpu, waiting = float(c["on_cpu_share"]), float(c["cpu_wait_share"])
            assert 0 < on_cpu <= 1.05 and 0 <= waiting and on_cpu + waiting <= 1.1, c
        with open(os.path.join(raw, "point-%s.env" % n)) as f:
            env = dict(line.strip().split("=", 1) for line in f if "=" in line)
        server, load = set(env["server_cpus"].split(",")), set(env["load_cpus"].split(","))
        assert len(server) == min(int(n), len(os.sched_getaffinity(0))) and load, env
        assert (env["shared_cpu"] == "no") == server.isdisjoint(load), env  # apart where a CPU is spare
        # Every request came in through an event; pipelined ones share one.
        assert events * pipeline >= int(r["requests"]) / connections, (n, events, r["requests"])
        assert abs(events / int(r["server_requests"]) - float(r["events_per_request"])) < 0.001, (events, r)
        allocations = sum(int(c["allocations"]) for c in mine)
        assert abs(allocations / int(r["server_requests"]) - float(r["allocations_per_request"])) < 0.001, r
        remote_frees = sum(int(c["remote_frees_sent"]) for c in mine)
        assert abs(remote_frees / int(r["server_requests"]) - float(r["remote_frees_per_request"])) < 0.0001, r
        if n == "1":  # one core: nothing to free elsewhere
            assert remote_frees == 0 and r["remote_events_per_request"] == "0.0000", r
    report = open(os.path.join(out, "report.md")).read()
    for text in ("| 1 |", "| 2 |", "Scaling suspects", "throughput.png", "## CPU profile", "Where each core's time goes",
                 "allocations/req", "remote frees/req", "packets/req", "Latency vs load", "CPUs (taskset)",
                 "waiting for a CPU"):
        assert text in report, text
    # Latency vs load at the largest point whose load generator has a CPU of
    # its own (1 core on 2 CPUs), else the largest: the open-loop runs there only.
    spare = [n for n in (1, 2) if n < len(os.sched_getaffinity(0))]
    curve = max(spare) if spare else 2
    runs = [name for name in os.listdir(raw) if re.match(r"rate-\d+-[0-9.]+\.json$", name)]
    assert len(runs) >= 3 and all(name.startswith("rate-%d-" % curve) for name in runs), runs
    assert "Latency vs load\n\nAt %d cores" % curve in report, "the curve's point"
    # Where perf samples, the largest point's flame graph is there.
    if os.path.exists(os.path.join(raw, "perf.txt")):
        svg = open(os.path.join(out, "flame.svg")).read()
        assert svg.startswith("<svg") and "samples" in svg and "<rect" in svg, svg[:200]
        assert "flame.svg" in report


def check_nodes(out):
    raw = os.path.join(out, "raw")
    for name in ("report.md", "nodes.csv", "nodes_each.csv", "nodes_throughput.png", "nodes_efficiency.png"):
        assert os.path.getsize(os.path.join(out, name)) > 0, "%s is missing or empty" % name
    check_png(os.path.join(out, "nodes_throughput.png"))
    assert not os.path.exists(os.path.join(out, "summary.csv")), "--nodes alone sweeps no cores"
    with open(os.path.join(out, "nodes.csv")) as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out, "nodes_each.csv")) as f:
        each = list(csv.DictReader(f))
    assert [r["nodes"] for r in rows] == ["1", "2"], rows
    assert rows[0]["efficiency"] == "1.000", rows[0]
    for r in rows:
        m = int(r["nodes"])
        mine = [e for e in each if e["nodes"] == r["nodes"]]
        assert [int(e["node"]) for e in mine] == list(range(m)), mine
        total = 0
        for e in mine:
            with open(os.path.join(raw, "node-%d-%s-load.json" % (m, e["node"]))) as f:
                load = json.load(f)
            assert load["requests"] > 0 and int(e["requests"]) == load["requests"], (e, load["requests"])
            assert load["errors"] == 0, (e, load)
            total += load["requests"]
        assert int(r["requests"]) == total, (r, total)
        assert int(r["server_requests"]) >= total, r
        assert 0 < float(r["busy_share"]) <= 1, r
        forwarded = float(r["forwarded_per_request"])
        if m == 1:
            assert forwarded == 0, r  # one node owns every key
        else:
            # Keys spread by consistent hashing: about (M-1)/M of them live elsewhere.
            assert 0.1 < forwarded <= 1, r
    report = open(os.path.join(out, "report.md")).read()
    for text in ("## Nodes", "forwarded/req", "nodes_throughput.png"):
        assert text in report, text


def main():
    ebbctl, bin_dir = sys.argv[1], sys.argv[2]
    nodes = "--nodes" in sys.argv[3:]
    if nodes:
        if os.getuid() != 0:
            print("profile_check: skipped: --nodes needs root")
            return 77
        for tool in ("ip", "ovs-vswitchd", "ovsdb-server"):
            if shutil.which(tool) is None:
                print("profile_check: skipped: no %s" % tool)
                return 77
        if not os.path.exists("/dev/net/tun"):
            print("profile_check: skipped: no /dev/net/tun")
            return 77
    out = tempfile.mkdtemp(prefix="ebb-profile-")
    env = dict(os.environ, EBB_PROFILE_BIN=bin_dir)
    connections, pipeline = 4, 4
    if nodes:
        # 3 s a point: a node's 1-s stall once seen under a loaded machine
        # (raw/nodes-M-logs.txt; the profile warns of one) leaves requests.
        args = ["--nodes", "1,2", "--duration", "3"]
    else:
        args = ["--cores", "1,2", "--duration", "1"]
    subprocess.run([ebbctl, "profile"] + args + ["--connections", str(connections), "--pipeline",
                                                 str(pipeline), "--out", out], env=env, check=True)
    # Nothing of the profile stays behind: its namespace, its cluster.
    if os.getuid() == 0:
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert "ebbprof-" not in namespaces, namespaces
    if nodes:
        assert not os.path.exists("/run/ebbkit-cluster/prof"), "the profile's cluster is still up"
        check_nodes(out)
    else:
        check_cores(out, connections, pipeline)
    print("profile_check: report complete and consistent in", out)
    subprocess.run(["rm", "-rf", out])
    return 0


if __name__ == "__main__":
    sys.exit(main())
