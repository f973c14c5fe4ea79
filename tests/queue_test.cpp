// Queue and JoinableQueue: FIFO across ranks, timeouts, bounds, the master on either side.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mpp/mpp.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

using Tagged = std::pair<int, int>;  // (producer, sequence number)

void produce(mpp::Queue<Tagged> q, int producer, int count) {
  for (int i = 0; i < count; ++i) q.put({producer, i});
}

/// The i-th item of a stream whose sizes cross every way a child's message is relayed: small
/// ones sent at once, medium ones (above MPI's eager limit) from a copy, big ones handed off.
std::string sized_item(int i) {
  constexpr std::size_t sizes[] = {100, 10'000, 200'000, 5'000, 3'000, 70'000, 40'000};
  return std::string(sizes[i % std::size(sizes)], static_cast<char>('a' + i % 26));
}

void put_sized_items(mpp::Queue<std::string> q, int count) {
  for (int i = 0; i < count; ++i) q.put(sized_item(i));
}

/// Takes numbers until the sentinel -1 and reports their sum.
void consume_until_sentinel(mpp::Queue<int> in, mpp::Queue<long> sums) {
  long sum = 0;
  for (int x = in.get(); x != -1; x = in.get()) sum += x;
  sums.put(sum);
}

void get_with_timeout(mpp::Queue<int> q, mpp::Queue<std::string> report) {
  const auto start = std::chrono::steady_clock::now();
  try {
    q.get(200ms);
    report.put("got an item");
  } catch (const mpp::Empty&) {
    const auto waited = std::chrono::steady_clock::now() - start;
    report.put(waited >= 200ms ? "empty after the timeout" : "empty too early");
  }
}

void put_with_timeout(mpp::Queue<int> full, mpp::Queue<std::string> report) {
  try {
    full.put(7, 100ms);
    report.put("put into a full queue");
  } catch (const mpp::Full&) {
    report.put("full");
  }
}

void work_and_mark_done(mpp::JoinableQueue<int> tasks, mpp::Value<long> total) {
  for (;;) {
    const int x = tasks.get();
    if (x < 0) {
      tasks.task_done();
      return;
    }
    std::this_thread::sleep_for(1ms);
    total.fetch_add(x);
    tasks.task_done();
  }
}

mpp::Queue<int> make_queue_on_worker(int first, int count) {
  mpp::Queue<int> q;
  for (int i = 0; i < count; ++i) q.put(first + i);
  return q;
}

/// CPython's _TestSimpleQueue._test_empty: waits for its cue, puts two items, gives the cue back.
void put_two_when_told(mpp::SimpleQueue<int> q, mpp::Event can_start, mpp::Event can_continue) {
  can_start.wait();
  q.put(1);
  q.put(0);
  can_continue.set();
}

/// Waits for an item and says what it got: an item, or the queue's shutdown.
void get_or_report_shutdown(mpp::Queue<int> q, mpp::Queue<std::string> report) {
  try {
    report.put("got " + std::to_string(q.get()));
  } catch (const mpp::ShutDown&) {
    report.put("shut down");
  }
}

/// Waits for room in a full queue and says whether the item went in or the queue shut down.
void put_or_report_shutdown(mpp::Queue<int> full, mpp::Queue<std::string> report) {
  try {
    full.put(7, 30s);
    report.put("put");
  } catch (const mpp::ShutDown&) {
    report.put("shut down");
  }
}

/// Puts until the queue refuses, then says how it stopped.
void put_until_refused(mpp::Queue<int> q, mpp::Queue<std::string> report) {
  try {
    for (int i = 0; i < 100000000; ++i) q.put(i);
    report.put("never refused");
  } catch (const mpp::ShutDown&) {
    report.put("shut down");
  }
}

int workers() { return mpp::Session::current().workers(); }

}  // namespace

TEST(Queue, MasterPutsAndGetsInOrder) {
  mpp::Queue<std::string> q;
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 100; ++i) q.put("item " + std::to_string(i));
  EXPECT_EQ(q.qsize(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(q.get(), "item " + std::to_string(i));
  EXPECT_TRUE(q.empty());
}

TEST(Queue, EmptyGetTimesOutWithEmpty) {
  mpp::Queue<int> q;
  EXPECT_THROW(q.get_nowait(), mpp::Empty);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(q.get(100ms), mpp::Empty);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
}

TEST(Queue, BoundedQueueRefusesWhenFull) {
  mpp::Queue<int> q(2);
  q.put(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(3), mpp::Full);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(q.put(3, 100ms), mpp::Full);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_EQ(q.get(), 1);
  q.put(3);
  EXPECT_EQ(q.get(), 2);
  EXPECT_EQ(q.get(), 3);
}

TEST(Queue, ManyProducerProcessesLoseNothingAndKeepEachOnesOrder) {
  mpp::Queue<Tagged> q;
  const int producers = 2 * workers() + 1;  // more processes than workers
  constexpr int each = 300;
  std::vector<mpp::Process> processes;
  for (int p = 0; p < producers; ++p) processes.emplace_back(produce, q, p, each);
  for (auto& p : processes) p.start();
  std::map<int, int> next;  // per producer: the sequence number expected next
  for (int n = 0; n < producers * each; ++n) {
    const auto [producer, seq] = q.get(30s);
    ASSERT_EQ(seq, next[producer]) << "producer " << producer;
    ++next[producer];
  }
  for (auto& p : processes) {
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(next.size(), static_cast<std::size_t>(producers));
}

TEST(Queue, ItemsOfEverySizePutByAProcessArriveWholeAndInOrder) {
  mpp::Queue<std::string> q;
  constexpr int count = 70;
  mpp::Process producer(put_sized_items, q, count);
  producer.start();
  for (int i = 0; i < count; ++i) {
    const std::string item = q.get(30s), expected = sized_item(i);
    ASSERT_EQ(item.size(), expected.size()) << "item " << i << " came out of order";
    ASSERT_TRUE(item == expected) << "item " << i << " came changed";
  }
  producer.join();
  EXPECT_EQ(producer.exitcode(), 0);
  EXPECT_TRUE(q.empty());
}

TEST(Queue, MasterFeedsConsumerProcessesThroughABoundedQueue) {
  mpp::Queue<int> in(3);  // the master waits for room: a bounded queue under contention
  mpp::Queue<long> sums;
  const int consumers = workers();
  std::vector<mpp::Process> processes;
  for (int c = 0; c < consumers; ++c) processes.emplace_back(consume_until_sentinel, in, sums);
  for (auto& p : processes) p.start();
  long expected = 0;
  for (int x = 1; x <= 2000; ++x) {
    in.put(x);
    expected += x;
  }
  for (int c = 0; c < consumers; ++c) in.put(-1);
  long total = 0;
  for (int c = 0; c < consumers; ++c) total += sums.get(30s);
  for (auto& p : processes) p.join();
  EXPECT_EQ(total, expected);
  EXPECT_LE(in.qsize(), 3u);
}

TEST(Queue, TimeoutsWorkOnWorkersToo) {
  mpp::Queue<int> empty;
  mpp::Queue<int> full(1);
  full.put(1);
  mpp::Queue<std::string> report;
  mpp::Process getter(get_with_timeout, empty, report);
  getter.start();
  EXPECT_EQ(report.get(30s), "empty after the timeout");
  mpp::Process putter(put_with_timeout, full, report);
  putter.start();
  EXPECT_EQ(report.get(30s), "full");
  getter.join();
  putter.join();
  EXPECT_EQ(full.qsize(), 1u);  // the refused item did not sneak in later
}

TEST(Queue, ClosedHandleRefusesPutAndGet) {
  mpp::Queue<int> q;
  mpp::Queue<int> copy = q;
  q.put(1);
  q.close();
  EXPECT_THROW(q.put(2), mpp::UsageError);
  EXPECT_THROW(copy.get(), mpp::UsageError);  // copies on this rank share the close
}

TEST(Queue, AQueueMadeOnAWorkerComesBackWithItsItems) {
  mpp::Pool pool(1);
  mpp::Queue<int> q = pool.apply(make_queue_on_worker, 10, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.get(10s), 10 + i);
  q.put(99);  // still served after the worker's own handle is gone
  EXPECT_EQ(q.get(), 99);
}

TEST(JoinableQueue, JoinWaitsUntilEveryItemIsDone) {
  mpp::JoinableQueue<int> tasks;
  mpp::Value<long> total(0);
  std::vector<mpp::Process> processes;
  for (int w = 0; w < workers(); ++w) processes.emplace_back(work_and_mark_done, tasks, total);
  for (auto& p : processes) p.start();
  long expected = 0;
  for (int x = 1; x <= 100; ++x) {
    tasks.put(x);
    expected += x;
  }
  tasks.join();  // returns only after the last task_done(), so the total is complete
  EXPECT_EQ(total.get(), expected);
  for (int w = 0; w < workers(); ++w) tasks.put(-1);
  for (auto& p : processes) p.join();
  EXPECT_THROW(tasks.task_done(), mpp::UsageError);  // more task_done() calls than items
}

TEST(Queue, ClosingAnUnusedQueueLeavesItReadable) {
  // CPython's test_closed_queue_empty_exceptions: close() on a queue that never put is harmless,
  // on one that put it closes the handle.
  mpp::Queue<int> unused;
  mpp::JoinableQueue<int> unused_joinable;
  unused.close();
  unused.join_thread();
  unused_joinable.close();
  EXPECT_TRUE(unused.empty());
  EXPECT_TRUE(unused_joinable.empty());

  mpp::Queue<std::string> used;
  used.put("foo");
  used.close();
  used.join_thread();
  EXPECT_THROW(used.empty(), mpp::UsageError);
  mpp::Queue<int> open;
  EXPECT_THROW(open.join_thread(), mpp::UsageError);  // Python asserts close() came first
}

TEST(SimpleQueue, AnItemPutOnAWorkerIsThereWhenThePutReturns) {
  mpp::SimpleQueue<int> q;
  mpp::Event can_start;
  mpp::Event can_continue;
  mpp::Process p(put_two_when_told, q, can_start, can_continue);
  p.start();
  EXPECT_TRUE(q.empty());
  can_start.set();
  can_continue.wait();
  EXPECT_FALSE(q.empty());  // the puts returned only once the items were queued
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 0);
  EXPECT_TRUE(q.empty());
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  q.close();
  q.close();  // closing twice is fine
  EXPECT_THROW(q.get(), mpp::UsageError);
}

TEST(Queue, ShutdownRefusesPutsAndEndsGetsOnceEmpty) {
  mpp::JoinableQueue<int> q;
  q.put(1);
  q.put(2);
  q.shutdown();
  EXPECT_THROW(q.put(3), mpp::ShutDown);
  EXPECT_EQ(q.get(), 1);  // what was queued before is still handed out
  EXPECT_EQ(q.get(), 2);
  EXPECT_THROW(q.get(), mpp::ShutDown);
  EXPECT_THROW(q.get(10s), mpp::ShutDown);  // at once, not after the timeout
  q.task_done();
  q.task_done();
  q.join();
}

TEST(Queue, ImmediateShutdownDropsTheItemsAndReleasesJoin) {
  mpp::JoinableQueue<int> q;
  for (int i = 0; i < 5; ++i) q.put(i);
  q.shutdown(true);
  EXPECT_THROW(q.get_nowait(), mpp::ShutDown);
  q.join();  // the dropped items count as done
  EXPECT_EQ(q.qsize(), 0u);
}

TEST(Queue, ShutdownWakesWaitingGettersAndPutters) {
  mpp::Queue<int> empty;
  mpp::Queue<int> full(1);
  full.put(0);
  mpp::Queue<std::string> report;
  std::vector<mpp::Process> getters;
  for (int w = 0; w < workers(); ++w) getters.emplace_back(get_or_report_shutdown, empty, report);
  for (auto& p : getters) p.start();
  std::this_thread::sleep_for(300ms);  // let them wait in get()
  empty.shutdown();
  for (int w = 0; w < workers(); ++w) EXPECT_EQ(report.get(30s), "shut down");
  for (auto& p : getters) p.join();

  mpp::Process putter(put_or_report_shutdown, full, report);
  putter.start();
  std::this_thread::sleep_for(300ms);  // let it wait for room
  full.shutdown();
  EXPECT_EQ(report.get(30s), "shut down");
  putter.join();
  EXPECT_EQ(full.get(), 0);  // the waiting item never got in
  EXPECT_THROW(full.get(), mpp::ShutDown);
}

TEST(Queue, AProducerOnAWorkerStopsWithShutDown) {
  mpp::Queue<int> q;
  mpp::Queue<std::string> report;
  mpp::Process producer(put_until_refused, q, report);
  producer.start();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(q.get(30s), i);
  q.shutdown();
  EXPECT_EQ(report.get(30s), "shut down");  // its puts do not all vanish unanswered
  producer.join();
  EXPECT_EQ(producer.exitcode(), 0);
}
