// The C library functions the apps call beyond strings and printf —
// getopt_long, inet_pton, time, getrusage, getpid. Hosted, these tests run
// against glibc and pin down its behaviour; in the image, against the
// native libc (runtime/native/libc.cc, getopt.cc), which must match it.
// (Only behaviour both share: the native getopt does not permute, so every
// command line here has its options first or stops with '+'.)

#include <arpa/inet.h>
#include <getopt.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <ctime>
#include <initializer_list>
#include <string>
#include <vector>

#include "tests/support/runtime_fixture.h"

namespace {

// An argv of its own for each parse (getopt keeps pointers into it).
class Args {
 public:
  Args(std::initializer_list<const char*> words) : storage_{"prog"} {
    for (const char* w : words) storage_.emplace_back(w);
    for (std::string& s : storage_) argv_.push_back(s.data());
    argv_.push_back(nullptr);
    optind = 0;  // a fresh scan
    opterr = 0;  // no messages
  }
  int argc() const { return static_cast<int>(storage_.size()); }
  char** argv() { return argv_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> argv_;
};

const option kLong[] = {
    {"port", required_argument, nullptr, 'p'},
    {"verbose", no_argument, nullptr, 'v'},
    {"color", optional_argument, nullptr, 'c'},
    {"tap", required_argument, nullptr, 'T'},
    {"tap-queues", required_argument, nullptr, 'Q'},
    {"quiet", no_argument, nullptr, 'q'},
    {"quick", no_argument, nullptr, 'k'},
    {nullptr, 0, nullptr, 0},
};

int next(Args& a, const char* optstring = ":p:vc::o::", int* index = nullptr) {
  return getopt_long(a.argc(), a.argv(), optstring, kLong, index);
}

TEST(LibcGetopt, ShortClustersAndAttachedValues) {
  Args a({"-vv", "-p11211", "-vp", "7", "-o", "rest"});
  EXPECT_EQ(next(a), 'v');
  EXPECT_EQ(next(a), 'v');
  EXPECT_EQ(optind, 2);
  ASSERT_EQ(next(a), 'p');
  EXPECT_STREQ(optarg, "11211");
  EXPECT_EQ(next(a), 'v');
  ASSERT_EQ(next(a), 'p');
  EXPECT_STREQ(optarg, "7");
  ASSERT_EQ(next(a), 'o');  // an optional value is only ever attached
  EXPECT_EQ(optarg, nullptr);
  EXPECT_EQ(next(a), -1);
  EXPECT_EQ(optind, 6);  // at "rest"
}

TEST(LibcGetopt, DoubleDashEndsTheOptions) {
  Args a({"-v", "--", "-p", "1"});
  EXPECT_EQ(next(a), 'v');
  EXPECT_EQ(next(a), -1);
  EXPECT_EQ(optind, 3);
}

TEST(LibcGetopt, PlusStopsAtTheFirstNonOption) {
  Args a({"-v", "file", "-v"});
  EXPECT_EQ(next(a, "+v"), 'v');
  EXPECT_EQ(next(a, "+v"), -1);
  EXPECT_EQ(optind, 2);
  Args lone({"-"});  // "-" alone is not an option
  EXPECT_EQ(next(lone, "+v"), -1);
  EXPECT_EQ(optind, 1);
}

TEST(LibcGetopt, LongForms) {
  Args a({"--port=1", "--port", "-2", "--verbose", "--color", "--color=red", "--verb", "--tap", "t0",
          "--tap-q=4"});
  int index = -1;
  ASSERT_EQ(next(a, ":p:v", &index), 'p');
  EXPECT_STREQ(optarg, "1");
  EXPECT_EQ(index, 0);
  ASSERT_EQ(next(a, ":p:v"), 'p');  // the next word, even one that starts with '-'
  EXPECT_STREQ(optarg, "-2");
  EXPECT_EQ(next(a, ":p:v", &index), 'v');
  EXPECT_EQ(index, 1);
  ASSERT_EQ(next(a, ":p:v"), 'c');
  EXPECT_EQ(optarg, nullptr);
  ASSERT_EQ(next(a, ":p:v"), 'c');
  EXPECT_STREQ(optarg, "red");
  EXPECT_EQ(next(a, ":p:v"), 'v');   // a unique prefix
  ASSERT_EQ(next(a, ":p:v"), 'T');   // exact, though a prefix of tap-queues
  EXPECT_STREQ(optarg, "t0");
  ASSERT_EQ(next(a, ":p:v"), 'Q');
  EXPECT_STREQ(optarg, "4");
  EXPECT_EQ(next(a, ":p:v"), -1);
  EXPECT_EQ(optind, 11);
}

TEST(LibcGetopt, LongOptionWithAFlag) {
  int chosen = 0;
  const option with_flag[] = {{"fast", no_argument, &chosen, 7}, {nullptr, 0, nullptr, 0}};
  Args a({"--fast"});
  EXPECT_EQ(getopt_long(a.argc(), a.argv(), "", with_flag, nullptr), 0);
  EXPECT_EQ(chosen, 7);
}

TEST(LibcGetopt, Errors) {
  Args a({"-x", "--nonsense", "--verbose=1", "--qu", "-p"});
  EXPECT_EQ(next(a), '?');
  EXPECT_EQ(optopt, 'x');
  EXPECT_EQ(next(a), '?');
  EXPECT_EQ(optopt, 0);
  EXPECT_EQ(next(a), '?');  // a value for a flag that takes none
  EXPECT_EQ(optopt, 'v');
  EXPECT_EQ(next(a), '?');  // ambiguous: quiet or quick
  EXPECT_EQ(next(a), ':');  // ':' first in optstring: a missing value says so
  EXPECT_EQ(optopt, 'p');
  EXPECT_EQ(next(a), -1);

  Args b({"--port"});
  EXPECT_EQ(next(b), ':');
  EXPECT_EQ(optopt, 'p');
  Args c({"-p"});
  EXPECT_EQ(next(c, "p:"), '?');  // without ':' first: '?'
}

TEST(LibcGetopt, OptindZeroOrOneStartsAgain) {
  Args a({"-vp", "9"});
  EXPECT_EQ(next(a), 'v');
  optind = 0;  // in the middle of a cluster
  EXPECT_EQ(next(a), 'v');
  ASSERT_EQ(next(a), 'p');
  EXPECT_STREQ(optarg, "9");
  EXPECT_EQ(next(a), -1);
  optind = 1;  // after a finished scan
  EXPECT_EQ(next(a), 'v');
  EXPECT_EQ(next(a), 'p');
  EXPECT_EQ(getopt(a.argc(), a.argv(), ":vp:"), -1);
}

TEST(LibcInetPton, ReadsDottedQuads) {
  in_addr address{};
  ASSERT_EQ(inet_pton(AF_INET, "198.18.0.2", &address), 1);
  EXPECT_EQ(ntohl(address.s_addr), 0xc6120002u);
  ASSERT_EQ(inet_pton(AF_INET, "0.0.0.0", &address), 1);
  EXPECT_EQ(address.s_addr, 0u);
  ASSERT_EQ(inet_pton(AF_INET, "255.255.255.255", &address), 1);
  EXPECT_EQ(address.s_addr, 0xffffffffu);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4",
                          "1..2.3", "a.b.c.d", "1.2.3.-4", "1.2.3.4/24", "1111.2.3.4"}) {
    EXPECT_EQ(inet_pton(AF_INET, bad, &address), 0) << "'" << bad << "'";
  }
}

TEST(LibcTime, SecondsSince1970) {
  time_t out = 0;
  const time_t now = time(&out);
  EXPECT_EQ(out, now);
  EXPECT_GT(now, 1672531200);  // after 2023-01-01: the clock was read, not left at 0
  EXPECT_LT(now, 4102444800);  // before 2100
  EXPECT_GE(time(nullptr), now);
}

TEST(LibcProcess, PidAndUsage) {
  EXPECT_GT(getpid(), 0);
  rusage usage{};
  ASSERT_EQ(getrusage(RUSAGE_SELF, &usage), 0);
  EXPECT_GE(usage.ru_utime.tv_sec, 0);
  EXPECT_GE(usage.ru_utime.tv_usec, 0);
  EXPECT_LT(usage.ru_utime.tv_usec, 1'000'000);
  EXPECT_LT(usage.ru_stime.tv_usec, 1'000'000);
}

#if defined(EBB_PLATFORM_NATIVE)
// The image's process time is its cores' busy time: some, once a core ran.
class LibcRusage : public ebb::testing::RuntimeFixture {};

TEST_F(LibcRusage, UserTimeIsTheCoresBusyTime) {
  start(1);
  run(0, [] {
    volatile uint64_t sum = 0;
    for (int i = 0; i < 100000; ++i) sum = sum + static_cast<uint64_t>(i);
  });
  rusage usage{};
  ASSERT_EQ(getrusage(RUSAGE_SELF, &usage), 0);
  EXPECT_GT(usage.ru_utime.tv_sec * 1'000'000 + usage.ru_utime.tv_usec, 0);
  EXPECT_EQ(usage.ru_stime.tv_sec, 0);
  EXPECT_EQ(usage.ru_stime.tv_usec, 0);
}
#endif

}  // namespace
