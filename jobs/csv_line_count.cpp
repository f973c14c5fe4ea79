// Port of the seed's multi-file line count (jobs/python/csv_line_count.py): one process per CSV
// file, each adding its lines into that file's own Value.
//   mpirun -np 4 build/jobs/csv_line_count [DIRECTORY]
// Without a directory it first writes the seed's five files (3150, 3134, 3127, 3123, 3117 lines).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mpp/mpp.hpp>
#include <string>

#include "demo_files.hpp"

namespace fs = std::filesystem;

void get_lines_count(std::string path, mpp::Value<int> data) {
  std::ifstream data_csv(path);
  for (std::string line; std::getline(data_csv, line);) data.fetch_add(1);
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const fs::path folder = argc > 1 ? fs::path(argv[1]) : jobs::make_demo_files();
  const auto filename_list = jobs::sorted_file_names(folder);

  std::vector<mpp::Process> p_list;
  std::vector<mpp::Value<int>> data_list;
  for (const auto& filename : filename_list) {
    data_list.emplace_back(0);
    p_list.emplace_back(get_lines_count, (folder / filename).string(), data_list.back());
    p_list.back().start();
  }
  for (auto& p : p_list) p.join();
  for (auto& data : data_list) std::cout << data.get() << ',';
  std::cout << '\n';
}
