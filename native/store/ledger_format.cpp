#include "store/ledger_format.h"

#include "blake3/blake3.h"
#include "common/once.h"

namespace ledger_core {

const char* record_field_name(RecordField field) {
  switch (field) {
    case RecordField::invoice_id: return "invoice_id";
    case RecordField::issued_at: return "issued_at";
    case RecordField::seller_key: return "seller_key";
    case RecordField::signature: return "signature";
    case RecordField::payload: return "payload";
  }
  return "unknown";
}

const char* record_field_rule(RecordField field) {
  switch (field) {
    case RecordField::invoice_id: return "must be 1..128 bytes of valid UTF-8";
    case RecordField::issued_at: return "must be an int64 (milliseconds since the Unix epoch)";
    case RecordField::seller_key: return "must be a 32-byte Ed25519 public key";
    case RecordField::signature: return "must be a 64-byte Ed25519 signature";
    case RecordField::payload: return "must be at most 16 MiB (16777216 bytes)";
  }
  return "unknown field";
}

namespace {

struct PayloadKey {
  uint8_t bytes[32];
  PayloadKey() {
    static const char kContext[] = "ledger_core 2026-11-27 invoice payload v1";
    blake3_derive_key(kContext, sizeof(kContext) - 1, nullptr, 0, bytes);
  }
};

}  // namespace

// Derived once per process (a LazyValue: thread- and fork-safe, common/once.h).
const uint8_t* invoice_payload_key() {
  static LazyValue<PayloadKey> key;
  return key.get([] { return PayloadKey(); }).bytes;
}

void invoice_payload_hash(const uint8_t* payload, size_t len, uint8_t out[PAYLOAD_HASH_LEN]) {
  blake3_keyed_hash(invoice_payload_key(), payload, len, out);
}

size_t invoice_envelope(const uint8_t* id, size_t id_len, int64_t issued_at,
                        const uint8_t payload_hash[PAYLOAD_HASH_LEN], uint8_t* out) {
  uint8_t* p = out;
  std::memcpy(p, ENVELOPE_DOMAIN, ENVELOPE_DOMAIN_LEN);
  p += ENVELOPE_DOMAIN_LEN;
  *p++ = 0;
  put_u16be(p, uint16_t(id_len));
  p += 2;
  if (id_len) std::memcpy(p, id, id_len);
  p += id_len;
  put_u64be(p, static_cast<uint64_t>(issued_at));
  p += 8;
  std::memcpy(p, payload_hash, PAYLOAD_HASH_LEN);
  p += PAYLOAD_HASH_LEN;
  return size_t(p - out);
}

bool utf8_valid(const uint8_t* s, size_t len) {
  size_t i = 0;
  while (i < len) {
    const uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (len - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static const uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

size_t record_encode(const RecordView& r, uint8_t* out) {
  out[0] = r.kind;
  put_u64be(out + 1, static_cast<uint64_t>(r.issued_at));
  put_u32be(out + 9, r.seller_id);
  put_u64be(out + 13, r.blob);
  put_u32be(out + 21, r.offset);
  put_u32be(out + 25, r.payload_len);
  std::memcpy(out + 29, r.signature, SIGNATURE_LEN);
  out[93] = uint8_t(r.id_len);
  std::memcpy(out + 94, r.id, r.id_len);
  return RECORD_FIXED_LEN + r.id_len;
}

bool record_decode(const uint8_t* v, size_t len, RecordView* out, const char** why) {
  if (len < RECORD_FIXED_LEN + 1) {
    *why = "record value shorter than 95 bytes";
    return false;
  }
  if (v[0] != RECORD_KIND_INVOICE_V1) {
    *why = v[0] == 0 ? "record kind 0 is never used" : "unknown record kind";
    return false;
  }
  out->kind = v[0];
  out->issued_at = static_cast<int64_t>(get_u64be(v + 1));
  out->seller_id = get_u32be(v + 9);
  out->blob = get_u64be(v + 13);
  out->offset = get_u32be(v + 21);
  out->payload_len = get_u32be(v + 25);
  out->signature = v + 29;
  out->id_len = v[93];
  out->id = v + 94;
  if (out->id_len < 1 || out->id_len > INVOICE_ID_MAX_LEN) {
    *why = "invoice_id length outside 1..128";
    return false;
  }
  if (len != RECORD_FIXED_LEN + out->id_len) {
    *why = "record value length does not match its invoice_id length";
    return false;
  }
  if (!utf8_valid(out->id, out->id_len)) {
    *why = "invoice_id is not valid UTF-8";
    return false;
  }
  if (out->payload_len > PAYLOAD_MAX_LEN) {
    *why = "payload length above 16 MiB";
    return false;
  }
  return true;
}

}  // namespace ledger_core
