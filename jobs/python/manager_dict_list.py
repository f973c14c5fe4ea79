# The seed's Manager examples: a child fills a dict and a list; then ten processes write one
# dict and one list (fun1), printed sorted since they finish in any order.
import multiprocessing


def func(mydict, mylist):
    mydict["name"] = "grey"
    mylist.append(110)


def fun1(dic, lis, index):
    dic[str(index)] = 'a'
    dic['2'] = 'b'
    lis.append(index)


if __name__ == '__main__':
    with multiprocessing.Manager() as MG:
        mydict = MG.dict()
        mylist = MG.list(range(5))
        p = multiprocessing.Process(target=func, args=(mydict, mylist))
        p.start()
        p.join()
        print(mydict, mylist)

    with multiprocessing.Manager() as manager:
        dic = manager.dict()
        lis = manager.list(range(5))
        processes = [multiprocessing.Process(target=fun1, args=(dic, lis, i)) for i in range(10)]
        for p in processes:
            p.start()
        for p in processes:
            p.join()
        print(dict(sorted(dic.items())))
        print(sorted(lis))
