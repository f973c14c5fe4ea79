# The seed's producers and consumers on a bounded Queue(3), printing under a Lock, then one
# producer and one consumer that stops at a sentinel (None).
import multiprocessing


def inputQ(i, q):
    info = f"process-{i}'s {i}"
    q.put(info)


def outputQ(c, q, lock):
    info = q.get()
    with lock:  # so the prints do not mix
        print(f'process-{c} get: {info}\n', end='', flush=True)


def producer(q, n):
    for i in range(n):
        q.put(i)
    q.put(None)  # the sentinel: no more items


def consumer(q, lock):
    total = 0
    while (item := q.get()) is not None:
        total += item
    with lock:
        print(f'consumer got the sentinel after a total of {total}\n', end='', flush=True)


if __name__ == '__main__':
    input_processes = []
    output_processes = []
    lock = multiprocessing.Lock()
    q = multiprocessing.Queue(3)

    for i in range(5):
        p = multiprocessing.Process(target=inputQ, args=(i, q))
        p.start()
        input_processes.append(p)

    for c in 'ABCD':
        p = multiprocessing.Process(target=outputQ, args=(c, q, lock))
        p.start()
        output_processes.append(p)

    for p in input_processes:
        p.join()

    for p in output_processes:
        p.join()
    print(f'left in the queue: {q.qsize()}')

    items = multiprocessing.Queue(3)
    c = multiprocessing.Process(target=consumer, args=(items, lock))
    p = multiprocessing.Process(target=producer, args=(items, 100))
    c.start()
    p.start()
    p.join()
    c.join()
