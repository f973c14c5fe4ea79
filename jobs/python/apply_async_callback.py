# The seed's apply_async example: random sleeps, callback=results.append, close() and join().
from multiprocessing import Pool
import random
import time


def square_x(x):
    print(f'{x} squared is {x**2}\n', end='', flush=True)  # one write: lines from workers never interleave
    time.sleep(random.random())
    return x**2


if __name__ == '__main__':
    calculation = Pool(processes=4)
    results = []
    start = time.time()
    for i in range(4):
        calculation.apply_async(square_x, (i,), callback=results.append)
    calculation.close()
    calculation.join()
    print(results)
    print(f'calculation costs {time.time()-start} seconds.')
