# The seed's line count "with Manager().dict()": one process per CSV file, each storing its
# file's line count under the file name.
import csv
import multiprocessing
import os
import sys

from demo_files import make_demo_files


def get_lines_count(path, my_dict):
    with open(path) as file:
        csv_reader = csv.reader(file)
        lines = 0
        for _ in csv_reader:
            lines += 1
        my_dict[os.path.basename(path)] = lines


if __name__ == '__main__':
    folder = sys.argv[1] if len(sys.argv) > 1 else make_demo_files()
    filename_list = sorted(os.listdir(folder))
    p_list = []
    with multiprocessing.Manager() as m:
        data_dict = m.dict()
        for filename in filename_list:
            p = multiprocessing.Process(target=get_lines_count, args=(os.path.join(folder, filename), data_dict))
            p_list.append(p)
            p.start()
        for p in p_list:
            p.join()
        print(dict(sorted(data_dict.items())))
