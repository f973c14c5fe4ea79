// Fuzzes every decoder of received bytes (tests/fuzz/decode_everything.hpp) with a fixed seed
// and a bounded number of cases: random bytes, and valid messages with bytes changed, cut short
// or given impossible sizes. No MPI: decoding needs none. For longer, coverage-guided runs see
// tests/fuzz/libfuzzer_decoders.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>

#include "decode_everything.hpp"

namespace {

using mpp::detail::Bytes;
using mpp::detail::Writer;

int shipped_function(int x) { return x + 1; }
template <int N>
int numbered_function(int x) {
  return x + N;
}

/// Valid messages of each kind, to be mutated.
std::vector<Bytes> valid_messages() {
  std::vector<Bytes> messages;
  Writer text;
  text.write(std::string("hello, fuzzer"));
  messages.push_back(text.bytes());
  Writer numbers;
  numbers.write(std::vector<int>{1, 2, 3, 4, 5});
  messages.push_back(numbers.bytes());
  Writer archived;
  mpp_fuzz::Archived value;
  value.a = 7;
  value.values = {2.5, 3.5};
  value.name = "archived";
  value.labels = {{1, "one"}, {2, "two"}};
  archived.write(value);
  messages.push_back(archived.bytes());
  Writer items;
  items.write_items<std::string>(std::vector<std::string>{"x", "yy", "zzz"}, 3);
  messages.push_back(items.bytes());
  Writer task;
  const auto code = mpp::detail::CodeRef::of(mpp::detail::code_address(&shipped_function));
  Writer args;
  args.write(std::string("argument"));
  task.write(mpp::detail::TaskHeader{1, code, code, 0, args.size()});
  task.write_raw(args.bytes().data(), args.size());
  messages.push_back(task.bytes());
  Writer result;
  Writer report;
  mpp::detail::ErrorReport{"std::runtime_error", "failed", "host", 3, 7}.write(report);
  result.write(mpp::detail::ResultHeader{1, report.size(), 10, 0, 1});
  result.write_raw(report.bytes().data(), report.size());
  messages.push_back(result.bytes());
  return messages;
}

}  // namespace

TEST(FuzzDecoders, RandomBytesAreDecodedOrRefused) {
  std::mt19937_64 random(20261121);
  mpp_fuzz::Outcomes outcomes;
  for (int i = 0; i < 20000; ++i) {
    Bytes bytes(random() % 160);
    for (char& b : bytes) b = static_cast<char>(random());
    mpp_fuzz::decode_everything(bytes, outcomes);
  }
  EXPECT_GT(outcomes.refused, 0);
  EXPECT_GT(outcomes.decoded, 0);
}

TEST(FuzzDecoders, MutatedValidMessagesAreDecodedOrRefused) {
  std::mt19937_64 random(42);
  mpp_fuzz::Outcomes outcomes;
  const auto messages = valid_messages();
  for (const auto& message : messages) mpp_fuzz::decode_everything(message, outcomes);
  for (int i = 0; i < 20000; ++i) {
    Bytes bytes = messages[random() % messages.size()];
    switch (random() % 3) {
      case 0:  // change a few bytes
        for (int k = 0; k < 3; ++k) bytes[random() % bytes.size()] = static_cast<char>(random());
        break;
      case 1:  // cut it short
        bytes.resize(random() % bytes.size());
        break;
      default: {  // an impossible size at a random place
        const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max() >> (random() % 40);
        if (bytes.size() >= sizeof huge) std::memcpy(bytes.data() + random() % (bytes.size() - 7), &huge, sizeof huge);
      }
    }
    mpp_fuzz::decode_everything(bytes, outcomes);
  }
  EXPECT_GT(outcomes.refused, 1000);
}

TEST(FuzzDecoders, SizesAreCheckedBeforeAllocating) {
  // 64 bytes that announce a vector of 2^40 ints: refused at once, nothing allocated.
  Bytes message(64, 0);
  const std::uint64_t count = std::uint64_t{1} << 40;
  std::memcpy(message.data(), &count, sizeof count);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(mpp::detail::Reader(message).read<std::vector<int>>(), mpp::detail::MalformedMessage);
  EXPECT_THROW(mpp::detail::Reader(message).read<std::string>(), mpp::detail::MalformedMessage);
  EXPECT_THROW(mpp::detail::Reader(message).read_items<int>([](std::size_t, int&&) {}), mpp::detail::MalformedMessage);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  // count * sizeof(T) must not wrap into a small number of bytes.
  const std::uint64_t wraps = (std::numeric_limits<std::uint64_t>::max() / 4) + 2;
  std::memcpy(message.data(), &wraps, sizeof wraps);
  EXPECT_THROW(mpp::detail::Reader(message).read<std::vector<int>>(), mpp::detail::MalformedMessage);
}

TEST(FuzzDecoders, ArchivedContainerSizesAreCheckedBeforeAllocating) {
  // A user struct whose vector, then whose string, announces 2^27 elements: Boost alone would
  // allocate and zero a gigabyte before finding the bytes missing.
  mpp_fuzz::Archived value;
  value.values = {1.0, 2.0, 3.0};
  value.name = std::string(5, 'n');
  Writer writer;
  writer.write(value);
  for (const std::uint64_t announced : {std::uint64_t{3}, std::uint64_t{5}}) {
    Bytes message = writer.bytes();
    const auto at = std::search(message.begin(), message.end(), reinterpret_cast<const char*>(&announced),
                                reinterpret_cast<const char*>(&announced) + sizeof announced);
    ASSERT_NE(at, message.end()) << "count " << announced << " not found in the archive";
    const std::uint64_t huge = std::uint64_t{1} << 27;
    std::memcpy(&*at, &huge, sizeof huge);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(mpp::detail::Reader(message).read<mpp_fuzz::Archived>(), mpp::detail::MalformedMessage);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50)) << "count " << announced;
  }
  // The unchanged message still decodes to the same value.
  const auto back = mpp::detail::Reader(writer.bytes()).read<mpp_fuzz::Archived>();
  EXPECT_EQ(back.values, value.values);
  EXPECT_EQ(back.name, value.name);
}

TEST(FuzzDecoders, CodeReferencesOutsideExecutableCodeAreRefused) {
  const auto good = mpp::detail::CodeRef::of(mpp::detail::code_address(&shipped_function));
  EXPECT_EQ(good.resolve(), mpp::detail::code_address(&shipped_function));
  for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{1} << 40, ~std::uint64_t{0}, good.offset + (1u << 30)})
    EXPECT_THROW((mpp::detail::CodeRef{good.module, offset}.resolve()), mpp::detail::MalformedMessage) << offset;
  EXPECT_THROW((mpp::detail::CodeRef{good.module ^ 1, good.offset}.resolve()), mpp::detail::MalformedMessage);
}

TEST(FuzzDecoders, EachFunctionKeepsItsOwnReferenceAmongMoreThanAThreadRemembers) {
  // Seven functions, taken in turn three times: each lookup must give its own answer whether it
  // was remembered or looked up again.
  const void* const functions[] = {
      mpp::detail::code_address(&numbered_function<1>), mpp::detail::code_address(&numbered_function<2>),
      mpp::detail::code_address(&numbered_function<3>), mpp::detail::code_address(&numbered_function<4>),
      mpp::detail::code_address(&numbered_function<5>), mpp::detail::code_address(&numbered_function<6>),
      mpp::detail::code_address(&shipped_function)};
  std::vector<mpp::detail::CodeRef> first;
  for (const void* f : functions) first.push_back(mpp::detail::CodeRef::of(f));
  for (int round = 0; round < 3; ++round)
    for (std::size_t i = 0; i < std::size(functions); ++i) {
      const auto ref = mpp::detail::CodeRef::of(functions[i]);
      EXPECT_EQ(ref, first[i]) << i;
      EXPECT_EQ(ref.resolve(), functions[i]) << i;
    }
}

TEST(FuzzDecoders, EmptyMessagesAreRefused) {
  const Bytes empty;
  EXPECT_THROW(mpp::detail::header_of<mpp::detail::RequestHeader>(empty), mpp::detail::MalformedMessage);
  EXPECT_THROW(mpp::detail::header_of<mpp::detail::ReplyHeader>(empty), mpp::detail::MalformedMessage);
  EXPECT_THROW(mpp::detail::Reader(empty).read<mpp::detail::TaskHeader>(), mpp::detail::MalformedMessage);
}
