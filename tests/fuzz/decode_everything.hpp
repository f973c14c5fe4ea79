#pragma once
// Runs every decoder mpp applies to received bytes over `bytes`: the Reader for each kind of
// value, the task/result/request/reply headers, an error report, a shipped code reference.
// A decoder either succeeds or throws MalformedMessage; anything else (another exception, a
// crash, a read outside `bytes` under AddressSanitizer) is a bug. Shared by the CTest fuzz test
// and the libFuzzer target.
#include <cstring>
#include <map>
#include <mpp/detail/code_ref.hpp>
#include <mpp/detail/protocol.hpp>
#include <mpp/detail/requests.hpp>
#include <span>
#include <string>
#include <tuple>
#include <vector>

namespace mpp_fuzz {

using mpp::detail::MalformedMessage;
using mpp::detail::Reader;

/// A type that travels through a Boost archive, with the containers Boost sizes from a count.
struct Archived {
  std::int64_t a = 0;
  std::vector<double> values;
  std::string name;
  std::map<int, std::string> labels;
  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& a& values& name& labels;
  }
};

/// Counts of what happened, so a test can check that both outcomes occur.
struct Outcomes {
  long decoded = 0;
  long refused = 0;
};

template <class Decode>
void attempt(Outcomes& outcomes, Decode&& decode) {
  try {
    decode();
    ++outcomes.decoded;
  } catch (const MalformedMessage&) {
    ++outcomes.refused;
  }
}

inline void decode_everything(std::span<const char> bytes, Outcomes& outcomes) {
  attempt(outcomes, [&] { Reader(bytes).read<std::string>(); });
  attempt(outcomes, [&] { Reader(bytes).read<std::vector<int>>(); });
  attempt(outcomes, [&] { Reader(bytes).read<std::vector<double>>(); });
  attempt(outcomes, [&] { Reader(bytes).read<std::tuple<int, std::string, double>>(); });
  attempt(outcomes, [&] { Reader(bytes).read<Archived>(); });
  attempt(outcomes, [&] { Reader(bytes).read_items<int>([](std::size_t, int&&) {}); });
  attempt(outcomes, [&] { Reader(bytes).read_items<std::string>([](std::size_t, std::string&&) {}); });
  attempt(outcomes, [&] { Reader(bytes).read_items<Archived>([](std::size_t, Archived&&) {}); });
  attempt(outcomes, [&] {
    double out[8];
    Reader(bytes).read_items_into(out, 8);
  });
  attempt(outcomes, [&] {
    // A batch of tasks, as a worker walks it, down to the code each names.
    Reader in(bytes);
    while (!in.empty()) {
      const auto task = in.read<mpp::detail::TaskHeader>();
      Reader args = in.take(task.args_size);
      task.invoker.resolve();
      task.function.resolve();
      args.read<std::string>();
    }
  });
  attempt(outcomes, [&] {
    // A message of results, as the master walks it.
    Reader in(bytes);
    while (!in.empty()) {
      const auto header = in.read<mpp::detail::ResultHeader>();
      Reader payload = in.take(header.payload_size);
      if (!header.ok) mpp::detail::ErrorReport::read(payload);
    }
  });
  attempt(outcomes, [&] {
    Reader in(bytes);
    in.read<mpp::detail::RequestHeader>();
    in.read<std::uint64_t>();
  });
  attempt(outcomes, [&] { mpp::detail::header_of<mpp::detail::ReplyHeader>(bytes); });
}

}  // namespace mpp_fuzz
