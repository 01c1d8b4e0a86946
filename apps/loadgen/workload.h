#pragma once
// What the load generator asks for: which operation, which key, how big a
// value, and when (Poisson arrivals).
//
// Two workloads:
//   fixed  every key and every value of one size, a fixed share of sets;
//   etc    Facebook's ETC pool (Atikoglu et al., "Workload Analysis of a
//          Large-Scale Key-Value Store", SIGMETRICS 2012): key sizes from a
//          generalized extreme value distribution, value sizes from a table
//          for 0-14 bytes and a generalized Pareto tail above, 30 gets per set.
// Key popularity is uniform over the key space, or Zipf with exponent s.
//
// Everything random draws from an Rng seeded by --seed, so a run's sequence
// of requests is repeatable. A key's size is a function of the key alone (a
// hash of it and the seed), so every get and set of a key name the same
// bytes.

#include <cstddef>
#include <cstdint>

namespace ebb::loadgen {

// xoshiro256**: fast, small state, good enough statistics for sampling.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  // Uniform in [0, 1) and in (0, 1) (for inverse transforms that take logs).
  double uniform();
  double open_uniform();
  // Uniform in [0, n); n > 0.
  uint64_t below(uint64_t n);

 private:
  uint64_t s_[4];
};

// SplitMix64's finalizer: a well-mixed hash of one word.
uint64_t mix64(uint64_t x);

// Quantile functions (inverse CDFs), u in (0, 1).
// Generalized extreme value: location mu, scale sigma, shape xi (xi != 0).
double gev_quantile(double u, double mu, double sigma, double xi);
// Generalized Pareto: location mu, scale sigma, shape xi (xi != 0).
double gpareto_quantile(double u, double mu, double sigma, double xi);

// An exponential inter-arrival gap with the given mean, in nanoseconds:
// the gaps of a Poisson process.
double exponential_gap(Rng& rng, double mean_ns);

// Zipf over ranks 0..n-1 (rank r drawn with weight 1/(r+1)^s), in O(1) per
// draw with no table: rejection-inversion (Hormann and Derflinger 1996).
class ZipfSampler {
 public:
  ZipfSampler(uint64_t n, double s);
  uint64_t sample(Rng& rng) const;

 private:
  double h(double x) const;           // the density, x^-s
  double h_integral(double x) const;  // its integral, (x^(1-s) - 1)/(1-s)
  double h_integral_inverse(double x) const;
  uint64_t n_;
  double s_;
  double h_integral_x1_;
  double h_integral_n_;
  double threshold_;
};

// The ETC pool's fitted distributions.
namespace etc {
inline constexpr double kKeyLocation = 30.7984;
inline constexpr double kKeyScale = 8.20449;
inline constexpr double kKeyShape = 0.078688;
// Value sizes 0..14 bytes, each with its measured probability (together
// 0.44155); sizes of 15 and up follow the Pareto tail with the rest.
inline constexpr int kValueTableSize = 15;
extern const double kValueTable[kValueTableSize];
// The tail starts where the table ends (location 15), so the two parts never
// overlap and the table's probabilities stay what was measured; the paper's
// fit (location 0) would put part of the tail's mass under 15 bytes again.
inline constexpr double kValueLocation = 15.0;
inline constexpr double kValueScale = 214.476;
inline constexpr double kValueShape = 0.348238;
inline constexpr double kSetFraction = 1.0 / 31.0;  // get:set = 30:1
inline constexpr uint32_t kMaxKeySize = 250;        // memcached's limit

// A key size for a uniform u in (0, 1), clamped to [1, 250].
uint32_t key_size(double u);
// A value size, capped at value_max.
uint32_t value_size(Rng& rng, uint32_t value_max);
}  // namespace etc

enum class WorkloadKind : uint8_t { kFixed, kEtc };
enum class Op : uint8_t { kGet, kSet };

struct WorkloadSpec {
  WorkloadKind kind = WorkloadKind::kFixed;
  uint64_t keys = 10000;         // key space: keys 0..keys-1
  uint32_t key_size = 30;        // fixed
  uint32_t value_size = 200;     // fixed
  uint32_t value_max = 1000000;  // etc: the tail's cap (memcached's items stop near 1 MiB)
  double set_fraction = 0.1;     // share of requests that are sets
  double zipf = 0.0;             // 0: uniform popularity; else the Zipf exponent
  uint64_t seed = 1;
};

struct Request {
  uint64_t key;
  uint32_t value_size;  // sets only
  Op op;
};

class Workload {
 public:
  explicit Workload(const WorkloadSpec& spec);

  const WorkloadSpec& spec() const { return spec_; }
  Request next(Rng& rng) const;
  // A set of `key`, with a value size drawn from the workload (preloading).
  Request set_of(uint64_t key, Rng& rng) const;

  // The length of `key`'s name (always at least min_key_size()).
  uint32_t key_size(uint64_t key) const;
  // Writes key's name (key_size(key) bytes) to out; returns its length.
  // The name is the key's number in base 62, then '.' up to the size, so
  // distinct keys never share a name.
  std::size_t format_key(uint64_t key, char* out) const;
  // The fewest bytes that name every key of a space of `keys`.
  static uint32_t min_key_size(uint64_t keys);

 private:
  WorkloadSpec spec_;
  uint32_t min_key_size_;
  ZipfSampler zipf_;
};

}  // namespace ebb::loadgen
