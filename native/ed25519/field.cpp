#include "ed25519/field.h"

#include <new>

#include "ed25519/field_inline.h"

namespace ledger_core {

namespace fi = fe_inline;

void fe_0(fe& h) { fi::set_small(h, 0); }
void fe_1(fe& h) { fi::set_small(h, 1); }
void fe_copy(fe& h, const fe& f) { h = f; }

void fe_add(fe& h, const fe& f, const fe& g) {
  fi::add_nc(h, f, g);
  fi::carry(h);
}

void fe_sub(fe& h, const fe& f, const fe& g) {
  fi::sub_wide_nc(h, f, g);
  fi::carry(h);
}

void fe_neg(fe& h, const fe& f) {
  fe zero;
  fi::set_small(zero, 0);
  fi::sub_wide_nc(h, zero, f);
  fi::carry(h);
}

void fe_mul(fe& h, const fe& f, const fe& g) { fi::mul(h, f, g); }
void fe_sq(fe& h, const fe& f) { fi::sq(h, f); }
void fe_invert(fe& out, const fe& z) { fi::invert(out, z); }
void fe_pow22523(fe& out, const fe& z) { fi::pow22523(out, z); }
void fe_frombytes(fe& h, const uint8_t s[32]) { fi::frombytes(h, s); }
void fe_tobytes(uint8_t s[32], const fe& h) { fi::tobytes(s, h); }
bool fe_isnegative(const fe& f) { return fi::isnegative(f); }
bool fe_iszero(const fe& f) { return fi::iszero(f); }
bool fe_equal(const fe& f, const fe& g) { return fi::equal(f, g); }

namespace {

// Montgomery's trick over in[0, n) with caller scratch prefix[0, n); in may equal out.
// A zero element is replaced by 1 in the running product and gives 0.
void batch_invert_with(fe* out, const fe* in, size_t n, fe* prefix, bool* is_zero) {
  fe acc;
  fi::set_small(acc, 1);
  for (size_t i = 0; i < n; ++i) {
    prefix[i] = acc;
    is_zero[i] = fi::iszero(in[i]);
    if (!is_zero[i]) fi::mul(acc, acc, in[i]);
  }
  fi::invert(acc, acc);  // 1 / (product of the non-zero elements)
  for (size_t i = n; i-- > 0;) {
    if (is_zero[i]) {
      fi::set_small(out[i], 0);
      continue;
    }
    fe inv_i;
    fi::mul(inv_i, acc, prefix[i]);  // 1 / in[i]
    fi::mul(acc, acc, in[i]);        // read in[i] before out[i] (which may be in[i]) is written
    out[i] = inv_i;
  }
}

}  // namespace

void fe_batch_invert(fe* out, const fe* in, size_t n) {
  if (n == 0) return;
  fe* prefix = new (std::nothrow) fe[n];
  bool* is_zero = new (std::nothrow) bool[n];
  if (prefix != nullptr && is_zero != nullptr) {
    batch_invert_with(out, in, n, prefix, is_zero);
  } else {
    constexpr size_t kChunk = 64;
    fe chunk_prefix[kChunk];
    bool chunk_zero[kChunk];
    for (size_t begin = 0; begin < n; begin += kChunk) {
      const size_t len = n - begin < kChunk ? n - begin : kChunk;
      batch_invert_with(out + begin, in + begin, len, chunk_prefix, chunk_zero);
    }
  }
  delete[] prefix;
  delete[] is_zero;
}

}  // namespace ledger_core
