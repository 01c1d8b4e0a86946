#include "apps/memcached/protocol/binary.h"

#include <array>
#include <cstring>
#include <string_view>

#include "apps/memcached/protocol/stats.h"
#include "apps/memcached/server/settings.h"
#include "runtime/bytes.h"

namespace ebb::memcached::binary {

namespace {

enum Opcode : uint8_t {
  kOpGet = 0x00,
  kOpSet = 0x01,
  kOpAdd = 0x02,
  kOpReplace = 0x03,
  kOpDelete = 0x04,
  kOpIncrement = 0x05,
  kOpDecrement = 0x06,
  kOpQuit = 0x07,
  kOpFlush = 0x08,
  kOpGetQ = 0x09,
  kOpNoop = 0x0a,
  kOpVersion = 0x0b,
  kOpGetK = 0x0c,
  kOpGetKQ = 0x0d,
  kOpAppend = 0x0e,
  kOpPrepend = 0x0f,
  kOpStat = 0x10,
  kOpSetQ = 0x11,
  kOpAddQ = 0x12,
  kOpReplaceQ = 0x13,
  kOpDeleteQ = 0x14,
  kOpIncrementQ = 0x15,
  kOpDecrementQ = 0x16,
  kOpQuitQ = 0x17,
  kOpFlushQ = 0x18,
  kOpAppendQ = 0x19,
  kOpPrependQ = 0x1a,
  kOpVerbosity = 0x1b,
  kOpTouch = 0x1c,
  kOpGat = 0x1d,
  kOpGatQ = 0x1e,
  kOpGatK = 0x23,
  kOpGatKQ = 0x24,
};

enum Status : uint16_t {
  kSuccess = 0x0000,
  kKeyNotFound = 0x0001,
  kKeyExists = 0x0002,
  kValueTooLarge = 0x0003,
  kInvalidArguments = 0x0004,
  kItemNotStored = 0x0005,
  kNonNumeric = 0x0006,
  kUnknownCommand = 0x0081,
  kOutOfMemory = 0x0082,
};

// The text memcached puts in the body of each error reply; clients show it.
std::string_view status_text(Status status) {
  switch (status) {
    case kKeyNotFound:
      return "Not found";
    case kKeyExists:
      return "Data exists for key.";
    case kValueTooLarge:
      return "Too large.";
    case kInvalidArguments:
      return "Invalid arguments";
    case kItemNotStored:
      return "Not stored.";
    case kNonNumeric:
      return "Non-numeric server-side value for incr or decr";
    case kUnknownCommand:
      return "Unknown command";
    case kOutOfMemory:
      return "Out of memory";
    case kSuccess:
      break;
  }
  return {};
}

// INCREMENT/DECREMENT's expiration that means "do not create a missing key".
constexpr uint32_t kNoVivify = 0xffffffff;

struct Header {
  uint8_t opcode;
  uint8_t extras_length;
  uint8_t data_type;
  uint16_t key_length;
  uint32_t body_length;
  uint32_t opaque;  // in the byte order it came in: it is only echoed
  uint64_t cas;

  std::size_t total() const { return kHeaderBytes + body_length; }
  // The key's end: what a request needs before its value.
  std::size_t head() const { return kHeaderBytes + extras_length + key_length; }
  std::size_t value_length() const { return total() - head(); }
};

Header decode(const uint8_t* p) {
  Header h;
  h.opcode = p[1];
  h.key_length = static_cast<uint16_t>(p[2] << 8 | p[3]);
  h.extras_length = p[4];
  h.data_type = p[5];
  h.body_length = load32(p + 8);
  std::memcpy(&h.opaque, p + 12, sizeof h.opaque);
  h.cas = load64(p + 16);
  return h;
}

// What an opcode asks for: a quiet variant is its loud twin that replies
// only when something went wrong (or, for a get, on a hit).
struct Command {
  Opcode base = kOpGet;
  bool quiet = false;
  bool known = false;
};

constexpr std::array<Command, 256> kCommands = [] {
  std::array<Command, 256> table{};
  for (Opcode op : {kOpGet, kOpSet, kOpAdd, kOpReplace, kOpDelete, kOpIncrement, kOpDecrement,
                    kOpQuit, kOpFlush, kOpNoop, kOpVersion, kOpGetK, kOpAppend, kOpPrepend, kOpStat,
                    kOpVerbosity, kOpTouch, kOpGat, kOpGatK})
    table[op] = {op, false, true};
  const Opcode quiet_twins[][2] = {
      {kOpGetQ, kOpGet},
      {kOpGetKQ, kOpGetK},
      {kOpSetQ, kOpSet},
      {kOpAddQ, kOpAdd},
      {kOpReplaceQ, kOpReplace},
      {kOpDeleteQ, kOpDelete},
      {kOpIncrementQ, kOpIncrement},
      {kOpDecrementQ, kOpDecrement},
      {kOpQuitQ, kOpQuit},
      {kOpFlushQ, kOpFlush},
      {kOpAppendQ, kOpAppend},
      {kOpPrependQ, kOpPrepend},
      {kOpGatQ, kOpGat},
      {kOpGatKQ, kOpGatK},
  };
  for (const auto& [quiet, loud] : quiet_twins)
    table[quiet] = {loud, true, true};
  return table;
}();

// Whether the extras, key and body lengths fit the command: memcached's
// checks, stricter where memcached would read bytes left over in the body
// as the next request.
bool layout_ok(const Header& h, Opcode base) {
  const uint32_t key = h.key_length;
  const uint32_t extras = h.extras_length;
  const uint32_t body = h.body_length;
  switch (base) {
    case kOpGet:
    case kOpGetK:
    case kOpDelete:
      return extras == 0 && key > 0 && body == key;
    case kOpSet:
    case kOpAdd:
    case kOpReplace:
      return extras == 8 && key > 0;
    case kOpAppend:
    case kOpPrepend:
      return extras == 0 && key > 0;
    case kOpIncrement:
    case kOpDecrement:
      return extras == 20 && key > 0 && body == key + extras;
    case kOpTouch:
    case kOpGat:
    case kOpGatK:
      return extras == 4 && key > 0 && body == key + extras;
    case kOpFlush:
      return key == 0 && body == extras && (extras == 0 || extras == 4);
    case kOpVerbosity:
      return extras == 4 && key == 0 && body == extras;
    case kOpStat:
      return extras == 0 && body == key;
    default:
      return extras == 0 && key == 0 && body == 0;  // quit, noop, version
  }
}

bool stores_value(Opcode base) {
  return base == kOpSet || base == kOpAdd || base == kOpReplace || base == kOpAppend ||
         base == kOpPrepend;
}
bool concatenates(Opcode base) {
  return base == kOpAppend || base == kOpPrepend;
}

// A whole request, its parts in place in the input.
struct Request {
  Header header;
  Command command;
  const uint8_t* extras;
  std::string_view key;
  std::string_view value;
};

std::string_view key_of(const uint8_t* data, const Header& h) {
  return {reinterpret_cast<const char*>(data) + kHeaderBytes + h.extras_length, h.key_length};
}

Request parse(const Header& h, Command command, const uint8_t* data) {
  Request r{h, command, data + kHeaderBytes, key_of(data, h), {}};
  r.value = {reinterpret_cast<const char*>(data) + h.head(), h.value_length()};
  return r;
}

// With CAS off (-C) items have none to show or compare, as in memcached.
uint64_t request_cas(const Context& context, const Header& h) {
  return context.visible_cas(h.cas);
}

void write_header(Reply& out, const Header& request, Status status, uint8_t extras_length,
                  std::size_t key_length, std::size_t body_length, uint64_t cas) {
  uint8_t bytes[kHeaderBytes];
  bytes[0] = kResponseMagic;
  bytes[1] = request.opcode;  // the quiet variant's own opcode, as memcached echoes it
  store16(bytes + 2, static_cast<uint16_t>(key_length));
  bytes[4] = extras_length;
  bytes[5] = 0;  // raw bytes
  store16(bytes + 6, status);
  store32(bytes + 8, static_cast<uint32_t>(body_length));
  std::memcpy(bytes + 12, &request.opaque, sizeof request.opaque);
  store64(bytes + 16, cas);
  out.write(bytes, sizeof bytes);
}

// Errors are reported for quiet commands too: that is what makes them safe.
void reply_error(Reply& out, const Header& request, Status status) {
  const std::string_view text = status_text(status);
  write_header(out, request, status, 0, 0, text.size(), 0);
  out.write(text);
}

// Success with nothing to say but the CAS: quiet commands stay silent.
void reply_done(Reply& out, const Request& request, uint64_t cas) {
  if (request.command.quiet) return;
  write_header(out, request.header, kSuccess, 0, 0, 0, cas);
}

Handled closing(std::size_t consumed) {
  return {.consumed = consumed, .close = true};
}

// GET, GETK, TOUCH, GAT, GATK and their quiet variants.
void reply_hit(const Context& context, const Request& request, const Item& item, Reply& out) {
  const Opcode base = request.command.base;
  const std::string_view key =
      base == kOpGetK || base == kOpGatK ? request.key : std::string_view{};
  const std::string_view value = base == kOpTouch ? std::string_view{} : item.value_view();
  write_header(out, request.header, kSuccess, sizeof(uint32_t), key.size(),
               sizeof(uint32_t) + key.size() + value.size(), context.visible_cas(item.cas));
  out.write_be<uint32_t>(item.client_flags);
  out.write(key);
  out.write(value);
}

void reply_miss(const Request& request, Reply& out) {
  if (request.command.quiet) return;  // a quiet get's miss is the absence of a reply
  const Opcode base = request.command.base;
  if (base != kOpGetK && base != kOpGatK) {
    reply_error(out, request.header, kKeyNotFound);
    return;
  }
  // GETK's miss names the key (pipelined multi-gets match replies by it).
  write_header(out, request.header, kKeyNotFound, 0, request.key.size(), request.key.size(), 0);
  out.write(request.key);
}

void handle_get(Context& context, const Request& request, Reply& out) {
  const Opcode base = request.command.base;
  const bool touch = base == kOpTouch || base == kOpGat || base == kOpGatK;
  const Item* item = context.table.find(request.key, context.now);
  Counters& counters = context.counters;
  if (touch) {
    bump_counter(counters.cmd_touch);
    bump_counter(item != nullptr ? counters.touch_hits : counters.touch_misses);
  } else {
    bump_counter(counters.cmd_get);
    bump_counter(item != nullptr ? counters.get_hits : counters.get_misses);
  }
  if (item == nullptr) {
    reply_miss(request, out);
    return;
  }
  // Binary expiry times are unsigned: memcached never reads them as negative.
  if (touch) ItemTable::set_exptime(item, context.clock.expiry(load32(request.extras)));
  ItemTable::note_read(item, context.now);
  reply_hit(context, request, *item, out);
}

// A store that could not even allocate its item. A SET must not leave the
// key's old value behind (a client would read stale data): memcached
// unlinks it, and so do we.
void refuse_store(Context& context, const Header& h, Opcode base, std::string_view key,
                  Status status, Reply& out) {
  Counters& counters = context.counters;
  bump_counter(status == kValueTooLarge ? counters.store_too_large : counters.store_no_memory);
  if (base == kOpSet) context.table.remove(key, DeleteRequest{}, context.now);
  reply_error(out, h, status);
}

StoreRequest store_request(Opcode base, uint64_t cas) {
  StoreRequest r;
  r.compare_cas = cas != 0;
  r.cas = cas;
  switch (base) {
    case kOpAppend:
      r.mode = StoreMode::kAppend;
      break;
    case kOpPrepend:
      r.mode = StoreMode::kPrepend;
      break;
    // memcached turns SET, ADD and REPLACE with a CAS into its "cas" command.
    case kOpAdd:
      r.mode = r.compare_cas ? StoreMode::kSet : StoreMode::kAdd;
      break;
    case kOpReplace:
      r.mode = r.compare_cas ? StoreMode::kSet : StoreMode::kReplace;
      break;
    default:
      r.mode = StoreMode::kSet;
      break;
  }
  return r;
}

void count_store(Counters& counters, const StoreRequest& request, StoreStatus status) {
  if (status == StoreStatus::kTooLarge) bump_counter(counters.store_too_large);
  if (status == StoreStatus::kNoMemory) bump_counter(counters.store_no_memory);
  if (!request.compare_cas || request.mode != StoreMode::kSet) return;
  if (status == StoreStatus::kStored) bump_counter(counters.cas_hits);
  if (status == StoreStatus::kExists) bump_counter(counters.cas_badval);
  if (status == StoreStatus::kNotFound) bump_counter(counters.cas_misses);
}

// memcached's statuses for a store that did not happen: ADD finds the key
// there, REPLACE finds it missing, and APPEND/PREPEND just did not store
// (a concatenation grown past the item limit included).
Status store_failure(Opcode base, StoreStatus status) {
  switch (status) {
    case StoreStatus::kExists:
      return kKeyExists;
    case StoreStatus::kNoMemory:
      return kOutOfMemory;
    case StoreStatus::kNotFound:
      return concatenates(base) ? kItemNotStored : kKeyNotFound;
    default:
      break;
  }
  if (base == kOpAdd) return kKeyExists;
  if (base == kOpReplace) return kKeyNotFound;
  return kItemNotStored;
}

void handle_store(Context& context, const Request& request, Reply& out) {
  const Opcode base = request.command.base;
  bump_counter(context.counters.cmd_set);
  const bool has_extras = !concatenates(base);
  const uint32_t flags = has_extras ? load32(request.extras) : 0;
  const uint32_t exptime = has_extras ? load32(request.extras + 4) : 0;
  bool too_large = false;
  Item* item = context.table.allocate(request.key, flags, context.clock.expiry(exptime),
                                      request.value.size(), &too_large);
  if (item == nullptr) {
    refuse_store(context, request.header, base, request.key,
                 too_large ? kValueTooLarge : kOutOfMemory, out);
    return;
  }
  std::memcpy(item->value(), request.value.data(), request.value.size());
  const StoreRequest store = store_request(base, request_cas(context, request.header));
  uint64_t cas = 0;
  const StoreStatus status = context.table.store(item, store, context.now, &cas);
  count_store(context.counters, store, status);
  if (status == StoreStatus::kStored) {
    reply_done(out, request, context.visible_cas(cas));
  } else {
    reply_error(out, request.header, store_failure(base, status));
  }
}

// A value too large to ever be stored: reply now and let the session
// discard the value as it arrives rather than buffer it. Waits for the key
// first (a few hundred bytes at most), which a refused SET removes.
Handled refuse_large_value(Context& context, const Header& h, Opcode base, const uint8_t* data,
                           std::size_t length, Reply& out) {
  if (length < h.head()) return {.need = h.head()};
  bump_counter(context.counters.cmd_set);
  refuse_store(context, h, base, key_of(data, h), kValueTooLarge, out);
  return {.consumed = h.head(), .swallow = h.value_length()};
}

bool value_too_large(const Context& context, const Header& h) {
  return !context.table.fits(h.key_length, h.value_length());
}

void handle_delete(Context& context, const Request& request, Reply& out) {
  DeleteRequest remove;
  remove.cas = request_cas(context, request.header);
  remove.compare_cas = remove.cas != 0;
  switch (context.table.remove(request.key, remove, context.now)) {
    case DeleteStatus::kDeleted:
      bump_counter(context.counters.delete_hits);
      reply_done(out, request, 0);
      return;
    case DeleteStatus::kExists:
      reply_error(out, request.header, kKeyExists);
      return;
    case DeleteStatus::kNotFound:
      bump_counter(context.counters.delete_misses);
      reply_error(out, request.header, kKeyNotFound);
      return;
  }
}

void reply_arith(const Context& context, const Request& request, const ArithResult& result,
                 Reply& out) {
  switch (result.status) {
    case ArithStatus::kOk:
      if (request.command.quiet) return;
      write_header(out, request.header, kSuccess, 0, 0, sizeof(uint64_t),
                   context.visible_cas(result.cas));
      out.write_be<uint64_t>(result.value);
      return;
    case ArithStatus::kNotFound:
      reply_error(out, request.header, kKeyNotFound);
      return;
    case ArithStatus::kNonNumeric:
      reply_error(out, request.header, kNonNumeric);
      return;
    case ArithStatus::kExists:
      reply_error(out, request.header, kKeyExists);
      return;
    case ArithStatus::kNoMemory:
      reply_error(out, request.header, kOutOfMemory);
      return;
  }
}

// Extras: delta (8 bytes), initial value (8), expiration (4).
void handle_arith(Context& context, const Request& request, Reply& out) {
  const bool incr = request.command.base == kOpIncrement;
  Counters& counters = context.counters;
  ArithRequest arith;
  arith.incr = incr;
  arith.delta = load64(request.extras);
  arith.cas = request_cas(context, request.header);
  arith.compare_cas = arith.cas != 0;
  // Tried without creating first, so a miss is counted as one.
  ArithResult result = context.table.arith(request.key, arith, context.now);
  if (result.status == ArithStatus::kNotFound) {
    bump_counter(incr ? counters.incr_misses : counters.decr_misses);
    const uint32_t expiration = load32(request.extras + 16);
    if (expiration != kNoVivify) {
      arith.vivify = true;
      arith.initial = load64(request.extras + 8);
      arith.vivify_exptime = context.clock.expiry(expiration);
      result = context.table.arith(request.key, arith, context.now);
    }
  } else if (result.status == ArithStatus::kOk) {
    bump_counter(incr ? counters.incr_hits : counters.decr_hits);
  }
  reply_arith(context, request, result, out);
}

// Extras, optional: when (an expiry time) the flush takes effect.
void handle_flush(Context& context, const Request& request, Reply& out) {
  const uint32_t delay = request.header.extras_length == 4 ? load32(request.extras) : 0;
  context.table.flush(delay > 0 ? context.clock.expiry(delay) : 0, context.now);
  bump_counter(context.counters.cmd_flush);
  reply_done(out, request, 0);
}

// Each statistic is a packet of its own: the name as key, the value as body.
struct StatWriter {
  Reply* out;
  const Header* request;
};

void write_stat(void* arg, std::string_view name, std::string_view value) {
  const auto* writer = static_cast<const StatWriter*>(arg);
  write_header(*writer->out, *writer->request, kSuccess, 0, name.size(), name.size() + value.size(),
               0);
  writer->out->write(name);
  writer->out->write(value);
}

void handle_stat(Context& context, const Request& request, Reply& out) {
  StatWriter writer{&out, &request.header};
  const std::size_t before = out.length();
  if (!emit_stats(context, request.key, write_stat, &writer)) {
    out.truncate(before);
    reply_error(out, request.header, kKeyNotFound);
    return;
  }
  write_header(out, request.header, kSuccess, 0, 0, 0, 0);  // the empty packet ends the list
}

void handle_version(const Request& request, Reply& out) {
  const std::string_view version = kVersion;
  write_header(out, request.header, kSuccess, 0, 0, version.size(), 0);
  out.write(version);
}

void handle_verbosity(Context& context, const Request& request, Reply& out) {
  context.server.verbosity.store(load32(request.extras), std::memory_order_relaxed);
  reply_done(out, request, 0);
}

Handled dispatch(Context& context, const Request& request, Reply& out) {
  switch (request.command.base) {
    case kOpGet:
    case kOpGetK:
    case kOpTouch:
    case kOpGat:
    case kOpGatK:
      handle_get(context, request, out);
      break;
    case kOpSet:
    case kOpAdd:
    case kOpReplace:
    case kOpAppend:
    case kOpPrepend:
      handle_store(context, request, out);
      break;
    case kOpDelete:
      handle_delete(context, request, out);
      break;
    case kOpIncrement:
    case kOpDecrement:
      handle_arith(context, request, out);
      break;
    case kOpFlush:
      handle_flush(context, request, out);
      break;
    case kOpStat:
      handle_stat(context, request, out);
      break;
    case kOpVersion:
      handle_version(request, out);
      break;
    case kOpVerbosity:
      handle_verbosity(context, request, out);
      break;
    case kOpNoop:
      write_header(out, request.header, kSuccess, 0, 0, 0, 0);
      break;
    case kOpQuit:
      reply_done(out, request, 0);
      return closing(request.header.total());
    default:
      break;  // kCommands holds no other base
  }
  return {.consumed = request.header.total()};
}

}  // namespace

Handled handle(Context& context, const uint8_t* data, std::size_t length, Reply& out) {
  // A wrong magic byte means the stream lost its framing: memcached closes
  // without a word.
  if (length > 0 && data[0] != kRequestMagic) return closing(length);
  if (length < kHeaderBytes) return {.need = kHeaderBytes};
  const Header header = decode(data);
  if (std::size_t{header.key_length} + header.extras_length > header.body_length) {
    reply_error(out, header, kUnknownCommand);  // memcached's answer to lengths that do not add up
    return closing(kHeaderBytes);
  }
  if (header.key_length > kMaxKeyLength || header.data_type != 0) {
    reply_error(out, header, kInvalidArguments);
    return closing(kHeaderBytes);
  }
  const Command command = kCommands[header.opcode];
  if (!command.known) {
    reply_error(out, header, kUnknownCommand);
    return {.consumed = kHeaderBytes, .swallow = header.body_length};
  }
  if (!layout_ok(header, command.base)) {
    reply_error(out, header, kInvalidArguments);
    return closing(kHeaderBytes);
  }
  if (stores_value(command.base) && value_too_large(context, header))
    return refuse_large_value(context, header, command.base, data, length, out);
  if (length < header.total()) return {.need = header.total()};
  return dispatch(context, parse(header, command, data), out);
}

}  // namespace ebb::memcached::binary
