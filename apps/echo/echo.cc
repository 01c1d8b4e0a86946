// ebb-echo: a TCP and UDP echo server on every core, the smallest network app.
//
//   build/release/bin/ebb-echo --port 7 [--cores N]
//
// Each core runs its own listener (SO_REUSEPORT) and echoes what its
// connections send. An echo relays without bound unless it pushes back: a
// connection whose replies pile up past the high watermark stops reading
// until they drain, so a client that sends without reading is slowed by TCP
// instead of growing the server's memory. SIGINT or SIGTERM stops it.
//
// The same source is a native image (build/native/images/ebb-echo.elf): its
// flags come from the kernel command line, after the image's own
// ebb.NAME=VALUE words, and it echoes until the machine powers off (there
// are no signals).

#if !defined(EBB_PLATFORM_NATIVE)
#include <signal.h>

#include <thread>

#include "ebbs/net/posix/stats.h"
#endif

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "apps/common/flags.h"
#include "apps/common/network.h"
#include "apps/common/stats_endpoint.h"
#include "runtime/runtime.h"

namespace {

using ebb::net::Connection;
using ebb::net::DatagramSocket;
using ebb::net::Endpoint;
using ebb::net::IOBuf;

// Where the echo serves; it serves until the process ends (a global, so
// that what it holds stays reachable to the end).
ebb::apps::Network* g_network = nullptr;

void echo_connection(Connection c) {
  c.on_receive([c](IOBuf data) mutable {
    if (!c.send(std::move(data))) return;  // closing: nothing more to do
    if (c.send_full()) c.pause_receive();
  });
  c.on_writable([c]() mutable { c.resume_receive(); });
}

void echo_datagram(DatagramSocket& socket, Endpoint from, IOBuf data) {
  (void)socket.send_to(from, std::move(data));  // a full socket drops it, as UDP may
}

void usage(FILE* out) {
  std::fprintf(out,
               "usage: ebb-echo --port P [--cores N] [network flags]\n"
               "  --port P    TCP and UDP port to echo on (0: one the system picks)\n"
               "  --cores N   cores to run (default: every CPU this process may use)\n"
               "%s",
               ebb::apps::NetworkFlags::usage());
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t cores = ebb::Runtime::available_cpus();
  uint64_t port = 0;
  bool have_port = false;
  ebb::apps::NetworkFlags network;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (std::strcmp(arg, "--port") == 0) {
      if (!ebb::apps::parse_number("ebb-echo", arg, value, 0, 65535, &port)) return 2;
      have_port = true;
      ++i;
    } else if (std::strcmp(arg, "--cores") == 0) {
      if (!ebb::apps::parse_number("ebb-echo", arg, value, 1, ebb::kMaxCores, &cores)) return 2;
      ++i;
    } else if (std::strncmp(arg, "--", 2) == 0) {
      // A network flag: --name=value or --name value (some take none).
      std::string name(arg + 2);
      const char* flag_value = nullptr;
      if (const std::size_t eq = name.find('='); eq != std::string::npos) {
        flag_value = arg + 2 + eq + 1;
        name.resize(eq);
      } else if (ebb::apps::NetworkFlags::takes_value(name.c_str())) {
        flag_value = value;
        ++i;
      }
      const int taken = network.parse("ebb-echo", name.c_str(), flag_value);
      if (taken < 0) return 2;
      if (taken == 0) {
        std::fprintf(stderr, "ebb-echo: unknown argument '%s'\n", arg);
        usage(stderr);
        return 2;
      }
    } else {
      std::fprintf(stderr, "ebb-echo: unknown argument '%s'\n", arg);
      usage(stderr);
      return 2;
    }
  }
  if (!network.check("ebb-echo")) return 2;
  if (!have_port) {
    std::fprintf(stderr, "ebb-echo: --port is required\n");
    usage(stderr);
    return 2;
  }

#if !defined(EBB_PLATFORM_NATIVE)
  // SIGINT and SIGTERM go to a thread of their own (blocked everywhere else:
  // the cores inherit this mask), which asks the runtime to stop.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
#endif

  ebb::Runtime runtime({.cores = static_cast<uint32_t>(cores)});
  auto ports = runtime.run_on(0, [port, &network]() -> ebb::Result<uint16_t> {
    ebb::Result<std::unique_ptr<ebb::apps::Network>> started = ebb::apps::Network::Start(network);
    if (!started) return started.error();
    g_network = started->release();
    ebb::Result<uint16_t> tcp = g_network->listen(static_cast<uint16_t>(port), &echo_connection, 0);
    if (!tcp) return tcp.error();
    // UDP on the same port number as TCP (which may have been picked).
    ebb::Status udp = g_network->bind_udp(*tcp, &echo_datagram, 0);
    if (!udp) return udp.error();
    if (network.stats_port != 0) {
      ebb::Status stats = ebb::apps::serve_stats(*g_network, network.stats_port, 0);
      if (!stats) return stats.error();
    }
    return *tcp;
  });
  if (!ports) {
    char why[ebb::kErrorTextSize];
    std::fprintf(stderr, "ebb-echo: cannot echo on port %" PRIu64 ": %s\n", port,
                 ports.error().describe(why, sizeof why));
    return 1;
  }
  std::printf("ebb-echo: echoing on port %u (tcp and udp), %" PRIu64 " cores, %s\n", *ports,
              cores, g_network->describe().c_str());
  std::fflush(stdout);

#if defined(EBB_PLATFORM_NATIVE)
  // Nothing asks a native image to stop: it echoes until the VM powers off.
  runtime.wait_for_shutdown_request();
  std::printf("ebb-echo: stopped\n");
#else
  std::thread signals([&stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    ebb::request_shutdown();
  });
  runtime.wait_for_shutdown_request();
  signals.join();
  const ebb::net::posix::NetStats s = ebb::net::posix::net_stats();
  std::printf("ebb-echo: stopped; %" PRIu64 " connections, %" PRIu64 " bytes echoed, %" PRIu64
              " datagrams\n",
              s.accepted, s.bytes_sent, s.datagrams_sent);
#endif
  return 0;
}
