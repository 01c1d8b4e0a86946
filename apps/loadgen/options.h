#pragma once
// ebb-loadgen's command line: every flag, its default, and the checks that
// turn a bad one into a clear message (and exit code 2) before anything runs.

#include <cstdint>
#include <cstdio>
#include <string>

#include "apps/loadgen/workload.h"

namespace ebb::loadgen {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 11211;
  uint32_t cores = 1;
  uint32_t connections = 4;  // per core
  uint32_t pipeline = 8;     // outstanding requests per connection, at most
  double rate = 0.0;         // requests per second in all; 0: closed loop, as fast as it goes
  double duration_s = 10.0;
  double warmup_s = 1.0;
  WorkloadSpec workload;
  bool preload = false;
  bool json = false;
  bool progress = false;
  // --search P:LIMIT_US: the highest rate whose P-th percentile stays at or
  // under LIMIT_US microseconds.
  bool search = false;
  double search_percentile = 99.0;
  double search_limit_us = 0.0;

  bool closed_loop() const { return rate == 0.0; }
};

enum class ParseOutcome { kRun, kHelp, kError };

// Fills *options from argv (argv[0] is the program). kError: a message went
// to stderr. kHelp: the caller prints usage() and exits 0.
ParseOutcome parse_options(int argc, const char* const* argv, Options* options);

void print_usage(FILE* out);

// "fixed" or "etc".
const char* workload_name(WorkloadKind kind);

}  // namespace ebb::loadgen
