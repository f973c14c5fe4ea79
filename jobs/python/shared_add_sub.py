# The seed's add/sub race: without a lock updates are lost; with one the result is 1000.
import time
from multiprocessing import Process, Value, Lock


def add(x, lock, use_lock):
    for _ in range(50):
        time.sleep(0.01)
        if use_lock:
            lock.acquire()
        x.value += 10
        if use_lock:
            lock.release()
    return x.value


def sub(x, lock, use_lock):
    for _ in range(50):
        time.sleep(0.01)
        if use_lock:
            lock.acquire()
        x.value -= 10
        if use_lock:
            lock.release()
    return x.value


if __name__ == '__main__':
    for use_lock in (False, True):
        x = Value('i', 1000, lock=False)
        lock = Lock()
        add_p = Process(target=add, args=(x, lock, use_lock))
        sub_p = Process(target=sub, args=(x, lock, use_lock))
        add_p.start()
        sub_p.start()
        add_p.join()
        sub_p.join()
        print("with the lock:" if use_lock else "without a lock:", x.value)
