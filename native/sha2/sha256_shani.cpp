// SHA-256 compression with the SHA extensions (SHA-NI). The state lives in two XMM
// registers in the order SHA256RNDS2 wants them, ABEF and CDGH (A in the top lane); each
// SHA256RNDS2 runs two rounds on the two low words of (message + round constant), and
// SHA256MSG1 / SHA256MSG2 compute the message schedule four words at a time:
//
//   W[t..t+3] = msg2(msg1(W[t-16..t-13], W[t-12..t-9]) + W[t-7..t-4], W[t-4..t-1])
//
// Compiled with a GCC target attribute; sha256_dispatch.cpp calls it only when the CPU
// has SHA-NI and SSE4.1.
#include <immintrin.h>

#include "sha2/sha256.h"
#include "sha2/sha256_impl.h"

#define LC_SHANI __attribute__((target("sha,sse4.1")))

namespace ledger_core {
namespace {

using sha256_detail::kRound;

}  // namespace

#define LC_SHANI_INLINE __attribute__((target("sha,sse4.1"), always_inline)) inline

// N independent streams of block_count blocks each, their instructions interleaved: one
// stream is a chain of dependent SHA256RNDS2 (several cycles of latency each), so a
// second stream fills the gaps almost for free.
template <size_t N>
LC_SHANI_INLINE void compress_streams(uint32_t* const state[N], const uint8_t* const blocks_in[N],
                                      size_t block_count) {
  // Message words are big-endian: byte-swap each 32-bit word on load.
  const __m128i byte_swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);

  // state[0..3] = a b c d, state[4..7] = e f g h  ->  ABEF (lanes f e b a), CDGH (h g d c).
  __m128i abef[N], cdgh[N];
  const uint8_t* blocks[N];
  for (size_t k = 0; k < N; ++k) {
    const __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state[k])), 0xB1);
    const __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state[k] + 4)), 0x1B);
    abef[k] = _mm_alignr_epi8(abcd, efgh, 8);
    cdgh[k] = _mm_blend_epi16(efgh, abcd, 0xF0);
    blocks[k] = blocks_in[k];
  }

  for (size_t b = 0; b < block_count; ++b) {
    __m128i abef_in[N], cdgh_in[N], w[N][4];
    for (size_t k = 0; k < N; ++k) {
      abef_in[k] = abef[k];
      cdgh_in[k] = cdgh[k];
      for (int i = 0; i < 4; ++i)
        w[k][i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[k] + 16 * i)),
                                   byte_swap);
      blocks[k] += SHA256_BLOCK_LEN;
    }
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      const __m128i k_words = _mm_load_si128(reinterpret_cast<const __m128i*>(kRound + 4 * g));
      for (size_t k = 0; k < N; ++k) {
        if (g >= 4) {
          // w[k][g % 4] holds W[4g-16..4g-13]; the other three the next 12 words.
          const __m128i older = _mm_sha256msg1_epu32(w[k][g % 4], w[k][(g + 1) % 4]);
          const __m128i w7 = _mm_alignr_epi8(w[k][(g + 3) % 4], w[k][(g + 2) % 4], 4);
          w[k][g % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(older, w7), w[k][(g + 3) % 4]);
        }
        __m128i wk = _mm_add_epi32(w[k][g % 4], k_words);
        // Two rounds turn ABEF into the next CDGH: the registers trade roles and trade back.
        cdgh[k] = _mm_sha256rnds2_epu32(cdgh[k], abef[k], wk);  // rounds 4g, 4g+1
        wk = _mm_shuffle_epi32(wk, 0x0E);
        abef[k] = _mm_sha256rnds2_epu32(abef[k], cdgh[k], wk);  // rounds 4g+2, 4g+3
      }
    }
    for (size_t k = 0; k < N; ++k) {
      abef[k] = _mm_add_epi32(abef[k], abef_in[k]);
      cdgh[k] = _mm_add_epi32(cdgh[k], cdgh_in[k]);
    }
  }

  // Back to a b c d / e f g h.
  for (size_t k = 0; k < N; ++k) {
    const __m128i feba = _mm_shuffle_epi32(abef[k], 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(cdgh[k], 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state[k]), _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state[k] + 4), _mm_alignr_epi8(dchg, feba, 8));
  }
}

LC_SHANI void sha256_compress_shani(uint32_t state[8], const uint8_t* blocks, size_t block_count) {
  uint32_t* const states[1] = {state};
  const uint8_t* const inputs[1] = {blocks};
  compress_streams<1>(states, inputs, block_count);
}

LC_SHANI void sha256_compress2_shani(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8],
                                     const uint8_t* blocks_b, size_t block_count) {
  uint32_t* const states[2] = {state_a, state_b};
  const uint8_t* const inputs[2] = {blocks_a, blocks_b};
  compress_streams<2>(states, inputs, block_count);
}

}  // namespace ledger_core
