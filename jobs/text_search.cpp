// Port of the seed's parallel search (jobs/python/text_search.py): ten processes each scan a
// byte range of a large text file for one string; the one that finds it sets an Event, and
// every other process stops at its next line (or, if still waiting for a rank, at once).
//   mpirun -np 3 build/jobs/text_search [FILE]      (without FILE: a 400,000-line demo file)
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mpp/mpp.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

const std::string search_str = "737849559@qq.com";

fs::path make_big_file(long lines = 400'000) {
  const fs::path path = fs::temp_directory_path() / "mpp-big-mail.txt";
  if (!fs::exists(path)) {
    std::ofstream out(path);
    for (long i = 0; i < lines; ++i) {
      if (i == lines * 55 / 100) out << search_str << "\twxq7758258\n";
      out << "user" << i << "@example.com\tpw" << i * 7919 % 100000 << '\n';
    }
  }
  return path;
}

void find_str(std::string path, long start, long end, mpp::Event found, mpp::Value<long> scanned) {
  const std::string name = mpp::current_process().name;
  std::cout << name + " start\n" << std::flush;
  long lines = 0;
  std::ifstream in(path, std::ios::binary);
  in.seekg(start);
  std::string line;
  if (start) std::getline(in, line);  // the piece before ours owns this line
  while (in.tellg() <= end && !found.is_set() && std::getline(in, line)) {
    ++lines;
    if (line.find(search_str) != std::string::npos) {
      std::cout << name + " found: " + line + "\n" << std::flush;
      found.set();
    }
  }
  scanned.fetch_add(lines);
  std::cout << name + " end\n" << std::flush;
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const std::string path = argc > 1 ? fs::path(argv[1]) : make_big_file();
  const long size = static_cast<long>(fs::file_size(path));
  long total = 0;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) ++total;
  }
  constexpr long N = 10;
  mpp::Event found;
  mpp::Value<long> scanned(0);
  std::vector<mpp::Process> ps;
  for (long i = 0; i < N; ++i) ps.emplace_back(find_str, path, i * size / N, (i + 1) * size / N - 1, found, scanned);
  for (auto& p : ps) p.start();
  for (auto& p : ps) p.join();
  std::cout << "scanned " << scanned.get() << " of " << total
            << " lines; stopped early: " << (scanned.get() < total ? "yes" : "no") << std::endl;
}
