"""concurrent.futures and mpi4py.futures on the workloads of jobs/executor_benchmark.cpp.

Prints one JSON object; executor_benchmark runs this with /usr/bin/python3 and compares.
    python3 jobs/python/executor_benchmark.py [--quick]          # ProcessPoolExecutor(2), ThreadPool(2)
    mpirun -np 3 python3 -m mpi4py.futures jobs/python/executor_benchmark.py --mpi4py [--quick]
"""
import json
import sys
import time

QUICK = "--quick" in sys.argv
TASKS = 2000 if QUICK else 20000
ROUND_TRIPS = 200 if QUICK else 2000
MAP_ITEMS = 10000 if QUICK else 100000


def trivial(x):
    return x


def throughput(executor):
    """Tasks per second: submit every task, then take every result."""
    start = time.perf_counter()
    futures = [executor.submit(trivial, i) for i in range(TASKS)]
    for f in futures:
        f.result()
    return TASKS / (time.perf_counter() - start)


def round_trip_us(executor):
    """Microseconds per submit followed at once by result(): the best of 3 rounds."""
    for i in range(20):
        executor.submit(trivial, i).result()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i in range(ROUND_TRIPS):
            executor.submit(trivial, i).result()
        best = min(best, time.perf_counter() - start)
    return best / ROUND_TRIPS * 1e6


def thread_pool_map():
    from multiprocessing.pool import ThreadPool

    items = list(range(MAP_ITEMS))
    best = float("inf")
    with ThreadPool(2) as pool:
        for _ in range(3):
            start = time.perf_counter()
            pool.map(trivial, items)
            best = min(best, time.perf_counter() - start)
    return MAP_ITEMS / best


if __name__ == "__main__":
    if "--mpi4py" in sys.argv:
        from mpi4py.futures import MPIPoolExecutor

        with MPIPoolExecutor() as executor:
            figures = {"mpi4py_submit_per_s": throughput(executor), "mpi4py_round_trip_us": round_trip_us(executor)}
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(2) as executor:
            figures = {"cf_submit_per_s": throughput(executor), "cf_round_trip_us": round_trip_us(executor)}
        figures["threadpool_map_per_s"] = thread_pool_map()
    print(json.dumps(figures))
