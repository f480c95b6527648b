// The field-independent parts of the MSM (cost models, window choice) and the public
// entry point; the methods themselves are templates in msm_inline.h, compiled once per
// field path.
#include "ed25519/msm.h"

#include <vector>

#include "common/cpu.h"
#include "ed25519/field_paths.h"
#include "ed25519/msm_inline.h"

namespace ledger_core {
namespace msm_inline {

namespace {

// How many terms have each bit length (0..256): the cost models below then take a few
// hundred steps per window width instead of one per term (pick_window over every term of
// a 1024-signature batch, three times with split_pays, was ~1% of the batch).
struct BitHistogram {
  size_t count[257] = {};
  void add(unsigned bits) { ++count[bits > 256 ? 256 : bits]; }
};

BitHistogram histogram_of(const unsigned* bits, size_t n) {
  BitHistogram h;
  for (size_t i = 0; i < n; ++i) h.add(bits[i]);
  return h;
}

// Additions (and doubling-equivalents) Pippenger spends with window c.
double pippenger_cost(const BitHistogram& h, unsigned c) {
  double adds = 0;
  unsigned wmax = 0;
  for (unsigned b = 0; b <= 256; ++b) {
    if (h.count[b] == 0) continue;
    unsigned w = windows_for(b, c);
    adds += double(w) * double(h.count[b]);
    wmax = std::max(wmax, w);
  }
  // A bucket addition ~1.1 (scattered buckets miss the cache); bucket sums are two
  // general additions and two conversions per bucket, ~3; a doubling ~0.95.
  adds *= 1.1;
  adds += double(wmax) * double(size_t(1) << (c - 1)) * 3.0;
  adds += 0.95 * double(wmax) * c;
  return adds;
}

unsigned pick_window(const BitHistogram& h, double* cost_out = nullptr) {
  unsigned best = 4;
  double best_cost = pippenger_cost(h, 4);
  for (unsigned c = 5; c <= 14; ++c) {
    double cost = pippenger_cost(h, c);
    if (cost < best_cost) {
      best_cost = cost;
      best = c;
    }
  }
  if (cost_out) *cost_out = best_cost;
  return best;
}

double best_pippenger_cost(const BitHistogram& h) {
  double cost = 0;
  pick_window(h, &cost);
  return cost;
}

}  // namespace

double pippenger_cost(const unsigned* bits, size_t n, unsigned c) { return pippenger_cost(histogram_of(bits, n), c); }

unsigned pick_window(const unsigned* bits, size_t n) { return pick_window(histogram_of(bits, n)); }

namespace {

// Cost models in point additions, calibrated against bench/bench_verify.py's crossover
// measurement: a Straus digit costs ~1.4 additions (tables miss the cache), a table ~20
// (7 additions, a doubling and the shared affine conversion); a doubling ~0.95.
double straus_cost(const unsigned* bits, size_t n, unsigned b_bits) {
  unsigned top = b_bits;
  double adds = 1.4 * b_bits / double(BASE_WNAF_WIDTH + 1);
  for (size_t i = 0; i < n; ++i) {
    top = std::max(top, bits[i]);
    adds += 20.0 + 1.4 * bits[i] / double(kPointWindow + 1);
  }
  return adds + 0.95 * top;
}

double pippenger_total_cost(const unsigned* bits, size_t n, unsigned b_bits) {
  BitHistogram h = histogram_of(bits, n);
  h.add(b_bits);
  return best_pippenger_cost(h) + 1.5 * double(n + 1);
}

}  // namespace

// Whether summing the short (z_i) and long (key, B) terms separately beats one Pippenger
// over all of them. One sum shares the bucket sums of the low windows; separate sums give
// each group its own window width. With few long terms against many short ones (a
// 1024-signature batch of ~280 Zipf signers) the shared sum is cheaper.
bool split_pays(const Scalar* scalars, size_t count, const Scalar& b_scalar, MsmMethod method) {
  if (method == MsmMethod::straus) return true;
  BitHistogram all, shorts, longs;
  for (size_t i = 0; i < count; ++i) {
    const unsigned bits = sc_bit_length(scalars[i]);
    all.add(bits);
    (bits <= kShortBits ? shorts : longs).add(bits);
  }
  const unsigned b_bits = sc_bit_length(b_scalar);
  all.add(b_bits);
  longs.add(b_bits);
  return best_pippenger_cost(shorts) + best_pippenger_cost(longs) <= best_pippenger_cost(all);
}

MsmMethod choose(const unsigned* bits, size_t n, unsigned b_bits) {
  return straus_cost(bits, n, b_bits) <= pippenger_total_cost(bits, n, b_bits) ? MsmMethod::straus
                                                                                : MsmMethod::pippenger;
}

}  // namespace msm_inline

namespace ed25519_paths {

Status msm_portable(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t count,
                    MsmMethod method, size_t threads) {
  return msm_inline::msm_public<fe_inline::PortableField>(r, b_scalar, scalars, points, count, method, threads);
}

}  // namespace ed25519_paths

unsigned msm_pippenger_window(const Scalar* scalars, size_t count) {
  std::vector<unsigned> bits(count + 1, 253);
  for (size_t i = 0; i < count; ++i) bits[i] = sc_bit_length(scalars[i]);
  return msm_inline::pick_window(bits.data(), count + 1);
}

Status msm_vartime(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t count,
                   MsmMethod method, size_t threads) {
  try {
    return ed25519_paths::active_path().msm(r, b_scalar, scalars, points, count, method, threads);
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

}  // namespace ledger_core
