# The seed's Array example: six Arrays, each increased by 10 in its own process.
import multiprocessing


def func(array):
    for i in range(len(array)):
        array[i] += 10


if __name__ == '__main__':
    array_list = []
    process_list = []
    for i in range(6):
        array_list.append(multiprocessing.Array('i', [x for x in range(i)]))  # i mean signed integer
        process_list.append(multiprocessing.Process(target=func, args=(array_list[i],)))
        process_list[i].start()
    for process in process_list:
        process.join()
    array_list[2][0] = 111
    print(array_list[2][0])
    for array in array_list:
        print(array[:], end=',')
    print()
