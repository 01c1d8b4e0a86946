#include "ebbs/messenger/message_types.h"

#include <algorithm>

namespace ebb::messenger {

Status MessageTypes::add(const MessageType& type) {
  if (type.id == 0) return Error(Errc::kInvalidArgument, "messenger: message type 0 is no type");
  if (type.min_version > type.max_version)
    return Error(Errc::kInvalidArgument, "messenger: a message type's versions run backwards", type.id);
  auto at = std::lower_bound(types_.begin(), types_.end(), type.id,
                             [](const MessageType& t, uint16_t id) { return t.id < id; });
  if (at != types_.end() && at->id == type.id)
    return Error(Errc::kAlreadyExists, "messenger: a message type with this id is already there", type.id);
  types_.insert(at, type);
  return {};
}

const MessageType* MessageTypes::find(uint16_t id) const {
  auto at = std::lower_bound(types_.begin(), types_.end(), id,
                             [](const MessageType& t, uint16_t want) { return t.id < want; });
  return at != types_.end() && at->id == id ? &*at : nullptr;
}

Status MessageTypes::check(const FrameHeader& header) const {
  const MessageType* type = find(header.type);
  if (type == nullptr) return Error(Errc::kInvalidArgument, "messenger: unknown message type", header.type);
  if (header.type_version < type->min_version || header.type_version > type->max_version)
    return Error(Errc::kInvalidArgument, "messenger: a version of the message type this node does not speak",
                 header.type_version);
  return {};
}

}  // namespace ebb::messenger
