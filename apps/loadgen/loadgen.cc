// ebb-loadgen: a memcached load generator on the ebbkit runtime.
//
//   build/release/bin/ebb-loadgen --server 127.0.0.1:11211 --rate 50000 --duration 10
//   build/release/bin/ebb-loadgen --rate max --connections 16 --pipeline 16 --json
//   build/release/bin/ebb-loadgen --search 99:500 --preload
//
// Each core of a Runtime drives its own connections (scheduler.h); this
// thread, outside the cores, plans the runs, shows progress, merges the
// cores' histograms and prints the report. --help lists the flags.

#include <netdb.h>
#include <signal.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "apps/loadgen/options.h"
#include "apps/loadgen/report.h"
#include "apps/loadgen/scheduler.h"
#include "apps/loadgen/search.h"
#include "runtime/runtime.h"
#include "runtime/platform.h"

namespace {

using ebb::loadgen::CoreDriver;
using ebb::loadgen::CoreSnapshot;
using ebb::loadgen::Options;
using ebb::loadgen::RunPlan;
using ebb::loadgen::RunResult;

constexpr const char* kProgram = "ebb-loadgen";
// Cores start arriving this long after the plan is made, so that every core
// has its plan before the first arrival.
constexpr uint64_t kStartDelayNs = 20'000'000;
// After the end, replies are awaited this long at most.
constexpr uint64_t kDrainNs = 2'000'000'000;

ebb::Result<ebb::net::Endpoint> resolve(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr)
    return ebb::Error(ebb::Errc::kInvalidArgument, "no IPv4 address for that host");
  const auto* in = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  ebb::net::Endpoint endpoint{ntohl(in->sin_addr.s_addr), port};
  freeaddrinfo(found);
  return endpoint;
}

class LoadGen {
 public:
  explicit LoadGen(const Options& options)
      : options_(options), workload_(options.workload), runtime_({.cores = options.cores}) {
    for (uint32_t core = 0; core < options.cores; ++core) {
      drivers_.push_back(std::make_unique<CoreDriver>(
          workload_, options.pipeline, ebb::loadgen::mix64(options.workload.seed) + core));
    }
  }
  ~LoadGen() {
    runtime_.shutdown();  // before the drivers go: no handler of theirs runs any more
  }

  bool connect(ebb::net::Endpoint server) {
    std::vector<ebb::Future<void>> pending;
    for (uint32_t core = 0; core < options_.cores; ++core) {
      CoreDriver* d = drivers_[core].get();
      const uint32_t n = options_.connections;
      pending.push_back(ebb::submit_to(core, [d, server, n] { return d->connect(server, n); }));
    }
    bool ok = true;
    for (auto& f : pending) {
      ebb::Status s = f.block();
      if (!s && ok) {
        char text[ebb::kErrorTextSize];
        std::fprintf(stderr, "%s: cannot connect to %s:%u: %s\n", kProgram, options_.host.c_str(),
                     options_.port, s.error().describe(text, sizeof text));
        ok = false;
      }
    }
    return ok;
  }

  // Sets every key once, spread over cores; false when a connection failed.
  bool preload() {
    const uint64_t start = ebb::platform::now_ns();
    const uint32_t run = ++run_;
    const uint64_t keys = options_.workload.keys;
    const uint64_t cores = options_.cores;
    std::vector<ebb::Future<void>> pending;
    for (uint32_t core = 0; core < options_.cores; ++core) {
      CoreDriver* d = drivers_[core].get();
      pending.push_back(ebb::submit_to(
          core, [d, run, core, cores, keys] { return d->preload(run, core, cores, keys); }));
    }
    for (auto& f : pending)
      (void)f.block();
    const RunResult r = ebb::loadgen::merge(snapshots(), 0.0, 0.0);
    const double seconds = static_cast<double>(ebb::platform::now_ns() - start) / 1e9;
    if (!options_.json || options_.progress) {
      std::fprintf(stderr,
                   "%s: preloaded %" PRIu64 " keys in %.2f s (%" PRIu64 " stored, %" PRIu64
                   " errors)\n",
                   kProgram, keys, seconds, r.counters.stored, r.counters.errors);
    }
    if (r.failed_connections != 0) {
      std::fprintf(stderr, "%s: a connection failed while preloading: %s\n", kProgram,
                   r.failure.c_str());
      return false;
    }
    if (r.counters.unfinished != 0) {
      std::fprintf(stderr, "%s: the server stopped answering while preloading\n", kProgram);
      return false;
    }
    return true;
  }

  // One run at `rate` (0: closed loop).
  RunResult run(double rate, bool progress) {
    const uint32_t run = ++run_;
    RunPlan plan;
    plan.run = run;
    plan.start_ns = ebb::platform::now_ns() + kStartDelayNs;
    plan.measure_ns = plan.start_ns + seconds_to_ns(options_.warmup_s);
    plan.end_ns = plan.measure_ns + seconds_to_ns(options_.duration_s);
    plan.drain_ns = plan.end_ns + kDrainNs;
    plan.rate = rate / options_.cores;
    std::vector<ebb::Future<void>> pending;
    for (uint32_t core = 0; core < options_.cores; ++core) {
      CoreDriver* d = drivers_[core].get();
      pending.push_back(ebb::submit_to(core, [d, plan] { return d->run(plan); }));
    }
    Progress meter(plan);
    for (;;) {
      bool all = true;
      for (auto& f : pending)
        all = all && f.ready();
      if (all) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (progress && ebb::platform::now_ns() >= meter.next_ns) meter.show(snapshots());
    }
    if (progress) meter.done();
    for (auto& f : pending)
      (void)f.block();
    return ebb::loadgen::merge(snapshots(), rate, options_.duration_s);
  }

  void close() {
    std::vector<ebb::Future<void>> pending;
    for (uint32_t core = 0; core < options_.cores; ++core) {
      CoreDriver* d = drivers_[core].get();
      pending.push_back(ebb::submit_to(core, [d] { return d->close(); }));
    }
    for (auto& f : pending)
      (void)f.block();
  }

 private:
  static uint64_t seconds_to_ns(double s) { return static_cast<uint64_t>(s * 1e9); }

  std::vector<CoreSnapshot> snapshots() {
    std::vector<CoreSnapshot> all;
    for (uint32_t core = 0; core < options_.cores; ++core) {
      CoreDriver* d = drivers_[core].get();
      ebb::Result<CoreSnapshot> s = runtime_.run_on(core, [d] { return d->snapshot(); });
      if (s) all.push_back(std::move(*s));
    }
    return all;
  }

  // The line --progress prints every second: where the run is, the replies
  // of the last second, and the percentile so far.
  struct Progress {
    explicit Progress(const RunPlan& plan)
        : plan(plan),
          next_ns(plan.start_ns + 1'000'000'000),
          tty(isatty(STDERR_FILENO) != 0),
          last_ns(plan.start_ns) {}
    void show(const std::vector<CoreSnapshot>& cores) {
      const uint64_t now = ebb::platform::now_ns();
      const RunResult r = ebb::loadgen::merge(cores, 0.0, 0.0);
      uint64_t replies = 0;
      for (const CoreSnapshot& s : cores)
        replies += s.replies;
      const double dt = static_cast<double>(now - last_ns) / 1e9;
      const double rate = dt > 0.0 ? static_cast<double>(replies - last_replies) / dt : 0.0;
      const char* phase = now < plan.measure_ns ? "warm-up"
                          : now < plan.end_ns   ? "measuring"
                                                : "draining";
      std::fprintf(stderr, "%s%s: %6.1f s  %-9s  %10.0f req/s  p99 %9.1f us  errors %" PRIu64 "%s",
                   tty ? "\r" : "", kProgram, static_cast<double>(now - plan.start_ns) / 1e9, phase,
                   rate, r.percentile_us(99), r.counters.errors, tty ? "\033[K" : "\n");
      std::fflush(stderr);
      last_ns = now;
      last_replies = replies;
      shown = true;
      while (next_ns <= now)
        next_ns += 1'000'000'000;
    }
    void done() {
      if (shown && tty) std::fputc('\n', stderr);
    }
    RunPlan plan;
    uint64_t next_ns;
    bool tty;
    uint64_t last_ns;
    bool shown = false;
    uint64_t last_replies = 0;
  };

  const Options options_;
  const ebb::loadgen::Workload workload_;
  ebb::Runtime runtime_;
  std::vector<std::unique_ptr<CoreDriver>> drivers_;
  uint32_t run_ = 0;
};

int report_failure(const RunResult& r) {
  if (r.failed_connections == 0) return 0;
  std::fprintf(stderr, "%s: %u connection(s) failed during the run: %s\n", kProgram,
               r.failed_connections, r.failure.c_str());
  return 1;
}

int search(LoadGen& gen, const Options& o) {
  ebb::loadgen::SearchReport report;
  report.percentile = o.search_percentile;
  report.limit_us = o.search_limit_us;
  FILE* const log = o.json ? stderr : stdout;  // probes: beside the JSON, never inside it
  RunResult best = gen.run(0.0, o.progress);
  if (int code = report_failure(best)) return code;
  report.peak_rate = best.achieved_rate();
  std::fprintf(log, "search: peak %.0f/s (closed loop), p%g %.1f us\n", report.peak_rate,
               o.search_percentile, best.percentile_us(o.search_percentile));
  std::fflush(log);
  ebb::loadgen::RateSearch bisect(report.peak_rate);
  while (!bisect.done()) {
    const double rate = bisect.next_rate();
    RunResult r = gen.run(rate, o.progress);
    if (int code = report_failure(r)) return code;
    const ebb::loadgen::Verdict v = ebb::loadgen::judge(r, o.search_percentile, o.search_limit_us);
    ebb::loadgen::Probe p{rate, r.achieved_rate(), r.percentile_us(o.search_percentile), v.passed,
                          v.why};
    report.probes.push_back(p);
    ebb::loadgen::print_probe(log, report, p);
    std::fflush(log);
    bisect.report(v.passed);
    if (v.passed) best = std::move(r);
  }
  report.best_rate = bisect.best();
  if (o.json) {
    ebb::loadgen::print_json(stdout, o, best, &report);
  } else {
    ebb::loadgen::print_search_table(stdout, report);
    if (report.best_rate > 0.0) {
      std::printf("at the highest passing rate:\n");
      ebb::loadgen::print_table(stdout, o, best);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  switch (ebb::loadgen::parse_options(argc, argv, &options)) {
    case ebb::loadgen::ParseOutcome::kHelp:
      ebb::loadgen::print_usage(stdout);
      return 0;
    case ebb::loadgen::ParseOutcome::kError:
      return 2;
    case ebb::loadgen::ParseOutcome::kRun:
      break;
  }
  // A server that goes away mid-write is a failed connection, not a signal
  // that kills the process before it can report.
  signal(SIGPIPE, SIG_IGN);
  ebb::Result<ebb::net::Endpoint> server = resolve(options.host, options.port);
  if (!server) {
    std::fprintf(stderr, "%s: cannot resolve '%s': %s\n", kProgram, options.host.c_str(),
                 server.error().message());
    return 1;
  }

  LoadGen gen(options);
  if (!gen.connect(*server)) return 1;
  int code = 0;
  if (options.preload && !gen.preload()) code = 1;
  if (code == 0 && options.search) {
    code = search(gen, options);
  } else if (code == 0) {
    const RunResult r = gen.run(options.rate, options.progress);
    if (options.json)
      ebb::loadgen::print_json(stdout, options, r, nullptr);
    else
      ebb::loadgen::print_table(stdout, options, r);
    code = report_failure(r);
  }
  std::fflush(stdout);
  gen.close();
  return code;
}
