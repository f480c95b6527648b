// The one process-wide thread pool that all parallel native work shares.
//
// Workers are started on first use (one fewer than the hardware threads: the caller is
// the last worker) and live for the rest of the process. A child made by fork() gets a
// fresh pool on its first use, so multiprocessing with fork works, even when the parent
// forks while other threads run pool work (every native global is fork-safe: the key
// cache, the tables and dispatch caches (common/once.h), this pool).
//
// Reentrancy: a call made from inside a running task, or while another thread's call
// holds the pool, runs inline on the calling thread; it never deadlocks and never
// oversubscribes the cores.
#pragma once

#include <cstddef>
#include <functional>

namespace ledger_core {

// The CPUs this process may run on (its affinity mask; at least 1). Read once.
size_t hardware_thread_count();

// The number of threads a call asking for `threads` will use: 0 means all hardware
// threads; larger requests are capped at the hardware thread count.
size_t resolve_thread_count(size_t threads);

// Runs fn(task) for every task in [0, task_count), on at most resolve_thread_count(threads)
// threads including the caller, and returns when every task has finished. fn must not
// throw (native code reports failure through its own outputs). Thread-safe.
void pool_run(size_t task_count, size_t threads, const std::function<void(size_t task)>& fn);

// Splits [0, count) into contiguous chunks of at least min_chunk items (at most a few per
// thread) and calls fn(begin, end) for each, in parallel as pool_run does. A count no
// larger than min_chunk runs inline in one call.
void parallel_for(size_t count, size_t threads, size_t min_chunk,
                  const std::function<void(size_t begin, size_t end)>& fn);

}  // namespace ledger_core
