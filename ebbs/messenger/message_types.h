#pragma once
// MessageTypes: the message types a node speaks, by explicit number, each
// with the range of versions it understands. A frame of a type the node
// does not know, or of a version outside the range, is refused with an
// error that names which (and counted by the Messenger), never guessed at.
//
//   MessageTypes types;
//   types.add({.id = 10, .min_version = 1, .max_version = 2, .name = "idmap.lookup"});
//   Status ok = types.check(frame.header);
//
// Ids 1..999 belong to the toolkit's own Ebbs (idmap, distributed memcached,
// heartbeats); applications take 1000 and up. 0 is no type.

#include <cstdint>
#include <vector>

#include "ebbs/messenger/frame.h"
#include "runtime/result.h"

namespace ebb::messenger {

struct MessageType {
  uint16_t id = 0;
  uint16_t min_version = 1;
  uint16_t max_version = 1;
  const char* name = "";
};

inline constexpr uint16_t kFirstApplicationType = 1000;

class MessageTypes {
 public:
  // Errc::kInvalidArgument for id 0 or min_version > max_version;
  // kAlreadyExists for an id already added.
  Status add(const MessageType& type);
  // The type with this id, or null.
  const MessageType* find(uint16_t id) const;
  // Whether a frame of this header's type and version may be handled:
  // Errc::kInvalidArgument "messenger: unknown message type" (the value is
  // the id) or "messenger: a version of the message type this node does not
  // speak" (the value is the version).
  Status check(const FrameHeader& header) const;

 private:
  std::vector<MessageType> types_;  // sorted by id
};

}  // namespace ebb::messenger
