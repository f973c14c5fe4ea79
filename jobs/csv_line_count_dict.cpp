// Port of the seed's line count "with Manager().dict()" (jobs/python/csv_line_count_dict.py):
// one process per CSV file, each storing its file's line count under the file name.
//   mpirun -np 4 build/jobs/csv_line_count_dict [DIRECTORY]
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mpp/mpp.hpp>
#include <string>

#include "demo_files.hpp"

namespace fs = std::filesystem;

void get_lines_count(std::string path, mpp::DictProxy<std::string, int> my_dict) {
  std::ifstream file(path);
  int lines = 0;
  for (std::string line; std::getline(file, line);) ++lines;
  my_dict.set(fs::path(path).filename(), lines);
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const fs::path folder = argc > 1 ? fs::path(argv[1]) : jobs::make_demo_files();
  const auto filename_list = jobs::sorted_file_names(folder);

  std::vector<mpp::Process> p_list;
  mpp::Manager m;
  auto data_dict = m.dict<std::string, int>();
  for (const auto& filename : filename_list) {
    p_list.emplace_back(get_lines_count, (folder / filename).string(), data_dict);
    p_list.back().start();
  }
  for (auto& p : p_list) p.join();
  auto items = data_dict.items();
  std::sort(items.begin(), items.end());
  std::cout << '{';
  for (std::size_t i = 0; i < items.size(); ++i)
    std::cout << (i ? ", " : "") << '\'' << items[i].first << "': " << items[i].second;
  std::cout << "}\n";
}
