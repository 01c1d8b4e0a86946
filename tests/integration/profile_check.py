#!/usr/bin/env python3
"""profile_check.py EBBCTL BIN_DIR: `ebbctl profile` on a tiny sweep (1 and 2
cores, 1 s each) writes a report with every file (the flame graph where perf
samples), and its numbers agree with the load generator's own totals and
the server's counters."""

import csv
import json
import os
import subprocess
import sys
import tempfile


def main():
    ebbctl, bin_dir = sys.argv[1], sys.argv[2]
    out = tempfile.mkdtemp(prefix="ebb-profile-")
    env = dict(os.environ, EBB_PROFILE_BIN=bin_dir)
    subprocess.run([ebbctl, "profile", "--cores", "1,2", "--duration", "1", "--connections", "4", "--out", out],
                   env=env, check=True)
    for name in ("report.md", "summary.csv", "cores.csv", "throughput.png", "efficiency.png", "latency.png",
                 "busy.png"):
        path = os.path.join(out, name)
        assert os.path.getsize(path) > 0, "%s is missing or empty" % name
        if name.endswith(".png"):
            with open(path, "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % name
    with open(os.path.join(out, "summary.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["cores"] for r in rows] == ["1", "2"], rows
    for r in rows:
        with open(os.path.join(out, "raw", "load-%s.json" % r["cores"])) as f:
            load = json.load(f)
        assert int(r["requests"]) == load["requests"] and load["requests"] > 0, (r, load["requests"])
        assert abs(float(r["requests_per_s"]) - load["rate"]) < 1, (r, load["rate"])
        assert r["p99_us"] == str(load["latency_us"]["p99"]), r
        assert float(r["per_core_per_s"]) * int(r["cores"]) == float(r["requests_per_s"]) or \
            abs(float(r["per_core_per_s"]) * int(r["cores"]) - float(r["requests_per_s"])) < 1, r
        assert 0 < float(r["busy_share"]) <= 1, r
        assert float(r["syscalls_per_request"]) > 0, r
    assert rows[0]["efficiency"] == "1.000", rows[0]
    with open(os.path.join(out, "cores.csv")) as f:
        cores = list(csv.DictReader(f))
    assert sorted((c["cores"], c["core"]) for c in cores) == [("1", "0"), ("2", "0"), ("2", "1")], cores
    for r in rows:
        served = sum(int(c["requests"]) for c in cores if c["cores"] == r["cores"])
        # The server counted at least what the load generator completed (and its preload).
        assert served >= int(r["requests"]), (r["cores"], served, r["requests"])
    report = open(os.path.join(out, "report.md")).read()
    for text in ("| 1 |", "| 2 |", "Scaling suspects", "throughput.png", "## CPU profile"):
        assert text in report, text
    # Where perf samples, the largest point's flame graph is there.
    if os.path.exists(os.path.join(out, "raw", "perf.txt")):
        svg = open(os.path.join(out, "flame.svg")).read()
        assert svg.startswith("<svg") and "samples" in svg and "<rect" in svg, svg[:200]
        assert "flame.svg" in report
    print("profile_check: report complete and consistent in", out)
    subprocess.run(["rm", "-rf", out])
    return 0


if __name__ == "__main__":
    sys.exit(main())
