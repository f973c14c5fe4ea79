# The seed's starmap example: add(x, y) over zip(a, b), each call sleeping 1 s.
from multiprocessing import Pool
import time


def add(x, y):
    print(f'{x} + {y} = {x + y}\n', end='', flush=True)  # one write: lines from workers never interleave
    time.sleep(1)
    return x + y


if __name__ == '__main__':
    a = range(4)
    b = [666, 233, 7, 8]
    zip_args = list(zip(a, b))
    calculation = Pool(processes=4)
    start = time.time()
    results = calculation.starmap(add, zip_args)
    calculation.close()
    calculation.join()
    print(results)
    print(f'calculation costs {time.time()-start} seconds.')
