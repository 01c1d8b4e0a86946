#!/usr/bin/env python3
"""profile_report.py DIR: the report of `ebbctl profile` from DIR/raw.

Reads each point's ebb-loadgen JSON (load-N.json), the server's stats
endpoint (--stats-port) and memcached's `stats cores` before and after the
load (endpoint-N-*.txt, cores-N-*.txt), and the measured system calls, CPU
time and lo packets (point-N.env); with a nodes sweep, each cluster's
nodes the same way (node-M-K-*, nodes-M.env). Writes summary.csv,
cores.csv, nodes.csv, nodes_each.csv, report.md and, when gnuplot is
there, PNG plots; flame.svg from perf's samples.
"""

import csv
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import perf_cores  # noqa: E402  (deploy/perf_cores.py: each core's time by layer)

# Per-core counters summed over a point's cores.
SUMMED = ("events", "remote_events", "remote_sent", "rep_faults", "parks", "allocations", "frees",
          "remote_frees_sent", "remote_frees_received", "packets_in", "packets_out", "syscalls", "malloc_bytes")


def read_stats(path):
    """({core: {counter: value}}, {counter: value}) from STAT lines (memcached's
    `stats cores` or the stats endpoint); ({}, {}) when the file is missing."""
    cores, top = {}, {}
    if not os.path.exists(path):
        return cores, top
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = re.match(r"STAT core(\d+):(\w+) (-?\d+)$", line)
            if m:
                cores.setdefault(int(m.group(1)), {})[m.group(2)] = int(m.group(3))
                continue
            m = re.match(r"STAT (\w+) (-?\d+)$", line)
            if m:
                top[m.group(1)] = int(m.group(2))
    return cores, top


def read_env(path):
    values = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            values[key] = value
    return values


def number(text, default=0.0):
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


def deltas(before_path, after_path):
    """Per-core and top-level differences of two snapshots."""
    before, before_top = read_stats(before_path)
    after, after_top = read_stats(after_path)
    per_core = {}
    for core, a in after.items():
        b = before.get(core, {})
        per_core[core] = {k: a[k] - b.get(k, 0) for k in a}
    top = {k: after_top[k] - before_top.get(k, 0) for k in after_top if k in before_top}
    return per_core, top


def sched_shares(raw, n):
    """Per core: the share of the point's wall time its thread ran on a CPU
    and the share it was runnable but waited for one (/proc schedstat,
    sched-N-before/after.txt); {} where the files are not there."""
    snaps = []
    for when in ("before", "after"):
        path = os.path.join(raw, "sched-%d-%s.txt" % (n, when))
        if not os.path.exists(path):
            return {}
        wall, threads = None, {}
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[0] == "wall":
                    wall = int(parts[1])
                elif len(parts) == 4 and re.match(r"ebb-core-\d+$", parts[0]):
                    threads[int(parts[0][len("ebb-core-"):])] = (int(parts[1]), int(parts[2]))
        snaps.append((wall, threads))
    (w0, t0), (w1, t1) = snaps
    if w0 is None or w1 is None or w1 <= w0:
        return {}
    return {core: ((t1[core][0] - t0[core][0]) / (w1 - w0), (t1[core][1] - t0[core][1]) / (w1 - w0))
            for core in t1 if core in t0}


def sums(per_core):
    """The counters summed over the cores; the endpoint's system calls (reads
    and writes on Linux sockets) as syscalls_ep, apart from perf's count."""
    total = {k: sum(c.get(k, 0) for c in per_core) for k in SUMMED}
    total["syscalls_ep"] = total.pop("syscalls")
    # The C library's malloc bytes: only where the allocator can say.
    if not has(per_core, "malloc_bytes"):
        total["malloc_bytes"] = None
    return total


def has(per_core, key):
    return any(key in c for c in per_core)


def load_points(raw):
    """The cores sweep: hosted points, or native (VM) ones."""
    points = []
    for env_path in glob.glob(os.path.join(raw, "point-*.env")):
        env = read_env(env_path)
        n = int(env["cores"])
        with open(os.path.join(raw, "load-%d.json" % n)) as f:
            load = json.load(f)
        # The files are named cores-N-before.txt and endpoint-N-before.txt.
        per_core, endpoint = merged_cores_files(raw, n)
        shares = sched_shares(raw, n)
        for c in per_core:
            if c["core"] in shares:
                c["on_cpu_share"], c["cpu_wait_share"] = shares[c["core"]]
        point = {
            "kind": env.get("kind", "hosted"),
            "accel": env.get("accel", ""),
            "network": env.get("network", "user networking"),
            "cores": n,
            "rate": load["rate"],
            "requests": load["requests"],
            "errors": load["errors"],
            "latency": load["latency_us"],
            "connections": load.get("connections", ""),
            "pipeline": load.get("pipeline", ""),
            "per_core": per_core,
            "endpoint": endpoint,
            "server_requests": sum(c["requests"] for c in per_core),
            "syscalls": number(env.get("syscalls"), None),
            "syscall_method": env.get("syscall_method", ""),
            "cpu_s": number(env.get("cpu_s"), None),
            "server_cpus": env.get("server_cpus", ""),
            "load_cpus": env.get("load_cpus", ""),
            "shared_cpu": env.get("shared_cpu", "") == "yes",
        }
        point.update(sums(per_core))
        # Packets: the namespace's lo (hosted: every packet of the point
        # once), else the own stack's frames in and out (native).
        lo = env.get("lo_packets", "")
        if lo != "":
            point["packets"] = int(lo)
            point["packets_source"] = "lo"
        elif has(per_core, "packets_in"):
            point["packets"] = point["packets_in"] + point["packets_out"]
            point["packets_source"] = "stack"
        else:
            point["packets"] = None
            point["packets_source"] = ""
        point["has_syscalls_ep"] = has(per_core, "syscalls")
        points.append(point)
    points.sort(key=lambda p: p["cores"])
    return points


def merged_cores_files(raw, n):
    """merged_cores for the sweep's naming: cores-N-before.txt, endpoint-N-after.txt."""
    tmp = {}
    for kind in ("cores", "endpoint"):
        for when in ("before", "after"):
            tmp["%s-%s" % (kind, when)] = os.path.join(raw, "%s-%d-%s.txt" % (kind, n, when))
    mc, _ = deltas(tmp["cores-before"], tmp["cores-after"])
    ep, _ = deltas(tmp["endpoint-before"], tmp["endpoint-after"])
    return _merge(mc, ep)


def _merge(mc, ep):
    """Per-core deltas of `stats cores` (mc) and the endpoint (ep) as one
    row a core; whether the endpoint answered."""
    per_core = []
    for core in sorted(set(mc) | set(ep)):
        delta = dict(mc.get(core, {}))
        delta.update(ep.get(core, {}))
        wall = delta.get("busy_ns", 0) + delta.get("idle_ns", 0)
        delta["busy_share"] = delta.get("busy_ns", 0) / wall if wall > 0 else 0.0
        delta["idle_share"] = delta.get("idle_ns", 0) / wall if wall > 0 else 0.0
        delta["requests"] = delta.get("cmd_get", 0) + delta.get("cmd_set", 0)
        delta["mc_events"] = mc.get(core, {}).get("events", 0)
        delta["core"] = core
        per_core.append(delta)
    return per_core, bool(ep)


def load_latency(raw, points):
    """Latency vs load at the point that has the runs (the largest whose load
    generator had a CPU of its own, else the largest): its open-loop runs
    (rate-N-F.json) and the closed loop's peak, by offered rate; each run
    names the point's cores."""
    measured = [p for p in points if glob.glob(os.path.join(raw, "rate-%d-*.json" % p["cores"]))]
    if not measured:
        return []
    top = measured[-1]
    runs = []
    for path in glob.glob(os.path.join(raw, "rate-%d-*.json" % top["cores"])):
        fraction = float(re.match(r".*rate-\d+-([0-9.]+)\.json$", path).group(1))
        with open(path) as f:
            load = json.load(f)
        runs.append({"fraction": fraction, "offered": load.get("target_rate", 0), "rate": load["rate"],
                     "latency": load["latency_us"], "errors": load["errors"],
                     "lag": load.get("send_lag_us", {}).get("p99"), "cores": top["cores"]})
    if not runs:
        return []
    runs.append({"fraction": 1.0, "offered": 0, "rate": top["rate"], "latency": top["latency"], "errors": top["errors"],
                 "peak": True, "lag": None, "cores": top["cores"]})
    runs.sort(key=lambda r: r["fraction"])
    return runs


def load_nodes(raw):
    """The nodes sweep: one entry per cluster size M, each with its nodes."""
    sweeps = []
    for env_path in glob.glob(os.path.join(raw, "nodes-*.env")):
        env = read_env(env_path)
        m = int(env["nodes"])
        nodes = []
        for k in range(m):
            prefix = os.path.join(raw, "node-%d-%d-" % (m, k))
            with open(prefix + "load.json") as f:
                load = json.load(f)
            mc, _ = deltas(prefix + "cores-before.txt", prefix + "cores-after.txt")
            ep, _ = deltas(prefix + "endpoint-before.txt", prefix + "endpoint-after.txt")
            per_core, _ = _merge(mc, ep)
            _, cluster = deltas(prefix + "cluster-before.txt", prefix + "cluster-after.txt")
            node = {"node": k, "rate": load["rate"], "requests": load["requests"], "errors": load["errors"],
                    "latency": load["latency_us"], "per_core": per_core,
                    "server_requests": sum(c["requests"] for c in per_core),
                    "busy_share": sum(c["busy_share"] for c in per_core) / max(1, len(per_core)),
                    "forwarded": cluster.get("forwarded", 0),
                    "served_for_peers": cluster.get("served_for_peers", 0),
                    "forward_failures": cluster.get("forward_failures", 0)}
            node.update(sums(per_core))
            nodes.append(node)
        sweep = {"nodes": m, "cores_per_node": int(env.get("cores_per_node", "1")), "each": nodes,
                 "rate": sum(n["rate"] for n in nodes), "requests": sum(n["requests"] for n in nodes),
                 "errors": sum(n["errors"] for n in nodes),
                 "server_requests": sum(n["server_requests"] for n in nodes),
                 "p50": weighted(nodes, "p50"), "p99": max(n["latency"]["p99"] for n in nodes),
                 "busy_share": sum(n["busy_share"] for n in nodes) / max(1, len(nodes))}
        for key in tuple(k for k in SUMMED if k != "syscalls") + ("forwarded", "served_for_peers",
                                                                  "forward_failures", "syscalls_ep"):
            # None where no node could count it (malloc bytes off jemalloc).
            known = [n[key] for n in nodes if n.get(key) is not None]
            sweep[key] = sum(known) if known or key != "malloc_bytes" else None
        sweeps.append(sweep)
    sweeps.sort(key=lambda s: s["nodes"])
    return sweeps


def weighted(nodes, field):
    """A latency percentile over the nodes, weighted by each one's requests."""
    total = sum(n["requests"] for n in nodes)
    if total <= 0:
        return 0.0
    return sum(n["latency"][field] * n["requests"] for n in nodes) / total


def per_request(value, requests):
    if value is None:
        return None
    return value / requests if requests else 0.0


def fmt(value, spec):
    """A number for a table or CSV; empty when unknown."""
    return "" if value is None else spec % value


def busy(p):
    return sum(c["busy_share"] for c in p["per_core"]) / max(1, len(p["per_core"]))


def efficiency(p, base_rate, base_cores, key="cores"):
    """Throughput against perfect linear scaling from the smallest point."""
    if base_rate <= 0:
        return 0.0
    return p["rate"] / (base_rate * p[key] / base_cores)


def point_ratios(p):
    """Per-request figures of a point (None: not measured)."""
    req = p["server_requests"]
    return {
        "syscalls": per_request(p["syscalls"], req) if p["syscall_method"] else None,
        "events": per_request(p["events"], req),
        "remote_events": per_request(p["remote_events"], req),
        "allocations": per_request(p["allocations"], req) if has(p["per_core"], "allocations") else None,
        "frees": per_request(p["frees"], req) if has(p["per_core"], "frees") else None,
        "remote_frees": per_request(p["remote_frees_sent"], req) if has(p["per_core"], "remote_frees_sent")
        else None,
        "packets": per_request(p["packets"], req),
        "malloc_bytes": per_request(p["malloc_bytes"], req),
        "endpoint_syscalls": per_request(p["syscalls_ep"], req) if p["has_syscalls_ep"] else None,
    }


SUMMARY_HEADER = ["cores", "requests_per_s", "requests", "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
                  "per_core_per_s", "efficiency", "busy_share", "idle_share", "server_requests",
                  "syscalls_per_request", "events_per_request", "remote_events_per_request",
                  "allocations_per_request", "frees_per_request", "remote_frees_per_request",
                  "packets_per_request", "malloc_bytes_per_request", "server_syscalls_per_request", "rep_faults",
                  "cpu_s", "kind"]
CORES_HEADER = ["cores", "core", "requests", "busy_share", "idle_share", "busy_us_per_request", "events",
                "remote_events", "remote_sent", "rep_faults", "parks", "allocations", "frees", "remote_frees_sent",
                "remote_frees_received", "packets_in", "packets_out", "syscalls", "connections", "on_cpu_share",
                "cpu_wait_share"]


def write_csvs(out, points, base_rate, base_cores):
    with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SUMMARY_HEADER)
        for p in points:
            lat, r = p["latency"], point_ratios(p)
            idle = sum(c["idle_share"] for c in p["per_core"]) / max(1, len(p["per_core"]))
            w.writerow([p["cores"], "%.1f" % p["rate"], p["requests"], p["errors"], lat["p50"], lat["p90"],
                        lat["p99"], lat["p99.9"], lat["max"], "%.1f" % (p["rate"] / p["cores"]),
                        "%.3f" % efficiency(p, base_rate, base_cores), "%.3f" % busy(p), "%.3f" % idle,
                        p["server_requests"], fmt(r["syscalls"], "%.3f"), "%.3f" % r["events"],
                        "%.4f" % r["remote_events"], fmt(r["allocations"], "%.3f"), fmt(r["frees"], "%.3f"),
                        fmt(r["remote_frees"], "%.4f"), fmt(r["packets"], "%.3f"), fmt(r["malloc_bytes"], "%.1f"),
                        fmt(r["endpoint_syscalls"], "%.3f"), p["rep_faults"], fmt(p["cpu_s"], "%.2f"), p["kind"]])
    with open(os.path.join(out, "cores.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CORES_HEADER)
        for p in points:
            for c in p["per_core"]:
                w.writerow([p["cores"], c["core"], c["requests"], "%.3f" % c["busy_share"], "%.3f" % c["idle_share"],
                            fmt(per_request(c.get("busy_ns", 0) / 1000.0, c["requests"]), "%.3f"),
                            c.get("events", 0), c.get("remote_events", 0), c.get("remote_sent", 0),
                            c.get("rep_faults", 0), c.get("parks", 0), c.get("allocations", ""), c.get("frees", ""),
                            c.get("remote_frees_sent", ""), c.get("remote_frees_received", ""),
                            c.get("packets_in", ""), c.get("packets_out", ""), c.get("syscalls", ""),
                            c.get("total_connections", 0), fmt(c.get("on_cpu_share"), "%.3f"),
                            fmt(c.get("cpu_wait_share"), "%.3f")])


def write_nodes_csvs(out, sweeps, base):
    with open(os.path.join(out, "nodes.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["nodes", "cores_per_node", "requests_per_s", "requests", "errors", "per_node_per_s", "efficiency",
                    "p50_us", "p99_us", "busy_share", "server_requests", "forwarded_per_request",
                    "remote_events_per_request", "allocations_per_request", "remote_frees_per_request"])
        for s in sweeps:
            req = s["server_requests"]
            w.writerow([s["nodes"], s["cores_per_node"], "%.1f" % s["rate"], s["requests"], s["errors"],
                        "%.1f" % (s["rate"] / s["nodes"]), "%.3f" % nodes_efficiency(s, base), "%.1f" % s["p50"],
                        s["p99"], "%.3f" % s["busy_share"], req, "%.4f" % per_request(s["forwarded"], req),
                        "%.4f" % per_request(s["remote_events"], req), "%.3f" % per_request(s["allocations"], req),
                        "%.4f" % per_request(s["remote_frees_sent"], req)])
    with open(os.path.join(out, "nodes_each.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["nodes", "node", "requests_per_s", "requests", "errors", "p50_us", "p99_us", "busy_share",
                    "server_requests", "forwarded", "served_for_peers", "forward_failures", "remote_events",
                    "allocations", "remote_frees_sent"])
        for s in sweeps:
            for n in s["each"]:
                w.writerow([s["nodes"], n["node"], "%.1f" % n["rate"], n["requests"], n["errors"], n["latency"]["p50"],
                            n["latency"]["p99"], "%.3f" % n["busy_share"], n["server_requests"], n["forwarded"],
                            n["served_for_peers"], n["forward_failures"], n["remote_events"], n["allocations"],
                            n["remote_frees_sent"]])


def nodes_efficiency(s, base):
    """Against M times the smallest cluster's throughput per node."""
    if not base or base["rate"] <= 0:
        return 0.0
    return s["rate"] / (base["rate"] * s["nodes"] / base["nodes"])


def gnuplot(script):
    result = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if result.returncode != 0:
        return "gnuplot failed: " + result.stderr.strip()[:300]
    return ""


def plot(out, points, base_rate, base_cores, curve):
    if shutil.which("gnuplot") is None:
        return "gnuplot is missing ('deploy/ebbctl setup' installs it): no plots"
    data = os.path.join(out, "raw", "plot.dat")
    # Latency vs load: the largest point's open-loop runs when there are,
    # else each core count at its own peak.
    latency_data = os.path.join(out, "raw", "latency.dat")
    with open(latency_data, "w") as f:
        rows = curve or [{"rate": p["rate"], "latency": p["latency"]} for p in points]
        for r in rows:
            f.write("%.1f %s %s %s\n" % (r["rate"], r["latency"]["p50"], r["latency"]["p99"], r["latency"]["p99.9"]))
    latency_title = ("latency vs load at %d cores (open loop at fractions of the peak, then the peak)" % curve[0]["cores"]
                     if curve else "latency vs load (each core count at its own peak load)")
    with open(data, "w") as f:
        for p in points:
            f.write("%d %.1f %.3f %s %s %s %.3f %.1f\n" % (
                p["cores"], p["rate"], efficiency(p, base_rate, base_cores), p["latency"]["p50"],
                p["latency"]["p99"], p["latency"]["p99.9"], busy(p) * 100, base_rate * p["cores"] / base_cores))
    # Per-core busy share: one line per core, against the sweep's core counts.
    most = max(p["cores"] for p in points)
    busy_data = os.path.join(out, "raw", "busy.dat")
    with open(busy_data, "w") as f:
        for p in points:
            shares = {c["core"]: c["busy_share"] * 100 for c in p["per_core"]}
            f.write("%d %s\n" % (p["cores"], " ".join("%.1f" % shares[c] if c in shares else "NaN"
                                                       for c in range(most))))
    busy_plot = ", ".join('"{b}" using 1:%d with linespoints title "core %d"' % (c + 2, c) for c in range(most))
    script = scaling_plots(out, "", "cores", "ebb-memcached: throughput vs cores", "requests/s", data, 2, 3, 8) + """
set autoscale y
set output "{o}/latency.png"
set title "{lt}"
set xlabel "requests/s"
set xtics autofreq
set ylabel "microseconds"
set logscale y
plot "{l}" using 1:2 with linespoints title "p50", "{l}" using 1:3 with linespoints title "p99", \\
     "{l}" using 1:4 with linespoints title "p99.9"
unset logscale y
set xlabel "cores"
set xtics 1
set output "{o}/busy.png"
set title "busy share per core"
set ylabel "% busy"
set yrange [0:105]
plot "{d}" using 1:7 with linespoints lw 3 dt 2 title "mean", {busy}
""".format(o=out, d=data, l=latency_data, lt=latency_title, busy=busy_plot.format(b=busy_data))
    return gnuplot(script)


def plot_nodes(out, sweeps, base):
    if shutil.which("gnuplot") is None:
        return "gnuplot is missing ('deploy/ebbctl setup' installs it): no plots"
    data = os.path.join(out, "raw", "nodes.dat")
    with open(data, "w") as f:
        for s in sweeps:
            f.write("%d %.1f %.3f %.1f\n" % (s["nodes"], s["rate"], nodes_efficiency(s, base),
                                             base["rate"] * s["nodes"] / base["nodes"]))
    return gnuplot(scaling_plots(out, "nodes_", "nodes", "ebb-memcached cluster: throughput vs nodes",
                                 "requests/s (all nodes)", data, 2, 3, 4))


def scaling_plots(out, prefix, x, title, unit, data, rate, efficiency, linear):
    """gnuplot for PREFIXthroughput.png and PREFIXefficiency.png against x,
    from the columns of `data`: measured rate, efficiency, perfect linear."""
    return """
set terminal pngcairo size 800,500
set grid
set xlabel "{x}"
set xtics 1
set key top left
set output "{o}/{p}throughput.png"
set title "{t}"
set ylabel "{u}"
plot "{d}" using 1:{r} with linespoints lw 2 title "measured", "{d}" using 1:{l} with lines dt 2 title "perfect linear"
set output "{o}/{p}efficiency.png"
set title "scaling efficiency (1.0 = perfect linear)"
set ylabel "efficiency"
set yrange [0:1.2]
plot "{d}" using 1:{e} with linespoints lw 2 title "measured"
""".format(o=out, p=prefix, x=x, t=title, u=unit, d=data, r=rate, e=efficiency, l=linear)


def cell(value, spec):
    return "-" if value is None else spec % value


def why_uneven(top, uneven):
    """What the counters say about why `uneven` cores served less."""
    waits = [c.get("cpu_wait_share") for c in uneven]
    connections = [c.get("total_connections") for c in top["per_core"]]
    if all(w is not None and w >= 0.1 for w in waits):
        return ("Their threads waited for a CPU (%s of the time), so their share of the closed loop's requests "
                "shrank: the CPU is shared, not the work uneven." % ", ".join("%.0f%%" % (w * 100) for w in waits))
    if None not in connections and max(connections) > min(connections) + 1:
        return "Connections were uneven: %s accepted per core." % ", ".join(str(n) for n in connections)
    return "Connections were even (%s per core): the clients of those connections were slower." % ", ".join(
        str(n) for n in connections) if None not in connections else ""


def suspects(points):
    """Lines naming what limits scaling: cross-core traffic, uneven load,
    per-request costs that grow with cores."""
    lines = []
    top = max(points, key=lambda p: p["cores"])
    req = top["server_requests"]
    # Cross-core traffic: events queued on other cores and memory freed on
    # another core than the one that allocated it.
    traffic = lambda c: (c.get("remote_events", 0) + c.get("remote_sent", 0) + c.get("remote_frees_sent", 0)
                         + c.get("remote_frees_received", 0))
    worst = max(top["per_core"], key=traffic) if top["per_core"] else None
    if worst is not None and traffic(worst) > 0:
        lines.append("- **Cross-core traffic** at %d cores is highest on core %d: %d events queued to it by other "
                     "cores, %d it queued elsewhere, %s remote frees sent and %s received (%.4f cross-core events "
                     "and %s remote frees per request overall). Each is a cache line that moves between cores." % (
                         top["cores"], worst["core"], worst.get("remote_events", 0), worst.get("remote_sent", 0),
                         worst.get("remote_frees_sent", "?"), worst.get("remote_frees_received", "?"),
                         per_request(top["remote_events"], req),
                         cell(point_ratios(top)["remote_frees"], "%.4f")))
        by_events = max(top["per_core"], key=lambda c: c.get("remote_events", 0))
        by_frees = max(top["per_core"], key=lambda c: c.get("remote_frees_received", 0))
        if by_events["core"] != by_frees["core"] and by_frees.get("remote_frees_received", 0) > 0:
            lines.append("  Most cross-core events land on core %d, most remote frees on core %d." % (
                by_events["core"], by_frees["core"]))
    else:
        lines.append("- At %d cores no core queued work on another or freed another's memory: nothing crosses "
                     "cores." % top["cores"])
    if top["per_core"]:
        most = max(c["requests"] for c in top["per_core"])
        uneven = [c for c in top["per_core"] if c["requests"] < 0.5 * most]
        if uneven:
            lines.append("- **Uneven load** at %d cores: core(s) %s served less than half of the busiest core's "
                         "requests. %s" % (top["cores"], ", ".join(str(c["core"]) for c in uneven),
                                           why_uneven(top, uneven)))
    waited = [c for c in top["per_core"] if (c.get("cpu_wait_share") or 0) >= 0.1]
    if waited:
        lines.append("- **CPU contention** at %d cores: %s runnable but waiting for a CPU%s." % (
            top["cores"], ", ".join("core %d %.0f%% of the time" % (c["core"], c["cpu_wait_share"] * 100)
                                    for c in waited),
            " (the load generator runs on CPU %s, one of the server's: this machine has no CPU to spare for it)"
            % top["load_cpus"] if top["shared_cpu"] else ""))
    if len(points) > 1:
        first = min(points, key=lambda p: p["cores"])
        a, b = point_ratios(first), point_ratios(top)
        for key, what in (("allocations", "allocations"), ("packets", "packets"), ("syscalls", "system calls"),
                          ("events", "events")):
            if a[key] and b[key] is not None and b[key] > 1.15 * a[key]:
                lines.append("- **%s per request grow** from %.3f at %d core(s) to %.3f at %d: each request costs "
                             "more as cores are added." % (what.capitalize(), a[key], first["cores"], b[key],
                                                           top["cores"]))
        if efficiency(top, first["rate"], first["cores"]) < 0.8:
            lines.append("- Efficiency at %d cores is %.2f of perfect linear." % (
                top["cores"], efficiency(top, first["rate"], first["cores"])))
    return lines


def write_report(out, points, sweeps, plot_note, nodes_note, flame=False, curve=(), core_time=()):
    lines = ["# ebb-memcached: scaling profile", ""]
    if points:
        base_rate, base_cores = points[0]["rate"], points[0]["cores"]
        kind = points[0]["kind"]
        if kind == "native":
            lines.append("Each point: ebb-memcached booted as a VM with N vCPUs (QEMU %s; %s), "
                         "ebb-loadgen on the host in closed loop (its settings in raw/load-N.json); the image's "
                         "stats endpoint and `stats cores` before and after the load. Packets are the own "
                         "stack's frames in and out." % (points[0]["accel"] or "?", "; ".join(
                             "%d vCPU(s): %s" % (p["cores"], p["network"]) for p in points)))
        else:
            lines.append("Each point: ebb-memcached with N cores on loopback%s, ebb-loadgen in closed loop (its "
                         "settings in raw/load-N.json); the server's stats endpoint (--stats-port) and `stats "
                         "cores` before and after the load." % (
                             " in a private network namespace (packets: its lo's count)"
                             if points[0]["packets_source"] == "lo" else ""))
            placed = ["%d core(s) on CPU %s, the load generator on %s%s" % (
                p["cores"], p["server_cpus"], p["load_cpus"], " (shared)" if p["shared_cpu"] else "")
                for p in points if p["server_cpus"]]
            if placed:
                lines[-1] += " CPUs (taskset): %s." % "; ".join(placed)
        lines.append("")
        lines.append("| cores | req/s | req/s per core | efficiency | p50 us | p99 us | p99.9 us | busy | syscalls/req | "
                     "events/req | cross-core events/req | allocations/req | remote frees/req | packets/req |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for p in points:
            lat, r = p["latency"], point_ratios(p)
            lines.append("| %d | %.0f | %.0f | %.2f | %s | %s | %s | %.0f%% | %s | %.2f | %.4f | %s | %s | %s |" % (
                p["cores"], p["rate"], p["rate"] / p["cores"], efficiency(p, base_rate, base_cores), lat["p50"],
                lat["p99"], lat["p99.9"], busy(p) * 100, cell(r["syscalls"], "%.2f"), r["events"],
                r["remote_events"], cell(r["allocations"], "%.2f"), cell(r["remote_frees"], "%.4f"),
                cell(r["packets"], "%.2f")))
        lines.append("")
        notes = ["Efficiency: throughput against perfect linear scaling from the %d-core point." % base_cores]
        notes.append("Per request: over the requests the server counted (`stats cores` cmd_get + cmd_set, preload "
                     "and warm-up included, like the counters).")
        if points[0]["syscall_method"]:
            notes.append("System calls counted by %s." % points[0]["syscall_method"])
        if any(p["malloc_bytes"] is not None for p in points):
            notes.append("Bytes from the C library's malloc per request (the cores' threads, jemalloc's count; the "
                         "Ebb allocator's allocations are the allocations column): %s." % ", ".join(
                             "%s at %d core(s)" % (cell(point_ratios(p)["malloc_bytes"], "%.1f"), p["cores"])
                             for p in points))
        if not all(p["endpoint"] for p in points):
            notes.append("The stats endpoint did not answer at every point: allocations and packets are missing "
                         "there.")
        lines.append(" ".join(notes))
        lines.append("")
        if curve:
            lines.append("## Latency vs load")
            lines.append("")
            lines.append("At %d cores: open-loop runs (Poisson arrivals; latency from each request's intended send "
                         "time) at fractions of the closed loop's peak, and the peak itself: the largest point "
                         "whose load generator had a CPU of its own, where there is one (else its own lag is "
                         "in the latency)." % curve[0]["cores"])
            lines.append("")
            lines.append("| load | req/s | p50 us | p90 us | p99 us | p99.9 us | errors | load generator's send lag p99 us |")
            lines.append("|---|---|---|---|---|---|---|---|")
            for r in curve:
                lat = r["latency"]
                lines.append("| %s | %.0f | %s | %s | %s | %s | %d | %s |" % (
                    "peak (closed loop)" if r.get("peak") else "%.2f x peak" % r["fraction"], r["rate"], lat["p50"],
                    lat["p90"], lat["p99"], lat["p99.9"], r["errors"], "-" if r["lag"] is None else r["lag"]))
            lines.append("")
            lines.append("A large send lag means the load generator itself fell behind its schedule (it shares the "
                         "machine's CPUs with the server), so the latency there is partly its own.")
            lines.append("")
        lines.append("## Where each core's time goes")
        lines.append("")
        lines.append("Busy and idle: the share of the core's wall time in events and waiting for them; busy us/req: "
                     "busy time over the requests the core served. On CPU and waiting for a CPU: the core's "
                     "thread as the kernel's scheduler saw it (/proc schedstat) — a core that waits for a CPU "
                     "looks idle to its own clock. Connections: those it accepted during the point.")
        lines.append("")
        lines.append("| cores | core | requests | busy | idle | on CPU | waiting for a CPU | busy us/req | events | "
                     "cross-core events in | out | allocations | frees | remote frees out | in | packets in | out | "
                     "syscalls | rep faults | connections |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        percent = lambda share: cell(None if share is None else share * 100, "%.0f%%")
        for p in points:
            for c in p["per_core"]:
                lines.append("| %d | %d | %d | %.0f%% | %.0f%% | %s | %s | %s | %d | %d | %d | %s | %s | %s | %s | %s | "
                             "%s | %s | %d | %s |"
                             % (p["cores"], c["core"], c["requests"], c["busy_share"] * 100, c["idle_share"] * 100,
                                percent(c.get("on_cpu_share")), percent(c.get("cpu_wait_share")),
                                cell(per_request(c.get("busy_ns", 0) / 1000.0, c["requests"]), "%.2f"),
                                c.get("events", 0), c.get("remote_events", 0), c.get("remote_sent", 0),
                                c.get("allocations", "-"), c.get("frees", "-"), c.get("remote_frees_sent", "-"),
                                c.get("remote_frees_received", "-"), c.get("packets_in", "-"),
                                c.get("packets_out", "-"), c.get("syscalls", "-"), c.get("rep_faults", 0),
                                c.get("total_connections", "-")))
        lines.append("")
        lines.append("## Scaling suspects")
        lines.append("")
        lines.extend(suspects(points))
        lines.append("")
        lines.append("## Plots")
        lines.append("")
        if plot_note:
            lines.append(plot_note)
        else:
            for name, title in (("throughput", "throughput vs cores"), ("efficiency", "efficiency vs cores"),
                                ("latency", "latency vs load"), ("busy", "busy share per core vs cores")):
                lines.append("![%s](%s.png)" % (title, name))
        lines.append("")
    if sweeps:
        base = sweeps[0]
        lines.append("## Nodes")
        lines.append("")
        lines.append("Each point: an M-node hosted cluster (`ebbctl cluster up --nodes M --cores %d`, a network "
                     "namespace a node on a private Open vSwitch bridge), one ebb-loadgen per node from the client "
                     "namespace with keys spread over the nodes by consistent hashing, so that a node forwards "
                     "the requests for keys it does not own (`stats cluster` forwarded) through the Messenger. "
                     "Efficiency: against M times the %d-node cluster's throughput per node." % (
                         base["cores_per_node"], base["nodes"]))
        lines.append("")
        lines.append("| nodes | req/s | req/s per node | efficiency | p50 us (mean) | p99 us (worst node) | busy | "
                     "forwarded/req | cross-core events/req | allocations/req | remote frees/req |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for s in sweeps:
            req = s["server_requests"]
            lines.append("| %d | %.0f | %.0f | %.2f | %.1f | %s | %.0f%% | %.3f | %.4f | %.2f | %.4f |" % (
                s["nodes"], s["rate"], s["rate"] / s["nodes"], nodes_efficiency(s, base), s["p50"], s["p99"],
                s["busy_share"] * 100, per_request(s["forwarded"], req), per_request(s["remote_events"], req),
                per_request(s["allocations"], req), per_request(s["remote_frees_sent"], req)))
        lines.append("")
        lines.append("| nodes | node | req/s | p50 us | p99 us | busy | forwarded | served for peers |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for s in sweeps:
            for n in s["each"]:
                lines.append("| %d | %d | %.0f | %s | %s | %.0f%% | %d | %d |" % (
                    s["nodes"], n["node"], n["rate"], n["latency"]["p50"], n["latency"]["p99"], n["busy_share"] * 100,
                    n["forwarded"], n["served_for_peers"]))
        lines.append("")
        top = sweeps[-1]
        if len(sweeps) > 1:
            lines.append("Suspects: at %d nodes %.2f of each request is forwarded to its key's owner through the "
                         "Messenger (a round trip over the bridge and a second node's work); efficiency %.2f of "
                         "perfect linear. Every node, its switch and the load generators share this machine's "
                         "CPUs." % (top["nodes"], per_request(top["forwarded"], top["server_requests"]),
                                    nodes_efficiency(top, base)))
            lines.append("")
        if nodes_note:
            lines.append(nodes_note)
        else:
            lines.append("![throughput vs nodes](nodes_throughput.png)")
            lines.append("![efficiency vs nodes](nodes_efficiency.png)")
        lines.append("")
    if points:
        lines.append("## CPU profile")
        lines.append("")
        if flame:
            lines.append("[flame.svg](flame.svg): perf record -e cpu-clock -g of the %d-core point (hover a box for "
                         "its samples)." % points[-1]["cores"])
            if core_time:
                lines.append("")
                lines.append("Where each core's time went at that point, by perf's samples of its thread (a sample "
                             "counts for the first layer its stack names, from the sampled function up; 'epoll' is "
                             "a core asleep waiting for I/O, 'kernel' the system calls' own work):")
                lines.append("")
                lines.extend(core_time)
        elif points[0]["kind"] == "native":
            lines.append("No CPU profile: perf does not sample inside a VM.")
        else:
            lines.append("No CPU profile: perf is missing or may not sample here (raw/perf.err says why).")
        lines.append("")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))


def fold_perf(path):
    """{stack (root first, ';'-joined): samples} from `perf script` text."""
    stacks, frames = {}, []

    def flush():
        if frames:
            key = ";".join(reversed(frames))
            stacks[key] = stacks.get(key, 0) + 1
        frames.clear()

    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                flush()
            elif line[0] in " \t":
                parts = line.split(None, 1)
                name = parts[1].rsplit(" (", 1)[0] if len(parts) > 1 else "?"
                name = re.sub(r"\+0x[0-9a-f]+$", "", name)
                frames.append(name)
    flush()
    return stacks


def flame_svg(out, stacks, title):
    """A flame graph: a box per frame, as wide as its samples, callers below."""
    tree = {"n": 0, "kids": {}}
    for stack, count in stacks.items():
        node = tree
        node["n"] += count
        for frame in stack.split(";"):
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += count
    total = tree["n"]
    if total == 0:
        return False
    width, row = 1200.0, 16
    boxes = []

    def depth(node):
        return 1 + max((depth(k) for k in node["kids"].values()), default=0)

    levels = depth(tree)
    height = levels * row + 40

    def place(node, name, x, level):
        w = width * node["n"] / total
        if w < 0.3:
            return
        y = height - (level + 1) * row - 10
        hue = (zlib.crc32(name.encode()) % 40) + 10  # the same colours every run
        label = name if len(name) * 7 < w else name[: max(0, int(w / 7) - 2)] + (".." if w > 20 else "")
        esc = lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        boxes.append('<g><title>%s (%d samples, %.1f%%)</title><rect x="%.1f" y="%d" width="%.1f" height="%d" '
                     'fill="hsl(%d,90%%,60%%)" stroke="white" stroke-width="0.5"/><text x="%.1f" y="%d" '
                     'font-size="11" font-family="monospace">%s</text></g>' % (
                         esc(name), node["n"], 100.0 * node["n"] / total, x, y, w, row, hue, x + 2, y + 12,
                         esc(label)))
        for kid_name, kid in sorted(node["kids"].items()):
            place(kid, kid_name, x, level + 1)
            x += width * kid["n"] / total

    place(tree, "all", 0.0, 0)
    with open(os.path.join(out, "flame.svg"), "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">' % (width, height))
        f.write('<text x="10" y="20" font-size="14" font-family="sans-serif">%s (%d samples)</text>' % (title,
                                                                                                       total))
        f.write("".join(boxes))
        f.write("</svg>\n")
    return True


def main():
    out = sys.argv[1]
    raw = os.path.join(out, "raw")
    points = load_points(raw)
    sweeps = load_nodes(raw)
    if not points and not sweeps:
        print("profile_report.py: no points in %s/raw" % out, file=sys.stderr)
        return 1
    note = nodes_note = ""
    flame, curve, core_time = False, [], []
    if points:
        base_rate, base_cores = points[0]["rate"], points[0]["cores"]
        write_csvs(out, points, base_rate, base_cores)
        curve = load_latency(raw, points)
        note = plot(out, points, base_rate, base_cores, curve)
        perf_text = os.path.join(raw, "perf.txt")
        flame = os.path.exists(perf_text) and flame_svg(
            out, fold_perf(perf_text), "ebb-memcached at %d cores: where CPU time went" % points[-1]["cores"])
        if flame:
            core_time = perf_cores.markdown(perf_cores.read(perf_text))
    if sweeps:
        write_nodes_csvs(out, sweeps, sweeps[0])
        nodes_note = plot_nodes(out, sweeps, sweeps[0])
    write_report(out, points, sweeps, note, nodes_note, flame, curve, core_time)
    return 0


if __name__ == "__main__":
    sys.exit(main())
