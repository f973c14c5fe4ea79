# The seed's parallel search: ten processes each scan a piece of a large text file for one
# string; the one that finds it sets an Event, and every other process stops at its next line.
import multiprocessing
import os
import sys
import tempfile

SEARCH = "737849559@qq.com"


def make_big_file(lines=400_000):
    path = os.path.join(tempfile.gettempdir(), "mpp-big-mail-py.txt")
    if not os.path.exists(path):
        with open(path, "w") as out:
            for i in range(lines):
                if i == lines * 55 // 100:
                    out.write(f"{SEARCH}\twxq7758258\n")
                out.write(f"user{i}@example.com\tpw{i * 7919 % 100000}\n")
    return path


def find_str(path, start, end, found, scanned):
    name = multiprocessing.current_process().name
    print(f"{name} start\n", end="", flush=True)
    lines = 0
    with open(path, "rb") as f:
        f.seek(start)
        if start:
            f.readline()  # the piece before ours owns this line
        while f.tell() <= end and not found.is_set():
            line = f.readline()
            if not line:
                break
            lines += 1
            if SEARCH in line.decode():
                print(f"{name} found: {line.decode()}", end="", flush=True)
                found.set()
    with scanned.get_lock():
        scanned.value += lines
    print(f"{name} end\n", end="", flush=True)


if __name__ == '__main__':
    path = sys.argv[1] if len(sys.argv) > 1 else make_big_file()
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        total = sum(1 for _ in f)
    N = 10
    found = multiprocessing.Event()
    scanned = multiprocessing.Value('l', 0)
    ps = [multiprocessing.Process(target=find_str, args=(path, i * size // N, (i + 1) * size // N - 1, found, scanned))
          for i in range(N)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print(f"scanned {scanned.value} of {total} lines; stopped early: {'yes' if scanned.value < total else 'no'}")
