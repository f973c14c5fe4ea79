// Handles that outlive their Session refuse to work (mpp::UsageError) instead of touching freed
// memory, also while a later Session runs, and letting them go afterwards is safe. Embedded
// form, so that two sessions can run one after the other in one process. Build with
// -fsanitize=address to see that nothing freed is read.
#include <mpi.h>

#include <functional>
#include <iostream>
#include <mpp/mpp.hpp>
#include <optional>
#include <string>
#include <vector>

namespace {
int square(int x) { return x * x; }

struct Handles {
  std::optional<mpp::Pool> pool;
  std::optional<mpp::Lock> lock;
  std::optional<mpp::RLock> rlock;
  std::optional<mpp::Value<int>> value;
  std::optional<mpp::Array<double>> array;
  std::optional<mpp::Event> event;
  std::optional<mpp::Semaphore> semaphore;
  std::optional<mpp::Queue<int>> queue;
  std::optional<mpp::AsyncResult<int>> result;
  std::optional<mpp::ImapResult<int>> imap;
};

/// Each use of a handle of the ended session; counts the ones refused with mpp::UsageError.
int refused_uses(Handles& h) {
  const std::vector<std::function<void()>> uses = {
      [&] {
        h.pool->map(square, std::vector<int>{1, 2});
      },
      [&] { h.pool->apply(square, 3); },
      [&] { h.lock->acquire(); },
      [&] { h.rlock->acquire(); },
      [&] { h.value->set(5); },
      [&] { (void)h.array->get(0); },
      [&] { h.event->set(); },
      [&] { h.semaphore->release(); },
      [&] { h.queue->put(1); },
      [&] { (void)h.result->get(); },
      [&] { (void)h.imap->next(); },
  };
  int refused = 0;
  for (const auto& use : uses) {
    try {
      use();
    } catch (const mpp::UsageError& e) {
      refused += std::string(e.what()).find("Session that has ended") != std::string::npos ? 1 : 0;
    } catch (...) {
    }
  }
  return refused;
}
}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  std::optional<Handles> handles(std::in_place);
  Handles& h = *handles;
  {
    mpp::Session session(MPI_COMM_WORLD);
    if (session.is_master()) {
      h.pool.emplace();
      h.lock.emplace();
      h.rlock.emplace();
      h.value.emplace(1);
      h.array.emplace(4);
      h.event.emplace();
      h.semaphore.emplace(1);
      h.queue.emplace();
      h.result.emplace(h.pool->apply_async(square, 7));
      h.imap.emplace(h.pool->imap(square, std::vector<int>{1, 2, 3}));
      h.result->wait();
    }
  }
  int refused_after_end = 0;
  int refused_in_next_session = 0;
  {
    mpp::Session next(MPI_COMM_WORLD);
    if (next.is_master()) {
      refused_in_next_session = refused_uses(h);
      mpp::Pool pool;
      std::cout << "the next session works: " << pool.apply(square, 6) << std::endl;
    }
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) refused_after_end = refused_uses(h);
  handles.reset();  // letting them go after their session is safe
  if (rank == 0)
    std::cout << "refused in the next session: " << refused_in_next_session << " of 11, after it: " << refused_after_end
              << " of 11" << std::endl;
  MPI_Finalize();
}
