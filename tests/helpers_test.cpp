// current_process(), cpu_count() and the Session's view of the job.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <mpp/mpp.hpp>
#include <set>

namespace {
mpp::ProcessInfo who_am_i(int) { return mpp::current_process(); }
}  // namespace

TEST(Helpers, MasterIsTheMainProcess) {
  const auto me = mpp::current_process();
  EXPECT_EQ(me.name, "MainProcess");
  EXPECT_EQ(me.rank, 0);
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_FALSE(me.host.empty());
}

mpp::ProcessInfo parent_of_task(int) { return mpp::parent_process().value_or(mpp::ProcessInfo{"no parent"}); }

TEST(Helpers, TheParentOfAPoolTaskIsTheMainProcess) {
  EXPECT_FALSE(mpp::parent_process().has_value()) << "the master has no parent process, as Python's None";
  mpp::Pool pool;
  const auto parents = pool.map(parent_of_task, std::vector<int>(static_cast<std::size_t>(pool.size()), 0), 1);
  for (const auto& parent : parents) {
    EXPECT_EQ(parent.name, "MainProcess");
    EXPECT_EQ(parent.pid, ::getpid());
    EXPECT_EQ(parent.rank, 0);
    EXPECT_EQ(parent.host, mpp::current_process().host);
  }
}

TEST(Helpers, WorkersKnowWhoTheyAre) {
  mpp::Pool pool;
  const auto infos = pool.map(who_am_i, std::vector<int>(static_cast<std::size_t>(pool.size()) * 50, 0), 1);
  std::set<int> pids;
  for (const auto& info : infos) {
    EXPECT_GE(info.rank, 1);
    EXPECT_EQ(info.name, "PoolWorker-" + std::to_string(info.rank));
    EXPECT_NE(info.pid, ::getpid());
    pids.insert(info.pid);
  }
  EXPECT_EQ(static_cast<int>(pids.size()), pool.size()) << "one OS process per worker rank";
}

TEST(Helpers, SessionDescribesTheJob) {
  const auto& session = mpp::Session::current();
  EXPECT_TRUE(session.is_master());
  EXPECT_EQ(session.rank(), 0);
  EXPECT_EQ(session.workers(), session.size() - 1);
  EXPECT_GE(session.size(), 2);
}

TEST(Helpers, CpuCountFollowsSlurmWhenInsideAnAllocation) {
  const char* saved = std::getenv("SLURM_CPUS_ON_NODE");
  const std::string saved_value = saved ? saved : "";
  ::unsetenv("SLURM_CPUS_ON_NODE");
  EXPECT_EQ(mpp::cpu_count(), static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  ::setenv("SLURM_CPUS_ON_NODE", "56", 1);
  EXPECT_EQ(mpp::cpu_count(), 56);
  if (saved) {
    ::setenv("SLURM_CPUS_ON_NODE", saved_value.c_str(), 1);
  } else {
    ::unsetenv("SLURM_CPUS_ON_NODE");
  }
}
