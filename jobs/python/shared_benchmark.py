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


def locked_increments(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1


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
    print(json.dumps(out))


if __name__ == "__main__":
    main()
