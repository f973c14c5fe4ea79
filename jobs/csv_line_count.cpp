// Port of the seed's multi-file line count (jobs/python/csv_line_count.py): one task per CSV
// file, each adding its lines into that file's own Value.
//   mpirun -np 4 build/jobs/csv_line_count [DIRECTORY]
// Without a directory it first writes the seed's five files (3150, 3134, 3127, 3123, 3117 lines).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mpp/mpp.hpp>
#include <string>

namespace fs = std::filesystem;

void get_lines_count(std::string path, mpp::Value<int> data) {
  std::ifstream data_csv(path);
  for (std::string line; std::getline(data_csv, line);) data.fetch_add(1);
}

fs::path make_demo_files() {
  const fs::path folder = fs::temp_directory_path() / "mpp-csv-demo";
  fs::create_directories(folder);
  const int lines[] = {3150, 3134, 3127, 3123, 3117};
  for (int n = 0; n < 5; ++n) {
    std::ofstream out(folder / ("sz00204" + std::to_string(n) + ".csv"));
    for (int i = 0; i < lines[n]; ++i)
      out << "2020-01-" << std::setw(2) << std::setfill('0') << i % 28 + 1 << ',' << i << ',' << std::fixed
          << std::setprecision(2) << i * 0.5 << '\n';
  }
  return folder;
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const fs::path folder = argc > 1 ? fs::path(argv[1]) : make_demo_files();
  std::vector<std::string> filename_list;
  for (const auto& entry : fs::directory_iterator(folder)) filename_list.push_back(entry.path().string());
  std::sort(filename_list.begin(), filename_list.end());

  mpp::Pool pool;
  std::vector<mpp::Value<int>> data_list;
  std::vector<mpp::AsyncResult<void>> p_list;
  for (const auto& path : filename_list) {
    data_list.emplace_back(0);
    p_list.push_back(pool.apply_async(get_lines_count, path, data_list.back()));
  }
  for (auto& p : p_list) p.get();
  for (auto& data : data_list) std::cout << data.get() << ',';
  std::cout << '\n';
}
