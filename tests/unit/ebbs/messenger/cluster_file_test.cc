// The cluster file: members from `node ID ADDRESS:PORT` lines, and a clear
// error naming the line for anything else.

#include "ebbs/messenger/cluster_file.h"

#include <gtest/gtest.h>

namespace ebb::messenger {
namespace {

TEST(ClusterFile, ReadsMembersSkippingCommentsAndBlankLines) {
  Result<std::vector<Member>> m = parse_cluster_file(
      "# a cluster\n\nnode 0 198.18.8.10:7100\n  node 7\t198.18.8.17:7101   # the last one\r\n");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].id, 0);
  EXPECT_EQ((*m)[0].address.to_string(), "198.18.8.10:7100");
  EXPECT_EQ((*m)[1].id, 7);
  EXPECT_EQ((*m)[1].address.port, 7101);
}

void expect_error(const char* text, Errc code, const char* message, int64_t line) {
  Result<std::vector<Member>> m = parse_cluster_file(text);
  ASSERT_FALSE(m.ok()) << text;
  EXPECT_EQ(m.error().code(), code) << text;
  EXPECT_STREQ(m.error().message(), message) << text;
  EXPECT_EQ(m.error().value(), line) << text;
}

TEST(ClusterFile, EveryMistakeNamesItsLine) {
  expect_error("node 0 1.2.3.4:5\nmember 1 1.2.3.5:5\n", Errc::kInvalidArgument,
               "cluster file: a line is not `node ID ADDRESS:PORT`", 2);
  expect_error("node 0 1.2.3.4:5 extra\n", Errc::kInvalidArgument,
               "cluster file: a line is not `node ID ADDRESS:PORT`", 1);
  expect_error("node x 1.2.3.4:5\n", Errc::kInvalidArgument, "cluster file: a node id is not a number up to 32766", 1);
  expect_error("\nnode 40000 1.2.3.4:5\n", Errc::kInvalidArgument,
               "cluster file: a node id is not a number up to 32766", 2);
  expect_error("node 1 1.2.3.4\n", Errc::kInvalidArgument, "cluster file: a node's address is not ADDRESS:PORT", 1);
  expect_error("node 1 1.2.3.400:5\n", Errc::kInvalidArgument, "cluster file: a node's address is not ADDRESS:PORT", 1);
  expect_error("node 1 1.2.3.4:5\nnode 1 1.2.3.5:5\n", Errc::kAlreadyExists, "cluster file: a node id is listed twice",
               2);
  expect_error("node 1 1.2.3.4:5\nnode 2 1.2.3.4:5\n", Errc::kAlreadyExists, "cluster file: two nodes have one address",
               2);
  expect_error("# nothing\n", Errc::kInvalidArgument, "cluster file: no nodes", 1);
}

}  // namespace
}  // namespace ebb::messenger
