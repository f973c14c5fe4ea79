// mpp-farm's pieces that need no MPI: the task list (placeholders, ::: products, disBatch
// directives), the option parser, the halt policy and the joblog's rows read back.
// tests/farm_test.sh runs the program itself at several rank counts.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "farm_options.hpp"
#include "halt_policy.hpp"
#include "joblog.hpp"
#include "task_list.hpp"

namespace farm = mpp::farm;

TEST(FarmPlaceholders, FillEachAsGnuParallel) {
  EXPECT_EQ(farm::fill_placeholders("gzip {}", {"dir/a.tar.gz"}, 1), "gzip dir/a.tar.gz");
  EXPECT_EQ(farm::fill_placeholders("{.} {/} {//} {/.}", {"dir/sub/a.tar.gz"}, 1),
            "dir/sub/a.tar a.tar.gz dir/sub a.tar");
  EXPECT_EQ(farm::fill_placeholders("{/}", {"dir/sub/a.txt"}, 1), "a.txt");
  EXPECT_EQ(farm::fill_placeholders("{//} {/.} {.}", {"a.txt"}, 1), ". a a");
  EXPECT_EQ(farm::fill_placeholders("run {#} {%}", {"x"}, 42), "run 42 {%} x");  // appended: no argument placeholder
  EXPECT_EQ(farm::fill_placeholders("cp {1} {2}.bak {2/}", {"a", "b/c"}, 1), "cp a b/c.bak c");
  EXPECT_EQ(farm::fill_placeholders("echo", {"it's", "a b"}, 1), "echo 'it'\\''s' 'a b'");
  EXPECT_EQ(farm::fill_placeholders("echo {}", {"a;rm -rf x"}, 1), "echo 'a;rm -rf x'");
  EXPECT_EQ(farm::fill_placeholders("awk '{print $1}' {}", {"f"}, 1), "awk '{print $1}' f");  // not a placeholder
  EXPECT_EQ(farm::fill_placeholders("echo {3}", {"a"}, 1), "echo {3} a");  // out of range: left, args appended
}

TEST(FarmPlaceholders, ShellQuoteOnlyWhereNeeded) {
  EXPECT_EQ(farm::shell_quote("plain-name_1.txt"), "plain-name_1.txt");
  EXPECT_EQ(farm::shell_quote(""), "''");
  EXPECT_EQ(farm::shell_quote("$HOME"), "'$HOME'");
}

TEST(FarmTaskList, ArgumentListsMakeTheirProductLastFastest) {
  const auto tasks = farm::tasks_from_arguments("echo {1}{2}", {{"a", "b"}, {"1", "2", "3"}});
  ASSERT_EQ(tasks.size(), 6u);
  std::vector<std::string> commands;
  for (const auto& task : tasks) commands.push_back(task.command);
  EXPECT_EQ(commands, (std::vector<std::string>{"echo a1", "echo a2", "echo a3", "echo b1", "echo b2", "echo b3"}));
  EXPECT_EQ(tasks[4].seq, 5u);
  EXPECT_EQ(tasks[4].tag, "b\t2");
  EXPECT_TRUE(farm::tasks_from_arguments("echo", {{"a"}, {}}).empty());
}

TEST(FarmTaskList, DisBatchDirectives) {
  std::istringstream file(
      "# a comment\n"
      "#DISBATCH PREFIX cd /tmp ; \n"
      "#DISBATCH SUFFIX  > log.txt\n"
      "first\n"
      "\n"
      "#DISBATCH BARRIER\n"
      "#DISBATCH REPEAT 3 start 100 step 50 work $DISBATCH_REPEAT_INDEX\n"
      "#DISBATCH BARRIER CHECK\n"
      "#DISBATCH PREFIX \n"
      "#DISBATCH SUFFIX\n"
      "last\r\n");
  const auto tasks = farm::read_task_file(file, "Tasks");
  ASSERT_EQ(tasks.size(), 5u);
  EXPECT_EQ(tasks[0].command, "cd /tmp ; first > log.txt");
  EXPECT_FALSE(tasks[0].after_barrier);
  EXPECT_EQ(tasks[1].command, "cd /tmp ; work $DISBATCH_REPEAT_INDEX > log.txt");
  EXPECT_TRUE(tasks[1].after_barrier);
  EXPECT_FALSE(tasks[1].barrier_checks);
  EXPECT_FALSE(tasks[2].after_barrier);
  const std::vector<std::pair<std::string, std::string>> third = {
      {"DISBATCH_TASKID", "3"}, {"DISBATCH_NAMETASKS", "Tasks"}, {"DISBATCH_REPEAT_INDEX", "200"}};
  EXPECT_EQ(tasks[3].environment, third);
  EXPECT_EQ(tasks[4].command, "last");
  EXPECT_TRUE(tasks[4].after_barrier);
  EXPECT_TRUE(tasks[4].barrier_checks);
  EXPECT_EQ(tasks[4].seq, 5u);
}

TEST(FarmTaskList, RepeatWithoutCommandRunsPrefixAndSuffix) {
  std::istringstream file("#DISBATCH PREFIX echo $DISBATCH_REPEAT_INDEX\n#DISBATCH REPEAT 2\n");
  const auto tasks = farm::read_task_file(file, "t");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[1].command, "echo $DISBATCH_REPEAT_INDEX");
  EXPECT_EQ(tasks[1].environment.back().second, "1");
}

TEST(FarmTaskList, UnknownDirectivesAreRefusedWithTheLine) {
  std::istringstream pernode("echo a\n#DISBATCH PERNODE setup\n");
  try {
    farm::read_task_file(pernode, "Tasks");
    FAIL() << "accepted PERNODE";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Tasks line 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("PERNODE"), std::string::npos) << e.what();
  }
  std::istringstream bad_repeat("#DISBATCH REPEAT many echo\n");
  EXPECT_THROW(farm::read_task_file(bad_repeat, "t"), std::invalid_argument);
}

TEST(FarmOptions, ParseAsGnuParallel) {
  auto options = farm::parse_farm_options({"-j4", "--joblog=run.log", "--resume-failed", "--retries", "3", "--timeout",
                                           "1.5", "--halt", "now,fail=1", "--tag", "gzip", "-9", "{}", ":::", "a", "b",
                                           "::::", "more.txt"});
  EXPECT_EQ(options.jobs_per_rank, 4);
  EXPECT_EQ(options.joblog, "run.log");
  EXPECT_TRUE(options.resume_failed);
  EXPECT_EQ(options.tries, 3);
  EXPECT_EQ(options.timeout.count(), 1500);
  EXPECT_EQ(options.halt.when, farm::HaltPolicy::When::now);
  EXPECT_TRUE(options.tag);
  EXPECT_EQ(options.command_template, "gzip -9 {}");
  EXPECT_EQ(options.argument_lists, (std::vector<std::vector<std::string>>{{"a", "b"}}));
  EXPECT_EQ(options.argument_files, (std::vector<std::string>{"more.txt"}));

  EXPECT_EQ(farm::parse_farm_options({"tasks.txt"}).task_file, "tasks.txt");
  EXPECT_EQ(farm::parse_farm_options({}).task_file, "-");
  EXPECT_TRUE(farm::parse_farm_options({"gzip", "{}"}).arguments_from_stdin);
  EXPECT_TRUE(farm::wants_help({"-j", "2", "--help"}));
  EXPECT_FALSE(farm::wants_help({"echo", ":::", "--help"}));
}

TEST(FarmOptions, MisuseIsExplained) {
  auto message = [](std::vector<std::string> arguments) {
    try {
      farm::parse_farm_options(arguments);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message({"--resume", "t.txt"}).find("--joblog"), std::string::npos);
  EXPECT_NE(message({"-j", "0", "t.txt"}).find("at least 1"), std::string::npos);
  EXPECT_NE(message({"--timeout", "soon", "t.txt"}).find("number"), std::string::npos);
  EXPECT_NE(message({"--frobnicate", "t.txt"}).find("unknown option"), std::string::npos);
  EXPECT_NE(message({":::", "a"}).find("need a command"), std::string::npos);
  EXPECT_NE(message({"--halt", "later,fail=1", "t.txt"}).find("now,fail=1"), std::string::npos);
}

TEST(FarmHalt, PoliciesAndGnuParallelsOldNumbers) {
  const auto now_fail = farm::HaltPolicy::parse("now,fail=1");
  EXPECT_FALSE(now_fail.reached(0, 10, 100));
  EXPECT_TRUE(now_fail.reached(1, 0, 100));
  const auto soon_percent = farm::HaltPolicy::parse("soon,fail=10%");
  EXPECT_EQ(soon_percent.when, farm::HaltPolicy::When::soon);
  EXPECT_FALSE(soon_percent.reached(9, 50, 100));
  EXPECT_TRUE(soon_percent.reached(10, 50, 100));
  EXPECT_TRUE(farm::HaltPolicy::parse("now,success=2").reached(0, 2, 100));
  EXPECT_TRUE(farm::HaltPolicy::parse("soon,done=3").reached(1, 2, 100));
  EXPECT_FALSE(farm::HaltPolicy::parse("never").reached(100, 0, 100));
  EXPECT_EQ(farm::HaltPolicy::parse("2").when, farm::HaltPolicy::When::now);
  EXPECT_EQ(farm::HaltPolicy::parse("-1").count, farm::HaltPolicy::Count::success);
  EXPECT_TRUE(farm::HaltPolicy::parse("20%").percent);
  EXPECT_THROW(farm::HaltPolicy::parse("now,fail=0"), std::invalid_argument);
  EXPECT_THROW(farm::HaltPolicy::parse("now,fail=150%"), std::invalid_argument);
}

TEST(FarmJobLog, RowsAreGnuParallelsAndReadBack) {
  const std::string path = testing::TempDir() + "farm_joblog_test.log";
  std::remove(path.c_str());
  farm::FarmTask ok{1, "echo a", "a", {}, false, false};
  farm::FarmTask bad{2, "exit\t3", "b", {}, false, false};
  farm::FarmTask killed{3, "sleep 9", "c", {}, false, false};
  farm::CommandOutcome success{0, 0, 1700000000.25, 0.5, 2, "", "", "node7", 1};
  farm::CommandOutcome failure{3, 0, 1700000001.0, 0.001, 0, "", "", "node8", 1};
  farm::CommandOutcome signalled{0, 9, 1700000002.0, 1.0, 0, "", "", "node8", 1};
  {
    farm::JobLog log(path);
    log.write(ok, success);
    log.write(bad, failure);
  }
  {
    farm::JobLog log(path);  // appends, no second header
    log.write(killed, signalled);
  }
  std::ifstream in(path);
  std::string header;
  std::string first;
  std::getline(in, header);
  std::getline(in, first);
  EXPECT_EQ(header, "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand");
  EXPECT_EQ(first, "1\tnode7\t1700000000.250\t     0.500\t0\t2\t0\t0\techo a");
  std::ofstream(path, std::ios::app) << "4\tnode9\tcut short";  // a row a crash cut off
  const auto entries = farm::JobLog::read(path);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_FALSE(entries.at(1).failed);
  EXPECT_TRUE(entries.at(2).failed);
  EXPECT_EQ(entries.at(2).command, "exit\t3");
  EXPECT_TRUE(entries.at(3).failed);  // a signal is a failure, though Exitval is 0
  EXPECT_TRUE(farm::JobLog::read(path + ".none").empty());
}
