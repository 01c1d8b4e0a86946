#pragma once
// type_name<T>(): a readable name for messages, without RTTI.

#include <string_view>

namespace ebb {

template <class T>
constexpr std::string_view type_name() {
  // g++ spells __PRETTY_FUNCTION__ as "... type_name() [with T = NAME; ...]".
  constexpr std::string_view pretty = __PRETTY_FUNCTION__;
  constexpr std::string_view marker = "T = ";
  constexpr auto begin = pretty.find(marker) + marker.size();
  constexpr auto end = pretty.find_first_of(";]", begin);
  return pretty.substr(begin, end - begin);
}

// A NUL-terminated copy, for printf-style messages.
template <class T>
struct TypeNameStorage {
  static constexpr auto kView = type_name<T>();
  static constexpr auto make() {
    struct Text {
      char chars[kView.size() + 1];
    } text{};
    for (std::size_t i = 0; i < kView.size(); ++i) text.chars[i] = kView[i];
    return text;
  }
  static constexpr auto kText = make();
};

template <class T>
constexpr const char* type_name_cstr() {
  return TypeNameStorage<T>::kText.chars;
}

}  // namespace ebb
