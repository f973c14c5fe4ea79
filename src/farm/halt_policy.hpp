#pragma once
// GNU parallel's --halt: when a farm stops early, and whether it kills what runs.
//   --halt now,fail=1   --halt soon,fail=10%   --halt now,success=1   --halt soon,done=3
#include <cstddef>
#include <string>

namespace mpp::farm {

struct HaltPolicy {
  enum class When { never, soon, now };  // soon: start nothing more, let running tasks end; now: kill them
  enum class Count { fail, success, done };
  When when = When::never;
  Count count = Count::fail;
  double threshold = 0;  // tasks, or percent of all the run's tasks
  bool percent = false;

  /// "never", "soon|now,fail|success|done=N|N%", or GNU parallel's old 0, 1, 2, -1, -2, 1-99%.
  static HaltPolicy parse(const std::string& text);
  /// Whether the run must halt, `failed` and `succeeded` of its `total` tasks having ended.
  bool reached(std::size_t failed, std::size_t succeeded, std::size_t total) const;
};

}  // namespace mpp::farm
