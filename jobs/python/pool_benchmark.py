"""Python's multiprocessing.Pool(2) on the workloads of jobs/pool_benchmark.cpp.

Prints one JSON object; pool_benchmark runs this with /usr/bin/python3 and compares.
    python3 jobs/python/pool_benchmark.py [--quick]
"""
import json
import math
import multiprocessing as mp
import resource
import sys
import time

QUICK = "--quick" in sys.argv


def square(x):
    return x * x


def trivial(x):
    return x


def uneven(n):
    # Cost grows with n, like the C++ twin (fewer steps: Python is ~50x slower per step).
    x = float(n)
    for i in range(n * 4):
        x = math.sqrt(x + i)
    return x


def sleep_for(seconds):
    time.sleep(seconds)
    return seconds


def seconds_of(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(runs, fn):
    """The best of `runs` timed runs after one untimed run, as the mpp side measures."""
    fn()
    return min(seconds_of(fn) for _ in range(runs))


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    workers = 2
    items = 1_000_000
    submitted = 20_000 if not QUICK else 2_000
    round_trips = 2_000 if not QUICK else 200
    uneven_items = list(range(0, 2000 if not QUICK else 400))
    out = {"workers": workers}
    with mp.Pool(workers) as pool:
        pool.map(trivial, range(100))  # start the workers before timing
        seconds = best_of(3, lambda: pool.map(square, range(items)))
        out["map_items_per_s"] = items / seconds

        def async_round():
            results = [pool.apply_async(square, (i,)) for i in range(submitted)]
            for r in results:
                r.get()

        out["apply_async_per_s"] = submitted / best_of(3, async_round)

        def apply_round():
            for i in range(round_trips):
                pool.apply(trivial, (i,))

        out["apply_latency_us"] = best_of(3, apply_round) / round_trips * 1e6

        serial = seconds_of(lambda: [uneven(n) for n in uneven_items])
        parallel = seconds_of(lambda: pool.map(uneven, uneven_items))
        out["uneven_efficiency"] = serial / (workers * parallel)

        cpu_before, wall_before = cpu_seconds(), time.perf_counter()
        pool.map(sleep_for, [1.0] * workers, 1)
        wall = time.perf_counter() - wall_before
        out["master_cpu_percent"] = 100 * (cpu_seconds() - cpu_before) / wall
    print(json.dumps(out))


if __name__ == "__main__":
    main()
