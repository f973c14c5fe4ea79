// GoogleTest main for mpp: every rank enters the Session; workers serve tasks there and exit
// when the master's tests are done, so only rank 0 runs (and prints) the tests.
#include <gtest/gtest.h>

#include <cstdio>

#include <mpp/mpp.hpp>

int main(int argc, char** argv) {
  // Line-buffered: a test stopped for running out of time has printed every line it reached.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  mpp::Session session(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
