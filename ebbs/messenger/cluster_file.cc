#include "ebbs/messenger/cluster_file.h"

#include "ebbs/messenger/cluster_ids.h"

namespace ebb::messenger {

Result<std::vector<Member>> parse_cluster_file(std::string_view text) {
  std::vector<Member> members;
  int64_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::string_view words[4];
    std::size_t count = 0;
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      if (i == line.size()) break;
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (count == 4) return Error(Errc::kInvalidArgument, "cluster file: a line is not `node ID ADDRESS:PORT`", line_number);
      words[count++] = line.substr(start, i - start);
    }
    if (count == 0) continue;
    if (count != 3 || words[0] != "node")
      return Error(Errc::kInvalidArgument, "cluster file: a line is not `node ID ADDRESS:PORT`", line_number);
    uint32_t id = 0;
    if (words[1].empty() || words[1].size() > 5) return Error(Errc::kInvalidArgument, "cluster file: a node id is not a number up to 32766", line_number);
    for (char c : words[1]) {
      if (c < '0' || c > '9') return Error(Errc::kInvalidArgument, "cluster file: a node id is not a number up to 32766", line_number);
      id = id * 10 + static_cast<uint32_t>(c - '0');
    }
    if (id > kMaxNodeId) return Error(Errc::kInvalidArgument, "cluster file: a node id is not a number up to 32766", line_number);
    Result<net::Endpoint> address = net::Endpoint::Parse(words[2]);
    if (!address || address->ip == 0 || address->port == 0)
      return Error(Errc::kInvalidArgument, "cluster file: a node's address is not ADDRESS:PORT", line_number);
    for (const Member& m : members) {
      if (m.id == id) return Error(Errc::kAlreadyExists, "cluster file: a node id is listed twice", line_number);
      if (m.address == *address)
        return Error(Errc::kAlreadyExists, "cluster file: two nodes have one address", line_number);
    }
    members.push_back({static_cast<NodeId>(id), *address});
  }
  if (members.empty()) return Error(Errc::kInvalidArgument, "cluster file: no nodes", line_number);
  return members;
}

}  // namespace ebb::messenger
