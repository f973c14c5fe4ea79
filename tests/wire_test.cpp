// Writer/Reader round trips: the fast paths and the Boost archive path agree byte for byte
// with what they read back.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mpp/detail/frames.hpp>
#include <mpp/detail/spare_wires.hpp>
#include <mpp/detail/wire.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>

namespace {

template <class T>
T round_trip(const T& value) {
  mpp::detail::Writer out;
  out.write(value);
  mpp::detail::Reader in(out.bytes());
  T back = in.read<T>();
  EXPECT_TRUE(in.empty()) << "every byte written is read back";
  return back;
}

struct Pod {
  int a;
  double b;
  char c[3];
};

struct WithPointer {
  int count;
  const double* values;
};
struct NestedPointer {
  Pod pod;
  WithPointer inner;
};
struct ArrayOfPointers {
  int n;
  char* names[2];
};

struct WithSerialize {
  std::vector<std::string> names;
  std::map<int, double> weights;
  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& names& weights;
  }
  bool operator==(const WithSerialize&) const = default;
};

}  // namespace

TEST(Wire, FastPathTypesRoundTrip) {
  EXPECT_EQ(round_trip(42), 42);
  EXPECT_EQ(round_trip(-1.5), -1.5);
  EXPECT_EQ(round_trip(std::string("hello\0world", 11)), std::string("hello\0world", 11));
  EXPECT_EQ(round_trip(std::vector<double>{1, 2, 3}), (std::vector<double>{1, 2, 3}));
  const Pod pod = round_trip(Pod{1, 2.5, {'x', 'y', 'z'}});
  EXPECT_EQ(pod.a, 1);
  EXPECT_EQ(pod.c[2], 'z');
}

TEST(Wire, FastPathWritesRawBytes) {
  mpp::detail::Writer out;
  out.write(std::vector<int>(1000, 7));
  EXPECT_EQ(out.size(), sizeof(std::uint64_t) + 1000 * sizeof(int)) << "no archive overhead on the fast path";
}

TEST(Wire, ArchivedTypesRoundTrip) {
  const WithSerialize value{{"a", "bc"}, {{1, 0.5}, {2, 0.25}}};
  EXPECT_EQ(round_trip(value), value);
  EXPECT_EQ(round_trip(std::set<std::string>{"x", "y"}), (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(round_trip(std::vector<std::vector<int>>{{1}, {2, 3}}), (std::vector<std::vector<int>>{{1}, {2, 3}}));
  EXPECT_EQ(round_trip(std::vector<bool>{true, false, true}), (std::vector<bool>{true, false, true}));
}

TEST(Wire, TuplesMixFastAndArchivedElements) {
  using T = std::tuple<int, std::string, WithSerialize, std::pair<double, std::string>>;
  const T value{3, "s", WithSerialize{{"n"}, {}}, {0.5, "p"}};
  EXPECT_EQ(round_trip(value), value);
  const std::vector<std::tuple<int, std::string>> nested{{1, "a"}, {2, "b"}};
  EXPECT_EQ(round_trip(nested), nested) << "a vector of tuples takes the archive path";
}

TEST(Wire, ItemsRoundTripInOrder) {
  mpp::detail::Writer out;
  const std::vector<WithSerialize> items{{{"a"}, {}}, {{"b"}, {{1, 1.0}}}};
  out.write_items<WithSerialize>(items, items.size());
  out.write(99);  // what follows the items is still readable
  mpp::detail::Reader in(out.bytes());
  std::vector<WithSerialize> back;
  in.read_items<WithSerialize>([&](std::size_t i, WithSerialize&& v) {
    EXPECT_EQ(i, back.size());
    back.push_back(std::move(v));
  });
  EXPECT_EQ(back, items);
  EXPECT_EQ(in.read<int>(), 99);
}

TEST(Wire, TruncatedInputIsAnErrorNotACrash) {
  mpp::detail::Writer out;
  out.write(std::string(100, 'x'));
  out.bytes().resize(50);
  mpp::detail::Reader in(out.bytes());
  EXPECT_THROW(in.read<std::string>(), std::runtime_error);
}

TEST(Wire, SerializableTraitMatchesWhatCanTravel) {
  static_assert(mpp::is_serializable_v<int>);
  static_assert(mpp::is_serializable_v<Pod>);
  static_assert(mpp::is_serializable_v<std::string>);
  static_assert(mpp::is_serializable_v<std::map<std::string, std::vector<double>>>);
  static_assert(mpp::is_serializable_v<WithSerialize>);
  static_assert(mpp::is_serializable_v<std::tuple<int, WithSerialize>>);
  static_assert(!mpp::is_serializable_v<int*>);
  static_assert(!mpp::is_serializable_v<std::unique_ptr<int>>);
  static_assert(!mpp::is_serializable_v<std::vector<std::unique_ptr<int>>>);
  static_assert(mpp::is_serializable_v<std::optional<std::string>>);
  static_assert(mpp::is_serializable_v<std::variant<std::monostate, int, WithSerialize>>);
  // Raw bytes that hold a pointer would point into the sender's memory: refused, at any depth.
  static_assert(!mpp::is_serializable_v<WithPointer>);
  static_assert(!mpp::is_serializable_v<NestedPointer>);
  static_assert(!mpp::is_serializable_v<ArrayOfPointers>);
  static_assert(!mpp::is_serializable_v<std::vector<WithPointer>>);
  static_assert(!mpp::is_serializable_v<std::optional<int*>>);
  static_assert(!mpp::is_serializable_v<std::map<int, const char*>>);
  SUCCEED();
}

TEST(Wire, OptionalAndVariantRoundTrip) {
  EXPECT_EQ(round_trip(std::optional<std::string>("x")), std::optional<std::string>("x"));
  EXPECT_EQ(round_trip(std::optional<std::string>()), std::nullopt);
  using Mixed = std::variant<std::monostate, int, std::string>;
  EXPECT_EQ(round_trip(Mixed(std::string("y"))), Mixed(std::string("y")));
  EXPECT_EQ(round_trip(Mixed(5)), Mixed(5));
  EXPECT_EQ(round_trip(Mixed()), Mixed());
}

TEST(Wire, AVariantNamingNoAlternativeIsMalformed) {
  using Mixed = std::variant<int, char, short, long, float, std::string>;
  mpp::detail::Writer out;
  out.write(Mixed(std::string("z")));
  auto bytes = out.bytes();
  const std::uint32_t index = 5;  // the string's: a word found once in these bytes
  const char* word = reinterpret_cast<const char*>(&index);
  const auto at = std::search(bytes.begin(), bytes.end(), word, word + sizeof index);
  ASSERT_NE(at, bytes.end());
  ASSERT_EQ(std::search(at + 1, bytes.end(), word, word + sizeof index), bytes.end());
  EXPECT_EQ(std::get<std::string>(mpp::detail::Reader(bytes).read<Mixed>()), "z");
  const std::uint32_t bad = 9;
  std::memcpy(&*at, &bad, sizeof bad);
  mpp::detail::Reader in(bytes);
  EXPECT_THROW(in.read<Mixed>(), std::runtime_error);
}

TEST(SpareWires, ASentSmallWireIsBuiltUponAgainEmpty) {
  using mpp::detail::Bytes;
  Bytes wire = mpp::detail::take_spare_wire();
  EXPECT_TRUE(wire.empty());
  EXPECT_GE(wire.capacity(), 64u) << "room for a task header without growing";
  wire.assign(100, 'x');
  const char* const storage = wire.data();
  const std::size_t capacity = wire.capacity();
  std::vector<Bytes> sent;
  sent.push_back(std::move(wire));
  mpp::detail::give_back_wires(sent);
  EXPECT_TRUE(sent.empty());
  Bytes decoy;  // had the wire been freed, malloc would hand its memory to this one
  decoy.reserve(capacity);
  const Bytes again = mpp::detail::take_spare_wire();
  EXPECT_EQ(again.data(), storage) << "the sent wire's memory is reused, not freed and allocated anew";
  EXPECT_TRUE(again.empty());
}

TEST(SpareWires, ABigWireIsFreedNotKept) {
  using mpp::detail::Bytes;
  std::vector<Bytes> sent;
  sent.emplace_back(1 << 20, 'x');  // a chunk's copied items
  mpp::detail::give_back_wires(sent);
  EXPECT_TRUE(sent.empty());
  EXPECT_LT(mpp::detail::take_spare_wire().capacity(), std::size_t{1} << 20) << "a megabyte kept per task would add up";
}

namespace {

/// The two ends of a socket pair, closed at the end of the test.
struct SocketPair {
  int ends[2] = {-1, -1};
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, ends), 0); }
  ~SocketPair() {
    for (int end : ends)
      if (end >= 0) ::close(end);
  }
  void close_writer() { ::close(std::exchange(ends[1], -1)); }
};

mpp::detail::Bytes bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

}  // namespace

TEST(Frames, ManyFramesOfEverySizeArriveWholeAndInOrder) {
  using mpp::detail::Bytes;
  using Got = mpp::detail::FrameReader::Got;
  SocketPair link;
  // Sizes around the reader's 64 KiB chunk and past the socket's buffer (the writer blocks
  // until the reader takes the rest), empty and tiny ones between them.
  std::vector<Bytes> frames;
  for (const std::size_t size : {0, 1, 7, 8, 100, 65535, 65536, 65537, 300000, 3, 0, 1 << 20, 5}) {
    Bytes frame(size);
    for (std::size_t i = 0; i < size; ++i) frame[i] = static_cast<char>(i * 31 + size);
    frames.push_back(std::move(frame));
  }
  std::thread writer([&] {
    for (const auto& frame : frames) EXPECT_TRUE(mpp::detail::write_frame(link.ends[1], frame));
    link.close_writer();
  });
  mpp::detail::FrameReader reader;
  Bytes got;
  for (const auto& frame : frames) {
    ASSERT_EQ(reader.next(link.ends[0], got, true), Got::frame);
    EXPECT_EQ(got, frame) << "a frame of " << frame.size() << " bytes";
  }
  EXPECT_EQ(reader.next(link.ends[0], got, true), Got::closed) << "the writer closed its end";
  writer.join();
}

TEST(Frames, APartFrameIsNothingYetAndFramesReadTogetherWaitInTheBuffer) {
  using mpp::detail::Bytes;
  using Got = mpp::detail::FrameReader::Got;
  SocketPair link;
  mpp::detail::FrameReader reader;
  Bytes got;
  EXPECT_EQ(reader.next(link.ends[0], got, false), Got::nothing) << "nothing has arrived";
  // One frame's bytes one at a time: nothing until the last.
  const Bytes payload = bytes_of("hello");
  std::uint64_t size = payload.size();
  Bytes raw(reinterpret_cast<const char*>(&size), reinterpret_cast<const char*>(&size) + sizeof size);
  raw.insert(raw.end(), payload.begin(), payload.end());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    EXPECT_FALSE(reader.has_frame());
    EXPECT_EQ(reader.next(link.ends[0], got, false), Got::nothing) << "after " << i << " bytes";
    ASSERT_EQ(::send(link.ends[1], &raw[i], 1, 0), 1);
  }
  ASSERT_EQ(reader.next(link.ends[0], got, false), Got::frame);
  EXPECT_EQ(got, payload);
  // Two frames taken by one read: the second waits where poll cannot see it.
  ASSERT_TRUE(mpp::detail::write_frame(link.ends[1], bytes_of("first")));
  ASSERT_TRUE(mpp::detail::write_frame(link.ends[1], bytes_of("second")));
  ASSERT_EQ(reader.next(link.ends[0], got, false), Got::frame);
  EXPECT_EQ(got, bytes_of("first"));
  EXPECT_TRUE(reader.has_frame());
  ASSERT_EQ(reader.next(link.ends[0], got, false), Got::frame);
  EXPECT_EQ(got, bytes_of("second"));
  EXPECT_FALSE(reader.has_frame());
  EXPECT_EQ(reader.next(link.ends[0], got, false), Got::nothing);
}

TEST(Frames, ASizeNoFrameOfOursCanHaveClosesTheLinkWithoutAllocatingIt) {
  using Got = mpp::detail::FrameReader::Got;
  SocketPair link;
  const std::uint64_t huge = std::uint64_t{1} << 40;  // a terabyte: stray bytes, not a frame
  ASSERT_EQ(::send(link.ends[1], &huge, sizeof huge, 0), static_cast<ssize_t>(sizeof huge));
  mpp::detail::FrameReader reader;
  mpp::detail::Bytes got;
  EXPECT_EQ(reader.next(link.ends[0], got, true), Got::closed);
  EXPECT_TRUE(got.empty());
}
