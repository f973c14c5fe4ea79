# The seed's line count: one process per CSV file, each adding its lines into its own Value.
# Without an argument it first writes the seed's five files (3150, 3134, 3127, 3123, 3117 lines).
import csv
import multiprocessing
import os
import sys

from demo_files import make_demo_files


def get_lines_count(path, data):
    with open(path, 'r') as data_csv:
        csv_reader = csv.reader(data_csv)
        for _ in csv_reader:
            data.value += 1


if __name__ == '__main__':
    folder = sys.argv[1] if len(sys.argv) > 1 else make_demo_files()
    filename_list = sorted(os.listdir(folder))
    p_list = []
    data_list = []
    for i, filename in enumerate(filename_list):
        data_list.append(multiprocessing.Value('i', 0))
        p = multiprocessing.Process(target=get_lines_count, args=(os.path.join(folder, filename), data_list[i]))
        p_list.append(p)
        p.start()
    for p in p_list:
        p.join()
    for data in data_list:
        print(data.value, end=',')
    print()
