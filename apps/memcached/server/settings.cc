#include "apps/memcached/server/settings.h"

#include <arpa/inet.h>
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "apps/common/flags.h"
#include "runtime/core.h"

namespace ebb::memcached {

namespace {

constexpr const char* kProgram = "ebb-memcached";

void usage(FILE* out) {
  std::fprintf(out,
               "usage: ebb-memcached [options]\n"
               "A memcached server built from Ebbs: ASCII, binary and meta protocols.\n"
               "  -p, --port=NUM            TCP port (default 11211; 0: one the system picks)\n"
               "  -U, --udp-port=NUM        UDP port (default 0: off)\n"
               "  -l, --listen=ADDR         IPv4 address to listen on (default: all)\n"
               "  -t, --threads=NUM         cores to run (default: every CPU available)\n"
               "  -m, --memory-limit=MB     item memory in MiB (default 64)\n"
               "  -c, --conn-limit=NUM      most simultaneous connections (default 1024)\n"
               "  -I, --max-item-size=SIZE  largest item, bytes with k/m suffix (default 1m)\n"
               "  -v, --verbose             say more (-vv: every connection)\n"
               "  -M, --disable-evictions   refuse writes when memory is full instead of evicting\n"
               "  -C, --disable-cas         no CAS values\n"
               "%s"
               "      --cluster=FILE        cluster mode: the members, one `node ID ADDR:PORT` a line\n"
               "      --peers=LIST          cluster mode, members inline: ID=ADDR:PORT,ID=ADDR:PORT,...\n"
               "      --node=ID             this node's id among the members\n"
               "      --idle-spin=US        how long an idle core polls before it sleeps\n"
               "                            (default 20; 0: sleep at once, as memcached does)\n"
               "  -V, --version             print the version\n"
               "  -h, --help                this text\n",
               apps::NetworkFlags::usage());
}

// Prints "ebb-memcached: MESSAGE 'VALUE'"; the exit code for a bad flag.
int fail(const char* message, const char* value) {
  std::fprintf(stderr, "%s: %s '%s'\n", kProgram, message, value);
  return 2;
}

// A size with an optional k or m suffix (memcached's -I).
bool parse_size(const char* text, std::size_t* out) {
  std::string_view s(text);
  uint64_t unit = 1;
  if (!s.empty() && (s.back() == 'k' || s.back() == 'K')) unit = 1024;
  if (!s.empty() && (s.back() == 'm' || s.back() == 'M')) unit = 1024 * 1024;
  if (unit != 1) s.remove_suffix(1);
  uint64_t v = 0;
  if (s.empty() || s.size() > 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v * unit;
  return true;
}

}  // namespace

int parse_settings(int argc, char** argv, uint32_t default_cores, Settings* settings,
                   bool* exit_now) {
  *settings = Settings{};
  settings->cores = default_cores;
  *exit_now = false;
  static const option kLong[] = {
      {"port", required_argument, nullptr, 'p'},
      {"udp-port", required_argument, nullptr, 'U'},
      {"listen", required_argument, nullptr, 'l'},
      {"threads", required_argument, nullptr, 't'},
      {"memory-limit", required_argument, nullptr, 'm'},
      {"conn-limit", required_argument, nullptr, 'c'},
      {"max-item-size", required_argument, nullptr, 'I'},
      {"verbose", no_argument, nullptr, 'v'},
      {"disable-evictions", no_argument, nullptr, 'M'},
      {"disable-cas", no_argument, nullptr, 'C'},
      {"net", required_argument, nullptr, 'N'},
      {"tap", required_argument, nullptr, 'N'},
      {"ip", required_argument, nullptr, 'N'},
      {"gateway", required_argument, nullptr, 'N'},
      {"dhcp", no_argument, nullptr, 'N'},
      {"tap-queues", required_argument, nullptr, 'N'},
      {"queues", required_argument, nullptr, 'N'},
      {"poll", no_argument, nullptr, 'N'},
      {"stats-port", required_argument, nullptr, 'N'},
      {"idle-spin", required_argument, nullptr, 'S'},
      {"cluster", required_argument, nullptr, 'K'},
      {"peers", required_argument, nullptr, 'P'},
      {"node", required_argument, nullptr, 'D'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  optind = 0;  // a full rescan: tests parse more than one command line
  opterr = 0;  // our own messages
  uint64_t n = 0;
  bool item_size_given = false;
  for (;;) {
    int long_index = -1;
    const int opt = getopt_long(argc, argv, ":p:U:l:t:m:c:I:vMCVh", kLong, &long_index);
    if (opt == -1) break;
    const char* flag = argv[optind - 1];
    switch (opt) {
      case 'p':
        if (!apps::parse_number(kProgram, "-p", optarg, 0, 65535, &n)) return 2;
        settings->tcp_port = static_cast<uint16_t>(n);
        break;
      case 'U':
        if (!apps::parse_number(kProgram, "-U", optarg, 0, 65535, &n)) return 2;
        settings->udp_port = static_cast<uint16_t>(n);
        break;
      case 'l': {
        in_addr address{};
        if (inet_pton(AF_INET, optarg, &address) != 1)
          return fail("-l wants an IPv4 address, not", optarg);
        settings->listen_ip = ntohl(address.s_addr);
        break;
      }
      case 't':
        if (!apps::parse_number(kProgram, "-t", optarg, 1, kMaxCores, &n)) return 2;
        settings->cores = static_cast<uint32_t>(n);
        break;
      case 'm':
        if (!apps::parse_number(kProgram, "-m", optarg, 1, uint64_t{1} << 20, &n)) return 2;
        settings->memory_limit = static_cast<std::size_t>(n) << 20;
        break;
      case 'c':
        if (!apps::parse_number(kProgram, "-c", optarg, 1, 1u << 24, &n)) return 2;
        settings->max_connections = static_cast<uint32_t>(n);
        break;
      case 'I':
        if (!parse_size(optarg, &settings->item_size_max))
          return fail("-I wants a size in bytes (k and m suffixes allowed), not", optarg);
        item_size_given = true;
        break;
      case 'v':
        ++settings->verbose;
        break;
      case 'M':
        settings->evict = false;
        break;
      case 'C':
        settings->cas = false;
        break;
      case 'N':
        if (settings->network.parse(kProgram, kLong[long_index].name, optarg) < 0) return 2;
        break;
      case 'S':
        if (!apps::parse_number(kProgram, "--idle-spin", optarg, 0, 1'000'000, &n)) return 2;
        settings->idle_spin_us = static_cast<int64_t>(n);
        break;
      case 'K': {
        if (!settings->cluster.empty()) return fail("the members are given twice, again with", flag);
#if defined(EBB_PLATFORM_NATIVE)
        return fail("a native image has no files: give the members with --peers, not", flag);
#else
        std::FILE* file = std::fopen(optarg, "r");
        if (file == nullptr) return fail("cannot read the cluster file", optarg);
        char chunk[4096];
        for (std::size_t got; (got = std::fread(chunk, 1, sizeof chunk, file)) > 0;) settings->cluster.append(chunk, got);
        std::fclose(file);
        if (settings->cluster.empty()) return fail("the cluster file is empty:", optarg);
        break;
#endif
      }
      case 'P': {
        if (!settings->cluster.empty()) return fail("the members are given twice, again with", flag);
        // ID=ADDR:PORT,... in the file's words: one `node ID ADDR:PORT` a line.
        for (const char* p = optarg; *p != '\0'; ++p) {
          if (p == optarg || p[-1] == ',') settings->cluster += "node ";
          settings->cluster += *p == ',' ? '\n' : *p == '=' ? ' ' : *p;
        }
        settings->cluster += '\n';
        break;
      }
      case 'D':
        if (!apps::parse_number(kProgram, "--node", optarg, 0, 32766, &n)) return 2;
        settings->node = static_cast<int32_t>(n);
        break;
      case 'V':
        std::printf("memcached %s\n", kVersion);
        *exit_now = true;
        return 0;
      case 'h':
        usage(stdout);
        *exit_now = true;
        return 0;
      case ':':
        std::fprintf(stderr, "%s: %s needs a value\n", kProgram, flag);
        return 2;
      default:
        std::fprintf(stderr, "%s: unknown argument '%s'\n", kProgram, flag);
        usage(stderr);
        return 2;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "%s: unexpected argument '%s'\n", kProgram, argv[optind]);
    return 2;
  }
  if (!settings->network.check(kProgram)) return 2;
  if (settings->cluster.empty() != (settings->node < 0)) {
    std::fprintf(stderr, "%s: cluster mode needs both the members (--cluster or --peers) and --node\n", kProgram);
    return 2;
  }
  if (!settings->cluster.empty() && settings->udp_port != 0) {
    // A datagram cannot wait for another node's reply: in a cluster, a UDP
    // request for another node's key could only be answered wrongly.
    std::fprintf(stderr, "%s: UDP (-U) is not served in cluster mode\n", kProgram);
    return 2;
  }
  // memcached's bounds on the item size.
  if (item_size_given) {
    if (settings->item_size_max < 1024) {
      std::fprintf(stderr, "%s: item max size cannot be less than 1024 bytes\n", kProgram);
      return 2;
    }
    if (settings->item_size_max > (std::size_t{1} << 30)) {
      std::fprintf(stderr, "%s: cannot set item size limit higher than 1 gigabyte\n", kProgram);
      return 2;
    }
  }
  if (settings->item_size_max > settings->memory_limit / 2) {
    std::fprintf(stderr, "%s: cannot set item size limit higher than 1/2 of memory max\n",
                 kProgram);
    return 2;
  }
  return 0;
}

}  // namespace ebb::memcached
