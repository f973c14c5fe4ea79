# The seed's duplex Pipe examples: the parent talks with a child, then two children talk with
# each other (func1 sends i, func2 answers i**2).
import multiprocessing


def func(conn, name):
    print(f"This is {name}, receive > {conn.recv()}\n", end="", flush=True)  # one write per line
    conn.send([f"message1 from {name}", 3.14])
    conn.close()


def func1(pipe):
    for i in range(5):
        pipe.send(i)
        print(f'func1 receive: {pipe.recv()}\n', end='', flush=True)


def func2(pipe):
    for i in range(5):
        pipe.send(i**2)
        print(f'func2 receive {pipe.recv()}\n', end='', flush=True)


if __name__ == '__main__':
    conn_a, conn_b = multiprocessing.Pipe()  # the two ends of the pipe
    p1 = multiprocessing.Process(target=func, args=(conn_a, 'p1'))
    p1.start()
    conn_b.send("message from main")
    print("This is main,", conn_b.recv())
    p1.join()

    pipe = multiprocessing.Pipe()
    p1 = multiprocessing.Process(target=func1, args=(pipe[0], ))
    p2 = multiprocessing.Process(target=func2, args=(pipe[1], ))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
