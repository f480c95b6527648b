// The LMDB boundary: lmdb.h is included under native/store/ and nowhere else.
//
// RAII for the environment, transactions and cursors, and the one mapping from MDB_* / errno codes to
// Status (common/status.h): map full, not found, exists, corrupted, I/O, locked. Every
// function here returns a raw LMDB code; callers turn it into a Status with a message
// naming the table and key (status_of_mdb + mdb_strerror).
//
// Thread-safety: environments are opened with MDB_NOTLS, so a read transaction may be
// used by any thread, one at a time; the write transaction belongs to the one thread
// that runs a batch. No function throws.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace ledger_core {

// MDB_SUCCESS -> ok; MDB_NOTFOUND -> not_found; MDB_KEYEXIST -> exists; MDB_MAP_FULL and
// MDB_MAP_RESIZED -> map_full; MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID,
// MDB_BAD_TXN, MDB_INCOMPATIBLE -> corrupted; MDB_VERSION_MISMATCH -> unsupported;
// EIO, ENOSPC, EROFS, EACCES, EPERM -> io_error; EAGAIN, EBUSY, MDB_READERS_FULL ->
// locked; ENOMEM, MDB_TXN_FULL, MDB_CURSOR_FULL -> no_memory; ENOENT -> not_found;
// EINVAL, MDB_BAD_VALSIZE, MDB_BAD_DBI -> invalid_argument; anything else -> internal.
Status status_of_mdb(int rc);

// "<what>: <mdb_strerror(rc)>".
std::string mdb_message(const std::string& what, int rc);

inline MDB_val mdb_val(const void* data, size_t len) {
  MDB_val v;
  v.mv_data = const_cast<void*>(data);
  v.mv_size = len;
  return v;
}

// An environment, closed on destruction unless abandoned: a fork child abandons the
// parent's (LMDB forbids using an environment across fork(), closing it included).
class MdbEnv {
 public:
  MdbEnv() = default;
  MdbEnv(const MdbEnv&) = delete;
  MdbEnv& operator=(const MdbEnv&) = delete;
  ~MdbEnv() {
    if (env_ != nullptr) mdb_env_close(env_);
  }
  int create() { return mdb_env_create(&env_); }
  MDB_env* get() const { return env_; }
  void abandon() { env_ = nullptr; }

 private:
  MDB_env* env_ = nullptr;
};

// A transaction, aborted on destruction unless committed or released.
class MdbTxn {
 public:
  MdbTxn() = default;
  MdbTxn(const MdbTxn&) = delete;
  MdbTxn& operator=(const MdbTxn&) = delete;
  ~MdbTxn() { abort(); }

  int begin(MDB_env* env, unsigned flags) {
    abort();
    return mdb_txn_begin(env, nullptr, flags, &txn_);
  }
  int commit() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    return mdb_txn_commit(t);  // frees t whatever it returns
  }
  void abort() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

// A cursor, closed on destruction (before its transaction ends: declare it after).
class MdbCursor {
 public:
  MdbCursor() = default;
  MdbCursor(const MdbCursor&) = delete;
  MdbCursor& operator=(const MdbCursor&) = delete;
  ~MdbCursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  int open(MDB_txn* txn, MDB_dbi dbi) {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
    cursor_ = nullptr;
    return mdb_cursor_open(txn, dbi, &cursor_);
  }
  MDB_cursor* get() const { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace ledger_core
