#pragma once
// The seed's five CSV files (3150, 3134, 3127, 3123, 3117 lines), written once to a temp folder
// for the line-count jobs; jobs/python/demo_files.py writes the same for the Python twins.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <string>
#include <vector>

namespace jobs {

inline std::filesystem::path make_demo_files() {
  const auto folder = std::filesystem::temp_directory_path() / "mpp-csv-demo";
  std::filesystem::create_directories(folder);
  const int lines[] = {3150, 3134, 3127, 3123, 3117};
  for (int n = 0; n < 5; ++n) {
    std::ofstream out(folder / ("sz00204" + std::to_string(n) + ".csv"));
    for (int i = 0; i < lines[n]; ++i)
      out << "2020-01-" << std::setw(2) << std::setfill('0') << i % 28 + 1 << ',' << i << ',' << std::fixed
          << std::setprecision(2) << i * 0.5 << '\n';
  }
  return folder;
}

/// The names of the files in `folder`, sorted.
inline std::vector<std::string> sorted_file_names(const std::filesystem::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace jobs
