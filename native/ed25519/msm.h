// Variable-time multi-scalar multiplication on edwards25519:
//
//     r = [b] B + sum_i [s_i] P_i          (B the base point, s_i < L, P_i any points)
//
// Batch verification reduces a whole batch to one such sum, so this is where its time
// goes. Two methods, both on signed digits so that a subtraction costs what an addition
// costs (negating an affine Niels point is a swap and one negation):
//
// Straus (interleaved window NAF), for few points. Each P_i gets a table of its odd
// multiples P, 3P, ..., 15P (all tables brought to affine form with one shared field
// inversion); B uses a static table up to 127B. One pass of ~253 doublings is shared by
// all points; each point adds about 253 / 6 times. Cost ~ 253 D + n (8 + 42) A.
//
// Pippenger (bucket method), for many points. Each scalar is cut into W windows of c
// bits with digits in [-2^(c-1), 2^(c-1)]. Per window, P_i is added to (or subtracted
// from) bucket |d_i|, then the buckets are summed by a running sum:
//
//     window sum = sum_j j * bucket_j = bucket_m + (bucket_m + bucket_m-1) + ...
//
//     acc:  [ w(W-1) ] --*2^c--> + [ w(W-2) ] --*2^c--> ... + [ w(0) ]
//
// Cost ~ sum_i W_i additions + W * 2^c bucket additions + W c doublings, and c is picked
// per call by that cost model. Windows are independent until the final Horner pass, so
// they are the unit of parallel work. Short scalars need fewer windows: batch verification
// gives every R_i the 128-bit coefficient z_i, so R_i takes part only in the lowest
// ceil(129 / c) windows. Points are sorted by window count, so in window w only a prefix
// of them is visited.
//
// The terms are split into two sums, short scalars (<= 128 bits: the batch's z_i on the
// R_i) and long ones (key coefficients and B), so that the windows above bit 129 touch
// only the long group's buckets. For each group, automatic picks the method with the
// lower cost model (additions counted in msm.cpp); bench/bench_verify.py measures where
// Straus stops winning (about 64 terms for 128-bit scalars, 96-128 for 253-bit ones here).
//
// The methods are templates over the field type (msm_inline.h): the batch kernel calls the
// copy of its own field path directly; msm_vartime goes through the active path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "ed25519/point.h"
#include "ed25519/scalar.h"

namespace ledger_core {

enum class MsmMethod : uint8_t { automatic = 0, straus = 1, pippenger = 2 };

// r = [b_scalar] B + sum_{i < count} [scalars[i]] points[i].
// Sizes: scalars and points hold `count` entries; count may be 0 (then r = [b]B).
// Every scalar must be < L (reduced); that is not checked. r may not alias the inputs.
// method: automatic, or one method forced for both groups (tests, benchmarks).
// Returns ok, or no_memory when scratch space cannot be allocated (r is then undefined).
// Variable-time: public inputs only. Thread-safe (the static B table is built once).
// threads: at most this many pool threads (0 = all, thread_pool.h) share a Pippenger
// sum, window by window; Straus runs on the calling thread.
Status msm_vartime(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars,
                   const ge_p3* points, size_t count, MsmMethod method, size_t threads = 1);

// The window width Pippenger would use for these scalars (exposed for tests/bench).
unsigned msm_pippenger_window(const Scalar* scalars, size_t count);

}  // namespace ledger_core
