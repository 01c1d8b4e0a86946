#!/usr/bin/env python3
"""profile_report.py DIR: the report of `ebbctl profile` from DIR/raw.

Reads each point's ebb-loadgen JSON (load-N.json), the server's `stats
cores` before and after the load (cores-N-before.txt, cores-N-after.txt)
and the measured system calls and CPU time (point-N.env); writes
summary.csv, cores.csv, report.md and, when gnuplot is there, PNG plots.
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


def read_cores(path):
    """{core: {counter: value}} from `stats cores` lines."""
    cores = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"STAT core(\d+):(\w+) (-?\d+)", line.strip())
            if m:
                cores.setdefault(int(m.group(1)), {})[m.group(2)] = int(m.group(3))
    return cores


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


def load_points(raw):
    points = []
    for env_path in glob.glob(os.path.join(raw, "point-*.env")):
        env = read_env(env_path)
        n = int(env["cores"])
        with open(os.path.join(raw, "load-%d.json" % n)) as f:
            load = json.load(f)
        before = read_cores(os.path.join(raw, "cores-%d-before.txt" % n))
        after = read_cores(os.path.join(raw, "cores-%d-after.txt" % n))
        per_core = []
        for core in sorted(after):
            a, b = after[core], before.get(core, {})
            delta = {k: a[k] - b.get(k, 0) for k in a}
            wall = delta.get("busy_ns", 0) + delta.get("idle_ns", 0)
            delta["busy_share"] = delta.get("busy_ns", 0) / wall if wall > 0 else 0.0
            delta["requests"] = delta.get("cmd_get", 0) + delta.get("cmd_set", 0)
            delta["core"] = core
            per_core.append(delta)
        requests = load["requests"]
        server_requests = sum(c["requests"] for c in per_core)
        points.append({
            "cores": n,
            "rate": load["rate"],
            "requests": requests,
            "errors": load["errors"],
            "latency": load["latency_us"],
            "per_core": per_core,
            "server_requests": server_requests,
            "syscalls": number(env.get("syscalls")),
            "syscall_method": env.get("syscall_method", ""),
            "cpu_s": number(env.get("cpu_s")),
            "events": sum(c.get("events", 0) for c in per_core),
            "remote_events": sum(c.get("remote_events", 0) for c in per_core),
            "rep_faults": sum(c.get("rep_faults", 0) for c in per_core),
            "parks": sum(c.get("parks", 0) for c in per_core),
        })
    points.sort(key=lambda p: p["cores"])
    return points


def per_request(value, requests):
    return value / requests if requests else 0.0


def write_csvs(out, points, base_rate, base_cores):
    with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cores", "requests_per_s", "requests", "errors", "p50_us", "p90_us", "p99_us", "p999_us",
                    "max_us", "per_core_per_s", "efficiency", "busy_share", "syscalls_per_request",
                    "events_per_request", "remote_events_per_request", "rep_faults", "cpu_s"])
        for p in points:
            lat = p["latency"]
            busy = sum(c["busy_share"] for c in p["per_core"]) / max(1, len(p["per_core"]))
            w.writerow([p["cores"], "%.1f" % p["rate"], p["requests"], p["errors"], lat["p50"], lat["p90"],
                        lat["p99"], lat["p99.9"], lat["max"], "%.1f" % (p["rate"] / p["cores"]),
                        "%.3f" % efficiency(p, base_rate, base_cores), "%.3f" % busy,
                        "%.3f" % per_request(p["syscalls"], p["server_requests"]),
                        "%.3f" % per_request(p["events"], p["server_requests"]),
                        "%.4f" % per_request(p["remote_events"], p["server_requests"]), p["rep_faults"],
                        "%.2f" % p["cpu_s"]])
    with open(os.path.join(out, "cores.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cores", "core", "requests", "busy_share", "events", "remote_events", "remote_sent",
                    "rep_faults", "parks", "connections"])
        for p in points:
            for c in p["per_core"]:
                w.writerow([p["cores"], c["core"], c["requests"], "%.3f" % c["busy_share"], c.get("events", 0),
                            c.get("remote_events", 0), c.get("remote_sent", 0), c.get("rep_faults", 0),
                            c.get("parks", 0), c.get("total_connections", 0)])


def efficiency(p, base_rate, base_cores):
    """Throughput against perfect linear scaling from the smallest point."""
    if base_rate <= 0:
        return 0.0
    return p["rate"] / (base_rate * p["cores"] / base_cores)


def plot(out, points, base_rate, base_cores):
    if shutil.which("gnuplot") is None:
        return "gnuplot is missing ('deploy/ebbctl setup' installs it): no plots"
    data = os.path.join(out, "raw", "plot.dat")
    with open(data, "w") as f:
        for p in points:
            busy = sum(c["busy_share"] for c in p["per_core"]) / max(1, len(p["per_core"]))
            f.write("%d %.1f %.3f %s %s %s %.3f %.1f\n" % (
                p["cores"], p["rate"], efficiency(p, base_rate, base_cores), p["latency"]["p50"],
                p["latency"]["p99"], p["latency"]["p99.9"], busy * 100, base_rate * p["cores"] / base_cores))
    script = """
set terminal pngcairo size 800,500
set grid
set xlabel "cores"
set xtics 1
set key top left
set output "{o}/throughput.png"
set title "ebb-memcached: throughput vs cores"
set ylabel "requests/s"
plot "{d}" using 1:2 with linespoints lw 2 title "measured", "{d}" using 1:8 with lines dt 2 title "perfect linear"
set output "{o}/efficiency.png"
set title "scaling efficiency (1.0 = perfect linear)"
set ylabel "efficiency"
set yrange [0:1.2]
plot "{d}" using 1:3 with linespoints lw 2 title "measured"
set autoscale y
set output "{o}/latency.png"
set title "latency vs cores (each point at its own peak load)"
set ylabel "microseconds"
plot "{d}" using 1:4 with linespoints title "p50", "{d}" using 1:5 with linespoints title "p99", \\
     "{d}" using 1:6 with linespoints title "p99.9"
set output "{o}/busy.png"
set title "busy share per core (mean over the cores)"
set ylabel "% busy"
set yrange [0:105]
plot "{d}" using 1:7 with linespoints lw 2 title "busy"
""".format(o=out, d=data)
    result = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if result.returncode != 0:
        return "gnuplot failed: " + result.stderr.strip()[:300]
    return ""


def write_report(out, points, base_rate, base_cores, plot_note, flame=False):
    lines = ["# ebb-memcached: scaling profile", ""]
    lines.append("Each point: ebb-memcached with N cores on loopback, ebb-loadgen in closed loop "
                 "(its own settings in raw/load-N.json), the server's `stats cores` before and after.")
    lines.append("")
    lines.append("| cores | req/s | req/s per core | efficiency | p50 us | p99 us | p99.9 us | busy | syscalls/req | "
                 "events/req | cross-core events/req |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for p in points:
        lat = p["latency"]
        busy = sum(c["busy_share"] for c in p["per_core"]) / max(1, len(p["per_core"]))
        lines.append("| %d | %.0f | %.0f | %.2f | %s | %s | %s | %.0f%% | %.2f | %.2f | %.4f |" % (
            p["cores"], p["rate"], p["rate"] / p["cores"], efficiency(p, base_rate, base_cores), lat["p50"],
            lat["p99"], lat["p99.9"], busy * 100, per_request(p["syscalls"], p["server_requests"]),
            per_request(p["events"], p["server_requests"]),
            per_request(p["remote_events"], p["server_requests"])))
    lines.append("")
    lines.append("Efficiency: throughput against perfect linear scaling from the %d-core point. "
                 "System calls counted by %s." % (base_cores, points[0]["syscall_method"] or "?"))
    lines.append("")
    lines.append("## Where each core's time goes")
    lines.append("")
    lines.append("| cores | core | requests | busy | events | cross-core events in | sent | rep faults |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for p in points:
        for c in p["per_core"]:
            lines.append("| %d | %d | %d | %.0f%% | %d | %d | %d | %d |" % (
                p["cores"], c["core"], c["requests"], c["busy_share"] * 100, c.get("events", 0),
                c.get("remote_events", 0), c.get("remote_sent", 0), c.get("rep_faults", 0)))
    lines.append("")
    lines.append("## Scaling suspects")
    lines.append("")
    top = max(points, key=lambda p: p["cores"])
    suspects = sorted(top["per_core"], key=lambda c: c.get("remote_events", 0) + c.get("remote_sent", 0),
                      reverse=True)
    worst = suspects[0] if suspects else None
    if worst is not None and worst.get("remote_events", 0) + worst.get("remote_sent", 0) > 0:
        lines.append("At %d cores the most cross-core traffic is on core %d: %d events queued to it by other "
                     "cores and %d it queued elsewhere (%.4f per request overall). Cross-core events are "
                     "remote frees, remote spawns and wake-ups: each is a cache line that moves." % (
                         top["cores"], worst["core"], worst.get("remote_events", 0), worst.get("remote_sent", 0),
                         per_request(top["remote_events"], top["server_requests"])))
    else:
        lines.append("At %d cores no core queued work on another: nothing crosses cores." % top["cores"])
    uneven = [c for c in top["per_core"] if top["per_core"] and c["requests"] <
              0.5 * max(x["requests"] for x in top["per_core"])]
    if uneven:
        lines.append("")
        lines.append("Uneven load at %d cores: core(s) %s served less than half of the busiest core's "
                     "requests (connections spread by the kernel's SO_REUSEPORT hash)." % (
                         top["cores"], ", ".join(str(c["core"]) for c in uneven)))
    lines.append("")
    lines.append("## Plots")
    lines.append("")
    if plot_note:
        lines.append(plot_note)
    else:
        for name, title in (("throughput", "throughput vs cores"), ("efficiency", "efficiency vs cores"),
                            ("latency", "latency vs cores"), ("busy", "busy share vs cores")):
            lines.append("![%s](%s.png)" % (title, name))
    lines.append("")
    lines.append("## CPU profile")
    lines.append("")
    if flame:
        lines.append("[flame.svg](flame.svg): perf record -e cpu-clock -g of the %d-core point (hover a box for "
                     "its samples)." % points[-1]["cores"])
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
    points = load_points(os.path.join(out, "raw"))
    if not points:
        print("profile_report.py: no points in %s/raw" % out, file=sys.stderr)
        return 1
    base_rate, base_cores = points[0]["rate"], points[0]["cores"]
    write_csvs(out, points, base_rate, base_cores)
    note = plot(out, points, base_rate, base_cores)
    perf_text = os.path.join(out, "raw", "perf.txt")
    flame = os.path.exists(perf_text) and flame_svg(
        out, fold_perf(perf_text), "ebb-memcached at %d cores: where CPU time went" % points[-1]["cores"])
    write_report(out, points, base_rate, base_cores, note, flame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
