#pragma once
// The in-image test layer: the part of GoogleTest's interface that the
// tests built into native images use (TEST, TEST_F, the EXPECT_ and ASSERT_
// comparisons with streamed messages, GTEST_SKIP), so that one test source
// builds with real gtest on hosted and with this on native. The runner
// (runner.cc) prints gtest's own lines over the serial console.
// Not here: death tests, parameterised and typed tests, matchers.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace testing {

class Test {
 public:
  virtual ~Test() = default;
  virtual void SetUp() {}
  virtual void TearDown() {}
  virtual void TestBody() = 0;
};

namespace internal {
// The running parameterised test's value (TEST_P).
inline const void* g_current_param = nullptr;
}  // namespace internal

template <class T>
class WithParamInterface {
 public:
  using ParamType = T;
  virtual ~WithParamInterface() = default;
  static const T& GetParam() { return *static_cast<const T*>(internal::g_current_param); }
};
template <class T>
class TestWithParam : public Test, public WithParamInterface<T> {};

template <class T>
struct TestParamInfo {
  T param;
  std::size_t index;
};

// Parameter generators: a vector of the values.
template <class T, class... Rest>
std::vector<T> Values(T first, Rest... rest) {
  return std::vector<T>{first, static_cast<T>(rest)...};
}
template <class Container>
auto ValuesIn(const Container& c) {
  return std::vector<typename Container::value_type>(c.begin(), c.end());
}
inline std::vector<bool> Bool() { return {false, true}; }

namespace internal {

// A message built with <<, kept in a fixed buffer (cut when full).
class Message {
 public:
  Message& operator<<(const char* text);
  Message& operator<<(std::string_view text) { return append(text.data(), text.size()); }
  Message& operator<<(const std::string& text) { return append(text.data(), text.size()); }
  Message& operator<<(char c) { return append(&c, 1); }
  Message& operator<<(bool v) { return *this << (v ? "true" : "false"); }
  Message& operator<<(double v);
  Message& operator<<(const void* p);
  template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
  Message& operator<<(T v) {
    if constexpr (std::is_signed_v<T>) return signed_value(static_cast<long long>(v));
    else return unsigned_value(static_cast<unsigned long long>(v));
  }
  template <class T>
    requires std::is_enum_v<T>
  Message& operator<<(T v) {
    return *this << static_cast<std::underlying_type_t<T>>(v);
  }
  const char* text() const { return text_; }

 private:
  Message& append(const char* text, std::size_t n);
  Message& signed_value(long long v);
  Message& unsigned_value(unsigned long long v);
  char text_[512] = {};
  std::size_t length_ = 0;
};

// Prints a value for a failure message: what Message prints, else its bytes' size.
template <class T>
void print_value(Message& m, const T& v) {
  if constexpr (requires { m << v; }) m << v;
  else m << "(a " << sizeof(T) << "-byte value)";
}

// The outcome of a check, with the failure text when it failed.
struct Check {
  bool ok;
  Message text;
};

template <class A, class B, class Op>
Check compare(const char* op_text, const char* a_text, const char* b_text, const A& a, const B& b, Op op) {
  Check c{static_cast<bool>(op(a, b)), {}};
  if (!c.ok) {
    c.text << "Expected: (" << a_text << ") " << op_text << " (" << b_text << "), actual: ";
    print_value(c.text, a);
    c.text << " vs ";
    print_value(c.text, b);
  }
  return c;
}
Check compare_strings(bool want_equal, const char* a_text, const char* b_text, const char* a, const char* b);
Check check_bool(bool value, bool expected, const char* text);
Check failure();

// Records a failure (fatal or not) with its place and message.
class AssertHelper {
 public:
  AssertHelper(const char* file, int line, const Message& what, bool fatal)
      : file_(file), line_(line), what_(what), fatal_(fatal) {}
  void operator=(const Message& extra) const;

 private:
  const char* file_;
  int line_;
  const Message& what_;
  bool fatal_;
};

// Ends the running test as skipped, with the streamed reason.
class SkipHelper {
 public:
  SkipHelper(const char* file, int line) : file_(file), line_(line) {}
  void operator=(const Message& why) const;

 private:
  const char* file_;
  int line_;
};
int register_test(const char* suite, const char* name, Test* (*make)(), const void* param = nullptr);
// Instantiations of parameterised tests run once every TEST_P is known.
int register_expander(void (*expand)());
char* keep_string(const std::string& text);

// The TEST_P bodies of one fixture, for INSTANTIATE_TEST_SUITE_P.
template <class Fixture>
struct ParamTests {
  struct Pattern {
    const char* name;
    Test* (*make)();
  };
  static inline Pattern patterns[256];
  static inline int count = 0;
  static int add(const char* name, Test* (*make)()) {
    patterns[count] = {name, make};
    return count++;
  }
  template <class T, class Namer>
  static void instantiate(const char* prefix, const char* fixture, const std::vector<T>& values, Namer namer) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const T* kept = new T(values[i]);
      const std::string suffix = namer(TestParamInfo<T>{values[i], i});
      for (int p = 0; p < count; ++p)
        register_test(keep_string(std::string(prefix) + "/" + fixture),
                      keep_string(std::string(patterns[p].name) + "/" + suffix), patterns[p].make, kept);
    }
  }
};

struct IndexName {
  template <class T>
  std::string operator()(const TestParamInfo<T>& info) const {
    return std::to_string(info.index);
  }
};
bool has_fatal_failure();

}  // namespace internal
}  // namespace testing

#define EBB_TEST_CLASS_(suite, name) suite##_##name##_Test
#define EBB_TEST_(suite, name, base)                                                        \
  class EBB_TEST_CLASS_(suite, name) : public base {                                        \
   public:                                                                                  \
    void TestBody() override;                                                               \
    static const int registered_;                                                           \
  };                                                                                        \
  const int EBB_TEST_CLASS_(suite, name)::registered_ = ::testing::internal::register_test( \
      #suite, #name, []() -> ::testing::Test* { return new EBB_TEST_CLASS_(suite, name); }); \
  void EBB_TEST_CLASS_(suite, name)::TestBody()

#define TEST(suite, name) EBB_TEST_(suite, name, ::testing::Test)

#define TEST_P(fixture, name)                                                                    \
  class EBB_TEST_CLASS_(fixture, name) : public fixture {                                        \
   public:                                                                                       \
    void TestBody() override;                                                                    \
    static const int registered_;                                                                \
  };                                                                                             \
  const int EBB_TEST_CLASS_(fixture, name)::registered_ =                                        \
      ::testing::internal::ParamTests<fixture>::add(                                             \
          #name, []() -> ::testing::Test* { return new EBB_TEST_CLASS_(fixture, name); });       \
  void EBB_TEST_CLASS_(fixture, name)::TestBody()

#define EBB_TEST_NAMER_(...) EBB_TEST_NAMER_PICK_(__VA_ARGS__, ::testing::internal::IndexName())
#define EBB_TEST_NAMER_PICK_(first, ...) first
#define INSTANTIATE_TEST_SUITE_P(prefix, fixture, generator, ...)                         \
  static const int prefix##_##fixture##_instantiated_ = ::testing::internal::register_expander([] { \
    ::testing::internal::ParamTests<fixture>::instantiate(#prefix, #fixture, generator,    \
                                                          EBB_TEST_NAMER_(__VA_ARGS__));   \
  })
#define TEST_F(fixture, name) EBB_TEST_(fixture, name, fixture)

// `return` for ASSERT_ (out of the test body), nothing for EXPECT_.
#define EBB_TEST_REPORT_(check, fatal, on_failure)                                      \
  if (const ::testing::internal::Check ebb_check_ = (check); ebb_check_.ok)            \
    ;                                                                                   \
  else                                                                                  \
    on_failure ::testing::internal::AssertHelper(__FILE__, __LINE__, ebb_check_.text, fatal) = \
        ::testing::internal::Message()
#define EBB_TEST_EXPECT_(check) EBB_TEST_REPORT_(check, false, )
#define EBB_TEST_ASSERT_(check) EBB_TEST_REPORT_(check, true, return)

#define EBB_TEST_CMP_(op, a, b) \
  ::testing::internal::compare(#op, #a, #b, (a), (b), [](const auto& x, const auto& y) { return x op y; })

#define EXPECT_EQ(a, b) EBB_TEST_EXPECT_(EBB_TEST_CMP_(==, a, b))
#define EXPECT_NE(a, b) EBB_TEST_EXPECT_(EBB_TEST_CMP_(!=, a, b))
#define EXPECT_LT(a, b) EBB_TEST_EXPECT_(EBB_TEST_CMP_(<, a, b))
#define EXPECT_LE(a, b) EBB_TEST_EXPECT_(EBB_TEST_CMP_(<=, a, b))
#define EXPECT_GT(a, b) EBB_TEST_EXPECT_(EBB_TEST_CMP_(>, a, b))
#define EXPECT_GE(a, b) EBB_TEST_EXPECT_(EBB_TEST_CMP_(>=, a, b))
#define ASSERT_EQ(a, b) EBB_TEST_ASSERT_(EBB_TEST_CMP_(==, a, b))
#define ASSERT_NE(a, b) EBB_TEST_ASSERT_(EBB_TEST_CMP_(!=, a, b))
#define ASSERT_LT(a, b) EBB_TEST_ASSERT_(EBB_TEST_CMP_(<, a, b))
#define ASSERT_LE(a, b) EBB_TEST_ASSERT_(EBB_TEST_CMP_(<=, a, b))
#define ASSERT_GT(a, b) EBB_TEST_ASSERT_(EBB_TEST_CMP_(>, a, b))
#define ASSERT_GE(a, b) EBB_TEST_ASSERT_(EBB_TEST_CMP_(>=, a, b))

#define EBB_TEST_BOOL_(c, expected) ::testing::internal::check_bool(static_cast<bool>(c), expected, #c)
#define EXPECT_TRUE(c) EBB_TEST_EXPECT_(EBB_TEST_BOOL_(c, true))
#define EXPECT_FALSE(c) EBB_TEST_EXPECT_(EBB_TEST_BOOL_(c, false))
#define ASSERT_TRUE(c) EBB_TEST_ASSERT_(EBB_TEST_BOOL_(c, true))
#define ASSERT_FALSE(c) EBB_TEST_ASSERT_(EBB_TEST_BOOL_(c, false))

#define EXPECT_STREQ(a, b) EBB_TEST_EXPECT_(::testing::internal::compare_strings(true, #a, #b, (a), (b)))
#define EXPECT_STRNE(a, b) EBB_TEST_EXPECT_(::testing::internal::compare_strings(false, #a, #b, (a), (b)))
#define ASSERT_STREQ(a, b) EBB_TEST_ASSERT_(::testing::internal::compare_strings(true, #a, #b, (a), (b)))

#define ADD_FAILURE() EBB_TEST_EXPECT_(::testing::internal::failure())
#define FAIL() EBB_TEST_ASSERT_(::testing::internal::failure())
#define SUCCEED() static_cast<void>(0)
#define GTEST_SKIP() return ::testing::internal::SkipHelper(__FILE__, __LINE__) = ::testing::internal::Message()

// Death tests need a process to die: the image has one. They are reported,
// not run, and run on hosted.
#define EXPECT_DEATH(statement, pattern)                   \
  do {                                                     \
    if (false) {                                           \
      statement;                                           \
    }                                                      \
    ::testing::internal::death_test_not_run(__FILE__, __LINE__); \
  } while (0)
#define ASSERT_DEATH(statement, pattern) EXPECT_DEATH(statement, pattern)
namespace testing::internal {
void death_test_not_run(const char* file, int line);
int run_all_tests(const char* filter);
}  // namespace testing::internal
