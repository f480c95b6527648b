// The AVX2 BLAKE3 path: 8 independent compression chains at once, one per 32-bit lane
// of a YMM register. State word i of all 8 lanes lives in one register, so a round is
// the portable round with every 32-bit operation widened to 8 lanes; the only extra work
// is transposing each lane's 64-byte message block into 16 word-vectors on the way in,
// and the 8 chaining values back into lane order on the way out.
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

LC_AVX2_INLINE __m256i add(__m256i a, __m256i b) { return _mm256_add_epi32(a, b); }
LC_AVX2_INLINE __m256i xor256(__m256i a, __m256i b) { return _mm256_xor_si256(a, b); }

// Rotations by whole bytes are one byte shuffle; 12 and 7 need two shifts and an or.
// The shuffle masks are memory operands (inline asm keeps the compiler from hoisting
// them into registers): 16 state vectors already fill the register file, and a spilled
// state vector costs more than a mask load.
alignas(32) constexpr uint8_t kRotr16Mask[32] = {2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                                 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13};
alignas(32) constexpr uint8_t kRotr8Mask[32] = {1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
                                                1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12};

LC_AVX2_INLINE __m256i shuffle_bytes(__m256i x, const uint8_t (&mask)[32]) {
  __m256i r;
  __asm__("vpshufb %2, %1, %0" : "=x"(r) : "x"(x), "m"(*reinterpret_cast<const __m256i*>(mask)));
  return r;
}
LC_AVX2_INLINE __m256i rotr16(__m256i x) { return shuffle_bytes(x, kRotr16Mask); }
LC_AVX2_INLINE __m256i rotr8(__m256i x) { return shuffle_bytes(x, kRotr8Mask); }
LC_AVX2_INLINE __m256i rotr12(__m256i x) {
  return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20));
}
LC_AVX2_INLINE __m256i rotr7(__m256i x) {
  return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25));
}

// One round: the four column G functions side by side, then the four diagonal ones, so
// each step is four independent instructions the core can issue together.
template <size_t R>
LC_AVX2_INLINE void round8(__m256i v[16], const __m256i m[16]) {
  constexpr const uint8_t* s = MSG_SCHEDULE.word[R];
  v[0] = add(add(v[0], m[s[0]]), v[4]);
  v[1] = add(add(v[1], m[s[2]]), v[5]);
  v[2] = add(add(v[2], m[s[4]]), v[6]);
  v[3] = add(add(v[3], m[s[6]]), v[7]);
  v[12] = rotr16(xor256(v[12], v[0]));
  v[13] = rotr16(xor256(v[13], v[1]));
  v[14] = rotr16(xor256(v[14], v[2]));
  v[15] = rotr16(xor256(v[15], v[3]));
  v[8] = add(v[8], v[12]);
  v[9] = add(v[9], v[13]);
  v[10] = add(v[10], v[14]);
  v[11] = add(v[11], v[15]);
  v[4] = rotr12(xor256(v[4], v[8]));
  v[5] = rotr12(xor256(v[5], v[9]));
  v[6] = rotr12(xor256(v[6], v[10]));
  v[7] = rotr12(xor256(v[7], v[11]));
  v[0] = add(add(v[0], m[s[1]]), v[4]);
  v[1] = add(add(v[1], m[s[3]]), v[5]);
  v[2] = add(add(v[2], m[s[5]]), v[6]);
  v[3] = add(add(v[3], m[s[7]]), v[7]);
  v[12] = rotr8(xor256(v[12], v[0]));
  v[13] = rotr8(xor256(v[13], v[1]));
  v[14] = rotr8(xor256(v[14], v[2]));
  v[15] = rotr8(xor256(v[15], v[3]));
  v[8] = add(v[8], v[12]);
  v[9] = add(v[9], v[13]);
  v[10] = add(v[10], v[14]);
  v[11] = add(v[11], v[15]);
  v[4] = rotr7(xor256(v[4], v[8]));
  v[5] = rotr7(xor256(v[5], v[9]));
  v[6] = rotr7(xor256(v[6], v[10]));
  v[7] = rotr7(xor256(v[7], v[11]));

  v[0] = add(add(v[0], m[s[8]]), v[5]);
  v[1] = add(add(v[1], m[s[10]]), v[6]);
  v[2] = add(add(v[2], m[s[12]]), v[7]);
  v[3] = add(add(v[3], m[s[14]]), v[4]);
  v[15] = rotr16(xor256(v[15], v[0]));
  v[12] = rotr16(xor256(v[12], v[1]));
  v[13] = rotr16(xor256(v[13], v[2]));
  v[14] = rotr16(xor256(v[14], v[3]));
  v[10] = add(v[10], v[15]);
  v[11] = add(v[11], v[12]);
  v[8] = add(v[8], v[13]);
  v[9] = add(v[9], v[14]);
  v[5] = rotr12(xor256(v[5], v[10]));
  v[6] = rotr12(xor256(v[6], v[11]));
  v[7] = rotr12(xor256(v[7], v[8]));
  v[4] = rotr12(xor256(v[4], v[9]));
  v[0] = add(add(v[0], m[s[9]]), v[5]);
  v[1] = add(add(v[1], m[s[11]]), v[6]);
  v[2] = add(add(v[2], m[s[13]]), v[7]);
  v[3] = add(add(v[3], m[s[15]]), v[4]);
  v[15] = rotr8(xor256(v[15], v[0]));
  v[12] = rotr8(xor256(v[12], v[1]));
  v[13] = rotr8(xor256(v[13], v[2]));
  v[14] = rotr8(xor256(v[14], v[3]));
  v[10] = add(v[10], v[15]);
  v[11] = add(v[11], v[12]);
  v[8] = add(v[8], v[13]);
  v[9] = add(v[9], v[14]);
  v[5] = rotr7(xor256(v[5], v[10]));
  v[6] = rotr7(xor256(v[6], v[11]));
  v[7] = rotr7(xor256(v[7], v[8]));
  v[4] = rotr7(xor256(v[4], v[9]));
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

LC_AVX2_INLINE void compress8(__m256i h[8], const __m256i m[16], __m256i counter_lo, __m256i counter_hi,
                              __m256i block_len, __m256i flags) {
  __m256i v[16];
  for (int i = 0; i < 8; ++i) v[i] = h[i];
  for (int i = 0; i < 4; ++i) v[8 + i] = _mm256_set1_epi32(static_cast<int>(IV[i]));
  v[12] = counter_lo;
  v[13] = counter_hi;
  v[14] = block_len;
  v[15] = flags;
  round8<0>(v, m);
  round8<1>(v, m);
  round8<2>(v, m);
  round8<3>(v, m);
  round8<4>(v, m);
  round8<5>(v, m);
  round8<6>(v, m);
  for (int i = 0; i < 8; ++i) h[i] = xor256(v[i], v[i + 8]);
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
  __m256i h[8];
  for (int i = 0; i < 8; ++i) h[i] = _mm256_set1_epi32(static_cast<int>(job.key[i]));

  const uint8_t* block[8];
  __m256i m[16];
  uint8_t flags = job.flags | job.flags_start;
  const __m256i full_block = _mm256_set1_epi32(64);
  for (size_t b = 0; b + 1 < job.block_count; ++b) {
    for (int l = 0; l < 8; ++l) block[l] = input[l] + b * 64;
    load_message(block, m);
    compress8(h, m, ctr_lo, ctr_hi, full_block, _mm256_set1_epi32(flags));
    flags = job.flags;
  }
  load_message(last_block, m);
  compress8(h, m, ctr_lo, ctr_hi, _mm256_load_si256(reinterpret_cast<const __m256i*>(last_len)),
            _mm256_set1_epi32(flags | job.flags_end));

  transpose8(h);
  for (size_t l = 0; l < job.lane_count; ++l)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * l), h[l]);
}

}  // namespace blake3_detail
}  // namespace ledger_core
