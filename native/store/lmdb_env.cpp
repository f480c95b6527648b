#include "store/lmdb_env.h"

#include <cerrno>

namespace ledger_core {

Status status_of_mdb(int rc) {
  switch (rc) {
    case MDB_SUCCESS: return Status::ok;
    case MDB_NOTFOUND:
    case ENOENT: return Status::not_found;
    case MDB_KEYEXIST: return Status::exists;
    case MDB_MAP_FULL:
    case MDB_MAP_RESIZED: return Status::map_full;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_BAD_TXN:
    case MDB_INCOMPATIBLE: return Status::corrupted;
    case MDB_VERSION_MISMATCH: return Status::unsupported;
    case EIO:
    case ENOSPC:
    case EROFS:
    case EACCES:
    case EPERM: return Status::io_error;
    case EAGAIN:
    case EBUSY:
    case MDB_READERS_FULL: return Status::locked;
    case ENOMEM:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL: return Status::no_memory;
    case EINVAL:
    case MDB_BAD_VALSIZE:
    case MDB_BAD_DBI: return Status::invalid_argument;
    default: return Status::internal;
  }
}

std::string mdb_message(const std::string& what, int rc) { return what + ": " + mdb_strerror(rc); }

}  // namespace ledger_core
