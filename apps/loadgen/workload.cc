#include "apps/loadgen/workload.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ebb::loadgen {

// ---- random numbers -----------------------------------------------------------

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

Rng::Rng(uint64_t seed) {
  // SplitMix64 fills the state, as xoshiro's authors advise (never all zero).
  for (int i = 0; i < 4; ++i)
    s_[i] = mix64(seed + static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull);
}

uint64_t Rng::next() {
  const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

double Rng::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double Rng::open_uniform() {
  return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53;
}

uint64_t Rng::below(uint64_t n) {
  // Lemire's multiply-shift; the bias (n / 2^64) is far below what matters here.
  return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
}

// ---- distributions ------------------------------------------------------------

double gev_quantile(double u, double mu, double sigma, double xi) {
  return mu + sigma * (std::pow(-std::log(u), -xi) - 1.0) / xi;
}

double gpareto_quantile(double u, double mu, double sigma, double xi) {
  return mu + sigma * (std::pow(1.0 - u, -xi) - 1.0) / xi;
}

double exponential_gap(Rng& rng, double mean_ns) {
  return -std::log(rng.open_uniform()) * mean_ns;
}

namespace {
// log1p(x)/x and expm1(x)/x, with their series near 0 where the division loses digits.
double log1p_over_x(double x) {
  if (std::fabs(x) > 1e-8) return std::log1p(x) / x;
  return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}
double expm1_over_x(double x) {
  if (std::fabs(x) > 1e-8) return std::expm1(x) / x;
  return 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}
}  // namespace

ZipfSampler::ZipfSampler(uint64_t n, double s) : n_(n < 1 ? 1 : n), s_(s) {
  h_integral_x1_ = h_integral(1.5) - 1.0;
  h_integral_n_ = h_integral(static_cast<double>(n_) + 0.5);
  threshold_ = 2.0 - h_integral_inverse(h_integral(2.5) - h(2.0));
}

double ZipfSampler::h(double x) const {
  return std::exp(-s_ * std::log(x));
}

double ZipfSampler::h_integral(double x) const {
  const double log_x = std::log(x);
  return expm1_over_x((1.0 - s_) * log_x) * log_x;
}

double ZipfSampler::h_integral_inverse(double x) const {
  double t = x * (1.0 - s_);
  if (t < -1.0) t = -1.0;  // rounding: the true value is never below -1
  return std::exp(log1p_over_x(t) * x);
}

uint64_t ZipfSampler::sample(Rng& rng) const {
  // Draws x from a continuous hat over [0.5, n + 0.5] whose integral is
  // invertible, rounds to the nearest rank, and keeps it unless it falls in
  // the sliver where the hat exceeds the true mass (rare: a few percent).
  const auto n = static_cast<double>(n_);
  for (;;) {
    const double u = h_integral_n_ + rng.uniform() * (h_integral_x1_ - h_integral_n_);
    const double x = h_integral_inverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1.0)
      k = 1.0;
    else if (k > n)
      k = n;
    if (k - x <= threshold_ || u >= h_integral(k + 0.5) - h(k)) return static_cast<uint64_t>(k) - 1;
  }
}

// ---- ETC ----------------------------------------------------------------------------

namespace etc {

const double kValueTable[kValueTableSize] = {
    0.00536, 0.00047, 0.17820, 0.09239, 0.00018, 0.02740, 0.00065, 0.00606,
    0.00023, 0.00837, 0.00837, 0.08989, 0.00092, 0.00326, 0.01980,
};

uint32_t key_size(double u) {
  const double size = std::round(gev_quantile(u, kKeyLocation, kKeyScale, kKeyShape));
  if (!(size >= 1.0)) return 1;  // also NaN
  if (size > kMaxKeySize) return kMaxKeySize;
  return static_cast<uint32_t>(size);
}

uint32_t value_size(Rng& rng, uint32_t value_max) {
  double u = rng.uniform();
  uint32_t size = 0;
  bool in_table = false;
  for (int i = 0; i < kValueTableSize; ++i) {
    if (u < kValueTable[i]) {
      size = static_cast<uint32_t>(i);
      in_table = true;
      break;
    }
    u -= kValueTable[i];
  }
  if (!in_table) {
    // A fresh draw for the tail (rather than rescaling what is left of u)
    // keeps all 53 bits of resolution out in the tail.
    const double v =
        std::floor(gpareto_quantile(rng.open_uniform(), kValueLocation, kValueScale, kValueShape));
    size = v >= static_cast<double>(value_max) ? value_max : static_cast<uint32_t>(v);
  }
  return std::min(size, value_max);
}

}  // namespace etc

// ---- the workload ----------------------------------------------------------------

namespace {
constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr uint64_t kBase = 62;
}  // namespace

uint32_t Workload::min_key_size(uint64_t keys) {
  uint32_t digits = 1;
  for (uint64_t largest = keys > 0 ? keys - 1 : 0; largest >= kBase; largest /= kBase)
    ++digits;
  return digits;
}

Workload::Workload(const WorkloadSpec& spec)
    : spec_(spec), min_key_size_(min_key_size(spec.keys)), zipf_(spec.keys, spec.zipf) {}

uint32_t Workload::key_size(uint64_t key) const {
  uint32_t size = spec_.key_size;
  if (spec_.kind == WorkloadKind::kEtc) {
    // A uniform number fixed by the key and the seed: the key's size never changes.
    const double u = (static_cast<double>(mix64(key ^ mix64(spec_.seed)) >> 11) + 0.5) * 0x1.0p-53;
    size = etc::key_size(u);
  }
  return std::max(size, min_key_size_);
}

std::size_t Workload::format_key(uint64_t key, char* out) const {
  const std::size_t size = key_size(key);
  char digits[16];
  std::size_t n = 0;
  do {
    digits[n++] = kDigits[key % kBase];
    key /= kBase;
  } while (key != 0);
  std::size_t at = 0;
  while (n > 0)
    out[at++] = digits[--n];
  while (at < size)
    out[at++] = '.';
  return at;
}

Request Workload::set_of(uint64_t key, Rng& rng) const {
  const uint32_t value =
      spec_.kind == WorkloadKind::kEtc ? etc::value_size(rng, spec_.value_max) : spec_.value_size;
  return Request{key, value, Op::kSet};
}

Request Workload::next(Rng& rng) const {
  const uint64_t key = spec_.zipf > 0.0 ? zipf_.sample(rng) : rng.below(spec_.keys);
  if (rng.uniform() < spec_.set_fraction) return set_of(key, rng);
  return Request{key, 0, Op::kGet};
}

}  // namespace ebb::loadgen
