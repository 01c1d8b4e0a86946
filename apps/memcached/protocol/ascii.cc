#include "apps/memcached/protocol/ascii.h"

#include <cstring>
#include <string_view>

#include "apps/memcached/protocol/meta.h"
#include "apps/memcached/protocol/stats.h"
#include "apps/memcached/protocol/words.h"
#include "apps/memcached/store/number.h"
#include "runtime/bytes.h"

namespace ebb::memcached::ascii {

namespace {

using std::string_view;

// The most tokens any command other than a retrieval takes ("cas" with
// noreply has 7); one more tells "too many".
constexpr std::size_t kMaxTokens = 8;

constexpr string_view kBadFormat = "CLIENT_ERROR bad command line format\r\n";

struct Line : Words<kMaxTokens> {
  bool noreply = false;  // the last word is "noreply"
};

Line split_line(string_view text) {
  Line line;
  split_words(text, &line);
  line.noreply = line.count > 1 && line.at[line.count - 1] == "noreply";
  return line;
}

// The next space-separated word of `rest`, which moves past it.
string_view next_word(string_view& rest) {
  std::size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') ++i;
  // memchr for the end: keys are long enough for its wide compares to pay.
  const void* space = i < rest.size() ? std::memchr(rest.data() + i, ' ', rest.size() - i) : nullptr;
  const std::size_t end =
      space != nullptr ? static_cast<std::size_t>(static_cast<const char*>(space) - rest.data())
                       : rest.size();
  string_view word = rest.substr(i, end - i);
  rest.remove_prefix(end);
  return word;
}

// memcached reads exptime as a signed 32-bit number.
bool parse_exptime(string_view text, int64_t* out) {
  return parse_i64(text, INT32_MIN, INT32_MAX, out);
}

class Handler {
 public:
  Handler(Context& context, Reply& out) : c_(context), out_(out) {}

  // Replies unless the request said noreply.
  void reply(const Line& line, string_view text) {
    if (!line.noreply) out_.write(text);
  }

  Handled retrieve(string_view keys, std::size_t consumed, bool with_cas, bool touch);
  Handled store(const Line& line, StoreMode mode, bool with_cas, const char* data,
                std::size_t length, std::size_t consumed);
  void remove(const Line& line);
  void arith(const Line& line, bool incr);
  void touch(const Line& line);
  void flush_all(const Line& line);
  void stats(const Line& line);
  void verbosity(const Line& line);
  void cache_memlimit(const Line& line);

 private:
  void write_value(const Item* item, bool with_cas);

  Context& c_;
  Reply& out_;
};

// "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n", written in one piece.
void Handler::write_value(const Item* item, bool with_cas) {
  char flags[kMaxDecimalDigits], length[kMaxDecimalDigits], cas[kMaxDecimalDigits];
  const std::size_t flags_n = format_decimal(item->client_flags, flags);
  const std::size_t length_n = format_decimal(item->value_length, length);
  const std::size_t cas_n = with_cas ? format_decimal(c_.visible_cas(item->cas), cas) : 0;
  const string_view key = item->key();
  const std::size_t total = 6 + key.size() + 1 + flags_n + 1 + length_n + (with_cas ? 1 + cas_n : 0) +
                            2 + item->value_length + 2;
  uint8_t* at = out_.claim(total);
  if (at == nullptr) return;
  auto put = [&at](const void* bytes, std::size_t n) {
    copy_bytes(at, bytes, n);
    at += n;
  };
  put("VALUE ", 6);
  put(key.data(), key.size());
  *at++ = ' ';
  put(flags, flags_n);
  *at++ = ' ';
  put(length, length_n);
  if (with_cas) {
    *at++ = ' ';
    put(cas, cas_n);
  }
  put("\r\n", 2);
  put(item->value(), item->value_length);
  put("\r\n", 2);
}

// get/gets <key>*, gat/gats <exptime> <key>*. Every key is checked before
// any value is written, so a bad key never leaves half an answer.
[[gnu::flatten]] Handled Handler::retrieve(string_view keys, std::size_t consumed, bool with_cas,
                                          bool touch) {
  ServerTime exptime = 0;
  if (touch) {
    int64_t seconds = 0;
    const string_view when = next_word(keys);
    if (when.empty()) {
      out_.write("ERROR\r\n");
      return {consumed};
    }
    if (!parse_exptime(when, &seconds)) {
      out_.write("CLIENT_ERROR invalid exptime argument\r\n");
      return {consumed};
    }
    exptime = c_.clock.expiry(seconds);
  }
  // One pass splits and checks the keys of a usual request; a request with
  // more keys than fit here is checked whole first and split again after.
  constexpr std::size_t kSplitKeys = 16;
  struct Key {  // (not string_view: an array of those would be zeroed first)
    const char* data;
    std::size_t size;
  } split[kSplitKeys];
  std::size_t count = 0;
  string_view scan = keys;
  for (string_view key = next_word(scan); !key.empty(); key = next_word(scan)) {
    if (key.size() > kMaxKeyLength) {
      out_.write(kBadFormat);
      return {consumed};
    }
    if (count < kSplitKeys) split[count] = {key.data(), key.size()};
    ++count;
    if (scan.empty()) break;  // (the usual end: no trailing space to scan)
  }
  if (count == 0 && !touch) {  // "gat <exptime>" alone is an empty answer
    out_.write("ERROR\r\n");
    return {consumed};
  }
  auto serve = [&](string_view key) {
    const Item* item = c_.table.find(key, c_.now);
    if (touch) {
      bump_counter(c_.counters.cmd_touch);
      bump_counter(item != nullptr ? c_.counters.touch_hits : c_.counters.touch_misses);
    }
    bump_counter(c_.counters.cmd_get);
    if (item == nullptr) {
      bump_counter(c_.counters.get_misses);
      return;
    }
    bump_counter(c_.counters.get_hits);
    if (touch) ItemTable::set_exptime(item, exptime);
    ItemTable::note_read(item, c_.now);
    write_value(item, with_cas);
  };
  if (count <= kSplitKeys) {
    for (std::size_t i = 0; i < count; ++i) serve(string_view(split[i].data, split[i].size));
  } else {
    for (string_view key = next_word(keys); !key.empty(); key = next_word(keys)) serve(key);
  }
  out_.write("END\r\n");
  return {consumed};
}

// <cmd> <key> <flags> <exptime> <bytes> [<cas unique>] [noreply], then the
// data block and "\r\n".
Handled Handler::store(const Line& line, StoreMode mode, bool with_cas, const char* data,
                       std::size_t length, std::size_t consumed) {
  const std::size_t want = with_cas ? 6 : 5;
  if (line.count != want && !(line.count == want + 1 && line.noreply)) {
    out_.write("ERROR\r\n");
    return {consumed};
  }
  const string_view key = line.at[1];
  uint32_t flags = 0;
  int64_t exptime = 0;
  int64_t bytes = 0;
  uint64_t cas = 0;
  if (key.size() > kMaxKeyLength || !parse_u32(line.at[2], &flags) ||
      !parse_exptime(line.at[3], &exptime) ||
      !parse_i64(line.at[4], INT32_MIN, INT32_MAX, &bytes) ||
      (with_cas && !parse_u64(line.at[5], &cas)) || bytes < 0 || bytes > INT32_MAX - 2) {
    // The data block cannot be found without a length: memcached treats it
    // as further commands too.
    reply(line, kBadFormat);
    return {consumed};
  }
  const auto value_length = static_cast<std::size_t>(bytes);
  bool too_large = false;
  Item* item = nullptr;
  if (!c_.table.fits(key.size(), value_length)) {
    too_large = true;
  } else if (consumed + value_length + 2 > length) {
    return {0, consumed + value_length + 2};  // wait for the whole block
  } else {
    item = c_.table.allocate(key, flags, c_.clock.expiry(exptime), value_length, &too_large);
  }
  bump_counter(c_.counters.cmd_set);
  if (item == nullptr) {
    if (too_large) {
      bump_counter(c_.counters.store_too_large);
      reply(line, "SERVER_ERROR object too large for cache\r\n");
    } else {
      bump_counter(c_.counters.store_no_memory);
      reply(line, "SERVER_ERROR out of memory storing object\r\n");
    }
    // A failed set must not leave the old value behind (memcached's rule).
    if (mode == StoreMode::kSet && !with_cas) c_.table.remove(key, {}, c_.now);
    return {consumed, 0, value_length + 2};
  }
  const char* block = data + consumed;
  if (block[value_length] != '\r' || block[value_length + 1] != '\n') {
    ItemTable::release(item);
    reply(line, "CLIENT_ERROR bad data chunk\r\n");
    return {consumed + value_length + 2};
  }
  std::memcpy(item->value(), block, value_length);
  StoreRequest request;
  request.mode = mode;
  request.compare_cas = with_cas;
  request.cas = cas;
  switch (c_.table.store(item, request, c_.now)) {
    case StoreStatus::kStored:
      if (with_cas) bump_counter(c_.counters.cas_hits);
      reply(line, "STORED\r\n");
      break;
    case StoreStatus::kNotStored:
      reply(line, "NOT_STORED\r\n");
      break;
    case StoreStatus::kExists:
      bump_counter(c_.counters.cas_badval);
      reply(line, "EXISTS\r\n");
      break;
    case StoreStatus::kNotFound:
      bump_counter(c_.counters.cas_misses);
      reply(line, "NOT_FOUND\r\n");
      break;
    case StoreStatus::kTooLarge:
      bump_counter(c_.counters.store_too_large);
      reply(line, "SERVER_ERROR object too large for cache\r\n");
      break;
    case StoreStatus::kNoMemory:
      bump_counter(c_.counters.store_no_memory);
      reply(line, "SERVER_ERROR out of memory storing object\r\n");
      break;
  }
  return {consumed + value_length + 2};
}

// delete <key> [0] [noreply]: the old hold time is accepted only as 0.
void Handler::remove(const Line& line) {
  if (line.count > 2) {
    const bool hold_is_zero = line.at[2] == "0";
    const bool valid = (line.count == 3 && (hold_is_zero || line.noreply)) ||
                       (line.count == 4 && hold_is_zero && line.noreply);
    if (!valid) {
      out_.write("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
      return;
    }
  }
  const string_view key = line.at[1];
  if (key.size() > kMaxKeyLength) {
    reply(line, kBadFormat);
    return;
  }
  if (c_.table.remove(key, {}, c_.now) == DeleteStatus::kDeleted) {
    bump_counter(c_.counters.delete_hits);
    reply(line, "DELETED\r\n");
  } else {
    bump_counter(c_.counters.delete_misses);
    reply(line, "NOT_FOUND\r\n");
  }
}

// incr|decr <key> <delta> [noreply]
void Handler::arith(const Line& line, bool incr) {
  const string_view key = line.at[1];
  if (key.size() > kMaxKeyLength) {
    reply(line, kBadFormat);
    return;
  }
  ArithRequest request;
  request.incr = incr;
  if (!parse_u64(line.at[2], &request.delta)) {
    reply(line, "CLIENT_ERROR invalid numeric delta argument\r\n");
    return;
  }
  const ArithResult result = c_.table.arith(key, request, c_.now);
  auto& hits = incr ? c_.counters.incr_hits : c_.counters.decr_hits;
  auto& misses = incr ? c_.counters.incr_misses : c_.counters.decr_misses;
  switch (result.status) {
    case ArithStatus::kOk:
      bump_counter(hits);
      if (!line.noreply) {
        out_.write_decimal(result.value);
        out_.write("\r\n");
      }
      break;
    case ArithStatus::kNotFound:
    case ArithStatus::kExists:
      bump_counter(misses);
      reply(line, "NOT_FOUND\r\n");
      break;
    case ArithStatus::kNonNumeric:
      reply(line, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
      break;
    case ArithStatus::kNoMemory:
      reply(line, "SERVER_ERROR out of memory\r\n");
      break;
  }
}

// touch <key> <exptime> [noreply]
void Handler::touch(const Line& line) {
  const string_view key = line.at[1];
  if (key.size() > kMaxKeyLength) {
    reply(line, kBadFormat);
    return;
  }
  int64_t exptime = 0;
  if (!parse_exptime(line.at[2], &exptime)) {
    reply(line, "CLIENT_ERROR invalid exptime argument\r\n");
    return;
  }
  bump_counter(c_.counters.cmd_touch);
  const Item* item = c_.table.find(key, c_.now);
  if (item == nullptr) {
    bump_counter(c_.counters.touch_misses);
    reply(line, "NOT_FOUND\r\n");
    return;
  }
  bump_counter(c_.counters.touch_hits);
  ItemTable::set_exptime(item, c_.clock.expiry(exptime));
  ItemTable::note_read(item, c_.now);
  reply(line, "TOUCHED\r\n");
}

// flush_all [delay] [noreply]
void Handler::flush_all(const Line& line) {
  int64_t delay = 0;
  const std::size_t args = line.count - 1 - (line.noreply ? 1 : 0);
  if (args > 1) {
    out_.write("ERROR\r\n");
    return;
  }
  if (args == 1 && !parse_exptime(line.at[1], &delay)) {
    reply(line, "CLIENT_ERROR invalid exptime argument\r\n");
    return;
  }
  bump_counter(c_.counters.cmd_flush);
  c_.table.flush(delay > 0 ? c_.clock.expiry(delay) : 0, c_.now);
  reply(line, "OK\r\n");
}

void Handler::stats(const Line& line) {
  const string_view group = line.count > 1 ? line.at[1] : string_view();
  if (line.count > 2) {
    out_.write("ERROR\r\n");
    return;
  }
  if (group == "reset") {  // counters keep counting: memcached clients only want the reply
    out_.write("RESET\r\n");
    return;
  }
  std::size_t mark = out_.length();
  auto sink = [](void* arg, string_view name, string_view value) {
    auto* out = static_cast<Reply*>(arg);
    out->write("STAT ");
    out->write(name);
    out->write_char(' ');
    out->write(value);
    out->write("\r\n");
  };
  if (!emit_stats(c_, group, sink, &out_)) {
    out_.truncate(mark);
    out_.write("ERROR\r\n");
    return;
  }
  out_.write("END\r\n");
}

// verbosity <level> [noreply]
void Handler::verbosity(const Line& line) {
  uint32_t level = 0;
  if (!parse_u32(line.at[1], &level)) {
    reply(line, kBadFormat);
    return;
  }
  c_.server.verbosity.store(level, std::memory_order_relaxed);
  reply(line, "OK\r\n");
}

// cache_memlimit <MiB> [noreply]: a new memory limit, applied from the next
// write on (a smaller one evicts as writes come).
void Handler::cache_memlimit(const Line& line) {
  uint32_t mib = 0;
  if (!parse_u32(line.at[1], &mib)) {
    reply(line, kBadFormat);
    return;
  }
  if (mib < 8) {
    reply(line, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n");
    return;
  }
  c_.table.set_memory_limit(std::size_t{mib} << 20);
  reply(line, "OK\r\n");
}

bool is_meta(string_view line) {
  if (line.size() < 2 || line[0] != 'm' || (line.size() > 2 && line[2] != ' ')) return false;
  const char c = line[1];
  return c == 'g' || c == 's' || c == 'd' || c == 'a' || c == 'n' || c == 'e';
}

// Starts with `word` and a space (a multi-key retrieval that may run long).
bool starts_retrieval(const char* data, std::size_t length) {
  std::size_t i = 0;
  while (i < length && data[i] == ' ') ++i;
  if (i > 100) return false;
  const string_view rest(data + i, length - i);
  return rest.starts_with("get ") || rest.starts_with("gets ") || rest.starts_with("gat ") ||
         rest.starts_with("gats ");
}

}  // namespace

Handled handle(Context& context, const char* data, std::size_t length, Reply& out) {
  const std::size_t scan = length < kMaxGetLine ? length : kMaxGetLine;
  const auto* newline = static_cast<const char*>(std::memchr(data, '\n', scan));
  if (newline == nullptr) {
    if (length <= kMaxLine) return {};
    // No end within the limit: only a multi-key retrieval may be this long.
    if (!starts_retrieval(data, length)) return {.close = true};
    if (length < kMaxGetLine) return {};
    out.write("CLIENT_ERROR line too long\r\n");
    return {.close = true};
  }
  const auto line_length = static_cast<std::size_t>(newline - data);
  // The same rule when the end did come: whether a long line is served must
  // not depend on how TCP happened to cut the stream.
  if (line_length > kMaxLine && !starts_retrieval(data, line_length)) return {.close = true};
  const std::size_t consumed = line_length + 1;
  string_view text(data, line_length);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  // The most common command, spelled plainly, skips the dispatch below.
  if (text.size() > 4 && std::memcmp(text.data(), "get ", 4) == 0) {
    Handler handler(context, out);
    return handler.retrieve(text.substr(3), consumed, false, false);
  }
  // memcached's tokenizer skips leading spaces, for meta commands too.
  std::size_t indent = 0;
  while (indent < text.size() && text[indent] == ' ') ++indent;
  if (is_meta(text.substr(indent))) {
    Handled h = meta::handle(context, data + indent, length - indent, line_length - indent, out);
    if (h.consumed > 0) h.consumed += indent;
    if (h.need > 0) h.need += indent;
    return h;
  }

  Handler handler(context, out);
  // Retrievals take any number of keys: they read the line themselves.
  string_view rest = text;
  const string_view command = next_word(rest);
  if (command == "get") return handler.retrieve(rest, consumed, false, false);
  if (command == "gets") return handler.retrieve(rest, consumed, true, false);
  if (command == "gat") return handler.retrieve(rest, consumed, false, true);
  if (command == "gats") return handler.retrieve(rest, consumed, true, true);

  const Line line = split_line(text);
  const std::size_t n = line.count;
  auto wants = [&](std::size_t count) { return n == count || (n == count + 1 && line.noreply); };
  if (command == "set") return handler.store(line, StoreMode::kSet, false, data, length, consumed);
  if (command == "add") return handler.store(line, StoreMode::kAdd, false, data, length, consumed);
  if (command == "replace")
    return handler.store(line, StoreMode::kReplace, false, data, length, consumed);
  if (command == "append")
    return handler.store(line, StoreMode::kAppend, false, data, length, consumed);
  if (command == "prepend")
    return handler.store(line, StoreMode::kPrepend, false, data, length, consumed);
  if (command == "cas") return handler.store(line, StoreMode::kSet, true, data, length, consumed);

  if (command == "delete" && n >= 2 && n <= 4) {
    handler.remove(line);
  } else if ((command == "incr" || command == "decr") && wants(3)) {
    handler.arith(line, command == "incr");
  } else if (command == "touch" && wants(3)) {
    handler.touch(line);
  } else if (command == "flush_all" && n <= 3) {
    handler.flush_all(line);
  } else if (command == "stats") {
    handler.stats(line);
  } else if (command == "version") {  // memcached ignores anything after it
    out.write("VERSION ");
    out.write(kVersion);
    out.write("\r\n");
  } else if (command == "verbosity" && (n == 2 || n == 3)) {
    handler.verbosity(line);
  } else if (command == "cache_memlimit" && (n == 2 || n == 3)) {
    handler.cache_memlimit(line);
  } else if (command == "quit") {
    return {.consumed = consumed, .close = true};
  } else if (command == "shutdown") {
    out.write("ERROR: shutdown not enabled\r\n");
  } else {
    out.write("ERROR\r\n");
  }
  return {consumed};
}

}  // namespace ebb::memcached::ascii
