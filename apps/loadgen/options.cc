#include "apps/loadgen/options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "apps/common/flags.h"
#include "apps/loadgen/protocol.h"
#include "runtime/core.h"

namespace ebb::loadgen {

namespace {

constexpr const char* kProgram = "ebb-loadgen";

bool fail(const char* format, const char* a = "", const char* b = "") {
  std::fprintf(stderr, "%s: ", kProgram);
  std::fprintf(stderr, format, a, b);
  std::fputc('\n', stderr);
  return false;
}

bool parse_decimal(const char* flag, const char* text, double min, double max, double* out) {
  if (text == nullptr) return fail("%s needs a number", flag);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !std::isfinite(value) || value < min ||
      value > max) {
    std::fprintf(stderr, "%s: %s wants a number from %g to %g, not '%s'\n", kProgram, flag, min,
                 max, text);
    return false;
  }
  *out = value;
  return true;
}

template <class T>
bool parse_whole(const char* flag, const char* text, uint64_t min, uint64_t max, T* out) {
  uint64_t value = 0;
  if (!apps::parse_number(kProgram, flag, text, min, max, &value)) return false;
  *out = static_cast<T>(value);
  return true;
}

bool parse_server(const char* text, Options* o) {
  if (text == nullptr) return fail("--server needs HOST:PORT");
  const std::string_view s(text);
  const std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size())
    return fail("--server wants HOST:PORT (e.g. 127.0.0.1:11211), not '%s'", text);
  const std::string port(s.substr(colon + 1));
  uint64_t port_number = 0;
  if (!apps::parse_number(kProgram, "--server's port", port.c_str(), 1, 65535, &port_number))
    return false;
  o->host = std::string(s.substr(0, colon));
  o->port = static_cast<uint16_t>(port_number);
  return true;
}

bool parse_search(const char* text, Options* o) {
  if (text == nullptr) return fail("--search needs P:LIMIT_US (e.g. 99:500)");
  const char* colon = std::strchr(text, ':');
  if (colon == nullptr) return fail("--search wants P:LIMIT_US (e.g. 99:500), not '%s'", text);
  const std::string p(text, colon);
  if (!parse_decimal("--search's percentile", p.c_str(), 0.0, 100.0, &o->search_percentile) ||
      !parse_decimal("--search's limit (us)", colon + 1, 0.001, 1e9, &o->search_limit_us))
    return false;
  if (o->search_percentile <= 0.0 || o->search_percentile >= 100.0)
    return fail("--search's percentile must lie strictly between 0 and 100, not '%s'", p.c_str());
  o->search = true;
  return true;
}

}  // namespace

const char* workload_name(WorkloadKind kind) {
  return kind == WorkloadKind::kEtc ? "etc" : "fixed";
}

void print_usage(FILE* out) {
  std::fprintf(
      out,
      "usage: ebb-loadgen [options]\n"
      "Drives a memcached server (ASCII protocol) and reports throughput and latency.\n"
      "\n"
      "  --server HOST:PORT   the server (default 127.0.0.1:11211)\n"
      "  --cores N            load-generating cores (default 1)\n"
      "  --connections C      connections per core (default 4)\n"
      "  --pipeline D         outstanding requests per connection, at most (default 8)\n"
      "  --rate R|max         requests per second in all, Poisson arrivals (open loop);\n"
      "                       latency counts from each request's intended send time.\n"
      "                       0 or max: closed loop, D outstanding per connection (default)\n"
      "  --duration S         seconds measured (default 10; 2 per probe with --search)\n"
      "  --warmup S           seconds run first and discarded (default 1; 0.5 with --search)\n"
      "  --keys K             key space: keys 0..K-1 (default 10000)\n"
      "  --workload W         fixed (default) or etc (Facebook's ETC pool: GEV key sizes,\n"
      "                       table + generalized Pareto value sizes, 30 gets per set)\n"
      "  --key-size B         fixed: key length (default 30)\n"
      "  --value-size B       fixed: value length (default 200)\n"
      "  --value-max B        etc: cap on value sizes (default 1000000)\n"
      "  --get-ratio F        share of gets (fixed default 0.9, etc 30/31)\n"
      "  --set-fraction F     share of sets (the other way to say it)\n"
      "  --zipf S             Zipf key popularity with exponent S (default 0: uniform)\n"
      "  --preload            set every key first, so that gets hit\n"
      "  --search P:LIMIT_US  find the highest rate whose P-th percentile stays at or\n"
      "                       under LIMIT_US: a closed-loop run for the peak, then a\n"
      "                       binary search on the rate with short runs\n"
      "  --json               print the results as JSON instead of a table\n"
      "  --progress           a progress line on stderr every second\n"
      "  --seed N             seed for every random choice (default 1)\n"
      "  --help               this text\n"
      "\n"
      "Exit codes: 0 done; 1 the server could not be reached or a connection failed\n"
      "during the run; 2 bad flags.\n");
}

ParseOutcome parse_options(int argc, const char* const* argv, Options* o) {
  bool duration_set = false, warmup_set = false, get_ratio_set = false, set_fraction_set = false;
  bool key_size_set = false, value_size_set = false, value_max_set = false;
  std::string flag_storage;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    // --flag=value is --flag value.
    const char* inline_value = nullptr;
    if (std::strncmp(arg, "--", 2) == 0) {
      if (const char* eq = std::strchr(arg, '=')) {
        flag_storage.assign(arg, eq);
        arg = flag_storage.c_str();
        inline_value = eq + 1;
      }
    }
    const bool has_next = inline_value == nullptr && i + 1 < argc;
    const char* value = inline_value != nullptr ? inline_value : (has_next ? argv[i + 1] : nullptr);
    auto is = [arg](const char* name) { return std::strcmp(arg, name) == 0; };
    bool ok = true;
    bool takes_value = true;
    if (is("--help") || is("-h")) {
      return ParseOutcome::kHelp;
    } else if (is("--server")) {
      ok = parse_server(value, o);
    } else if (is("--cores")) {
      ok = parse_whole(arg, value, 1, kMaxCores, &o->cores);
    } else if (is("--connections")) {
      ok = parse_whole(arg, value, 1, 4096, &o->connections);
    } else if (is("--pipeline")) {
      ok = parse_whole(arg, value, 1, 65536, &o->pipeline);
    } else if (is("--rate")) {
      if (value != nullptr && std::strcmp(value, "max") == 0)
        o->rate = 0.0;
      else
        ok = parse_decimal(arg, value, 0.0, 1e9, &o->rate);
    } else if (is("--duration")) {
      ok = parse_decimal(arg, value, 0.01, 86400.0, &o->duration_s);
      duration_set = true;
    } else if (is("--warmup")) {
      ok = parse_decimal(arg, value, 0.0, 3600.0, &o->warmup_s);
      warmup_set = true;
    } else if (is("--keys")) {
      ok = parse_whole(arg, value, 1, uint64_t{1} << 40, &o->workload.keys);
    } else if (is("--workload")) {
      if (value == nullptr)
        ok = fail("--workload needs a name: fixed or etc");
      else if (std::strcmp(value, "fixed") == 0)
        o->workload.kind = WorkloadKind::kFixed;
      else if (std::strcmp(value, "etc") == 0)
        o->workload.kind = WorkloadKind::kEtc;
      else
        ok = fail("--workload wants fixed or etc, not '%s'", value);
    } else if (is("--key-size")) {
      ok = parse_whole(arg, value, 1, etc::kMaxKeySize, &o->workload.key_size);
      key_size_set = true;
    } else if (is("--value-size")) {
      ok = parse_whole(arg, value, 0, kMaxValueSize, &o->workload.value_size);
      value_size_set = true;
    } else if (is("--value-max")) {
      ok = parse_whole(arg, value, 1, kMaxValueSize, &o->workload.value_max);
      value_max_set = true;
    } else if (is("--get-ratio")) {
      double gets = 0;
      ok = parse_decimal(arg, value, 0.0, 1.0, &gets);
      o->workload.set_fraction = 1.0 - gets;
      get_ratio_set = true;
    } else if (is("--set-fraction")) {
      ok = parse_decimal(arg, value, 0.0, 1.0, &o->workload.set_fraction);
      set_fraction_set = true;
    } else if (is("--zipf")) {
      ok = parse_decimal(arg, value, 0.0, 10.0, &o->workload.zipf);
    } else if (is("--search")) {
      ok = parse_search(value, o);
    } else if (is("--seed")) {
      ok = parse_whole(arg, value, 0, UINT64_MAX, &o->workload.seed);
    } else if (is("--preload") || is("--json") || is("--progress")) {
      takes_value = false;
      if (inline_value != nullptr)
        ok = fail("%s takes no value", arg);
      else if (is("--preload"))
        o->preload = true;
      else if (is("--json"))
        o->json = true;
      else
        o->progress = true;
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s' (see --help)\n", kProgram, argv[i]);
      return ParseOutcome::kError;
    }
    if (!ok) return ParseOutcome::kError;
    if (takes_value && inline_value == nullptr) ++i;
  }

  // Flags that contradict each other, or the workload.
  if (get_ratio_set && set_fraction_set) {
    fail("give --get-ratio or --set-fraction, not both");
    return ParseOutcome::kError;
  }
  WorkloadSpec& w = o->workload;
  if (w.kind == WorkloadKind::kEtc) {
    if (key_size_set || value_size_set) {
      fail("--key-size and --value-size are for --workload fixed (etc draws its own sizes)");
      return ParseOutcome::kError;
    }
    if (!get_ratio_set && !set_fraction_set) w.set_fraction = etc::kSetFraction;
  } else {
    if (value_max_set) {
      fail("--value-max is for --workload etc (fixed has --value-size)");
      return ParseOutcome::kError;
    }
    const uint32_t need = Workload::min_key_size(w.keys);
    if (w.key_size < need) {
      std::fprintf(stderr, "%s: --key-size %u is too short to name %llu keys (needs %u)\n",
                   kProgram, w.key_size, static_cast<unsigned long long>(w.keys), need);
      return ParseOutcome::kError;
    }
  }
  if (o->search) {
    if (o->rate != 0.0) {
      fail("--search finds the rate itself: drop --rate");
      return ParseOutcome::kError;
    }
    if (!duration_set) o->duration_s = 2.0;
    if (!warmup_set) o->warmup_s = 0.5;
  }
  return ParseOutcome::kRun;
}

}  // namespace ebb::loadgen
