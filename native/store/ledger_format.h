// The byte formats of a ledger (docs/FORMAT.md "Signed invoices" and "The ledger on
// disk", which are normative): the invoice envelope and leaf data, the record encoding,
// the table keys, and the reasons a batch item is rejected.
//
//   M         = "ledger_core/invoice/v1" 0x00 | u16be id_len | id | i64be issued_at | payload_hash
//   leaf data = M | seller_key (32) | signature (64)
//
//   records value (kind 1):  kind | i64 issued_at | u32 seller id | u64 blob | u32 offset
//                            | u32 payload_len | signature (64) | u8 id_len | id
//
// All integers are big-endian. Pure functions: reentrant and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ed25519/verify.h"

namespace ledger_core {

constexpr size_t INVOICE_ID_MAX_LEN = 128;
constexpr size_t PAYLOAD_MAX_LEN = size_t(16) << 20;
constexpr size_t SELLER_KEY_LEN = 32;
constexpr size_t SIGNATURE_LEN = 64;
constexpr size_t PAYLOAD_HASH_LEN = 32;

constexpr char ENVELOPE_DOMAIN[] = "ledger_core/invoice/v1";
constexpr size_t ENVELOPE_DOMAIN_LEN = sizeof(ENVELOPE_DOMAIN) - 1;  // 22, then the 0x00
// M without the id: domain, 0x00, u16 length, i64 issued_at, payload hash.
constexpr size_t ENVELOPE_FIXED_LEN = ENVELOPE_DOMAIN_LEN + 1 + 2 + 8 + PAYLOAD_HASH_LEN;
constexpr size_t LEAF_FIXED_LEN = ENVELOPE_FIXED_LEN + SELLER_KEY_LEN + SIGNATURE_LEN;

constexpr uint8_t RECORD_KIND_INVOICE_V1 = 1;
constexpr size_t RECORD_FIXED_LEN = 94;  // the record value without the id bytes
constexpr uint32_t LEDGER_FORMAT_VERSION = 1;

// Tiles: 2^TILE_HEIGHT hashes of every TILE_HEIGHT-th tree level (C2SP tlog-tiles).
constexpr unsigned TILE_HEIGHT = 8;
constexpr size_t TILE_WIDTH = size_t(1) << TILE_HEIGHT;
// A writer opens a new payload blob once the open one holds this much.
constexpr size_t PAYLOAD_BLOB_TARGET = size_t(1) << 20;

// Why an item of a batch is not appended: 0 appended, the VerifyReason values of a bad
// signature (1..5), then these. One byte each in the reasons array.
constexpr uint8_t REJECT_OK = 0;
constexpr uint8_t REJECT_DUPLICATE_IN_LEDGER = 16;
constexpr uint8_t REJECT_DUPLICATE_IN_BATCH = 17;
constexpr uint8_t REJECT_MALFORMED = 18;

// The field a MALFORMED item names (the detail value of its rejection).
enum class RecordField : uint8_t { invoice_id = 0, issued_at = 1, seller_key = 2, signature = 3, payload = 4 };
constexpr int RECORD_FIELD_COUNT = 5;
const char* record_field_name(RecordField field);  // "invoice_id", ...
const char* record_field_rule(RecordField field);  // what a valid value is

// --- big-endian integers ---------------------------------------------------------------

inline void put_u16be(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void put_u32be(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = uint8_t(v);
}
inline void put_u64be(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = uint8_t(v);
}
inline uint32_t get_u32be(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline uint64_t get_u64be(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// --- the invoice ---------------------------------------------------------------------------

// K_PAYLOAD = BLAKE3-derive_key("ledger_core 2026-11-27 invoice payload v1", ""), derived
// once (thread-safe).
const uint8_t* invoice_payload_key();

// payload_hash of one payload.
void invoice_payload_hash(const uint8_t* payload, size_t len, uint8_t out[PAYLOAD_HASH_LEN]);

// Writes M (ENVELOPE_FIXED_LEN + id_len bytes) to out. id_len <= INVOICE_ID_MAX_LEN is
// the caller's to check. Returns the length written.
size_t invoice_envelope(const uint8_t* id, size_t id_len, int64_t issued_at,
                        const uint8_t payload_hash[PAYLOAD_HASH_LEN], uint8_t* out);

// True when bytes[0, len) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF).
bool utf8_valid(const uint8_t* bytes, size_t len);

// --- records --------------------------------------------------------------------------------

struct RecordView {
  uint8_t kind = RECORD_KIND_INVOICE_V1;
  int64_t issued_at = 0;
  uint32_t seller_id = 0;
  uint64_t blob = 0;  // the payloads key of the blob holding the payload
  uint32_t offset = 0;
  uint32_t payload_len = 0;
  const uint8_t* signature = nullptr;  // 64 bytes
  const uint8_t* id = nullptr;
  size_t id_len = 0;
};

// RECORD_FIXED_LEN + r.id_len bytes into out; returns that length.
size_t record_encode(const RecordView& r, uint8_t* out);

// Decodes a records value; its pointers point into `value`. False (and *why set) when
// the value is not a well-formed kind-1 record: wrong length, unknown kind, id length
// out of 1..128, id not UTF-8, payload longer than PAYLOAD_MAX_LEN.
bool record_decode(const uint8_t* value, size_t len, RecordView* out, const char** why);

// invoice_index key: u32 seller id | id. Returns its length (4 + id_len).
inline size_t invoice_index_key(uint32_t seller_id, const uint8_t* id, size_t id_len, uint8_t* out) {
  put_u32be(out, seller_id);
  std::memcpy(out + 4, id, id_len);
  return 4 + id_len;
}
constexpr size_t INVOICE_INDEX_KEY_MAX = 4 + INVOICE_ID_MAX_LEN;

// tiles key: u8 tile level | u64 tile index.
inline void tile_key(unsigned tile_level, uint64_t tile_index, uint8_t out[9]) {
  out[0] = uint8_t(tile_level);
  put_u64be(out + 1, tile_index);
}

}  // namespace ledger_core
