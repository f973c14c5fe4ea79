"""Python's multiprocessing Queue, Pipe and Manager().dict() on the workloads of
jobs/process_benchmark.cpp; prints JSON.

    python3 jobs/python/process_benchmark.py [--quick]
"""
import json
import multiprocessing as mp
import sys
import time

QUICK = "--quick" in sys.argv
ITEMS = 20_000 if QUICK else 200_000
ROUND_TRIPS = 2_000 if QUICK else 20_000
SETS = 5_000 if QUICK else 50_000
PROCESSES = 50 if QUICK else 500


def produce(q, n):
    for i in range(n):
        q.put(i)


def echo(conn):
    while True:
        x = conn.recv()
        if x < 0:
            return
        conn.send(x)


def set_keys(d, first, n):
    for i in range(first, first + n):
        d[i] = i


def nothing():
    pass


def main():
    out = {}
    q = mp.Queue()
    p = mp.Process(target=produce, args=(q, ITEMS))
    start = time.perf_counter()
    p.start()
    total = 0
    for _ in range(ITEMS):
        total += q.get()
    out["queue_items_per_s"] = ITEMS / (time.perf_counter() - start)
    p.join()
    assert total == ITEMS * (ITEMS - 1) // 2

    parent, child = mp.Pipe()
    p = mp.Process(target=echo, args=(child,))
    p.start()
    parent.send(0)
    parent.recv()  # the child is up
    start = time.perf_counter()
    for i in range(ROUND_TRIPS):
        parent.send(i)
        parent.recv()
    out["pipe_round_trip_us"] = (time.perf_counter() - start) / ROUND_TRIPS * 1e6
    parent.send(-1)
    p.join()

    with mp.Manager() as manager:
        d = manager.dict()
        procs = [mp.Process(target=set_keys, args=(d, k * SETS, SETS)) for k in range(2)]
        start = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        out["dict_sets_per_s"] = 2 * SETS / (time.perf_counter() - start)
        assert len(d) == 2 * SETS

    fork = mp.get_context("fork")
    start = time.perf_counter()
    for _ in range(PROCESSES):
        p = fork.Process(target=nothing)
        p.start()
        p.join()
        assert p.exitcode == 0
    out["start_join_ms"] = (time.perf_counter() - start) / PROCESSES * 1e3
    print(json.dumps(out))


if __name__ == "__main__":
    main()
