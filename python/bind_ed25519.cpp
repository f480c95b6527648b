// Bindings for Ed25519 verification: batch verification here, single verification in
// bind_ed25519_single.cpp. Also the scalar, MSM and key-cache hooks the tests and the
// benchmark use (private names: the facade is src/ledger_core/ed25519.py).
#include <string>
#include <vector>

#include "bindings.h"
#include "ed25519/batch.h"
#include "ed25519/field_paths.h"
#include "ed25519/keycache.h"
#include "ed25519/msm.h"
#include "ed25519/point.h"
#include "ed25519/scalar.h"

namespace ledger_core {

void bind_ed25519_single(py::module_& m);

namespace {

void check_count(size_t expected, size_t got, const char* arg) {
  if (expected != got)
    throw_error(Status::invalid_argument, std::string(arg) + " has " + std::to_string(got) +
                                              " items but public_keys has " + std::to_string(expected) +
                                              ": every argument needs one entry per signature");
}

MsmMethod msm_method(const py::object& method) {
  return MsmMethod(uint_arg(method, "msm (0 auto, 1 straus, 2 pippenger)", 2));
}

py::array_t<uint8_t> run_batch(const FixedItems& pks, const MessageList& msgs, size_t msg_count,
                               const FixedItems& sigs, const py::object& threads_obj, const py::object& method) {
  check_count(pks.count, msg_count, "messages");
  check_count(pks.count, sigs.count, "signatures");
  const MsmMethod how = msm_method(method);
  const size_t threads = threads_arg(threads_obj);
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

Scalar scalar_arg(const py::object& data, const char* arg) {
  PinnedBytes bytes(data, arg, SCALAR_LEN);
  Scalar out;
  sc_from_bytes(out, bytes.data());
  return out;
}

}  // namespace

void bind_ed25519(py::module_& m) {
  bind_ed25519_single(m);

  m.def(
      "ed25519_verify_batch_fixed",
      [](const py::object& public_keys, const py::object& messages, const py::object& signatures,
         const py::object& threads, const py::object& msm) {
        PinnedRows pks(public_keys, "public_keys", ED25519_PUBLIC_KEY_LEN);
        PinnedRows msg_rows(messages, "messages");
        PinnedRows sigs(signatures, "signatures", ED25519_SIGNATURE_LEN);
        MessageList msgs;
        msgs.fixed = &msg_rows.items();
        return run_batch(pks.items(), msgs, msg_rows.items().count, sigs.items(), threads, msm);
      },
      py::arg("public_keys"), py::arg("messages"), py::arg("signatures"), py::arg("threads") = 0,
      py::arg("msm") = 0,
      "Reason code per item (uint8, N) for (N, 32) keys, (N, k) messages, (N, 64) signatures.");

  m.def(
      "ed25519_verify_batch_var",
      [](const py::object& public_keys, const py::object& buffer, const py::object& offsets,
         const py::object& signatures, const py::object& threads, const py::object& msm) {
        PinnedRows pks(public_keys, "public_keys", ED25519_PUBLIC_KEY_LEN);
        PinnedVarItems msg_items(buffer, offsets, "messages");
        PinnedRows sigs(signatures, "signatures", ED25519_SIGNATURE_LEN);
        MessageList msgs;
        msgs.var = &msg_items.items();
        return run_batch(pks.items(), msgs, msg_items.items().count, sigs.items(), threads, msm);
      },
      py::arg("public_keys"), py::arg("buffer"), py::arg("offsets"), py::arg("signatures"),
      py::arg("threads") = 0, py::arg("msm") = 0,
      "Reason code per item (uint8, N); message i is buffer[offsets[i]:offsets[i+1]].");

  // For tests: ed25519_verify_batch_var forced onto one field path; None when that path
  // cannot run on this CPU (or LEDGER_CORE_PORTABLE is set).
  m.def(
      "_ed25519_verify_batch_on_path",
      [](const py::object& path_arg, const py::object& public_keys, const py::object& buffer,
         const py::object& offsets, const py::object& signatures, const py::object& threads_obj,
         const py::object& msm) -> py::object {
        const std::string path = str_arg(path_arg, "path");
        PinnedRows pks(public_keys, "public_keys", ED25519_PUBLIC_KEY_LEN);
        PinnedVarItems msg_items(buffer, offsets, "messages");
        PinnedRows sigs(signatures, "signatures", ED25519_SIGNATURE_LEN);
        const size_t count = pks.items().count;
        check_count(count, msg_items.items().count, "messages");
        check_count(count, sigs.items().count, "signatures");
        MessageList msgs;
        msgs.var = &msg_items.items();
        const MsmMethod how = msm_method(msm);
        const size_t threads = threads_arg(threads_obj);
        py::array_t<uint8_t> reasons(static_cast<py::ssize_t>(count));
        uint8_t* out = reasons.mutable_data();
        bool available = false;
        Status status;
        {
          py::gil_scoped_release release;
          status = ed25519_verify_batch_on_path(path.c_str(), pks.items().data, msgs, sigs.items().data, count,
                                                threads, how, out, &available);
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
      [](const py::object& public_keys, const py::object& messages, const py::object& signatures,
         const py::object& threads, const py::object& msm) -> py::object {
        PinnedRows pks(public_keys, "public_keys", ED25519_PUBLIC_KEY_LEN);
        PinnedRows sigs(signatures, "signatures", ED25519_SIGNATURE_LEN);
        if (!PyList_Check(messages.ptr()))
          throw_error(Status::invalid_type, "messages must be a list of bytes, got " +
                                                std::string(Py_TYPE(messages.ptr())->tp_name));
        py::tuple pinned = py::reinterpret_steal<py::tuple>(PyList_AsTuple(messages.ptr()));
        if (!pinned) throw py::error_already_set();
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
        return run_batch(pks.items(), msgs, count, sigs.items(), threads, msm);
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
      [](const py::object& data) {
        PinnedBytes in(data, "data", 64);
        uint8_t out[32];
        sc_reduce64(out, in.data());
        return py::bytes(reinterpret_cast<const char*>(out), 32);
      },
      py::arg("data"), "The 64-byte little-endian integer mod L, as 32 bytes.");
  m.def(
      "ed25519_scalar_is_canonical",
      [](const py::object& data) {
        PinnedBytes in(data, "data", SCALAR_LEN);
        return sc_is_canonical(in.data());
      },
      py::arg("data"), "True when the 32-byte little-endian integer is < L.");
  m.def(
      "ed25519_scalar_muladd",
      [](const py::object& a, const py::object& b, const py::object& c) {
        uint8_t ab[32], bb[32], cb[32], out[32];
        sc_to_bytes(ab, scalar_arg(a, "a"));
        sc_to_bytes(bb, scalar_arg(b, "b"));
        sc_to_bytes(cb, scalar_arg(c, "c"));
        sc_muladd(out, ab, bb, cb);
        return py::bytes(reinterpret_cast<const char*>(out), 32);
      },
      py::arg("a"), py::arg("b"), py::arg("c"), "(a * b + c) mod L for 32-byte little-endian a, b, c.");

  m.def(
      "ed25519_msm",
      [](const py::object& points, const py::object& scalars, const py::object& b_scalar, const py::object& msm,
         const py::object& threads_obj) {
        PinnedRows pts(points, "points", 32);
        PinnedRows scs(scalars, "scalars", 32);
        check_count(pts.items().count, scs.items().count, "scalars");
        const size_t count = pts.items().count;
        std::vector<ge_p3> decoded(count);
        std::vector<Scalar> s(count);
        for (size_t i = 0; i < count; ++i) {
          if (!ge_decompress_strict(decoded[i], pts.items().item(i)))
            throw_error(Status::invalid_argument, "points[" + std::to_string(i) + "] does not decode strictly");
          if (!sc_is_canonical(scs.items().item(i)))
            throw_error(Status::invalid_argument, "scalars[" + std::to_string(i) + "] must be < L");
          sc_from_bytes(s[i], scs.items().item(i));
        }
        PinnedBytes b_bytes(b_scalar, "b_scalar", SCALAR_LEN);
        if (!sc_is_canonical(b_bytes.data())) throw_error(Status::invalid_argument, "b_scalar must be < L");
        Scalar b;
        sc_from_bytes(b, b_bytes.data());
        const MsmMethod how = msm_method(msm);
        const size_t threads = threads_arg(threads_obj);
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
