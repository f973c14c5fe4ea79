#include "mpp/detail/worker.hpp"

#include <cxxabi.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <typeinfo>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/isolated_tasks.hpp"
#include "mpp/detail/mpi_check.hpp"
#include "mpp/detail/process_children.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/errors.hpp"

namespace mpp::detail {
namespace {

using Clock = std::chrono::steady_clock;
// Results of tiny tasks share a message; one waits at most this long for company, and the
// result of a task that took real time goes out at once.
constexpr auto result_flush_interval = std::chrono::microseconds(500);
constexpr auto slow_task = std::chrono::microseconds(50);
// While a rank relays for its children, how often it looks for its own messages.
constexpr auto own_messages_interval = std::chrono::microseconds(200);
// A worker running tasks looks this often whether its posted result messages went out (MPI
// moves a message only inside MPI calls on some networks), and lets at most so many wait.
constexpr auto reap_interval = std::chrono::microseconds(50);
constexpr std::size_t max_posted_results = 8;

}  // namespace

OutgoingResults::OutgoingResults(MPI_Comm comm) : comm_(comm) {}

OutgoingResults::~OutgoingResults() { finish(); }

Bytes OutgoingResults::buffer() {
  if (spare_.empty()) return {};
  Bytes bytes = std::move(spare_.back());
  spare_.pop_back();
  return bytes;
}

void OutgoingResults::post(Tag tag, Bytes& bytes) {
  if (posted_.size() >= max_posted_results) wait_oldest();
  posted_.push_back(Posted{MPI_REQUEST_NULL, std::move(bytes)});
  auto& posted = posted_.back();
  check_mpi(MPI_Isend(posted.bytes.data(), static_cast<int>(posted.bytes.size()), MPI_BYTE, 0, static_cast<int>(tag),
                      comm_, &posted.request),
            "MPI_Isend");
  bytes = buffer();
}

void OutgoingResults::reap() {
  // In order: MPI delivers a rank's messages with one tag in order, so the oldest goes first.
  while (!posted_.empty()) {
    int done = 0;
    check_mpi(MPI_Test(&posted_.front().request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (!done) return;
    recycle_oldest();
  }
}

void OutgoingResults::finish() {
  while (!posted_.empty()) wait_oldest();
}

void OutgoingResults::wait_oldest() {
  check_mpi(MPI_Wait(&posted_.front().request, MPI_STATUS_IGNORE), "MPI_Wait");
  recycle_oldest();
}

void OutgoingResults::give_back(Bytes&& bytes) {
  bytes.clear();
  if (spare_.size() < max_posted_results && bytes.capacity() > 0) spare_.push_back(std::move(bytes));
}

void OutgoingResults::recycle_oldest() {
  give_back(std::move(posted_.front().bytes));
  posted_.pop_front();
}

Reader DetachedArguments::take(std::size_t size) {
  if (size == 0) return {};
  if (unread_.empty()) receive();
  return unread_.take(size);  // one task's arguments never straddle two messages
}

void DetachedArguments::receive() {
  auto data = wait_for_announced(comm_, 0, Tag::task_data, "a batch's detached arguments");
  if (buffer_.size() < data.size) buffer_.resize(data.size);  // kept: never shrinks, never cleared
  receive_matched(data, buffer_.data());
  unread_ = Reader(buffer_.data(), buffer_.data() + data.size);
}

namespace {

/// Sends the results in `out`, then the raw items that went `apart` from them, if any: posted
/// through `outgoing` on a worker rank, relayed by the parent from a child.
void send_results(Writer& out, Writer& apart, OutgoingResults* outgoing) {
  if (!outgoing) {
    const RelayedMessage messages[] = {{static_cast<int>(Tag::results), out.bytes()},
                                       {static_cast<int>(Tag::result_data), apart.bytes()}};
    relay_send(0, std::span(messages).first(apart.size() > 0 ? 2 : 1));
    out.bytes().clear();
    apart.bytes().clear();
    return;
  }
  outgoing->post(Tag::results, out.bytes());
  if (apart.size() > 0) outgoing->post(Tag::result_data, apart.bytes());
}

/// What a result says about the process that ran its task (for mpp::status_log), kept per
/// process and refreshed only now and then: a syscall or two per task would slow every round trip.
class ProcessFacts {
 public:
  /// Fills in started_unix_ns, pid and peak_rss_kib of a task that ran from `started` to `ended`.
  void describe(ResultHeader& result, Clock::time_point started, Clock::time_point ended) {
    if (pid_ == 0) pid_ = static_cast<std::int32_t>(::getpid());
    if (offset_read_ == Clock::time_point{} || started - offset_read_ >= clock_refresh) {
      offset_read_ = Clock::now();
      unix_minus_steady_ns_ = std::chrono::nanoseconds(std::chrono::system_clock::now().time_since_epoch() -
                                                       offset_read_.time_since_epoch())
                                  .count();
    }
    if (rss_read_ == Clock::time_point{} || ended - started >= slow_task || ended - rss_read_ >= rss_refresh) {
      rusage usage{};
      ::getrusage(RUSAGE_SELF, &usage);
      peak_rss_kib_ = static_cast<std::uint64_t>(usage.ru_maxrss);  // KiB on Linux
      rss_read_ = ended;
    }
    result.started_unix_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(started.time_since_epoch()).count() +
                                                        unix_minus_steady_ns_);
    result.pid = pid_;
    result.peak_rss_kib = peak_rss_kib_;
  }

  /// The facts of this process; a forked child starts afresh.
  static ProcessFacts& here() {
    static const bool reset_in_children = [] {
      ::pthread_atfork(nullptr, nullptr, [] { facts = ProcessFacts{}; });
      return true;
    }();
    (void)reset_in_children;
    return facts;
  }

 private:
  static constexpr auto clock_refresh = std::chrono::seconds(1);  // follows a stepped system clock
  static constexpr auto rss_refresh = std::chrono::milliseconds(100);
  static ProcessFacts facts;

  std::int32_t pid_ = 0;
  Clock::time_point offset_read_{};
  std::int64_t unix_minus_steady_ns_ = 0;
  Clock::time_point rss_read_{};
  std::uint64_t peak_rss_kib_ = 0;
};

ProcessFacts ProcessFacts::facts;

}  // namespace

std::size_t run_batch(std::span<const char> batch, int rank, const std::string& host, RankMail* mail,
                      RunningTask* shown, std::size_t budget) {
  OutgoingResults* outgoing = mail ? &mail->results : nullptr;
  Reader in(batch);
  Writer out(outgoing ? outgoing->buffer() : Bytes{});
  Writer apart(outgoing ? outgoing->buffer() : Bytes{});  // raw result items sent apart (a map's)
  // A task starts when the one before it ended, unless results were sent between them: one
  // clock read per task, not two (a read costs about what a tiny task does).
  auto task_start = Clock::now();
  auto last_flush = task_start;
  auto last_reap = task_start;
  std::uint64_t local_item = 0;
  std::size_t ran = 0;
  ProcessFacts& facts = ProcessFacts::here();
  while (!in.empty() && ran < budget) {
    const auto task = in.read<TaskHeader>();
    if (task.detached_size > 0 && !mail) throw MalformedMessage("mpp: a child process got detached task arguments");
    TaskCall call{task.function,
                  in.take(task.args_size),
                  out,
                  shown ? shown->item : local_item,
                  task.detached_size > 0 ? mail->arguments.take(task.detached_size) : Reader{},
                  task.detach_result ? &apart : nullptr};
    const Invoker invoker = reinterpret_cast<Invoker>(task.invoker.resolve());

    // Detached arguments may have just been waited for: their wait is not the task's time.
    const auto started = task.detached_size > 0 ? Clock::now() : task_start;
    if (shown) {
      // Release stores, plain moves on x86 (the seq_cst default was an xchg, a full barrier,
      // three per task): the rank reads id, then started_ns, then id again (IsolatedTasks).
      shown->started_ns.store(std::chrono::nanoseconds(started.time_since_epoch()).count(), std::memory_order_release);
      shown->id.store(task.id, std::memory_order_release);
    }
    const std::size_t header_at = out.size();
    const std::size_t apart_at = apart.size();
    ResultHeader result{task.id, 0, 0, 1, static_cast<std::uint16_t>(in.empty() ? 1 : 0)};
    out.write_raw(&result, sizeof result);
    try {
      invoker(call);
      if (out.size() > max_message_bytes || apart.size() > max_message_bytes)
        throw std::length_error("the task's result exceeds 2 GiB, the most one MPI message carries");
    } catch (const MalformedMessage&) {
      throw;  // the batch itself is bad: not the task's failure
    } catch (...) {
      out.bytes().resize(header_at + sizeof result);  // drop a half-written result
      apart.bytes().resize(apart_at);
      auto report = describe_current_exception();
      report.rank = rank;
      report.host = host;
      if (task.first_index != no_item) report.item = task.first_index + call.item;
      report.write(out);
      result.ok = 0;
    }
    if (shown) shown->id.store(0, std::memory_order_release);
    ++ran;
    const auto now = Clock::now();
    result.payload_size = out.size() - header_at - sizeof result;
    result.detached_size = static_cast<std::uint32_t>(apart.size() - apart_at);  // checked above: at most 2 GiB
    result.run_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(now - started).count());
    facts.describe(result, started, now);
    std::memcpy(out.bytes().data() + header_at, &result, sizeof result);

    task_start = now;
    if (in.empty() || ran == budget || now - last_flush >= result_flush_interval || now - started >= slow_task) {
      send_results(out, apart, outgoing);
      last_flush = task_start = Clock::now();
    }
    if (outgoing && now - last_reap >= reap_interval) {
      outgoing->reap();
      last_reap = task_start = Clock::now();
    }
  }
  if (outgoing) {
    // Kept for the next batch: a map's results grown afresh in each batch cost page faults.
    outgoing->give_back(std::move(out.bytes()));
    outgoing->give_back(std::move(apart.bytes()));
  }
  return ran;
}

void run_quietly(std::span<const char> batch) {
  Reader in(batch);
  Writer ignored;
  std::uint64_t item = 0;
  while (!in.empty()) {
    const auto task = in.read<TaskHeader>();
    TaskCall call{task.function, in.take(task.args_size), ignored, item};
    reinterpret_cast<Invoker>(task.invoker.resolve())(call);
  }
}

ErrorReport describe_current_exception() {
  ErrorReport report;
  try {
    throw;
  } catch (const RemoteError& e) {  // another task's failure, passed on: it keeps its type
    report.type = "mpp::RemoteError";
    report.message = e.what();
    report.thrown_as = e.thrown_as();
  } catch (const std::exception& e) {
    report.type = demangled(typeid(e).name());
    report.message = e.what();
    report.thrown_as = travelling_type_of(std::current_exception());
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    report.type = type ? demangled(type->name()) : "unknown";
    report.message = "(an exception not derived from std::exception)";
  }
  return report;
}

void serve(MPI_Comm comm, int rank, const std::string& host, std::chrono::microseconds max_nap, Doorbell doorbell) {
  Backoff backoff(std::chrono::microseconds(200), std::chrono::microseconds(20), max_nap);
  Bytes batch;
  RankMail mail(comm);
  IsolatedTasks isolated(comm, rank, host);
  ProcessChildren processes(comm, rank, host);
  // Children wait for answers the rank relays: nap no longer than a waiting caller would.
  Backoff relay_backoff = message_backoff();
  // Only tasks, processes, pool ends and the stop come here: replies and pipe messages are for
  // the task that waits for them, or for the children (which the master sends no batches to).
  // decoding(): runs `handle` on a master's message; one that does not decode ends the job,
  // naming `channel`. take(): the master's message with `tag`, if one waits, goes to `handle`.
  const auto decoding = [](const char* channel, const auto& handle) {
    try {
      return handle();
    } catch (const MalformedMessage& e) {
      end_job_on_malformed(channel, 0, e);
    }
  };
  const auto take = [&](Tag tag, const char* channel, const auto& handle) {
    if (!try_receive(comm, 0, static_cast<int>(tag), batch)) return false;
    decoding(channel, handle);
    return true;
  };
  const auto take_isolated = [&] { return decoding("isolated tasks", [&] { return isolated.take_waiting(); }); };
  for (;;) {
    mail.results.reap();
    // Take what the look found. A message for the children (a reply, relayed below) may be
    // first in line: it must not hide the rank's own ones, so then each is looked for.
    const auto waiting = waiting_message(comm, 0);
    const bool for_children = waiting && *waiting != Tag::tasks && *waiting != Tag::isolated_tasks &&
                              *waiting != Tag::process && *waiting != Tag::lane_end && *waiting != Tag::stop;
    const auto may_be = [&](Tag tag) { return waiting == tag || for_children; };
    if ((may_be(Tag::tasks) && take(Tag::tasks, "tasks", [&] { run_batch(batch, rank, host, &mail); })) ||
        (may_be(Tag::isolated_tasks) && take_isolated()) ||
        (may_be(Tag::process) && take(Tag::process, "process", [&] { processes.start(batch); }))) {
      backoff.reset();
    } else if (may_be(Tag::lane_end) && take(Tag::lane_end, "pool end", [&] { isolated.end_lane(batch); })) {
      // a pool's children left; no work came with it
    } else if (may_be(Tag::stop) && try_receive(comm, 0, static_cast<int>(Tag::stop), batch)) {
      mail.results.finish();
      return;
    } else if (processes.empty() && isolated.idle()) {
      backoff.pause([&](std::chrono::microseconds nap) {
        doorbell.nap(nap, [&] { return waiting_message(comm, 0).has_value(); });
      });
    }
    // Relaying for children is the hot path: look for the rank's own messages (five probes)
    // only every so often meanwhile. The master never gives a rank processes and pool tasks at
    // once (Engine::dispatch), so one of the two tends and the other has nothing to do.
    const auto look_again = Clock::now() + own_messages_interval;
    while (Clock::now() < look_again) {
      if (!processes.empty()) {
        processes.tend(relay_backoff);
      } else if (!isolated.idle()) {
        isolated.tend(relay_backoff);
        // A pool's next batch is looked for every round while its children could run out.
        if (isolated.has_room() && take_isolated()) relay_backoff.reset();
      } else {
        break;
      }
      // The rank's idle time, which sets how long it naps above, starts when its children's
      // work ends, not at the last message taken above: batches taken here count as work.
      backoff.reset();
    }
  }
}

}  // namespace mpp::detail
