#include "ed25519/msm.h"

#include <algorithm>
#include <atomic>
#include <new>
#include <vector>

#include "common/thread_pool.h"

namespace ledger_core {
namespace {

constexpr int kPointWindow = 5;  // Straus: odd multiples up to 15P
constexpr int kPointTable = 1 << (kPointWindow - 2);
constexpr unsigned kMaxBits = 256;
constexpr unsigned kShortBits = 128;  // the batch's z_i are 128-bit

// Per-thread scratch vectors that keep their capacity between calls: a batch allocates
// megabytes per MSM, and fresh pages cost a fault each. Slot tells two uses apart; callers
// never hold the same slot twice at once (no recursion through these functions).
template <class T, int Slot>
std::vector<T>& scratch(size_t n) {
  thread_local std::vector<T> v;
  v.resize(n);
  return v;
}

// Width-w NAF: naf[i] odd in (-2^(w-1), 2^(w-1)) or 0, no two non-zeros within w places.
// Returns one past the highest non-zero position (0 for s = 0). naf holds kMaxBits + 1.
unsigned wnaf(int8_t* naf, const Scalar& s, int w) {
  // Work on a copy with one spare limb: adding back a negative digit may carry up.
  uint64_t x[5] = {s.v[0], s.v[1], s.v[2], s.v[3], 0};
  const int64_t full = int64_t(1) << w;
  const int64_t half = full >> 1;
  unsigned top = 0;
  for (unsigned i = 0; i <= kMaxBits; ++i) naf[i] = 0;
  unsigned pos = 0;
  while (pos <= kMaxBits) {
    if (!((x[pos >> 6] >> (pos & 63)) & 1)) {
      ++pos;
      continue;
    }
    // The w bits starting at pos (may straddle a limb boundary).
    unsigned limb = pos >> 6, off = pos & 63;
    uint64_t window = x[limb] >> off;
    if (off + unsigned(w) > 64 && limb + 1 < 5) window |= x[limb + 1] << (64 - off);
    int64_t d = int64_t(window & uint64_t(full - 1));
    if (d >= half) d -= full;
    naf[pos] = int8_t(d);
    top = pos + 1;
    // x -= d << pos: clears the window's bits; a negative d adds and carries upward.
    if (d > 0) {
      uint64_t sub = uint64_t(d) << off;
      uint64_t sub_hi = off ? (uint64_t(d) >> (64 - off)) : 0;
      unsigned __int128 t = (unsigned __int128)x[limb] - sub;
      x[limb] = uint64_t(t);
      uint64_t borrow = uint64_t(t >> 64) & 1;
      for (unsigned j = limb + 1; j < 5; ++j) {
        unsigned __int128 u = (unsigned __int128)x[j] - (j == limb + 1 ? sub_hi : 0) - borrow;
        x[j] = uint64_t(u);
        borrow = uint64_t(u >> 64) & 1;
      }
    } else {
      uint64_t add = uint64_t(-d) << off;
      uint64_t add_hi = off ? (uint64_t(-d) >> (64 - off)) : 0;
      unsigned __int128 t = (unsigned __int128)x[limb] + add;
      x[limb] = uint64_t(t);
      uint64_t carry = uint64_t(t >> 64);
      for (unsigned j = limb + 1; j < 5; ++j) {
        unsigned __int128 u = (unsigned __int128)x[j] + (j == limb + 1 ? add_hi : 0) + carry;
        x[j] = uint64_t(u);
        carry = uint64_t(u >> 64);
      }
    }
    pos += unsigned(w);
  }
  return top;
}

// -p for an affine Niels point: (y + x, y - x, 2dxy) -> (y - x, y + x, -2dxy).
void precomp_neg(ge_precomp& r, const ge_precomp& p) {
  fe_copy(r.yplusx, p.yminusx);
  fe_copy(r.yminusx, p.yplusx);
  fe_neg(r.xy2d, p.xy2d);
}

// acc += d * table[...] for a signed odd digit d of a NAF (table[i] = (2i + 1) P).
void add_digit(ge_p3& acc, const ge_precomp* table, int d) {
  if (d > 0) {
    ge_add_precomp(acc, acc, table[d >> 1]);
  } else {
    ge_precomp neg;
    precomp_neg(neg, table[(-d) >> 1]);
    ge_add_precomp(acc, acc, neg);
  }
}

Status straus(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points,
              size_t n) {
  std::vector<int8_t>& nafs = scratch<int8_t, 0>((n + 1) * (kMaxBits + 1));
  std::vector<unsigned> tops(n + 1);
  std::vector<ge_p3>& odd = scratch<ge_p3, 0>(n * kPointTable);
  std::vector<ge_precomp>& tables = scratch<ge_precomp, 0>(n * kPointTable);
  unsigned top = 0;
  for (size_t i = 0; i < n; ++i) {
    tops[i] = wnaf(&nafs[i * (kMaxBits + 1)], scalars[i], kPointWindow);
    top = std::max(top, tops[i]);
    ge_p3* t = &odd[i * kPointTable];
    ge_p3 p2;
    ge_double(p2, points[i]);
    ge_cached p2c;
    ge_to_cached(p2c, p2);
    t[0] = points[i];
    for (int k = 1; k < kPointTable; ++k) ge_add(t[k], t[k - 1], p2c);
  }
  if (n) ge_to_precomp_batch(tables.data(), odd.data(), odd.size());
  int8_t* bnaf = &nafs[n * (kMaxBits + 1)];
  tops[n] = wnaf(bnaf, b_scalar, BASE_WNAF_WIDTH);
  top = std::max(top, tops[n]);
  const ge_precomp* btable = ge_base_odd_multiples();

  ge_identity(r);
  for (unsigned pos = top; pos-- > 0;) {
    ge_p3 t;
    ge_double(t, r);
    r = t;
    for (size_t i = 0; i < n; ++i) {
      if (pos >= tops[i]) continue;
      int d = nafs[i * (kMaxBits + 1) + pos];
      if (d) add_digit(r, &tables[i * kPointTable], d);
    }
    if (pos < tops[n] && bnaf[pos]) add_digit(r, btable, bnaf[pos]);
  }
  return Status::ok;
}

// Windows of c bits needed for a scalar of `bits` bits with signed digits (the carry out
// of the top window must fit in a digit <= 2^(c-1)).
unsigned windows_for(unsigned bits, unsigned c) { return bits == 0 ? 0 : (bits + 1 + c - 1) / c; }

// Signed radix-2^c digits of s into d[0], d[stride], ... (windows of them).
void signed_digits(int16_t* d, size_t stride, const Scalar& s, unsigned c, unsigned windows) {
  const int64_t full = int64_t(1) << c, half = full >> 1;
  int64_t carry = 0;
  for (unsigned w = 0; w < windows; ++w) {
    unsigned pos = w * c;
    uint64_t raw = 0;
    if (pos < kMaxBits) {
      unsigned limb = pos >> 6, off = pos & 63;
      raw = s.v[limb] >> off;
      if (off + c > 64 && limb + 1 < 4) raw |= s.v[limb + 1] << (64 - off);
      raw &= uint64_t(full - 1);
    }
    int64_t v = int64_t(raw) + carry;
    if (v >= half && w + 1 < windows) {
      d[w * stride] = int16_t(v - full);
      carry = 1;
    } else {
      d[w * stride] = int16_t(v);
      carry = 0;
    }
  }
}

// Additions (and doubling-equivalents) Pippenger spends with window c.
double pippenger_cost(const unsigned* bits, size_t n, unsigned c) {
  double adds = 0;
  unsigned wmax = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned w = windows_for(bits[i], c);
    adds += w;
    wmax = std::max(wmax, w);
  }
  // A bucket addition ~1.1 (scattered buckets miss the cache); bucket sums are two
  // general additions and two conversions per bucket, ~3; a doubling ~0.95.
  adds *= 1.1;
  adds += double(wmax) * double(size_t(1) << (c - 1)) * 3.0;
  adds += 0.95 * double(wmax) * c;
  return adds;
}

unsigned pick_window(const unsigned* bits, size_t n) {
  unsigned best = 4;
  double best_cost = pippenger_cost(bits, n, 4);
  for (unsigned c = 5; c <= 14; ++c) {
    double cost = pippenger_cost(bits, n, c);
    if (cost < best_cost) {
      best_cost = cost;
      best = c;
    }
  }
  return best;
}

// The sum over one window: sum_j j * bucket_j, buckets filled from the points active in
// window w (digits laid out window-major: digits[w * m + k]).
void window_sum(ge_p3& out, unsigned w, unsigned c, size_t active, size_t m,
                const int16_t* digits, const ge_precomp* pre) {
  // Per thread: each pool thread sums its own windows into its own buckets.
  std::vector<ge_p3>& buckets = scratch<ge_p3, 1>(size_t(1) << (c - 1));
  for (auto& b : buckets) ge_identity(b);
  const int16_t* d_row = digits + size_t(w) * m;
  size_t highest = 0;  // one past the highest bucket touched
  for (size_t k = 0; k < active; ++k) {
    const int d = d_row[k];
    if (d > 0) {
      const size_t j = size_t(d - 1);
      ge_add_precomp(buckets[j], buckets[j], pre[k]);
      highest = std::max(highest, j + 1);
    } else if (d < 0) {
      const size_t j = size_t(-d - 1);
      ge_precomp neg;
      precomp_neg(neg, pre[k]);
      ge_add_precomp(buckets[j], buckets[j], neg);
      highest = std::max(highest, j + 1);
    }
  }
  ge_p3 running;
  ge_identity(running);
  ge_identity(out);
  for (size_t j = highest; j-- > 0;) {
    ge_cached cb;
    ge_to_cached(cb, buckets[j]);
    ge_add(running, running, cb);
    ge_to_cached(cb, running);
    ge_add(out, out, cb);
  }
}

Status pippenger(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points,
                 size_t n, size_t threads) {
  const size_t m = n + 1;  // B is the last term
  std::vector<unsigned> bits(m);
  for (size_t i = 0; i < n; ++i) bits[i] = sc_bit_length(scalars[i]);
  bits[n] = sc_bit_length(b_scalar);
  const unsigned c = pick_window(bits.data(), m);

  // Order terms by window count, longest first: window w visits a prefix.
  std::vector<uint32_t> order(m);
  for (size_t i = 0; i < m; ++i) order[i] = uint32_t(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return bits[a] > bits[b]; });
  const unsigned wmax = windows_for(bits[order[0]], c);
  if (wmax == 0) {
    ge_identity(r);
    return Status::ok;
  }
  std::vector<ge_p3>& sorted = scratch<ge_p3, 0>(m);
  std::vector<int16_t>& digits = scratch<int16_t, 0>(m * wmax);
  std::vector<size_t> active(wmax, 0);  // active[w]: terms with more than w windows
  for (size_t k = 0; k < m; ++k) {
    size_t i = order[k];
    sorted[k] = i < n ? points[i] : ge_basepoint();
    const Scalar& s = i < n ? scalars[i] : b_scalar;
    unsigned w = windows_for(bits[i], c);
    signed_digits(&digits[k], m, s, c, w);
    for (unsigned j = 0; j < w; ++j) active[j] = k + 1;
  }
  std::vector<ge_precomp>& pre = scratch<ge_precomp, 0>(m);
  parallel_for(m, threads, 512, [&](size_t b, size_t e) {
    ge_to_precomp_batch(pre.data() + b, sorted.data() + b, e - b);
  });

  std::vector<ge_p3> sums(wmax);
  const int16_t* digit_data = digits.data();
  const ge_precomp* pre_data = pre.data();
  if (threads == 1 || m < 128) {
    for (unsigned w = 0; w < wmax; ++w)
      window_sum(sums[w], w, c, active[w], m, digit_data, pre_data);
  } else {
    // Tasks are taken in increasing window order: the low windows, where every term is
    // active, are the expensive ones; the cheap high windows fill in at the end.
    std::atomic<bool> out_of_memory{false};
    pool_run(wmax, threads, [&](size_t task) {
      const unsigned w = unsigned(task);
      try {
        window_sum(sums[w], w, c, active[w], m, digit_data, pre_data);
      } catch (const std::bad_alloc&) {
        out_of_memory.store(true);
      }
    });
    if (out_of_memory.load()) return Status::no_memory;
  }
  ge_identity(r);
  for (unsigned w = wmax; w-- > 0;) {
    for (unsigned k = 0; k < c; ++k) ge_double(r, r);
    ge_cached cs;
    ge_to_cached(cs, sums[w]);
    ge_add(r, r, cs);
  }
  return Status::ok;
}

// Cost models in point additions, calibrated against bench/bench_verify.py's crossover
// measurement: a Straus digit costs ~1.4 additions (the table entry is negated and
// copied on the fly, tables miss the cache), a table ~20 (7 additions, a doubling and the
// shared affine conversion); a doubling ~0.95.
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
  std::vector<unsigned> all(bits, bits + n);
  all.push_back(b_bits);
  unsigned c = pick_window(all.data(), all.size());
  return pippenger_cost(all.data(), all.size(), c) + 1.5 * double(n + 1);
}

MsmMethod choose(const unsigned* bits, size_t n, unsigned b_bits) {
  return straus_cost(bits, n, b_bits) <= pippenger_total_cost(bits, n, b_bits)
             ? MsmMethod::straus
             : MsmMethod::pippenger;
}

Status run(MsmMethod method, ge_p3& r, const Scalar& b, const Scalar* scalars,
           const ge_p3* points, size_t n, size_t threads) {
  if (method == MsmMethod::automatic) {
    std::vector<unsigned> bits(n);
    for (size_t i = 0; i < n; ++i) bits[i] = sc_bit_length(scalars[i]);
    method = choose(bits.data(), n, sc_bit_length(b));
  }
  return method == MsmMethod::straus ? straus(r, b, scalars, points, n)
                                     : pippenger(r, b, scalars, points, n, threads);
}

Status msm_split(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points,
                 size_t count, MsmMethod method, size_t threads) {
  // Short scalars (the z_i of the R_i) and long ones (key coefficients, B) go to separate
  // sums: a long-scalar window above bit 129 then never pays bucket sums for points that
  // have no digits there, and each group gets its own window width or method.
  size_t short_count = 0;
  for (size_t i = 0; i < count; ++i) short_count += sc_bit_length(scalars[i]) <= kShortBits;
  if (short_count == 0 || short_count == count) return run(method, r, b_scalar, scalars, points, count, threads);
  std::vector<ge_p3>& short_points = scratch<ge_p3, 2>(short_count);
  std::vector<Scalar>& short_scalars = scratch<Scalar, 2>(short_count);
  std::vector<ge_p3>& long_points = scratch<ge_p3, 3>(count - short_count);
  std::vector<Scalar>& long_scalars = scratch<Scalar, 3>(count - short_count);
  for (size_t i = 0, s = 0, l = 0; i < count; ++i) {
    if (sc_bit_length(scalars[i]) <= kShortBits) {
      short_points[s] = points[i];
      short_scalars[s++] = scalars[i];
    } else {
      long_points[l] = points[i];
      long_scalars[l++] = scalars[i];
    }
  }
  Scalar zero;
  sc_zero(zero);
  ge_p3 short_sum;
  Status st = run(method, short_sum, zero, short_scalars.data(), short_points.data(), short_count,
                  threads);
  if (st != Status::ok) return st;
  st = run(method, r, b_scalar, long_scalars.data(), long_points.data(), long_points.size(), threads);
  if (st != Status::ok) return st;
  ge_cached c;
  ge_to_cached(c, short_sum);
  ge_add(r, r, c);
  return Status::ok;
}

}  // namespace

unsigned msm_pippenger_window(const Scalar* scalars, size_t count) {
  std::vector<unsigned> bits(count + 1, 253);
  for (size_t i = 0; i < count; ++i) bits[i] = sc_bit_length(scalars[i]);
  return pick_window(bits.data(), count + 1);
}

Status msm_vartime(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars,
                   const ge_p3* points, size_t count, MsmMethod method, size_t threads) {
  try {
    return msm_split(r, b_scalar, scalars, points, count, method, threads);
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

}  // namespace ledger_core
