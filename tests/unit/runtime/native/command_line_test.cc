// The kernel command line of a native image: the image's own ebb.NAME=VALUE
// options taken out, the rest handed to the application as argv, and every
// bad option refused with a message that names it. Pure code: runs on both
// platforms.

#include "runtime/native/command_line.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ebb::native {
namespace {

struct Parsed {
  char text[256];
  CommandLine line;
  Status status;
  explicit Parsed(const char* command_line) {
    std::strncpy(text, command_line, sizeof text - 1);
    text[sizeof text - 1] = '\0';
    status = parse_command_line(text, "image", line);
  }
};

TEST(CommandLine, SplitsWords) {
  Parsed p("  -p 11211\t-m  64 ");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.line.argc, 5);
  EXPECT_STREQ(p.line.argv[0], "image");
  EXPECT_STREQ(p.line.argv[1], "-p");
  EXPECT_STREQ(p.line.argv[2], "11211");
  EXPECT_STREQ(p.line.argv[3], "-m");
  EXPECT_STREQ(p.line.argv[4], "64");
  EXPECT_EQ(p.line.argv[5], nullptr);
}

TEST(CommandLine, EmptyGivesJustTheProgram) {
  Parsed p("");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.line.argc, 1);
  EXPECT_EQ(p.line.options.cores, 0u);
  EXPECT_FALSE(p.line.options.probe);
  EXPECT_EQ(p.line.options.apic, ApicChoice::kAuto);
}

TEST(CommandLine, TakesTheImagesOwnOptionsOut) {
  Parsed p("ebb.cores=4 -v ebb.probe=1 --gtest_filter=A.*");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.line.options.cores, 4u);
  EXPECT_TRUE(p.line.options.probe);
  ASSERT_EQ(p.line.argc, 3);
  EXPECT_STREQ(p.line.argv[1], "-v");
  EXPECT_STREQ(p.line.argv[2], "--gtest_filter=A.*");
}

TEST(CommandLine, ChoosesTheApicMode) {
  const struct {
    const char* text;
    ApicChoice choice;
  } cases[] = {{"ebb.apic=auto", ApicChoice::kAuto},
               {"ebb.apic=xapic", ApicChoice::kXApic},
               {"ebb.apic=x2apic", ApicChoice::kX2Apic}};
  for (const auto& c : cases) {
    Parsed p(c.text);
    EXPECT_TRUE(p.status.ok()) << c.text;
    EXPECT_EQ(p.line.options.apic, c.choice) << c.text;
    EXPECT_EQ(p.line.argc, 1) << c.text;
  }
}

TEST(CommandLine, RefusesBadOptions) {
  for (const char* bad : {"ebb.cores=0", "ebb.cores=", "ebb.cores=4x", "ebb.cores=99999999999",
                          "ebb.probe=2", "ebb.watchdog=30", "ebb.nonsense=1", "ebb.cores", "ebb.apic=",
                          "ebb.apic=x3apic", "ebb.apic=X2APIC"}) {
    Parsed p(bad);
    EXPECT_FALSE(p.status.ok()) << bad;
    if (!p.status) {
      EXPECT_EQ(p.status.error().code(), Errc::kInvalidArgument) << bad;
    }
  }
}

TEST(CommandLine, RefusesTooManyWords) {
  char text[512] = {};
  for (std::size_t i = 0; i < CommandLine::kMaxArgs + 1; ++i) std::strcat(text, "x ");
  CommandLine line;
  EXPECT_FALSE(parse_command_line(text, "image", line).ok());
}

}  // namespace
}  // namespace ebb::native
