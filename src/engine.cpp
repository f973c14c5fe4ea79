#include "mpp/detail/engine.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <limits>
#include <string>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/mpi_check.hpp"
#include "mpp/detail/wall_time.hpp"
#include "mpp/wall_time.hpp"

namespace mpp::detail {
namespace {

thread_local bool delivering_results = false;

constexpr int max_batches_in_flight = 2;  // one running, one waiting: a worker never idles on us
constexpr std::size_t max_tasks_per_batch = 512;
constexpr std::size_t max_batch_bytes = std::size_t{64} << 20;  // joined tasks stay far below max_message_bytes
constexpr std::chrono::microseconds long_nap(1000);             // naps this long are cut short by a submit
constexpr unsigned long timer_slack_ns = 1000;                  // how late the progress thread's naps may end

}  // namespace

Engine::Engine(MPI_Comm comm, std::chrono::microseconds max_nap, std::vector<Doorbell> doorbells, bool keep_statistics)
    : comm_(comm), max_nap_(max_nap), doorbells_(std::move(doorbells)), objects_(comm, [this] { notify_waiters(); }) {
  int size = 0;
  check_mpi(MPI_Comm_size(comm_, &size), "MPI_Comm_size");
  workers_ = std::vector<WorkerSlot>(static_cast<std::size_t>(size));  // built in place: a slot cannot be copied
  if (keep_statistics) statistics_ = std::make_unique<TaskStatistics>(size);
  if (const auto end = job_end_time())
    job_end_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(*end - std::chrono::system_clock::now());
  wall_time_margin_ = wall_time_margin_setting();
  watch_wind_down_signals(&pool_tasks_);
  progress_thread_ = std::thread([this] { run_progress_thread(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(idle_mutex_);
    stopping_ = true;
  }
  idle_cv_.notify_all();
  if (progress_thread_.joinable()) progress_thread_.join();
  watch_wind_down_signals(nullptr);
}

std::shared_ptr<Lane> Engine::open_lane(int processes, std::optional<IsolationHeader> isolation) {
  std::lock_guard lock(state_mutex_);
  std::vector<int> ranks(workers_.size() - 1);
  for (std::size_t i = 0; i < ranks.size(); ++i) ranks[i] = static_cast<int>(i) + 1;
  std::stable_sort(ranks.begin(), ranks.end(), [this](int a, int b) { return workers_[a].lanes < workers_[b].lanes; });
  ranks.resize(std::min(ranks.size(), static_cast<std::size_t>(processes)));
  std::sort(ranks.begin(), ranks.end());
  for (int r : ranks) ++workers_[r].lanes;
  auto lane = std::make_shared<Lane>();
  lane->ranks = std::move(ranks);
  lane->processes = processes;
  lane->isolation = isolation;
  if (isolation) lane->isolation->lane = next_lane_number_++;
  lanes_.push_back(lane);
  return lane;
}

void Engine::close_lane(const Lane& lane) {
  std::lock_guard progress(progress_mutex_);
  end_isolated_lane(lane, false);
  std::lock_guard lock(state_mutex_);
  for (int r : lane.ranks) --workers_[r].lanes;
  const auto closed = std::ranges::find_if(lanes_, [&lane](const auto& l) { return l.get() == &lane; });
  if (closed == lanes_.end()) return;
  // Tasks and in-flight entries point at their lane: one with tasks left (a terminated pool's
  // running ones) is kept until they are finished (release_closed_lanes).
  if (lane.unfinished > 0) closed_lanes_.push_back(std::move(*closed));
  lanes_.erase(closed);
}

void Engine::release_closed_lanes() {
  if (!closed_lanes_.empty()) std::erase_if(closed_lanes_, [](const auto& lane) { return lane->unfinished == 0; });
}

std::shared_ptr<Lane> Engine::process_lane() {
  std::lock_guard lock(state_mutex_);
  if (!process_lane_) {
    process_lane_ = std::make_shared<Lane>();
    for (std::size_t rank = 1; rank < workers_.size(); ++rank) process_lane_->ranks.push_back(static_cast<int>(rank));
    process_lane_->solo = true;
    lanes_.push_back(process_lane_);
  }
  return process_lane_;
}

bool Engine::cancel_queued(const std::shared_ptr<Lane>& lane, const TaskSink* sink) {
  return drop_queued(
             lane, [sink](const Task& task) { return task.sink.get() == sink; }, true) == 1;
}

std::size_t Engine::cancel_all_queued(const std::shared_ptr<Lane>& lane) {
  return drop_queued(
      lane, [](const Task&) { return true; }, false);
}

std::size_t Engine::drop_queued(const std::shared_ptr<Lane>& lane, const std::function<bool(const Task&)>& which,
                                bool first_only) {
  std::lock_guard progress(progress_mutex_);  // sinks are touched only under it
  std::vector<std::pair<std::shared_ptr<TaskSink>, std::uint64_t>> dropped;
  {
    std::lock_guard lock(state_mutex_);
    take_in_submitted();
    for (auto it = lane->pending.begin(); it != lane->pending.end();) {
      if (!which(*it)) {
        ++it;
        continue;
      }
      dropped.emplace_back(std::move(it->sink), it->first_index);
      it = lane->pending.erase(it);
      if (first_only) break;
    }
    lane->unfinished -= dropped.size();
  }
  outstanding_ -= dropped.size();
  if (!lane->solo) pool_tasks_ -= dropped.size();
  for (auto& [sink, first] : dropped) sink->cancel(first);
  if (!dropped.empty()) notify_waiters();
  return dropped.size();
}

void Engine::submit(const std::shared_ptr<Lane>& lane, std::vector<Task> tasks) {
  if (tasks.empty()) return;
  for (auto& task : tasks) task.lane = lane.get();
  count_submitted(*lane, tasks.size());
  {
    std::lock_guard lock(submitted_mutex_);
    if (submitted_.empty() && submitted_.capacity() < tasks.size()) {
      submitted_.swap(tasks);
    } else {
      std::move(tasks.begin(), tasks.end(), std::back_inserter(submitted_));
    }
  }
  wake_for_submitted();
}

void Engine::submit(const std::shared_ptr<Lane>& lane, Task task) {
  task.lane = lane.get();
  count_submitted(*lane, 1);
  {
    std::lock_guard lock(submitted_mutex_);
    submitted_.push_back(std::move(task));
  }
  wake_for_submitted();
}

void Engine::count_submitted(Lane& lane, std::size_t count) {
  lane.unfinished += count;
  outstanding_ += count;
  if (!lane.solo) pool_tasks_ += count;
}

void Engine::wake_for_submitted() {
  // Set only when clear: in a burst of submissions its cache line then stays shared between
  // the cores, not moved to the submitter's at every task. A stale `true` is safe: the dispatch
  // that cleared it takes in the submitted tasks after it, under the lock this task was added under.
  if (!dispatch_wanted_.load(std::memory_order_relaxed)) dispatch_wanted_ = true;
  ++submissions_;
  // A short nap ends soon by itself; waking the thread would only crowd the cores.
  if (progress_nap_us_ >= long_nap.count()) kick_progress_thread();
}

void Engine::kick_progress_thread() {
  {
    std::lock_guard lock(idle_mutex_);
    kicked_ = true;
  }
  idle_cv_.notify_one();
}

void Engine::take_in_submitted() {
  {
    std::lock_guard lock(submitted_mutex_);
    if (submitted_.empty()) return;
    submitted_.swap(taking_in_);
  }
  for (auto& task : taking_in_) {
    if (task.target_rank > 0) {
      workers_[task.target_rank].targeted.push_back(std::move(task));
    } else {
      task.lane->pending.push_back(std::move(task));
    }
  }
  taking_in_.clear();
}

void Engine::terminate(const std::shared_ptr<Lane>& lane) {
  std::lock_guard progress(progress_mutex_);  // sinks are touched only under it
  std::vector<std::pair<std::shared_ptr<TaskSink>, std::uint64_t>> cancelled;
  std::size_t dropped = 0;
  {
    std::lock_guard lock(state_mutex_);
    take_in_submitted();
    auto drop = [&](Task& task) {
      cancelled.emplace_back(std::move(task.sink), task.first_index);
      ++dropped;
    };
    for (auto& task : lane->pending) drop(task);
    lane->pending.clear();
    for (auto& slot : workers_) {
      for (auto& task : slot.targeted)
        if (task.lane == lane.get()) drop(task);
      std::erase_if(slot.targeted, [&lane](const Task& t) { return t.lane == lane.get(); });
    }
    lane->unfinished -= dropped;
    for (auto& [id, entry] : in_flight_) {
      if (entry.lane == lane.get() && !entry.discard) {
        entry.discard = true;
        cancelled.emplace_back(entry.sink, entry.first_index);
      }
    }
  }
  outstanding_ -= dropped;
  if (!lane->solo) pool_tasks_ -= dropped;
  end_isolated_lane(*lane, true);
  for (auto& [sink, first] : cancelled) sink->cancel(first);
  notify_waiters();
}

void Engine::end_isolated_lane(const Lane& lane, bool kill) {
  if (!lane.isolation) return;
  const LaneEnd end{lane.isolation->lane, kill ? 1u : 0u};
  for (int rank : lane.ranks) {
    Bytes message(sizeof end);
    std::memcpy(message.data(), &end, sizeof end);
    post(rank, Tag::lane_end, std::move(message));
  }
}

void Engine::post(int rank, Tag tag, Bytes bytes) {
  sends_.push_back(Send{MPI_REQUEST_NULL, std::move(bytes)});
  auto& send = sends_.back();
  check_mpi(MPI_Isend(send.buffer.data(), static_cast<int>(send.buffer.size()), MPI_BYTE, rank, static_cast<int>(tag),
                      comm_, &send.request),
            "MPI_Isend");
  doorbells_[static_cast<std::size_t>(rank)].ring();
}

void Engine::post_detached(int rank, DetachedRun run) {
  sends_.push_back(Send{MPI_REQUEST_NULL, {}, std::move(run.loan)});
  check_mpi(MPI_Isend(run.bytes.data(), static_cast<int>(run.bytes.size()), MPI_BYTE, rank,
                      static_cast<int>(Tag::task_data), comm_, &sends_.back().request),
            "MPI_Isend");
}

bool Engine::finished(const Lane& lane) { return lane.unfinished == 0; }

void Engine::shutdown() {
  std::vector<std::shared_ptr<Lane>> lanes;
  {
    std::lock_guard lock(state_mutex_);
    lanes = lanes_;
  }
  // Pools end as Python's `with Pool()` does; processes run to the end, as Python joins its
  // non-daemon children at exit (daemon ones were asked to stop already).
  for (auto& lane : lanes)
    if (!lane->solo) terminate(lane);
  const auto warn_at = Clock::now() + std::chrono::seconds(10);
  bool warned = false;
  while (!wait_until([this] { return outstanding_ == 0; }, warned ? std::nullopt : std::optional(warn_at))) {
    std::cerr << "mpp: the session is ending but " << outstanding_
              << " task(s) or process(es) still run on workers; mpp waits for them (a running pool task "
                 "cannot be interrupted; a process is waited for unless it is a daemon, as in Python)\n";
    warned = true;
  }
  std::lock_guard progress(progress_mutex_);
  while (reap_sends() || !sends_.empty()) {
  }
  for (std::size_t rank = 1; rank < workers_.size(); ++rank) {
    check_mpi(MPI_Send(nullptr, 0, MPI_BYTE, static_cast<int>(rank), static_cast<int>(Tag::stop), comm_), "MPI_Send");
    doorbells_[rank].ring();
  }
}

bool Engine::try_progress() {
  std::unique_lock lock(progress_mutex_, std::try_to_lock);
  return lock.owns_lock() && progress_locked();
}

bool Engine::progress_locked() {
  bool did = reap_sends();
  // Workers send results and requests only; a message of another tag first in line must not
  // hide them (then both are looked for).
  const auto waiting = waiting_message(comm_, MPI_ANY_SOURCE);
  const bool other = waiting && *waiting != Tag::results && *waiting != Tag::requests;
  if (waiting == Tag::results || other) did |= receive_results();
  did |= objects_.serve_requests(waiting == Tag::requests || other);
  did |= dispatch();
  return did;
}

bool Engine::reap_sends() {
  bool did = false;
  for (std::size_t i = 0; i < sends_.size();) {
    int done = 0;
    check_mpi(MPI_Test(&sends_[i].request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) {
      if (sends_[i].loan && --sends_[i].loan->sends_in_flight == 0) notify_waiters();  // a map may return
      sends_[i] = std::move(sends_.back());
      sends_.pop_back();
      did = true;
    } else {
      ++i;
    }
  }
  return did;
}

bool Engine::receive_results() {
  // One message per call: a look that finds nothing costs a yield (see waiting_message).
  const auto received = try_receive_over(comm_, MPI_ANY_SOURCE, static_cast<int>(Tag::results), results_buffer_);
  if (!received) return false;
  bool news = true;
  try {
    news = deliver_message(received->status.MPI_SOURCE, std::span<const char>(results_buffer_.data(), received->size));
  } catch (const MalformedMessage& e) {
    end_job_on_malformed("results", received->status.MPI_SOURCE, e);
  }
  if (news) notify_waiters();
  return true;
}

struct Engine::Arrival {
  ResultHeader header;
  Reader payload;
  InFlight entry;
};

bool Engine::deliver_message(int source, std::span<const char> message) {
  // Entries are taken under one lock and tasks finished under another: a lock per result
  // slowed tiny tasks, contending with the dispatch that holds it for a whole batch.
  std::vector<Arrival> arrivals;
  std::size_t apart = 0;  // bytes of raw result items sent apart
  {
    std::lock_guard lock(state_mutex_);
    for (Reader in(message); !in.empty();) {
      const auto header = in.read<ResultHeader>();
      Reader payload = in.take(header.payload_size);
      if (header.detached_size > max_message_bytes - apart)
        throw MalformedMessage("mpp: results announce more than 2 GiB of items sent apart");
      apart += header.detached_size;
      arrivals.push_back({header, payload, take_in_flight(header)});
    }
  }
  // A map's results with items apart: their sinks say where the items land before any is delivered.
  const auto apart_items = apart > 0 ? receive_apart(source, arrivals, apart) : std::span<const char>{};
  std::size_t apart_at = 0;
  bool news = false;
  for (auto& arrival : arrivals) {
    deliver_result(source, arrival, apart_items.subspan(apart_at, arrival.header.detached_size));
    apart_at += arrival.header.detached_size;
    // A terminated pool's discarded results are news too: its join() waits for them.
    news = news || arrival.entry.discard || arrival.entry.sink->news_for_waiters();
  }
  finish_tasks(source, arrivals);
  return news;
}

Engine::InFlight Engine::take_in_flight(const ResultHeader& header) {
  auto it = in_flight_.find(header.id);
  if (it == in_flight_.end())
    throw MalformedMessage("mpp: a result for task " + std::to_string(header.id) + ", which is not running there");
  InFlight entry = std::move(it->second);
  in_flight_.erase(it);
  return entry;
}

void Engine::deliver_result(int source, Arrival& arrival, std::span<const char> items) {
  auto& [header, payload, entry] = arrival;
  if (entry.discard) return;
  delivering_results = true;
  if (header.ok) {
    entry.sink->ran(entry.first_index, TaskRun{source, header, {}});
    if (header.detached_size > 0) {
      entry.sink->deliver_apart(entry.first_index, payload, items);
    } else {
      entry.sink->deliver(entry.first_index, payload);
    }
  } else {
    const auto report = ErrorReport::read(payload);
    entry.sink->ran(entry.first_index, TaskRun{source, header, report.type});
    entry.sink->fail(entry.first_index,
                     RemoteError(report.type, report.message, report.rank, report.host, report.item, report.thrown_as));
  }
  delivering_results = false;
}

std::span<const char> Engine::receive_apart(int source, const std::vector<Arrival>& arrivals, std::size_t bytes) {
  char* straight = nullptr;  // where the items go when every landing follows the one before
  char* next = nullptr;
  for (const auto& arrival : arrivals) {
    if (arrival.header.detached_size == 0) continue;
    const auto landing = arrival.entry.discard
                             ? std::span<char>{}
                             : arrival.entry.sink->landing(arrival.entry.first_index, arrival.header.detached_size);
    if (landing.empty() || (straight && landing.data() != next)) {
      straight = nullptr;
      break;
    }
    if (!straight) straight = landing.data();
    next = landing.data() + landing.size();
  }
  auto items = wait_for_announced(comm_, source, Tag::result_data, "result items sent apart");
  char* into = items.size == bytes ? straight : nullptr;
  if (!into) {
    if (results_apart_.size() < items.size) results_apart_.resize(items.size);
    into = results_apart_.data();
  }
  receive_matched(items, into);
  if (items.size != bytes)
    throw MalformedMessage("mpp: results announced " + std::to_string(bytes) + " bytes of items sent apart, " +
                           std::to_string(items.size) + " came");
  return {into, bytes};
}

void Engine::finish_tasks(int rank, const std::vector<Arrival>& arrivals) {
  std::size_t pool_tasks = 0;
  std::int64_t longest_run_ns = 0;
  {
    std::lock_guard lock(state_mutex_);
    auto& slot = workers_[rank];
    for (const auto& [result, payload, entry] : arrivals) {
      Lane& lane = *entry.lane;
      --lane.unfinished;
      if (statistics_ && !lane.solo) statistics_->record(rank, result.run_ns, entry.first_index);
      if (lane.solo) {
        --slot.processes;
      } else if (result.last_of_batch) {
        --slot.batches_in_flight;
        slot.busy_since = Clock::now();  // a queued batch, if any, starts now
      }
      const auto run_ns = static_cast<double>(result.run_ns);
      lane.typical_run_ns = lane.typical_run_ns < 0 ? run_ns : 0.8 * lane.typical_run_ns + 0.2 * run_ns;
      if (!lane.solo) {
        ++pool_tasks;
        longest_run_ns = std::max(longest_run_ns, static_cast<std::int64_t>(result.run_ns));
      }
    }
    release_closed_lanes();
  }
  dispatch_wanted_ = true;
  pool_running_ -= pool_tasks;
  pool_tasks_ -= pool_tasks;
  if (longest_run_ns > longest_run_ns_) longest_run_ns_ = longest_run_ns;
  outstanding_ -= arrivals.size();
}

int Lane::width_on(int rank) const {
  const auto at = std::find(ranks.begin(), ranks.end(), rank);
  if (at == ranks.end()) return 0;
  const auto n = static_cast<int>(ranks.size());
  return std::max(1, processes / n + (static_cast<int>(at - ranks.begin()) < processes % n ? 1 : 0));
}

std::vector<Task> Engine::take_batch(int rank, int load) {
  std::vector<Task> batch;
  auto& targeted = workers_[rank].targeted;
  while (!targeted.empty() && batch.size() < max_tasks_per_batch &&
         (batch.empty() || targeted.front().lane == batch.front().lane)) {
    batch.push_back(std::move(targeted.front()));
    targeted.pop_front();
  }
  if (!batch.empty() || winding_down()) return batch;
  // Lanes that include this worker, taken in turn so no pool starves another.
  for (std::size_t k = 0; k < lanes_.size() && batch.empty(); ++k) {
    Lane& lane = *lanes_[(rotation_ + k) % lanes_.size()];
    if (lane.solo || lane.pending.empty()) continue;
    // Up to one batch per process of the lane there runs at once, and one more waits.
    const int width = lane.width_on(rank);
    if (width == 0 || load > width) continue;
    if (load == width && !worth_prefetching(lane, workers_[rank], Clock::now())) continue;
    if (lane.pending.front().avoid_rank == rank && lane.ranks.size() > 1) continue;
    if (!lane.tiny_tasks()) {
      batch.push_back(std::move(lane.pending.front()));
      lane.pending.pop_front();
      break;
    }
    // Small tasks: an even share of the queue per batch, so the workers split the backlog.
    const auto processes = static_cast<std::size_t>(lane.processes);
    const std::size_t share = (lane.pending.size() + 2 * processes - 1) / (2 * processes);
    const std::size_t take = std::clamp<std::size_t>(share, 1, max_tasks_per_batch);
    std::size_t bytes = 0;
    while (batch.size() < take && !lane.pending.empty() &&
           (batch.empty() || bytes + lane.pending.front().size() <= max_batch_bytes)) {
      bytes += lane.pending.front().size();
      batch.push_back(std::move(lane.pending.front()));
      lane.pending.pop_front();
    }
  }
  ++rotation_;
  return batch;
}

/// A second batch queued behind the running one spares the worker a wait for the master —
/// which on a full node may itself wait milliseconds for a core. But it must not queue behind
/// a task that turns out long: prefetch only while the running batch is younger than half a
/// typical task. Tiny tasks always prefetch; unmeasured ones never.
bool Engine::worth_prefetching(const Lane& lane, const WorkerSlot& slot, Clock::time_point now) const {
  if (lane.typical_run_ns < 0) return false;
  if (lane.tiny_tasks()) return true;
  const auto running = std::chrono::duration<double, std::nano>(now - slot.busy_since).count();
  return running < lane.typical_run_ns / 2;
}

/// A batch's tasks are launched in a row, so their ids are consecutive (isolated workers rely on it).
std::uint64_t Engine::launch(Task& task, int rank) {
  const std::uint64_t id = next_task_id_++;
  std::memcpy(task.wire.data(), &id, sizeof id);  // TaskHeader::id is the first field
  task.sink->dispatched(task.first_index, rank);
  if (!task.lane->solo) ++pool_running_;
  in_flight_.emplace(id, InFlight{std::move(task.sink), task.lane, task.first_index, false});
  return id;
}

bool Engine::dispatch() {
  if (!dispatch_wanted_.exchange(false)) return false;
  struct Message {
    int rank;
    Tag tag;
    Bytes bytes;
    std::vector<DetachedRun> detached{};
  };
  std::vector<Message> messages;
  std::vector<Bytes> joined_wires;  // handed back for new tasks once the lock is released
  {
    std::lock_guard lock(state_mutex_);
    take_in_submitted();
    // Processes start at once, each on the worker running the fewest, as Python starts any
    // number. A worker running pool batches gets none: its children would wait for their
    // relay until the batch ends, and the batch's calls would take their replies.
    while (process_lane_ && !process_lane_->pending.empty()) {
      int rank = -1;
      for (std::size_t r = 1; r < workers_.size(); ++r)
        if (workers_[r].batches_in_flight == 0 && (rank < 0 || workers_[r].processes < workers_[rank].processes))
          rank = static_cast<int>(r);
      if (rank < 0) break;
      Task task = std::move(process_lane_->pending.front());
      process_lane_->pending.pop_front();
      ++workers_[rank].processes;
      const ProcessStart start = *task.process;
      launch(task, rank);
      Bytes message(sizeof start);
      std::memcpy(message.data(), &start, sizeof start);
      message.insert(message.end(), task.wire.begin(), task.wire.end());
      messages.push_back({rank, Tag::process, std::move(message)});
    }
    // Idle workers first, then those with fewer batches in flight.
    int most_load = max_batches_in_flight;
    for (const auto& lane : lanes_)
      if (!lane->ranks.empty()) most_load = std::max(most_load, lane->width_on(lane->ranks.front()) + 1);
    for (int load = 0; load < most_load; ++load) {
      for (std::size_t rank = 1; rank < workers_.size(); ++rank) {
        auto& slot = workers_[rank];
        if (slot.batches_in_flight != load || slot.processes > 0) continue;
        auto batch = take_batch(static_cast<int>(rank), load);
        if (batch.empty()) continue;
        if (slot.batches_in_flight++ == 0) slot.busy_since = Clock::now();
        const Lane& lane = *batch.front().lane;
        const std::optional<IsolationHeader> isolation = lane.isolation;
        const int width = lane.width_on(static_cast<int>(rank));
        const bool initializer = batch.front().target_rank > 0;
        for (auto& task : batch) launch(task, static_cast<int>(rank));
        if (batch.size() == 1 && !isolation && batch.front().borrowed_tail.empty()) {
          messages.push_back({static_cast<int>(rank), Tag::tasks, std::move(batch.front().wire)});
          continue;
        }
        Bytes joined;
        if (isolation) {
          IsolationHeader header = *isolation;
          header.initializer = initializer ? 1 : 0;
          header.children_here = static_cast<std::uint32_t>(width);
          const auto* raw = reinterpret_cast<const char*>(&header);
          joined.assign(raw, raw + sizeof header);
        }
        std::vector<DetachedRun> detached;
        join_batch(batch, isolation ? Tails::per_task : Tails::in_runs, joined, detached);
        for (auto& task : batch) joined_wires.push_back(std::move(task.wire));
        messages.push_back({static_cast<int>(rank), isolation ? Tag::isolated_tasks : Tag::tasks, std::move(joined),
                            std::move(detached)});
      }
    }
  }
  for (auto& message : messages) {
    post(message.rank, message.tag, std::move(message.bytes));
    for (auto& run : message.detached) post_detached(message.rank, std::move(run));
  }
  give_back_wires(joined_wires);
  return !messages.empty();
}

void Engine::join_batch(std::vector<Task>& batch, Tails tails, Bytes& joined, std::vector<DetachedRun>& detached) {
  std::size_t total = joined.size();
  for (const auto& task : batch) total += task.wire.size();
  joined.reserve(total);
  for (auto& task : batch) {
    const auto tail = task.borrowed_tail;
    if (!tail.empty()) {
      TaskHeader header;
      std::memcpy(&header, task.wire.data(), sizeof header);
      header.args_size -= tail.size();
      header.detached_size = static_cast<std::uint32_t>(tail.size());  // a task is at most 2 GiB (make_task)
      std::memcpy(task.wire.data(), &header, sizeof header);
      if (tails == Tails::in_runs && !detached.empty() && detached.back().loan == task.loan &&
          detached.back().bytes.data() + detached.back().bytes.size() == tail.data()) {
        detached.back().bytes = {detached.back().bytes.data(), detached.back().bytes.size() + tail.size()};
      } else {
        ++task.loan->sends_in_flight;  // counted now, under the state mutex: see InputLoan
        detached.push_back({tail, task.loan});
      }
    }
    joined.insert(joined.end(), task.wire.begin(), task.wire.end());
  }
}

void Engine::notify_waiters() {
  if (waiters_ == 0) return;
  { std::lock_guard lock(wait_mutex_); }
  wait_cv_.notify_all();
}

bool Engine::wait_sleeping(const std::function<bool()>& done, std::optional<Clock::time_point> deadline) {
  std::unique_lock lock(wait_mutex_);
  ++waiters_;
  // The progress thread notifies after every delivery; the timeout is only a safety net.
  bool finished = false;
  while (!(finished = done())) {
    if (stopped_by_wall_time()) {
      --waiters_;
      lock.unlock();
      end_for_wall_time();
    }
    const auto wake = Clock::now() + std::chrono::milliseconds(50);
    if (deadline && *deadline <= Clock::now()) break;
    wait_cv_.wait_until(lock, deadline ? std::min(wake, *deadline) : wake);
  }
  --waiters_;
  return finished;
}

bool Engine::winding_down() const {
  if (wind_down_signalled()) return true;
  if (!job_end_) return false;
  // Time for the longest task seen to run twice over, and for the journals and the exit.
  const std::chrono::nanoseconds margin =
      wall_time_margin_ ? std::chrono::nanoseconds(*wall_time_margin_)
                        : 2 * std::chrono::nanoseconds(longest_run_ns_.load()) + std::chrono::seconds(2);
  return Clock::now() + margin >= *job_end_;
}

bool Engine::stopped_by_wall_time() const { return pool_tasks_ > 0 && pool_running_ == 0 && winding_down(); }

void Engine::end_for_wall_time() {
  std::vector<std::string> reports;
  {
    std::lock_guard progress(progress_mutex_);  // sinks are touched only under it
    std::vector<TaskSink*> sinks;
    {
      std::lock_guard lock(state_mutex_);
      take_in_submitted();
      for (const auto& lane : lanes_)
        for (const auto& task : lane->pending)
          if (std::find(sinks.begin(), sinks.end(), task.sink.get()) == sinks.end()) sinks.push_back(task.sink.get());
    }
    for (TaskSink* sink : sinks) {
      std::string report = sink->wall_time_report();
      if (!report.empty()) reports.push_back(std::move(report));
    }
  }
  const char* why =
      wind_down_signalled() ? "the job was asked to stop (SIGUSR1/SIGTERM)" : "the job's time limit is near";
  std::cerr << "mpp: wall time: " << why << "; the running tasks finished, no more start\n";
  for (const auto& report : reports)
    std::cerr << "mpp: wall time: " << report << "; resubmit the same job to continue\n";
  std::cerr.flush();
  end_session_and_exit(wall_time_exit_code);
}

void Engine::refuse_wait_in_callback() {
  if (delivering_results)
    throw UsageError(
        "mpp: a pool callback must not wait for pool results (it runs on the thread that "
        "delivers them); keep callbacks short and collect results after join()");
}

void Engine::run_progress_thread() {
  // Its naps end on time: with the default 50 us of timer slack a 20 us nap lasted ~70 us, and
  // each call a Process made while the thread napped between calls waited that out (Manager
  // dict sets from one process, alternating runs: 3.2e4/s against 2.0e4).
  ::prctl(PR_SET_TIMERSLACK, timer_slack_ns, 0, 0, 0);
  Backoff backoff(std::chrono::microseconds(50), std::chrono::microseconds(20), max_nap_);
  std::unique_lock lock(idle_mutex_);
  while (!stopping_) {
    // A spinner left Processes running without kicking: their calls are ours to answer now.
    // Looked at before it is cleared: a write at every round would bounce the cache line that
    // spinning waiters count themselves on.
    if (take_over_soon_.load(std::memory_order_relaxed) && take_over_soon_.exchange(false)) backoff.reset();
    const auto pause = backoff.next_pause();
    if (pause.count() > 0) {
      // Announce the nap, then look for news: a submit either sees the nap and kicks, or we see it.
      const auto seen = submissions_.load();
      progress_nap_us_ = pause.count();
      if (submissions_ == seen) idle_cv_.wait_for(lock, pause, [this] { return stopping_ || kicked_; });
      progress_nap_us_ = 0;
      if (kicked_ || submissions_ != seen) backoff.reset();
      kicked_ = false;
      if (stopping_) break;
    }
    if (spinning_waiters_ > 0) {  // a waiting user thread drives MPI: stay out of its way
      // Woken every 100 us, the thread crowded the cores a round trip spins on (the waiter
      // kicks it when it leaves work behind, so it need not look often).
      idle_cv_.wait_for(lock, long_nap, [this] { return stopping_ || kicked_; });
      kicked_ = false;
      continue;
    }
    lock.unlock();
    const bool did = try_progress();
    lock.lock();
    if (did) backoff.reset();
  }
}

}  // namespace mpp::detail
