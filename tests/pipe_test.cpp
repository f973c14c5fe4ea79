// Pipe and Connection: duplex and one-way, rank to rank, EOF, closed ends, buffering before start.
#include <gtest/gtest.h>

#include <chrono>
#include <mpp/mpp.hpp>
#include <numeric>
#include <string>
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
  for (long i = 0; i < 50; ++i) EXPECT_EQ(answers.get(30s), i * i);
  p1.join();
  p2.join();  // func1 closed its end, so the server saw EOF and returned
  EXPECT_EQ(p1.exitcode(), 0);
  EXPECT_EQ(p2.exitcode(), 0);
  EXPECT_NE(p1.rank(), p2.rank());
}

TEST(Pipe, RecvThrowsEOFErrorAfterTheLastMessageOfAFinishedChild) {
  auto [parent, child] = mpp::Pipe<std::string>();
  mpp::Process p(send_three_and_return, child);
  p.start();
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
