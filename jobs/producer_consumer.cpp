// Port of the seed's producers and consumers (jobs/python/producer_consumer.py): five producers
// and four consumers on a bounded Queue(3), printing under a Lock, then one producer and one
// consumer that stops at a sentinel.
//
//   mpirun -np 6 build/jobs/producer_consumer
//
// Producers 3 and 4 wait for room until consumers run, and each running process holds a worker
// rank, so the first part needs 5 workers; with fewer, mpp reports the stall after 10 s.
#include <iostream>
#include <mpp/mpp.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

void inputQ(int i, mpp::Queue<std::string> q) {
  const std::string info = "process-" + std::to_string(i) + "'s " + std::to_string(i);
  q.put(info);
}

void outputQ(char c, mpp::Queue<std::string> q, mpp::Lock lock) {
  const std::string info = q.get();
  std::lock_guard with(lock);  // so the prints do not mix
  std::cout << "process-" << c << " get: " << info << std::endl;
}

using Item = std::pair<bool, int>;  // (false, _) is the sentinel, Python's None

void producer(mpp::Queue<Item> q, int n) {
  for (int i = 0; i < n; ++i) q.put({true, i});
  q.put({false, 0});  // the sentinel: no more items
}

void consumer(mpp::Queue<Item> q, mpp::Lock lock) {
  long total = 0;
  for (Item item = q.get(); item.first; item = q.get()) total += item.second;
  std::lock_guard with(lock);
  std::cout << "consumer got the sentinel after a total of " << total << std::endl;
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  std::vector<mpp::Process> input_processes;
  std::vector<mpp::Process> output_processes;
  mpp::Lock lock;
  mpp::Queue<std::string> q(3);

  for (int i = 0; i < 5; ++i) {
    input_processes.emplace_back(inputQ, i, q);
    input_processes.back().start();
  }
  for (char c : std::string("ABCD")) {
    output_processes.emplace_back(outputQ, c, q, lock);
    output_processes.back().start();
  }
  for (auto& p : input_processes) p.join();
  for (auto& p : output_processes) p.join();
  std::cout << "left in the queue: " << q.qsize() << std::endl;

  mpp::Queue<Item> items(3);
  mpp::Process c(consumer, items, lock);
  mpp::Process p(producer, items, 100);
  c.start();
  p.start();
  p.join();
  c.join();
}
