// The "bmi2" field path: GF(2^255 - 19) in radix 2^64 with MULX/ADCX/ADOX.
//
// An element is four 64-bit limbs in fe.v[0..3] (v[4] is 0), any value below 2^256,
// taken mod p: no limb bounds to track, every operation takes any such input. Products
// are 4x4 schoolbook with two carry chains at once (ADCX on CF, ADOX on OF), then the
// high half is folded in with 2^256 = 38 (mod p). On the machine this was written on
// one multiplication costs ~11 ns here against ~17 ns for the radix-2^51 C code.
//
// Only reachable through the dispatch in ed25519_dispatch.cpp, when cpu_features() reports
// BMI2 and ADX (never under LEDGER_CORE_PORTABLE=1). The kernel is the same template code
// as the portable path (verify_inline.h), instantiated on MulxField; public ge_p3 values
// are converted at the kernel's edges. tests/test_ed25519_core.py checks this path gives
// the portable path's answer on every vector.
#include <cstring>

#include "common/once.h"
#include "ed25519/batch_inline.h"
#include "ed25519/field_paths.h"
#include "ed25519/msm_inline.h"
#include "ed25519/verify_inline.h"

namespace ledger_core {
namespace fe_mulx {
namespace {

namespace fi = fe_inline;
typedef unsigned __int128 u128;

// One row of the schoolbook product: (r0..r4) += a_i * (b0..b3), r4 zeroed first. CF
// carries the low halves along, OF the high halves; both chains end in r4.
#define LC_MULX_ROW(ai, r0, r1, r2, r3, r4)                                                  \
  "movq " ai "(%[a]), %%rdx\n\t"                                                            \
  "xorl %k[" r4 "], %k[" r4 "]\n\t"                                                         \
  "mulxq 0(%[b]), %[x], %[y]\n\tadcxq %[x], %[" r0 "]\n\tadoxq %[y], %[" r1 "]\n\t"       \
  "mulxq 8(%[b]), %[x], %[y]\n\tadcxq %[x], %[" r1 "]\n\tadoxq %[y], %[" r2 "]\n\t"       \
  "mulxq 16(%[b]), %[x], %[y]\n\tadcxq %[x], %[" r2 "]\n\tadoxq %[y], %[" r3 "]\n\t"      \
  "mulxq 24(%[b]), %[x], %[y]\n\tadcxq %[x], %[" r3 "]\n\tadoxq %[y], %[" r4 "]\n\t"      \
  "adcxq %[zero], %[" r4 "]\n\t"

// t0..t3 += 38 * (t4..t7): the result is below 2^256 + 38 * 2^256, so a top limb of at
// most 39 remains, folded once more; a carry out of that fold leaves t0..t3 tiny, so
// adding 38 for it cannot carry again.
#define LC_MULX_FOLD \
  "movl $38, %%edx\n\t" \
  "xorl %k[x], %k[x]\n\t" \
  "mulxq %[t4], %[x], %[y]\n\tadcxq %[x], %[t0]\n\tadoxq %[y], %[t1]\n\t" \
  "mulxq %[t5], %[x], %[y]\n\tadcxq %[x], %[t1]\n\tadoxq %[y], %[t2]\n\t" \
  "mulxq %[t6], %[x], %[y]\n\tadcxq %[x], %[t2]\n\tadoxq %[y], %[t3]\n\t" \
  "mulxq %[t7], %[x], %[t4]\n\tadcxq %[x], %[t3]\n\tadoxq %[zero], %[t4]\n\t" \
  "adcxq %[zero], %[t4]\n\t" \
  "imulq $38, %[t4], %[t4]\n\t" \
  "addq %[t4], %[t0]\n\t" \
  "adcq $0, %[t1]\n\t" \
  "adcq $0, %[t2]\n\t" \
  "adcq $0, %[t3]\n\t" \
  "sbbq %[x], %[x]\n\t" \
  "andq $38, %[x]\n\t" \
  "addq %[x], %[t0]\n\t"

// The products' bodies carry no target attribute: they are inline assembly only (the
// assembler takes MULX/ADX whatever the compiler targets), so code of any target that
// runs only after the CPU check may inline them. Every block here is `volatile`: it reads
// its inputs through pointers, so its listed operands (the pointers) do not change when
// the data does. Without volatile, GCC 12 -O3 produced wrong square roots once the body was
// inlined into sqn's loop (squaring in place at one address: most likely the blocks were
// merged or moved as if pure; tests/test_ed25519_batch.py caught it).
__attribute__((always_inline)) inline void mul_body(fe& h, const fe& f, const fe& g) {
  uint64_t t0, t1, t2, t3, t4, t5, t6, t7, x, y, zero;
  __asm__ volatile(
      "xorl %k[zero], %k[zero]\n\t"
      // Row 0 starts the eight-limb product t0..t4.
      "movq 0(%[a]), %%rdx\n\t"
      "mulxq 0(%[b]), %[t0], %[t1]\n\t"
      "mulxq 8(%[b]), %[x], %[t2]\n\t"
      "addq %[x], %[t1]\n\t"
      "mulxq 16(%[b]), %[x], %[t3]\n\t"
      "adcq %[x], %[t2]\n\t"
      "mulxq 24(%[b]), %[x], %[t4]\n\t"
      "adcq %[x], %[t3]\n\t"
      "adcq %[zero], %[t4]\n\t"
      LC_MULX_ROW("8", "t1", "t2", "t3", "t4", "t5")
      LC_MULX_ROW("16", "t2", "t3", "t4", "t5", "t6")
      LC_MULX_ROW("24", "t3", "t4", "t5", "t6", "t7")
      LC_MULX_FOLD
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
        [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [x] "=&r"(x), [y] "=&r"(y), [zero] "=&r"(zero)
      : [a] "r"(f.v), [b] "r"(g.v)
      : "rdx", "cc", "memory");
  h.v[0] = t0;
  h.v[1] = t1;
  h.v[2] = t2;
  h.v[3] = t3;
  h.v[4] = 0;
}


// Squaring: the six cross products once, doubled by a shift, plus the four squares:
// 10 multiplications instead of 16. Inlined into the sqn / sqn2 / sqn4 loops and the batch
// kernel (MulxFieldInline): no call saving and restoring six callee-saved registers per
// squaring (~2% of a batch). The bodies have no target attribute (see mul_body).
__attribute__((always_inline)) inline void sq_body(fe& h, const fe& f) {
  uint64_t t0, t1, t2, t3, t4, t5, t6, t7, x, y, zero;
  __asm__ volatile(
      "xorl %k[zero], %k[zero]\n\t"
      "movq 0(%[a]), %%rdx\n\t"
      "mulxq 8(%[a]), %[t1], %[t2]\n\t"   // a0 a1: columns 1, 2
      "mulxq 16(%[a]), %[x], %[t3]\n\t"   // a0 a2: 2, 3
      "addq %[x], %[t2]\n\t"
      "mulxq 24(%[a]), %[x], %[t4]\n\t"   // a0 a3: 3, 4
      "adcq %[x], %[t3]\n\t"
      "adcq %[zero], %[t4]\n\t"
      "movq 8(%[a]), %%rdx\n\t"
      "xorl %k[t5], %k[t5]\n\t"
      "mulxq 16(%[a]), %[x], %[y]\n\t"    // a1 a2: 3, 4
      "adcxq %[x], %[t3]\n\t"
      "adoxq %[y], %[t4]\n\t"
      "mulxq 24(%[a]), %[x], %[y]\n\t"    // a1 a3: 4, 5
      "adcxq %[x], %[t4]\n\t"
      "adoxq %[y], %[t5]\n\t"
      "adcxq %[zero], %[t5]\n\t"
      "movq 16(%[a]), %%rdx\n\t"
      "mulxq 24(%[a]), %[x], %[t6]\n\t"   // a2 a3: 5, 6
      "addq %[x], %[t5]\n\t"
      "adcq %[zero], %[t6]\n\t"
      "xorl %k[t7], %k[t7]\n\t"           // double the cross products into t1..t7
      "addq %[t1], %[t1]\n\t"
      "adcq %[t2], %[t2]\n\t"
      "adcq %[t3], %[t3]\n\t"
      "adcq %[t4], %[t4]\n\t"
      "adcq %[t5], %[t5]\n\t"
      "adcq %[t6], %[t6]\n\t"
      "adcq %[zero], %[t7]\n\t"
      "movq 0(%[a]), %%rdx\n\t"           // plus the squares on the diagonal
      "mulxq %%rdx, %[t0], %[x]\n\t"
      "addq %[x], %[t1]\n\t"
      "movq 8(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[x], %[y]\n\t"
      "adcq %[x], %[t2]\n\t"
      "adcq %[y], %[t3]\n\t"
      "movq 16(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[x], %[y]\n\t"
      "adcq %[x], %[t4]\n\t"
      "adcq %[y], %[t5]\n\t"
      "movq 24(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[x], %[y]\n\t"
      "adcq %[x], %[t6]\n\t"
      "adcq %[y], %[t7]\n\t"
      LC_MULX_FOLD
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
        [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [x] "=&r"(x), [y] "=&r"(y), [zero] "=&r"(zero)
      : [a] "r"(f.v)
      : "rdx", "cc", "memory");
  h.v[0] = t0;
  h.v[1] = t1;
  h.v[2] = t2;
  h.v[3] = t3;
  h.v[4] = 0;
}

#undef LC_MULX_ROW
#undef LC_MULX_FOLD

__attribute__((noinline, target("bmi2,adx"))) void mul(fe& h, const fe& f, const fe& g) { mul_body(h, f, g); }
__attribute__((noinline, target("bmi2,adx"))) void sq(fe& h, const fe& f) { sq_body(h, f); }

__attribute__((noinline, target("bmi2,adx"))) void sqn(fe& h, const fe& f, int n) {
  fi::square_n<sq_body>(h, f, n);
}

__attribute__((noinline, target("bmi2,adx"))) void sqn2(fe& a, fe& b, int n) {
  fi::square_n2<sq_body>(a, b, n);
}

// z[l] = z[l]^(2^n) for four lanes, like sqn2.
__attribute__((noinline, target("bmi2,adx"))) void sqn4(fe* z, int n) {
  fe a = z[0], b = z[1], c = z[2], d = z[3];
  for (int i = 0; i < n; ++i) {
    sq_body(a, a);
    sq_body(b, b);
    sq_body(c, c);
    sq_body(d, d);
  }
  z[0] = a;
  z[1] = b;
  z[2] = c;
  z[3] = d;
}

// h = f + g: a carry out of 2^256 is 38 (mod p), added back; a carry out of that
// addition leaves the limbs tiny, so the second 38 cannot carry.
LC_ALWAYS_INLINE void add(fe& h, const fe& f, const fe& g) {
  uint64_t r0, r1, r2, r3, x;
  __asm__ volatile(
      "movq 0(%[f]), %[r0]\n\t"
      "addq 0(%[g]), %[r0]\n\t"
      "movq 8(%[f]), %[r1]\n\t"
      "adcq 8(%[g]), %[r1]\n\t"
      "movq 16(%[f]), %[r2]\n\t"
      "adcq 16(%[g]), %[r2]\n\t"
      "movq 24(%[f]), %[r3]\n\t"
      "adcq 24(%[g]), %[r3]\n\t"
      "sbbq %[x], %[x]\n\t"
      "andq $38, %[x]\n\t"
      "addq %[x], %[r0]\n\t"
      "adcq $0, %[r1]\n\t"
      "adcq $0, %[r2]\n\t"
      "adcq $0, %[r3]\n\t"
      "sbbq %[x], %[x]\n\t"
      "andq $38, %[x]\n\t"
      "addq %[x], %[r0]\n\t"
      : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3), [x] "=&r"(x)
      : [f] "r"(f.v), [g] "r"(g.v)
      : "cc", "memory");
  h.v[0] = r0;
  h.v[1] = r1;
  h.v[2] = r2;
  h.v[3] = r3;
  h.v[4] = 0;
}

// h = f - g: a borrow means 2^256 too much, i.e. 38 (mod p) to take off; a borrow out of
// that leaves the limbs near 2^256, so the second 38 cannot borrow.
LC_ALWAYS_INLINE void sub(fe& h, const fe& f, const fe& g) {
  uint64_t r0, r1, r2, r3, x;
  __asm__ volatile(
      "movq 0(%[f]), %[r0]\n\t"
      "subq 0(%[g]), %[r0]\n\t"
      "movq 8(%[f]), %[r1]\n\t"
      "sbbq 8(%[g]), %[r1]\n\t"
      "movq 16(%[f]), %[r2]\n\t"
      "sbbq 16(%[g]), %[r2]\n\t"
      "movq 24(%[f]), %[r3]\n\t"
      "sbbq 24(%[g]), %[r3]\n\t"
      "sbbq %[x], %[x]\n\t"
      "andq $38, %[x]\n\t"
      "subq %[x], %[r0]\n\t"
      "sbbq $0, %[r1]\n\t"
      "sbbq $0, %[r2]\n\t"
      "sbbq $0, %[r3]\n\t"
      "sbbq %[x], %[x]\n\t"
      "andq $38, %[x]\n\t"
      "subq %[x], %[r0]\n\t"
      : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3), [x] "=&r"(x)
      : [f] "r"(f.v), [g] "r"(g.v)
      : "cc", "memory");
  h.v[0] = r0;
  h.v[1] = r1;
  h.v[2] = r2;
  h.v[3] = r3;
  h.v[4] = 0;
}

// Canonical encoding: fold bit 255 (2^255 = 19), then subtract p once if still >= p.
LC_ALWAYS_INLINE void tobytes(uint8_t s[32], const fe& f) {
  uint64_t w[4] = {f.v[0], f.v[1], f.v[2], f.v[3]};
  const uint64_t top = w[3] >> 63;
  w[3] &= 0x7fffffffffffffffULL;
  u128 c = u128(top) * 19;
  for (int i = 0; i < 4; ++i) {
    c += w[i];
    w[i] = uint64_t(c);
    c >>= 64;
  }
  // w < 2^255 + 19 < 2p. w >= p exactly when w + 19 reaches bit 255.
  uint64_t t[4];
  c = 19;
  for (int i = 0; i < 4; ++i) {
    c += w[i];
    t[i] = uint64_t(c);
    c >>= 64;
  }
  if ((t[3] >> 63) != 0) {
    t[3] &= 0x7fffffffffffffffULL;  // w + 19 - 2^255 = w - p
    for (int i = 0; i < 4; ++i) w[i] = t[i];
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 8; ++j) s[8 * i + j] = uint8_t(w[i] >> (8 * j));
}

LC_ALWAYS_INLINE void frombytes(fe& h, const uint8_t s[32]) {
  for (int i = 0; i < 4; ++i) h.v[i] = fi::load_le64(s + 8 * i);
  h.v[3] &= 0x7fffffffffffffffULL;
  h.v[4] = 0;
}

}  // namespace

struct MulxField {
  static constexpr const char* name = "bmi2";
  static constexpr bool interleave_decoding = true;  // 32.8 -> 30.6 us per verify
  static LC_ALWAYS_INLINE void mul(fe& h, const fe& f, const fe& g) { fe_mulx::mul(h, f, g); }
  static LC_ALWAYS_INLINE void sq(fe& h, const fe& f) { fe_mulx::sq(h, f); }
  static LC_ALWAYS_INLINE void sqn(fe& h, const fe& f, int n) { fe_mulx::sqn(h, f, n); }
  static LC_ALWAYS_INLINE void sqn2(fe& a, fe& b, int n) { fe_mulx::sqn2(a, b, n); }
  static LC_ALWAYS_INLINE void sqn4(fe* z, int n) { fe_mulx::sqn4(z, n); }
  static LC_ALWAYS_INLINE void add(fe& h, const fe& f, const fe& g) { fe_mulx::add(h, f, g); }
  static LC_ALWAYS_INLINE void sub(fe& h, const fe& f, const fe& g) { fe_mulx::sub(h, f, g); }
  static LC_ALWAYS_INLINE void carry(fe&) {}
  static LC_ALWAYS_INLINE void set_small(fe& h, uint64_t x) { fi::set_small(h, x); }
  static LC_ALWAYS_INLINE void tobytes(uint8_t s[32], const fe& f) { fe_mulx::tobytes(s, f); }
  static LC_ALWAYS_INLINE void frombytes(fe& h, const uint8_t s[32]) { fe_mulx::frombytes(h, s); }
  static LC_ALWAYS_INLINE bool iszero(const fe& f) {
    uint8_t s[32];
    fe_mulx::tobytes(s, f);
    uint8_t acc = 0;
    for (int i = 0; i < 32; ++i) acc |= s[i];
    return acc == 0;
  }
  static LC_ALWAYS_INLINE bool equal(const fe& f, const fe& g) {
    uint8_t a[32], b[32];
    fe_mulx::tobytes(a, f);
    fe_mulx::tobytes(b, g);
    return std::memcmp(a, b, 32) == 0;
  }
  static LC_ALWAYS_INLINE bool isnegative(const fe& f) {
    uint8_t s[32];
    fe_mulx::tobytes(s, f);
    return (s[0] & 1) != 0;
  }
  static LC_ALWAYS_INLINE void from_portable(fe& h, const fe& f) {
    uint8_t s[32];
    fi::tobytes(s, f);
    fe_mulx::frombytes(h, s);
  }
  static LC_ALWAYS_INLINE void to_portable(fe& h, const fe& f) {
    uint8_t s[32];
    fe_mulx::tobytes(s, f);
    fi::frombytes(h, s);
  }
  static const ge_inline::CurveConstants& constants();
  static const ge_precomp* base_table();
  static const ge_precomp* base128_table();
};

// The same field with the products inlined at every use, for the batch kernel: its hot
// loops (bucket additions) are a few formulas, so the code stays small, and no call saves
// and restores the six callee-saved registers a product uses.
struct MulxFieldInline : MulxField {
  static LC_ALWAYS_INLINE void mul(fe& h, const fe& f, const fe& g) { fe_mulx::mul_body(h, f, g); }
  static LC_ALWAYS_INLINE void sq(fe& h, const fe& f) { fe_mulx::sq_body(h, f); }
};

namespace {

ge_inline::CurveConstants convert_constants() {
  const ge_inline::CurveConstants& portable = ge_inline::curve_constants();
  ge_inline::CurveConstants k;
  MulxField::from_portable(k.d, portable.d);
  MulxField::from_portable(k.d2, portable.d2);
  MulxField::from_portable(k.sqrtm1, portable.sqrtm1);
  return k;
}

struct Table {
  ge_precomp odd[BASE_TABLE_COUNT];
};

Table convert_table(const ge_precomp* portable) {
  Table t;
  for (size_t i = 0; i < BASE_TABLE_COUNT; ++i) {
    MulxField::from_portable(t.odd[i].yplusx, portable[i].yplusx);
    MulxField::from_portable(t.odd[i].yminusx, portable[i].yminusx);
    MulxField::from_portable(t.odd[i].xy2d, portable[i].xy2d);
  }
  return t;
}

}  // namespace

// LazyValues (common/once.h): no static guard a fork could copy locked.
const ge_inline::CurveConstants& MulxField::constants() {
  static LazyValue<ge_inline::CurveConstants> k;
  return k.get(convert_constants);
}

const ge_precomp* MulxField::base_table() {
  static LazyValue<Table> t;
  return t.get([] { return convert_table(ge_base_odd_multiples()); }).odd;
}

const ge_precomp* MulxField::base128_table() {
  static LazyValue<Table> t;
  return t.get([] { return convert_table(ge_base128_odd_multiples()); }).odd;
}

}  // namespace fe_mulx

namespace ed25519_paths {
namespace {

__attribute__((target("bmi2,adx"))) VerifyReason verify_points_mulx(const ge_p3* prepared_A,
                                                                    const uint8_t public_key[32],
                                                                    const uint8_t signature[64],
                                                                    const uint8_t k[32],
                                                                    const HalfScalars* half) {
  return verify_inline::verify_points<fe_mulx::MulxField>(prepared_A, public_key, signature, k, half);
}

__attribute__((target("bmi2,adx"))) void double_scalarmult_mulx(ge_p3& r, const uint8_t a[32],
                                                                const ge_p3& A, const uint8_t b[32]) {
  verify_inline::double_scalarmult_public<fe_mulx::MulxField>(r, a, A, b);
}

Status msm_mulx(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t count,
                MsmMethod method, size_t threads) {
  return msm_inline::msm_public<fe_mulx::MulxField>(r, b_scalar, scalars, points, count, method, threads);
}

Status verify_batch_chunk_mulx(const BatchChunk& chunk) {
  return batch_inline::verify_chunk<fe_mulx::MulxFieldInline>(chunk);
}

// Out-of-line copies of the operations the self-test compares with the portable field.
__attribute__((target("bmi2,adx"))) void add_out_of_line(fe& h, const fe& f, const fe& g) {
  fe_mulx::MulxField::add(h, f, g);
}
__attribute__((target("bmi2,adx"))) void sub_out_of_line(fe& h, const fe& f, const fe& g) {
  fe_mulx::MulxField::sub(h, f, g);
}
__attribute__((target("bmi2,adx"))) void tobytes_out_of_line(uint8_t s[32], const fe& f) {
  fe_mulx::MulxField::tobytes(s, f);
}

}  // namespace

const FieldPath MULX_FIELD_PATH = {verify_points_mulx, double_scalarmult_mulx, msm_mulx, verify_batch_chunk_mulx};

const MulxFieldOps MULX_FIELD_OPS = {fe_mulx::mul, fe_mulx::sq, fe_mulx::sqn, add_out_of_line, sub_out_of_line,
                                     tobytes_out_of_line};

}  // namespace ed25519_paths
}  // namespace ledger_core
