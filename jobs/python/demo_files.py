"""The seed's five CSV files, written once to a temp folder for the line-count twins."""
import os
import tempfile


def make_demo_files():
    folder = os.path.join(tempfile.gettempdir(), "mpp-csv-demo-py")
    os.makedirs(folder, exist_ok=True)
    for n, lines in enumerate([3150, 3134, 3127, 3123, 3117]):
        with open(os.path.join(folder, f"sz00204{n}.csv"), "w") as f:
            for i in range(lines):
                f.write(f"2020-01-{i % 28 + 1:02d},{i},{i * 0.5:.2f}\n")
    return folder
