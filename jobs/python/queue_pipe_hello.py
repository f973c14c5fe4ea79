# The seed's first Queue and Pipe examples: a child sends [42, None, 'hello'] to its parent.
from multiprocessing import Pipe, Process, Queue


def f(q):
    q.put([42, None, 'hello'])


def g(conn):
    conn.send([42, None, 'hello'])
    conn.close()


if __name__ == '__main__':
    q = Queue()
    p = Process(target=f, args=(q,))
    p.start()
    print(q.get())    # prints "[42, None, 'hello']"
    p.join()

    parent_conn, child_conn = Pipe()
    p = Process(target=g, args=(child_conn,))
    p.start()
    print(parent_conn.recv())   # prints "[42, None, 'hello']"
    p.join()
