// Port of the seed's Manager examples (jobs/python/manager_dict_list.py): a child fills a dict
// and a list; then ten processes write one dict and one list, printed sorted.
//   mpirun -np 3 build/jobs/manager_dict_list
#include <algorithm>
#include <iostream>
#include <mpp/mpp.hpp>
#include <string>
#include <vector>

#include "print.hpp"

void func(mpp::DictProxy<std::string, std::string> mydict, mpp::ListProxy<int> mylist) {
  mydict.set("name", "grey");
  mylist.append(110);
}

void fun1(mpp::DictProxy<std::string, std::string> dic, mpp::ListProxy<int> lis, int index) {
  dic.set(std::to_string(index), "a");
  dic.set("2", "b");
  lis.append(index);
}

/// Python's repr of a dict of strings.
std::string repr(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? ", '" : "'") + items[i].first + "': '" + items[i].second + "'";
  return out + "}";
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  {
    mpp::Manager MG;
    auto mydict = MG.dict<std::string, std::string>();
    auto mylist = MG.list<int>({0, 1, 2, 3, 4});
    mpp::Process p(func, mydict, mylist);
    p.start();
    p.join();
    std::cout << repr(mydict.items()) << ' ' << jobs::list(mylist.to_vector()) << std::endl;
  }
  mpp::Manager manager;
  auto dic = manager.dict<std::string, std::string>();
  auto lis = manager.list<int>({0, 1, 2, 3, 4});
  std::vector<mpp::Process> processes;
  for (int i = 0; i < 10; ++i) processes.emplace_back(fun1, dic, lis, i);
  for (auto& p : processes) p.start();
  for (auto& p : processes) p.join();
  auto items = dic.items();
  std::sort(items.begin(), items.end());
  std::cout << repr(items) << std::endl;
  auto values = lis.to_vector();
  std::sort(values.begin(), values.end());
  std::cout << jobs::list(values) << std::endl;
}
