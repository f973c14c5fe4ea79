#include "mpp/thread_pool.hpp"

#include <string>

#include "mpp/process_info.hpp"

namespace mpp {

ThreadPool::ThreadPool() : ThreadPool(cpu_count()) {}

ThreadPool::ThreadPool(int processes) : ThreadPool(processes, "Thread-", std::function<void()>{}) {}

ThreadPool::ThreadPool(int processes, const char* thread_name_prefix, std::function<void()> initializer) {
  if (processes < 1) throw std::invalid_argument("mpp: a thread pool needs 1 or more threads");
  workers_ = std::make_unique<detail::ThreadWorkers>(processes, thread_name_prefix, std::move(initializer));
}

ThreadPool::~ThreadPool() {
  if (state_ != State::joined) terminate();
  workers_->stop();
}

void ThreadPool::close() {
  if (state_ == State::running) state_ = State::closed;
}

void ThreadPool::terminate() {
  if (state_ == State::joined) return;
  state_ = State::terminated;
  workers_->drop_all();
}

void ThreadPool::join() {
  if (state_ == State::running)
    throw UsageError("mpp: ThreadPool::join() needs close() or terminate() first, as in Python");
  workers_->wait_idle();
  state_ = State::joined;
}

void ThreadPool::require_running(const char* method) const {
  if (state_ != State::running)
    throw UsageError(std::string("mpp: ThreadPool::") + method +
                     " after close() or terminate(): the pool no longer accepts tasks; create a new ThreadPool");
}

}  // namespace mpp
