// Pipe and Connection: duplex and one-way, rank to rank, EOF, closed ends, buffering before start,
// an OS pipe's rules for copies of an end (CPython's test_thousand-like writers, test_subclassing,
// test_boundaries, test_wait), raw bytes and BufferTooShort.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <mpp/mpp.hpp>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// Answers every number with its square until the other end closes.
void square_server(mpp::Connection<long> conn) {
  for (;;) {
    long x = 0;
    try {
      x = conn.recv();
    } catch (const mpp::EOFError&) {
      return;
    }
    conn.send(x * x);
  }
}

void send_three_and_return(mpp::Connection<std::string> conn) {
  for (int i = 0; i < 3; ++i) conn.send("message " + std::to_string(i));
}  // the end closes as the target returns

/// The seed's func1: sends i, receives i*i.
void func1(mpp::Connection<long> conn, int n, mpp::Queue<long> answers) {
  for (long i = 0; i < n; ++i) {
    conn.send(i);
    answers.put(conn.recv());
  }
  conn.close();
}

void sum_messages(mpp::Connection<int> conn, mpp::Queue<long> out) {
  long sum = 0;
  try {
    for (;;) sum += conn.recv();
  } catch (const mpp::EOFError&) {
  }
  out.put(sum);
}

void echo_vector(mpp::Connection<std::vector<double>> conn) { conn.send(conn.recv()); }

void close_at_once(mpp::Connection<int> conn) { conn.close(); }

/// Sends (pid, i) for i < count on `out`, then lets its copy go with the target.
void send_numbered(mpp::Connection<std::pair<int, int>> out, int count) {
  const int pid = mpp::current_process().pid;
  for (int i = 0; i < count; ++i) out.send({pid, i});
}

/// CPython's _UpperCaser: closes its copy of the parent's end, then answers each string in
/// upper case until None.
void upper_caser(mpp::Connection<std::optional<std::string>> parent_end,
                 mpp::Connection<std::optional<std::string>> child_end) {
  parent_end.close();
  for (auto s = child_end.recv(); s; s = child_end.recv()) {
    for (char& c : *s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    child_end.send(s);
  }
  child_end.close();
}

/// CPython's _child_boundaries: a poll may look at a message, never take part of it.
void poll_only(mpp::Connection<std::string> reader) { reader.poll(5s); }

void hold_forever(mpp::Connection<int> end) {
  (void)end;
  std::this_thread::sleep_for(1h);
}

/// Echoes `round_trips` messages, then takes `count` items from `items` (each get answered by
/// the master) and marks `done`.
void echo_then_take(mpp::Connection<int> conn, int round_trips, mpp::Queue<int> items, int count,
                    mpp::Value<int> done) {
  for (int i = 0; i < round_trips; ++i) conn.send(conn.recv());
  for (int i = 0; i < count; ++i) items.get();
  done.set(1);
}

int workers() { return mpp::Session::current().workers(); }

}  // namespace

TEST(Pipe, ParentAndChildTalkBothWays) {
  auto [parent, child] = mpp::Pipe<long>();
  mpp::Process p(square_server, child);
  p.start();
  for (long i = 0; i < 200; ++i) {
    parent.send(i);
    ASSERT_EQ(parent.recv(), i * i);
  }
  parent.close();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Pipe, TwoChildrenTalkDirectly) {
  if (workers() < 2) GTEST_SKIP() << "two processes that wait for each other need two workers";
  auto [a, b] = mpp::Pipe<long>();
  mpp::Queue<long> answers;
  mpp::Process p1(func1, a, 50, answers);
  mpp::Process p2(square_server, b);
  p1.start();
  p2.start();
  a.close();  // as in Python: the children hold the ends now, so EOF can reach the server
  b.close();
  for (long i = 0; i < 50; ++i) EXPECT_EQ(answers.get(30s), i * i);
  p1.join();
  p2.join();  // func1 closed its end, so the server saw EOF and returned
  EXPECT_EQ(p1.exitcode(), 0);
  EXPECT_EQ(p2.exitcode(), 0);
  EXPECT_NE(p1.rank(), p2.rank());
}

// The master's thread, done with a loop of round trips (in which the progress thread stood
// aside), leaves the child's further calls to the progress thread without waking it, to spare
// the core the child runs on: they must still be answered while the master's thread sleeps.
TEST(Pipe, AChildIsAnsweredWhileTheMasterNoLongerWaits) {
  auto [parent, child] = mpp::Pipe<int>();
  mpp::Queue<int> items;
  mpp::Value<int> done(0);
  constexpr int round_trips = 300;
  constexpr int count = 50;
  for (int i = 0; i < count; ++i) items.put(i);
  mpp::Process p(echo_then_take, child, round_trips, items, count, done);
  p.start();
  for (int i = 0; i < round_trips; ++i) {
    parent.send(i);
    ASSERT_EQ(parent.recv(), i);
  }
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (done.get() == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(done.get(), 1) << "the child's queue calls were not answered while the master slept";
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Pipe, RecvThrowsEOFErrorAfterTheLastMessageOfAFinishedChild) {
  auto [parent, child] = mpp::Pipe<std::string>();
  mpp::Process p(send_three_and_return, child);
  p.start();
  child.close();  // the parent's copy: while it is open, the child's end is too (as in Python)
  for (int i = 0; i < 3; ++i) EXPECT_EQ(parent.recv(), "message " + std::to_string(i));
  EXPECT_THROW(parent.recv(), mpp::EOFError);
  EXPECT_TRUE(parent.poll());  // the end of the stream counts as something to read, as in Python
  p.join();
}

TEST(Pipe, MessagesSentBeforeTheChildStartsWaitForIt) {
  auto [reader, writer] = mpp::Pipe<int>(false);
  mpp::Queue<long> out;
  mpp::Process p(sum_messages, reader, out);
  for (int i = 1; i <= 10; ++i) writer.send(i);  // nobody holds the reading end yet
  p.start();
  for (int i = 11; i <= 20; ++i) writer.send(i);
  writer.close();
  EXPECT_EQ(out.get(30s), 210);
  p.join();
}

TEST(Pipe, OneWayPipesRefuseTheWrongDirection) {
  auto [reader, writer] = mpp::Pipe<int>(false);
  EXPECT_FALSE(reader.writable());
  EXPECT_FALSE(writer.readable());
  EXPECT_THROW(reader.send(1), mpp::UsageError);
  EXPECT_THROW(writer.recv(), mpp::UsageError);
}

TEST(Pipe, BothEndsOnTheMasterWork) {
  auto [a, b] = mpp::Pipe<std::string>();
  a.send("to b");
  b.send("to a");
  EXPECT_EQ(b.recv(), "to b");
  EXPECT_EQ(a.recv(), "to a");
  a.close();
  EXPECT_TRUE(a.closed());
  EXPECT_THROW(a.send("again"), mpp::UsageError);
  EXPECT_THROW(b.recv(), mpp::EOFError);
  EXPECT_THROW(b.send("to a closed end"), mpp::BrokenPipeError);
}

TEST(Pipe, PollWaitsAtMostItsTimeout) {
  auto [parent, child] = mpp::Pipe<long>();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(parent.poll(50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_FALSE(parent.poll());
  child.send(5);
  EXPECT_TRUE(parent.poll(1s));
  EXPECT_EQ(parent.recv(), 5);
}

TEST(Pipe, SendToAChildThatClosedIsABrokenPipe) {
  auto [parent, child] = mpp::Pipe<int>();
  mpp::Process p(close_at_once, child);
  p.start();
  child.close();
  p.join();
  EXPECT_THROW(parent.recv(), mpp::EOFError);
  EXPECT_THROW(parent.send(1), mpp::BrokenPipeError);
}

TEST(Pipe, LargeMessagesArriveWhole) {
  auto [parent, child] = mpp::Pipe<std::vector<double>>();
  mpp::Process p(echo_vector, child);
  p.start();
  std::vector<double> big(2'000'000);
  std::iota(big.begin(), big.end(), 0.5);
  parent.send(big);
  EXPECT_EQ(parent.recv(), big);
  p.join();
}

TEST(Pipe, ManyProcessesSendOnOneEndAndEveryMessageArrives) {
  auto [reader, writer] = mpp::Pipe<std::pair<int, int>>(false);
  constexpr int senders = 5;
  constexpr int each = 200;
  std::vector<mpp::Process> processes;
  for (int i = 0; i < senders; ++i) processes.emplace_back(send_numbered, writer, each);
  for (auto& p : processes) p.start();
  writer.close();  // the senders hold the only copies now
  std::set<std::pair<int, int>> received;
  try {
    for (;;) ASSERT_TRUE(received.insert(reader.recv()).second);
  } catch (const mpp::EOFError&) {
  }
  EXPECT_EQ(received.size(), static_cast<std::size_t>(senders * each));
  std::set<int> pids;
  for (const auto& [pid, i] : received) pids.insert(pid);
  EXPECT_EQ(pids.size(), static_cast<std::size_t>(senders));
  for (auto& p : processes) {
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
  }
}

TEST(Pipe, AChildClosingItsCopyOfTheParentsEndLeavesTheParentsOpen) {
  auto [parent_end, child_end] = mpp::Pipe<std::optional<std::string>>();
  mpp::Process p(upper_caser, parent_end, child_end);
  p.start();
  child_end.close();
  for (const std::string word : {"hello", "world", "pipes"}) {
    parent_end.send(word);
    auto upper = word;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(parent_end.recv(), upper);
  }
  parent_end.send(std::nullopt);
  EXPECT_THROW(parent_end.recv(), mpp::EOFError);  // the child closed the only other copy
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Pipe, AChildThatOnlyPolledLeavesThePipeIntact) {
  auto [reader, writer] = mpp::Pipe<std::string>(false);
  mpp::Process p(poll_only, reader);
  p.start();
  std::this_thread::sleep_for(200ms);
  const std::vector<std::string> sent = {"first", "second"};
  for (const auto& s : sent) writer.send_bytes(s);
  writer.close();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(reader.recv_bytes(), "first");
  EXPECT_EQ(reader.recv_bytes(), "second");
  EXPECT_THROW(reader.recv_bytes(), mpp::EOFError);
}

TEST(Pipe, AKilledProcesssCopyCloses) {
  auto [reader, writer] = mpp::Pipe<int>(false);
  mpp::Process p(hold_forever, writer);
  p.start();
  writer.close();
  EXPECT_FALSE(reader.poll(100ms));  // the child's copy is open: nothing, and no EOF yet
  p.kill();
  ASSERT_TRUE(p.join(30s));
  EXPECT_EQ(p.exitcode(), -9);
  EXPECT_TRUE(reader.poll(30s));  // the kernel would close a killed process's descriptors
  EXPECT_THROW(reader.recv(), mpp::EOFError);
}

TEST(Pipe, BytesTravelWithOffsetsAndTooShortBuffersLoseNothing) {
  // CPython's test_connection, the bytes part.
  auto [a, b] = mpp::Pipe<int>();
  const std::array<std::int32_t, 5> arr = {0, 1, 2, 3, 4};
  a.send_bytes(arr);
  std::array<std::int32_t, 8> into{};
  EXPECT_EQ(b.recv_bytes_into(into), sizeof arr);
  EXPECT_TRUE(std::equal(arr.begin(), arr.end(), into.begin()));
  EXPECT_EQ(into[5], 0);

  const std::string text = "0123456789";
  a.send_bytes(text, 2, 5);
  EXPECT_EQ(b.recv_bytes(), "23456");
  a.send_bytes(text, 7);
  std::vector<char> buffer(6, '.');
  EXPECT_EQ(b.recv_bytes_into(buffer, 3), 3u);
  EXPECT_EQ(std::string(buffer.begin(), buffer.end()), "...789");

  a.send_bytes(text);
  try {
    b.recv_bytes_into(buffer, 1);
    FAIL() << "a 10-byte message fitted in 5 bytes";
  } catch (const mpp::BufferTooShort& e) {
    EXPECT_EQ(e.received(), text);
  }
  a.send_bytes(text);
  EXPECT_THROW(b.recv_bytes(4), mpp::BufferTooShort);
  a.send_bytes(std::string());
  EXPECT_TRUE(b.poll());  // an empty message is a message (CPython's test_empty_string)
  EXPECT_EQ(b.recv_bytes(), "");

  EXPECT_THROW(a.send_bytes(text, 11), mpp::ValueError);
  EXPECT_THROW(a.send_bytes(text, 4, 7), mpp::ValueError);
  EXPECT_THROW(b.recv_bytes_into(buffer, 7), mpp::ValueError);
  a.send(7);  // send and send_bytes mix on one connection, as in Python
  EXPECT_EQ(b.recv(), 7);
  EXPECT_FALSE(b.poll());
}

TEST(Pipe, ConnectionWaitReturnsTheReadyOnesUntilEveryWriterClosed) {
  // CPython's TestWait.test_wait: four children each send 10 (i, pid), the parent waits on all.
  std::vector<mpp::Connection<std::pair<int, int>>> readers;
  std::vector<mpp::Process> processes;
  for (int i = 0; i < 4; ++i) {
    auto [reader, writer] = mpp::Pipe<std::pair<int, int>>(false);
    processes.emplace_back(send_numbered, writer, 10).start();
    writer.close();
    readers.push_back(reader);
  }
  EXPECT_TRUE(mpp::connection_wait(std::vector<mpp::Connection<std::pair<int, int>>>{}, 10ms).empty());
  std::vector<std::pair<int, int>> messages;
  while (!readers.empty()) {
    for (auto& ready : mpp::connection_wait(readers)) {
      try {
        messages.push_back(ready.recv());
      } catch (const mpp::EOFError&) {
        ready.close();  // every copy of it in this process: the one in `readers` too
        std::erase_if(readers, [](const auto& r) { return r.closed(); });
      }
    }
  }
  std::vector<std::pair<int, int>> expected;
  for (auto& p : processes) {
    p.join();
    for (int i = 0; i < 10; ++i) expected.emplace_back(*p.pid(), i);
  }
  std::sort(messages.begin(), messages.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(messages, expected);
}

TEST(Pipe, ConnectionWaitGivesUpAfterItsTimeout) {
  auto [a, b] = mpp::Pipe<int>();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(mpp::connection_wait(std::vector{a, b}, 50ms).empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  b.send(1);
  const auto ready = mpp::connection_wait(std::vector{a, b}, 1s);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready.front().readable(), true);
  EXPECT_EQ(a.recv(), 1);
}
