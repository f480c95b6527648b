// The multi-scalar multiplication of msm.h as templates over the field type, so that each
// field path (field_paths.h) compiles its own copy: the batch kernel (batch_inline.h)
// calls it on points already in its field's representation, and msm_vartime (msm.cpp)
// goes through the active path, converting at the edges. msm.h explains both methods.
#pragma once

#include <algorithm>
#include <atomic>
#include <new>
#include <vector>

#include "common/thread_pool.h"
#include "ed25519/msm.h"
#include "ed25519/point_inline.h"
#include "ed25519/wnaf_inline.h"

namespace ledger_core {
namespace msm_inline {

namespace fi = fe_inline;
namespace gi = ge_inline;

constexpr int kPointWindow = 5;  // Straus: odd multiples up to 15P
constexpr int kPointTable = 1 << (kPointWindow - 2);
constexpr unsigned kMaxBits = 256;
static_assert(kMaxBits + 1 == wnaf_inline::WNAF_LEN, "a NAF row holds WNAF_LEN digits");
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

// Windows of c bits needed for a scalar of `bits` bits with signed digits (the carry out
// of the top window must fit in a digit <= 2^(c-1)).
inline unsigned windows_for(unsigned bits, unsigned c) { return bits == 0 ? 0 : (bits + 1 + c - 1) / c; }

// Signed radix-2^c digits of s into d[0], d[stride], ... (windows of them).
inline void signed_digits(int16_t* d, size_t stride, const Scalar& s, unsigned c, unsigned windows) {
  const int64_t full = int64_t(1) << c, half = full >> 1;
  int64_t carry = 0;
  for (unsigned w = 0; w < windows; ++w) {
    const unsigned pos = w * c;
    uint64_t raw = 0;
    if (pos < kMaxBits) {
      const unsigned limb = pos >> 6, off = pos & 63;
      raw = s.v[limb] >> off;
      if (off + c > 64 && limb + 1 < 4) raw |= s.v[limb + 1] << (64 - off);
      raw &= uint64_t(full - 1);
    }
    const int64_t v = int64_t(raw) + carry;
    if (v >= half && w + 1 < windows) {
      d[w * stride] = int16_t(v - full);
      carry = 1;
    } else {
      d[w * stride] = int16_t(v);
      carry = 0;
    }
  }
}

// Cost models, in point additions; defined in msm.cpp (field-independent).
double pippenger_cost(const unsigned* bits, size_t n, unsigned c);
unsigned pick_window(const unsigned* bits, size_t n);
MsmMethod choose(const unsigned* bits, size_t n, unsigned b_bits);

// out[i] = the affine (ge_precomp) form of in[i] with one inversion for all (Montgomery's
// trick); zinv is scratch of n elements. Every Z is non-zero (points of the curve).
template <class F>
void to_precomp_batch(ge_precomp* out, const ge_p3* in, size_t n, fe* zinv) {
  if (n == 0) return;
  const gi::CurveConstants& k = F::constants();
  zinv[0] = in[0].Z;
  for (size_t i = 1; i < n; ++i) gi::FO<F>::mul(zinv[i], zinv[i - 1], in[i].Z);
  fe inv;
  fi::invert<gi::FO<F>>(inv, zinv[n - 1]);
  for (size_t i = n; i-- > 1;) {
    fe zi;
    gi::FO<F>::mul(zi, inv, zinv[i - 1]);  // 1 / Z_i
    gi::FO<F>::mul(inv, inv, in[i].Z);     // 1 / (Z_0 ... Z_(i-1))
    zinv[i] = zi;
  }
  zinv[0] = inv;
  for (size_t i = 0; i < n; ++i) {
    fe x, y;
    gi::FO<F>::mul(x, in[i].X, zinv[i]);
    gi::FO<F>::mul(y, in[i].Y, zinv[i]);
    ge_precomp& r = out[i];
    gi::FO<F>::add(r.yplusx, y, x);
    gi::FO<F>::carry(r.yplusx);
    gi::FO<F>::sub(r.yminusx, y, x);
    gi::FO<F>::carry(r.yminusx);
    gi::FO<F>::mul(r.xy2d, x, y);
    gi::FO<F>::mul(r.xy2d, r.xy2d, k.d2);
  }
}

// acc += d * table[...] for a signed odd digit d (table[i] = (2i + 1) P), the result
// left completed in t.
template <class F>
LC_ALWAYS_INLINE void add_signed(gi::ge_p1p1& t, const ge_p3& acc, const ge_precomp* table, int d) {
  if (d > 0)
    gi::add_precomp<F>(t, acc, table[d >> 1]);
  else
    gi::sub_precomp<F>(t, acc, table[(-d) >> 1]);
}

template <class F>
Status straus(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t n) {
  const gi::CurveConstants& k = F::constants();
  std::vector<int8_t>& nafs = scratch<int8_t, 0>((n + 1) * (kMaxBits + 1));
  std::vector<unsigned> tops(n + 1);
  std::vector<ge_p3>& odd = scratch<ge_p3, 0>(n * kPointTable);
  std::vector<ge_precomp>& tables = scratch<ge_precomp, 0>(n * kPointTable);
  std::vector<fe>& zinv = scratch<fe, 0>(n * kPointTable);
  unsigned top = 0;
  for (size_t i = 0; i < n; ++i) {
    tops[i] = unsigned(wnaf_inline::wnaf(&nafs[i * (kMaxBits + 1)], scalars[i].v, kPointWindow));
    top = std::max(top, tops[i]);
    ge_p3* t = &odd[i * kPointTable];
    ge_p3 p2;
    gi::dbl_p3<F>(p2, points[i]);
    ge_cached p2c;
    gi::to_cached<F>(p2c, p2, k);
    t[0] = points[i];
    for (int j = 1; j < kPointTable; ++j) {
      gi::ge_p1p1 s;
      gi::add_cached<F>(s, t[j - 1], p2c);
      gi::p1p1_to_p3<F>(t[j], s);
    }
  }
  to_precomp_batch<F>(tables.data(), odd.data(), odd.size(), zinv.data());
  int8_t* bnaf = &nafs[n * (kMaxBits + 1)];
  tops[n] = unsigned(wnaf_inline::wnaf(bnaf, b_scalar.v, BASE_WNAF_WIDTH));
  top = std::max(top, tops[n]);
  const ge_precomp* btable = F::base_table();

  gi::identity<F>(r);
  if (top == 0) return Status::ok;
  // The accumulator stays completed (ge_p1p1) between steps: a doubling wants ge_p2
  // (3M), an addition ge_p3 (4M), so each conversion is the cheaper one it can be.
  gi::ge_p2 acc;
  gi::p3_to_p2(acc, r);
  gi::ge_p1p1 t;
  ge_p3 u;
  for (unsigned pos = top; pos-- > 0;) {
    gi::dbl<F>(t, acc);
    for (size_t i = 0; i <= n; ++i) {
      if (pos >= tops[i]) continue;
      const int d = nafs[i * (kMaxBits + 1) + pos];
      if (!d) continue;
      gi::p1p1_to_p3<F>(u, t);
      add_signed<F>(t, u, i < n ? &tables[i * kPointTable] : btable, d);
    }
    if (pos > 0) gi::p1p1_to_p2<F>(acc, t);
  }
  gi::p1p1_to_p3<F>(r, t);
  return Status::ok;
}

// r = +-q as an extended point, from the affine Niels form without an addition:
// (y + x) - (y - x) = 2x and (y + x) + (y - x) = 2y give (2x : 2y : 2 : 2xy), and
// 2xy = xy2d / d (inv_d = 1 / d). One multiplication instead of the seven of adding q to
// the identity. Negating swaps the two halves (x -> -x) and negates T.
template <class F>
LC_ALWAYS_INLINE void precomp_to_p3(ge_p3& r, const ge_precomp& q, bool negate, const fe& inv_d) {
  const fe& plus = negate ? q.yminusx : q.yplusx;
  const fe& minus = negate ? q.yplusx : q.yminusx;
  gi::FO<F>::sub(r.X, plus, minus);
  gi::FO<F>::carry(r.X);
  gi::FO<F>::add(r.Y, plus, minus);
  gi::FO<F>::carry(r.Y);
  gi::FO<F>::set_small(r.Z, 2);
  gi::FO<F>::mul(r.T, q.xy2d, inv_d);
  if (negate) {
    fe zero;
    gi::FO<F>::set_small(zero, 0);
    gi::FO<F>::sub(r.T, zero, r.T);
    gi::FO<F>::carry(r.T);
  }
}

// The sum over one window: sum_j j * bucket_j, buckets filled from the points active in
// window w (digits laid out window-major: digits[w * m + k]).
template <class F>
void window_sum(ge_p3& out, unsigned w, unsigned c, size_t active, size_t m, const int16_t* digits,
                const ge_precomp* pre, const fe& inv_d) {
  const gi::CurveConstants& k = F::constants();
  // Per thread: each pool thread sums its own windows into its own buckets.
  std::vector<ge_p3>& buckets = scratch<ge_p3, 1>(size_t(1) << (c - 1));
  std::vector<uint8_t>& used = scratch<uint8_t, 1>(size_t(1) << (c - 1));
  std::fill(used.begin(), used.end(), uint8_t(0));
  const int16_t* d_row = digits + size_t(w) * m;
  size_t highest = 0;  // one past the highest bucket touched
  gi::ge_p1p1 t;
  for (size_t i = 0; i < active; ++i) {
    const int d = d_row[i];
    if (d == 0) continue;
    const size_t j = size_t((d > 0 ? d : -d) - 1);
    if (!used[j]) {  // buckets start empty: no clearing pass over all 2^(c-1) of them
      used[j] = 1;
      precomp_to_p3<F>(buckets[j], pre[i], d < 0, inv_d);
    } else {
      add_signed<F>(t, buckets[j], pre + i, d > 0 ? 1 : -1);
      gi::p1p1_to_p3<F>(buckets[j], t);
    }
    highest = std::max(highest, j + 1);
  }
  ge_p3 running, total;
  gi::identity<F>(running);
  gi::identity<F>(total);
  bool running_set = false;
  for (size_t j = highest; j-- > 0;) {
    ge_cached cb;
    if (used[j]) {
      if (running_set) {
        gi::to_cached<F>(cb, buckets[j], k);
        gi::add_cached<F>(t, running, cb);
        gi::p1p1_to_p3<F>(running, t);
      } else {
        running = buckets[j];
        running_set = true;
      }
    }
    if (running_set) {
      gi::to_cached<F>(cb, running, k);
      gi::add_cached<F>(t, total, cb);
      gi::p1p1_to_p3<F>(total, t);
    }
  }
  out = total;
}

template <class F>
Status pippenger(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t n,
                 size_t threads) {
  const size_t m = n + 1;  // B is the last term
  std::vector<unsigned> bits(m);
  for (size_t i = 0; i < n; ++i) bits[i] = sc_bit_length(scalars[i]);
  bits[n] = sc_bit_length(b_scalar);
  const unsigned c = pick_window(bits.data(), m);

  // Order terms by window count, longest first: window w visits a prefix.
  std::vector<uint32_t> order(m);
  for (size_t i = 0; i < m; ++i) order[i] = uint32_t(i);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return bits[a] > bits[b]; });
  const unsigned wmax = windows_for(bits[order[0]], c);
  if (wmax == 0) {
    gi::identity<F>(r);
    return Status::ok;
  }
  ge_p3 base;
  gi::p3_from_portable<F>(base, ge_basepoint());
  std::vector<ge_p3>& sorted = scratch<ge_p3, 0>(m);
  std::vector<int16_t>& digits = scratch<int16_t, 0>(m * wmax);
  std::vector<size_t> active(wmax, 0);  // active[w]: terms with more than w windows
  for (size_t i = 0; i < m; ++i) {
    const size_t src = order[i];
    sorted[i] = src < n ? points[src] : base;
    const Scalar& s = src < n ? scalars[src] : b_scalar;
    const unsigned w = windows_for(bits[src], c);
    signed_digits(&digits[i], m, s, c, w);
    for (unsigned j = 0; j < w; ++j) active[j] = i + 1;
  }
  std::vector<ge_precomp>& pre = scratch<ge_precomp, 0>(m);
  std::vector<fe>& zinv = scratch<fe, 0>(m);
  parallel_for(m, threads, 512, [&](size_t b, size_t e) {
    to_precomp_batch<F>(pre.data() + b, sorted.data() + b, e - b, zinv.data() + b);
  });

  fe inv_d;  // for precomp_to_p3
  fi::invert<gi::FO<F>>(inv_d, F::constants().d);
  std::vector<ge_p3> sums(wmax);
  const int16_t* digit_data = digits.data();
  const ge_precomp* pre_data = pre.data();
  if (threads == 1 || m < 128) {
    for (unsigned w = 0; w < wmax; ++w) window_sum<F>(sums[w], w, c, active[w], m, digit_data, pre_data, inv_d);
  } else {
    // Tasks are taken in increasing window order: the low windows, where every term is
    // active, are the expensive ones; the cheap high windows fill in at the end.
    std::atomic<bool> out_of_memory{false};
    pool_run(wmax, threads, [&](size_t task) {
      const unsigned w = unsigned(task);
      try {
        window_sum<F>(sums[w], w, c, active[w], m, digit_data, pre_data, inv_d);
      } catch (const std::bad_alloc&) {
        out_of_memory.store(true);
      }
    });
    if (out_of_memory.load()) return Status::no_memory;
  }
  const gi::CurveConstants& k = F::constants();
  // Horner over the windows; the c doublings between them stay in ge_p2.
  r = sums[wmax - 1];
  for (unsigned w = wmax - 1; w-- > 0;) {
    gi::ge_p2 q;
    gi::ge_p1p1 t;
    gi::p3_to_p2(q, r);
    for (unsigned j = 0; j < c; ++j) {
      gi::dbl<F>(t, q);
      if (j + 1 < c) gi::p1p1_to_p2<F>(q, t);
    }
    ge_p3 u;
    gi::p1p1_to_p3<F>(u, t);
    ge_cached cs;
    gi::to_cached<F>(cs, sums[w], k);
    gi::add_cached<F>(t, u, cs);
    gi::p1p1_to_p3<F>(r, t);
  }
  return Status::ok;
}

template <class F>
Status run(MsmMethod method, ge_p3& r, const Scalar& b, const Scalar* scalars, const ge_p3* points, size_t n,
           size_t threads) {
  if (method == MsmMethod::automatic) {
    std::vector<unsigned> bits(n);
    for (size_t i = 0; i < n; ++i) bits[i] = sc_bit_length(scalars[i]);
    method = choose(bits.data(), n, sc_bit_length(b));
  }
  return method == MsmMethod::straus ? straus<F>(r, b, scalars, points, n)
                                     : pippenger<F>(r, b, scalars, points, n, threads);
}

bool split_pays(const Scalar* scalars, size_t count, const Scalar& b_scalar, MsmMethod method);

// msm_vartime on field type F, points in F's representation.
template <class F>
Status msm_split(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t count,
                 MsmMethod method, size_t threads) {
  // Short scalars (the z_i of the R_i) and long ones (key coefficients, B) go to separate
  // sums when split_pays says so: each group then gets its own window width or method.
  // Otherwise one sum: its windows above bit 129 visit only the long terms (the terms are
  // ordered by length), and the low windows' bucket sums are paid once, not twice.
  size_t short_count = 0;
  for (size_t i = 0; i < count; ++i) short_count += sc_bit_length(scalars[i]) <= kShortBits;
  if (short_count == 0 || short_count == count || !split_pays(scalars, count, b_scalar, method))
    return run<F>(method, r, b_scalar, scalars, points, count, threads);
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
  Status st = run<F>(method, short_sum, zero, short_scalars.data(), short_points.data(), short_count, threads);
  if (st != Status::ok) return st;
  st = run<F>(method, r, b_scalar, long_scalars.data(), long_points.data(), long_points.size(), threads);
  if (st != Status::ok) return st;
  ge_cached c;
  gi::to_cached<F>(c, short_sum, F::constants());
  gi::ge_p1p1 t;
  gi::add_cached<F>(t, r, c);
  gi::p1p1_to_p3<F>(r, t);
  return Status::ok;
}

// msm_vartime with public (radix 2^51) points in and out, on field type F.
template <class F>
Status msm_public(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t count,
                  MsmMethod method, size_t threads) {
  try {
    std::vector<ge_p3> converted(count);
    for (size_t i = 0; i < count; ++i) gi::p3_from_portable<F>(converted[i], points[i]);
    ge_p3 sum;
    Status st = msm_split<F>(sum, b_scalar, scalars, converted.data(), count, method, threads);
    if (st != Status::ok) return st;
    gi::p3_to_portable<F>(r, sum);
    return Status::ok;
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

}  // namespace msm_inline
}  // namespace ledger_core
