#pragma once
// The cluster file: the static membership a deployment hands every node.
//
//   # ebbkit cluster (deploy/ebbctl cluster writes this)
//   node 0 198.18.0.10:7100
//   node 1 198.18.0.11:7100
//
// One `node ID ADDRESS:PORT` per line (the address and port its Messenger
// listens on); blank lines and #-comments are skipped. Every error names
// its line (the Error's value).

#include <string_view>
#include <vector>

#include "ebbs/messenger/messenger.h"

namespace ebb::messenger {

// Errc::kInvalidArgument (a malformed line, a bad id or address, no nodes)
// or kAlreadyExists (a node id or an address listed twice); the value is
// the line's number.
Result<std::vector<Member>> parse_cluster_file(std::string_view text);

}  // namespace ebb::messenger
