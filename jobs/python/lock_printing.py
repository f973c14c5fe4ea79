# The seed's ten processes printing under a Lock (one at a time, each holding it while it
# sleeps), then without it. Each records when it held the screen, so the run can say whether
# any two prints overlapped.
import datetime
import multiprocessing
import sys
import time

SLEEP = float(sys.argv[1]) if len(sys.argv) > 1 else 0.2


def f(l, i, spans):
    l.acquire()
    try:
        start = time.monotonic()
        value = datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]
        print(f'hello world {i} {value}\n', end='', flush=True)
        time.sleep(SLEEP)
        spans.append((start, time.monotonic()))
    finally:
        l.release()


def g(i, spans):
    start = time.monotonic()
    value = datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]
    print(f'hello world {i} {value}\n', end='', flush=True)
    time.sleep(SLEEP)
    spans.append((start, time.monotonic()))


def most_at_once(spans):
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    now = best = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best


if __name__ == '__main__':
    with multiprocessing.Manager() as manager:
        lock = multiprocessing.Lock()
        spans = manager.list()
        ps = [multiprocessing.Process(target=f, args=(lock, num, spans)) for num in range(10)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print(f'with the lock: {len(spans)} prints, at most {most_at_once(list(spans))} at once')
        spans = manager.list()
        ps = [multiprocessing.Process(target=g, args=(num, spans)) for num in range(10)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print(f'without the lock: {len(spans)} prints, at most {most_at_once(list(spans))} at once')
