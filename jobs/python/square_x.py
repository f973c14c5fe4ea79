# The seed's square_x example: serial loop, then Pool(4).map — each call sleeps 1 s.
from multiprocessing import Pool
import time


def square_x(x):
    print(f'{x} squared is {x**2}\n', end='', flush=True)  # one write: lines from workers never interleave
    time.sleep(1)
    return x**2


if __name__ == '__main__':
    results = []
    start = time.time()
    for i in range(4):
        results.append(square_x(i))
    print(results)
    print(f'serial calculation costs {time.time()-start} seconds.')

    calculation = Pool(processes=4)
    start = time.time()
    results = calculation.map(square_x, range(4))
    calculation.close()
    calculation.join()
    print(results)
    print(f'calculation costs {time.time()-start} seconds.')
