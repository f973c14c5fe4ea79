// Manager: dict, list and value proxies on the master, used from processes; progress while the
// master is busy; shutdown.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mpp/mpp.hpp>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

void fill_dict(mpp::DictProxy<std::string, int> d, int process, int count) {
  for (int i = 0; i < count; ++i) d.set(std::to_string(process) + ":" + std::to_string(i), process * 1000 + i);
}

void append_many(mpp::ListProxy<int> l, int count) {
  for (int i = 0; i < count; ++i) l.append(i);
}

/// Reads and writes the dict, then raises a flag the master watches without calling mpp.
void use_dict_then_flag(mpp::DictProxy<int, int> d, mpp::Value<int> done) {
  for (int i = 0; i < 200; ++i) d.set(i, d.get(i, 0) + 1);
  done.set(1);
}

/// Sorts and edits a list it was given, from a child process (the master sorts it).
void sort_and_trim(mpp::ListProxy<int> l) {
  l.sort();
  l.remove(l.at(0));
  l.insert(0, -1);
}

/// Python's test_namespace child: sets fields the parent reads.
void set_fields(mpp::NamespaceProxy<std::string> ns) {
  ns.set("name", "Bob");
  ns.set("job", "Builder");
}

void acquire_and_leave(mpp::Lock lock) { lock.acquire(); }

/// Takes the queue stored in the dict, puts into it, and lets its own handle go.
void put_into_stored_queue(mpp::DictProxy<int, mpp::Queue<int>> d, int value) { d.get(0).put(value); }

int workers() { return mpp::Session::current().workers(); }

}  // namespace

TEST(DictProxy, BehavesLikeAPythonDict) {
  mpp::Manager manager;
  auto d = manager.dict<std::string, double>();
  EXPECT_EQ(d.size(), 0u);
  d.set("b", 2.0);
  d.set("a", 1.0);
  d.set("b", 2.5);  // replacing keeps the key's place
  EXPECT_EQ(d.get("b"), 2.5);
  EXPECT_THROW(d.get("zz"), mpp::KeyError);
  EXPECT_EQ(d.get("zz", -1.0), -1.0);
  EXPECT_TRUE(d.contains("a"));
  EXPECT_FALSE(d.contains("zz"));
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"b", "a"}));
  d.update(std::map<std::string, double>{{"c", 3.0}, {"a", 1.5}});
  EXPECT_EQ(d.items(), (std::vector<std::pair<std::string, double>>{{"b", 2.5}, {"a", 1.5}, {"c", 3.0}}));
  EXPECT_TRUE(d.erase("b"));
  EXPECT_FALSE(d.erase("b"));
  EXPECT_EQ(d.size(), 2u);
}

TEST(ListProxy, BehavesLikeAPythonList) {
  mpp::Manager manager;
  auto l = manager.list<std::string>({"x", "y"});
  l.append("z");
  l.extend({"p", "q"});
  EXPECT_EQ(l.size(), 5u);
  EXPECT_EQ(l.at(0), "x");
  EXPECT_EQ(l.at(-1), "q");
  l.set(1, "Y");
  EXPECT_EQ(l.to_vector(), (std::vector<std::string>{"x", "Y", "z", "p", "q"}));
  EXPECT_EQ(l.pop(), "q");
  EXPECT_EQ(l.pop(0), "x");
  EXPECT_THROW(l.at(10), std::out_of_range);
  EXPECT_THROW(l.set(-10, "no"), std::out_of_range);
  auto empty = manager.list<int>();
  EXPECT_THROW(empty.pop(), std::out_of_range);
}

TEST(ValueProxy, HoldsAnySendableValue) {
  mpp::Manager manager;
  auto v = manager.Value<std::string>("start");
  EXPECT_EQ(v.get(), "start");
  v.set("changed");
  EXPECT_EQ(v.get(), "changed");
}

TEST(Manager, ProcessesWriteOneDictWithoutLosingKeys) {
  mpp::Manager manager;
  auto d = manager.dict<std::string, int>();
  const int processes = workers() + 1;
  std::vector<mpp::Process> ps;
  for (int p = 0; p < processes; ++p) ps.emplace_back(fill_dict, d, p, 100);
  for (auto& p : ps) p.start();
  for (auto& p : ps) p.join();
  EXPECT_EQ(d.size(), static_cast<std::size_t>(processes * 100));
  EXPECT_EQ(d.get("2:7", -1), processes > 2 ? 2007 : -1);
  EXPECT_EQ(d.get("0:99"), 99);
}

TEST(Manager, EachCallIsAtomic) {
  mpp::Manager manager;
  auto l = manager.list<int>();
  std::vector<mpp::Process> ps;
  for (int p = 0; p < workers(); ++p) ps.emplace_back(append_many, l, 250);
  for (auto& p : ps) p.start();
  for (auto& p : ps) p.join();
  EXPECT_EQ(l.size(), static_cast<std::size_t>(250 * workers()));
}

TEST(Manager, RequestsAreServedWhileTheMasterIsBusyInItsOwnCode) {
  mpp::Manager manager;
  auto d = manager.dict<int, int>();
  mpp::Value<int> done(0);
  mpp::Process p(use_dict_then_flag, d, done);
  p.start();
  // Busy, never calling into mpp's engine: only the progress thread can serve the 400 calls.
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  volatile double sink = 0;
  while (done.get() == 0 && std::chrono::steady_clock::now() < give_up)
    for (int i = 0; i < 10000; ++i) sink = sink + i * 0.5;
  EXPECT_EQ(done.get(), 1);
  p.join();
  EXPECT_EQ(d.size(), 200u);
  EXPECT_EQ(d.get(199), 1);
}

TEST(Manager, ProxiesFailClearlyAfterShutdown) {
  mpp::Manager manager;
  auto d = manager.dict<int, int>();
  d.set(1, 1);
  manager.shutdown();
  EXPECT_THROW(d.get(1), mpp::UsageError);
}

TEST(Manager, LockAndQueueWorkAcrossRanks) {
  mpp::Manager manager;
  auto lock = manager.Lock();
  auto q = manager.Queue<int>();
  {
    std::lock_guard guard(lock);
    q.put(3);
  }
  EXPECT_EQ(q.get(), 3);
}

TEST(DictProxy, HasTheRestOfPythonsDictMethods) {
  mpp::Manager manager;
  auto d = manager.dict<std::string, int>();
  d.update(std::vector<std::pair<std::string, int>>{{"a", 1}, {"b", 2}, {"c", 3}});
  EXPECT_EQ(d.values(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(d.copy(), (std::map<std::string, int>{{"a", 1}, {"b", 2}, {"c", 3}}));
  EXPECT_EQ((d.copy<std::vector<std::pair<std::string, int>>>()),
            (std::vector<std::pair<std::string, int>>{{"a", 1}, {"b", 2}, {"c", 3}}));
  EXPECT_EQ(d.pop("b"), 2);
  EXPECT_THROW(d.pop("b"), mpp::KeyError);
  EXPECT_EQ(d.pop("b", -1), -1);
  EXPECT_EQ(d.setdefault("a", 100), 1);  // there already
  EXPECT_EQ(d.setdefault("z", 26), 26);  // set now
  EXPECT_EQ(d.get("z"), 26);
  EXPECT_EQ(d.popitem(), (std::pair<std::string, int>{"z", 26}));  // the last inserted
  std::vector<std::string> seen;
  for (const auto& [key, value] : d) seen.push_back(key + "=" + std::to_string(value));
  EXPECT_EQ(seen, (std::vector<std::string>{"a=1", "c=3"}));
  d.clear();
  EXPECT_EQ(d.size(), 0u);
  EXPECT_THROW(d.popitem(), mpp::KeyError);
}

TEST(ListProxy, HasTheRestOfPythonsListMethods) {
  mpp::Manager manager;
  auto l = manager.list<std::string>({"b", "a", "c", "a"});
  EXPECT_EQ(l.count("a"), 2u);
  EXPECT_EQ(l.index("a"), 1u);
  EXPECT_THROW(l.index("zz"), mpp::ValueError);
  EXPECT_TRUE(l.contains("c"));
  EXPECT_FALSE(l.contains("zz"));
  l.remove("a");  // the first one
  EXPECT_EQ(l.to_vector(), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_THROW(l.remove("zz"), mpp::ValueError);
  l.insert(1, "x");
  l.insert(-1, "y");   // before the last, as Python
  l.insert(100, "z");  // past the end: appended
  l.insert(-100, "w");
  EXPECT_EQ(l.to_vector(), (std::vector<std::string>{"w", "b", "x", "c", "y", "a", "z"}));
  EXPECT_EQ(l.slice(1, 3), (std::vector<std::string>{"b", "x"}));
  EXPECT_EQ(l.slice(-2, 100), (std::vector<std::string>{"a", "z"}));
  EXPECT_TRUE(l.slice(5, 2).empty());
  l.sort();
  EXPECT_EQ(l.to_vector(), (std::vector<std::string>{"a", "b", "c", "w", "x", "y", "z"}));
  l.sort(true);
  EXPECT_EQ(l.at(0), "z");
  l.reverse();
  std::string joined;
  for (const std::string& x : l) joined += x;
  EXPECT_EQ(joined, "abcwxyz");
  l.clear();
  EXPECT_EQ(l.size(), 0u);
}

TEST(ListProxy, AProcessSortsAndEditsTheSharedList) {
  mpp::Manager manager;
  auto l = manager.list<int>({5, 3, 9, 1});
  mpp::Process p(sort_and_trim, l);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(l.to_vector(), (std::vector<int>{-1, 3, 5, 9}));
}

TEST(Manager, NamespaceAndSyncManagerFactories) {
  mpp::Manager manager;
  auto ns = manager.Namespace<std::string>();
  mpp::Process p(set_fields, ns);
  p.start();
  p.join();
  EXPECT_EQ(ns.get("name"), "Bob");
  EXPECT_EQ(ns.get("job"), "Builder");
  EXPECT_THROW(ns.get("age"), mpp::KeyError);
  ns.erase("job");
  EXPECT_FALSE(ns.contains("job"));
  EXPECT_THROW(ns.erase("job"), mpp::KeyError);

  auto queue = manager.JoinableQueue<int>();
  queue.put(1);
  EXPECT_EQ(queue.get(), 1);
  queue.task_done();
  queue.join();
  auto rlock = manager.RLock();
  rlock.acquire();
  EXPECT_TRUE(rlock.try_lock());
  rlock.release();
  rlock.release();
  auto semaphore = manager.BoundedSemaphore(1);
  semaphore.acquire();
  semaphore.release();
  EXPECT_THROW(semaphore.release(), mpp::UsageError);
  auto event = manager.Event();
  event.set();
  EXPECT_TRUE(event.wait(1s));
  auto condition = manager.Condition();
  {
    std::lock_guard<mpp::Condition> hold(condition);
    condition.notify_all();
  }
  auto barrier = manager.Barrier(1);
  EXPECT_EQ(barrier.wait(), 0);
  auto array = manager.Array<short>(std::vector<short>{1, 2});
  EXPECT_EQ(array.get(1), 2);
  auto semaphore2 = manager.Semaphore(2);
  EXPECT_EQ(semaphore2.get_value(), 2);
}

TEST(Manager, AQueueStoredInAContainerLivesAsLongAsTheContainerHoldsIt) {
  // CPython's test_nested_queue: the handle that created the queue is gone at once.
  mpp::Manager manager;
  auto a = manager.list<mpp::Queue<int>>();
  a.append(mpp::Queue<int>());
  a.at(0).put(123);
  EXPECT_EQ(a.at(0).get(5s), 123);
  auto b = manager.dict<int, mpp::Queue<int>>();
  b.set(0, mpp::Queue<int>());
  b.get(0).put(456);
  EXPECT_EQ(b.get(0).get(5s), 456);
  mpp::Process p(put_into_stored_queue, b, 789);  // another process reads it out and uses it
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(b.get(0).get(5s), 789);
  auto taken = b.pop(0);  // taking it out hands over the stored claim
  taken.put(1);
  EXPECT_EQ(taken.get(5s), 1);
}

TEST(Manager, APipeEndStoredInAContainerStaysOpen) {
  mpp::Manager manager;
  auto ends = manager.dict<std::string, mpp::Connection<int>>();
  {
    auto [reader, writer] = mpp::Pipe<int>(false);
    ends.set("reader", reader);
    ends.set("writer", writer);
  }  // the creating copies are closed; the stored ones keep both ends open
  ends.get("writer").send(5);
  EXPECT_EQ(ends.get("reader").recv(), 5);
  ends.get("writer").send(6);  // reading an end out does not use up the stored copy
  EXPECT_EQ(ends.get("reader").recv(), 6);
  ends.pop("writer");  // taken out and dropped: the last copy of the writing end closes
  EXPECT_THROW(ends.get("reader").recv(), mpp::EOFError);
}

TEST(Manager, ALockMayBeReleasedByAnotherProcess) {
  // CPython's TestSyncManagerTypes.test_lock: a child acquires, the parent releases.
  mpp::Manager manager;
  auto lock = manager.Lock();
  mpp::Process p(acquire_and_leave, lock);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), mpp::UsageError);
}
