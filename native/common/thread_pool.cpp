#include "common/thread_pool.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/once.h"

namespace ledger_core {
namespace {

thread_local bool t_inside_task = false;

// A job is published to the workers by bumping `generation`; a worker joins it only if
// its index is below the job's helper count, then takes tasks from `next` until none are
// left. The caller works too and waits for `busy_helpers` to reach zero.
class ThreadPool {
 public:
  explicit ThreadPool(size_t worker_count) {
    workers_.reserve(worker_count);
    for (size_t i = 0; i < worker_count; ++i) {
      workers_.emplace_back([this, i] { worker_loop(i); });
      workers_.back().detach();
    }
  }

  size_t worker_count() const { return workers_.size(); }

  // Returns false (having run nothing) when another job holds the pool.
  bool try_run(size_t task_count, size_t helpers, const std::function<void(size_t)>& fn) {
    std::unique_lock<std::mutex> submit(submit_mutex_, std::try_to_lock);
    if (!submit.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      task_count_ = task_count;
      next_.store(0, std::memory_order_relaxed);
      helpers_ = helpers;
      busy_helpers_ = helpers;
      ++generation_;
    }
    work_ready_.notify_all();
    run_tasks();
    std::unique_lock<std::mutex> lock(mutex_);
    work_done_.wait(lock, [this] { return busy_helpers_ == 0; });
    fn_ = nullptr;
    return true;
  }

 private:
  void run_tasks() {
    const bool was_inside = t_inside_task;
    t_inside_task = true;
    for (;;) {
      size_t task = next_.fetch_add(1, std::memory_order_relaxed);
      if (task >= task_count_) break;
      (*fn_)(task);
    }
    t_inside_task = was_inside;
  }

  void worker_loop(size_t index) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_ready_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (index >= helpers_) continue;
      }
      run_tasks();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_helpers_ == 0) work_done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  uint64_t generation_ = 0;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t task_count_ = 0;
  std::atomic<size_t> next_{0};
  size_t helpers_ = 0;
  size_t busy_helpers_ = 0;
};

// Never destroyed: detached workers may still be parked on its condition variable at exit.
std::atomic<ThreadPool*> g_pool{nullptr};
std::mutex g_pool_mutex;

// Fork safety: the child has none of the workers, so it forgets the pool (leaking the
// parent's copy) and starts its own on first use. g_pool_mutex is held across fork() so
// that it is never copied locked; its holders only start threads, never wait on a fork.
void lock_pool_mutex() { g_pool_mutex.lock(); }
void unlock_pool_mutex() { g_pool_mutex.unlock(); }
void forget_pool_in_child() {
  g_pool.store(nullptr);
  g_pool_mutex.unlock();
}
[[maybe_unused]] const int g_atfork_registered = pthread_atfork(lock_pool_mutex, unlock_pool_mutex, forget_pool_in_child);

ThreadPool& shared_pool() {
  ThreadPool* pool = g_pool.load(std::memory_order_acquire);
  if (pool != nullptr) return *pool;
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  pool = g_pool.load(std::memory_order_relaxed);
  if (pool == nullptr) {
    pool = new ThreadPool(hardware_thread_count() - 1);
    g_pool.store(pool, std::memory_order_release);
  }
  return *pool;
}

}  // namespace

size_t hardware_thread_count() {
  // The CPUs this process may run on (taskset, a container's cpuset), not the host's.
  static LazyValue<size_t> count;
  return count.get([] {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
      const int usable = CPU_COUNT(&allowed);
      if (usable > 0) return static_cast<size_t>(usable);
    }
    return std::max<size_t>(1, std::thread::hardware_concurrency());
  });
}

size_t resolve_thread_count(size_t threads) {
  const size_t all = hardware_thread_count();
  return threads == 0 ? all : std::min(threads, all);
}

void pool_run(size_t task_count, size_t threads, const std::function<void(size_t)>& fn) {
  if (task_count == 0) return;
  const size_t use = std::min(resolve_thread_count(threads), task_count);
  if (use > 1 && !t_inside_task) {
    ThreadPool& pool = shared_pool();
    if (pool.try_run(task_count, std::min(use - 1, pool.worker_count()), fn)) return;
  }
  for (size_t task = 0; task < task_count; ++task) fn(task);
}

void parallel_for(size_t count, size_t threads, size_t min_chunk,
                  const std::function<void(size_t, size_t)>& fn) {
  if (count == 0) return;
  min_chunk = std::max<size_t>(1, min_chunk);
  const size_t use = resolve_thread_count(threads);
  if (use == 1 || count <= min_chunk) {
    fn(0, count);
    return;
  }
  // A few chunks per thread balance uneven work without much scheduling overhead.
  size_t chunks = std::min(count / min_chunk, use * 4);
  chunks = std::max<size_t>(chunks, 1);
  const size_t base = count / chunks, extra = count % chunks;
  pool_run(chunks, use, [&](size_t chunk) {
    const size_t begin = chunk * base + std::min(chunk, extra);
    const size_t end = begin + base + (chunk < extra ? 1 : 0);
    fn(begin, end);
  });
}

}  // namespace ledger_core
