// Batch verification's entry points: chunking, the random coefficients, and the call into
// the field path ed25519_dispatch.cpp chose. The kernel itself is batch_inline.h, compiled
// once per path.
#include "ed25519/batch.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include "ed25519/batch_inline.h"
#include "ed25519/field_paths.h"
#include "ed25519/test_hooks.h"

namespace ledger_core {

namespace ed25519_paths {

Status verify_batch_chunk_portable(const BatchChunk& chunk) {
  return batch_inline::verify_chunk<fe_inline::PortableField>(chunk);
}

}  // namespace ed25519_paths

namespace {

bool os_random(uint8_t* out, size_t len) {
  while (len > 0) {
    ssize_t got = getrandom(out, len, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out += got;
    len -= size_t(got);
  }
  return true;
}

Status verify_batch_with(const ed25519_paths::FieldPath& path, const uint8_t* public_keys,
                         const MessageList& messages, const uint8_t* signatures, size_t count,
                         size_t threads, MsmMethod method, uint8_t* reasons) {
  if (count == 0) return Status::ok;
  // Chunks one after the other, each using every thread: bounded memory, and each MSM as
  // large as BATCH_CHUNK_MAX allows.
  try {
    std::vector<uint8_t> random(16 * std::min(count, BATCH_CHUNK_MAX));
    for (size_t begin = 0; begin < count; begin += BATCH_CHUNK_MAX) {
      const size_t end = std::min(count, begin + BATCH_CHUNK_MAX);
      if (!os_random(random.data(), 16 * (end - begin))) return Status::internal;
      const ed25519_paths::BatchChunk chunk = {public_keys, &messages, signatures, begin, end,
                                               threads,     method,    random.data(), reasons};
      const Status st = path.verify_batch_chunk(chunk);
      if (st != Status::ok) return st;
    }
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
  return Status::ok;
}

}  // namespace

Status ed25519_verify_batch(const uint8_t* public_keys, const MessageList& messages,
                            const uint8_t* signatures, size_t count, size_t threads,
                            MsmMethod method, uint8_t* reasons) {
  return verify_batch_with(ed25519_paths::active_path(), public_keys, messages, signatures, count, threads,
                           method, reasons);
}

Status ed25519_verify_batch_on_path(const char* path_name, const uint8_t* public_keys,
                                    const MessageList& messages, const uint8_t* signatures, size_t count,
                                    size_t threads, MsmMethod method, uint8_t* reasons, bool* path_available) {
  const ed25519_paths::FieldPath* path = ed25519_paths::find_path(path_name);
  *path_available = path != nullptr;
  if (path == nullptr) return Status::ok;
  return verify_batch_with(*path, public_keys, messages, signatures, count, threads, method, reasons);
}

}  // namespace ledger_core
