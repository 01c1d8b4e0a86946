#pragma once
// A command line split into words the way memcached's tokenizer splits it:
// on runs of spaces only (a tab or any other control character belongs to
// its word). The ASCII and meta handlers both read lines this way.

#include <cstddef>
#include <string_view>

namespace ebb::memcached {

template <std::size_t N>
struct Words {
  std::string_view at[N];
  std::size_t count = 0;  // N: that many or more
};

template <std::size_t N>
void split_words(std::string_view text, Words<N>* words) {
  std::size_t i = 0;
  while (i < text.size() && words->count < N) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i == text.size()) break;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    words->at[words->count++] = text.substr(start, i - start);
  }
}

}  // namespace ebb::memcached
