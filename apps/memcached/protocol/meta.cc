#include "apps/memcached/protocol/meta.h"

#include <cstdint>
#include <cstring>
#include <string_view>

#include "apps/memcached/protocol/words.h"
#include "apps/memcached/store/number.h"

namespace ebb::memcached::meta {

namespace {

using std::string_view;

// memcached's tokenizer keeps this many tokens at most; a meta command with
// kTooManyTokens or more is refused before its flags are read.
constexpr std::size_t kMaxTokens = 24;
constexpr std::size_t kTooManyTokens = 20;
// An opaque token, its 'O' included, is at most this long.
constexpr std::size_t kMaxOpaque = 32;
// Where the flags start: after the command and the key (and ms's datalen).
constexpr std::size_t kFirstFlag = 2;
constexpr std::size_t kFirstSetFlag = 3;

constexpr string_view kError = "ERROR";
constexpr string_view kBadFormat = "CLIENT_ERROR bad command line format";
constexpr string_view kBadToken = "CLIENT_ERROR bad token in command line format";
constexpr string_view kBadChunk = "CLIENT_ERROR bad data chunk";
constexpr string_view kInvalidFlag = "CLIENT_ERROR invalid flag";
constexpr string_view kDuplicateFlag = "CLIENT_ERROR duplicate flag";
constexpr string_view kInvalidOrDuplicate = "CLIENT_ERROR invalid or duplicate flag";
constexpr string_view kOpaqueTooLong = "CLIENT_ERROR opaque token too long";
// memcached words this one differently for mg than for the others.
constexpr string_view kGetTooLong = "CLIENT_ERROR options flags are too long";
constexpr string_view kTooLong = "CLIENT_ERROR options flags too long";
constexpr string_view kTooLarge = "SERVER_ERROR object too large for cache";
constexpr string_view kNoMemory = "SERVER_ERROR out of memory storing object";

// ---------------------------------------------------------------------------
// Reading the command line.

using Tokens = Words<kMaxTokens>;

// ---------------------------------------------------------------------------
// Keys, plain or base64 (the b flag).

constexpr char kBase64Digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// A base64 digit's value; '=' (padding) counts as 0; -1 for anything else.
int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  if (c == '=') return 0;
  return -1;
}

}  // namespace

std::size_t base64_decode(string_view in, char* out) {
  std::size_t digits = 0;
  for (char c : in)
    digits += base64_value(c) >= 0 ? 1 : 0;
  if (digits == 0 || digits % 4 != 0) return 0;
  int group[4];
  std::size_t filled = 0;
  std::size_t padding = 0;
  std::size_t n = 0;
  for (char c : in) {
    const int v = base64_value(c);
    if (v < 0) continue;
    if (c == '=') ++padding;
    group[filled++] = v;
    if (filled < 4) continue;
    out[n++] = static_cast<char>((group[0] << 2) | (group[1] >> 4));
    out[n++] = static_cast<char>((group[1] << 4) | (group[2] >> 2));
    out[n++] = static_cast<char>((group[2] << 6) | group[3]);
    filled = 0;
    if (padding == 0) continue;
    if (padding > 2) return 0;
    n -= padding;
    break;
  }
  return n;
}

namespace {

class Key {
 public:
  // The key token as sent: memcached checks its length before any decoding.
  // Control characters are key bytes like any other, as in memcached 1.6
  // (and in the classic commands): only spaces and line ends delimit.
  bool set(string_view token) {
    if (token.size() > kMaxKeyLength) return false;
    text_ = token;
    return true;
  }
  // The b flag: the token is base64 for the key's bytes.
  bool decode() {
    binary_ = true;
    length_ = base64_decode(text_, decoded_);
    return length_ > 0;
  }
  string_view bytes() const { return binary_ ? string_view(decoded_, length_) : text_; }
  bool binary() const { return binary_; }

 private:
  string_view text_;
  // A token of kMaxKeyLength characters decodes to 3/4 as many bytes.
  char decoded_[kMaxKeyLength];
  std::size_t length_ = 0;
  bool binary_ = false;
};

// ---------------------------------------------------------------------------
// Writing a reply line. It is built whole before any of it is written, since
// memcached replaces a half-built line with an error (a long opaque).

class Line {
 public:
  void add(string_view text) {
    if (text.size() > sizeof(bytes_) - size_) return;  // cannot happen: see kBytes
    std::memcpy(bytes_ + size_, text.data(), text.size());
    size_ += text.size();
  }
  void add_decimal(uint64_t v) {
    char digits[kMaxDecimalDigits];
    add({digits, format_decimal(v, digits)});
  }
  void add_signed(int64_t v) {
    if (v < 0) add("-");
    add_decimal(v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v));
  }
  // " <flag>", the start of a returned flag.
  void flag(char f) {
    const char text[2] = {' ', f};
    add({text, 2});
  }
  // A TTL as memcached prints it: -1 for none, else the seconds left in
  // 32-bit arithmetic (an expiry already past wraps, as memcached's does).
  void ttl(ServerTime exptime, ServerTime now) {
    if (exptime == 0)
      add("-1");
    else
      add_decimal(static_cast<uint32_t>(exptime - now));
  }
  // The key (k): a binary key goes back in base64, marked with b.
  void key(const Key& key) {
    flag('k');
    add_key(key);
    if (key.binary()) add(" b");
  }
  void add_key(const Key& key) {
    if (!key.binary()) {
      add(key.bytes());
      return;
    }
    const string_view in = key.bytes();
    char digits[4];
    for (std::size_t i = 0; i < in.size(); i += 3) {
      const std::size_t left = in.size() - i;
      uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
      if (left > 1) group |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
      if (left > 2) group |= static_cast<unsigned char>(in[i + 2]);
      for (int d = 0; d < 4; ++d)
        digits[d] = kBase64Digits[(group >> (18 - 6 * d)) & 63];
      if (left < 3) digits[3] = '=';
      if (left < 2) digits[2] = '=';
      add({digits, 4});
    }
  }
  void end() { add("\r\n"); }
  string_view view() const { return {bytes_, size_}; }

 private:
  // The longest line: "ME " and a base64 key (336 bytes) with its numbers,
  // or VA with every flag mg can return (under 400).
  static constexpr std::size_t kBytes = 1024;
  char bytes_[kBytes];
  std::size_t size_ = 0;
};

// ---------------------------------------------------------------------------
// Flags.

enum class Command : uint8_t { kGet, kSet, kDelete, kArith };

struct Flags {
  bool value = false;        // v
  bool quiet = false;        // q
  bool no_update = false;    // u
  bool invalidate = false;   // I
  bool vivify = false;       // N
  bool has_ttl = false;      // T
  bool has_cas = false;      // C
  bool has_new_cas = false;  // E
  bool empty = false;        // x
  char mode = 0;             // M
  ServerTime exptime = 0;
  ServerTime vivify_exptime = 0;
  ServerTime recache_time = 0;  // R
  uint32_t client_flags = 0;    // F
  uint64_t cas = 0;
  uint64_t new_cas = 0;
  uint64_t delta = 1;    // D
  uint64_t initial = 0;  // J
};

// A TTL token as an expiry, as memcached's realtime() makes it.
bool parse_ttl(const Context& c, string_view text, ServerTime* out) {
  int32_t ttl = 0;
  if (!parse_strtol32(text, &ttl)) return false;
  *out = ttl > 0 && ttl <= ServerClock::kMaxRelative ? c.now + static_cast<ServerTime>(ttl)
                                                     : c.clock.expiry(ttl);
  return true;
}

// E and x (later memcached releases) are accepted where the store honours
// them; memcached 1.6.18 refuses them as invalid flags.
bool accepts(Command command, char flag) {
  if (flag == 'E') return command == Command::kSet || command == Command::kArith;
  if (flag == 'x') return command == Command::kDelete;
  return true;
}

// Reads the flags as memcached's preparse does: every command accepts every
// flag it knows, and ignores those that do not apply to it. Returns the
// error to answer, or an empty view. Like memcached, it goes on past a bad
// token, and the last bad token's message is the one given.
string_view parse_flags(const Context& c, Command command, const Tokens& tokens, std::size_t first,
                        Key* key, Flags* f) {
  bool seen[128] = {};
  bool failed = false;
  string_view error = kBadFormat;
  auto fail_with = [&](string_view message) {
    failed = true;
    error = message;
  };
  for (std::size_t i = first; i < tokens.count; ++i) {
    const string_view token = tokens.at[i];
    const auto flag = static_cast<unsigned char>(token[0]);
    if (flag >= 127 || seen[flag]) return kDuplicateFlag;
    seen[flag] = true;
    if (!accepts(command, static_cast<char>(flag))) return kInvalidFlag;
    const string_view arg = token.substr(1);
    switch (flag) {
      case 'b':
        if (!key->decode()) fail_with("CLIENT_ERROR error decoding key");
        break;
      case 'N':
        f->vivify = true;
        if (!parse_ttl(c, arg, &f->vivify_exptime)) fail_with(kBadToken);
        break;
      case 'T':
        if (!parse_ttl(c, arg, &f->exptime))
          fail_with(kBadToken);
        else
          f->has_ttl = true;
        break;
      case 'R':
        if (!parse_ttl(c, arg, &f->recache_time)) fail_with(kBadToken);
        break;
      case 'F':
        if (!parse_strtoul(arg, &f->client_flags)) failed = true;  // memcached sets no message
        break;
      case 'C':
        if (!parse_strtoull(arg, &f->cas))
          fail_with(kBadToken);
        else
          f->has_cas = true;
        break;
      case 'E':
        if (!parse_strtoull(arg, &f->new_cas))
          fail_with(kBadToken);
        else
          f->has_new_cas = true;
        break;
      case 'M':
        if (token.size() != 2)
          fail_with("CLIENT_ERROR incorrect length for M token");
        else
          f->mode = token[1];
        break;
      case 'J':
        if (!parse_strtoull(arg, &f->initial))
          fail_with("CLIENT_ERROR invalid numeric initial value");
        break;
      case 'D':
        if (!parse_strtoull(arg, &f->delta)) fail_with("CLIENT_ERROR invalid numeric delta value");
        break;
      case 'v':
        f->value = true;
        break;
      case 'q':
        f->quiet = true;
        break;
      case 'u':
        f->no_update = true;
        break;
      case 'I':
        f->invalidate = true;
        break;
      case 'x':
        f->empty = true;
        break;
      case 'c':
      case 'f':
      case 'h':
      case 'k':
      case 'l':
      case 's':
      case 't':
      case 'O':
      case 'P':
      case 'L':
        break;  // reply flags, read when the reply is written (P and L are for proxies)
      default:
        return kInvalidFlag;
    }
  }
  return failed ? error : string_view();
}

bool opaques_fit(const Tokens& tokens, std::size_t first) {
  for (std::size_t i = first; i < tokens.count; ++i)
    if (tokens.at[i][0] == 'O' && tokens.at[i].size() > kMaxOpaque) return false;
  return true;
}

// The O and k flags, which every reply echoes, in the request's order.
void echo_flags(const Tokens& tokens, std::size_t first, const Key& key, Line* line) {
  for (std::size_t i = first; i < tokens.count; ++i) {
    const string_view token = tokens.at[i];
    if (token[0] == 'O') {
      line->add(" ");
      line->add(token);
    } else if (token[0] == 'k') {
      line->key(key);
    }
  }
}

// ---------------------------------------------------------------------------
// Helpers shared by the commands.

Handled answer(Reply& out, string_view message, std::size_t consumed) {
  out.write(message);
  out.write("\r\n");
  return {.consumed = consumed};
}


// A linked item never changes but for its expiry and its bits (item.h);
// the bits are how mg tells one client it won the right to recache.
Item& bits_of(const Item* item) {
  return *const_cast<Item*>(item);
}

// The common checks that open mg, md and ma: the key and the token count.
// Returns the error to answer, or an empty view.
string_view open_command(const Tokens& tokens, string_view too_long, Key* key) {
  if (tokens.count < 2) return kError;
  if (!key->set(tokens.at[1])) return kBadFormat;
  if (tokens.count >= kTooManyTokens) return too_long;
  return {};
}

// ---------------------------------------------------------------------------
// mg

// mg's N on a miss: an empty item, whose creator is told to recache it (W).
const Item* vivify(Context& c, string_view key, ServerTime exptime, bool* created) {
  Item* fresh = c.table.allocate(key, 0, exptime, 0);
  if (fresh == nullptr) return nullptr;  // memcached answers a miss when it cannot create one
  fresh->mark(Item::kWinSent);           // before any other client can see it
  StoreRequest request;
  request.mode = StoreMode::kAdd;
  const StoreStatus status = c.table.store(fresh, request, c.now);
  if (status == StoreStatus::kStored) {
    *created = true;
    return fresh;  // linked, so alive until this event ends even if replaced
  }
  // Another client created it first: a hit on theirs.
  return status == StoreStatus::kNotStored ? c.table.find(key, c.now) : nullptr;
}

Handled get_miss(Context& c, const Tokens& tokens, const Key& key, const Flags& f,
                 std::size_t consumed, Reply& out) {
  bump_counter(c.counters.cmd_get);
  bump_counter(c.counters.get_misses);
  if (!opaques_fit(tokens, kFirstFlag)) return answer(out, kOpaqueTooLong, consumed);
  if (f.quiet) return {.consumed = consumed};
  Line line;
  line.add("EN");
  echo_flags(tokens, kFirstFlag, key, &line);
  line.end();
  out.write(line.view());
  return {.consumed = consumed};
}

// What mg's flags see and change of a hit, as they are read in order.
struct GetState {
  bool created = false;  // by this request's N
  bool fetched = false;  // h: read before this request
  ServerTime last_access = 0;
  bool token_sent = false;  // Z: a client was told to recache it before this request
  ServerTime exptime = 0;   // as T and N leave it
  bool won = false;         // W: this client is to recache it
  bool touched = false;     // T: counted as a touch
};

// One of mg's flags on a hit; false if it is an opaque too long.
bool get_flag(const Context& c, const Flags& f, const Key& key, const Item* item, string_view token,
              GetState* s, Line* line) {
  switch (token[0]) {
    case 'T':
      s->exptime = f.exptime;
      ItemTable::set_exptime(item, s->exptime);
      s->touched = true;
      break;
    case 'N':
      if (!s->created) break;
      s->exptime = f.vivify_exptime;
      ItemTable::set_exptime(item, s->exptime);  // again: a T before it must not stay
      s->won = true;
      break;
    case 'R':
      if (!s->token_sent && !s->created && s->exptime != 0 && s->exptime < f.recache_time)
        s->won = true;
      break;
    case 's':
      line->flag('s');
      line->add_decimal(item->value_length);
      break;
    case 't':
      line->flag('t');
      line->ttl(s->exptime, c.now);
      break;
    case 'c':
      line->flag('c');
      line->add_decimal(c.visible_cas(item->cas));
      break;
    case 'f':
      line->flag('f');
      line->add_decimal(item->client_flags);
      break;
    case 'l':
      line->flag('l');
      line->add_decimal(static_cast<uint32_t>(c.now - s->last_access));
      break;
    case 'h':
      line->flag('h');
      line->add(s->fetched ? "1" : "0");
      break;
    case 'O':
      if (token.size() > kMaxOpaque) return false;
      line->add(" ");
      line->add(token);
      break;
    case 'k':
      line->key(key);
      break;
    default:
      break;
  }
  return true;
}

// The flags memcached adds after the requested ones: Z (another client was
// told to recache), X (stale), W (this client is to recache). A stale item
// wins its first asker the recache, as N and R do.
void add_win_flags(const Item* item, GetState* s, Line* line) {
  const bool stale = item->has(Item::kStale);
  if (stale && !s->token_sent) s->won = true;
  if (s->won && !s->created && !bits_of(item).mark_first(Item::kWinSent)) {
    s->won = false;  // another core's client won in the meantime
    s->token_sent = true;
  }
  if (s->token_sent) line->flag('Z');
  if (stale) line->flag('X');
  if (s->won) line->flag('W');
}

Handled get_hit(Context& c, const Tokens& tokens, const Key& key, const Flags& f, const Item* item,
                bool created, std::size_t consumed, Reply& out) {
  GetState s;
  s.created = created;
  s.fetched = item->has(Item::kFetched);
  s.last_access = item->last_access.load(std::memory_order_relaxed);
  s.token_sent = !created && item->has(Item::kWinSent);
  // memcached creates the item without expiry; its N (or a T) gives it one.
  s.exptime = created ? 0 : item->exptime.load(std::memory_order_relaxed);
  Line line;
  if (f.value) {
    line.add("VA ");
    line.add_decimal(item->value_length);
  } else {
    line.add("HD");
  }
  for (std::size_t i = kFirstFlag; i < tokens.count; ++i)
    if (!get_flag(c, f, key, item, tokens.at[i], &s, &line))
      return answer(out, kOpaqueTooLong, consumed);
  add_win_flags(item, &s, &line);
  line.end();
  out.write(line.view());
  if (f.value) {
    out.write(item->value_view());
    out.write("\r\n");
  }
  if (!f.no_update) ItemTable::note_read(item, c.now);
  // memcached counts an mg that sets a TTL as a touch.
  bump_counter(s.touched ? c.counters.cmd_touch : c.counters.cmd_get);
  bump_counter(s.touched ? c.counters.touch_hits : c.counters.get_hits);
  return {.consumed = consumed};
}

Handled get(Context& c, const Tokens& tokens, std::size_t consumed, Reply& out) {
  Key key;
  if (const string_view error = open_command(tokens, kGetTooLong, &key); !error.empty())
    return answer(out, error, consumed);
  Flags f;
  if (const string_view error = parse_flags(c, Command::kGet, tokens, kFirstFlag, &key, &f);
      !error.empty())
    return answer(out, error, consumed);
  bool created = false;
  const Item* item = c.table.find(key.bytes(), c.now);
  if (item == nullptr && f.vivify) item = vivify(c, key.bytes(), f.vivify_exptime, &created);
  if (item == nullptr) return get_miss(c, tokens, key, f, consumed, out);
  return get_hit(c, tokens, key, f, item, created, consumed, out);
}

// ---------------------------------------------------------------------------
// ms

bool store_mode(char mode, StoreMode* out) {
  switch (mode) {
    case 0:
    case 'S':
      *out = StoreMode::kSet;
      return true;
    case 'E':
      *out = StoreMode::kAdd;
      return true;
    case 'A':
      *out = StoreMode::kAppend;
      return true;
    case 'P':
      *out = StoreMode::kPrepend;
      return true;
    case 'R':
      *out = StoreMode::kReplace;
      return true;
    default:
      return false;
  }
}

// memcached's request for ms's flags. Its C turns set and replace into a
// "cas" (counted as one); add ignores C; append and prepend compare a CAS
// other than 0. I works only on a "cas".
StoreRequest store_request(const Flags& f, StoreMode mode) {
  const bool appending = mode == StoreMode::kAppend || mode == StoreMode::kPrepend;
  const bool cas_command = f.has_cas && (mode == StoreMode::kSet || mode == StoreMode::kReplace);
  StoreRequest request;
  request.mode = mode;
  request.compare_cas = cas_command || (appending && f.has_cas && f.cas != 0);
  request.cas = f.cas;
  request.new_cas = f.has_new_cas ? f.new_cas : 0;
  request.invalidate = cas_command && f.invalidate;
  request.vivify = appending && f.vivify;
  return request;
}

// What a stale write (C with I, a CAS older than the item's) keeps from the
// item it replaces, as memcached does: its expiry and whether a client was
// already told to recache it.
struct Replaced {
  bool present = false;
  ServerTime exptime = 0;
  bool win_sent = false;
};

Replaced snapshot(const Context& c, string_view key) {
  Replaced r;
  if (const Item* item = c.table.find(key, c.now)) {
    r.present = true;
    r.exptime = item->exptime.load(std::memory_order_relaxed);
    r.win_sent = item->has(Item::kWinSent);
  }
  return r;
}

void keep_stale_state(const Context& c, string_view key, uint64_t cas, const Replaced& old) {
  const Item* item = c.table.find(key, c.now);
  if (!old.present || item == nullptr || item->cas != cas || !item->has(Item::kStale)) return;
  ItemTable::set_exptime(item, old.exptime);
  if (old.win_sent) bits_of(item).mark(Item::kWinSent);
}

// memcached drops the stored item when it cannot take the new one, so a
// failed write does not leave an older value to be read.
void drop_stale_value(Context& c, string_view key) {
  c.table.remove(key, DeleteRequest{}, c.now);
}

// The reply code for a store's outcome, memcached's way. Empty: no memory.
string_view store_code(Context& c, StoreStatus status, const StoreRequest& request) {
  const bool cas_command = request.compare_cas && request.mode != StoreMode::kAppend &&
                           request.mode != StoreMode::kPrepend;
  switch (status) {
    case StoreStatus::kStored:
      if (cas_command) bump_counter(c.counters.cas_hits);
      return "HD";
    case StoreStatus::kNotStored:
      return "NS";
    case StoreStatus::kExists:
      if (cas_command) bump_counter(c.counters.cas_badval);
      return "EX";
    case StoreStatus::kNotFound:
      if (!cas_command) return "NS";  // append/prepend to a missing item
      bump_counter(c.counters.cas_misses);
      return "NF";
    case StoreStatus::kTooLarge:
      return "NS";  // an append whose result would be too large
    case StoreStatus::kNoMemory:
      break;
  }
  return {};
}

// Stores a value that has arrived whole and ends in "\r\n".
Handled set_value(Context& c, const Tokens& tokens, const Key& key, const Flags& f, StoreMode mode,
                  string_view value, std::size_t consumed, Reply& out) {
  const StoreRequest request = store_request(f, mode);
  // An append that creates its item (N) gives it N's TTL unless T says otherwise.
  const ServerTime exptime = f.has_ttl ? f.exptime : request.vivify ? f.vivify_exptime : 0;
  bool too_large = false;
  Item* item = c.table.allocate(key.bytes(), f.client_flags, exptime, value.size(), &too_large);
  if (item == nullptr) {
    bump_counter(too_large ? c.counters.store_too_large : c.counters.store_no_memory);
    drop_stale_value(c, key.bytes());
    return answer(out, too_large ? kTooLarge : kNoMemory, consumed);
  }
  bump_counter(c.counters.cmd_set);
  std::memcpy(item->value(), value.data(), value.size());
  const Replaced old = request.invalidate ? snapshot(c, key.bytes()) : Replaced{};
  uint64_t cas = 0;
  const StoreStatus status = c.table.store(item, request, c.now, &cas);
  const string_view code = store_code(c, status, request);
  if (code.empty()) {
    bump_counter(c.counters.store_no_memory);
    drop_stale_value(c, key.bytes());
    return answer(out, kNoMemory, consumed);
  }
  if (status != StoreStatus::kStored)
    cas = 0;  // memcached's c on a failed store
  else if (request.invalidate)
    keep_stale_state(c, key.bytes(), cas, old);
  if (status == StoreStatus::kStored && f.quiet) return {.consumed = consumed};
  Line line;
  line.add(code);
  for (std::size_t i = kFirstSetFlag; i < tokens.count; ++i) {
    const string_view token = tokens.at[i];
    if (token[0] == 'O') {
      line.add(" ");
      line.add(token);
    } else if (token[0] == 'k') {
      line.key(key);
    } else if (token[0] == 'c') {
      line.flag('c');
      line.add_decimal(c.visible_cas(cas));
    }
  }
  line.end();
  out.write(line.view());
  return {.consumed = consumed};
}

Handled set(Context& c, const Tokens& tokens, const char* data, std::size_t length,
            std::size_t line_length, Reply& out) {
  // Errors up to the datalen leave the data to be read as commands, as in memcached.
  if (tokens.count < 2) return answer(out, kError, line_length);
  Key key;
  if (!key.set(tokens.at[1]) || tokens.count == 2) return answer(out, kBadFormat, line_length);
  if (tokens.count >= kTooManyTokens) return answer(out, kTooLong, line_length);
  int32_t size = 0;
  if (!parse_strtol32(tokens.at[2], &size) || size < 0 || size > INT32_MAX - 2)
    return answer(out, kBadFormat, line_length);
  // From here an error skips the data, whether it has arrived or not.
  const std::size_t block = static_cast<std::size_t>(size) + 2;
  auto refuse = [&](string_view message) {
    answer(out, message, line_length);
    return Handled{.consumed = line_length, .swallow = block};
  };
  Flags f;
  if (const string_view error = parse_flags(c, Command::kSet, tokens, kFirstSetFlag, &key, &f);
      !error.empty())
    return refuse(error);
  if (!opaques_fit(tokens, kFirstSetFlag)) return refuse(kOpaqueTooLong);
  StoreMode mode = StoreMode::kSet;
  if (!store_mode(f.mode, &mode)) return refuse("CLIENT_ERROR invalid mode for ms M token");
  if (!c.table.fits(key.bytes().size(), static_cast<std::size_t>(size))) {
    bump_counter(c.counters.store_too_large);
    drop_stale_value(c, key.bytes());
    return refuse(kTooLarge);
  }
  const std::size_t total = line_length + block;
  if (length < total) return {.need = total};
  const char* value = data + line_length;
  if (value[size] != '\r' || value[size + 1] != '\n') {
    bump_counter(c.counters.cmd_set);  // memcached counts it before looking at the end
    return answer(out, kBadChunk, total);
  }
  return set_value(c, tokens, key, f, mode, {value, static_cast<std::size_t>(size)}, total, out);
}

// ---------------------------------------------------------------------------
// md

Handled remove(Context& c, const Tokens& tokens, std::size_t consumed, Reply& out) {
  Key key;
  if (const string_view error = open_command(tokens, kTooLong, &key); !error.empty())
    return answer(out, error, consumed);
  Flags f;
  if (!parse_flags(c, Command::kDelete, tokens, kFirstFlag, &key, &f).empty())
    return answer(out, kInvalidOrDuplicate, consumed);
  if (!opaques_fit(tokens, kFirstFlag)) return answer(out, kOpaqueTooLong, consumed);
  DeleteRequest request;
  request.compare_cas = f.has_cas;
  request.cas = f.cas;
  request.invalidate = f.invalidate;
  request.stale_exptime = f.invalidate && f.has_ttl ? f.exptime : 0;
  request.keep_empty = f.empty && !f.invalidate;  // memcached: I first
  // I keeps the item in place in memcached: whether it was read survives.
  const Item* before = f.invalidate ? c.table.find(key.bytes(), c.now) : nullptr;
  const bool fetched = before != nullptr && before->has(Item::kFetched);
  string_view code;
  switch (c.table.remove(key.bytes(), request, c.now)) {
    case DeleteStatus::kDeleted:
      if (f.invalidate) {
        if (const Item* item = c.table.find(key.bytes(), c.now)) {
          if (f.has_ttl && f.exptime == 0) ItemTable::set_exptime(item, 0);  // T0: no expiry
          if (fetched) bits_of(item).mark(Item::kFetched);
        }
      } else {
        bump_counter(c.counters.delete_hits);
      }
      if (f.quiet) return {.consumed = consumed};
      code = "HD";
      break;
    case DeleteStatus::kNotFound:
      bump_counter(c.counters.delete_misses);
      code = "NF";
      break;
    case DeleteStatus::kExists:
      bump_counter(c.counters.delete_misses);
      code = "EX";
      break;
  }
  Line line;
  line.add(code);
  echo_flags(tokens, kFirstFlag, key, &line);
  line.end();
  out.write(line.view());
  return {.consumed = consumed};
}

// ---------------------------------------------------------------------------
// ma

// After a successful ma: the reply, and its T and N, in the request's order.
Handled arith_done(Context& c, const Tokens& tokens, const Key& key, const Flags& f,
                   const ArithResult& result, bool created, std::size_t consumed, Reply& out) {
  const Item* item = c.table.find(key.bytes(), c.now);
  if (item != nullptr && item->cas != result.cas) item = nullptr;  // already replaced
  // memcached creates the item without expiry and applies N in order.
  ServerTime exptime =
      created || item == nullptr ? 0 : item->exptime.load(std::memory_order_relaxed);
  char digits[kMaxDecimalDigits];
  const std::size_t n = format_decimal(result.value, digits);
  Line line;
  if (f.value) {
    line.add("VA ");
    line.add_decimal(n);
  } else {
    line.add("HD");
  }
  for (std::size_t i = kFirstFlag; i < tokens.count; ++i) {
    const string_view token = tokens.at[i];
    switch (token[0]) {
      case 'c':
        line.flag('c');
        line.add_decimal(c.visible_cas(result.cas));
        break;
      case 't':
        line.flag('t');
        line.ttl(exptime, c.now);
        break;
      case 'T':
        exptime = f.exptime;
        if (item != nullptr) ItemTable::set_exptime(item, exptime);
        break;
      case 'N':
        if (!created) break;
        exptime = f.vivify_exptime;
        if (item != nullptr) ItemTable::set_exptime(item, exptime);
        break;
      case 'O':
        line.add(" ");
        line.add(token);
        break;
      case 'k':
        line.key(key);
        break;
      default:
        break;
    }
  }
  // memcached's q hides a success, but not the reply for an item it created.
  if (f.quiet && !created) return {.consumed = consumed};
  line.end();
  if (f.value) {
    line.add({digits, n});
    line.end();
  }
  out.write(line.view());
  return {.consumed = consumed};
}

Handled arith(Context& c, const Tokens& tokens, std::size_t consumed, Reply& out) {
  Key key;
  if (const string_view error = open_command(tokens, kTooLong, &key); !error.empty())
    return answer(out, error, consumed);
  Flags f;
  if (!parse_flags(c, Command::kArith, tokens, kFirstFlag, &key, &f).empty())
    return answer(out, kInvalidOrDuplicate, consumed);
  ArithRequest request;
  switch (f.mode) {
    case 0:
    case 'I':
    case '+':
      request.incr = true;
      break;
    case 'D':
    case '-':
      request.incr = false;
      break;
    default:
      return answer(out, "CLIENT_ERROR invalid mode for ma M token", consumed);
  }
  request.delta = f.delta;
  request.compare_cas = f.has_cas && f.cas != 0;  // memcached: C0 compares nothing
  request.cas = f.cas;
  request.new_cas = f.has_new_cas ? f.new_cas : 0;
  ArithResult result = c.table.arith(key.bytes(), request, c.now);
  bool created = false;
  if (result.status == ArithStatus::kNotFound && f.vivify) {
    request.vivify = true;
    request.initial = f.initial;
    request.vivify_exptime = f.vivify_exptime;
    result = c.table.arith(key.bytes(), request, c.now);
    if (result.status == ArithStatus::kNoMemory)
      return answer(out, "SERVER_ERROR Out of memory allocating new item", consumed);
    created = result.status == ArithStatus::kOk;
  }
  string_view code;
  switch (result.status) {
    case ArithStatus::kOk:
      if (!created) bump_counter(request.incr ? c.counters.incr_hits : c.counters.decr_hits);
      // memcached checks the opaque only once the number has changed.
      if (!opaques_fit(tokens, kFirstFlag)) return answer(out, kOpaqueTooLong, consumed);
      return arith_done(c, tokens, key, f, result, created, consumed, out);
    case ArithStatus::kNonNumeric:
      return answer(out, "CLIENT_ERROR cannot increment or decrement non-numeric value", consumed);
    case ArithStatus::kNoMemory:
      return answer(out, "SERVER_ERROR out of memory", consumed);
    case ArithStatus::kNotFound:
      bump_counter(request.incr ? c.counters.incr_misses : c.counters.decr_misses);
      code = "NF";
      break;
    case ArithStatus::kExists:
      code = "EX";
      break;
  }
  if (!opaques_fit(tokens, kFirstFlag)) return answer(out, kOpaqueTooLong, consumed);
  Line line;
  line.add(code);
  echo_flags(tokens, kFirstFlag, key, &line);
  line.end();
  out.write(line.view());
  return {.consumed = consumed};
}

// ---------------------------------------------------------------------------
// me

// memcached's ITEM_ntotal for the item: its 48-byte header, the key and a
// NUL, the value and "\r\n", the flags when not 0, and the CAS. Reported
// instead of this server's own item size so that me reads as memcached's.
uint64_t memcached_size(const Context& c, const Item* item) {
  return 48 + uint64_t{item->key_length} + 1 + item->value_length + 2 +
         (item->client_flags != 0 ? 4 : 0) + (c.server.settings.cas ? 8 : 0);
}

Handled debug(Context& c, const Tokens& tokens, std::size_t consumed, Reply& out) {
  Key key;
  if (tokens.count < 2 || !key.set(tokens.at[1])) return answer(out, kBadFormat, consumed);
  if (tokens.count > 2 && tokens.at[2] == "b" && !key.decode())
    return answer(out, kBadFormat, consumed);
  const Item* item = c.table.find(key.bytes(), c.now);  // not an access: no bump
  if (item == nullptr) return answer(out, "EN", consumed);
  const ServerTime exptime = item->exptime.load(std::memory_order_relaxed);
  const ServerTime last_access = item->last_access.load(std::memory_order_relaxed);
  Line line;
  line.add("ME ");
  line.add_key(key);
  // memcached 1.6.18 prints now - exptime: minus the seconds left.
  line.add(" exp=");
  line.add_signed(exptime == 0 ? -1 : static_cast<int32_t>(c.now - exptime));
  line.add(" la=");
  line.add_decimal(static_cast<uint32_t>(c.now - last_access));
  line.add(" cas=");
  line.add_decimal(c.visible_cas(item->cas));
  line.add(item->has(Item::kFetched) ? " fetch=yes" : " fetch=no");
  line.add(" cls=1 size=");  // no slab classes here: every item is in "class 1"
  line.add_decimal(memcached_size(c, item));
  line.end();
  out.write(line.view());
  return {.consumed = consumed};
}

}  // namespace

Handled handle(Context& context, const char* data, std::size_t length, std::size_t newline,
               Reply& out) {
  const std::size_t line_length = newline + 1;
  string_view text(data, newline);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  Tokens tokens;
  split_words(text, &tokens);
  const string_view name = tokens.count > 0 ? tokens.at[0] : string_view();
  if (name.size() != 2 || name[0] != 'm') return answer(out, kError, line_length);
  Handled handled;
  switch (name[1]) {
    case 'g':
      handled = get(context, tokens, line_length, out);
      break;
    case 's':
      handled = set(context, tokens, data, length, line_length, out);
      break;
    case 'd':
      handled = remove(context, tokens, line_length, out);
      break;
    case 'a':
      handled = arith(context, tokens, line_length, out);
      break;
    case 'e':
      handled = debug(context, tokens, line_length, out);
      break;
    case 'n':
      out.write("MN\r\n");
      handled = {.consumed = line_length};
      break;
    default:
      return answer(out, kError, line_length);
  }
  // Counted once handled: an ms waiting for its value comes back here.
  if (handled.consumed > 0) bump_counter(context.counters.cmd_meta);
  return handled;
}

}  // namespace ebb::memcached::meta
