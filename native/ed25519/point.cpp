#include "ed25519/point.h"

#include <new>

#include "common/once.h"
#include "ed25519/point_inline.h"

namespace ledger_core {

namespace fi = fe_inline;
namespace gi = ge_inline;
using PF = fe_inline::PortableField;

namespace ge_inline {

namespace {

CurveConstants compute_constants() {
  CurveConstants k;
  fe num, den;
  fi::set_small(num, 121665);
  fi::set_small(den, 121666);
  fi::invert(den, den);
  fi::mul(num, num, den);
  fe zero;
  fi::set_small(zero, 0);
  fi::sub_nc(k.d, zero, num);
  fi::carry(k.d);
  fi::add_nc(k.d2, k.d, k.d);
  fi::carry(k.d2);
  // 2^((p-1)/4) = 2^(2^253 - 5) = (2^(2^252 - 3))^2 * 2.
  fe two, t;
  fi::set_small(two, 2);
  fi::pow22523(t, two);
  fi::sq(t, t);
  fi::mul(k.sqrtm1, t, two);
  return k;
}

}  // namespace

const CurveConstants& curve_constants() {
  static LazyValue<CurveConstants> constants;
  return constants.get(compute_constants);
}

}  // namespace ge_inline

namespace {

ge_p3 compute_basepoint() {
  // y = 4/5 with x even (sign bit 0): decoding its encoding recovers x.
  fe four, five;
  fi::set_small(four, 4);
  fi::set_small(five, 5);
  fi::invert(five, five);
  fi::mul(four, four, five);
  uint8_t encoding[32];
  fi::tobytes(encoding, four);
  ge_p3 b;
  gi::decompress_strict<PF>(b, encoding, gi::curve_constants());
  return b;
}

struct BaseTable {
  ge_precomp odd[BASE_TABLE_COUNT];
};

// The odd multiples P, 3P, ..., (2 BASE_TABLE_COUNT - 1) P of P = [2^shift]B.
BaseTable compute_base_table(int shift) {
  BaseTable table;
  const gi::CurveConstants& k = gi::curve_constants();
  ge_p3 multiples[BASE_TABLE_COUNT];
  multiples[0] = ge_basepoint();
  for (int i = 0; i < shift; ++i) gi::dbl_p3<PF>(multiples[0], multiples[0]);
  ge_p3 twice;
  gi::dbl_p3<PF>(twice, multiples[0]);
  ge_cached twice_cached;
  gi::to_cached<PF>(twice_cached, twice, k);
  for (size_t i = 1; i < BASE_TABLE_COUNT; ++i) {
    gi::ge_p1p1 t;
    gi::add_cached<PF>(t, multiples[i - 1], twice_cached);
    gi::p1p1_to_p3<PF>(multiples[i], t);
  }
  ge_to_precomp_batch(table.odd, multiples, BASE_TABLE_COUNT);
  return table;
}

// Builds the tables while the library loads, so that no verification pays for them.
struct WarmTables {
  WarmTables() {
    (void)ge_base_odd_multiples();
    (void)ge_base128_odd_multiples();
  }
} warm_tables;

}  // namespace

void ge_identity(ge_p3& h) { gi::identity<PF>(h); }
bool ge_is_identity(const ge_p3& p) { return gi::is_identity<PF>(p); }

bool ge_decompress_strict(ge_p3& out, const uint8_t in[32]) {
  return gi::decompress_strict<PF>(out, in, gi::curve_constants());
}

void ge_to_cached(ge_cached& r, const ge_p3& p) { gi::to_cached<PF>(r, p, gi::curve_constants()); }

void ge_add(ge_p3& r, const ge_p3& p, const ge_cached& q) {
  gi::ge_p1p1 t;
  gi::add_cached<PF>(t, p, q);
  gi::p1p1_to_p3<PF>(r, t);
}

void ge_sub(ge_p3& r, const ge_p3& p, const ge_cached& q) {
  gi::ge_p1p1 t;
  gi::sub_cached<PF>(t, p, q);
  gi::p1p1_to_p3<PF>(r, t);
}

void ge_add_precomp(ge_p3& r, const ge_p3& p, const ge_precomp& q) {
  gi::ge_p1p1 t;
  gi::add_precomp<PF>(t, p, q);
  gi::p1p1_to_p3<PF>(r, t);
}

void ge_double(ge_p3& r, const ge_p3& p) { gi::dbl_p3<PF>(r, p); }

void ge_neg(ge_p3& r, const ge_p3& p) {
  fe zero;
  fi::set_small(zero, 0);
  r.Y = p.Y;
  r.Z = p.Z;
  fi::sub_nc(r.X, zero, p.X);
  fi::carry(r.X);
  fi::sub_nc(r.T, zero, p.T);
  fi::carry(r.T);
}

void ge_mul_by_cofactor(ge_p3& r, const ge_p3& p) { gi::mul_by_cofactor<PF>(r, p); }

bool ge_is_small_order(const ge_p3& p) {
  ge_p3 q;
  gi::mul_by_cofactor<PF>(q, p);
  return gi::is_identity<PF>(q);
}

bool ge_equal(const ge_p3& p, const ge_p3& q) {
  fe a, b;
  fi::mul(a, p.X, q.Z);
  fi::mul(b, q.X, p.Z);
  if (!fi::equal(a, b)) return false;
  fi::mul(a, p.Y, q.Z);
  fi::mul(b, q.Y, p.Z);
  return fi::equal(a, b);
}

void ge_tobytes(uint8_t out[32], const ge_p3& p) {
  fe zinv, x, y;
  fi::invert(zinv, p.Z);
  fi::mul(x, p.X, zinv);
  fi::mul(y, p.Y, zinv);
  fi::tobytes(out, y);
  out[31] = uint8_t(out[31] | (fi::isnegative(x) ? 0x80 : 0));
}

// The tables are LazyValues (common/once.h): no static guard a fork could copy locked.
const ge_p3& ge_basepoint() {
  static LazyValue<ge_p3> base;
  return base.get(compute_basepoint);
}

const ge_precomp* ge_base_odd_multiples() {
  static LazyValue<BaseTable> table;
  return table.get([] { return compute_base_table(0); }).odd;
}

const ge_precomp* ge_base128_odd_multiples() {
  static LazyValue<BaseTable> table;
  return table.get([] { return compute_base_table(128); }).odd;
}

namespace fe_inline {

const ge_inline::CurveConstants& PortableField::constants() { return ge_inline::curve_constants(); }
const ge_precomp* PortableField::base_table() { return ge_base_odd_multiples(); }
const ge_precomp* PortableField::base128_table() { return ge_base128_odd_multiples(); }

}  // namespace fe_inline

namespace {

void to_precomp_chunk(ge_precomp* out, const ge_p3* in, size_t n, fe* zinv) {
  const gi::CurveConstants& k = gi::curve_constants();
  for (size_t i = 0; i < n; ++i) zinv[i] = in[i].Z;
  fe_batch_invert(zinv, zinv, n);
  for (size_t i = 0; i < n; ++i) {
    fe x, y;
    fi::mul(x, in[i].X, zinv[i]);
    fi::mul(y, in[i].Y, zinv[i]);
    ge_precomp& r = out[i];
    fi::add_nc(r.yplusx, y, x);
    fi::carry(r.yplusx);
    fi::sub_nc(r.yminusx, y, x);
    fi::carry(r.yminusx);
    fi::mul(r.xy2d, x, y);
    fi::mul(r.xy2d, r.xy2d, k.d2);
  }
}

}  // namespace

void ge_to_precomp_batch(ge_precomp* out, const ge_p3* in, size_t n) {
  if (n == 0) return;
  fe* zinv = new (std::nothrow) fe[n];
  if (zinv != nullptr) {
    to_precomp_chunk(out, in, n, zinv);
    delete[] zinv;
    return;
  }
  constexpr size_t kChunk = 64;
  fe chunk[kChunk];
  for (size_t begin = 0; begin < n; begin += kChunk) {
    const size_t len = n - begin < kChunk ? n - begin : kChunk;
    to_precomp_chunk(out + begin, in + begin, len, chunk);
  }
}

}  // namespace ledger_core
