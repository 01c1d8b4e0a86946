#include "apps/loadgen/report.h"

#include <cinttypes>

namespace ebb::loadgen {

RunResult merge(const std::vector<CoreSnapshot>& cores, double target_rate, double duration_s) {
  RunResult r;
  r.target_rate = target_rate;
  r.duration_s = duration_s;
  for (const CoreSnapshot& s : cores) {
    r.counters += s.counters;
    r.histogram.merge(s.histogram);
    r.send_lag.merge(s.send_lag);
    r.failed_connections += s.failed_connections;
    if (r.failure.empty()) r.failure = s.failure;
  }
  return r;
}

namespace {

void describe_workload(FILE* out, const Options& o) {
  const WorkloadSpec& w = o.workload;
  if (w.kind == WorkloadKind::kEtc) {
    std::fprintf(out, "etc (keys %" PRIu64 ", value max %u B", w.keys, w.value_max);
  } else {
    std::fprintf(out, "fixed (keys %" PRIu64 ", key %u B, value %u B", w.keys, w.key_size,
                 w.value_size);
  }
  std::fprintf(out, ", %.1f%% sets", w.set_fraction * 100.0);
  if (w.zipf > 0.0) std::fprintf(out, ", zipf %.2f", w.zipf);
  std::fprintf(out, ")");
}

double us(uint64_t ns) {
  return static_cast<double>(ns) / 1e3;
}

// JSON strings: what a failure message may hold, escaped.
void json_string(FILE* out, const std::string& s) {
  std::fputc('"', out);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\')
      std::fprintf(out, "\\%c", c);
    else if (c < 0x20)
      std::fprintf(out, "\\u%04x", c);
    else
      std::fputc(c, out);
  }
  std::fputc('"', out);
}

}  // namespace

void print_table(FILE* out, const Options& o, const RunResult& r) {
  const Counters& c = r.counters;
  std::fprintf(out, "ebb-loadgen: %s:%u, workload ", o.host.c_str(), o.port);
  describe_workload(out, o);
  std::fprintf(out, "\n  %u core(s) x %u connection(s), pipeline %u, %s\n", o.cores, o.connections,
               o.pipeline, o.preload ? "preloaded" : "not preloaded");
  if (r.target_rate > 0.0)
    std::fprintf(out, "  %-14s %.0f/s (open loop, Poisson)\n", "target rate", r.target_rate);
  else
    std::fprintf(out, "  %-14s closed loop (as fast as replies come)\n", "target rate");
  std::fprintf(out, "  %-14s %.2f s (after %.2f s of warm-up)\n", "measured", r.duration_s,
               o.warmup_s);
  std::fprintf(out, "  %-14s %" PRIu64 " (sent %" PRIu64 ")\n", "requests", c.completed, c.sent);
  std::fprintf(out, "  %-14s %.1f/s\n", "achieved rate", r.achieved_rate());
  std::fprintf(out,
               "  %-14s %" PRIu64 " gets (%" PRIu64 " hits, %" PRIu64 " misses), %" PRIu64
               " sets (%" PRIu64 " stored, %" PRIu64 " not stored)\n",
               "operations", c.gets, c.hits, c.misses, c.sets, c.stored, c.not_stored);
  std::fprintf(
      out, "  %-14s %" PRIu64 " (dropped %" PRIu64 ", lost %" PRIu64 ", unfinished %" PRIu64 ")\n",
      "errors", c.errors, c.dropped, c.lost, c.unfinished);
  std::fprintf(out, "  %-14s %10s %10s %10s %10s %10s %10s\n", "latency (us)", "p50", "p90", "p99",
               "p99.9", "max", "mean");
  std::fprintf(out, "  %-14s %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f\n", "", r.percentile_us(50),
               r.percentile_us(90), r.percentile_us(99), r.percentile_us(99.9),
               static_cast<double>(r.histogram.max()) / 1e3, r.histogram.mean() / 1e3);
  std::fprintf(out, "  %-14s %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f  (intended to sent)\n",
               "send lag (us)", us(r.send_lag.percentile(50)), us(r.send_lag.percentile(90)),
               us(r.send_lag.percentile(99)), us(r.send_lag.percentile(99.9)), us(r.send_lag.max()),
               r.send_lag.mean() / 1e3);
  if (r.failed_connections != 0)
    std::fprintf(out, "  %-14s %u connection(s) failed: %s\n", "FAILED", r.failed_connections,
                 r.failure.c_str());
}

void print_probe(FILE* out, const SearchReport& s, const Probe& p) {
  std::fprintf(out, "search: probe %10.0f/s  achieved %10.0f/s  p%g %9.1f us  %s%s%s\n", p.rate,
               p.achieved, s.percentile, p.value_us, p.passed ? "ok" : "too slow",
               p.passed ? "" : ": ", p.passed ? "" : p.why);
}

void print_search_table(FILE* out, const SearchReport& s) {
  std::fprintf(out, "search: p%g <= %g us\n", s.percentile, s.limit_us);
  std::fprintf(out, "  %-22s %.0f/s\n", "peak (closed loop)", s.peak_rate);
  if (s.best_rate > 0.0) {
    std::fprintf(out, "  %-22s %.0f/s (%.0f%% of peak)\n", "highest passing rate", s.best_rate,
                 s.peak_rate > 0.0 ? 100.0 * s.best_rate / s.peak_rate : 0.0);
  } else {
    std::fprintf(out, "  %-22s none of the probes passed\n", "highest passing rate");
  }
}

void print_json(FILE* out, const Options& o, const RunResult& r, const SearchReport* search) {
  const Counters& c = r.counters;
  std::fprintf(out, "{\n");
  std::fprintf(out, "  \"server\": ");
  json_string(out, o.host + ":" + std::to_string(o.port));
  std::fprintf(out, ",\n  \"workload\": \"%s\",\n", workload_name(o.workload.kind));
  std::fprintf(out, "  \"keys\": %" PRIu64 ",\n", o.workload.keys);
  std::fprintf(out, "  \"cores\": %u,\n  \"connections\": %u,\n  \"pipeline\": %u,\n", o.cores,
               o.connections, o.pipeline);
  std::fprintf(out, "  \"closed_loop\": %s,\n", r.target_rate > 0.0 ? "false" : "true");
  std::fprintf(out, "  \"target_rate\": %.1f,\n", r.target_rate);
  std::fprintf(out, "  \"duration_s\": %.3f,\n  \"warmup_s\": %.3f,\n", r.duration_s, o.warmup_s);
  std::fprintf(out, "  \"requests\": %" PRIu64 ",\n  \"sent\": %" PRIu64 ",\n", c.completed,
               c.sent);
  std::fprintf(out, "  \"rate\": %.1f,\n", r.achieved_rate());
  std::fprintf(out,
               "  \"gets\": %" PRIu64 ",\n  \"sets\": %" PRIu64 ",\n  \"hits\": %" PRIu64
               ",\n  \"misses\": %" PRIu64 ",\n  \"stored\": %" PRIu64
               ",\n  \"not_stored\": %" PRIu64 ",\n",
               c.gets, c.sets, c.hits, c.misses, c.stored, c.not_stored);
  std::fprintf(out,
               "  \"errors\": %" PRIu64 ",\n  \"dropped\": %" PRIu64 ",\n  \"lost\": %" PRIu64
               ",\n  \"unfinished\": %" PRIu64 ",\n",
               c.errors, c.dropped, c.lost, c.unfinished);
  std::fprintf(out,
               "  \"latency_us\": {\"mean\": %.1f, \"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, "
               "\"p99.9\": %.1f, \"max\": %.1f},\n",
               r.histogram.mean() / 1e3, r.percentile_us(50), r.percentile_us(90),
               r.percentile_us(99), r.percentile_us(99.9),
               static_cast<double>(r.histogram.max()) / 1e3);
  std::fprintf(out, "  \"send_lag_us\": {\"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f},\n",
               static_cast<double>(r.send_lag.percentile(50)) / 1e3,
               static_cast<double>(r.send_lag.percentile(99)) / 1e3,
               static_cast<double>(r.send_lag.max()) / 1e3);
  if (search != nullptr) {
    std::fprintf(out,
                 "  \"search\": {\"percentile\": %g, \"limit_us\": %g, \"peak_rate\": %.1f, "
                 "\"best_rate\": %.1f, \"probes\": [",
                 search->percentile, search->limit_us, search->peak_rate, search->best_rate);
    for (std::size_t i = 0; i < search->probes.size(); ++i) {
      const Probe& p = search->probes[i];
      std::fprintf(out,
                   "%s\n    {\"rate\": %.1f, \"achieved\": %.1f, \"value_us\": %.1f, "
                   "\"passed\": %s}",
                   i == 0 ? "" : ",", p.rate, p.achieved, p.value_us, p.passed ? "true" : "false");
    }
    std::fprintf(out, "]},\n");
  }
  std::fprintf(out, "  \"failed_connections\": %u,\n  \"failure\": ", r.failed_connections);
  json_string(out, r.failure);
  std::fprintf(out, "\n}\n");
}

}  // namespace ebb::loadgen
