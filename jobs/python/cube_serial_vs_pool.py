# The seed's uneven cube(n) example: serial loop vs Pool(cpus - 1).map over range(10000).
# (The seed's multiprocess branch overwrote its input with range(5); this maps the whole range.)
from multiprocessing import Pool
import os
import time


def cube(number):
    total = 0
    for i in range(number):
        total += i * i * i
    return total


def cubing_multiprocess(numbers):
    cpus = os.cpu_count()
    start = time.time()
    p = Pool(max(1, cpus - 1))
    result = p.map(cube, numbers)
    p.close()
    p.join()
    end = time.time() - start
    print("Multiprocess time: ", end)
    return result


def cubing_serial(numbers):
    start = time.time()
    result = []
    for i in numbers:
        result.append(cube(i))
    end = time.time() - start
    print("Serial time: ", end)
    return result


if __name__ == '__main__':
    print(Pool(1).map(cube, range(5)))
    number = range(10000)
    parallel = cubing_multiprocess(number)
    serial = cubing_serial(number)
    print("same results:", parallel == serial, "last:", serial[-1])
