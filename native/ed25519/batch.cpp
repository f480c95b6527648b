#include "ed25519/batch.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include "common/thread_pool.h"
#include "ed25519/keycache.h"
#include "ed25519/scalar.h"
#include "ed25519/verify.h"
#include "sha2/sha512.h"

namespace ledger_core {
namespace {

bool os_random(uint8_t* out, size_t len) {
  while (len > 0) {
    ssize_t got = getrandom(out, len, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out += got;
    len -= size_t(got);
  }
  return true;
}

uint64_t load64(const uint8_t* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);  // x86-64 and every target we build for are little-endian
  return x;
}

// --- Strict decoding of R, two encodings at a time ---
//
// The same rule as ge_decompress_strict (verify.h rule 2: y < p, a square root exists, no
// "-0"), written over field.h so that two square-root exponentiations can be interleaved:
// two independent chains of squarings keep the multiplier busier than one (11.9 against
// 14.0 ns per squaring on the benchmark machine), and R's decoding is the largest single
// cost of a batch. tests/test_ed25519_batch.py compares the verdicts with single
// verification's on non-canonical, off-curve and random encodings.

struct DecodeConstants {
  fe d;       // -121665 / 121666
  fe sqrtm1;  // 2^((p - 1) / 4), a square root of -1
};

const DecodeConstants& decode_constants() {
  static const DecodeConstants k = [] {
    static const uint8_t d_bytes[32] = {
        0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00,
        0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52};
    static const uint8_t sqrtm1_bytes[32] = {
        0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
        0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b};
    DecodeConstants c;
    fe_frombytes(c.d, d_bytes);
    fe_frombytes(c.sqrtm1, sqrtm1_bytes);
    return c;
  }();
  return k;
}

// h[l] = f[l]^(2^n) for both lanes, n >= 1, the squarings of the lanes alternating.
void sqn_pair(fe h[2], const fe f[2], int n) {
  fe a = f[0], b = f[1];
  for (int i = 0; i < n; ++i) {
    fe_sq(a, a);
    fe_sq(b, b);
  }
  h[0] = a;
  h[1] = b;
}

void mul_pair(fe h[2], const fe f[2], const fe g[2]) {
  fe_mul(h[0], f[0], g[0]);
  fe_mul(h[1], f[1], g[1]);
}

// out[l] = z[l]^((p - 5) / 8) = z[l]^(2^252 - 3), by the usual addition chain.
void pow22523_pair(fe out[2], const fe z[2]) {
  fe t0[2], t1[2], t2[2];
  sqn_pair(t0, z, 1);       // z^2
  sqn_pair(t1, t0, 2);      // z^8
  mul_pair(t1, z, t1);      // z^9
  mul_pair(t0, t0, t1);     // z^11
  sqn_pair(t0, t0, 1);      // z^22
  mul_pair(t0, t1, t0);     // z^(2^5 - 1)
  sqn_pair(t1, t0, 5);
  mul_pair(t0, t1, t0);     // z^(2^10 - 1)
  sqn_pair(t1, t0, 10);
  mul_pair(t1, t1, t0);     // z^(2^20 - 1)
  sqn_pair(t2, t1, 20);
  mul_pair(t1, t2, t1);     // z^(2^40 - 1)
  sqn_pair(t1, t1, 10);
  mul_pair(t0, t1, t0);     // z^(2^50 - 1)
  sqn_pair(t1, t0, 50);
  mul_pair(t1, t1, t0);     // z^(2^100 - 1)
  sqn_pair(t2, t1, 100);
  mul_pair(t1, t2, t1);     // z^(2^200 - 1)
  sqn_pair(t1, t1, 50);
  mul_pair(t0, t1, t0);     // z^(2^250 - 1)
  sqn_pair(t0, t0, 2);      // z^(2^252 - 4)
  mul_pair(out, t0, z);     // z^(2^252 - 3)
}

// ok[l] = in[l] is a strict encoding; out[l] its point (unspecified when !ok[l]).
void decompress_strict_pair(bool ok[2], ge_p3 out[2], const uint8_t* const in[2]) {
  const DecodeConstants& k = decode_constants();
  fe y[2], u[2], v[2], v3[2], x[2], one;
  fe_1(one);
  for (int l = 0; l < 2; ++l) {
    fe_frombytes(y[l], in[l]);
    uint8_t check[32];
    fe_tobytes(check, y[l]);
    ok[l] = std::memcmp(check, in[l], 31) == 0 && check[31] == (in[l][31] & 0x7f);  // y < p
    fe y2;
    fe_sq(y2, y[l]);
    fe_sub(u[l], y2, one);  // u = y^2 - 1
    fe_mul(v[l], y2, k.d);
    fe_add(v[l], v[l], one);  // v = d y^2 + 1
    fe_sq(v3[l], v[l]);
    fe_mul(v3[l], v3[l], v[l]);  // v^3
    fe_sq(x[l], v3[l]);
    fe_mul(x[l], x[l], v[l]);
    fe_mul(x[l], x[l], u[l]);  // u v^7
  }
  pow22523_pair(x, x);
  for (int l = 0; l < 2; ++l) {
    if (!ok[l]) continue;
    fe_mul(x[l], x[l], v3[l]);
    fe_mul(x[l], x[l], u[l]);  // candidate root u v^3 (u v^7)^((p - 5) / 8)
    fe vxx, neg_u;
    fe_sq(vxx, x[l]);
    fe_mul(vxx, vxx, v[l]);
    fe_neg(neg_u, u[l]);
    if (!fe_equal(vxx, u[l])) {
      if (!fe_equal(vxx, neg_u)) {
        ok[l] = false;  // u / v is not a square: not on the curve
        continue;
      }
      fe_mul(x[l], x[l], k.sqrtm1);
    }
    const bool sign = (in[l][31] >> 7) != 0;
    if (fe_iszero(x[l]) && sign) {
      ok[l] = false;  // "-0" is not an encoding
      continue;
    }
    if (fe_isnegative(x[l]) != sign) fe_neg(x[l], x[l]);
    out[l].X = x[l];
    out[l].Y = y[l];
    fe_1(out[l].Z);
    fe_mul(out[l].T, x[l], y[l]);
  }
}

// What the per-item stage learns about one item (filled in parallel, one slot per item).
struct Prepared {
  ge_p3 R;
  Scalar S;
  Scalar k;
  DecodedKey key;
  bool pending;  // passed rules 0-3: waits for an equation
};

// An item that waits for an equation.
struct Pending {
  uint32_t item;  // offset of the item in the chunk (index into the Prepared array)
  uint32_t key;   // index into Chunk::keys_
  uint64_t z_lo, z_hi;
};

// One chunk of at most BATCH_CHUNK_MAX items, verified with all the threads allowed: the
// per-item checks are spread over the pool in small slices, and the MSMs parallelise
// inside (msm.h), so a thread that the OS starves slows the batch by its share only.
class Chunk {
 public:
  Chunk(const uint8_t* pks, const MessageList& msgs, const uint8_t* sigs, size_t begin,
        size_t end, size_t threads, MsmMethod method, uint8_t* reasons)
      : pks_(pks), msgs_(msgs), sigs_(sigs), begin_(begin), end_(end), threads_(threads),
        method_(method), reasons_(reasons) {}

  Status run() {
    const size_t n = end_ - begin_;
    std::vector<uint8_t> random(16 * n);
    if (!os_random(random.data(), random.size())) return Status::internal;
    prepared_.resize(n);
    parallel_for(n, threads_, 16, [&](size_t b, size_t e) { prepare_range(b, e); });
    // Key merging, in item order: an open-addressing table from key bytes to a key id.
    size_t table_size = 16;
    while (table_size < 2 * n) table_size <<= 1;
    std::vector<uint32_t> table(table_size, 0);  // key id + 1, 0 = empty
    std::vector<const uint8_t*> key_bytes;
    pending_.reserve(n);
    for (size_t j = 0; j < n; ++j) {
      if (!prepared_[j].pending) continue;
      const uint8_t* pk = pks_ + 32 * (begin_ + j);
      size_t slot = size_t(load64(pk + 16) * 0x9e3779b97f4a7c15ULL) & (table_size - 1);
      while (table[slot] && std::memcmp(key_bytes[table[slot] - 1], pk, 32) != 0)
        slot = (slot + 1) & (table_size - 1);
      if (!table[slot]) {
        keys_.push_back(prepared_[j].key.point);
        key_bytes.push_back(pk);
        table[slot] = uint32_t(keys_.size());
      }
      const uint8_t* z = &random[16 * j];
      pending_.push_back(Pending{uint32_t(j), table[slot] - 1, load64(z), load64(z + 8)});
    }
    key_acc_.resize(keys_.size());
    key_seen_.assign(keys_.size(), 0);
    std::vector<uint32_t> all(pending_.size());
    for (size_t j = 0; j < all.size(); ++j) all[j] = uint32_t(j);
    return settle(all);
  }

 private:
  // Rules 0-3 for items begin_ + [b, e) (verify.h's order: S, A, R, A's order), and k.
  // R is decoded two items at a time (decompress_strict_pair).
  void prepare_range(size_t b, size_t e) {
    size_t waiting[2];  // items whose R waits for a partner
    size_t waiting_count = 0;
    for (size_t j = b; j < e; ++j) {
      const size_t i = begin_ + j;
      Prepared& p = prepared_[j];
      p.pending = false;
      if (!sc_is_canonical(sigs_ + 64 * i + 32)) {
        reasons_[i] = uint8_t(VerifyReason::non_canonical_s);
        continue;
      }
      keycache_get(pks_ + 32 * i, &p.key);
      if (!p.key.canonical) {
        reasons_[i] = uint8_t(VerifyReason::non_canonical_point);
        continue;
      }
      waiting[waiting_count++] = j;
      if (waiting_count == 2) {
        finish_pair(waiting, 2);
        waiting_count = 0;
      }
    }
    if (waiting_count) finish_pair(waiting, waiting_count);
  }

  // Decodes R for one or two items that passed rules 0-2 for A, then the rest.
  void finish_pair(const size_t* items, size_t count) {
    const uint8_t* encodings[2] = {sigs_ + 64 * (begin_ + items[0]),
                                   sigs_ + 64 * (begin_ + items[count - 1])};
    ge_p3 points[2];
    bool ok[2];
    decompress_strict_pair(ok, points, encodings);
    for (size_t l = 0; l < count; ++l) {
      const size_t j = items[l];
      const size_t i = begin_ + j;
      Prepared& p = prepared_[j];
      if (!ok[l]) {
        reasons_[i] = uint8_t(VerifyReason::non_canonical_point);
        continue;
      }
      p.R = points[l];
      if (p.key.small_order) {
        reasons_[i] = uint8_t(VerifyReason::small_order_key);
        continue;
      }
      const uint8_t* sig = sigs_ + 64 * i;
      Sha512 h;
      h.init();
      h.update(sig, 32);
      h.update(pks_ + 32 * i, 32);
      h.update(msgs_.item(i), msgs_.item_len(i));
      uint8_t digest[SHA512_LEN];
      h.final(digest);
      uint64_t wide[8];
      for (size_t w = 0; w < 8; ++w) wide[w] = load64(digest + 8 * w);
      sc_reduce_wide(p.k, wide);
      sc_from_bytes(p.S, sig + 32);
      p.pending = true;
    }
  }

  void give(uint32_t pending_index, VerifyReason reason) {
    reasons_[begin_ + pending_[pending_index].item] = uint8_t(reason);
  }

  // Gives every pending item in `group` its verdict.
  Status settle(const std::vector<uint32_t>& group) {
    if (group.empty()) return Status::ok;
    if (group.size() <= BATCH_SINGLE_MAX) {
      for (uint32_t j : group) {
        bool ok = false;
        Status st = equation({j}, /*unit_coefficients=*/true, &ok);
        if (st != Status::ok) return st;
        give(j, ok ? VerifyReason::ok : VerifyReason::equation_failed);
      }
      return Status::ok;
    }
    bool ok = false;
    Status st = equation(group, false, &ok);
    if (st != Status::ok) return st;
    if (ok) {
      for (uint32_t j : group) give(j, VerifyReason::ok);
      return Status::ok;
    }
    const size_t half = group.size() / 2;
    std::vector<uint32_t> left(group.begin(), group.begin() + half);
    std::vector<uint32_t> right(group.begin() + half, group.end());
    st = settle(left);
    if (st != Status::ok) return st;
    return settle(right);
  }

  // *ok = ([8] of the random linear combination over `group` is the identity). With
  // unit_coefficients every z is 1: for one item that is exactly its own cofactored
  // equation, no randomness involved.
  Status equation(const std::vector<uint32_t>& group, bool unit_coefficients, bool* ok) {
    // Kept per thread between calls (no fresh pages per batch); equation() never nests.
    thread_local std::vector<ge_p3> points;
    thread_local std::vector<Scalar> scalars;
    points.clear();
    scalars.clear();
    ScalarAcc s_acc;
    sc_acc_zero(s_acc);
    std::vector<uint32_t> touched;
    for (uint32_t j : group) {
      const Pending& p = pending_[j];
      const Prepared& item = prepared_[p.item];
      const uint64_t z_lo = unit_coefficients ? 1 : p.z_lo;
      const uint64_t z_hi = unit_coefficients ? 0 : p.z_hi;
      sc_acc_add_mul128(s_acc, z_lo, z_hi, item.S);
      if (!key_seen_[p.key]) {
        key_seen_[p.key] = 1;
        sc_acc_zero(key_acc_[p.key]);
        touched.push_back(p.key);
      }
      sc_acc_add_mul128(key_acc_[p.key], z_lo, z_hi, item.k);
      Scalar z;
      z.v[0] = z_lo;
      z.v[1] = z_hi;
      z.v[2] = z.v[3] = 0;
      points.push_back(item.R);
      scalars.push_back(z);
    }
    for (uint32_t key : touched) {
      key_seen_[key] = 0;
      Scalar c;
      sc_acc_reduce(c, key_acc_[key]);
      points.push_back(keys_[key]);
      scalars.push_back(c);
    }
    Scalar b;
    sc_acc_reduce(b, s_acc);
    sc_neg(b, b);
    ge_p3 sum;
    Status st = msm_vartime(sum, b, scalars.data(), points.data(), points.size(), method_, threads_);
    if (st != Status::ok) return st;
    ge_p3 cleared;
    ge_mul_by_cofactor(cleared, sum);
    *ok = ge_is_identity(cleared);
    return Status::ok;
  }

  const uint8_t* pks_;
  const MessageList& msgs_;
  const uint8_t* sigs_;
  size_t begin_, end_, threads_;
  MsmMethod method_;
  uint8_t* reasons_;
  std::vector<Prepared> prepared_;
  std::vector<Pending> pending_;
  std::vector<ge_p3> keys_;
  std::vector<ScalarAcc> key_acc_;
  std::vector<uint8_t> key_seen_;
};

}  // namespace

Status ed25519_verify_batch(const uint8_t* public_keys, const MessageList& messages,
                            const uint8_t* signatures, size_t count, size_t threads,
                            MsmMethod method, uint8_t* reasons) {
  if (count == 0) return Status::ok;
  // Chunks one after the other, each using every thread: bounded memory, and each MSM as
  // large as BATCH_CHUNK_MAX allows.
  for (size_t begin = 0; begin < count; begin += BATCH_CHUNK_MAX) {
    const size_t end = std::min(count, begin + BATCH_CHUNK_MAX);
    Status st;
    try {
      Chunk chunk(public_keys, messages, signatures, begin, end, threads, method, reasons);
      st = chunk.run();
    } catch (const std::bad_alloc&) {
      st = Status::no_memory;
    }
    if (st != Status::ok) return st;
  }
  return Status::ok;
}

}  // namespace ledger_core
