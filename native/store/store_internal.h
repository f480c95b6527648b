// Helpers shared by the store's .cpp files (not part of its interface): messages,
// the shared map lock, and LEDGER_READ, the frame of every read.
#pragma once

#include <pthread.h>

#include <string>
#include <vector>

#include "store/ledger_store.h"

namespace ledger_core {

inline Status fail(std::string* why, Status s, const std::string& message) {
  *why = message;
  return s;
}

inline Status mdb_fail(std::string* why, int rc, const std::string& what) {
  *why = mdb_message(what, rc);
  return status_of_mdb(rc);
}

// The seqs of `seller` in the by_seller table (docs/FORMAT.md), appended to *seqs in
// order. ledger_store.cpp.
Status by_seller_scan(MDB_txn* txn, MDB_dbi by_seller, uint32_t seller, std::vector<uint64_t>* seqs,
                      std::string* why);

// Holds the map lock shared for one call.
class SharedMapLock {
 public:
  explicit SharedMapLock(pthread_rwlock_t& lock) : lock_(lock) { pthread_rwlock_rdlock(&lock_); }
  ~SharedMapLock() { pthread_rwlock_unlock(&lock_); }
  SharedMapLock(const SharedMapLock&) = delete;
  SharedMapLock& operator=(const SharedMapLock&) = delete;

 private:
  pthread_rwlock_t& lock_;
};

// A read transaction for one call: the snapshot's, or one from the pool; the map lock is
// held shared meanwhile.
class ReadScope {
 public:
  ReadScope(LedgerStore& store, MDB_txn* snapshot) : store_(store), lock_(store.map_lock_), txn_(snapshot) {}
  ~ReadScope() {
    if (owned_) store_.end_read(txn_);
  }
  Status begin(std::string* why) {
    if (txn_ != nullptr) return Status::ok;
    const Status s = store_.begin_read(&txn_, why);
    owned_ = s == Status::ok;
    return s;
  }
  MDB_txn* txn() const { return txn_; }

 private:
  LedgerStore& store_;
  SharedMapLock lock_;
  MDB_txn* txn_;
  bool owned_ = false;
};

// Runs fn(txn) in a read transaction (the snapshot's, or a fresh one), adopting a map
// another process grew (MDB_MAP_RESIZED) and retrying.
#define LEDGER_READ(snapshot, why, ...)                                   \
  do {                                                                     \
    Status usable_status = usable(why);                                    \
    if (usable_status != Status::ok) return usable_status;                 \
    for (int attempt_ = 0;; ++attempt_) {                                  \
      Status begun_;                                                       \
      {                                                                    \
        ReadScope scope_(*this, snapshot);                                 \
        begun_ = scope_.begin(why);                                        \
        if (begun_ == Status::ok) {                                        \
          MDB_txn* txn = scope_.txn();                                     \
          __VA_ARGS__                                                      \
        }                                                                  \
      }                                                                    \
      if (begun_ != Status::map_full || attempt_ >= 2) return begun_;     \
      const Status adopted_ = adopt_map_size(why);                         \
      if (adopted_ != Status::ok) return adopted_;                         \
    }                                                                      \
  } while (0)


}  // namespace ledger_core
