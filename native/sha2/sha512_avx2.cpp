// Multi-buffer SHA-512 with AVX2: four independent messages, one in each 64-bit lane of
// the YMM registers. Every instruction works on all four messages at once, so one round
// costs about what a scalar round costs but advances four messages.
//
//   lane:      3        2        1        0
//   a      [ a(m3) ][ a(m2) ][ a(m1) ][ a(m0) ]     ... h likewise
//   W[t]   [ W(m3) ][ W(m2) ][ W(m1) ][ W(m0) ]     16-word rolling schedule
//
// Messages of unequal length: each lane reads its own message through a MessageCursor;
// when a lane's message ends, its digest is stored and the lane starts the next message
// of the batch, so all four lanes stay busy until the batch runs out. Only then do lanes
// go idle, and once fewer than MIN_VECTOR_LANES are busy the rest finish on the scalar
// compression (a mostly idle vector step costs more than the scalar blocks it replaces).
//
// AVX2 has no 64-bit rotate: rotations are two shifts and an OR, except the rotate by
// 8 of sigma0, which is one byte shuffle. Compiled with a GCC target attribute;
// sha512_dispatch.cpp calls it only when the CPU (and OS) have AVX2.
#include <immintrin.h>

#include <cstring>

#include "sha2/sha512.h"
#include "sha2/sha512_impl.h"

#define LC_AVX2 __attribute__((target("avx2")))
#define LC_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

namespace ledger_core {
namespace sha512_detail {
namespace {

constexpr int LANES = 4;
// Busy lanes below which the remaining messages finish on the scalar path.
constexpr int MIN_VECTOR_LANES = 2;

template <int N>
LC_AVX2_INLINE __m256i rotr(__m256i x) {
  return _mm256_or_si256(_mm256_srli_epi64(x, N), _mm256_slli_epi64(x, 64 - N));
}

LC_AVX2_INLINE __m256i add(__m256i x, __m256i y) { return _mm256_add_epi64(x, y); }
LC_AVX2_INLINE __m256i xor3(__m256i x, __m256i y, __m256i z) {
  return _mm256_xor_si256(_mm256_xor_si256(x, y), z);
}

LC_AVX2_INLINE __m256i big_sigma0(__m256i a) { return xor3(rotr<28>(a), rotr<34>(a), rotr<39>(a)); }
LC_AVX2_INLINE __m256i big_sigma1(__m256i e) { return xor3(rotr<14>(e), rotr<18>(e), rotr<41>(e)); }

LC_AVX2_INLINE __m256i small_sigma0(__m256i w, __m256i rotr8_mask) {
  return xor3(rotr<1>(w), _mm256_shuffle_epi8(w, rotr8_mask), _mm256_srli_epi64(w, 7));
}
LC_AVX2_INLINE __m256i small_sigma1(__m256i w) {
  return xor3(rotr<19>(w), rotr<61>(w), _mm256_srli_epi64(w, 6));
}

// One round; the caller rotates the roles of the eight variables instead of moving them.
// Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and this round's a ^ b is the next round's
// b ^ c: `bc` carries it over, one operation fewer per round.
LC_AVX2_INLINE void round(__m256i a, __m256i b, __m256i& bc, __m256i& d, __m256i e, __m256i f,
                          __m256i g, __m256i& h, __m256i wk) {
  const __m256i ch = _mm256_xor_si256(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g));
  const __m256i t1 = add(add(h, big_sigma1(e)), add(ch, wk));
  const __m256i ab = _mm256_xor_si256(a, b);
  const __m256i maj = _mm256_xor_si256(b, _mm256_and_si256(ab, bc));
  bc = ab;
  d = add(d, t1);
  h = add(t1, add(big_sigma0(a), maj));
}

// Compresses one block per lane: blocks[l] into lane l of state (state[j][l] is word j
// of lane l's state).
LC_AVX2 void compress4(uint64_t state[8][LANES], const uint8_t (*blocks)[SHA512_BLOCK_LEN]) {
  const __m256i byte_swap = _mm256_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7,
                                            8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i rotr8_mask = _mm256_set_epi8(8, 15, 14, 13, 12, 11, 10, 9, 0, 7, 6, 5, 4, 3, 2, 1,
                                             8, 15, 14, 13, 12, 11, 10, 9, 0, 7, 6, 5, 4, 3, 2, 1);
  __m256i w[16];
  // Four words of each lane's block per step, transposed so that w[j] holds word j of
  // every lane, then byte-swapped (message words are big-endian).
  for (int g = 0; g < 4; ++g) {
    const __m256i r0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[0] + 32 * g));
    const __m256i r1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[1] + 32 * g));
    const __m256i r2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[2] + 32 * g));
    const __m256i r3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[3] + 32 * g));
    const __m256i t0 = _mm256_unpacklo_epi64(r0, r1);  // r0w0 r1w0 r0w2 r1w2
    const __m256i t1 = _mm256_unpackhi_epi64(r0, r1);  // r0w1 r1w1 r0w3 r1w3
    const __m256i t2 = _mm256_unpacklo_epi64(r2, r3);
    const __m256i t3 = _mm256_unpackhi_epi64(r2, r3);
    w[4 * g + 0] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(t0, t2, 0x20), byte_swap);
    w[4 * g + 1] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(t1, t3, 0x20), byte_swap);
    w[4 * g + 2] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(t0, t2, 0x31), byte_swap);
    w[4 * g + 3] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(t1, t3, 0x31), byte_swap);
  }

  const __m256i* s = reinterpret_cast<const __m256i*>(state);
  __m256i a = _mm256_load_si256(s + 0), b = _mm256_load_si256(s + 1);
  __m256i c = _mm256_load_si256(s + 2), d = _mm256_load_si256(s + 3);
  __m256i e = _mm256_load_si256(s + 4), f = _mm256_load_si256(s + 5);
  __m256i g = _mm256_load_si256(s + 6), h = _mm256_load_si256(s + 7);

  __m256i bc = _mm256_xor_si256(b, c);
  for (int t = 0; t < 80; t += 8) {
    if (t >= 16) {
      for (int i = 0; i < 8; ++i) {
        const int j = (t + i) & 15;
        w[j] = add(add(w[j], small_sigma0(w[(j + 1) & 15], rotr8_mask)),
                   add(w[(j + 9) & 15], small_sigma1(w[(j + 14) & 15])));
      }
    }
    const int base = t & 15;
    const uint64_t* k = kRound + t;
    round(a, b, bc, d, e, f, g, h, add(w[base + 0], _mm256_set1_epi64x(static_cast<long long>(k[0]))));
    round(h, a, bc, c, d, e, f, g, add(w[base + 1], _mm256_set1_epi64x(static_cast<long long>(k[1]))));
    round(g, h, bc, b, c, d, e, f, add(w[base + 2], _mm256_set1_epi64x(static_cast<long long>(k[2]))));
    round(f, g, bc, a, b, c, d, e, add(w[base + 3], _mm256_set1_epi64x(static_cast<long long>(k[3]))));
    round(e, f, bc, h, a, b, c, d, add(w[base + 4], _mm256_set1_epi64x(static_cast<long long>(k[4]))));
    round(d, e, bc, g, h, a, b, c, add(w[base + 5], _mm256_set1_epi64x(static_cast<long long>(k[5]))));
    round(c, d, bc, f, g, h, a, b, add(w[base + 6], _mm256_set1_epi64x(static_cast<long long>(k[6]))));
    round(b, c, bc, e, f, g, h, a, add(w[base + 7], _mm256_set1_epi64x(static_cast<long long>(k[7]))));
  }

  __m256i* out = reinterpret_cast<__m256i*>(state);
  _mm256_store_si256(out + 0, add(a, _mm256_load_si256(out + 0)));
  _mm256_store_si256(out + 1, add(b, _mm256_load_si256(out + 1)));
  _mm256_store_si256(out + 2, add(c, _mm256_load_si256(out + 2)));
  _mm256_store_si256(out + 3, add(d, _mm256_load_si256(out + 3)));
  _mm256_store_si256(out + 4, add(e, _mm256_load_si256(out + 4)));
  _mm256_store_si256(out + 5, add(f, _mm256_load_si256(out + 5)));
  _mm256_store_si256(out + 6, add(g, _mm256_load_si256(out + 6)));
  _mm256_store_si256(out + 7, add(h, _mm256_load_si256(out + 7)));
}

}  // namespace

void many_parts_avx2(const Sha512Parts* items, size_t count, uint8_t* out) {
  alignas(32) uint64_t state[8][LANES];
  alignas(32) uint8_t blocks[LANES][SHA512_BLOCK_LEN];
  std::memset(state, 0, sizeof state);
  std::memset(blocks, 0, sizeof blocks);  // an idle lane hashes whatever is left here
  MessageCursor cursor[LANES];
  size_t item_of[LANES];
  bool busy[LANES];
  int busy_count = 0;
  size_t next = 0;

  auto start_lane = [&](int lane) {
    busy[lane] = next < count;
    if (!busy[lane]) return;
    cursor[lane].start(&items[next]);
    item_of[lane] = next++;
    for (int j = 0; j < 8; ++j) state[j][lane] = kInitial[j];
    ++busy_count;
  };
  for (int lane = 0; lane < LANES; ++lane) start_lane(lane);

  while (busy_count >= MIN_VECTOR_LANES) {
    bool last[LANES];
    for (int lane = 0; lane < LANES; ++lane)
      last[lane] = busy[lane] && cursor[lane].next_block(blocks[lane]);
    compress4(state, blocks);
    for (int lane = 0; lane < LANES; ++lane) {
      if (!last[lane]) continue;
      uint64_t words[8];
      for (int j = 0; j < 8; ++j) words[j] = state[j][lane];
      store_digest(words, out + SHA512_LEN * item_of[lane]);
      --busy_count;
      start_lane(lane);
    }
  }

  // Fewer than MIN_VECTOR_LANES messages left and nothing queued: finish them one by one.
  for (int lane = 0; lane < LANES; ++lane) {
    if (!busy[lane]) continue;
    uint64_t words[8];
    for (int j = 0; j < 8; ++j) words[j] = state[j][lane];
    bool done;
    do {
      done = cursor[lane].next_block(blocks[lane]);
      sha512_compress_portable(words, blocks[lane], 1);
    } while (!done);
    store_digest(words, out + SHA512_LEN * item_of[lane]);
  }
}

}  // namespace sha512_detail
}  // namespace ledger_core
