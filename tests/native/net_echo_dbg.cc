#include <cstdio>
#include "apps/common/network.h"
#include "runtime/runtime.h"
namespace {
ebb::apps::Network* g_network;
void echo_connection(ebb::net::Connection c) {
  c.on_receive([c](ebb::net::IOBuf data) mutable {
    if (!c.send(std::move(data))) return;
    if (c.send_full()) c.pause_receive();
  });
  c.on_writable([c]() mutable { c.resume_receive(); });
}
}
#include <cstring>
#include <string>
int main(int argc, char** argv) {
  ebb::apps::NetworkFlags flags;
  for (int i = 1; i < argc; ++i) {
    std::string a(argv[i] + 2);
    auto eq = a.find('=');
    std::string v = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (eq != std::string::npos) a.resize(eq);
    if (flags.parse("net-echo", a.c_str(), v.c_str()) != 1) return 2;
  }
  if (!flags.check("net-echo")) return 2;
  ebb::Runtime runtime(ebb::RuntimeOptions{});
  auto r = runtime.run_on(0, [&]() -> ebb::Result<uint16_t> {
    auto n = ebb::apps::Network::Start(flags);
    if (!n) return n.error();
    g_network = n->release();
    return g_network->listen(7, echo_connection, 0);
  });
  if (!r) { char t[256]; std::printf("net-echo: %s\n", r.error().describe(t, sizeof t)); return 1; }
  std::printf("net-echo: echoing on %u, %s\n", *r, g_network->describe().c_str());
  runtime.wait_for_shutdown_request();
  return 0;
}
#include <arpa/inet.h>
extern "C" int inet_pton(int, const char* s, void* out) noexcept {
  unsigned v[4]; int n = 0; unsigned cur = 0; bool digit = false;
  for (;; ++s) {
    if (*s >= '0' && *s <= '9') { cur = cur * 10 + (*s - '0'); digit = true; if (cur > 255) return 0; }
    else if ((*s == '.' || *s == 0) && digit && n < 4) { v[n++] = cur; cur = 0; digit = false; if (!*s) break; }
    else return 0;
  }
  if (n != 4) return 0;
  auto* b = static_cast<unsigned char*>(out);
  for (int i = 0; i < 4; ++i) b[i] = v[i];
  return 1;
}
