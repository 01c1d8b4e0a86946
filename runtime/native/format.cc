#include "runtime/native/format.h"

#include <cstdint>

namespace ebb::native {
namespace {

// Writes into out[0..size), counting past the end.
struct Sink {
  char* out;
  std::size_t size;
  std::size_t n = 0;
  void put(char c) {
    if (n + 1 < size) out[n] = c;
    ++n;
  }
  void repeat(char c, int count) {
    for (int i = 0; i < count; ++i) put(c);
  }
};

struct Spec {
  bool left = false, zero = false, plus = false, space = false, alternate = false;
  int width = 0;
  int precision = -1;
};

// The digits of v in `base`, least significant first; returns how many.
int digits_of(uint64_t v, unsigned base, bool upper, char* digits) {
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  int n = 0;
  do {
    digits[n++] = set[v % base];
    v /= base;
  } while (v != 0);
  return n;
}

void emit_number(Sink& s, const Spec& spec, uint64_t magnitude, bool negative, unsigned base,
                 bool upper, const char* prefix) {
  char digits[24];
  int count = digits_of(magnitude, base, upper, digits);
  if (spec.precision == 0 && magnitude == 0) count = 0;  // "%.0d" of 0 prints nothing
  const int precision_zeros = spec.precision > count ? spec.precision - count : 0;
  const char sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '\0';
  int prefix_length = 0;
  while (prefix[prefix_length] != '\0') ++prefix_length;
  const int body = count + precision_zeros + (sign != '\0' ? 1 : 0) + prefix_length;
  const int pad = spec.width > body ? spec.width - body : 0;
  const bool zero_pad = spec.zero && !spec.left && spec.precision < 0;
  if (!spec.left && !zero_pad) s.repeat(' ', pad);
  if (sign != '\0') s.put(sign);
  for (int i = 0; i < prefix_length; ++i) s.put(prefix[i]);
  if (zero_pad) s.repeat('0', pad);
  s.repeat('0', precision_zeros);
  while (count > 0) s.put(digits[--count]);
  if (spec.left) s.repeat(' ', pad);
}

void emit_text(Sink& s, const Spec& spec, const char* text) {
  if (text == nullptr) text = "(null)";
  int length = 0;
  while (text[length] != '\0' && (spec.precision < 0 || length < spec.precision)) ++length;
  const int pad = spec.width > length ? spec.width - length : 0;
  if (!spec.left) s.repeat(' ', pad);
  for (int i = 0; i < length; ++i) s.put(text[i]);
  if (spec.left) s.repeat(' ', pad);
}

// Fixed-point only (%f), exact for values whose integer part fits 64 bits.
void emit_fixed(Sink& s, const Spec& spec, double v) {
  const int precision = spec.precision < 0 ? 6 : spec.precision > 17 ? 17 : spec.precision;
  char text[64];
  int n = 0;
  const bool negative = v < 0;
  if (negative) v = -v;
  if (v != v) {
    Spec plain = spec;
    plain.precision = -1;
    emit_text(s, plain, "nan");
    return;
  }
  if (v > 1.8e19) {
    Spec plain = spec;
    plain.precision = -1;
    emit_text(s, plain, negative ? "-inf" : "inf");
    return;
  }
  double scale = 1;
  for (int i = 0; i < precision; ++i) scale *= 10;
  // Round to nearest at the last digit, ties to even (as glibc does for
  // values that are exact ties in binary, such as 2.5 or 0.125).
  uint64_t whole = static_cast<uint64_t>(v);
  const double scaled = (v - static_cast<double>(whole)) * scale;
  uint64_t part = static_cast<uint64_t>(scaled);
  const double rest = scaled - static_cast<double>(part);
  const bool last_odd = precision > 0 ? (part & 1) != 0 : (whole & 1) != 0;
  if (rest > 0.5 || (rest == 0.5 && last_odd)) ++part;
  if (static_cast<double>(part) >= scale) {
    part -= static_cast<uint64_t>(scale);
    ++whole;
  }
  if (negative) text[n++] = '-';
  else if (spec.plus) text[n++] = '+';
  else if (spec.space) text[n++] = ' ';
  char digits[24];
  int count = digits_of(whole, 10, false, digits);
  while (count > 0) text[n++] = digits[--count];
  if (precision > 0 || spec.alternate) text[n++] = '.';
  count = digits_of(part, 10, false, digits);
  for (int i = count; i < precision; ++i) text[n++] = '0';
  if (precision > 0)
    while (count > 0) text[n++] = digits[--count];
  text[n] = '\0';
  const int pad = spec.width > n ? spec.width - n : 0;
  const bool zero_pad = spec.zero && !spec.left;
  int at = 0;
  if (!spec.left && !zero_pad) s.repeat(' ', pad);
  if (zero_pad && (text[0] == '-' || text[0] == '+' || text[0] == ' ')) s.put(text[at++]);
  if (zero_pad) s.repeat('0', pad);
  for (; at < n; ++at) s.put(text[at]);
  if (spec.left) s.repeat(' ', pad);
}

}  // namespace

int format(char* out, std::size_t size, const char* f, va_list args) {
  Sink s{out, size};
  while (*f != '\0') {
    if (*f != '%') {
      s.put(*f++);
      continue;
    }
    ++f;
    Spec spec;
    for (;; ++f) {
      if (*f == '-') spec.left = true;
      else if (*f == '0') spec.zero = true;
      else if (*f == '+') spec.plus = true;
      else if (*f == ' ') spec.space = true;
      else if (*f == '#') spec.alternate = true;
      else break;
    }
    if (*f == '*') {
      spec.width = va_arg(args, int);
      if (spec.width < 0) {
        spec.left = true;
        spec.width = -spec.width;
      }
      ++f;
    } else {
      while (*f >= '0' && *f <= '9') spec.width = spec.width * 10 + (*f++ - '0');
    }
    if (*f == '.') {
      ++f;
      spec.precision = 0;
      if (*f == '*') {
        spec.precision = va_arg(args, int);
        if (spec.precision < 0) spec.precision = -1;
        ++f;
      } else {
        while (*f >= '0' && *f <= '9') spec.precision = spec.precision * 10 + (*f++ - '0');
      }
    }
    // Length: how wide the argument is (int, long, long long and the rest
    // are all 4 or 8 bytes on x86-64).
    int bits = 32;
    int narrow = 0;  // hh: 8, h: 16
    for (;; ++f) {
      if (*f == 'h') narrow = narrow == 16 ? 8 : 16;
      else if (*f == 'l' || *f == 'z' || *f == 'j' || *f == 't' || *f == 'q') bits = 64;
      else break;
    }
    const char conversion = *f;
    if (conversion == '\0') break;
    ++f;
    switch (conversion) {
      case 'd':
      case 'i': {
        int64_t v = bits == 64 ? va_arg(args, int64_t) : va_arg(args, int);
        if (narrow == 8) v = static_cast<int8_t>(v);
        else if (narrow == 16) v = static_cast<int16_t>(v);
        const uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        emit_number(s, spec, magnitude, v < 0, 10, false, "");
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        uint64_t v = bits == 64 ? va_arg(args, uint64_t) : va_arg(args, unsigned);
        if (narrow == 8) v = static_cast<uint8_t>(v);
        else if (narrow == 16) v = static_cast<uint16_t>(v);
        Spec unsigned_spec = spec;
        unsigned_spec.plus = unsigned_spec.space = false;
        const unsigned base = conversion == 'o' ? 8 : conversion == 'u' ? 10 : 16;
        const char* prefix = "";
        if (spec.alternate && v != 0) prefix = conversion == 'x' ? "0x" : conversion == 'X' ? "0X" : "";
        if (spec.alternate && conversion == 'o' && spec.precision <= 1) prefix = v != 0 ? "0" : "";
        emit_number(s, unsigned_spec, v, false, base, conversion == 'X', prefix);
        break;
      }
      case 'p': {
        const auto v = reinterpret_cast<uint64_t>(va_arg(args, void*));
        Spec pointer = spec;
        pointer.plus = pointer.space = false;
        if (v == 0) emit_text(s, pointer, "(nil)");
        else emit_number(s, pointer, v, false, 16, false, "0x");
        break;
      }
      case 'c': {
        const char text[2] = {static_cast<char>(va_arg(args, int)), '\0'};
        Spec one = spec;
        one.precision = -1;
        if (text[0] == '\0') {  // a NUL character still counts
          if (!spec.left) s.repeat(' ', spec.width - 1);
          s.put('\0');
          if (spec.left) s.repeat(' ', spec.width - 1);
        } else {
          emit_text(s, one, text);
        }
        break;
      }
      case 's': emit_text(s, spec, va_arg(args, const char*)); break;
      case 'f':
      case 'F': emit_fixed(s, spec, va_arg(args, double)); break;
      case '%': s.put('%'); break;
      default:  // unknown: printed as written
        s.put('%');
        s.put(conversion);
        break;
    }
  }
  if (size > 0) out[s.n < size ? s.n : size - 1] = '\0';
  return static_cast<int>(s.n);
}

}  // namespace ebb::native
