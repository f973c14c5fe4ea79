# The seed's 60 Values, each incremented by its own process.
import multiprocessing


def func(num):
    num.value += 1


if __name__ == '__main__':
    num_list = []
    process_list = []
    for i in range(60):
        num_list.append(multiprocessing.Value('i', i))  # i mean signed integer
        process_list.append(multiprocessing.Process(target=func, args=(num_list[i],)))
        process_list[i].start()
    for process in process_list:
        process.join()
    for num in num_list:
        print(num.value, end=',')
    print()
