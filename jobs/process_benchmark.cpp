// Process, Queue, Pipe and Manager benchmark, side by side with Python's multiprocessing
// (jobs/python/process_benchmark.py, run by this job) on the same machine in one run.
//
//   mpirun -np 3 build/jobs/process_benchmark [--quick] [--no-python]
//
// queue: one producer process puts ints, the master gets them; pipe: master <-> process echo
// round trips; dict: two processes set distinct keys of one Manager dict; start+join: one
// Process of an empty target started and joined, one after another (Python: the fork method).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mpp/mpp.hpp>
#include <string>

#include "print.hpp"
#include "python_baseline.hpp"

namespace {

using Clock = std::chrono::steady_clock;

void produce(mpp::Queue<long> q, long n) {
  for (long i = 0; i < n; ++i) q.put(i);
}

void echo(mpp::Connection<long> conn) {
  for (long x = conn.recv(); x >= 0; x = conn.recv()) conn.send(x);
}

void set_keys(mpp::DictProxy<long, long> d, long first, long n) {
  for (long i = first; i < first + n; ++i) d.set(i, i);
}

double queue_items_per_s(long items) {
  mpp::Queue<long> q;
  mpp::Process p(produce, q, items);
  const auto start = Clock::now();
  p.start();
  long total = 0;
  for (long i = 0; i < items; ++i) total += q.get();
  const double rate = items / jobs::seconds_since(start);
  p.join();
  if (total != items * (items - 1) / 2) std::fprintf(stderr, "QUEUE LOST ITEMS\n");
  return rate;
}

double pipe_round_trip_us(long round_trips) {
  auto [parent, child] = mpp::Pipe<long>();
  mpp::Process p(echo, child);
  p.start();
  parent.send(0);
  parent.recv();  // the child is up
  const auto start = Clock::now();
  for (long i = 0; i < round_trips; ++i) {
    parent.send(i);
    parent.recv();
  }
  const double us = jobs::seconds_since(start) / round_trips * 1e6;
  parent.send(-1);
  p.join();
  return us;
}

double dict_sets_per_s(long sets) {
  mpp::Manager manager;
  auto d = manager.dict<long, long>();
  mpp::Process a(set_keys, d, 0L, sets);
  mpp::Process b(set_keys, d, sets, sets);
  const auto start = Clock::now();
  a.start();
  b.start();
  a.join();
  b.join();
  const double rate = 2 * sets / jobs::seconds_since(start);
  if (d.size() != static_cast<std::size_t>(2 * sets)) std::fprintf(stderr, "DICT LOST KEYS\n");
  return rate;
}

void nothing() {}

double start_join_ms(int processes) {
  const auto start = Clock::now();
  for (int i = 0; i < processes; ++i) {
    mpp::Process p(nothing);
    p.start();
    p.join();
    if (p.exitcode() != 0) std::fprintf(stderr, "AN EMPTY PROCESS FAILED\n");
  }
  return jobs::seconds_since(start) / processes * 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const auto options = jobs::BenchmarkOptions::parse(argc, argv);
  const bool quick = options.quick;
  if (session.workers() < 2) throw mpp::UsageError("process_benchmark needs 2 workers: mpirun -np 3");
  const auto py = options.python_baseline("process_benchmark.py");
  auto python = [&py](const char* key) { return py.count(key) ? py.at(key) : NAN; };

  const double queue = queue_items_per_s(quick ? 20'000 : 200'000);
  const double pipe = pipe_round_trip_us(quick ? 2'000 : 20'000);
  const double dict = dict_sets_per_s(quick ? 5'000 : 50'000);
  const double start_join = start_join_ms(quick ? 50 : 500);

  std::printf("mpp Process/Queue/Pipe/Manager benchmark: %d ranks vs Python multiprocessing%s\n", session.size(),
              quick ? " (quick)" : "");
  std::printf("%-46s %12s %12s %9s\n", "workload", "mpp", "python", "ratio");
  std::printf("%-46s %12.4g %12.4g %8.1fx\n", "Queue items/s, 1 producer process -> master", queue,
              python("queue_items_per_s"), queue / python("queue_items_per_s"));
  std::printf("%-46s %12.4g %12.4g %8.1fx\n", "Pipe round trip master <-> process, us", pipe,
              python("pipe_round_trip_us"), python("pipe_round_trip_us") / pipe);
  std::printf("%-46s %12.4g %12.4g %8.1fx\n", "Manager dict sets/s from 2 processes", dict, python("dict_sets_per_s"),
              dict / python("dict_sets_per_s"));
  std::printf("%-46s %12.4g %12.4g %8.1fx\n", "Process start + join of an empty target, ms", start_join,
              python("start_join_ms"), python("start_join_ms") / start_join);
}
