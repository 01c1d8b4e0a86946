// getopt and getopt_long, as glibc's behave for the programs' flags, with
// one difference: words are not permuted. Scanning stops at the first
// word that is not an option (as with a leading '+' or POSIXLY_CORRECT on
// glibc), so a program that reports `argv[optind]` as unexpected still
// does. "--" ends the options; "-vv" and "-p11211" work; long options take
// "--name=value" or "--name value" and may be shortened to a unique prefix.
// Setting optind to 0 (or back to 1) starts a fresh scan.

#include <getopt.h>

#include <cstdio>
#include <cstring>

extern "C" {

char* optarg = nullptr;
int optind = 1;
int opterr = 1;
int optopt = '?';

}  // extern "C"

namespace {

// Inside a cluster of short options ("-vp11211"): the next letter, and the
// optind it belongs to (a program that moves optind drops the cluster).
const char* g_next = nullptr;
int g_next_index = 0;

struct Spec {
  const char* letters;  // optstring after its '+' or '-'
  bool in_order;        // '-': non-options come back as option 1
  bool quiet;           // ':': no messages, ':' for a missing value
};

Spec parse_spec(const char* optstring) {
  Spec spec{optstring, false, false};
  if (*spec.letters == '+' || *spec.letters == '-') spec.in_order = *spec.letters++ == '-';
  spec.quiet = *spec.letters == ':';
  return spec;
}

int missing_value(const Spec& spec) { return spec.quiet ? ':' : '?'; }

// "--name[=value]" at argv[optind]; `name` points after the dashes.
int long_option(int argc, char* const argv[], const Spec& spec, const char* name,
                const option* longopts, int* longindex) {
  const char* arg = argv[optind];
  const char* equals = std::strchr(name, '=');
  const std::size_t length = equals != nullptr ? static_cast<std::size_t>(equals - name) : std::strlen(name);
  const option* found = nullptr;
  bool ambiguous = false;
  for (const option* o = longopts; o->name != nullptr; ++o) {
    if (std::strncmp(o->name, name, length) != 0) continue;
    if (std::strlen(o->name) == length) {  // exact: wins over any prefix
      found = o;
      ambiguous = false;
      break;
    }
    if (found == nullptr) {
      found = o;
    } else if (found->has_arg != o->has_arg || found->flag != o->flag || found->val != o->val) {
      ambiguous = true;  // glibc lets prefixes of equivalent options pass
    }
  }
  ++optind;
  if (found == nullptr || ambiguous) {
    if (opterr && !spec.quiet)
      std::fprintf(stderr, "%s: %s '%s'\n", argv[0],
                   ambiguous ? "ambiguous option" : "unrecognized option", arg);
    optopt = 0;
    return '?';
  }
  const char* value = name[length] == '=' ? name + length + 1 : nullptr;
  optarg = nullptr;
  if (found->has_arg == no_argument && value != nullptr) {
    if (opterr && !spec.quiet)
      std::fprintf(stderr, "%s: option '--%s' doesn't allow an argument\n", argv[0], found->name);
    optopt = found->val;
    return '?';
  }
  if (found->has_arg == required_argument && value == nullptr) {
    if (optind >= argc) {
      if (opterr && !spec.quiet)
        std::fprintf(stderr, "%s: option '--%s' requires an argument\n", argv[0], found->name);
      optopt = found->val;
      return missing_value(spec);
    }
    value = argv[optind++];  // taken even when it starts with '-', as glibc does
  }
  optarg = const_cast<char*>(value);
  if (longindex != nullptr) *longindex = static_cast<int>(found - longopts);
  if (found->flag != nullptr) {
    *found->flag = found->val;
    return 0;
  }
  return found->val;
}

int scan(int argc, char* const argv[], const char* optstring, const option* longopts,
         int* longindex) {
  if (optind == 0) {  // glibc's full reset
    optind = 1;
    g_next = nullptr;
  }
  const Spec spec = parse_spec(optstring);
  if (g_next == nullptr || *g_next == '\0' || g_next_index != optind) {
    g_next = nullptr;
    if (optind >= argc || argv[optind] == nullptr) return -1;
    const char* arg = argv[optind];
    if (arg[0] != '-' || arg[1] == '\0') {  // a non-option ("-" is one)
      if (!spec.in_order) return -1;
      optarg = argv[optind++];
      return 1;
    }
    if (arg[1] == '-') {
      if (arg[2] == '\0') {  // "--": the options end here
        ++optind;
        return -1;
      }
      if (longopts != nullptr) return long_option(argc, argv, spec, arg + 2, longopts, longindex);
    }
    g_next = arg + 1;
    g_next_index = optind;
  }

  // A short option, maybe one of a cluster.
  const char letter = *g_next++;
  const char* at = letter == ':' ? nullptr : std::strchr(spec.letters, letter);
  const bool word_done = *g_next == '\0';
  if (at == nullptr) {
    if (word_done) ++optind;
    if (opterr && !spec.quiet) std::fprintf(stderr, "%s: invalid option -- '%c'\n", argv[0], letter);
    optopt = letter;
    return '?';
  }
  if (at[1] != ':') {  // takes no value
    if (word_done) ++optind;
    return letter;
  }
  // Takes a value: the rest of the word, or (required only) the next word.
  const char* rest = g_next;
  g_next = nullptr;
  ++optind;
  if (!word_done) {
    optarg = const_cast<char*>(rest);
  } else if (at[2] == ':') {  // optional: only ever attached
    optarg = nullptr;
  } else if (optind < argc) {
    optarg = argv[optind++];
  } else {
    if (opterr && !spec.quiet)
      std::fprintf(stderr, "%s: option requires an argument -- '%c'\n", argv[0], letter);
    optopt = letter;
    return missing_value(spec);
  }
  return letter;
}

}  // namespace

extern "C" {

int getopt(int argc, char* const argv[], const char* optstring) {
  return scan(argc, argv, optstring, nullptr, nullptr);
}

int getopt_long(int argc, char* const argv[], const char* optstring, const option* longopts,
                int* longindex) {
  return scan(argc, argv, optstring, longopts, longindex);
}

}  // extern "C"
