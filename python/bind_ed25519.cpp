// Bindings for Ed25519 verification: batch verification here, single verification in
// bind_ed25519_single.cpp. Also the scalar, MSM and key-cache hooks the tests and the
// benchmark use (private names: the facade is src/ledger_core/ed25519.py).
#include <string>
#include <vector>

#include "bindings.h"
#include "ed25519/batch.h"
#include "ed25519/keycache.h"
#include "ed25519/msm.h"
#include "ed25519/point.h"
#include "ed25519/scalar.h"
#include "ed25519/test_hooks.h"

namespace ledger_core {

void bind_ed25519_single(py::module_& m);

namespace {

FixedItems checked_rows(const ByteArray& rows, size_t width, const char* arg) {
  FixedItems items = fixed_items(rows, arg);
  if (items.item_len != width)
    throw py::value_error(std::string(arg) + " must have shape (N, " + std::to_string(width) +
                          "), got (" + std::to_string(items.count) + ", " +
                          std::to_string(items.item_len) + ")");
  return items;
}

void check_count(size_t expected, size_t got, const char* arg) {
  if (expected != got)
    throw py::value_error(std::string(arg) + " has " + std::to_string(got) +
                          " items but public_keys has " + std::to_string(expected) +
                          ": every argument needs one entry per signature");
}

MsmMethod msm_method(int method) {
  if (method < 0 || method > 2) throw py::value_error("msm must be 0 (auto), 1 (straus) or 2 (pippenger)");
  return MsmMethod(method);
}

py::array_t<uint8_t> run_batch(const FixedItems& pks, const MessageList& msgs, size_t msg_count,
                               const FixedItems& sigs, size_t threads, int method) {
  check_count(pks.count, msg_count, "messages");
  check_count(pks.count, sigs.count, "signatures");
  MsmMethod how = msm_method(method);
  py::array_t<uint8_t> reasons(static_cast<py::ssize_t>(pks.count));
  uint8_t* out = reasons.mutable_data();
  Status status;
  {
    py::gil_scoped_release release;
    status = ed25519_verify_batch(pks.data, msgs, sigs.data, pks.count, threads, how, out);
  }
  check_status(status, "ed25519 batch verification");
  return reasons;
}

Scalar scalar_arg(const py::bytes& data, const char* arg) {
  std::string s = data;
  if (s.size() != SCALAR_LEN) throw py::value_error(std::string(arg) + " must be 32 bytes");
  Scalar out;
  sc_from_bytes(out, reinterpret_cast<const uint8_t*>(s.data()));
  return out;
}

}  // namespace

void bind_ed25519(py::module_& m) {
  bind_ed25519_single(m);

  m.def(
      "ed25519_verify_batch_fixed",
      [](const ByteArray& public_keys, const ByteArray& messages, const ByteArray& signatures,
         size_t threads, int msm) {
        FixedItems pks = checked_rows(public_keys, ED25519_PUBLIC_KEY_LEN, "public_keys");
        FixedItems msg_rows = fixed_items(messages, "messages");
        FixedItems sigs = checked_rows(signatures, ED25519_SIGNATURE_LEN, "signatures");
        MessageList msgs;
        msgs.fixed = &msg_rows;
        return run_batch(pks, msgs, msg_rows.count, sigs, threads, msm);
      },
      py::arg("public_keys"), py::arg("messages"), py::arg("signatures"), py::arg("threads") = 0,
      py::arg("msm") = 0,
      "Reason code per item (uint8, N) for (N, 32) keys, (N, k) messages, (N, 64) signatures.");

  m.def(
      "ed25519_verify_batch_var",
      [](const ByteArray& public_keys, const py::buffer& buffer, const OffsetArray& offsets,
         const ByteArray& signatures, size_t threads, int msm) {
        FixedItems pks = checked_rows(public_keys, ED25519_PUBLIC_KEY_LEN, "public_keys");
        py::buffer_info info = buffer.request();
        VarItems msg_items = var_items(info, offsets, "messages");
        FixedItems sigs = checked_rows(signatures, ED25519_SIGNATURE_LEN, "signatures");
        MessageList msgs;
        msgs.var = &msg_items;
        return run_batch(pks, msgs, msg_items.count, sigs, threads, msm);
      },
      py::arg("public_keys"), py::arg("buffer"), py::arg("offsets"), py::arg("signatures"),
      py::arg("threads") = 0, py::arg("msm") = 0,
      "Reason code per item (uint8, N); message i is buffer[offsets[i]:offsets[i+1]].");

  // For tests: ed25519_verify_batch_var forced onto one field path; None when that path
  // cannot run on this CPU (or LEDGER_CORE_PORTABLE is set).
  m.def(
      "_ed25519_verify_batch_on_path",
      [](const std::string& path, const ByteArray& public_keys, const py::buffer& buffer,
         const OffsetArray& offsets, const ByteArray& signatures, size_t threads, int msm) -> py::object {
        FixedItems pks = checked_rows(public_keys, ED25519_PUBLIC_KEY_LEN, "public_keys");
        py::buffer_info info = buffer.request();
        VarItems msg_items = var_items(info, offsets, "messages");
        FixedItems sigs = checked_rows(signatures, ED25519_SIGNATURE_LEN, "signatures");
        check_count(pks.count, msg_items.count, "messages");
        check_count(pks.count, sigs.count, "signatures");
        MessageList msgs;
        msgs.var = &msg_items;
        MsmMethod how = msm_method(msm);
        py::array_t<uint8_t> reasons(static_cast<py::ssize_t>(pks.count));
        uint8_t* out = reasons.mutable_data();
        bool available = false;
        Status status;
        {
          py::gil_scoped_release release;
          status = ed25519_verify_batch_on_path(path.c_str(), pks.data, msgs, sigs.data, pks.count, threads,
                                                how, out, &available);
        }
        if (!available) return py::none();
        check_status(status, "ed25519 batch verification");
        return std::move(reasons);
      },
      py::arg("path"), py::arg("public_keys"), py::arg("buffer"), py::arg("offsets"), py::arg("signatures"),
      py::arg("threads") = 1, py::arg("msm") = 0);

  // A list of bytes objects as messages, read in place: the items are pinned by a tuple
  // made under the GIL (a list could be changed by another thread meanwhile). Returns
  // None when an item is not exactly bytes; the facade then packs the list itself.
  m.def(
      "ed25519_verify_batch_list",
      [](const ByteArray& public_keys, const py::list& messages, const ByteArray& signatures,
         size_t threads, int msm) -> py::object {
        FixedItems pks = checked_rows(public_keys, ED25519_PUBLIC_KEY_LEN, "public_keys");
        FixedItems sigs = checked_rows(signatures, ED25519_SIGNATURE_LEN, "signatures");
        py::tuple pinned = py::tuple(messages);
        const size_t count = pinned.size();
        std::vector<const uint8_t*> pointers(count);
        std::vector<size_t> lengths(count);
        for (size_t i = 0; i < count; ++i) {
          PyObject* item = PyTuple_GET_ITEM(pinned.ptr(), static_cast<py::ssize_t>(i));
          if (!PyBytes_CheckExact(item)) return py::none();
          pointers[i] = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(item));
          lengths[i] = static_cast<size_t>(PyBytes_GET_SIZE(item));
        }
        MessageList msgs;
        msgs.pointers = pointers.data();
        msgs.lengths = lengths.data();
        return run_batch(pks, msgs, count, sigs, threads, msm);
      },
      py::arg("public_keys"), py::arg("messages"), py::arg("signatures"), py::arg("threads") = 0,
      py::arg("msm") = 0,
      "Reason code per item (uint8, N) for a list of N bytes messages; None if an item is not bytes.");

  m.def(
      "ed25519_key_cache_stats",
      [] {
        KeyCacheStats s = keycache_stats();
        py::dict d;
        d["entries"] = s.entries;
        d["capacity"] = s.capacity;
        d["hits"] = s.hits;
        d["misses"] = s.misses;
        return d;
      },
      "Entries, capacity, hits and misses of the decompressed public-key cache.");
  m.def("ed25519_key_cache_clear", &keycache_clear, "Empty the public-key cache.");

  m.def(
      "ed25519_scalar_reduce64",
      [](const py::bytes& data) {
        std::string s = data;
        if (s.size() != 64) throw py::value_error("input must be 64 bytes");
        uint8_t out[32];
        sc_reduce64(out, reinterpret_cast<const uint8_t*>(s.data()));
        return py::bytes(reinterpret_cast<const char*>(out), 32);
      },
      "The 64-byte little-endian integer mod L, as 32 bytes.");
  m.def(
      "ed25519_scalar_is_canonical",
      [](const py::bytes& data) {
        std::string s = data;
        if (s.size() != 32) throw py::value_error("scalar must be 32 bytes");
        return sc_is_canonical(reinterpret_cast<const uint8_t*>(s.data()));
      },
      "True when the 32-byte little-endian integer is < L.");
  m.def(
      "ed25519_scalar_muladd",
      [](const py::bytes& a, const py::bytes& b, const py::bytes& c) {
        uint8_t ab[32], bb[32], cb[32], out[32];
        sc_to_bytes(ab, scalar_arg(a, "a"));
        sc_to_bytes(bb, scalar_arg(b, "b"));
        sc_to_bytes(cb, scalar_arg(c, "c"));
        sc_muladd(out, ab, bb, cb);
        return py::bytes(reinterpret_cast<const char*>(out), 32);
      },
      "(a * b + c) mod L for 32-byte little-endian a, b, c.");

  m.def(
      "ed25519_msm",
      [](const ByteArray& points, const ByteArray& scalars, const py::bytes& b_scalar, int msm,
         size_t threads) {
        FixedItems pts = checked_rows(points, 32, "points");
        FixedItems scs = checked_rows(scalars, 32, "scalars");
        check_count(pts.count, scs.count, "scalars");
        std::vector<ge_p3> decoded(pts.count);
        std::vector<Scalar> s(pts.count);
        for (size_t i = 0; i < pts.count; ++i) {
          if (!ge_decompress_strict(decoded[i], pts.item(i)))
            throw py::value_error("points[" + std::to_string(i) + "] does not decode strictly");
          if (!sc_is_canonical(scs.item(i)))
            throw py::value_error("scalars[" + std::to_string(i) + "] must be < L");
          sc_from_bytes(s[i], scs.item(i));
        }
        Scalar b = scalar_arg(b_scalar, "b_scalar");
        uint8_t bb[32];
        sc_to_bytes(bb, b);
        if (!sc_is_canonical(bb)) throw py::value_error("b_scalar must be < L");
        MsmMethod how = msm_method(msm);
        ge_p3 r;
        Status status;
        {
          py::gil_scoped_release release;
          status = msm_vartime(r, b, s.data(), decoded.data(), decoded.size(), how, threads);
        }
        check_status(status, "ed25519 msm");
        uint8_t out[32];
        ge_tobytes(out, r);
        return py::bytes(reinterpret_cast<const char*>(out), 32);
      },
      py::arg("points"), py::arg("scalars"), py::arg("b_scalar"), py::arg("msm") = 0,
      py::arg("threads") = 1,
      "Encoding of [b]B + sum scalars[i] points[i] (test hook for both MSM methods).");
}

}  // namespace ledger_core
