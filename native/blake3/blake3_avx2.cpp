// The AVX2 BLAKE3 path: 8 independent compression chains at once, one per 32-bit lane
// of a YMM register. State word i of all 8 lanes lives in one register, so a round is
// the portable round with every 32-bit operation widened to 8 lanes; the only extra work
// is transposing each lane's 64-byte message block into 16 word-vectors on the way in,
// and the 8 chaining values back into lane order on the way out. The rounds themselves
// are one inline-assembly block (see compress8) so that register use is ours, not the
// compiler's; the message transpose and the lane bookkeeping stay in intrinsics.
//
// Compiled with a GCC target attribute, not -march: the dispatch point calls it only
// when cpu_features().avx2 is set.
#include <immintrin.h>

#include "blake3/blake3_impl.h"

#define LC_AVX2 __attribute__((target("avx2")))
// Helpers are forced inline: a call would pass YMM state through memory.
#define LC_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

namespace ledger_core {
namespace blake3_detail {
namespace {

// Byte-shuffle masks for the rotations by 16 and 8 (each 32-bit word rotated right).
alignas(32) constexpr uint8_t kRotr16Mask[32] = {2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                                 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13};
alignas(32) constexpr uint8_t kRotr8Mask[32] = {1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
                                                1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12};

// The compression runs as one inline-assembly block with state word k of all 8 lanes in
// register ymm<k>. Written with intrinsics, the same rounds ran about 1.35x slower with
// GCC 12: 16 state vectors fill the register file, and the compiler spilled vectors that
// were on the round's dependency chain, each reload adding a store-forwarding delay.
// Here the one temporary a rotation by 12 or 7 needs is made by parking one `d` vector
// (not read again until the next half-round's `d ^= a`) in a stack slot; the message
// words and shuffle masks are memory operands.
#define LC_YMM(n) "%%ymm" #n
#define LC_ADD(d, s) "vpaddd " LC_YMM(s) ", " LC_YMM(d) ", " LC_YMM(d) "\n\t"
#define LC_ADD_MSG(d, w) "vpaddd " #w "*32(%[msg]), " LC_YMM(d) ", " LC_YMM(d) "\n\t"
#define LC_XOR(d, s) "vpxor " LC_YMM(s) ", " LC_YMM(d) ", " LC_YMM(d) "\n\t"
#define LC_SHUF(d, mask) "vpshufb %[" #mask "], " LC_YMM(d) ", " LC_YMM(d) "\n\t"
#define LC_ROT(d, t, right, left)                          \
  "vpsrld $" #right ", " LC_YMM(d) ", " LC_YMM(t) "\n\t"  \
  "vpslld $" #left ", " LC_YMM(d) ", " LC_YMM(d) "\n\t"   \
  "vpor " LC_YMM(t) ", " LC_YMM(d) ", " LC_YMM(d) "\n\t"
#define LC_PARK(n) "vmovdqu " LC_YMM(n) ", %[park]\n\t"
#define LC_UNPARK(n) "vmovdqu %[park], " LC_YMM(n) "\n\t"
#define LC_EACH4(OP, a0, b0, a1, b1, a2, b2, a3, b3) OP(a0, b0) OP(a1, b1) OP(a2, b2) OP(a3, b3)

// Four G functions side by side: (a_i, b_i, c_i, d_i) with message words x_i then y_i.
#define LC_G4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3,     \
              x0, x1, x2, x3, y0, y1, y2, y3)                                     \
  LC_EACH4(LC_ADD_MSG, a0, x0, a1, x1, a2, x2, a3, x3)                            \
  LC_EACH4(LC_ADD, a0, b0, a1, b1, a2, b2, a3, b3)                                \
  LC_EACH4(LC_XOR, d0, a0, d1, a1, d2, a2, d3, a3)                                \
  LC_EACH4(LC_SHUF, d0, rot16, d1, rot16, d2, rot16, d3, rot16)                   \
  LC_EACH4(LC_ADD, c0, d0, c1, d1, c2, d2, c3, d3)                                \
  LC_PARK(d0)                                                                     \
  LC_EACH4(LC_XOR, b0, c0, b1, c1, b2, c2, b3, c3)                                \
  LC_ROT(b0, d0, 12, 20) LC_ROT(b1, d0, 12, 20) LC_ROT(b2, d0, 12, 20) LC_ROT(b3, d0, 12, 20) \
  LC_EACH4(LC_ADD_MSG, a0, y0, a1, y1, a2, y2, a3, y3)                            \
  LC_EACH4(LC_ADD, a0, b0, a1, b1, a2, b2, a3, b3)                                \
  LC_UNPARK(d0)                                                                   \
  LC_EACH4(LC_XOR, d0, a0, d1, a1, d2, a2, d3, a3)                                \
  LC_EACH4(LC_SHUF, d0, rot8, d1, rot8, d2, rot8, d3, rot8)                       \
  LC_EACH4(LC_ADD, c0, d0, c1, d1, c2, d2, c3, d3)                                \
  LC_PARK(d0)                                                                     \
  LC_EACH4(LC_XOR, b0, c0, b1, c1, b2, c2, b3, c3)                                \
  LC_ROT(b0, d0, 7, 25) LC_ROT(b1, d0, 7, 25) LC_ROT(b2, d0, 7, 25) LC_ROT(b3, d0, 7, 25) \
  LC_UNPARK(d0)

// One round: columns, then diagonals; s0..s15 is the round's message schedule.
#define LC_ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15)      \
  LC_G4(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, s0, s2, s4, s6, s1, s3, s5, s7) \
  LC_G4(0, 5, 10, 15, 1, 6, 11, 12, 2, 7, 8, 13, 3, 4, 9, 14, s8, s10, s12, s14, s9, s11, s13, s15)

// The schedule spelled out for the assembler; checked against MSG_SCHEDULE below.
constexpr uint8_t kScheduleLiteral[ROUNDS][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13}};
constexpr bool schedule_literal_matches() {
  for (size_t r = 0; r < ROUNDS; ++r)
    for (size_t i = 0; i < 16; ++i)
      if (kScheduleLiteral[r][i] != MSG_SCHEDULE.word[r][i]) return false;
  return true;
}
static_assert(schedule_literal_matches(), "the assembler's message schedule must be the specification's");

// in[0..15]: the initial state (chaining value, IV, counter, block length, flags) of
// 8 lanes, word-major; out[0..7] receives the 8 output chaining-value words (out may be
// in). msg[0..15]: the block's message words, word-major.
LC_AVX2_INLINE void compress8(const __m256i in[16], __m256i out[8], const __m256i msg[16]) {
  __m256i park;
  __asm__ volatile(
      "vmovdqu 0*32(%[in]), %%ymm0\n\t"
      "vmovdqu 1*32(%[in]), %%ymm1\n\t"
      "vmovdqu 2*32(%[in]), %%ymm2\n\t"
      "vmovdqu 3*32(%[in]), %%ymm3\n\t"
      "vmovdqu 4*32(%[in]), %%ymm4\n\t"
      "vmovdqu 5*32(%[in]), %%ymm5\n\t"
      "vmovdqu 6*32(%[in]), %%ymm6\n\t"
      "vmovdqu 7*32(%[in]), %%ymm7\n\t"
      "vmovdqu 8*32(%[in]), %%ymm8\n\t"
      "vmovdqu 9*32(%[in]), %%ymm9\n\t"
      "vmovdqu 10*32(%[in]), %%ymm10\n\t"
      "vmovdqu 11*32(%[in]), %%ymm11\n\t"
      "vmovdqu 12*32(%[in]), %%ymm12\n\t"
      "vmovdqu 13*32(%[in]), %%ymm13\n\t"
      "vmovdqu 14*32(%[in]), %%ymm14\n\t"
      "vmovdqu 15*32(%[in]), %%ymm15\n\t"
      LC_ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
      LC_ROUND(2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8)
      LC_ROUND(3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1)
      LC_ROUND(10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6)
      LC_ROUND(12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4)
      LC_ROUND(9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7)
      LC_ROUND(11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13)
      LC_XOR(0, 8) LC_XOR(1, 9) LC_XOR(2, 10) LC_XOR(3, 11)
      LC_XOR(4, 12) LC_XOR(5, 13) LC_XOR(6, 14) LC_XOR(7, 15)
      "vmovdqu %%ymm0, 0*32(%[out])\n\t"
      "vmovdqu %%ymm1, 1*32(%[out])\n\t"
      "vmovdqu %%ymm2, 2*32(%[out])\n\t"
      "vmovdqu %%ymm3, 3*32(%[out])\n\t"
      "vmovdqu %%ymm4, 4*32(%[out])\n\t"
      "vmovdqu %%ymm5, 5*32(%[out])\n\t"
      "vmovdqu %%ymm6, 6*32(%[out])\n\t"
      "vmovdqu %%ymm7, 7*32(%[out])\n\t"
      : [park] "=m"(park)
      : [in] "r"(in), [out] "r"(out), [msg] "r"(msg),
        [rot16] "m"(*reinterpret_cast<const __m256i*>(kRotr16Mask)),
        [rot8] "m"(*reinterpret_cast<const __m256i*>(kRotr8Mask))
      : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

// 8x8 transpose of 32-bit words: x[r] word c  ->  x[c] word r. Its own inverse, so it
// turns lane-ordered rows into word vectors and back.
LC_AVX2_INLINE void transpose8(__m256i x[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(x[0], x[1]);  // r0w0 r1w0 r0w1 r1w1 | words 4,5
  const __m256i t1 = _mm256_unpackhi_epi32(x[0], x[1]);  // r0w2 r1w2 r0w3 r1w3 | words 6,7
  const __m256i t2 = _mm256_unpacklo_epi32(x[2], x[3]);
  const __m256i t3 = _mm256_unpackhi_epi32(x[2], x[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(x[4], x[5]);
  const __m256i t5 = _mm256_unpackhi_epi32(x[4], x[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(x[6], x[7]);
  const __m256i t7 = _mm256_unpackhi_epi32(x[6], x[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2);  // r0..r3 word 0 | word 4
  const __m256i u1 = _mm256_unpackhi_epi64(t0, t2);  // word 1 | word 5
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3);  // word 2 | word 6
  const __m256i u3 = _mm256_unpackhi_epi64(t1, t3);  // word 3 | word 7
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6);  // r4..r7 likewise
  const __m256i u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7);
  const __m256i u7 = _mm256_unpackhi_epi64(t5, t7);
  x[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  x[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  x[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  x[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  x[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  x[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  x[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  x[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

LC_AVX2_INLINE __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// The 16 message word-vectors of one block per lane.
LC_AVX2_INLINE void load_message(const uint8_t* const block[8], __m256i m[16]) {
  for (int l = 0; l < 8; ++l) {
    m[l] = load256(block[l]);
    m[8 + l] = load256(block[l] + 32);
  }
  transpose8(m);
  transpose8(m + 8);
}

LC_AVX2_INLINE void set_words_8_to_15(__m256i state[16], __m256i counter_lo, __m256i counter_hi,
                                     __m256i block_len, uint8_t flags) {
  for (int i = 0; i < 4; ++i) state[8 + i] = _mm256_set1_epi32(static_cast<int>(IV[i]));
  state[12] = counter_lo;
  state[13] = counter_hi;
  state[14] = block_len;
  state[15] = _mm256_set1_epi32(flags);
}

// The message vectors of inputs [first, first + 8) (past count: input `first` again),
// short blocks copied into `padded` (zero past block_len).
LC_AVX2_INLINE void prepare_blocks(const uint8_t* inputs, size_t stride, size_t first, size_t count,
                                   uint32_t block_len, uint8_t* padded, __m256i m[16]) {
  const uint8_t* block[8];
  for (size_t l = 0; l < 8; ++l) {
    const uint8_t* p = inputs + (first + l < count ? first + l : first) * stride;
    if (block_len < 64) {
      std::memcpy(padded + 64 * l, p, block_len);
      p = padded + 64 * l;
    }
    block[l] = p;
  }
  load_message(block, m);
}

}  // namespace

LC_AVX2 void hash_lanes_avx2(const LaneJob& job, uint8_t* out) {
  // Unused lanes repeat lane 0; their results are not stored.
  const uint8_t* input[8];
  const uint8_t* last_block[8];
  alignas(32) uint32_t counter_lo[8], counter_hi[8], last_len[8];
  for (size_t l = 0; l < 8; ++l) {
    const size_t src = l < job.lane_count ? l : 0;
    input[l] = job.input[src];
    last_block[l] = job.last_block[src];
    counter_lo[l] = static_cast<uint32_t>(job.counter[src]);
    counter_hi[l] = static_cast<uint32_t>(job.counter[src] >> 32);
    last_len[l] = job.last_block_len[src];
  }
  const __m256i ctr_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(counter_lo));
  const __m256i ctr_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(counter_hi));
  __m256i state[16];
  for (int i = 0; i < 8; ++i) state[i] = _mm256_set1_epi32(static_cast<int>(job.key[i]));

  const uint8_t* block[8];
  __m256i m[16];
  uint8_t flags = job.flags | job.flags_start;
  for (size_t b = 0; b + 1 < job.block_count; ++b) {
    for (int l = 0; l < 8; ++l) block[l] = input[l] + b * 64;
    load_message(block, m);
    set_words_8_to_15(state, ctr_lo, ctr_hi, _mm256_set1_epi32(64), flags);
    compress8(state, state, m);
    flags = job.flags;
  }
  load_message(last_block, m);
  set_words_8_to_15(state, ctr_lo, ctr_hi, _mm256_load_si256(reinterpret_cast<const __m256i*>(last_len)),
                    flags | job.flags_end);
  compress8(state, state, m);

  transpose8(state);
  for (size_t l = 0; l < job.lane_count; ++l)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * l), state[l]);
}

// Software-pipelined over groups of 8: the next group's loads and transposes come before
// the current group's compression in program order, so the core runs them while the
// compression's long dependency chain executes, instead of exposing their latency.
LC_AVX2 void hash_blocks_avx2(const uint8_t* inputs, size_t stride, size_t count, uint32_t block_len,
                              const uint32_t key[8], uint8_t flags, uint8_t* out) {
  if (count == 0) return;
  alignas(32) uint8_t padded[2][8 * 64];
  if (block_len < 64) std::memset(padded, 0, sizeof padded);
  __m256i initial[16];
  for (int i = 0; i < 8; ++i) initial[i] = _mm256_set1_epi32(static_cast<int>(key[i]));
  set_words_8_to_15(initial, _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_set1_epi32(static_cast<int>(block_len)), flags);
  __m256i m[2][16];
  const size_t groups = (count + 7) / 8;
  prepare_blocks(inputs, stride, 0, count, block_len, padded[0], m[0]);
  for (size_t g = 0; g < groups; ++g) {
    const size_t current = g & 1;
    if (g + 1 < groups)
      prepare_blocks(inputs, stride, 8 * (g + 1), count, block_len, padded[current ^ 1], m[current ^ 1]);
    __m256i cv[8];
    compress8(initial, cv, m[current]);
    transpose8(cv);
    const size_t lanes = count - 8 * g < 8 ? count - 8 * g : 8;
    for (size_t l = 0; l < lanes; ++l)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * (8 * g + l)), cv[l]);
  }
}

}  // namespace blake3_detail
}  // namespace ledger_core

#undef LC_YMM
#undef LC_ADD
#undef LC_ADD_MSG
#undef LC_XOR
#undef LC_SHUF
#undef LC_ROT
#undef LC_PARK
#undef LC_UNPARK
#undef LC_EACH4
#undef LC_G4
#undef LC_ROUND
