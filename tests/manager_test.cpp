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
