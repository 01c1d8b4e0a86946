#pragma once
// MemcachedTest: a one-core runtime with a store and a session, driven by
// bytes: send() feeds a request (or several, pipelined) and returns every
// byte of reply, exactly as a client would read it.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "apps/memcached/protocol/context.h"
#include "apps/memcached/server/session.h"
#include "tests/support/runtime_fixture.h"

namespace ebb::memcached::testing {

class MemcachedTest : public ebb::testing::RuntimeFixture {
 protected:
  // Tests that want other limits set these before SetUp runs (in their
  // constructor).
  TableOptions table_options;
  Settings settings;

  void SetUp() override {
    start(1);
    run(0, [this] {
      store_ = Store::Create(table_options).value();
      server_ = std::make_unique<Server>(settings, *store_, 1);
      session_ = std::make_unique<Session>(*server_, 0);
    });
  }
  void TearDown() override {
    run(0, [this] {
      session_.reset();
      server_.reset();
    });
    stop();
  }

  // Feeds `bytes` to the session and returns the replies. closed() tells
  // whether the session asked to close.
  std::string send(std::string_view bytes) {
    std::string replies;
    run(0, [&] {
      net::IOBuf out;
      Session::Outcome outcome = session_->receive(
          reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
      while (outcome == Session::Outcome::kPaused) outcome = session_->resume(out);
      closed_ = closed_ || outcome == Session::Outcome::kClose;
      replies = out.to_string();
    });
    return replies;
  }
  // The same bytes fed in two pieces, cut at `at`.
  std::string send_split(std::string_view bytes, std::size_t at) {
    std::string replies = send(bytes.substr(0, at));  // in this order: two statements
    return replies + send(bytes.substr(at));
  }
  // A fresh session (a new connection) on the same store.
  void reconnect() {
    run(0, [this] { session_ = std::make_unique<Session>(*server_, 0); });
    closed_ = false;
  }
  // Moves the store's clock forward.
  void advance(uint32_t seconds) {
    run(0, [this, seconds] { store_->clock().advance(seconds); });
  }
  bool closed() const { return closed_; }
  Server& server() { return *server_; }
  Ref<Store> store() { return store_; }

 private:
  Ref<Store> store_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Session> session_;
  bool closed_ = false;
};

}  // namespace ebb::memcached::testing
