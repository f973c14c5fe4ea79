"""Python's multiprocessing Value/Lock on the workloads of jobs/shared_benchmark.cpp; prints JSON.

    python3 jobs/python/shared_benchmark.py [--quick]
"""
import json
import multiprocessing as mp
import sys
import time

QUICK = "--quick" in sys.argv
INCREMENTS = 20_000 if QUICK else 200_000
ROUND_TRIPS = 20_000 if QUICK else 200_000
TASKS = 8
PER_TASK = 2_000 if QUICK else 10_000


def locked_increments(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1


def histogram_samples(bins, n, seed):
    x = seed * 2654435761 + 1
    mask = (1 << 64) - 1
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & mask
        b = (x >> 33) % len(bins)
        with bins.get_lock():
            bins[b] += 1


def seconds_for_processes(target, shared):
    procs = [mp.Process(target=target, args=(shared, PER_TASK) + ((t,) if target is histogram_samples else ()))
             for t in range(TASKS)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return time.perf_counter() - start


def lock_round_trips(lock, n):
    start = time.perf_counter()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return (time.perf_counter() - start) / n


def main():
    v = mp.Value('l', 0)
    procs = [mp.Process(target=locked_increments, args=(v, INCREMENTS)) for _ in range(2)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    seconds = time.perf_counter() - start
    assert v.value == 2 * INCREMENTS
    out = {"locked_increments_per_s": 2 * INCREMENTS / seconds}
    out["lock_latency_ns"] = lock_round_trips(mp.Lock(), ROUND_TRIPS) * 1e9
    counter = mp.Value('l', 0)
    out["eight_task_counter_s"] = seconds_for_processes(locked_increments, counter)
    assert counter.value == TASKS * PER_TASK
    bins = mp.Array('l', 16)
    out["eight_task_histogram_s"] = seconds_for_processes(histogram_samples, bins)
    assert sum(bins) == TASKS * PER_TASK
    out["eight_task_per_task"] = PER_TASK
    print(json.dumps(out))


if __name__ == "__main__":
    main()
