// Two producers block on a full bounded queue while their consumer waits for a worker rank
// (2 workers): mpp must say so within seconds instead of hanging silently. The master then
// drains the queue itself, so the job ends.
#include <chrono>
#include <cstdio>
#include <mpp/mpp.hpp>
#include <thread>

void put_one(mpp::Queue<int> q) { q.put(1); }
void get_one(mpp::Queue<int> q) { q.get(); }

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Queue<int> q(1);
  q.put(0);
  mpp::Process a(put_one, q), b(put_one, q), consumer(get_one, q);
  a.start();
  b.start();
  consumer.start();
  std::this_thread::sleep_for(std::chrono::seconds(12));
  for (int i = 0; i < 2; ++i) q.get();
  a.join();
  b.join();
  consumer.join();
  std::printf("all processes ended\n");
}
