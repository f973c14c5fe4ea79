# The seed's "ThreadPool vs ProcessPool" examples, one after another. Each func prints five
# lines, sleeping between them (1 s as in the seed; the first argument changes it).
from concurrent import futures
import multiprocessing
from multiprocessing import pool
import sys
import threading
import time

PAUSE = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


def func():
    for j in range(11, 16):
        print(f'{multiprocessing.current_process().name} {j}\n', end='', flush=True)
        time.sleep(PAUSE)


def thread_func():
    for j in range(11, 16):
        print(f'{threading.current_thread().name} {j}\n', end='', flush=True)
        time.sleep(PAUSE)


if __name__ == "__main__":
    print("Pool(8, initializer=func): 8 processes start at once", flush=True)
    po = multiprocessing.Pool(8, initializer=func)
    po.close()
    po.join()

    print("Pool(8) with four apply_async: 4 run", flush=True)
    po = multiprocessing.Pool(8)
    for i in range(4):
        po.apply_async(func)
    po.close()
    po.join()

    print("ProcessPoolExecutor(max_workers=8) with eight submit", flush=True)
    executor = futures.ProcessPoolExecutor(max_workers=8)
    for _ in range(8):
        executor.submit(func)
    executor.shutdown()

    print("ProcessPoolExecutor(max_workers=8, initializer=func)", flush=True)
    executor = futures.ProcessPoolExecutor(max_workers=8, initializer=func)
    executor.submit(int)
    executor.shutdown()

    print("ThreadPool(8, initializer=func): 8 threads start at once", flush=True)
    po = pool.ThreadPool(8, initializer=thread_func)
    po.close()
    po.join()

    print("ThreadPool(8) with four apply_async: 4 run", flush=True)
    po = pool.ThreadPool(8)
    for _ in range(4):
        po.apply_async(thread_func)
    po.close()
    po.join()

    print("ThreadPoolExecutor(max_workers=8) with eight submit", flush=True)
    executor = futures.ThreadPoolExecutor(max_workers=8)
    for _ in range(8):
        executor.submit(thread_func)
    executor.shutdown()
